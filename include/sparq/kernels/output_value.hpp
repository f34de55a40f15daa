// output_value: one element of an output stage (output_stage.hpp), as plain arithmetic on its
// arguments: the activation, an int32 sum requantized to int8 codes, or dequantized to a float.
// It is the reference the scalar pass, the SIMD epilogues' column tails and the firmware runtime
// (nn/firmware.hpp, which holds the stages as constant arrays) all share; it needs no container,
// so firmware can include it without pulling in allocation.
#pragma once

#include <climits>
#include <cstdint>

#include "sparq/quant/requantize.hpp"

namespace sparq::kernels {

enum class activation : std::uint8_t { none, relu, relu6 };

inline float activate(float v, activation a) noexcept {
    switch (a) {
        case activation::none: return v;
        // (PyTorch's clamp: NaN stays NaN, -0 stays -0)
        case activation::relu: return v < 0.0f ? 0.0f : v;
        case activation::relu6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    }
    return v;
}

namespace detail {

inline std::int32_t requantize_sum(std::int32_t acc, std::int32_t offset, quant::quantized_multiplier m, std::int32_t zero_point,
                                   std::int32_t qmin, std::int32_t qmax, quant::requant_rounding r) noexcept {
    const std::int64_t v = std::int64_t(acc) + offset;
    const std::int32_t sat = std::int32_t(v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : v));
    return quant::requantize(sat, m, zero_point, qmin, qmax, r);
}

inline float dequantize_sum(std::int32_t acc, std::int32_t zx_colsum, float real_scale, float bias, activation act) noexcept {
    const float centred = float(std::int64_t(acc) - zx_colsum);
    return activate(centred * real_scale + bias, act);
}

}  // namespace detail

}  // namespace sparq::kernels
