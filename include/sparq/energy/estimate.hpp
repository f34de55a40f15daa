// estimate: a counter's exact counts priced by a cost model, and the same work priced at fp32
// dense (the baseline). Estimates, never measurements.
//
// Memory model (working_set): each tensor's bytes are charged to the smallest level whose
// capacity holds the whole tensor (registers / L1 / LLC / DRAM in the cost model), so a weight
// matrix that int8 shrinks from 4 MB to 1 MB moves from DRAM to the LLC price. Footprints are
// known to a power of two (counter.hpp): a tensor is priced as if it were its size rounded up,
// which errs towards the dearer level. compute_only charges no memory at all.
#pragma once

#include <cstdint>

#include "sparq/energy/cost_model.hpp"
#include "sparq/energy/counter.hpp"

namespace sparq::energy {

enum class memory_mode : std::uint8_t { working_set, compute_only };

struct estimate {
    double compute_j = 0;
    double memory_j = 0;
    double level_j[levels] = {};  // memory_j split by level
    double total_j() const noexcept { return compute_j + memory_j; }

    estimate& operator+=(const estimate& o) noexcept {
        compute_j += o.compute_j;
        memory_j += o.memory_j;
        for (std::size_t i = 0; i < levels; ++i) level_j[i] += o.level_j[i];
        return *this;
    }
};

namespace detail {

inline constexpr double pj = 1e-12;

// Bytes binned by footprint class, priced level by level.
template <class BytesIn>
void charge_memory(estimate& e, const cost_model& m, BytesIn bytes_in) noexcept {
    for (std::size_t k = 0; k < traffic_kinds; ++k)
        for (std::size_t c = 0; c < footprint_classes; ++c) {
            const std::uint64_t b = bytes_in(traffic(k), c);
            if (b == 0) continue;
            const level l = m.level_for(c >= 63 ? ~std::uint64_t(0) : std::uint64_t(1) << c);
            const double j = double(b) * m.byte_pj(l) * pj;
            e.level_j[std::size_t(l)] += j;
            e.memory_j += j;
        }
}

}  // namespace detail

// The counted work at the precisions it ran in.
inline estimate estimate_energy(const counter& c, const cost_model& m = horowitz_45nm,
                                memory_mode mode = memory_mode::working_set) noexcept {
    estimate e;
    for (std::size_t i = 0; i < counter::dtypes; ++i) {
        const dtype t = dtype(i);
        e.compute_j += double(c.macs(t) + c.sparse_macs(t)) * m.mac_pj(t) * detail::pj;
        e.compute_j += double(c.adds(t)) * m.add(t) * detail::pj;
    }
    if (mode == memory_mode::working_set)
        detail::charge_memory(e, m, [&](traffic k, std::size_t cls) { return c.bytes_in_class(k, cls); });
    return e;
}

// The same work at fp32 dense: every MAC (a sparse kernel's dense equivalent) an fp32 MAC, every
// weight and activation 4 bytes, no index bytes.
inline estimate estimate_fp32_baseline(const counter& c, const cost_model& m = horowitz_45nm,
                                       memory_mode mode = memory_mode::working_set) noexcept {
    estimate e;
    e.compute_j = (double(c.baseline_macs()) * m.mac_pj(dtype::f32) + double(c.baseline_adds()) * m.add(dtype::f32)) * detail::pj;
    if (mode == memory_mode::working_set)
        detail::charge_memory(e, m, [&](traffic k, std::size_t cls) { return c.fp32_bytes_in_class(k, cls); });
    return e;
}

}  // namespace sparq::energy
