// AVX-512 pieces of the sparse kernels, where xsimd 8.1 has no operation to express them:
// masked index loads and gathers (CSR: x is read at the stored column indices), the lane
// permutation that picks each output row's activation inside an N:M group (panels layout) and
// the by-address tile with its 16 x 16 transposition (rows layout), and the VNNI dot
// product of a 4 x 16 int8 block. Everything else of the sparse kernels is portable xsimd.
#pragma once

#include "sparq/core/config.hpp"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "sparq/core/shape.hpp"

#define SPARQ_HAS_AVX512_SPARSE 1

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd::avx512_sparse {

inline __mmask16 tail_mask(index_t count) noexcept {
    return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << unsigned(count)) - 1u);
}

// 16 column indices (fewer under the mask) as int32 lanes.
template <class I>
__m512i load_index(const I* p, __mmask16 k) noexcept {
    if constexpr (std::is_same_v<I, std::uint16_t>) return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, p));
    else return _mm512_maskz_loadu_epi32(k, p);
}

// sum_j v[j] * x[idx[j]] over one CSR row: 16 values per gather, two accumulators so two
// gathers are in flight; the last partial chunk runs under a mask (no scalar tail).
template <class I>
float csr_dot_f32(const float* v, const I* idx, index_t count, const float* x) noexcept {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    index_t j = 0;
    for (; j + 32 <= count; j += 32) {
        const __m512 g0 = _mm512_i32gather_ps(load_index(idx + j, 0xFFFF), x, 4);
        const __m512 g1 = _mm512_i32gather_ps(load_index(idx + j + 16, 0xFFFF), x, 4);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + j), g0, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + j + 16), g1, a1);
    }
    for (; j < count; j += 16) {
        const __mmask16 k = tail_mask(count - j);
        const __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, load_index(idx + j, k), x, 4);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, v + j), g, a0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

// The same in int32 for int8 values, from activations already widened to int32 (xw).
template <class I>
std::int32_t csr_dot_s8(const std::int8_t* v, const I* idx, index_t count, const std::int32_t* xw) noexcept {
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    index_t j = 0;
    for (; j + 32 <= count; j += 32) {
        const __m512i g0 = _mm512_i32gather_epi32(load_index(idx + j, 0xFFFF), xw, 4);
        const __m512i g1 = _mm512_i32gather_epi32(load_index(idx + j + 16, 0xFFFF), xw, 4);
        a0 = _mm512_add_epi32(a0, _mm512_mullo_epi32(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + j))), g0));
        a1 = _mm512_add_epi32(a1, _mm512_mullo_epi32(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + j + 16))), g1));
    }
    for (; j < count; j += 16) {
        const __mmask16 k = tail_mask(count - j);
        const __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, load_index(idx + j, k), xw, 4);
        a0 = _mm512_add_epi32(a0, _mm512_mullo_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, v + j)), g));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
}

// The four sums of four registers, as one 128-bit vector [sum a, sum b, sum c, sum d]: a
// transposing tree of 12 operations where four separate reductions take about 32. A block row
// of a 4 x 16 BSR ends with this, and on small layers (a few blocks per row) it matters.
inline __m128 sum4(__m512 a, __m512 b, __m512 c, __m512 d) noexcept {
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    const __m512 s = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// ---- CSR repacked in slices of 16 rows x tiles of 32 columns (pack_csr.hpp) -----------------
// One slice of 16 output rows times one activation row: per tile the 32 activations sit in two
// registers and each step's 16 lanes pick theirs with vpermt2ps; four accumulators so the
// FMAs of consecutive steps overlap. `rows` < 16 stores only the slice's real rows.
inline void sell_slice_f32(const float* x, index_t k, const std::uint8_t* steps, index_t tiles,
                           const float*& v, const std::uint8_t*& col, float* y, index_t rows) noexcept {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (index_t t = 0; t < tiles; ++t) {
        const index_t k0 = t * 32;
        __m512 lo, hi;
        if (SPARQ_LIKELY(k0 + 32 <= k)) {
            lo = _mm512_loadu_ps(x + k0);
            hi = _mm512_loadu_ps(x + k0 + 16);
        } else {  // the last tile of a K that is not a multiple of 32
            lo = _mm512_maskz_loadu_ps(tail_mask(k - k0), x + k0);
            hi = _mm512_maskz_loadu_ps(tail_mask(k - k0 - 16 > 0 ? k - k0 - 16 : 0), x + k0 + 16);
        }
        const index_t n = steps[t];
        auto step = [&](__m512& acc, index_t at) {
            const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(col + at * 16)));
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(v + at * 16), _mm512_permutex2var_ps(lo, idx, hi), acc);
        };
        index_t j = 0;
        for (; j + 4 <= n; j += 4) {
            step(a0, j);
            step(a1, j + 1);
            step(a2, j + 2);
            step(a3, j + 3);
        }
        if (j < n) step(a0, j++);
        if (j < n) step(a1, j++);
        if (j < n) step(a2, j++);
        v += n * 16;
        col += n * 16;
    }
    _mm512_mask_storeu_ps(y, tail_mask(rows), _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// ---- N:M: an R x 32 block of Y over `groups` groups of m (m <= 16) -------------------------
// The packed panel holds, per group and kept slot, 32 output rows' values and their positions
// in the group (bytes). Each activation row's group is loaded once into a register and every
// lane picks its own activation with a permutation: vpermilps inside 128-bit lanes when m = 4
// (the group broadcast to the four lanes), vpermps across the register otherwise.
inline constexpr index_t nm_nr = 32;

// NS: the kept slots per group when known at compile time (2 for 2:4), 0 for any n. With NS
// the slots' values and positions stay in registers for the whole group and each activation
// row's group is loaded once, not once per slot.
template <index_t R, bool M4, index_t NS>
void nm_micro_f32(const float* x, index_t ldx, const float* vals, const std::uint8_t* pos, index_t groups, index_t n,
                  index_t m, float* y, index_t ldy, index_t cols, bool first) noexcept {
    __m512 acc0[R], acc1[R];
    SPARQ_UNROLL
    for (index_t r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
    const __mmask16 group_mask = tail_mask(m);
    auto load_group = [&](const float* xr) {
        if constexpr (M4) return _mm512_broadcast_f32x4(_mm_loadu_ps(xr));
        else return _mm512_maskz_loadu_ps(group_mask, xr);
    };
    auto pick = [](__m512 xb, __m512i idx) {
        if constexpr (M4) return _mm512_permutevar_ps(xb, idx);
        else return _mm512_permutexvar_ps(idx, xb);
    };
    auto load_pos = [](const std::uint8_t* p) { return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); };
    for (index_t g = 0; g < groups; ++g) {
        const float* xg = x + g * m;
        if constexpr (NS > 0) {
            __m512 w0[NS], w1[NS];
            __m512i i0[NS], i1[NS];
            SPARQ_UNROLL
            for (index_t s = 0; s < NS; ++s) {
                const float* v = vals + (g * NS + s) * nm_nr;
                const std::uint8_t* p = pos + (g * NS + s) * nm_nr;
                w0[s] = _mm512_loadu_ps(v);
                w1[s] = _mm512_loadu_ps(v + 16);
                i0[s] = load_pos(p);
                i1[s] = load_pos(p + 16);
            }
            SPARQ_UNROLL
            for (index_t r = 0; r < R; ++r) {
                const __m512 xb = load_group(xg + r * ldx);
                SPARQ_UNROLL
                for (index_t s = 0; s < NS; ++s) {
                    acc0[r] = _mm512_fmadd_ps(pick(xb, i0[s]), w0[s], acc0[r]);
                    acc1[r] = _mm512_fmadd_ps(pick(xb, i1[s]), w1[s], acc1[r]);
                }
            }
        } else {
            for (index_t s = 0; s < n; ++s) {
                const float* v = vals + (g * n + s) * nm_nr;
                const std::uint8_t* p = pos + (g * n + s) * nm_nr;
                const __m512 w0 = _mm512_loadu_ps(v), w1 = _mm512_loadu_ps(v + 16);
                const __m512i i0 = load_pos(p), i1 = load_pos(p + 16);
                SPARQ_UNROLL
                for (index_t r = 0; r < R; ++r) {
                    const __m512 xb = load_group(xg + r * ldx);
                    acc0[r] = _mm512_fmadd_ps(pick(xb, i0), w0, acc0[r]);
                    acc1[r] = _mm512_fmadd_ps(pick(xb, i1), w1, acc1[r]);
                }
            }
        }
    }
    SPARQ_UNROLL
    for (index_t r = 0; r < R; ++r) {
        float* out = y + r * ldy;
        const __mmask16 k0 = tail_mask(cols), k1 = tail_mask(cols - 16 > 0 ? cols - 16 : 0);
        if (!first) {
            acc0[r] = _mm512_add_ps(acc0[r], _mm512_maskz_loadu_ps(k0, out));
            acc1[r] = _mm512_add_ps(acc1[r], _mm512_maskz_loadu_ps(k1, out + 16));
        }
        _mm512_mask_storeu_ps(out, k0, acc0[r]);
        _mm512_mask_storeu_ps(out + 16, k1, acc1[r]);
    }
}

// ---- N:M rows layout: one weight row x 16 RM activation rows, picked by address ---------------
// The activation rows of a block sit transposed in `xt` (row k of the K block: 16 RM floats,
// one lane per activation row; row nm_pad_k is zero), so a kept weight at k multiplies the RM
// vectors at xt + k * 16 RM: a broadcast and RM FMAs that take their operand straight from L1,
// no permutation. Permutations and FMAs compete for the same pipes on Zen 5; loads do not,
// which is why this beats the panels kernel on batches of 16 rows or more (docs/sparsity.md).
// `count` values (a multiple of 8: one 64-bit load gives 8 positions); sums start from `yt`
// (the transposed partial sums) unless `first`, and end there.
template <index_t RM>
void nm_row_tile(const float* xt, const float* v, const std::uint8_t* pos, index_t count, float* yt, bool first) noexcept {
    constexpr index_t S = RM < 8 ? 2 : 1;  // accumulator sets: 8 or more FMA chains in flight
    constexpr index_t lanes = 16 * RM;
    __m512 acc[S][RM];
    SPARQ_UNROLL
    for (index_t r = 0; r < RM; ++r) {
        acc[0][r] = first ? _mm512_setzero_ps() : _mm512_load_ps(yt + 16 * r);
        if constexpr (S > 1) acc[S - 1][r] = _mm512_setzero_ps();
    }
    for (index_t j = 0; j < count; j += 8) {
        std::uint64_t word;
        std::memcpy(&word, pos + j, 8);
        SPARQ_UNROLL
        for (index_t q = 0; q < 8; ++q) {
            const float* xr = xt + index_t((word >> (8 * q)) & 0xFFu) * lanes;
            const __m512 w = _mm512_set1_ps(v[j + q]);
            SPARQ_UNROLL
            for (index_t r = 0; r < RM; ++r) acc[q % S][r] = _mm512_fmadd_ps(w, _mm512_load_ps(xr + 16 * r), acc[q % S][r]);
        }
    }
    SPARQ_UNROLL
    for (index_t r = 0; r < RM; ++r) _mm512_store_ps(yt + 16 * r, S > 1 ? _mm512_add_ps(acc[0][r], acc[S - 1][r]) : acc[0][r]);
}

// d[c][i] = s[i][c] for a block of up to 16 x 16: `rows` rows of s (the others read as zero),
// the columns under `cols`; writes the first `out_rows` rows of d, the lanes under `out`.
inline void transpose16(const float* s, index_t ls, index_t rows, __mmask16 cols, float* d, index_t ld, index_t out_rows,
                        __mmask16 out = 0xFFFF) noexcept {
    __m512 r[16], t[16];
    SPARQ_UNROLL
    for (index_t i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(cols, s + i * ls) : _mm512_setzero_ps();
    SPARQ_UNROLL
    for (index_t i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    auto lo = [](__m512 p, __m512 q) { return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(p), _mm512_castps_pd(q))); };
    auto hi = [](__m512 p, __m512 q) { return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(p), _mm512_castps_pd(q))); };
    SPARQ_UNROLL
    for (index_t i = 0; i < 4; ++i) {  // r[4i + j]: rows 4i..4i+3, column 4L + j in 128-bit lane L
        r[4 * i + 0] = lo(t[4 * i], t[4 * i + 2]);
        r[4 * i + 1] = hi(t[4 * i], t[4 * i + 2]);
        r[4 * i + 2] = lo(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = hi(t[4 * i + 1], t[4 * i + 3]);
    }
    SPARQ_UNROLL
    for (index_t i = 0; i < 2; ++i)
        SPARQ_UNROLL
        for (index_t j = 0; j < 4; ++j) {
            t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
            t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
        }
    SPARQ_UNROLL
    for (index_t j = 0; j < 4; ++j) {
        const __m512 res[4] = {_mm512_shuffle_f32x4(t[j], t[8 + j], 0x88), _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88),
                               _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd), _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xdd)};
        SPARQ_UNROLL
        for (index_t q = 0; q < 4; ++q)
            if (4 * q + j < out_rows) _mm512_mask_storeu_ps(d + (4 * q + j) * ld, out, res[q]);
    }
}

// What the rows-layout driver needs of an ISA (xsimd/spmm_nm.hpp); counts of rows and columns
// as in avx2_sparse::nm_rows_isa.
struct nm_rows_isa {
    static constexpr index_t lanes = 16;       // activation rows per vector
    static constexpr index_t max_vectors = 8;  // per block: 128 rows
    static void transpose(const float* s, index_t ls, index_t rows, index_t cols, float* d, index_t ld, index_t out_rows,
                          index_t out_cols) noexcept {
        transpose16(s, ls, rows, tail_mask(cols), d, ld, out_rows, tail_mask(out_cols));
    }
    template <index_t RM>
    static void tile(const float* xt, const float* v, const std::uint8_t* pos, index_t count, float* yt, bool first) noexcept {
        nm_row_tile<RM>(xt, v, pos, count, yt, first);
    }
};

// ---- int8 4 x 16 blocks with VNNI --------------------------------------------------------
#if defined(__AVX512VNNI__)
#define SPARQ_HAS_VNNI_BLOCK 1
// One block row of a 4 x 16 int8 BSR times one activation row: a row-major 4 x 16 block is
// exactly vpdpbusd's operand (lane 4r + q holds row r's weights 4q .. 4q+3), and the 16
// activations broadcast to the four 128-bit lanes line up with it. Signed activations are
// shifted to unsigned (xor 0x80) and 128 * (the row's weight sum, a second vpdpbusd against
// ones) taken back. Writes the 4 int32 results to y[0], y[ldy], y[2 ldy], y[3 ldy].
template <class X, class I>
void bsr4x16_row_s8(const X* x, const std::int8_t* values, const I* col, std::uint32_t b_begin, std::uint32_t b_end,
                    std::int32_t* y, index_t ldy) noexcept {
    constexpr bool is_signed = std::is_signed_v<X>;
    const __m512i flip = _mm512_set1_epi8(char(0x80)), ones = _mm512_set1_epi8(1);
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512(), sum0 = acc0, sum1 = acc0;
    std::uint32_t b = b_begin;
    for (; b + 2 <= b_end; b += 2) {
        __m512i x0 = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + index_t(col[b]) * 16)));
        __m512i x1 = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + index_t(col[b + 1]) * 16)));
        const __m512i w0 = _mm512_loadu_si512(values + index_t(b) * 64), w1 = _mm512_loadu_si512(values + index_t(b + 1) * 64);
        if constexpr (is_signed) {
            x0 = _mm512_xor_si512(x0, flip);
            x1 = _mm512_xor_si512(x1, flip);
            sum0 = _mm512_dpbusd_epi32(sum0, ones, w0);
            sum1 = _mm512_dpbusd_epi32(sum1, ones, w1);
        }
        acc0 = _mm512_dpbusd_epi32(acc0, x0, w0);
        acc1 = _mm512_dpbusd_epi32(acc1, x1, w1);
    }
    if (b < b_end) {
        __m512i x0 = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + index_t(col[b]) * 16)));
        const __m512i w0 = _mm512_loadu_si512(values + index_t(b) * 64);
        if constexpr (is_signed) {
            x0 = _mm512_xor_si512(x0, flip);
            sum0 = _mm512_dpbusd_epi32(sum0, ones, w0);
        }
        acc0 = _mm512_dpbusd_epi32(acc0, x0, w0);
    }
    __m512i acc = _mm512_add_epi32(acc0, acc1);
    if constexpr (is_signed) acc = _mm512_sub_epi32(acc, _mm512_slli_epi32(_mm512_add_epi32(sum0, sum1), 7));
    // Lanes 4r .. 4r+3 belong to row r: two in-lane pair sums leave row r's total in lane 4r.
    acc = _mm512_add_epi32(acc, _mm512_shuffle_epi32(acc, _MM_PERM_CDAB));
    acc = _mm512_add_epi32(acc, _mm512_shuffle_epi32(acc, _MM_PERM_BADC));
    alignas(64) std::int32_t lanes[16];
    _mm512_store_si512(lanes, acc);
    for (index_t r = 0; r < 4; ++r) y[r * ldy] = lanes[4 * r];
}
#endif

}  // namespace sparq::kernels::xsimd::avx512_sparse

SPARQ_INTRINSICS_END
#endif
