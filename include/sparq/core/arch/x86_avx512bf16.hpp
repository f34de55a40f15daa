// float -> bfloat16 with AVX512-BF16 (vcvtneps2bf16), 16 lanes at a time.
// The instruction treats subnormal inputs as zero (checked here over all 2^32 inputs, see
// tests/core/test_half_exhaustive.cpp); those lanes are redone with the integer
// round-to-nearest-even so the result is bit-identical to the scalar reference.
#pragma once

#include "sparq/core/config.hpp"

#if defined(SPARQ_ARCH_AVX512BF16)
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "sparq/core/bfloat16.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::arch::avx512bf16 {

inline __m256i f32_to_bf16_16(__m512 x) noexcept {
    const __m256i hw = (__m256i)_mm512_cvtneps_pbh(x);  // same register, another vector type
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i abs = _mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF));
    const __mmask16 subnormal = _mm512_cmplt_epu32_mask(_mm512_sub_epi32(abs, _mm512_set1_epi32(1)),
                                                        _mm512_set1_epi32(0x007FFFFF));
    if (SPARQ_LIKELY(subnormal == 0)) return hw;
    // The zero-masking forms: GCC 12 warns (maybe-uninitialized) on the plain ones' undefined
    // pass-through operand once inlined.
    const __m512i lsb = _mm512_and_si512(_mm512_maskz_srli_epi32(0xFFFF, bits, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_maskz_srli_epi32(
        0xFFFF, _mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7FFF)), lsb), 16);
    return _mm256_mask_blend_epi16(subnormal, hw, _mm512_maskz_cvtepi32_epi16(0xFFFF, rounded));
}

inline void f32_to_bf16(const float* src, std::uint16_t* dst, std::size_t n) noexcept {
    const std::size_t whole = n - n % 16;  // a bound GCC can see: the tail starts at or below n
    std::size_t i = 0;
    for (; i < whole; i += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), f32_to_bf16_16(_mm512_loadu_ps(src + i)));
    for (; i < n; ++i) dst[i] = detail::f32_bits_to_bf16_bits(detail::float_bits(src[i]));
}

}  // namespace sparq::arch::avx512bf16

SPARQ_INTRINSICS_END
#endif
