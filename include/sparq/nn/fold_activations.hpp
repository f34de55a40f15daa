// fold_activations: a SiLU or hard-swish right after a float conv2d / linear layer becomes the
// layer's activation (kernels::activation::silu, hard_swish), applied in its output stage while
// each tile of outputs is still in L1 (kernels/xsimd/epilogue.hpp), instead of a pass of its
// own over a feature map that no longer fits in cache (EfficientNet's SiLUs were a quarter of
// its fp32 time). Done on compiled parts, for float layers only: an int8 stage folds only what
// is a clamp of codes (relu, relu6); int8 models run these ops through tables (ops/lut_s8.hpp).
// Where: the layer's output has that op as its only reader and is not a model output. The
// fused layer computes the bits of the layer, then the op (the same scalar and vector formulas).
// In int8 models a ReLU / ReLU6 on the codes of an add on codes (a residual block's end) becomes
// the add's activation (ops::add_s8 clamps there): the ReLU carries the add's parameters
// (codes_rules.hpp), so the codes are the same, one pass over the map fewer.
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/kernels/output_value.hpp"
#include "sparq/nn/compiled_parts.hpp"

namespace sparq::nn {

inline void fold_activations(compiled_parts& p) {
    const std::size_t values = p.shapes.size();
    if (p.steps.empty() || values != p.steps.size() + 1) return;  // (check_parts says why)
    std::vector<int> reads(values, 0);
    for (const compiled_step_parts& s : p.steps)
        for (int in : s.inputs) ++reads[std::size_t(in)];
    if (p.outputs.empty()) ++reads[values - 1];
    for (int v : p.outputs) ++reads[std::size_t(v)];  // (an output is read once more: never folded away)

    // value id -> the value that now holds it (a folded op's output is its layer's)
    std::vector<std::size_t> holder(values);
    for (std::size_t v = 0; v < values; ++v) holder[v] = v;
    std::vector<std::uint8_t> drop(p.steps.size(), 0);
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        const compiled_step_parts& s = p.steps[i];
        if (s.inputs.size() != 1 || s.inputs[0] <= 0) continue;
        const std::size_t v = std::size_t(s.inputs[0]);
        compiled_step_parts& layer = p.steps[v - 1];
        if ((s.kind == op::relu || s.kind == op::relu6) && layer.kind == op::add && layer.act == kernels::activation::none &&
            reads[v] == 1 && !p.s8.empty() && p.s8[v] && p.s8[i + 1] && p.q[v].scale == p.q[i + 1].scale &&
            p.q[v].zero_point == p.q[i + 1].zero_point) {
            layer.act = s.kind == op::relu ? kernels::activation::relu : kernels::activation::relu6;
            drop[i] = 1;
            holder[i + 1] = v;
            continue;
        }
        if ((s.kind != op::silu && s.kind != op::hard_swish) || p.prec == precision::int8) continue;  // (float models)
        const bool float_layer = (layer.kind == op::conv2d || layer.kind == op::linear) && layer.weight_s8.empty();
        if (!float_layer || layer.act != kernels::activation::none || reads[v] != 1 || (!p.s8.empty() && p.s8[v])) continue;
        layer.act = s.kind == op::silu ? kernels::activation::silu : kernels::activation::hard_swish;
        drop[i] = 1;
        holder[i + 1] = v;
    }

    // renumber: kept nodes' outputs in order; a folded op's readers read its layer's value
    std::vector<int> id(values, 0);
    int next = 1;
    for (std::size_t i = 0; i < p.steps.size(); ++i)
        if (!drop[i]) id[i + 1] = next++;
    for (std::size_t v = 1; v < values; ++v)
        if (holder[v] != v) id[v] = id[holder[v]];
    compiled_parts q;
    q.prec = p.prec, q.sparse_int8 = p.sparse_int8, q.check_finite = p.check_finite, q.channels_last = p.channels_last;
    q.winograd = p.winograd, q.requant = p.requant;
    for (std::size_t v = 0; v < values; ++v) {
        if (v > 0 && drop[v - 1]) continue;
        q.shapes.push_back(p.shapes[v]);
        if (!p.s8.empty()) q.s8.push_back(p.s8[v]);
        if (!p.q.empty()) q.q.push_back(p.q[v]);
    }
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        if (drop[i]) continue;
        compiled_step_parts s = std::move(p.steps[i]);
        for (int& in : s.inputs) in = id[std::size_t(in)];
        q.steps.push_back(std::move(s));
    }
    for (int v : p.outputs) q.outputs.push_back(id[std::size_t(v)]);
    p = std::move(q);
}

}  // namespace sparq::nn
