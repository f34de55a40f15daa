// The elementwise runners: unary ops (on codes through a clamp or a table, else in float),
// binary ops (on codes for a residual add or a squeeze-excitation gate: nn/codes_rules.hpp, else
// in float with broadcasting), batch norm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "sparq/nn/codes_rules.hpp"
#include "sparq/nn/ops.hpp"
#include "sparq/nn/runners/run_state.hpp"

namespace sparq::nn::runners {

inline status run_unary(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    if (s.int8) {  // relu, relu6: a clamp of the input's codes; the others through their table
        const std::int8_t* in = io.as_s8(io.in_v);
        if (!in) return io.oom();
        auto* out = io.out<std::int8_t>();
        if (ops::has_lut(s.kind))
            ops::apply_lut_s8(c, s.lut, in, out, io.batch * io.in_n);
        else
            ops::activation_s8(c, s.kind, in, out, io.batch * io.in_n, io.q[io.out_v].zero_point[0],
                               io.q[io.out_v].scale[0]);
    } else {
        const float* in = io.as_float(io.in_v);
        if (!in) return io.oom();
        ops::unary(c, s.kind, s.params, in, io.out<float>(), io.batch * io.in_n);
    }
    return status::success();
}

inline status run_binary(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    if (io.out_s8 && s.kind == op::mul) {  // a feature map's codes times a per-channel gate (detail::scales_codes)
        const int map = detail::scales_codes(s.kind, s.inputs, io.shapes);
        const std::size_t xv = std::size_t(s.inputs[std::size_t(map)]),
                          gv = std::size_t(s.inputs[std::size_t(1 - map)]);
        const std::int8_t* xq = io.as_s8(xv);
        const float* gate = io.as_float(gv);
        if (!xq || !gate) return io.oom();
        ops::channel_scale_s8(c, xq, io.q[xv].scale[0], io.q[xv].zero_point[0], gate, io.batch, io.ys[0],
                              io.ys[1] * io.ys[2], io.cl, io.out<std::int8_t>(), io.q[io.out_v].scale[0],
                              io.q[io.out_v].zero_point[0]);
        return status::success();
    }
    if (io.out_s8) {  // two values of one shape, added on codes (detail::adds_codes)
        const std::size_t v1 = std::size_t(s.inputs[1]);
        const std::int8_t* a0 = io.as_s8(io.in_v);
        const std::int8_t* a1 = io.as_s8(v1);
        if (!a0 || !a1) return io.oom();
        ops::add_s8(c, a0, io.q[io.in_v].scale[0], io.q[io.in_v].zero_point[0], a1, io.q[v1].scale[0],
                    io.q[v1].zero_point[0], io.out<std::int8_t>(), io.q[io.out_v].scale[0],
                    io.q[io.out_v].zero_point[0], io.batch * io.out_n, s.act);
        return status::success();
    }
    const float* a0 = io.as_float(io.in_v);
    if (!a0) return io.oom();
    ops::operand x0{a0, io.xs, true}, x1{s.constant.data(), s.params.shape, false};
    if (s.inputs.size() == 2) {
        const std::size_t v1 = std::size_t(s.inputs[1]);
        x1 = {io.as_float(v1), io.shapes[v1], true};
        if (!x1.data) return io.oom();
    } else if (s.params.constant_first) {
        std::swap(x0, x1);
    }
    if (io.cl) {  // [C, H, W] seen as the [H, W, C] the bytes hold (nn/channels_last.hpp)
        const auto hwc = [](const sample_shape& t) { return sample_shape{t[1], t[2], t[0]}; };
        x0.shape = hwc(x0.shape), x1.shape = hwc(x1.shape);
        ops::binary(c, s.kind, x0, x1, io.out<float>(), hwc(io.ys), io.batch);
        return status::success();
    }
    ops::binary(c, s.kind, x0, x1, io.out<float>(), io.ys, io.batch);
    return status::success();
}

inline status run_batch_norm(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    const float* in = io.as_float(io.in_v);
    if (!in) return io.oom();
    if (io.cl)
        ops::batch_norm_nhwc(c, in, s.constant.data(), io.out<float>(), io.batch, io.xs[0], io.xs[1] * io.xs[2]);
    else
        ops::batch_norm(c, in, s.constant.data(), io.out<float>(), io.batch, io.xs[0], io.xs[1] * io.xs[2]);
    return status::success();
}

}  // namespace sparq::nn::runners
