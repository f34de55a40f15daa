// Which ops run on int8 codes, and which values of an int8 model are held as codes (plan_codes,
// what compile() decides): the rules compile() follows and check_parts() holds any parts (which
// may come from a file) to, kept in one place so that the two cannot disagree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sparq/nn/model.hpp"
#include "sparq/nn/op.hpp"
#include "sparq/nn/ops/lut_s8.hpp"
#include "sparq/quant/qparams.hpp"

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

// Which values stay int8: a linear / conv output whose every reader takes codes (and
// which is not one of the model's outputs); codes flow on through max pooling, flatten,
// reshape, ReLU; global average pooling reads them. (An output held as codes that way
// is dequantized at the end of run().)
// keep_float: the nodes kept in fp32 (compile_options::float_layers); s8: per value, set here
// (all 0 on entry); q: per value, calibrated, a value that carries its input's codes gets its
// input's parameters.
inline void plan_codes(const model& m, const std::vector<sample_shape>& shapes,
                       const std::vector<std::uint8_t>& keep_float, std::vector<std::uint8_t>& s8,
                       std::vector<quant::qparams>& q) {
    const std::size_t values = shapes.size();
    std::vector<std::uint8_t> is_output(values, 0);
    if (m.outputs.empty()) is_output[values - 1] = 1;
    for (int v : m.outputs) is_output[std::size_t(v)] = 1;
    std::vector<std::vector<std::size_t>> readers(values);  // per value, the nodes reading it
    for (std::size_t j = 0; j < m.nodes.size(); ++j)
        for (int in : m.nodes[j].inputs) readers[std::size_t(in)].push_back(j);
    // An op of own_codes runs on codes when every reader of its output takes codes;
    // decided from the last node back, so that such an op reading another counts it only if
    // that one runs on codes.
    std::vector<std::uint8_t> own(m.nodes.size(), 0);
    const auto takes_codes = [&](std::size_t j, std::size_t v) {  // node j reads value v as codes
        const node& u = m.nodes[j];
        if (keep_float[j]) return false;
        if (takes_s8(u.kind) || u.kind == op::global_avg_pool) return true;
        if (!own[j]) return false;
        const int map = scales_codes(u.kind, u.inputs, shapes.data());
        return map < 0 || std::size_t(u.inputs[std::size_t(map)]) == v;  // a gate is read as floats
    };
    const auto all_take_codes = [&](std::size_t v) {
        if (is_output[v]) return false;
        for (std::size_t j : readers[v])
            if (!takes_codes(j, v)) return false;
        return true;
    };
    for (std::size_t i = m.nodes.size(); i-- > 0;)
        own[i] =
            own_codes(m.nodes[i].kind, m.nodes[i].inputs, shapes.data()) && !keep_float[i] && all_take_codes(i + 1);
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const node& d = m.nodes[i];
        const std::size_t v = i + 1;
        if (d.kind == op::linear || d.kind == op::conv2d)
            s8[v] = all_take_codes(v) && !keep_float[i];
        else if (own[i])
            s8[v] = 1;  // its own parameters
        else if (takes_s8(d.kind) && s8[std::size_t(d.inputs[0])]) {
            s8[v] = 1;
            q[v] = q[std::size_t(d.inputs[0])];  // the same codes, the same meaning
        }
    }
}

}  // namespace sparq::nn::detail
