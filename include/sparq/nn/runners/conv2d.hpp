// The conv2d runner: channels-last through the fused NHWC kernels (im2col + GEMM or Winograd,
// as nn/pack_layer.hpp chose), NCHW through im2col then a separate bias / activation or
// requantization pass, fp32 or int8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/conv2d_nhwc.hpp"
#include "sparq/kernels/conv2d_winograd_nhwc.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/kernels/requant_planes.hpp"
#include "sparq/nn/layer_weights.hpp"
#include "sparq/nn/runners/run_state.hpp"

namespace sparq::nn::runners {

// y[n, c, :, :] = act(y + bias[c]) over a [batch, C, H, W] block. The activation is chosen
// once, outside the loops, so each plane's loop is branch-free and vectorises (with the choice
// inside, this pass took 40 % of mobilenet v2's time).
inline void conv_bias_activation(float* y, index_t batch, index_t channels, index_t plane,
                                 const std::vector<float>& bias, kernels::activation act) noexcept {
    if (bias.empty() && act == kernels::activation::none) return;
    const auto each_plane = [&](auto f) {
        for (index_t n = 0; n < batch; ++n)
            for (index_t c = 0; c < channels; ++c) {
                float* p = y + (n * channels + c) * plane;
                const float b = bias.empty() ? 0.0f : bias[std::size_t(c)];
                for (index_t i = 0; i < plane; ++i) p[i] = f(p[i] + b);
            }
    };
    // the same functions as kernels::activate (PyTorch's clamp: NaN stays NaN, -0 stays -0)
    switch (act) {
        case kernels::activation::none:
            each_plane([](float v) { return v; });
            break;
        case kernels::activation::relu:
            each_plane([](float v) { return kernels::activate(v, kernels::activation::relu); });
            break;
        case kernels::activation::relu6:
            each_plane([](float v) { return kernels::activate(v, kernels::activation::relu6); });
            break;
        case kernels::activation::silu:
            each_plane([](float v) { return kernels::silu(v); });
            break;
        case kernels::activation::hard_swish:
            each_plane([](float v) { return kernels::hard_swish(v); });
            break;
    }
}

inline status run_conv2d(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    const extents_t<4> xe{io.batch, io.xs[0], io.xs[1], io.xs[2]}, ye{io.batch, io.ys[0], io.ys[1], io.ys[2]};
    const index_t plane = io.ys[1] * io.ys[2];
    if (io.cl) {  // channels-last: the output stage fused (kernels/conv2d_nhwc.hpp)
        if (s.int8) {
            const std::int8_t* in = io.as_s8(io.in_v);
            if (!in) return io.oom();
            const auto zp = std::int8_t(io.q[io.in_v].zero_point[0]);
            const s8_conv& w = *std::get_if<s8_conv>(&s.weights);
            if (io.out_s8)
                SPARQ_TRY(kernels::conv2d_nhwc_s8(c, in, xe, w.w, s.conv, zp, w.stage, io.out<std::int8_t>(), ye));
            else
                SPARQ_TRY(kernels::conv2d_nhwc_s8(c, in, xe, w.w, s.conv, zp, w.stage, io.out<float>(), ye));
            if (c.energy) c.energy->add_adds(dtype::s32, std::uint64_t(io.batch * io.out_n));
        } else {
            const float* in = io.as_float(io.in_v);
            if (!in) return io.oom();
            auto* out = io.out<float>();
            if (const auto* wi = std::get_if<winograd_conv>(&s.weights))
                SPARQ_TRY(kernels::conv2d_nhwc_winograd(c, in, xe, wi->w, s.conv, s.bias, s.act, out, ye));
            else
                SPARQ_TRY(kernels::conv2d_nhwc(c, in, xe, *std::get_if<kernels::packed_conv<float>>(&s.weights), s.conv,
                                               s.bias, s.act, out, ye));
            if (c.energy && !s.bias.empty()) c.energy->add_adds(dtype::f32, std::uint64_t(io.batch * io.out_n));
        }
        return status::success();
    }
    if (s.int8) {
        const std::int8_t* in = io.as_s8(io.in_v);
        auto* acc = static_cast<std::int32_t*>(io.alloc(std::size_t(io.batch * io.out_n) * 4));
        if (!in || !acc) return io.oom();
        const s8_conv& w = *std::get_if<s8_conv>(&s.weights);
        SPARQ_TRY(kernels::conv2d_s8(c, tensor_view<const std::int8_t, 4>(in, xe), w.w, s.conv,
                                     tensor_view<std::int32_t, 4>(acc, ye), std::int8_t(io.q[io.in_v].zero_point[0])));
        if (c.energy) c.energy->add_adds(dtype::s32, std::uint64_t(io.batch * io.out_n));
        // per output channel, plane by plane (kernels/requant_planes.hpp)
        for (index_t n = 0; n < io.batch; ++n) {
            if (io.out_s8)
                SPARQ_TRY(kernels::requant_planes(c, w.stage, acc + n * io.out_n, io.ys[0], plane,
                                                  io.out<std::int8_t>() + n * io.out_n));
            else
                SPARQ_TRY(kernels::requant_planes(c, w.stage, acc + n * io.out_n, io.ys[0], plane,
                                                  io.out<float>() + n * io.out_n));
        }
        return status::success();
    }
    const float* in = io.as_float(io.in_v);
    if (!in) return io.oom();
    auto* out = io.out<float>();
    SPARQ_TRY(kernels::conv2d(c, tensor_view<const float, 4>(in, xe),
                              *std::get_if<kernels::packed_conv<float>>(&s.weights), s.conv,
                              tensor_view<float, 4>(out, ye)));
    conv_bias_activation(out, io.batch, io.ys[0], plane, s.bias, s.act);
    if (c.energy && !s.bias.empty()) c.energy->add_adds(dtype::f32, std::uint64_t(io.batch * io.out_n));
    return status::success();
}

}  // namespace sparq::nn::runners
