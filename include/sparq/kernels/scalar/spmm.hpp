// Reference sparse x dense kernels: Y[M, N] = X[M, K] * W[N, K]^T with W in a sparse format
// (sparse/). Plain loops over the stored values in storage order, any strides for X and Y:
// the truth the SIMD kernels are tested against and the path of builds without SIMD.
#pragma once

#include <cstdint>

#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/pack_csr.hpp"
#include "sparq/kernels/pack_nm.hpp"
#include "sparq/sparse/block.hpp"
#include "sparq/sparse/csr.hpp"
#include "sparq/sparse/nm.hpp"

namespace sparq::kernels::scalar {

// Float values accumulate in float; int8 values (int8 or uint8 activations) in int32, exactly.
template <class V> using sparse_acc_t = std::conditional_t<std::is_same_v<V, float>, float, std::int32_t>;

template <class X, class V, class I, class Y>
void spmm(const matrix_view<const X>& x, const sparse::csr<V, I>& w, const matrix_view<Y>& y) noexcept {
    for (index_t m = 0; m < x.extent(0); ++m)
        for (index_t r = 0; r < w.rows; ++r) {
            sparse_acc_t<V> acc = 0;
            for (std::uint32_t j = w.row_start(r); j < w.row_start(r + 1); ++j)
                acc += sparse_acc_t<V>(w.values(j)) * sparse_acc_t<V>(x(m, index_t(w.col(j))));
            y(m, r) = acc;
        }
}

template <class X, class V, class I, class Y>
void spmm(const matrix_view<const X>& x, const sparse::bsr<V, I>& w, const matrix_view<Y>& y) noexcept {
    const index_t br = w.block.rows, bc = w.block.cols;
    for (index_t m = 0; m < x.extent(0); ++m)
        for (index_t b0 = 0; b0 < w.block_rows(); ++b0)
            for (index_t i = 0; i < br; ++i) {
                sparse_acc_t<V> acc = 0;
                for (std::uint32_t b = w.row_start(b0); b < w.row_start(b0 + 1); ++b) {
                    const V* v = w.values.data() + index_t(b) * br * bc + i * bc;
                    const index_t k0 = index_t(w.col(b)) * bc;
                    for (index_t j = 0; j < bc; ++j) acc += sparse_acc_t<V>(v[j]) * sparse_acc_t<V>(x(m, k0 + j));
                }
                y(m, b0 * br + i) = acc;
            }
}

template <class X, class V, class Y>
void spmm(const matrix_view<const X>& x, const sparse::nm_matrix<V>& w, const matrix_view<Y>& y) noexcept {
    const index_t groups = w.groups();
    for (index_t m = 0; m < x.extent(0); ++m)
        for (index_t r = 0; r < w.rows; ++r) {
            sparse_acc_t<V> acc = 0;
            for (index_t g = 0; g < groups; ++g)
                for (index_t s = 0; s < w.n; ++s) {
                    const index_t j = (r * groups + g) * w.n + s;
                    acc += sparse_acc_t<V>(w.values(j)) * sparse_acc_t<V>(x(m, g * w.m + w.position(j)));
                }
            y(m, r) = acc;
        }
}

}  // namespace sparq::kernels::scalar

namespace sparq::kernels::scalar {

// The N:M product on either packed layout (builds without the SIMD kernels); per output, the
// kept weights in order along K.
inline void spmm(const matrix_view<const float>& x, const nm_packed& w, const matrix_view<float>& y) noexcept {
    if (w.layout == nm_layout::rows) {
        const index_t bk = w.block_groups() * w.m;
        for (index_t m = 0; m < x.extent(0); ++m)
            for (index_t r = 0; r < w.rows; ++r) {
                float acc = 0.0f;
                for (index_t kb = 0; kb < w.blocks(); ++kb) {
                    const float* v = w.row_values(kb, r);
                    const std::uint8_t* p = w.row_position(kb, r);
                    for (index_t j = 0; j < w.block_values(); ++j)
                        if (p[j] != nm_pad_k) acc += v[j] * x(m, kb * bk + p[j]);
                }
                y(m, r) = acc;
            }
        return;
    }
    const index_t groups = w.groups();
    for (index_t m = 0; m < x.extent(0); ++m)
        for (index_t r = 0; r < w.rows; ++r) {
            const float* v = w.panel_values(r / w.nr);
            const std::uint8_t* p = w.panel_position(r / w.nr);
            float acc = 0.0f;
            for (index_t g = 0; g < groups; ++g)
                for (index_t s = 0; s < w.n; ++s) {
                    const index_t j = (g * w.n + s) * w.nr + r % w.nr;
                    acc += v[j] * x(m, g * w.m + p[j]);
                }
            y(m, r) = acc;
        }
}

// The repacked CSR (builds without its SIMD kernel): lane by lane, step by step.
inline void spmm(const matrix_view<const float>& x, const csr_packed& w, const matrix_view<float>& y) noexcept {
    const index_t tiles = w.tiles(), lanes = csr_packed::slice;
    for (index_t m = 0; m < x.extent(0); ++m) {
        index_t at = 0;  // current step
        for (index_t s = 0; s < w.slices(); ++s) {
            float acc[csr_packed::slice] = {};
            for (index_t t = 0; t < tiles; ++t)
                for (index_t j = 0; j < w.steps(s * tiles + t); ++j, ++at)
                    for (index_t i = 0; i < lanes; ++i) {
                        const index_t c = t * csr_packed::tile + w.column(at * lanes + i);
                        if (c < w.cols) acc[i] += w.values(at * lanes + i) * x(m, c);
                    }
            for (index_t i = 0; i < lanes && s * lanes + i < w.rows; ++i) y(m, s * lanes + i) = acc[i];
        }
    }
}

}  // namespace sparq::kernels::scalar
