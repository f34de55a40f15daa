// N:M x dense with SIMD, on packed panels (pack_nm.hpp): the dense GEMM's loop nest
// (gemm_driver.hpp) over blocks of groups, panels of 32 output rows and blocks of MR activation
// rows, with an AVX-512 micro-kernel that does n FMAs per group of m (half the dense FMAs for
// 2:4) and one lane permutation per FMA to pick each row's activation
// (arch/x86_avx512_sparse.hpp). On Zen 5 a 512-bit permutation costs about what an FMA costs,
// so a compute-bound 2:4 product runs only a little faster than dense (docs/sparsity.md).
// Other CPUs run the reference on the packed layout.
#pragma once

#include <cstdint>

#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/pack_nm.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512_sparse.hpp"
#include "sparq/kernels/xsimd/gemm_driver.hpp"

#if defined(SPARQ_HAS_AVX512_SPARSE)
#define SPARQ_HAS_NM_KERNEL 1

namespace sparq::kernels::xsimd {

inline constexpr index_t nm_nr = avx512_sparse::nm_nr;
inline constexpr index_t nm_mr = 8;        // 16 accumulators + 2 values + 2 positions + 3 temporaries
inline constexpr index_t nm_group_block = 64;  // groups per block of K: a 2:4 panel block is 20 KB

namespace detail {

template <bool M4, index_t NS, index_t... R>
void nm_micro_rows(index_t rows, std::integer_sequence<index_t, R...>, const float* x, index_t ldx, const float* v,
                   const std::uint8_t* p, index_t groups, index_t n, index_t m, float* y, index_t ldy, index_t cols,
                   bool first) noexcept {
    ((rows == R + 1 ? avx512_sparse::nm_micro_f32<R + 1, M4, NS>(x, ldx, v, p, groups, n, m, y, ldy, cols, first) : void()), ...);
}

}  // namespace detail

// Y[M, rows] = X[M, K] * W^T for panels [p_begin, p_end); unit strides along K and N.
inline void spmm_nm_f32(const matrix_view<const float>& x, const nm_packed& w, const matrix_view<float>& y, index_t p_begin,
                        index_t p_end) noexcept {
    const index_t ldx = x.stride(0), ldy = y.stride(0), n = w.n, m = w.m;
    detail::drive_panels<nm_mr, nm_nr, nm_group_block>(
        x.extent(0), w.groups(), w.rows, p_begin, p_end, [&](index_t g0, index_t gc, index_t p, index_t cols, index_t m0, index_t rows) {
            const float* xs = x.data() + m0 * ldx + g0 * m;
            const float* v = w.panel_values(p) + g0 * n * nm_nr;
            const std::uint8_t* pos = w.panel_position(p) + g0 * n * nm_nr;
            float* ys = y.data() + m0 * ldy + p * nm_nr;
            const auto seq = std::make_integer_sequence<index_t, nm_mr>{};
            if (m == 4 && n == 2)  // 2:4, the pattern sparse tensor cores run: slots in registers
                detail::nm_micro_rows<true, 2>(rows, seq, xs, ldx, v, pos, gc, n, m, ys, ldy, cols, g0 == 0);
            else if (m == 4)
                detail::nm_micro_rows<true, 0>(rows, seq, xs, ldx, v, pos, gc, n, m, ys, ldy, cols, g0 == 0);
            else
                detail::nm_micro_rows<false, 0>(rows, seq, xs, ldx, v, pos, gc, n, m, ys, ldy, cols, g0 == 0);
        });
}

}  // namespace sparq::kernels::xsimd
#endif
