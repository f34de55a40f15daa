// counter: exact counts of the work kernels did, by precision, and of the bytes they moved.
// Kernels add to it only when the context holds one (a null check per call, nothing per MAC).
// Counts are exact integers; energy is a cost model's business (cost_model.hpp).
#pragma once

#include <cstdint>

#include "sparq/core/dtype.hpp"

namespace sparq::energy {

class counter {
public:
    // Multiply-accumulates by the precision of the multiply: f32 x f32, f16 / bf16 storage
    // computed in f32 counts as f32; s8 counts int8 x int8 -> int32.
    void add_macs(dtype precision, std::uint64_t n) noexcept { macs_[index(precision)] += n; }
    void add_weight_bytes(std::uint64_t n) noexcept { weight_bytes_ += n; }
    void add_activation_bytes(std::uint64_t n) noexcept { activation_bytes_ += n; }

    std::uint64_t macs(dtype precision) const noexcept { return macs_[index(precision)]; }
    std::uint64_t total_macs() const noexcept {
        std::uint64_t t = 0;
        for (auto m : macs_) t += m;
        return t;
    }
    std::uint64_t weight_bytes() const noexcept { return weight_bytes_; }
    std::uint64_t activation_bytes() const noexcept { return activation_bytes_; }

    void reset() noexcept { *this = counter(); }

private:
    static constexpr std::size_t index(dtype t) noexcept { return static_cast<std::size_t>(t); }
    std::uint64_t macs_[7] = {};  // one per dtype
    std::uint64_t weight_bytes_ = 0;
    std::uint64_t activation_bytes_ = 0;
};

}  // namespace sparq::energy
