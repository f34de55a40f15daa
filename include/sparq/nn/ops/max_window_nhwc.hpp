// max_window_nhwc: the max pooling of one window over channels-last pixels, a whole vector of
// channels per tap (a masked load, a max), for ops::pool_nhwc on AVX-512. The generic loop
// (ops/channels_last.hpp, max_window) keeps a block's maxima in a stack array with a run-time
// count; at the digits CNN's 8 and 16 channels that was a few bytes of work for a dozen
// instructions of loop (~15 % of the int8 model's time). Bit for bit the generic loop: int8
// maxima are exact; float keeps max_step's rule (v replaces the best when v > best or v is
// NaN, so NaN wins and a later NaN replaces an earlier one; -0 and +0 stay in tap order); an
// empty window gives lowest(). Nothing past a pixel's channels is read or written.
#pragma once

#include <cstdint>
#include <limits>

#include "sparq/core/config.hpp"
#include "sparq/core/shape.hpp"

#if defined(__AVX512BW__)
#define SPARQ_HAS_MAX_WINDOW_NHWC 1
#include <immintrin.h>
#endif

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::nn::ops::detail {
#if defined(SPARQ_HAS_MAX_WINDOW_NHWC)
// y[c] = max over the window's taps (rows x cols pixels from x0, pixel rows row_stride values
// apart, pixels `channels` values apart) of x[c], for c in [0, channels).
SPARQ_ALWAYS_INLINE void max_window_vector(const std::int8_t* x0, index_t rows, index_t cols, index_t row_stride,
                                           index_t channels, std::int8_t* y) noexcept {
    for (index_t c0 = 0; c0 < channels; c0 += 64) {
        const index_t n = channels - c0 < 64 ? channels - c0 : 64;
        const __mmask64 m = n == 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1;
        __m512i best = _mm512_set1_epi8(std::numeric_limits<std::int8_t>::lowest());
        for (index_t r = 0; r < rows; ++r) {
            const std::int8_t* xr = x0 + r * row_stride + c0;
            for (index_t k = 0; k < cols; ++k)
                best = _mm512_max_epi8(best, _mm512_maskz_loadu_epi8(m, xr + k * channels));
        }
        _mm512_mask_storeu_epi8(y + c0, m, best);
    }
}

#if defined(__AVX512VBMI__)
#define SPARQ_HAS_MAX_POOL_ROW_PAIRS 1
// Whether max_pool_row_pairs runs an int8 max pooling: windows 2 wide at stride 2 from column 0,
// each wholly inside the input along W (no left padding, 2 OW <= W), and 2 C dividing 64 (C 1,
// 2, 4, 8, 16 or 32), so a vector holds whole pairs of pixels.
inline bool max_pool_row_pairs_apply(index_t channels, index_t kw, index_t stride_w, index_t pad_left, index_t iw,
                                     index_t ow) noexcept {
    return kw == 2 && stride_w == 2 && pad_left == 0 && 2 * ow <= iw && channels >= 1 && channels <= 32 &&
           64 % (2 * channels) == 0;
}

// The byte permutations of max_pool_row_pairs: byte j of the output (pixel j / C, channel j % C)
// from the even (first) or the odd (second) pixel of its pair; bytes 32 and up are not stored.
struct row_pair_index {
    __m512i even, odd;
};

inline row_pair_index make_row_pair_index(index_t channels) noexcept {
    // C a power of two: the even pixel's byte is j + (j & ~(C - 1)) (pixel j / C doubled, channel
    // j % C kept), the odd's C more; vpermb reads the low 6 bits. A few vector instructions: this
    // runs on every call, batches of one image too.
    const __m512i iota = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43,
                                         42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23,
                                         22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i even = _mm512_add_epi8(iota, _mm512_and_si512(iota, _mm512_set1_epi8(char(~(channels - 1)))));
    return {even, _mm512_add_epi8(even, _mm512_set1_epi8(char(channels)))};
}

// One output row of such a pooling: the max over input rows [0, rows) (x, row_stride bytes apart;
// none: -128, lowest(), as the generic loop) of 64 bytes at a time, then of each pair of pixels,
// by two byte permutations: 32 output bytes a vector, not one window at a time.
SPARQ_ALWAYS_INLINE void max_pool_row_pairs(const std::int8_t* x, index_t rows, index_t row_stride, index_t channels,
                                            index_t ow_n, const row_pair_index& ix, std::int8_t* y) noexcept {
    const index_t in_bytes = 2 * ow_n * channels;  // a multiple of 2 C, as 64 is: no pair is split
    for (index_t b = 0; b < in_bytes; b += 64) {
        const index_t n = in_bytes - b < 64 ? in_bytes - b : 64;
        const __mmask64 m = n == 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1;
        __m512i best = _mm512_set1_epi8(std::numeric_limits<std::int8_t>::lowest());
        for (index_t r = 0; r < rows; ++r) best = _mm512_max_epi8(best, _mm512_maskz_loadu_epi8(m, x + r * row_stride + b));
        const __m512i pairs =
            _mm512_max_epi8(_mm512_permutexvar_epi8(ix.even, best), _mm512_permutexvar_epi8(ix.odd, best));
        _mm512_mask_storeu_epi8(y + b / 2, (__mmask64(1) << (n / 2)) - 1, pairs);
    }
}
#endif

SPARQ_ALWAYS_INLINE void max_window_vector(const float* x0, index_t rows, index_t cols, index_t row_stride,
                                           index_t channels, float* y) noexcept {
    for (index_t c0 = 0; c0 < channels; c0 += 16) {
        const index_t n = channels - c0 < 16 ? channels - c0 : 16;
        const __mmask16 m = __mmask16(n == 16 ? 0xFFFFu : (1u << n) - 1);
        __m512 best = _mm512_set1_ps(std::numeric_limits<float>::lowest());
        for (index_t r = 0; r < rows; ++r) {
            const float* xr = x0 + r * row_stride + c0;
            for (index_t k = 0; k < cols; ++k) {
                const __m512 v = _mm512_maskz_loadu_ps(m, xr + k * channels);
                const __mmask16 take =
                    _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
                best = _mm512_mask_mov_ps(best, take, v);
            }
        }
        _mm512_mask_storeu_ps(y + c0, m, best);
    }
}
#endif

}  // namespace sparq::nn::ops::detail

SPARQ_INTRINSICS_END
