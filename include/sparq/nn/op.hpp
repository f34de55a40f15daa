// op: what a node of a model does (the op kinds, their names, pooling windows), apart from the
// graph that holds the nodes (model.hpp): the small ops (ops.hpp) and the firmware runtime
// (firmware.hpp) need these, and nothing that allocates.
#pragma once

#include <cstdint>

#include "sparq/core/shape.hpp"

namespace sparq::nn {

using sample_shape = extents_t<3>;  // C, H, W of one sample

struct pool_params {
    index_t kh = 2, kw = 2, stride_h = 2, stride_w = 2;
    index_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    bool count_include_pad = false;  // average pooling: divide by the window or by its valid part
};

enum class op : std::uint8_t {
    linear,           // y = act(x W^T + b) on [batch, C*H*W]
    conv2d,           // y = act(conv(x, W) + b)
    relu, relu6, sigmoid, tanh, gelu,
    max_pool, avg_pool, global_avg_pool,
    flatten,          // [C, H, W] -> [C*H*W, 1, 1]: no data moves
    add,              // x0 + x1 (same shapes): residual connections
    concat,           // along channels
    softmax,          // over C*H*W of each sample
};

constexpr const char* to_string(op o) noexcept {
    switch (o) {
        case op::linear: return "linear";
        case op::conv2d: return "conv2d";
        case op::relu: return "relu";
        case op::relu6: return "relu6";
        case op::sigmoid: return "sigmoid";
        case op::tanh: return "tanh";
        case op::gelu: return "gelu";
        case op::max_pool: return "max_pool";
        case op::avg_pool: return "avg_pool";
        case op::global_avg_pool: return "global_avg_pool";
        case op::flatten: return "flatten";
        case op::add: return "add";
        case op::concat: return "concat";
        case op::softmax: return "softmax";
    }
    return "?";
}

}  // namespace sparq::nn
