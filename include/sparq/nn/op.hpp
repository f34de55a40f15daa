// op: what a node of a model does (the op kinds, their names, pooling windows), apart from the
// graph that holds the nodes (model.hpp): the small ops (ops.hpp) and the firmware runtime
// (firmware.hpp) need these, and nothing that allocates.
#pragma once

#include <array>
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
    add,              // x0 + x1: residual connections (broadcasting as sub, mul, ...)
    concat,           // along sample dim op_params::axis (0: channels)
    softmax,          // over sample dim op_params::axis (0: C, the whole sample of a [F, 1, 1] vector)
    // Added with .sparq format 1.1 (ONNX import of real models); parameters in op_params.
    silu,             // x * sigmoid(x)
    hard_sigmoid,     // clamp(alpha x + beta, 0, 1)
    hard_swish,       // x * relu6(x + 3) / 6
    leaky_relu,       // x < 0 ? alpha x : x
    clip,             // clamp(x, alpha, beta)
    exp, sqrt, neg, erf,
    sub, mul, div, pow,  // binary, numpy broadcasting in sample space (like add): two values, or a
                         // value and the node's constant (op_params::constant_first: c op x)
    batch_norm,       // y = x * scale[c] + shift[c] over sample dim 0 (the constant: C scales, C shifts)
    pad,              // constant padding of the sample dims (op_params::pads, value alpha)
    transpose,        // the sample seen as op_params::dims, its dims permuted by op_params::perm
    reshape,          // a new sample shape (op_params::shape); no data moves
    reduce_mean,      // mean over the sample dims in op_params::axes (each kept with extent 1)
};

// Parameters of the ops that have any (beyond weights and pooling windows). Plain data: the
// firmware headers include this file.
struct op_params {
    float alpha = 0.0f, beta = 0.0f;  // leaky_relu: alpha; hard_sigmoid: alpha, beta; clip: min, max; pad: the value
    std::int32_t axis = 0;            // softmax, concat: the sample dim (0: C, 1: H, 2: W)
    std::uint32_t axes = 0;           // reduce_mean: bit d set = sample dim d averaged
    bool constant_first = false;      // sub / div / pow (any binary op) with a constant: constant op x
    sample_shape shape{1, 1, 1};      // reshape: the output's shape; a binary op's constant: its shape (broadcast)
    std::array<index_t, 6> pads{};    // pad: before dims 0, 1, 2, then after dims 0, 1, 2
    std::array<index_t, 4> dims{1, 1, 1, 1};  // transpose: the sample seen as up to 4 dims (product = its size)
    std::array<index_t, 4> perm{0, 1, 2, 3};  // transpose: output dim i is input dim perm[i]; the output sample is [a, b, c * d]
                                              // of the permuted dims [a, b, c, d] (shape_rules.hpp)
};

// How many inputs a node of kind k reads from values (binary ops: 2, or 1 with a constant).
constexpr bool is_binary(op k) noexcept { return k == op::add || k == op::sub || k == op::mul || k == op::div || k == op::pow; }
constexpr bool is_unary_elementwise(op k) noexcept {
    return k == op::relu || k == op::relu6 || k == op::sigmoid || k == op::tanh || k == op::gelu || k == op::silu || k == op::hard_sigmoid ||
           k == op::hard_swish || k == op::leaky_relu || k == op::clip || k == op::exp || k == op::sqrt || k == op::neg || k == op::erf;
}
inline constexpr op last_op = op::reduce_mean;

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
        case op::silu: return "silu";
        case op::hard_sigmoid: return "hard_sigmoid";
        case op::hard_swish: return "hard_swish";
        case op::leaky_relu: return "leaky_relu";
        case op::clip: return "clip";
        case op::exp: return "exp";
        case op::sqrt: return "sqrt";
        case op::neg: return "neg";
        case op::erf: return "erf";
        case op::sub: return "sub";
        case op::mul: return "mul";
        case op::div: return "div";
        case op::pow: return "pow";
        case op::batch_norm: return "batch_norm";
        case op::pad: return "pad";
        case op::transpose: return "transpose";
        case op::reshape: return "reshape";
        case op::reduce_mean: return "reduce_mean";
    }
    return "?";
}

}  // namespace sparq::nn
