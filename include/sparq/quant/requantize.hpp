// Requantization for integer-only inference: a real multiplier M (e.g. s_in * s_w / s_out) as an
// int32 fixed-point multiplier in [2^30, 2^31) and a power-of-two shift, applied to int32
// accumulators with integer arithmetic only, so firmware needs no float at run time.
//
// Two roundings, because deployed runtimes use both, and bit-exact agreement matters:
//  - double_rounding: TFLite's reference MultiplyByQuantizedMultiplier = gemmlowp's
//    SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (rounds twice);
//  - single_rounding: TFLite with TFLITE_SINGLE_ROUNDING and CMSIS-NN with
//    CMSIS_NN_USE_SINGLE_ROUNDING: one 64-bit product, one rounding shift.
#pragma once

#include <cmath>
#include <cstdint>
#include <climits>
#include <limits>

#include "sparq/core/status.hpp"

namespace sparq::quant {

struct quantized_multiplier {
    std::int32_t multiplier = 0;  // Q0.31 mantissa in [2^30, 2^31), or 0
    int shift = 0;                // M = multiplier * 2^(shift - 31); shift in [-31, 30]
};

// TFLite's QuantizeMultiplier: frexp, round half away from zero to 31 bits, renormalise 2^31.
// M must be finite and >= 0; a multiplier whose shift would fall below -31 becomes 0 (every
// result would round to 0 anyway), one >= 2^30 is out of range.
inline result<quantized_multiplier> quantize_multiplier(double m) noexcept {
    if (!std::isfinite(m) || m < 0.0)
        return status(errc::invalid_argument, "requantization multiplier %g must be finite and >= 0", m);
    quantized_multiplier q;
    if (m == 0.0) return q;
    int shift = 0;
    const double fraction = std::frexp(m, &shift);  // m = fraction * 2^shift, fraction in [0.5, 1)
    auto fixed = static_cast<std::int64_t>(std::round(fraction * double(std::int64_t(1) << 31)));
    if (fixed == (std::int64_t(1) << 31)) {
        fixed /= 2;
        ++shift;
    }
    if (shift < -31) return q;  // rounds to 0 for every int32 input
    if (shift > 30)
        return status(errc::out_of_range, "requantization multiplier %g is too large (shift %d > 30)", m, shift);
    q.multiplier = static_cast<std::int32_t>(fixed);
    q.shift = shift;
    return q;
}

namespace detail {

// gemmlowp's SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the one
// overflowing case (INT32_MIN * INT32_MIN).
constexpr std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) noexcept {
    if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
    const std::int64_t ab = std::int64_t(a) * std::int64_t(b);
    const std::int64_t nudge = ab >= 0 ? (std::int64_t(1) << 30) : (1 - (std::int64_t(1) << 30));
    return static_cast<std::int32_t>((ab + nudge) / (std::int64_t(1) << 31));
}

// gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.
constexpr std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) noexcept {
    const std::int32_t mask = static_cast<std::int32_t>((std::int64_t(1) << exponent) - 1);
    const std::int32_t remainder = x & mask;
    const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

}  // namespace detail

// How an int32 sum becomes a code. double_rounding: gemmlowp / TFLite's integer-only
// arithmetic (a rounding doubling high multiply, then a rounding shift); single_rounding: one
// 64-bit product rounded once. float_scale: the sum converted to float, times the multiplier as
// a float (float(fixed) * 2^(shift - 31), so it follows from the same stored pair), rounded half
// to even: the fp32 requantization of XNNPACK, FBGEMM and ONNX Runtime's MLAS, a few
// instructions a vector against about thirty for the integer forms. It needs an FPU.
enum class requant_rounding : std::uint8_t { double_rounding, single_rounding, float_scale };

inline const char* to_string(requant_rounding r) noexcept {
    return r == requant_rounding::double_rounding ? "double_rounding" : r == requant_rounding::single_rounding ? "single_rounding" : "float_scale";
}

// The float multiplier float_scale uses: fixed * 2^(shift - 31), fixed rounded to float first
// (the SIMD forms convert and scale by a power of two the same way).
inline float float_multiplier(quantized_multiplier m) noexcept { return std::ldexp(float(m.multiplier), m.shift - 31); }

// x * M for one int32 accumulator, as int64 (it may exceed int32 when M > 1). Preconditions:
// multiplier >= 0, shift in [-31, 30]. Where TFLite's int32 arithmetic is defined the results
// are TFLite's, bit for bit; where it is not (x * 2^shift overflowing int32 before the
// high multiply), the left shift saturates, as gemmlowp's SaturatingRoundingMultiplyByPOT does,
// instead of wrapping.
constexpr std::int64_t multiply_by_quantized_multiplier_wide(std::int32_t x, quantized_multiplier m,
                                                             requant_rounding r = requant_rounding::double_rounding) noexcept {
    if (r == requant_rounding::single_rounding) {
        const int total_shift = 31 - m.shift;  // 1 .. 62; |x * multiplier| < 2^62: no overflow
        const std::int64_t round = std::int64_t(1) << (total_shift - 1);
        return (std::int64_t(x) * m.multiplier + round) >> total_shift;
    }
    const int left = m.shift > 0 ? m.shift : 0;
    const int right = m.shift > 0 ? 0 : -m.shift;
    const std::int64_t wide = std::int64_t(x) * (std::int64_t(1) << left);
    const auto shifted = static_cast<std::int32_t>(wide > INT32_MAX ? INT32_MAX : (wide < INT32_MIN ? INT32_MIN : wide));
    return detail::rounding_divide_by_pot(detail::saturating_rounding_doubling_high_mul(shifted, m.multiplier), right);
}

// The same, saturated to int32 (TFLite's MultiplyByQuantizedMultiplier where that is defined).
constexpr std::int32_t multiply_by_quantized_multiplier(std::int32_t x, quantized_multiplier m,
                                                        requant_rounding r = requant_rounding::double_rounding) noexcept {
    const std::int64_t v = multiply_by_quantized_multiplier_wide(x, m, r);
    return static_cast<std::int32_t>(v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : v));
}

// The whole output stage of an int8 layer: acc * M + zero point, clamped to [qmin, qmax]
// in 64-bit arithmetic, so a large accumulator saturates to qmax / qmin, never wraps.
constexpr std::int32_t requantize(std::int32_t acc, quantized_multiplier m, std::int32_t zero_point, std::int32_t qmin,
                                  std::int32_t qmax, requant_rounding r = requant_rounding::double_rounding) noexcept {
    if (r == requant_rounding::float_scale) {  // clamped in float (integer bounds: the same as after rounding), then rounded
        const float lo = float(std::int64_t(qmin) - zero_point), hi = float(std::int64_t(qmax) - zero_point);
        float f = float(acc) * float_multiplier(m);
        f = f < lo ? lo : (f > hi ? hi : f);
        return std::int32_t(std::nearbyint(f)) + zero_point;
    }
    const std::int64_t v = multiply_by_quantized_multiplier_wide(acc, m, r) + zero_point;
    return static_cast<std::int32_t>(v < qmin ? qmin : (v > qmax ? qmax : v));
}

}  // namespace sparq::quant
