// Reference matmul kernels on packed weights (kernels/pack.hpp): the truth for the packed SIMD
// kernels and the path for builds without them. Apart from scalar/matmul.hpp because packing
// owns memory: firmware takes the plain kernels without it.
#pragma once

#include <cstdint>

#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/pack.hpp"
#include "sparq/kernels/scalar/matmul.hpp"

namespace sparq::kernels::scalar {

// The same products on packed weights (pack.hpp): the reference for the packed SIMD kernels,
// and the path for builds without them. Same k order, so the same bits as the plain kernels.
template <class W>
void matmul_packed(const matrix_view<const float>& x, const packed_weights<W>& w, const matrix_view<float>& y) noexcept {
    for (index_t m = 0; m < x.extent(0); ++m)
        for (index_t n = 0; n < w.n; ++n) {
            const W* panel = w.panel(n / w.nr);
            const index_t j = n % w.nr;
            float acc = 0.0f;
            for (index_t k = 0; k < w.k; ++k) acc += x(m, k) * static_cast<float>(panel[k * w.nr + j]);
            y(m, n) = acc;
        }
}

template <class X>
void matmul_packed_s8(const matrix_view<const X>& x, const packed_s8& w,
                             const matrix_view<std::int32_t>& y) noexcept {
    for (index_t m = 0; m < x.extent(0); ++m)
        for (index_t n = 0; n < w.n; ++n) {
            const std::int8_t* panel = w.panel(n / w.nr);
            const index_t j = n % w.nr;
            std::int32_t acc = 0;
            const index_t g = w.k_group;
            for (index_t k = 0; k < w.k; ++k) acc += std::int32_t(x(m, k)) * panel[((k / g) * w.nr + j) * g + k % g];
            y(m, n) = acc;
        }
}

}  // namespace sparq::kernels::scalar
