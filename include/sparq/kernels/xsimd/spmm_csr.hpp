// CSR x dense with SIMD. The fast fp32 path runs the repacked layout (pack_csr.hpp: slices of
// 16 rows, activations picked from registers by permutation). On the plain CSR each output is
// one row's dot product with the activations read at the stored column indices: gathered 16 at
// a time on AVX-512 (arch/x86_avx512_sparse.hpp), elsewhere four independent scalar sums so
// the loads, not the add latency, are the limit. int8 values multiply activations widened once per row of X into a
// stack buffer (csr_s8_max_k of them), so the gathers read int32 lanes.
#pragma once

#include <cstdint>

#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/pack_csr.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2_sparse.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512_sparse.hpp"
#include "sparq/sparse/csr.hpp"

namespace sparq::kernels::xsimd {

inline constexpr index_t csr_s8_max_k = 8192;  // 32 KB of widened activations on the stack

namespace detail {

// Portable: four sums so consecutive products do not wait on one another.
template <class Acc, class V, class I, class X>
Acc csr_dot_generic(const V* v, const I* idx, index_t count, const X* x) noexcept {
    Acc a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    index_t j = 0;
    for (; j + 4 <= count; j += 4) {
        a0 += Acc(v[j]) * Acc(x[idx[j]]);
        a1 += Acc(v[j + 1]) * Acc(x[idx[j + 1]]);
        a2 += Acc(v[j + 2]) * Acc(x[idx[j + 2]]);
        a3 += Acc(v[j + 3]) * Acc(x[idx[j + 3]]);
    }
    for (; j < count; ++j) a0 += Acc(v[j]) * Acc(x[idx[j]]);
    return (a0 + a1) + (a2 + a3);
}

}  // namespace detail

// x and y with unit stride along K / N (the entry checks).
template <class I>
void spmm_csr_f32(const matrix_view<const float>& x, const sparse::csr<float, I>& w, const matrix_view<float>& y) noexcept {
    const std::uint32_t* rs = w.row_start.data();
    for (index_t m = 0; m < x.extent(0); ++m) {
        const float* xr = &x(m, 0);
        float* yr = &y(m, 0);
        for (index_t r = 0; r < w.rows; ++r) {
            const index_t b = rs[r], count = index_t(rs[r + 1]) - b;
#if defined(SPARQ_HAS_AVX512_SPARSE)
            yr[r] = avx512_sparse::csr_dot_f32(w.values.data() + b, w.col.data() + b, count, xr);
#else
            yr[r] = detail::csr_dot_generic<float>(w.values.data() + b, w.col.data() + b, count, xr);
#endif
        }
    }
}

// K <= csr_s8_max_k (the entry checks); X is int8 or uint8.
template <class X, class I>
void spmm_csr_s8(const matrix_view<const X>& x, const sparse::csr<std::int8_t, I>& w, const matrix_view<std::int32_t>& y) noexcept {
    const std::uint32_t* rs = w.row_start.data();
    alignas(64) std::int32_t xw[csr_s8_max_k];
    for (index_t m = 0; m < x.extent(0); ++m) {
        const X* xr = &x(m, 0);
        for (index_t k = 0; k < x.extent(1); ++k) xw[k] = xr[k];
        std::int32_t* yr = &y(m, 0);
        for (index_t r = 0; r < w.rows; ++r) {
            const index_t b = rs[r], count = index_t(rs[r + 1]) - b;
#if defined(SPARQ_HAS_AVX512_SPARSE)
            yr[r] = avx512_sparse::csr_dot_s8(w.values.data() + b, w.col.data() + b, count, xw);
#else
            yr[r] = detail::csr_dot_generic<std::int32_t>(w.values.data() + b, w.col.data() + b, count, xw);
#endif
        }
    }
}

#if defined(SPARQ_HAS_AVX512_SPARSE) || defined(SPARQ_HAS_AVX2_SPARSE)
#define SPARQ_HAS_CSR_PACKED_KERNEL 1
#if defined(SPARQ_HAS_AVX512_SPARSE)
namespace csr_isa = avx512_sparse;
#else
namespace csr_isa = avx2_sparse;
#endif
// The repacked CSR (AVX-512, or AVX2 + FMA): x with unit stride along K, y along N.
inline void spmm_csr_packed_f32(const matrix_view<const float>& x, const csr_packed& w, const matrix_view<float>& y) noexcept {
    const index_t tiles = w.tiles();
    for (index_t m = 0; m < x.extent(0); ++m) {
        const float* v = w.values.data();
        const std::uint8_t* col = w.column.data();
        for (index_t s = 0; s < w.slices(); ++s) {
            const index_t r0 = s * csr_packed::slice;
            csr_isa::sell_slice_f32(&x(m, 0), w.cols, w.steps.data() + s * tiles, tiles, v, col, &y(m, r0),
                                          w.rows - r0 < csr_packed::slice ? w.rows - r0 : csr_packed::slice);
        }
    }
}
#endif

}  // namespace sparq::kernels::xsimd
