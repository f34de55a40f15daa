// The pooling runners: max / average pooling (codes or float, NCHW or channels-last) and
// global average pooling (which reads codes, and makes floats).
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparq/nn/ops.hpp"
#include "sparq/nn/runners/run_state.hpp"

namespace sparq::nn::runners {

inline status run_pool(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    if (s.int8) {
        const std::int8_t* in = io.as_s8(io.in_v);
        if (!in) return io.oom();
        if (io.cl)
            ops::pool_nhwc(c, s.kind, s.pool, in, io.xs, io.out<std::int8_t>(), io.ys, io.batch);
        else
            ops::pool(c, s.kind, s.pool, in, io.xs, io.out<std::int8_t>(), io.ys, io.batch);
    } else {
        const float* in = io.as_float(io.in_v);
        if (!in) return io.oom();
        if (io.cl)
            ops::pool_nhwc(c, s.kind, s.pool, in, io.xs, io.out<float>(), io.ys, io.batch);
        else
            ops::pool(c, s.kind, s.pool, in, io.xs, io.out<float>(), io.ys, io.batch);
    }
    return status::success();
}

inline status run_global_avg_pool(const run_state& io) {
    const context& c = io.c;
    if (io.s8[io.in_v]) {  // the mean of each channel's codes (ops/squeeze_excite_s8.hpp)
        const std::int8_t* in = io.in_layout(io.in_v, static_cast<const std::int8_t*>(io.values[io.in_v]));
        if (!in) return io.oom();
        ops::global_avg_pool_s8(c, in, io.q[io.in_v].scale[0], io.q[io.in_v].zero_point[0], io.batch, io.xs[0],
                                io.xs[1] * io.xs[2], io.cl, io.out<float>());
        return status::success();
    }
    const float* in = io.as_float(io.in_v);
    if (!in) return io.oom();
    if (io.cl)
        ops::global_avg_pool_nhwc(c, in, io.xs, io.out<float>(), io.batch);
    else
        ops::global_avg_pool(c, in, io.xs, io.out<float>(), io.batch);
    return status::success();
}

}  // namespace sparq::nn::runners
