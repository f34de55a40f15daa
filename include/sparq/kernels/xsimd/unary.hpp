// The transcendental elementwise ops (sigmoid, SiLU, tanh, exp, erf, GELU) over batches: xsimd's
// vector exp / tanh / erf instead of libm's scalar calls (SiLU's expf was half of efficientnet's
// time). The tail runs through the same vector code on a padded batch, so every element gets
// the same function wherever it lies in the array (a channels-last model and its NCHW self give
// the same bits).
#pragma once

#include "sparq/core/xsimd.hpp"

#include <cstdint>

#include "sparq/core/config.hpp"
#include "sparq/core/shape.hpp"
#include "sparq/kernels/xsimd/arch/generic.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2.hpp"
#include "sparq/kernels/xsimd/arch/arm_neon.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

template <class A, class F>
void map_batches(const float* x, float* y, index_t n, F f) noexcept {
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t L = index_t(fb::size);
    index_t i = 0;
    for (; i + L <= n; i += L) f(fb::load_unaligned(x + i)).store_unaligned(y + i);
    if (i < n) {
        alignas(64) float tmp[L] = {};
        for (index_t j = i; j < n; ++j) tmp[j - i] = x[j];
        f(fb::load_aligned(tmp)).store_aligned(tmp);
        for (index_t j = i; j < n; ++j) y[j] = tmp[j - i];
    }
}

// The functions, as the scalar ones in nn/ops/elementwise.hpp write them.
template <class A>
struct unary_batches {
    using fb = ::xsimd::batch<float, A>;
    using ib = ::xsimd::batch<std::int32_t, A>;
    // e^v for the logistic functions: 2^(v log2 e) = 2^n 2^f, n = round(v log2 e), |f| <= 1/2,
    // 2^f = e^(f ln 2) by its Taylor series to degree 6 (|f ln 2| <= 0.347: relative error below
    // 1.2e-7, two float ulps), 2^n put in the exponent bits. About a third of xsimd's exp, which
    // handles what these do not need: v log2 e is clamped to [-126, 126], so e^v saturates at
    // ~1e-38 and ~8.5e37 (1 / (1 + e^-v) and v / (1 + e^-v) are then 0, 1, v or -0 to within a
    // float's rounding) instead of reaching 0 and infinity; NaN stays NaN.
    static fb exp_logistic(fb v) noexcept {
        // (the bound first: x86's maxps / minps return their second operand when either is NaN,
        // NEON's fmax / fmin return NaN, so NaN reaches t either way)
        const fb t = ::xsimd::min(fb(126.0f), ::xsimd::max(fb(-126.0f), v * fb(1.44269504088896341f)));
        const fb n = ::xsimd::nearbyint(t);
        const fb g = (t - n) * fb(0.693147180559945309f);
        fb p = fb(1.0f / 720.0f);
        p = detail::fmadd(p, g, fb(1.0f / 120.0f), A{});
        p = detail::fmadd(p, g, fb(1.0f / 24.0f), A{});
        p = detail::fmadd(p, g, fb(1.0f / 6.0f), A{});
        p = detail::fmadd(p, g, fb(0.5f), A{});
        p = detail::fmadd(p, g, fb(1.0f), A{});
        p = detail::fmadd(p, g, fb(1.0f), A{});
        const ib bits = (::xsimd::batch_cast<std::int32_t>(n) + ib(127)) << 23;
        return p * ::xsimd::bitwise_cast<fb>(bits);
    }
    // (the reciprocal of 1 + e^-v: rcp14 and a Newton step on AVX-512, a division elsewhere)
    static fb sigmoid(fb v) noexcept { return detail::reciprocal_logistic(fb(1.0f) + exp_logistic(-v), A{}); }
    static fb silu(fb v) noexcept { return v * detail::reciprocal_logistic(fb(1.0f) + exp_logistic(-v), A{}); }
    static fb gelu(fb v) noexcept { return fb(0.5f) * v * (fb(1.0f) + ::xsimd::erf(v * fb(0.70710678118654752f))); }
};

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
