// output_value: one element of an output stage (output_stage.hpp), as plain arithmetic on its
// arguments: the activation, an int32 sum requantized to int8 codes, or dequantized to a float.
// It is the reference the scalar pass, the SIMD epilogues' column tails and the firmware runtime
// (nn/firmware.hpp, which holds the stages as constant arrays) all share; it needs no container,
// so firmware can include it without pulling in allocation.
#pragma once

#include <climits>
#include <cmath>
#include <cstdint>

#include "sparq/quant/requantize.hpp"

namespace sparq::kernels {

// What a layer applies to its outputs in its output stage. silu and hard_swish are folded into
// float layers only (nn::fold_activations, at compile time): an int8 stage applies its
// activation as a clamp of codes, which only relu and relu6 are.
enum class activation : std::uint8_t { none, relu, relu6, silu, hard_swish };

// x * sigmoid(x), as PyTorch writes it; x * relu6(x + 3) / 6 (NaN stays NaN).
inline float silu(float v) noexcept { return v / (1.0f + std::exp(-v)); }
inline float hard_swish(float v) noexcept { return v * (v + 3.0f < 0.0f ? 0.0f : (v + 3.0f > 6.0f ? 6.0f : v + 3.0f)) / 6.0f; }

constexpr const char* to_string(activation a) noexcept {
    switch (a) {
        case activation::none: return "none";
        case activation::relu: return "relu";
        case activation::relu6: return "relu6";
        case activation::silu: return "silu";
        case activation::hard_swish: return "hard_swish";
    }
    return "?";
}

// Whether an int8 output stage can apply a (as a clamp of the output's codes).
constexpr bool clamps_codes(activation a) noexcept { return a == activation::none || a == activation::relu || a == activation::relu6; }

inline float activate(float v, activation a) noexcept {
    switch (a) {
        case activation::none: return v;
        // (PyTorch's clamp: NaN stays NaN, -0 stays -0)
        case activation::relu: return v < 0.0f ? 0.0f : v;
        case activation::relu6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
        case activation::silu: return silu(v);
        case activation::hard_swish: return hard_swish(v);
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
