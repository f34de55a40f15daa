// Loading float16 / bfloat16 weights as a float batch: F16C's vcvtph2ps, AArch64's FCVTL, a
// shift for bfloat16 (its bits are a float's top half), and a portable fallback. xsimd 8.1 has
// no half-precision batch, so this is the one place that widens them.
#pragma once

#include "sparq/core/config.hpp"

#include <cstdint>
#include "sparq/core/xsimd.hpp"

#include "sparq/core/bfloat16.hpp"
#include "sparq/core/float16.hpp"

#if defined(__AVX512F__) || defined(__F16C__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd::detail {

template <class A>
::xsimd::batch<float, A> load_widen_f32(const float* p, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    return ::xsimd::batch<float, A>::load_aligned(p);
}

template <class A, class H>
::xsimd::batch<float, A> load_widen_f32(const H* p, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    alignas(A::alignment()) float tmp[::xsimd::batch<float, A>::size];
    for (std::size_t i = 0; i < ::xsimd::batch<float, A>::size; ++i) tmp[i] = static_cast<float>(p[i]);
    return ::xsimd::batch<float, A>::load_aligned(tmp);
}

#if defined(__AVX512F__)
template <class A>
::xsimd::batch<float, A> load_widen_f32(const float16* p, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
}
template <class A>
::xsimd::batch<float, A> load_widen_f32(const bfloat16* p, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}
#endif

#if defined(__AVX2__) && defined(__F16C__)
template <class A>
::xsimd::batch<float, A> load_widen_f32(const float16* p, ::xsimd::kernel::requires_arch<::xsimd::avx2>) noexcept {
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
}
template <class A>
::xsimd::batch<float, A> load_widen_f32(const bfloat16* p, ::xsimd::kernel::requires_arch<::xsimd::avx2>) noexcept {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}
#endif

#if defined(__aarch64__)
template <class A>
::xsimd::batch<float, A> load_widen_f32(const float16* p, ::xsimd::kernel::requires_arch<::xsimd::neon64>) noexcept {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p))));
}
template <class A>
::xsimd::batch<float, A> load_widen_f32(const bfloat16* p, ::xsimd::kernel::requires_arch<::xsimd::neon64>) noexcept {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p)), 16));
}
#endif

}  // namespace sparq::kernels::xsimd::detail

SPARQ_INTRINSICS_END
