// run_step: the runner of each op (one per op, as XNNPACK has), chosen once per step; the
// kernel inside a runner is the one nn/pack_layer.hpp chose when the model was compiled.
#pragma once

#include "sparq/core/status.hpp"
#include "sparq/nn/op.hpp"
#include "sparq/nn/runners/conv2d.hpp"
#include "sparq/nn/runners/elementwise.hpp"
#include "sparq/nn/runners/linear.hpp"
#include "sparq/nn/runners/pool.hpp"
#include "sparq/nn/runners/run_state.hpp"
#include "sparq/nn/runners/shape_ops.hpp"

namespace sparq::nn::runners {

inline status run_step(const run_state& io) {
    switch (io.s.kind) {
        case op::linear:
            return run_linear(io);
        case op::conv2d:
            return run_conv2d(io);
        case op::relu:
        case op::relu6:
        case op::sigmoid:
        case op::tanh:
        case op::gelu:
        case op::silu:
        case op::hard_sigmoid:
        case op::hard_swish:
        case op::leaky_relu:
        case op::clip:
        case op::exp:
        case op::sqrt:
        case op::neg:
        case op::erf:
            return run_unary(io);
        case op::max_pool:
        case op::avg_pool:
            return run_pool(io);
        case op::global_avg_pool:
            return run_global_avg_pool(io);
        case op::flatten:
        case op::reshape:
            return run_flatten(io);
        case op::add:
        case op::sub:
        case op::mul:
        case op::div:
        case op::pow:
            return run_binary(io);
        case op::batch_norm:
            return run_batch_norm(io);
        case op::concat:
            return run_concat(io);
        case op::softmax:
            return run_softmax(io);
        case op::pad:
            return run_pad(io);
        case op::transpose:
            return run_transpose(io);
        case op::reduce_mean:
            return run_reduce_mean(io);
    }
    return status::success();
}

}  // namespace sparq::nn::runners
