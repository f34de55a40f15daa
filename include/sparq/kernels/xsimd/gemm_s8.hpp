// int8 GEMM: Y[M, N] (int32) = X[M, K] (int8) * W[N, K]^T (int8) on packed weights, with exact
// int32 sums. On AVX512-VNNI (vpdpbusd: unsigned x signed) the activations are shifted to
// unsigned by +128 while they are packed, and 128 * (column sum of W) is taken back at the end
// (the XNNPACK trick); the int32 arithmetic wraps consistently, so every result whose true
// value fits int32 is exact. Activation blocks are packed on the stack: no allocation.
#pragma once

#include "sparq/core/config.hpp"

#include <cstdint>
#include <type_traits>
#include <utility>

#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/pack.hpp"
#include "sparq/kernels/xsimd/arch/arm_neon.hpp"
#include "sparq/kernels/xsimd/arch/generic.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512vnni.hpp"
#include "sparq/kernels/xsimd/gemm_driver.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
#define SPARQ_HAS_VNNI_GEMM 1
inline constexpr bool has_vnni_gemm = true;
inline constexpr index_t gemm_s8_nr = avx512vnni::nr;
#else
inline constexpr bool has_vnni_gemm = false;
inline constexpr index_t gemm_s8_nr = 32;
#endif

// Without a dot-product instruction: weights in the f32 panel layout (k_group 1), widened to
// int32 lanes as they are loaded, multiplied and added in int32: exact, no saturating 16-bit
// pair sums (the vpmaddubsw trap), on every architecture xsimd supports.
template <class A>
struct gemm_s8_widen_shape {
    static constexpr index_t lanes = index_t(::xsimd::batch<std::int32_t, A>::size);
    static constexpr index_t nr = 2 * lanes;
#if defined(__AVX512F__) || defined(__aarch64__)
    static constexpr index_t mr = 12;
#else
    static constexpr index_t mr = 6;
#endif
    static constexpr index_t kc = 256;
};

namespace detail {

template <class A, index_t R, class X>
void micro_s8_widen(const X* x, index_t ldx, const std::int8_t* wp, index_t kc, std::int32_t* y, index_t ldy,
                    index_t cols, bool first) noexcept {
    using ib = ::xsimd::batch<std::int32_t, A>;
    constexpr index_t L = index_t(ib::size);
    ib acc0[R], acc1[R];
    SPARQ_UNROLL
    for (index_t m = 0; m < R; ++m) acc0[m] = acc1[m] = ib(0);
    for (index_t k = 0; k < kc; ++k) {
        const ib b0 = load_widen<A>(wp + k * 2 * L, A{});
        const ib b1 = load_widen<A>(wp + k * 2 * L + L, A{});
        SPARQ_UNROLL
        for (index_t m = 0; m < R; ++m) {
            const ib a = ib(std::int32_t(x[m * ldx + k]));
            acc0[m] += a * b0;
            acc1[m] += a * b1;
        }
    }
    SPARQ_UNROLL
    for (index_t m = 0; m < R; ++m) {
        std::int32_t* out = y + m * ldy;
        alignas(64) std::int32_t tmp[2 * L];
        acc0[m].store_aligned(tmp);
        acc1[m].store_aligned(tmp + L);
        for (index_t j = 0; j < cols; ++j) out[j] = first ? tmp[j] : out[j] + tmp[j];
    }
}

template <class A, class X, index_t... R>
void micro_s8_widen_rows(index_t rows, std::integer_sequence<index_t, R...>, const X* x, index_t ldx,
                         const std::int8_t* wp, index_t kc, std::int32_t* y, index_t ldy, index_t cols, bool first) noexcept {
    using fn = void (*)(const X*, index_t, const std::int8_t*, index_t, std::int32_t*, index_t, index_t, bool) noexcept;
    static constexpr fn table[] = {&micro_s8_widen<A, R + 1, X>...};
    table[rows - 1](x, ldx, wp, kc, y, ldy, cols, first);
}

}  // namespace detail

// Preconditions (checked by the public entry): w packed with nr == gemm_s8_widen_shape<A>::nr
// and k_group 1, X [M, K] and Y [M, N] with unit column strides.
template <class A, class X>  // X: int8_t or uint8_t activations
void gemm_s8_widen(const matrix_view<const X>& x, const packed_s8& w, const matrix_view<std::int32_t>& y,
                   index_t p_begin = 0, index_t p_end = -1) noexcept {
    using shape = gemm_s8_widen_shape<A>;
    constexpr index_t MR = shape::mr, NR = shape::nr, KC = shape::kc;
    if (p_end < 0) p_end = w.panels();
    const index_t M = x.extent(0), K = w.k, N = w.n;
    if (K == 0) {
        for (index_t m = 0; m < M; ++m)
            for (index_t n = p_begin * NR; n < N && n < p_end * NR; ++n) y(m, n) = 0;
        return;
    }
    detail::drive_panels<MR, NR, KC>(M, K, N, p_begin, p_end,
                                     [&](index_t k0, index_t kc, index_t p, index_t cols, index_t m0, index_t rows) {
        detail::micro_s8_widen_rows<A, X>(rows, std::make_integer_sequence<index_t, MR>{}, x.data() + m0 * x.stride(0) + k0,
                                       x.stride(0), w.panel(p) + k0 * NR, kc, y.data() + m0 * y.stride(0) + p * NR,
                                       y.stride(0), cols, k0 == 0);
    });
}

// The fused form (no [M, N] int32 result): each MR x NR tile takes the whole of K into an L1
// tile buffer, then epi(tile, ldt, m0, rows, n0, cols) turns it into the layer's outputs.
template <class A, class X, class Epi>
void gemm_s8_widen_fused(const matrix_view<const X>& x, const packed_s8& w, Epi&& epi, index_t p_begin = 0,
                         index_t p_end = -1) noexcept {
    using shape = gemm_s8_widen_shape<A>;
    constexpr index_t MR = shape::mr, NR = shape::nr;
    if (p_end < 0) p_end = w.panels();
    const index_t M = x.extent(0), N = w.n;
    alignas(64) std::int32_t tile[MR * NR];
    for (index_t p = p_begin; p < p_end; ++p) {
        const index_t cols = N - p * NR < NR ? N - p * NR : NR;
        for (index_t m0 = 0; m0 < M; m0 += MR) {
            const index_t rows = M - m0 < MR ? M - m0 : MR;
            detail::micro_s8_widen_rows<A, X>(rows, std::make_integer_sequence<index_t, MR>{}, x.data() + m0 * x.stride(0),
                                              x.stride(0), w.panel(p), w.k, tile, NR, NR, true);
            epi(static_cast<const std::int32_t*>(tile), NR, m0, rows, p * NR, cols);
        }
    }
}

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
namespace detail {
template <index_t... R>
void micro_s8_rows(index_t rows, std::integer_sequence<index_t, R...>, const std::uint8_t* a, index_t lda,
                   const std::int8_t* panel, index_t groups, std::int32_t* y, index_t ldy, index_t cols, bool first) noexcept {
    using fn = void (*)(const std::uint8_t*, index_t, const std::int8_t*, index_t, std::int32_t*, index_t, index_t, bool) noexcept;
    static constexpr fn table[] = {&avx512vnni::micro_s8<R + 1>...};
    table[rows - 1](a, lda, panel, groups, y, ldy, cols, first);
}

// Rows [m0, m0 + rows) x k [k0, k0 + kc) of X into the unsigned operand block (row r at a + r * lda):
// +128 (xor 0x80) for int8, zero past K. With AVX512-BW a row is 64-byte masked loads and whole
// stores (the callers' lda is a multiple of 64 at least kc rounded up to 64): a 16- or 32-byte
// row of a pointwise layer was a scalar byte loop, a third of its GEMM's own time.
template <class X>
void pack_activations(const matrix_view<const X>& x, index_t m0, index_t rows, index_t k0, index_t kc, index_t lda,
                      std::uint8_t* a) noexcept {
    const index_t K = x.extent(1);
    const index_t valid = K - k0 < kc ? K - k0 : kc;
    constexpr std::uint8_t flip = std::is_signed_v<X> ? 0x80u : 0x00u;
    for (index_t r = 0; r < rows; ++r) {
        const X* src = x.data() + (m0 + r) * x.stride(0) + k0;
        std::uint8_t* dst = a + r * lda;
#if defined(__AVX512BW__)
        const __m512i f = _mm512_set1_epi8(char(flip));
        for (index_t k = 0; k < kc; k += 64) {
            const index_t n = valid - k;
            const __mmask64 m = n >= 64 ? ~__mmask64(0) : n <= 0 ? __mmask64(0) : (__mmask64(1) << n) - 1;
            const __m512i v = _mm512_maskz_loadu_epi8(m, src + k);
            _mm512_storeu_si512(dst + k, _mm512_maskz_mov_epi8(m, _mm512_xor_si512(v, f)));
        }
#else
        for (index_t k = 0; k < valid; ++k) dst[k] = std::uint8_t(std::uint8_t(src[k]) ^ flip);
        for (index_t k = valid; k < kc; ++k) dst[k] = 0;
#endif
    }
}
}  // namespace detail

// Preconditions (checked by the public entry): w packed with nr == gemm_s8_nr, X [M, K] with
// unit column stride, Y [M, N] with unit column stride, K within max_s8_reduction / 2.
// Panels [p_begin, p_end) only (threads split the panels); all of them by default.
// X = int8_t: activations shifted by +128 and corrected; X = uint8_t: vpdpbusd's own operand.
template <class X>
void gemm_s8(const matrix_view<const X>& x, const packed_s8& w, const matrix_view<std::int32_t>& y,
                    index_t p_begin = 0, index_t p_end = -1) noexcept {
    if (p_end < 0) p_end = w.panels();
    constexpr index_t MR = avx512vnni::mr, NR = avx512vnni::nr, KC = 512;  // KC: bytes of k per row block
    const index_t M = x.extent(0), K = w.k, N = w.n;
    alignas(64) std::uint8_t a[MR * KC];
    // Few rows (a matvec, a small batch): the same buffer holds longer rows, so each weight panel
    // streams front to back over more of K at once (sequential reads for the prefetchers).
    const index_t lda = M < MR ? (MR * KC / M) / 64 * 64 : KC;
    for (index_t k0 = 0; k0 < w.k_padded; k0 += lda) {
        const index_t kc = w.k_padded - k0 < lda ? w.k_padded - k0 : lda;  // a multiple of 4
        for (index_t m0 = 0; m0 < M; m0 += MR) {
            const index_t rows = M - m0 < MR ? M - m0 : MR;
            detail::pack_activations(x, m0, rows, k0, kc, lda, a);
            for (index_t p = p_begin; p < p_end; ++p) {
                const index_t cols = N - p * NR < NR ? N - p * NR : NR;
                const std::int8_t* panel = w.panel(p) + k0 * NR;
                std::int32_t* ys = y.data() + m0 * y.stride(0) + p * NR;
                if (rows == MR)
                    avx512vnni::micro_s8<MR>(a, lda, panel, kc / 4, ys, y.stride(0), cols, k0 == 0);
                else
                    detail::micro_s8_rows(rows, std::make_integer_sequence<index_t, MR>{}, a, lda, panel, kc / 4, ys,
                                          y.stride(0), cols, k0 == 0);
            }
        }
    }
    // Take back the +128 shift: y -= 128 * sum_k w[n][k] (in uint32: wraps like the hardware).
    const index_t n_begin = p_begin * NR, n_end = p_end * NR < N ? p_end * NR : N;
    const std::int32_t* sums = w.col_sums.data();
    const std::uint32_t shift = std::is_signed_v<X> ? 128u : 0u;
    for (index_t m = 0; m < M; ++m) {
        std::int32_t* row = y.data() + m * y.stride(0);
        for (index_t n = n_begin; n < n_end; ++n)
            row[n] = K == 0 ? 0 : std::int32_t(std::uint32_t(row[n]) - shift * std::uint32_t(sums[n]));
    }
}

// The fused form (no [M, N] int32 result): per block of MR rows, the activations are packed
// over K (at most 48 KB on the stack; longer rows are packed chunk by chunk, again for each
// panel), each tile's sums collect over all of K in an L1 tile buffer, the +128 shift is taken
// back there, and epi(tile, ldt, m0, rows, n0, cols) turns the tile into the layer's outputs.
template <class X, class Epi>
void gemm_s8_fused(const matrix_view<const X>& x, const packed_s8& w, Epi&& epi, index_t p_begin = 0,
                   index_t p_end = -1) noexcept {
    if (p_end < 0) p_end = w.panels();
    constexpr index_t MR = avx512vnni::mr, NR = avx512vnni::nr, capacity = MR * 4096;
    const index_t M = x.extent(0), K = w.k, N = w.n;
    alignas(64) std::uint8_t a[capacity];
    alignas(64) std::int32_t tile[MR * NR];
    const std::uint32_t shift = std::is_signed_v<X> ? 128u : 0u;
    for (index_t m0 = 0; m0 < M; m0 += MR) {
        const index_t rows = M - m0 < MR ? M - m0 : MR;
        const index_t whole = (w.k_padded + 63) / 64 * 64, fits = capacity / rows / 64 * 64;
        const index_t lda = whole < fits ? whole : fits;  // a multiple of 4
        const index_t chunks = w.k_padded == 0 ? 0 : (w.k_padded + lda - 1) / lda;
        if (chunks == 1) detail::pack_activations(x, m0, rows, 0, w.k_padded, lda, a);
        for (index_t p = p_begin; p < p_end; ++p) {
            const index_t cols = N - p * NR < NR ? N - p * NR : NR;
            if (chunks == 0)
                for (index_t i = 0; i < MR * NR; ++i) tile[i] = 0;
            for (index_t c = 0; c < chunks; ++c) {
                const index_t k0 = c * lda, kc = w.k_padded - k0 < lda ? w.k_padded - k0 : lda;
                if (chunks > 1) detail::pack_activations(x, m0, rows, k0, kc, lda, a);
                detail::micro_s8_rows(rows, std::make_integer_sequence<index_t, MR>{}, a, lda, w.panel(p) + k0 * NR, kc / 4,
                                      tile, NR, NR, c == 0);
            }
            if (shift != 0 && K > 0) {  // y -= 128 * sum_k w[n][k], wrapping like the hardware
                alignas(64) std::uint32_t corr[NR] = {};
                for (index_t j = 0; j < cols; ++j) corr[j] = shift * std::uint32_t(w.col_sums(p * NR + j));
                for (index_t r = 0; r < rows; ++r)
                    for (index_t j = 0; j < NR; ++j) tile[r * NR + j] = std::int32_t(std::uint32_t(tile[r * NR + j]) - corr[j]);
            }
            epi(static_cast<const std::int32_t*>(tile), NR, m0, rows, p * NR, cols);
        }
    }
}
#endif

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
