// quantize / dequantize / fake-quant over contiguous rows with xsimd, written once over
// batch<float, Arch>; the 8-bit stores and loads come from the per-arch headers. Every result
// is bit-identical to kernels/scalar/quantize.hpp (tested on ties, extremes, NaN and Inf).
#pragma once

#include <cstdint>
#include "sparq/core/xsimd.hpp"

#include "sparq/core/config.hpp"

#include "sparq/kernels/scalar/quantize.hpp"
#include "sparq/kernels/xsimd/arch/arm_neon.hpp"
#include "sparq/kernels/xsimd/arch/generic.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

namespace detail {

// Rounding as quant::round_integral. nearbyint is explicit round-to-nearest-even on AVX,
// AVX-512 and NEON, whatever MXCSR says. Half away from zero is floor(|t|) plus one when the
// (exact) fraction is >= 0.5, with t's sign: exact for every float, unlike floor(|t| + 0.5).
template <class A>
::xsimd::batch<float, A> round(::xsimd::batch<float, A> t, quant::rounding mode) noexcept {
    using fb = ::xsimd::batch<float, A>;
    if (mode == quant::rounding::half_to_even) return ::xsimd::nearbyint(t);
    const fb a = ::xsimd::abs(t);
    const fb f = ::xsimd::floor(a);
    const fb r = ::xsimd::select(a - f >= fb(0.5f), f + fb(1.0f), f);
    return ::xsimd::copysign(r, t);
}

template <class A>
::xsimd::batch<float, A> to_grid(::xsimd::batch<float, A> x, const scalar::quant_step& s) noexcept {
    using fb = ::xsimd::batch<float, A>;
    return s.scale_by == quant::scaling::divide ? divide<A>(x, fb(s.scale), A{}) : x * fb(s.inv_scale);
}

// round(x * inv) + zero_point, clamped, with NaN -> zero_point: as quantize_value, one batch.
template <class A>
::xsimd::batch<float, A> code(::xsimd::batch<float, A> x, const scalar::quant_step& s) noexcept {
    using fb = ::xsimd::batch<float, A>;
    fb v = round<A>(to_grid<A>(x, s), s.round) + fb(float(s.zero_point));
    v = ::xsimd::min(::xsimd::max(v, fb(float(s.qmin))), fb(float(s.qmax)));
    // isnan, not x != x: xsimd 8.1 compares != with the ordered predicate on AVX-512 (NEQ_OQ),
    // which is false for NaN.
    return ::xsimd::select(::xsimd::isnan(x), fb(float(s.zero_point)), v);
}

}  // namespace detail

template <class A, class Q>
void quantize_contiguous(const float* x, index_t n, const scalar::quant_step& s, Q* q) noexcept {
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t lanes = index_t(fb::size);
    const index_t whole = n - n % lanes;
    index_t i = 0;
    for (; i < whole; i += lanes) {
        const fb v = detail::code<A>(fb::load_unaligned(x + i), s);
        detail::store_narrow<Q>(::xsimd::batch_cast<std::int32_t>(v), q + i, A{});
    }
    for (; i < n; ++i) q[i] = static_cast<Q>(scalar::quantize_value(x[i], s));
}

template <class A, class Q>
void dequantize_contiguous(const Q* q, index_t n, const scalar::quant_step& s, float* x) noexcept {
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t lanes = index_t(fb::size);
    const index_t whole = n - n % lanes;
    const fb zp(float(s.zero_point)), scale(s.scale);
    index_t i = 0;
    for (; i < whole; i += lanes) {
        const fb codes = ::xsimd::batch_cast<float>(detail::load_widen<A>(q + i, A{}));
        ((codes - zp) * scale).store_unaligned(x + i);
    }
    for (; i < n; ++i) x[i] = scalar::dequantize_value(std::int32_t(q[i]), s);
}

template <class A>
void fake_quant_contiguous(const float* x, index_t n, const scalar::quant_step& s, float* y, std::uint8_t* mask) noexcept {
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t lanes = index_t(fb::size);
    const index_t whole = n - n % lanes;
    const fb zp(float(s.zero_point)), scale(s.scale), lo(float(s.qmin)), hi(float(s.qmax));
    index_t i = 0;
    for (; i < whole; i += lanes) {
        const fb v = fb::load_unaligned(x + i);
        fb u = detail::round<A>(detail::to_grid<A>(v, s), s.round) + zp;
        const auto nan = ::xsimd::isnan(v);
        u = ::xsimd::select(nan, zp, u);
        (( ::xsimd::min(::xsimd::max(u, lo), hi) - zp) * scale).store_unaligned(y + i);
        if (mask) {
            const fb inside = ::xsimd::select((u >= lo) & (u <= hi) & !nan, fb(1.0f), fb(0.0f));
            detail::store_narrow<std::uint8_t>(::xsimd::batch_cast<std::int32_t>(inside), mask + i, A{});
        }
    }
    for (; i < n; ++i) {
        scalar::fake_quant_row(vector_view<const float>(x + i, {1}), s, vector_view<float>(y + i, {1}),
                               mask ? vector_view<std::uint8_t>(mask + i, {1}) : vector_view<std::uint8_t>());
    }
}

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
