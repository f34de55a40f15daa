// Which ops run on int8 codes: the rules compile() follows when it decides which values an int8
// model holds as codes, and the ones check_parts() holds any parts (which may come from a file)
// to, kept in one place so that the two cannot disagree.
#pragma once

#include <vector>

#include "sparq/nn/op.hpp"
#include "sparq/nn/ops/lut_s8.hpp"

namespace sparq::nn::detail {

// Which ops read int8 codes as they are.
constexpr bool takes_s8(op k) noexcept {
    return k == op::linear || k == op::conv2d || k == op::max_pool || k == op::flatten || k == op::reshape ||
           k == op::relu || k == op::relu6;
}

// An add of two values of one shape: it may run on codes (ops::add_s8), with its own output
// parameters, as a residual connection between int8 layers does.
inline bool adds_codes(op k, const std::vector<int>& inputs, const sample_shape* shapes) noexcept {
    return k == op::add && inputs.size() == 2 && shapes[inputs[0]] == shapes[inputs[1]];
}

// A mul of a feature map [C, H, W] by a per-channel gate [C, 1, 1] (squeeze-excitation): it may
// run on the map's codes (ops::channel_scale_s8). The operand index of the map, or -1.
inline int scales_codes(op k, const std::vector<int>& inputs, const sample_shape* shapes) noexcept {
    if (k != op::mul || inputs.size() != 2) return -1;
    const sample_shape &a = shapes[inputs[0]], &b = shapes[inputs[1]];
    const auto gate_of = [](const sample_shape& map, const sample_shape& g) {
        return g[0] == map[0] && g[1] == 1 && g[2] == 1 && map[1] * map[2] > 1;
    };
    return gate_of(a, b) ? 0 : gate_of(b, a) ? 1 : -1;
}

// The ops that may make int8 codes with parameters of their own (calibrated for their output)
// when every reader of that output takes codes: adds, scales by a gate, table lookups.
inline bool own_codes(op k, const std::vector<int>& inputs, const sample_shape* shapes) noexcept {
    return adds_codes(k, inputs, shapes) || scales_codes(k, inputs, shapes) >= 0 || ops::has_lut(k);
}

}  // namespace sparq::nn::detail
