// float <-> float16 with F16C (vcvtps2ph / vcvtph2ps), 8 lanes at a time. Only included when
// the target flags enable F16C; tails go through the scalar reference, which gives the same bits.
#pragma once

#include "sparq/core/config.hpp"

#if defined(SPARQ_ARCH_F16C)
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "sparq/core/float16.hpp"

namespace sparq::arch::f16c {

inline void f32_to_f16(const float* src, std::uint16_t* dst, std::size_t n) noexcept {
    const std::size_t whole = n - n % 8;  // a bound GCC can see: the tail starts at or below n
    std::size_t i = 0;
    for (; i < whole; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
    }
    for (; i < n; ++i) dst[i] = detail::f32_bits_to_f16_bits(detail::float_bits(src[i]));
}

inline void f16_to_f32(const std::uint16_t* src, float* dst, std::size_t n) noexcept {
    const std::size_t whole = n - n % 8;  // a bound GCC can see: the tail starts at or below n
    std::size_t i = 0;
    for (; i < whole; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    for (; i < n; ++i) dst[i] = detail::bits_float(detail::f16_bits_to_f32_bits(src[i]));
}

}  // namespace sparq::arch::f16c
#endif
