// Reference matmul kernels: Y[M, N] = X[M, K] * W[N, K]^T (weights stored row per output, as
// PyTorch's Linear and oneDNN's "ab" weights for an nt product). Plain loops, any strides:
// the truth every faster backend is tested against, and the path a build with no SIMD uses.
#pragma once

#include <cstdint>

#include <type_traits>

#include "sparq/core/convert.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq::kernels::scalar {

// Float activations and weights stored as float, float16 or bfloat16 (widened exactly, so all
// three compute the same products); accumulation in float, in k order, so every weight type
// gives the bits the float path gives on the widened weights.
template <class W>
void matmul(const matrix_view<const float>& x, const matrix_view<const W>& w, const matrix_view<float>& y) noexcept {
    if constexpr (std::is_same_v<W, float>) {
        for (index_t m = 0; m < x.extent(0); ++m)
            for (index_t n = 0; n < w.extent(0); ++n) {
                float acc = 0.0f;
                for (index_t k = 0; k < x.extent(1); ++k) acc += x(m, k) * w(n, k);
                y(m, n) = acc;
            }
    } else {
        // Widen each weight row once per block (on the stack: no heap), not once per input row.
        constexpr index_t block = 256;
        float wide[block];
        for (index_t n = 0; n < w.extent(0); ++n) {
            for (index_t m = 0; m < x.extent(0); ++m) y(m, n) = 0.0f;
            for (index_t k0 = 0; k0 < x.extent(1); k0 += block) {
                const index_t len = x.extent(1) - k0 < block ? x.extent(1) - k0 : block;
                if (w.stride(1) == 1) {
                    convert(&w(n, k0), wide, static_cast<std::size_t>(len));
                } else {
                    for (index_t k = 0; k < len; ++k) wide[k] = static_cast<float>(w(n, k0 + k));
                }
                for (index_t m = 0; m < x.extent(0); ++m) {
                    float acc = y(m, n);
                    for (index_t k = 0; k < len; ++k) acc += x(m, k0 + k) * wide[k];
                    y(m, n) = acc;
                }
            }
        }
    }
}

// int8 (or uint8) x int8 -> exact int32 sums. The caller guarantees K <= max_s8_reduction (checked by
// the public entry), so no sum can overflow.
template <class X>  // int8_t or uint8_t activations
void matmul_s8(const matrix_view<const X>& x, const matrix_view<const std::int8_t>& w,
                      const matrix_view<std::int32_t>& y) noexcept {
    for (index_t m = 0; m < x.extent(0); ++m)
        for (index_t n = 0; n < w.extent(0); ++n) {
            std::int32_t acc = 0;
            for (index_t k = 0; k < x.extent(1); ++k) acc += std::int32_t(x(m, k)) * std::int32_t(w(n, k));
            y(m, n) = acc;
        }
}

}  // namespace sparq::kernels::scalar
