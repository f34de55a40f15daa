// The transcendental elementwise ops (sigmoid, SiLU, tanh, exp, erf, GELU) over batches: xsimd's
// vector exp / tanh / erf instead of libm's scalar calls (SiLU's expf was half of efficientnet's
// time). The tail runs through the same vector code on a padded batch, so every element gets
// the same function wherever it lies in the array (a channels-last model and its NCHW self give
// the same bits).
#pragma once

#include "sparq/core/xsimd.hpp"

#include "sparq/core/config.hpp"
#include "sparq/core/shape.hpp"

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
    static fb sigmoid(fb v) noexcept { return fb(1.0f) / (fb(1.0f) + ::xsimd::exp(-v)); }
    static fb silu(fb v) noexcept { return v / (fb(1.0f) + ::xsimd::exp(-v)); }
    static fb gelu(fb v) noexcept { return fb(0.5f) * v * (fb(1.0f) + ::xsimd::erf(v * fb(0.70710678118654752f))); }
};

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
