// int32 <-> 8-bit codes with AVX2: pack 8 lanes through int16 (the values are already clamped
// into the code range, so the saturating packs never saturate), widen with vpmovsxbd / vpmovzxbd.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>
#include "sparq/core/xsimd.hpp"

#include "sparq/kernels/xsimd/arch/generic.hpp"

#if defined(__AVX2__)
#include <immintrin.h>

namespace sparq::kernels::xsimd::detail {

template <class Q, class A>
void store_narrow(::xsimd::batch<std::int32_t, A> v, Q* out, ::xsimd::kernel::requires_arch<::xsimd::avx2>) noexcept {
    const __m256i x = v;
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
    const __m128i bytes = std::is_signed_v<Q> ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
}

template <class A, class Q>
::xsimd::batch<std::int32_t, A> load_widen(const Q* in, ::xsimd::kernel::requires_arch<::xsimd::avx2>) noexcept {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in));
    if constexpr (std::is_signed_v<Q>) return _mm256_cvtepi8_epi32(bytes);
    else return _mm256_cvtepu8_epi32(bytes);
}

// 2 * 4 int4 codes (two per byte, the low nibble first) as 8 sign-extended int32 lanes in k order.
template <class A>
::xsimd::batch<std::int32_t, A> load_nibbles(const std::uint8_t* in, ::xsimd::kernel::requires_arch<::xsimd::avx2>) noexcept {
    std::int32_t four;
    std::memcpy(&four, in, 4);
    const __m128i bytes = _mm_cvtsi32_si128(four);
    const __m256i twice = _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));  // b0 b0 b1 b1 ...
    const __m256i nibble =
        _mm256_and_si256(_mm256_srlv_epi32(twice, _mm256_set_epi32(4, 0, 4, 0, 4, 0, 4, 0)), _mm256_set1_epi32(0xF));
    const __m256i eight = _mm256_set1_epi32(8);
    return _mm256_sub_epi32(_mm256_xor_si256(nibble, eight), eight);
}

}  // namespace sparq::kernels::xsimd::detail
#endif
