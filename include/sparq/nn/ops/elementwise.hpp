// Elementwise ops on contiguous float values: every unary op of the graph (op.hpp's
// is_unary_elementwise: ReLU, sigmoid, SiLU, hard sigmoid / swish, leaky ReLU, clip, exp, sqrt,
// neg, erf, ...) and batch normalization folded to a scale and a shift per channel. NaN goes
// through as PyTorch lets it (relu(NaN), leaky_relu(NaN), clip(NaN), hard_swish(NaN) are NaN).
// The op is picked once, outside the loop. Threads split the values (core/parallel.hpp): each
// value's function is the same wherever its chunk starts, so any thread count gives the same bits.
#pragma once

#include <cmath>
#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/core/parallel.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/nn/op.hpp"

#if defined(SPARQ_WITH_XSIMD)
#include "sparq/core/xsimd.hpp"
#if !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#include "sparq/kernels/xsimd/unary.hpp"
#define SPARQ_UNARY_XSIMD 1
#endif
#endif

namespace sparq::nn::ops {

inline float gelu(float v) noexcept { return 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)); }  // PyTorch's default (erf)
inline float sigmoid(float v) noexcept { return 1.0f / (1.0f + std::exp(-v)); }
using kernels::silu;        // (kernels/output_value.hpp: layers fold them into their output stage too)
using kernels::hard_swish;

namespace detail {

template <class F>
inline void map(const float* x, float* y, index_t n, F f) noexcept {
    for (index_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// min(max(v, lo), hi), NaN staying NaN (a comparison with NaN is false: v is kept).
inline float clamp_nan(float v, float lo, float hi) noexcept { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace detail

inline float hard_sigmoid(float v, float a, float b) noexcept { return detail::clamp_nan(a * v + b, 0.0f, 1.0f); }
inline float leaky_relu(float v, float a) noexcept { return v < 0.0f ? a * v : v; }

// One value through the unary op `kind`, in scalar arithmetic (the reference the loops below
// vectorise; int8 lookup tables are built from it, so their codes are the same in every build).
inline float unary_value(op kind, const op_params& p, float v) noexcept {
    switch (kind) {
        case op::relu: return kernels::activate(v, kernels::activation::relu);
        case op::relu6: return kernels::activate(v, kernels::activation::relu6);
        case op::sigmoid: return sigmoid(v);
        case op::tanh: return std::tanh(v);
        case op::gelu: return gelu(v);
        case op::silu: return silu(v);
        case op::exp: return std::exp(v);
        case op::erf: return std::erf(v);
        case op::hard_sigmoid: return hard_sigmoid(v, p.alpha, p.beta);
        case op::hard_swish: return hard_swish(v);
        case op::leaky_relu: return leaky_relu(v, p.alpha);
        case op::clip: return detail::clamp_nan(v, p.alpha, p.beta);
        case op::sqrt: return std::sqrt(v);
        case op::neg: return -v;
        default: return v;  // not unary: never asked
    }
}


namespace detail {

// y = f(x) for n values on this thread; f the unary op `kind` with its parameters p (alpha, beta).
inline void unary_values(op kind, const op_params& p, const float* x, float* y, index_t n) noexcept {
    const float a = p.alpha, b = p.beta;
#if defined(SPARQ_UNARY_XSIMD)
    using A = ::xsimd::default_arch;
    using fb = ::xsimd::batch<float, A>;
    using batches = kernels::xsimd::unary_batches<A>;
#endif
    switch (kind) {
        case op::relu: detail::map(x, y, n, [](float v) { return kernels::activate(v, kernels::activation::relu); }); break;
        case op::relu6: detail::map(x, y, n, [](float v) { return kernels::activate(v, kernels::activation::relu6); }); break;
#if defined(SPARQ_UNARY_XSIMD)  // the vector exp / tanh / erf (kernels/xsimd/unary.hpp)
        case op::sigmoid: kernels::xsimd::map_batches<A>(x, y, n, [](fb v) { return batches::sigmoid(v); }); break;
        case op::tanh: kernels::xsimd::map_batches<A>(x, y, n, [](fb v) { return ::xsimd::tanh(v); }); break;
        case op::gelu: kernels::xsimd::map_batches<A>(x, y, n, [](fb v) { return batches::gelu(v); }); break;
        case op::silu: kernels::xsimd::map_batches<A>(x, y, n, [](fb v) { return batches::silu(v); }); break;
        case op::exp: kernels::xsimd::map_batches<A>(x, y, n, [](fb v) { return ::xsimd::exp(v); }); break;
        case op::erf: kernels::xsimd::map_batches<A>(x, y, n, [](fb v) { return ::xsimd::erf(v); }); break;
#else
        case op::sigmoid: detail::map(x, y, n, sigmoid); break;
        case op::tanh: detail::map(x, y, n, [](float v) { return std::tanh(v); }); break;
        case op::gelu: detail::map(x, y, n, gelu); break;
        case op::silu: detail::map(x, y, n, silu); break;
        case op::exp: detail::map(x, y, n, [](float v) { return std::exp(v); }); break;
        case op::erf: detail::map(x, y, n, [](float v) { return std::erf(v); }); break;
#endif
        case op::hard_sigmoid: detail::map(x, y, n, [a, b](float v) { return hard_sigmoid(v, a, b); }); break;
        case op::hard_swish: detail::map(x, y, n, hard_swish); break;
        case op::leaky_relu: detail::map(x, y, n, [a](float v) { return leaky_relu(v, a); }); break;
        case op::clip: detail::map(x, y, n, [a, b](float v) { return detail::clamp_nan(v, a, b); }); break;
        case op::sqrt: detail::map(x, y, n, [](float v) { return std::sqrt(v); }); break;
        case op::neg: detail::map(x, y, n, [](float v) { return -v; }); break;
        default: detail::map(x, y, n, [](float v) { return v; }); break;  // not unary: never asked
    }
}

// Work units (core/parallel.hpp) of one value: the functions through exp, tanh or erf cost about
// four times a ReLU's (measured: SiLU ~0.4 ns a value, ReLU ~0.1 ns, one core of the Xeon).
constexpr std::uint64_t unary_cost(op kind) noexcept {
    switch (kind) {
        case op::sigmoid: case op::tanh: case op::gelu: case op::silu: case op::exp: case op::erf: return 4;
        default: return 1;
    }
}

}  // namespace detail

// y = f(x) for n values; f the unary op `kind` with its parameters p (alpha, beta). The values
// split over ctx.threads in chunks of whole cache lines.
inline void unary(const context& ctx, op kind, const op_params& p, const float* x, float* y, index_t n) noexcept {
    parallel_range(ctx, n, detail::unary_cost(kind), [&](index_t begin, index_t end) {
        detail::unary_values(kind, p, x + begin, y + begin, end - begin);
    }, 16);
    energy::count_elementwise(ctx.energy, dtype::f32, dtype::f32, std::uint64_t(n));
}

// y[b, c, :] = x[b, c, :] * scale[c] + shift[c] over [batch, channels, plane] (inference batch
// normalization, its statistics folded: affine = channels scales, then channels shifts).
inline void batch_norm(const context& ctx, const float* x, const float* affine, float* y, index_t batch, index_t channels,
                       index_t plane) noexcept {
    parallel_range(ctx, batch * channels, std::uint64_t(plane), [&](index_t begin, index_t end) {  // planes
        for (index_t bc = begin; bc < end; ++bc) {
            const index_t c = bc % channels;
            const float s = affine[c], t = affine[channels + c];
            const index_t at = bc * plane;
            for (index_t i = 0; i < plane; ++i) y[at + i] = x[at + i] * s + t;
        }
    });
    const std::uint64_t n = std::uint64_t(batch * channels * plane);
    energy::count_elementwise(ctx.energy, dtype::f32, dtype::f32, n);
    if (ctx.energy) ctx.energy->add_adds(dtype::f32, n);  // the shift (the scale: the elementwise pass's multiply)
}

}  // namespace sparq::nn::ops
