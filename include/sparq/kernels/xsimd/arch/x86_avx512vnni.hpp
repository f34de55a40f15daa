// The int8 GEMM micro-kernel for AVX512-VNNI: vpdpbusd multiplies 4 unsigned activation bytes
// by 4 signed weight bytes and adds the four products to an int32 lane, 64 MACs per
// instruction. An R x 32 block of int32 results stays in 2R registers.
#pragma once

#include "sparq/core/config.hpp"

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include <cstdint>

#include "sparq/core/shape.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd::avx512vnni {

inline constexpr index_t nr = 32;  // two zmm of int32 columns
inline constexpr index_t mr = 12;  // 24 accumulators + 2 weight registers + 1 broadcast <= 32

// acc[R, 32] (+)= A[R, 4 * groups] * panel. A is packed: row r's bytes at a + r * lda, unsigned;
// the panel holds, per group g, 32 columns x 4 bytes. `first` overwrites y, else adds to it.
template <index_t R>
void micro_s8(const std::uint8_t* a, index_t lda, const std::int8_t* panel, index_t groups, std::int32_t* y,
              index_t ldy, index_t cols, bool first) noexcept {
    __m512i acc0[R], acc1[R];
    SPARQ_UNROLL
    for (index_t r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm512_setzero_si512();
    for (index_t g = 0; g < groups; ++g) {
        const __m512i b0 = _mm512_load_si512(panel + g * 128);
        const __m512i b1 = _mm512_load_si512(panel + g * 128 + 64);
        SPARQ_UNROLL
        for (index_t r = 0; r < R; ++r) {
            // vpbroadcastd from memory: one load-port uop, no trip through a general register
            const __m512i x = _mm512_broadcastd_epi32(_mm_loadu_si32(a + r * lda + 4 * g));
            acc0[r] = _mm512_dpbusd_epi32(acc0[r], x, b0);
            acc1[r] = _mm512_dpbusd_epi32(acc1[r], x, b1);
        }
    }
    SPARQ_UNROLL
    for (index_t r = 0; r < R; ++r) {
        std::int32_t* out = y + r * ldy;
        if (cols == nr) {
            if (!first) {
                acc0[r] = _mm512_add_epi32(acc0[r], _mm512_loadu_si512(out));
                acc1[r] = _mm512_add_epi32(acc1[r], _mm512_loadu_si512(out + 16));
            }
            _mm512_storeu_si512(out, acc0[r]);
            _mm512_storeu_si512(out + 16, acc1[r]);
        } else {
            alignas(64) std::int32_t tmp[nr];
            _mm512_store_si512(tmp, acc0[r]);
            _mm512_store_si512(tmp + 16, acc1[r]);
            for (index_t j = 0; j < cols; ++j) out[j] = first ? tmp[j] : out[j] + tmp[j];
        }
    }
}

}  // namespace sparq::kernels::xsimd::avx512vnni

SPARQ_INTRINSICS_END
#endif
