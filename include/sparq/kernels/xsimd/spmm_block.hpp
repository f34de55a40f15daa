// Block-sparse (BSR) x dense with xsimd: a block row of BR output rows runs with BR register
// accumulators per activation row; each stored block loads bc contiguous activations once and
// multiplies them into all BR rows' accumulators (two sets, alternating between blocks, so
// consecutive blocks do not wait on each other's additions). fp32 needs bc to be a multiple of
// the batch width; int8 widens values and activations to int32 lanes (exact, any CPU), and on
// AVX512-VNNI 4 x 16 blocks take one vpdpbusd each (arch/x86_avx512_sparse.hpp).
#pragma once

#include <cstdint>
#include <type_traits>
#include "sparq/core/xsimd.hpp"

#include "sparq/core/config.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/xsimd/arch/arm_neon.hpp"
#include "sparq/kernels/xsimd/arch/generic.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512_sparse.hpp"
#include "sparq/sparse/block.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

namespace detail {

// How one element type's blocks are loaded and multiplied: fp32 with FMA, int8 widened.
template <class A, class V, class X>
struct block_ops;
template <class A>
struct block_ops<A, float, float> {
    using batch = ::xsimd::batch<float, A>;
    using acc_t = float;
    static batch load_w(const float* p) noexcept { return batch::load_unaligned(p); }
    static batch load_x(const float* p) noexcept { return batch::load_unaligned(p); }
    static batch madd(batch a, batch b, batch c) noexcept { return detail::fmadd<A>(a, b, c, A{}); }
};
template <class A, class X>
struct block_ops<A, std::int8_t, X> {
    using batch = ::xsimd::batch<std::int32_t, A>;
    using acc_t = std::int32_t;
    static batch load_w(const std::int8_t* p) noexcept { return load_widen<A>(p, A{}); }
    static batch load_x(const X* p) noexcept { return load_widen<A>(p, A{}); }
    static batch madd(batch a, batch b, batch c) noexcept { return a * b + c; }
};

// One block row (BR output rows) times one activation row; results to y[0 .. BR).
template <class A, index_t BR, class V, class X, class I, class Y>
void bsr_block_row(const X* x, const sparse::bsr<V, I>& w, index_t b0, Y* y) noexcept {
    using ops = block_ops<A, V, X>;
    using batch = typename ops::batch;
    constexpr index_t L = index_t(batch::size);
    const index_t bc = w.block.cols;
    batch acc[2][BR];
    SPARQ_UNROLL
    for (index_t i = 0; i < BR; ++i) acc[0][i] = acc[1][i] = batch(typename ops::acc_t(0));
    const std::uint32_t end = w.row_start(b0 + 1);
    const V* values = w.values.data();
    const I* col = w.col.data();
    // Blocks in pairs, each into its own set: constant indices keep both sets in registers.
    auto block = [&](std::uint32_t b, batch(&a)[BR]) SPARQ_ALWAYS_INLINE_LAMBDA {
        const X* xk = x + index_t(col[b]) * bc;
        const V* v = values + index_t(b) * BR * bc;
        for (index_t c = 0; c < bc; c += L) {
            const batch xb = ops::load_x(xk + c);
            SPARQ_UNROLL
            for (index_t i = 0; i < BR; ++i) a[i] = ops::madd(ops::load_w(v + i * bc + c), xb, a[i]);
        }
    };
    std::uint32_t b = w.row_start(b0);
    for (; b + 2 <= end; b += 2) {
        block(b, acc[0]);
        block(b + 1, acc[1]);
    }
    if (b < end) block(b, acc[0]);
#if defined(SPARQ_HAS_AVX512_SPARSE)
    if constexpr (BR == 4 && std::is_same_v<Y, float> && sizeof(batch) == 64) {
        _mm_storeu_ps(y, avx512_sparse::sum4(acc[0][0] + acc[1][0], acc[0][1] + acc[1][1], acc[0][2] + acc[1][2], acc[0][3] + acc[1][3]));
        return;
    }
#endif
    SPARQ_UNROLL
    for (index_t i = 0; i < BR; ++i) y[i] = Y(::xsimd::hadd(acc[0][i] + acc[1][i]));
}

template <class A, index_t BR, class V, class X, class I, class Y>
void bsr_rows(const matrix_view<const X>& x, const sparse::bsr<V, I>& w, const matrix_view<Y>& y) noexcept {
    for (index_t m = 0; m < x.extent(0); ++m)
        for (index_t b0 = 0; b0 < w.block_rows(); ++b0) bsr_block_row<A, BR>(&x(m, 0), w, b0, &y(m, b0 * BR));
}

}  // namespace detail

// Whether bsr_spmm has a SIMD kernel for this block shape (else the entry uses the reference).
template <class A, class V>
constexpr bool bsr_simd_shape(prune::block_shape b) noexcept {
    constexpr index_t lanes = index_t(::xsimd::batch<std::conditional_t<std::is_same_v<V, float>, float, std::int32_t>, A>::size);
#if defined(SPARQ_HAS_VNNI_BLOCK)
    if (std::is_same_v<V, std::int8_t> && b.rows == 4 && b.cols == 16) return true;
#endif
    return (b.rows == 1 || b.rows == 2 || b.rows == 4 || b.rows == 8) && b.cols % lanes == 0;
}

// Y[M, N] = X[M, K] * W^T, unit strides along K and N (the entry checks the shape).
template <class A, class V, class X, class I, class Y>
void bsr_spmm(const matrix_view<const X>& x, const sparse::bsr<V, I>& w, const matrix_view<Y>& y) noexcept {
#if defined(SPARQ_HAS_VNNI_BLOCK)
    if constexpr (std::is_same_v<V, std::int8_t>) {
        if (w.block.rows == 4 && w.block.cols == 16) {
            for (index_t m = 0; m < x.extent(0); ++m)
                for (index_t b0 = 0; b0 < w.block_rows(); ++b0)
                    avx512_sparse::bsr4x16_row_s8(&x(m, 0), w.values.data(), w.col.data(), w.row_start(b0),
                                                  w.row_start(b0 + 1), &y(m, b0 * 4), 1);
            return;
        }
    }
#endif
    switch (w.block.rows) {
        case 1: return detail::bsr_rows<A, 1>(x, w, y);
        case 2: return detail::bsr_rows<A, 2>(x, w, y);
        case 4: return detail::bsr_rows<A, 4>(x, w, y);
        default: return detail::bsr_rows<A, 8>(x, w, y);
    }
}

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
