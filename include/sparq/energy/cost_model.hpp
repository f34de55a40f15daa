// A cost model: picojoules per operation and per byte moved. Estimates, not measurements.
// The default is Horowitz, "Computing's energy problem (and what we can do about it)",
// ISSCC 2014, 45 nm, 0.9 V; every figure below is from its energy table (docs/energy-model.md).
#pragma once

#include <initializer_list>

#include "sparq/core/dtype.hpp"
#include "sparq/energy/counter.hpp"

namespace sparq::energy {

struct cost_model {
    const char* name;
    double mac_f32_pj;       // fp32 mult 3.7 + fp32 add 0.9
    double mac_f16_pj;       // fp16 mult 1.1 + fp16 add 0.4
    double mac_s8_pj;        // int8 mult 0.2 + int32 add 0.1
    double dram_byte_pj;     // DRAM 1300-2600 pJ per 64-bit access: the low end, / 8 bytes
    double sram_byte_pj;     // 1 MB SRAM: 100 pJ per 64-bit access, / 8 bytes

    double mac_pj(dtype precision) const noexcept {
        switch (precision) {
            case dtype::f16: case dtype::bf16: return mac_f16_pj;
            case dtype::s8: case dtype::u8: case dtype::s4: return mac_s8_pj;
            default: return mac_f32_pj;
        }
    }
};

inline constexpr cost_model horowitz_45nm{"Horowitz ISSCC 2014, 45 nm", 3.7 + 0.9, 1.1 + 0.4, 0.2 + 0.1,
                                          1300.0 / 8.0, 100.0 / 8.0};

// Estimated joules of the counted work, with weights streamed from DRAM and activations from
// a 1 MB SRAM (a layer whose weights do not stay in cache between inferences). Issue-level
// memory models (by working set) refine this; the split is kept so reports can show both.
struct estimate {
    double compute_j = 0;
    double memory_j = 0;
    double total_j() const noexcept { return compute_j + memory_j; }
};

inline estimate estimate_energy(const counter& c, const cost_model& m = horowitz_45nm) noexcept {
    estimate e;
    for (dtype t : {dtype::f32, dtype::f16, dtype::bf16, dtype::s8, dtype::u8, dtype::s4})
        e.compute_j += double(c.macs(t)) * m.mac_pj(t) * 1e-12;
    e.memory_j = (double(c.weight_bytes()) * m.dram_byte_pj + double(c.activation_bytes()) * m.sram_byte_pj) * 1e-12;
    return e;
}

}  // namespace sparq::energy
