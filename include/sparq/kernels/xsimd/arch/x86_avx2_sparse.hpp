// AVX2 + FMA pieces of the sparse kernels for x86-64 CPUs without AVX-512 (Zen 2 / 3, Haswell
// to Alder Lake), the 8-lane twins of x86_avx512_sparse.hpp's: the repacked CSR's slice (a
// 32-way lane selection built from four vpermps and three blends, where AVX-512 has one
// vpermt2ps), and the N:M rows layout's by-address tile and 8 x 8 transposition. xsimd 8.1 has
// no lane permutation by index nor masked load / store to express them.
#pragma once

#include "sparq/core/config.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "sparq/core/shape.hpp"

#define SPARQ_HAS_AVX2_SPARSE 1

SPARQ_INTRINSICS_BEGIN

namespace sparq::kernels::xsimd::avx2_sparse {

// Lanes [0, count) set, for maskload / maskstore.
inline __m256i lane_mask(index_t count) noexcept {
    const int c = count >= 8 ? 8 : int(count);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// ---- CSR repacked in slices of 16 rows x tiles of 32 columns (pack_csr.hpp) -----------------
// Lane i of the result: x[idx[i]] for idx in [0, 32), x in four registers. vpermps picks by the
// low three bits in each register; blends on bits 3 and 4 pick the register (the blend looks at
// each lane's sign bit, so the index is shifted there).
inline __m256 select32(__m256 x0, __m256 x1, __m256 x2, __m256 x3, __m256i idx) noexcept {
    const __m256 b3 = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)), b4 = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 27));
    const __m256 s01 = _mm256_blendv_ps(_mm256_permutevar8x32_ps(x0, idx), _mm256_permutevar8x32_ps(x1, idx), b3);
    const __m256 s23 = _mm256_blendv_ps(_mm256_permutevar8x32_ps(x2, idx), _mm256_permutevar8x32_ps(x3, idx), b3);
    return _mm256_blendv_ps(s01, s23, b4);
}

// One slice of 16 output rows times one activation row (xsimd::spmm_csr_packed_f32): per tile
// the 32 activations sit in four registers; each step is two halves of 8 lanes, two
// accumulators each so consecutive steps overlap. `rows` < 16 stores only the slice's real rows.
inline void sell_slice_f32(const float* x, index_t k, const std::uint8_t* steps, index_t tiles, const float*& v,
                           const std::uint8_t*& col, float* y, index_t rows) noexcept {
    __m256 lo0 = _mm256_setzero_ps(), lo1 = lo0, hi0 = lo0, hi1 = lo0;
    for (index_t t = 0; t < tiles; ++t) {
        const index_t k0 = t * 32;
        __m256 xr[4];
        SPARQ_UNROLL
        for (index_t q = 0; q < 4; ++q)
            xr[q] = SPARQ_LIKELY(k0 + 32 <= k) ? _mm256_loadu_ps(x + k0 + 8 * q)  // else the last tile of a K not a multiple of 32
                                               : _mm256_maskload_ps(x + k0 + 8 * q, lane_mask(k - k0 - 8 * q > 0 ? k - k0 - 8 * q : 0));
        const index_t n = steps[t];
        auto half = [&](__m256& acc, index_t at) {
            const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(col + at)));
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(v + at), select32(xr[0], xr[1], xr[2], xr[3], idx), acc);
        };
        index_t j = 0;
        for (; j + 2 <= n; j += 2) {
            half(lo0, 16 * j);
            half(hi0, 16 * j + 8);
            half(lo1, 16 * j + 16);
            half(hi1, 16 * j + 24);
        }
        if (j < n) {
            half(lo0, 16 * j);
            half(hi0, 16 * j + 8);
        }
        v += n * 16;
        col += n * 16;
    }
    _mm256_maskstore_ps(y, lane_mask(rows), _mm256_add_ps(lo0, lo1));
    if (rows > 8) _mm256_maskstore_ps(y + 8, lane_mask(rows - 8), _mm256_add_ps(hi0, hi1));
}

// d[c][i] = s[i][c] for a block of up to 8 x 8: `rows` rows of s (the others read as zero),
// their first `cols` columns (the others read as zero); writes the first `out_rows` rows of d,
// their first `out_cols` lanes. Full rows take plain loads and stores: a masked store costs
// about ten cycles on Zen 2 / 3.
inline void transpose8(const float* s, index_t ls, index_t rows, index_t cols, float* d, index_t ld, index_t out_rows,
                       index_t out_cols) noexcept {
    const __m256i in = lane_mask(cols), out = lane_mask(out_cols);
    const bool full_in = cols >= 8, full_out = out_cols >= 8;
    auto store = [&](float* p, __m256 v) { full_out ? _mm256_storeu_ps(p, v) : _mm256_maskstore_ps(p, out, v); };
    __m256 r[8], t[8];
    SPARQ_UNROLL
    for (index_t i = 0; i < 8; ++i)
        r[i] = i >= rows ? _mm256_setzero_ps() : full_in ? _mm256_loadu_ps(s + i * ls) : _mm256_maskload_ps(s + i * ls, in);
    SPARQ_UNROLL
    for (index_t i = 0; i < 4; ++i) {  // rows 2i, 2i+1 interleaved: columns (0, 1, 4, 5) and (2, 3, 6, 7)
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    SPARQ_UNROLL
    for (index_t h = 0; h < 2; ++h) {  // r[4h + c]: rows 4h..4h+3 of column c (low half), c + 4 (high half)
        r[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
        r[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
        r[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
        r[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    SPARQ_UNROLL
    for (index_t c = 0; c < 4; ++c) {
        if (c < out_rows) store(d + c * ld, _mm256_permute2f128_ps(r[c], r[4 + c], 0x20));
        if (c + 4 < out_rows) store(d + (c + 4) * ld, _mm256_permute2f128_ps(r[c], r[4 + c], 0x31));
    }
}

// One weight row of the rows layout against RM vectors of 8 activation rows: for each kept
// value, a broadcast and RM FMAs on the row of the transposed activations at its k, a load
// from L1 (the selection is the address). yt: the row's RM x 8 sums, kept transposed.
template <index_t RM, index_t COUNT = 0>
void nm_row_tile(const float* xt, const float* v, const std::uint8_t* pos, index_t runtime_count, float* yt, bool first) noexcept {
    const index_t count = COUNT > 0 ? COUNT : runtime_count;
    constexpr index_t S = RM < 4 ? 2 : 1;  // accumulator sets: 4 or more FMA chains in flight
    constexpr index_t lanes = 8 * RM;
    __m256 acc[S][RM];
    SPARQ_UNROLL
    for (index_t r = 0; r < RM; ++r) {
        acc[0][r] = first ? _mm256_setzero_ps() : _mm256_load_ps(yt + 8 * r);
        if constexpr (S > 1) acc[S - 1][r] = _mm256_setzero_ps();
    }
    for (index_t j = 0; j < count; j += 8) {
        std::uint64_t word;
        std::memcpy(&word, pos + j, 8);
        SPARQ_UNROLL
        for (index_t q = 0; q < 8; ++q) {
            const float* xr = xt + index_t((word >> (8 * q)) & 0xFFu) * lanes;
            const __m256 w = _mm256_broadcast_ss(v + j + q);
            SPARQ_UNROLL
            for (index_t r = 0; r < RM; ++r) acc[q % S][r] = _mm256_fmadd_ps(w, _mm256_load_ps(xr + 8 * r), acc[q % S][r]);
        }
    }
    SPARQ_UNROLL
    for (index_t r = 0; r < RM; ++r) _mm256_store_ps(yt + 8 * r, S > 1 ? _mm256_add_ps(acc[0][r], acc[S - 1][r]) : acc[0][r]);
}

// What the rows-layout driver needs of an ISA (xsimd/spmm_nm.hpp).
struct nm_rows_isa {
    static constexpr index_t lanes = 8;        // activation rows per vector
    static constexpr index_t max_vectors = 12;  // per block: 96 rows, 12 accumulators (of 16 registers)
    static void transpose(const float* s, index_t ls, index_t rows, index_t cols, float* d, index_t ld, index_t out_rows,
                          index_t out_cols) noexcept {
        transpose8(s, ls, rows, cols, d, ld, out_rows, out_cols);
    }
    template <index_t RM>
    static void tile(const float* xt, const float* v, const std::uint8_t* pos, index_t count, float* yt, bool first) noexcept {
        if (count == 32) nm_row_tile<RM, 32>(xt, v, pos, count, yt, first);  // 2:4 and 4:8: the loop unrolled
        else nm_row_tile<RM>(xt, v, pos, count, yt, first);
    }
};

}  // namespace sparq::kernels::xsimd::avx2_sparse

SPARQ_INTRINSICS_END

#endif
