// The runners of ops that move values rather than compute them (flatten / reshape, concat, pad,
// transpose), and of softmax and reduce_mean, which run on floats only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sparq/nn/ops.hpp"
#include "sparq/nn/runners/run_state.hpp"

namespace sparq::nn::runners {

inline status run_flatten(const run_state& io) {
    const detail::compiled_step& s = io.s;
    // the same bytes in the same order; only the shape changes
    if (s.int8) {
        const std::int8_t* in = io.as_s8(io.in_v);
        if (!in) return io.oom();
        std::copy_n(in, io.batch * io.in_n, io.out<std::int8_t>());
    } else {
        const float* in = io.as_float(io.in_v);
        if (!in) return io.oom();
        std::copy_n(in, io.batch * io.in_n, io.out<float>());
    }
    return status::success();
}

inline status run_concat(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    std::vector<const float*> parts;
    std::vector<sample_shape> shapes;
    for (int in : s.inputs) {
        parts.push_back(io.as_float(std::size_t(in)));
        if (!parts.back()) return io.oom();
        shapes.push_back(io.shapes[std::size_t(in)]);
    }
    if (io.cl)
        ops::concat_channels_nhwc(c, parts.data(), shapes.data(), parts.size(), io.out<float>(), io.ys, io.batch);
    else
        ops::concat_axis(c, parts.data(), shapes.data(), parts.size(), int(s.params.axis), io.out<float>(), io.ys,
                         io.batch);
    return status::success();
}

inline status run_softmax(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    const float* in = io.as_float(io.in_v);
    if (!in) return io.oom();
    ops::softmax_axis(c, in, io.out<float>(), io.xs, int(s.params.axis), io.batch);
    return status::success();
}

inline status run_pad(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    const float* in = io.as_float(io.in_v);
    if (!in) return io.oom();
    ops::pad(c, in, io.xs, s.params.pads.data(), s.params.alpha, io.out<float>(), io.ys, io.batch);
    return status::success();
}

inline status run_transpose(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    const float* in = io.as_float(io.in_v);
    if (!in) return io.oom();
    ops::transpose(c, in, s.params.dims.data(), s.params.perm.data(), io.out<float>(), io.batch);
    return status::success();
}

inline status run_reduce_mean(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    const float* in = io.as_float(io.in_v);
    if (!in) return io.oom();
    ops::reduce_mean(c, in, io.xs, s.params.axes, io.out<float>(), io.batch);
    return status::success();
}

}  // namespace sparq::nn::runners
