// The graph's small ops on contiguous NCHW batches: activations, pooling, add, concat,
// softmax, in float; max pooling and ReLU also on int8 codes (quantization is monotonic, so
// both commute with it). Plain loops: these move little data next to the layers around them.
// Each counts its traffic (and additions) into the context's energy counter. The ops added for
// ONNX import live one family a header (ops/elementwise.hpp, binary.hpp, layout.hpp,
// reduce.hpp), the channels-last (NHWC) twins of pooling, batch norm and concat in
// ops/channels_last.hpp; this header gives them all. Each splits its values, rows or planes over
// ctx.threads as core/parallel.hpp rules (never a sum: any thread count gives the same bits),
// and counts its energy once, on the calling thread, from the shapes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "sparq/core/context.hpp"
#include "sparq/core/parallel.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/nn/op.hpp"
#include "sparq/nn/ops/binary.hpp"
#include "sparq/nn/ops/channels_last.hpp"
#include "sparq/nn/ops/elementwise.hpp"
#include "sparq/nn/ops/layout.hpp"
#include "sparq/nn/ops/lut_s8.hpp"
#include "sparq/nn/ops/reduce.hpp"
#include "sparq/nn/ops/squeeze_excite_s8.hpp"

namespace sparq::nn::ops {

namespace detail {

// The loops of activation_s8 and add_s8 over one chunk, in functions of their own: every value
// they read is a parameter, so the int8 stores (which may alias anything) force no reloads and
// the loops vectorise as they did before threads split them. Z: int8_t when both bounds are codes
// (the compiler then clamps whole vectors of bytes), std::int32_t otherwise; the same results.
template <class Z>
inline void clamp_codes(const std::int8_t* x, std::int8_t* y, index_t n, Z z, Z hi) noexcept {
    for (index_t i = 0; i < n; ++i) {
        const std::int32_t v = x[i];
        y[i] = std::int8_t(v < z ? z : (v > hi ? hi : v));
    }
}

inline void add_codes(const std::int8_t* a, float ka, float fza, const std::int8_t* b, float kb, float fzb, std::int8_t* y,
                      float lo, float hi, std::int32_t zy, index_t n) noexcept {
    for (index_t i = 0; i < n; ++i) {
        float v = std::nearbyint(ka * (float(a[i]) - fza) + kb * (float(b[i]) - fzb));
        v = !(v >= lo) ? lo : (v > hi ? hi : v);  // (NaN, from scales a file made absurd, to lo)
        y[i] = std::int8_t(std::int32_t(v) + zy);
    }
}

// The highest code ReLU6 leaves on codes of (scale, z): the code of 6, at most 127.
inline std::int32_t relu6_top_code(float scale, std::int32_t z) noexcept {
    const std::int32_t six = std::int32_t(std::lround(6.0f / scale)) + z;
    return six < 127 ? six : 127;
}

}  // namespace detail

// y = f(x) elementwise, n values: the parameterless activations (relu, relu6, sigmoid, tanh, gelu).
inline void activation(const context& ctx, op kind, const float* x, float* y, index_t n) noexcept { unary(ctx, kind, op_params{}, x, y, n); }

// ReLU / ReLU6 on int8 codes with zero point z: a clamp at z (and at the code of 6).
inline void activation_s8(const context& ctx, op kind, const std::int8_t* x, std::int8_t* y, index_t n, std::int32_t z,
                          float scale) noexcept {
    const std::int32_t hi = kind == op::relu6 ? detail::relu6_top_code(scale, z) : 127;
    const bool codes = z >= -128 && z <= 127 && hi >= -128;  // (hi <= 127)
    parallel_range(ctx, n, 1, [&](index_t begin, index_t end) {
        if (codes) detail::clamp_codes(x + begin, y + begin, end - begin, std::int8_t(z), std::int8_t(hi));
        else detail::clamp_codes(x + begin, y + begin, end - begin, z, hi);
    }, 64);
    energy::count_elementwise(ctx.energy, dtype::s8, dtype::s8, std::uint64_t(n));
}

// a + b on int8 codes of equal shapes, each with its own per-tensor scale and zero point, into
// the output's codes (ONNX's QLinearAdd, a residual connection that stays int8): each operand is
// rescaled to the output's scale in float (s_a / s_y, s_b / s_y), the sum rounded half to even
// once, then offset and saturated. Plain float arithmetic in a fixed order, so every build gives
// the same codes; the loop is branch-free and vectorises. act relu / relu6: the codes then
// clamped as activation_s8 clamps them (at zy, and at the code of 6), in the same saturation.
inline void add_s8(const context& ctx, const std::int8_t* a, float sa, std::int32_t za, const std::int8_t* b, float sb, std::int32_t zb,
                   std::int8_t* y, float sy, std::int32_t zy, index_t n,
                   kernels::activation act = kernels::activation::none) noexcept {
    const float ka = float(double(sa) / double(sy)), kb = float(double(sb) / double(sy));
    const float fza = float(za), fzb = float(zb);
    float lo = float(-128 - zy), hi = float(127 - zy);
    if (act == kernels::activation::relu || act == kernels::activation::relu6) lo = std::max(lo, 0.0f);
    if (act == kernels::activation::relu6) hi = std::min(hi, float(detail::relu6_top_code(sy, zy) - zy));
    // work units (core/parallel.hpp): 4 a value (measured ~0.4 ns: the rounding)
    parallel_range(ctx, n, 4, [&](index_t begin, index_t end) {
        detail::add_codes(a + begin, ka, fza, b + begin, kb, fzb, y + begin, lo, hi, zy, end - begin);
    }, 64);
    if (ctx.energy) {
        ctx.energy->add_activations(dtype::s8, 3 * std::uint64_t(n));
        ctx.energy->add_adds(dtype::f32, std::uint64_t(n));
    }
}

// Max or average pooling of [batch, C, H, W] into [batch, C, OH, OW]; T float or int8_t (max only).
template <class T>
void pool(const context& ctx, op kind, const pool_params& p, const T* x, const sample_shape& in, T* y, const sample_shape& out,
          index_t batch) noexcept {
    const index_t planes = batch * in[0];
    // threads split the output rows of all planes; a row's work: its windows' taps, 8 units each
    // (measured ~1 ns a tap: scalar, a NaN test each)
    parallel_range(ctx, planes * out[1], 8 * detail::pool_row_taps(p, in, out), [&](index_t begin, index_t end) {
        for (index_t r = begin; r < end; ++r) {
            const index_t c = r / out[1], oh = r % out[1];
            const T* xp = x + c * in[1] * in[2];
            T* yp = y + c * out[1] * out[2];
            for (index_t ow = 0; ow < out[2]; ++ow) {
                const index_t h0 = oh * p.stride_h - p.pad_top, w0 = ow * p.stride_w - p.pad_left;
                double sum = 0;
                T best = std::numeric_limits<T>::lowest();
                index_t valid = 0;
                // only the taps on the input: a window's padding costs nothing (a huge window
                // over a small input must not run for hours)
                const index_t kh_lo = h0 < 0 ? -h0 : 0, kh_hi = std::min(p.kh, in[1] - h0);
                const index_t kw_lo = w0 < 0 ? -w0 : 0, kw_hi = std::min(p.kw, in[2] - w0);
                for (index_t kh = kh_lo; kh < kh_hi; ++kh)
                    for (index_t kw = kw_lo; kw < kw_hi; ++kw) {
                        const index_t h = h0 + kh, w = w0 + kw;
                        const T v = xp[h * in[2] + w];
                        bool nan = false;  // NaN wins and stays, as in PyTorch
                        if constexpr (std::is_floating_point_v<T>) nan = std::isnan(v);
                        best = v > best || nan ? v : best;
                        sum += double(v);
                        ++valid;
                    }
                if (kind == op::max_pool) yp[oh * out[2] + ow] = best;
                else if constexpr (std::is_floating_point_v<T>)
                    yp[oh * out[2] + ow] = T(sum / double(p.count_include_pad ? p.kh * p.kw : (valid ? valid : 1)));
            }
        }
    });
    const std::uint64_t n_in = std::uint64_t(planes * in[1] * in[2]), n_out = std::uint64_t(planes * out[1] * out[2]);
    if (ctx.energy) {
        ctx.energy->add_activations(dtype_of_v<T>, n_in);
        ctx.energy->add_activations(dtype_of_v<T>, n_out);
        // what the windows summed: the taps on the input
        if (kind == op::avg_pool) ctx.energy->add_adds(dtype::f32, std::uint64_t(planes) * detail::pool_plane_taps(p, in, out));
    }
}

inline void global_avg_pool(const context& ctx, const float* x, const sample_shape& in, float* y, index_t batch) noexcept {
    const index_t hw = in[1] * in[2];
    // threads split the planes, 4 work units a value (one double sum in order: ~0.4 ns a value)
    parallel_range(ctx, batch * in[0], 4 * std::uint64_t(hw), [&](index_t begin, index_t end) {
        for (index_t c = begin; c < end; ++c) {
            double sum = 0;
            for (index_t i = 0; i < hw; ++i) sum += x[c * hw + i];
            y[c] = float(sum / double(hw));
        }
    });
    if (ctx.energy) {
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * in[0] * hw));
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * in[0]));
        ctx.energy->add_adds(dtype::f32, std::uint64_t(batch * in[0] * hw));
    }
}

inline void add(const context& ctx, const float* a, const float* b, float* y, index_t n) noexcept {
    parallel_range(ctx, n, 2, [&](index_t begin, index_t end) {  // (two values read a value written)
        for (index_t i = begin; i < end; ++i) y[i] = a[i] + b[i];
    }, 16);
    if (ctx.energy) {
        ctx.energy->add_activations(dtype::f32, 3 * std::uint64_t(n));
        ctx.energy->add_adds(dtype::f32, std::uint64_t(n));
    }
}

// Concatenation along channels of per-sample blocks: parts[i] holds batch x sizes[i] values.
inline void concat(const context& ctx, const float* const* parts, const index_t* sizes, std::size_t count, float* y,
                   index_t batch) noexcept {
    index_t total = 0;
    for (std::size_t i = 0; i < count; ++i) total += sizes[i];
    for (index_t b = 0; b < batch; ++b) {
        float* out = y + b * total;
        for (std::size_t i = 0; i < count; ++i) {
            const float* in = parts[i] + b * sizes[i];
            for (index_t j = 0; j < sizes[i]; ++j) *out++ = in[j];
        }
    }
    energy::count_elementwise(ctx.energy, dtype::f32, dtype::f32, std::uint64_t(batch * total));
}

// Softmax over each sample's n values, max-subtracted.
inline void softmax(const context& ctx, const float* x, float* y, index_t batch, index_t n) noexcept {
    softmax_axis(ctx, x, y, sample_shape{n, 1, 1}, 0, batch);
}

}  // namespace sparq::nn::ops
