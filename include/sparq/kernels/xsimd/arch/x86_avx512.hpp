// int32 <-> 8-bit codes with AVX-512F: vpmovdb truncates 16 lanes (the values are already
// clamped into the code range), vpmovsxbd / vpmovzxbd widen them back; int4 nibbles unpacked
// to int32 lanes; and the integer requantization of 16 int32 sums (quant/requantize.hpp), bit
// for bit, with 64-bit products from vpmuldq and per-lane shifts (vpsravd, vpsravq).
#pragma once

#include "sparq/core/config.hpp"

#include <cstdint>
#include <type_traits>
#include "sparq/core/xsimd.hpp"

#include "sparq/kernels/xsimd/arch/generic.hpp"
#include "sparq/quant/requantize.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd::detail {

template <class A>
::xsimd::batch<float, A> fmadd(::xsimd::batch<float, A> a, ::xsimd::batch<float, A> b, ::xsimd::batch<float, A> c,
                               ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    return _mm512_fmadd_ps(a, b, c);
}

// 1 / d for d in [1, 1e38]: vrcp14ps (relative error < 2^-14) and one Newton step (below 2^-27),
// a third of vdivps's cost on 16 lanes.
template <class A>
::xsimd::batch<float, A> reciprocal_logistic(::xsimd::batch<float, A> d, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    const __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}

template <class Q, class A>
void store_narrow(::xsimd::batch<std::int32_t, A> v, Q* out, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(v));
}

// (masked: a partial batch touches no byte past its n lanes)
template <class A>
::xsimd::batch<std::int32_t, A> load_partial(const std::int32_t* in, std::size_t n, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    return _mm512_maskz_loadu_epi32(__mmask16((1u << n) - 1), in);
}

template <class Q, class A>
void store_narrow_partial(::xsimd::batch<std::int32_t, A> v, Q* out, std::size_t n, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    _mm512_mask_cvtepi32_storeu_epi8(out, __mmask16((1u << n) - 1), v);
}

template <class A, class Q>
::xsimd::batch<std::int32_t, A> load_widen(const Q* in, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
    if constexpr (std::is_signed_v<Q>) return _mm512_cvtepi8_epi32(bytes);
    else return _mm512_cvtepu8_epi32(bytes);
}

// 2 * 8 int4 codes (two per byte, the low nibble first) as 16 sign-extended int32 lanes in k order.
template <class A>
::xsimd::batch<std::int32_t, A> load_nibbles(const std::uint8_t* in, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in));
    const __m512i twice = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));  // b0 b0 b1 b1 ...
    const __m512i shifts = _mm512_set_epi32(4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0);
    const __m512i nibble = _mm512_and_si512(_mm512_srlv_epi32(twice, shifts), _mm512_set1_epi32(0xF));
    const __m512i eight = _mm512_set1_epi32(8);
    return _mm512_sub_epi32(_mm512_xor_si512(nibble, eight), eight);
}

// quant::requantize(saturate(acc + offset), {fixed, shift}, zero_point, qmin, qmax, r) on 16 lanes.
// Double rounding: gemmlowp's SaturatingRoundingDoublingHighMul is floor((a b + 2^30) / 2^31)
// for every a, b with b >= 0 (its negative nudge 1 - 2^30 with truncating division is the same
// floor), and that quotient fits int32: bits 31..62 of the 64-bit sum, taken with logical shifts.
template <class A>
SPARQ_ALWAYS_INLINE ::xsimd::batch<std::int32_t, A> requantize(::xsimd::batch<std::int32_t, A> acc_b, ::xsimd::batch<std::int32_t, A> offset_b,
                                           ::xsimd::batch<std::int32_t, A> fixed_b, ::xsimd::batch<std::int32_t, A> shift_b,
                                           std::int32_t zero_point, std::int32_t qmin, std::int32_t qmax,
                                           quant::requant_rounding r, ::xsimd::kernel::requires_arch<::xsimd::avx512f>) noexcept {
    const __m512i acc = acc_b, offset = offset_b, fixed = fixed_b, shift = shift_b;
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    const __m512i max32 = _mm512_set1_epi32(INT32_MAX), min32 = _mm512_set1_epi32(INT32_MIN);
    // acc + offset, saturated: it overflowed where both operands' signs differ from the sum's.
    __m512i x = _mm512_add_epi32(acc, offset);
    const __mmask16 overflow =
        _mm512_cmplt_epi32_mask(_mm512_and_si512(_mm512_xor_si512(acc, x), _mm512_xor_si512(offset, x)), zero);
    x = _mm512_mask_mov_epi32(x, overflow, _mm512_xor_si512(max32, _mm512_srai_epi32(acc, 31)));
    if (r == quant::requant_rounding::float_scale) {
        // float(x) * (float(fixed) * 2^(shift - 31)), clamped, rounded half to even (vcvtps2dq
        // under the default rounding mode), + zero point: quant::requantize's float_scale
        const __m512 m = _mm512_scalef_ps(_mm512_cvtepi32_ps(fixed), _mm512_cvtepi32_ps(_mm512_sub_epi32(shift, _mm512_set1_epi32(31))));
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(x), m);
        f = _mm512_min_ps(_mm512_max_ps(f, _mm512_set1_ps(float(std::int64_t(qmin) - zero_point))), _mm512_set1_ps(float(std::int64_t(qmax) - zero_point)));
        return _mm512_add_epi32(_mm512_cvtps_epi32(f), _mm512_set1_epi32(zero_point));
    }
    const __m512i odd_half = _mm512_set1_epi64(0xFFFFFFFF00000000LL);
    if (r == quant::requant_rounding::single_rounding) {
        // (x * fixed + 2^(s - 1)) >> s, s = 31 - shift in [1, 62], then + zero point and clamped, in 64 bits.
        const __m512i total = _mm512_sub_epi32(_mm512_set1_epi32(31), shift);
        const __m512i lo = _mm512_set1_epi64(std::int64_t(qmin) - zero_point), hi = _mm512_set1_epi64(std::int64_t(qmax) - zero_point);
        const __m512i one64 = _mm512_set1_epi64(1);
        const auto lane = [&](__m512i a, __m512i b, __m512i s) {
            const __m512i prod = _mm512_mul_epi32(a, b);
            const __m512i round = _mm512_sllv_epi64(one64, _mm512_sub_epi64(s, one64));
            const __m512i v = _mm512_srav_epi64(_mm512_add_epi64(prod, round), s);
            return _mm512_min_epi64(_mm512_max_epi64(v, lo), hi);
        };
        const __m512i even = lane(x, fixed, _mm512_andnot_si512(odd_half, total));
        const __m512i odd = lane(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(fixed, 32), _mm512_srli_epi64(total, 32));
        const __m512i v = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
        return _mm512_add_epi32(v, _mm512_set1_epi32(zero_point));
    }
    // Double rounding. x * 2^left, saturated (gemmlowp's SaturatingRoundingMultiplyByPOT).
    const __m512i left = _mm512_max_epi32(shift, zero), right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    const __mmask16 above = _mm512_cmpgt_epi32_mask(x, _mm512_srav_epi32(max32, left));
    const __mmask16 below = _mm512_cmplt_epi32_mask(x, _mm512_srav_epi32(min32, left));
    x = _mm512_sllv_epi32(x, left);
    x = _mm512_mask_mov_epi32(_mm512_mask_mov_epi32(x, above, max32), below, min32);
    // high multiply: floor((x * fixed + 2^30) / 2^31); even lanes end in the low half of each
    // 64-bit lane (>> 31), odd ones in the high half (<< 1)
    const __m512i nudge = _mm512_set1_epi64(std::int64_t(1) << 30);
    const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, fixed), nudge), 31);
    const __m512i odd = _mm512_slli_epi64(
        _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(fixed, 32)), nudge), 1);
    const __m512i high = _mm512_mask_blend_epi32(0xAAAA, even, odd);
    // rounding divide by 2^right, ties away from zero (gemmlowp's RoundingDivideByPOT)
    const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
    const __m512i remainder = _mm512_and_si512(high, mask);
    const __m512i threshold = _mm512_add_epi32(_mm512_srai_epi32(mask, 1), _mm512_srli_epi32(high, 31));
    __m512i v = _mm512_srav_epi32(high, right);
    v = _mm512_mask_add_epi32(v, _mm512_cmpgt_epi32_mask(remainder, threshold), v, one);
    // + zero point, clamped: clamp first (against qmin - zp, qmax - zp), so nothing wraps
    v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(qmin - zero_point)), _mm512_set1_epi32(qmax - zero_point));
    return _mm512_add_epi32(v, _mm512_set1_epi32(zero_point));
}

}  // namespace sparq::kernels::xsimd::detail

SPARQ_INTRINSICS_END
#endif
