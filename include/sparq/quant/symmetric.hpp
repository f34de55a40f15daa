// Symmetric int8 quantization: q = clamp(round(x / s), -127, 127), x ~= s * q, zero point 0
// (the TFLite / oneDNN convention for weights; -128 is left out so that |q| <= 127 and the
// products of two such values never saturate a 16-bit pair sum). Per output channel for
// weights, per tensor for activations.
#pragma once

#include <cmath>
#include <cstdint>

#include "sparq/core/tensor_view.hpp"
#include "sparq/quant/rounding.hpp"

namespace sparq::quant {

inline constexpr int symmetric_qmax = 127;

// The scale that maps the largest magnitude to 127; a zero range gets scale 1 (all q = 0).
inline float symmetric_scale(float max_abs) noexcept {
    return max_abs > 0.0f ? max_abs / float(symmetric_qmax) : 1.0f;
}

inline std::int8_t quantize_symmetric(float x, float inv_scale, rounding mode = rounding::half_to_even) noexcept {
    float q = round_integral(x * inv_scale, mode);
    q = q < -float(symmetric_qmax) ? -float(symmetric_qmax) : (q > float(symmetric_qmax) ? float(symmetric_qmax) : q);
    return static_cast<std::int8_t>(q);
}

// Largest |x| over a view; a NaN or Inf makes the data unusable for calibration: status.
template <std::size_t Rank>
result<float> max_abs(const tensor_view<const float, Rank>& x) noexcept {
    float m = 0.0f;
    if constexpr (Rank == 1) {
        for (index_t i = 0; i < x.extent(0); ++i) {
            const float v = x(i);
            if (!std::isfinite(v))
                return status(errc::invalid_argument, "non-finite value %g at index %td", double(v), i);
            m = std::fabs(v) > m ? std::fabs(v) : m;
        }
    } else {
        for (index_t i = 0; i < x.extent(0); ++i) {
            auto r = max_abs(x.row(i));
            if (!r) return r.error();
            m = *r > m ? *r : m;
        }
    }
    return m;
}

// Weights [N, K] -> int8 [N, K] with one scale per output row n.
inline status quantize_per_channel(const matrix_view<const float>& w, const matrix_view<std::int8_t>& q,
                                   const vector_view<float>& scales, rounding mode = rounding::half_to_even) noexcept {
    SPARQ_TRY(check_same_shape(w, q.as_const(), "quantize_per_channel"));
    if (scales.extent(0) != w.extent(0))
        return status(errc::shape_mismatch, "quantize_per_channel: %td scales for %td output channels",
                      scales.extent(0), w.extent(0));
    for (index_t n = 0; n < w.extent(0); ++n) {
        auto m = max_abs(w.row(n));
        if (!m) return status(errc::invalid_argument, "weight row %td: %s", n, m.error().message());
        scales(n) = symmetric_scale(*m);
        const float inv = 1.0f / scales(n);
        for (index_t k = 0; k < w.extent(1); ++k) q(n, k) = quantize_symmetric(w(n, k), inv, mode);
    }
    return status::success();
}

// A vector with one given scale.
inline void quantize_per_tensor(const vector_view<const float>& x, float scale, const vector_view<std::int8_t>& q,
                                rounding mode = rounding::half_to_even) noexcept {
    const float inv = 1.0f / scale;
    for (index_t i = 0; i < x.extent(0); ++i) q(i) = quantize_symmetric(x(i), inv, mode);
}

}  // namespace sparq::quant
