// N:M x dense with SIMD, in either packed layout (pack_nm.hpp).
//
// Panels layout (few activation rows): the dense GEMM's loop nest
// (gemm_driver.hpp) over blocks of groups, panels of 32 output rows and blocks of MR activation
// rows, with an AVX-512 micro-kernel that does n FMAs per group of m (half the dense FMAs for
// 2:4) and one lane permutation per FMA to pick each row's activation
// (arch/x86_avx512_sparse.hpp). On Zen 5 a 512-bit permutation costs about what an FMA costs,
// so a compute-bound 2:4 product runs only a little faster than dense (docs/sparsity.md).
//
// Rows layout (a vector of activation rows or more): blocks of activation rows, transposed
// (a vector square at a time) so that one row of the transposed block holds one k for every
// activation row; each weight row's kept values then pick their k by address (nm_row_tile),
// with no lane permutation. For a chunk of weight rows, K goes outermost in blocks of 64: each
// block of K is transposed once into L1 (33 KB with AVX-512's 128 rows) and every weight row of
// the chunk runs its tile on it, adding into its sums, kept transposed until the last block of
// K. The chunk is 64 weight rows with the sums on the stack (32 KB), or with scratch from the
// context's arena 256 KB of sums (512 weight rows with AVX-512): fewer passes over X. A weight
// row's sums are read and written once per block of K. Transposing X costs about an eighth of
// the tile work with a 64-row chunk (an estimate) and did not measure with the large one.
//
// The panels kernel needs AVX-512; the rows kernel runs with AVX-512 (16 lanes, blocks of up
// to 128 activation rows) or AVX2 + FMA (8 lanes, up to 96), the same driver over either ISA's
// tile and transposition. Other CPUs run the reference on either layout.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/pack_nm.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2_sparse.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512_sparse.hpp"
#include "sparq/kernels/xsimd/gemm_driver.hpp"

#if defined(SPARQ_HAS_AVX512_SPARSE)
#define SPARQ_HAS_NM_PANELS_KERNEL 1

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

// ---- rows layout ------------------------------------------------------------------------
#if defined(SPARQ_HAS_AVX512_SPARSE) || defined(SPARQ_HAS_AVX2_SPARSE)
#define SPARQ_HAS_NM_ROWS_KERNEL 1

namespace sparq::kernels::xsimd {

#if defined(SPARQ_HAS_AVX512_SPARSE)
using nm_rows_isa = avx512_sparse::nm_rows_isa;
#else
using nm_rows_isa = avx2_sparse::nm_rows_isa;
#endif

inline constexpr index_t nm_rows_chunk = 64;  // weight rows whose sums fit on the stack (no scratch)
inline constexpr index_t nm_rows_block = nm_rows_isa::lanes * nm_rows_isa::max_vectors;  // activation rows per block
// With scratch: weight rows whose sums stay transposed there, 256 KB of them (in L2).
inline constexpr index_t nm_rows_big_chunk = (256 << 10) / (nm_rows_block * index_t(sizeof(float)));

// The scratch that holds the transposed sums of nm_rows_big_chunk weight rows (fewer if W has fewer).
inline std::size_t nm_rows_scratch_bytes(const nm_packed& w) noexcept {
    return std::size_t(std::min(w.rows, nm_rows_big_chunk)) * std::size_t(nm_rows_block) * sizeof(float);
}

namespace detail {

template <class Isa, index_t RM>
void nm_rows_block(const matrix_view<const float>& x, const nm_packed& w, const matrix_view<float>& y, index_t r0, index_t rows,
                   float* yt_big) noexcept {
    constexpr index_t L = Isa::lanes, lanes = L * RM;
    const index_t bk = w.block_groups() * w.m, per = w.block_values(), ldx = x.stride(0), ldy = y.stride(0);
    alignas(64) float xt[(nm_pad_k + 1) * lanes];
    alignas(64) float yt_small[nm_rows_chunk * lanes];
    float* yt = yt_big != nullptr ? yt_big : yt_small;
    // The scratch holds nm_rows_scratch_bytes(w): more weight rows' sums when this block has fewer
    // than nm_rows_block activation rows (768 rows in one chunk for blocks of 64, not 682 + 86).
    const index_t chunk = yt_big != nullptr ? index_t(nm_rows_scratch_bytes(w) / sizeof(float)) / lanes : nm_rows_chunk;
    std::memset(xt + nm_pad_k * lanes, 0, sizeof(float) * std::size_t(lanes));  // where padding values point
    for (index_t n0 = 0; n0 < w.rows; n0 += chunk) {
        const index_t n1 = std::min(w.rows, n0 + chunk);
        for (index_t kb = 0; kb < w.blocks(); ++kb) {
            const index_t k0 = kb * bk, kc = std::min(bk, w.cols - k0);
            for (index_t k = 0; k < kc; k += L)  // the block of K, transposed: one row of `lanes` activations per k
                for (index_t v = 0; v < RM; ++v)
                    Isa::transpose(x.data() + (r0 + L * v) * ldx + k0 + k, ldx, std::clamp<index_t>(rows - L * v, 0, L), kc - k,
                                   xt + k * lanes + L * v, lanes, std::min<index_t>(L, kc - k), L);
            for (index_t n = n0; n < n1; ++n)
                Isa::template tile<RM>(xt, w.row_values(kb, n), w.row_position(kb, n), per, yt + (n - n0) * lanes, kb == 0);
        }
        for (index_t n = n0; n < n1; n += L)  // the transposed sums -> Y
            for (index_t v = 0; v < RM && L * v < rows; ++v)
                Isa::transpose(yt + (n - n0) * lanes + L * v, lanes, std::min<index_t>(L, n1 - n), L, y.data() + (r0 + L * v) * ldy + n,
                               ldy, std::min<index_t>(L, rows - L * v), n1 - n);
    }
}

template <index_t... R>
void nm_rows_block_rm(index_t rm, std::integer_sequence<index_t, R...>, const matrix_view<const float>& x, const nm_packed& w,
                      const matrix_view<float>& y, index_t r0, index_t rows, float* yt) noexcept {
    ((rm == R + 1 ? nm_rows_block<nm_rows_isa, R + 1>(x, w, y, r0, rows, yt) : void()), ...);
}

}  // namespace detail

// Y[M, N] = X[M, K] * W^T on the rows layout; unit strides along K and N. `yt`: scratch of
// nm_rows_scratch_bytes(w), 64-byte aligned, or nullptr.
inline void spmm_nm_rows_f32(const matrix_view<const float>& x, const nm_packed& w, const matrix_view<float>& y,
                             float* yt) noexcept {
    constexpr index_t L = nm_rows_isa::lanes, most = nm_rows_isa::max_vectors;
    // Blocks of equal numbers of vectors (the last may have fewer rows): 196 rows with AVX2 as
    // 9 + 9 + 7 vectors rather than 12 + 12 + 1.
    const index_t vectors = (x.extent(0) + L - 1) / L, blocks = (vectors + most - 1) / most, per = (vectors + blocks - 1) / std::max<index_t>(blocks, 1);
    for (index_t r0 = 0; r0 < x.extent(0); r0 += per * L) {
        const index_t rows = std::min(per * L, x.extent(0) - r0);
        detail::nm_rows_block_rm((rows + L - 1) / L, std::make_integer_sequence<index_t, most>{}, x, w, y, r0, rows, yt);
    }
}

}  // namespace sparq::kernels::xsimd
#endif
