// int32 <-> 8-bit codes with AVX-512F: vpmovdb truncates 16 lanes (the values are already
// clamped into the code range), vpmovsxbd / vpmovzxbd widen them back.
#pragma once

#include "sparq/core/config.hpp"

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "sparq/kernels/xsimd/arch/generic.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd::detail {

template <class Q, class A>
void store_narrow(::xsimd::batch<std::int32_t, A> v, Q* out, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(v));
}

template <class A, class Q>
::xsimd::batch<std::int32_t, A> load_widen(const Q* in, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
    if constexpr (std::is_signed_v<Q>) return _mm512_cvtepi8_epi32(bytes);
    else return _mm512_cvtepu8_epi32(bytes);
}

}  // namespace sparq::kernels::xsimd::detail

SPARQ_INTRINSICS_END
#endif
