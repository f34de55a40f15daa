// Reference quantize / dequantize / fake-quant over 1-D rows (any stride). The element
// formulas are PyTorch's: q = clamp(zero_point + round(x * (1 / scale)), qmin, qmax),
// x' = (q - zero_point) * scale, with round selectable (half to even by default). A NaN input
// quantizes to the zero point (the code of 0.0); +-Inf saturate to qmax / qmin.
#pragma once

#include <cstdint>

#include "sparq/core/tensor_view.hpp"
#include "sparq/quant/rounding.hpp"

namespace sparq::kernels::scalar {

struct quant_step {
    float scale;
    float inv_scale;  // 1.0f / scale, computed once (PyTorch multiplies by it)
    std::int32_t zero_point;
    std::int32_t qmin, qmax;
    quant::rounding round;
    quant::scaling scale_by;

    static quant_step make(float scale, std::int32_t zero_point, std::int32_t qmin, std::int32_t qmax,
                           quant::rounding round, quant::scaling scale_by = quant::scaling::multiply_inverse) noexcept {
        return {scale, 1.0f / scale, zero_point, qmin, qmax, round, scale_by};
    }

    float to_grid(float x) const noexcept { return scale_by == quant::scaling::divide ? x / scale : x * inv_scale; }
};

// The unclamped code, as a float (exact: an integer, or beyond the int range and clamped later).
inline float quantize_unclamped(float x, const quant_step& s) noexcept {
    return float(s.zero_point) + quant::round_integral(s.to_grid(x), s.round);
}

inline std::int32_t quantize_value(float x, const quant_step& s) noexcept {
    if (x != x) return s.zero_point;
    const float v = quantize_unclamped(x, s);
    return v < float(s.qmin) ? s.qmin : (v > float(s.qmax) ? s.qmax : static_cast<std::int32_t>(v));
}

inline float dequantize_value(std::int32_t q, const quant_step& s) noexcept {
    return (float(q) - float(s.zero_point)) * s.scale;
}

template <class Q>
void quantize_row(const vector_view<const float>& x, const quant_step& s, const vector_view<Q>& q) noexcept {
    for (index_t i = 0; i < x.extent(0); ++i) q(i) = static_cast<Q>(quantize_value(x(i), s));
}

template <class Q>
void dequantize_row(const vector_view<const Q>& q, const quant_step& s, const vector_view<float>& x) noexcept {
    for (index_t i = 0; i < q.extent(0); ++i) x(i) = dequantize_value(std::int32_t(q(i)), s);
}

// y = dequantize(quantize(x)); mask = 1 where x's code was inside [qmin, qmax] (the
// straight-through estimator passes the gradient there and blocks it where x was clipped),
// 0 for NaN (no gradient through a NaN; its value is the zero point's, 0.0).
inline void fake_quant_row(const vector_view<const float>& x, const quant_step& s, const vector_view<float>& y,
                           const vector_view<std::uint8_t>& mask) noexcept {
    const bool want_mask = mask.extent(0) != 0;
    for (index_t i = 0; i < x.extent(0); ++i) {
        const float v = x(i) != x(i) ? float(s.zero_point) : quantize_unclamped(x(i), s);
        const float c = v < float(s.qmin) ? float(s.qmin) : (v > float(s.qmax) ? float(s.qmax) : v);
        y(i) = (c - float(s.zero_point)) * s.scale;
        if (want_mask) mask(i) = x(i) == x(i) && v >= float(s.qmin) && v <= float(s.qmax);
    }
}

}  // namespace sparq::kernels::scalar
