// check_parts: whether compiled_parts (from compile(), or from a file: io/sparq_format.hpp)
// describe a model run() can run, checked before from_parts() packs anything, so that packing
// and running may rely on every count, shape and flag.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparq/core/status.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/nn/codes_rules.hpp"
#include "sparq/nn/compiled_parts.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/shape_rules.hpp"

namespace sparq::nn::detail {

// What the shape rules read of a compiled step (the weights' shape only for linear / conv2d).
inline node_facts facts_of(const compiled_step_parts& d, const char* name) noexcept {
    const bool weighted = d.kind == op::linear || d.kind == op::conv2d;
    node_facts f = shared_facts(d, name, d.conv);
    f.weight_shape = weighted ? d.weight_shape : extents_t<4>{0, 0, 0, 0};
    f.bias_size = weighted ? d.bias.size() : 0;
    return f;
}

// Whether parts describe a model run() can run: every count, shape and flag consistent.
inline status check_parts(const compiled_parts& p) {
    const std::size_t values = p.shapes.size();
    if (p.steps.empty() || values != p.steps.size() + 1)
        return status(errc::invalid_argument, "model parts: %zu values for %zu nodes (one more value than nodes)",
                      values, p.steps.size());
    if (std::uint8_t(p.prec) > std::uint8_t(precision::int4))
        return status(errc::invalid_argument, "model parts: unknown precision");
    const bool int8 = p.prec == precision::int8;
    if (p.s8.size() != values || p.q.size() != (int8 ? values : 0))
        return status(errc::invalid_argument, "model parts: %zu int8 flags and %zu qparams for %zu values (%s)",
                      p.s8.size(), p.q.size(), values, to_string(p.prec));
    for (std::size_t v = 0; v < values; ++v) {
        const sample_shape& s = p.shapes[v];
        if (!shape_fits(s))
            return status(errc::out_of_range,
                          "model parts: value %zu has shape (%td, %td, %td) (each sample at most %td values)", v, s[0],
                          s[1], s[2], max_value_elements);
        if (p.s8[v] > 1 || (p.s8[v] && (!int8 || v == 0)))
            return status(errc::invalid_argument, "model parts: value %zu cannot be held as int8 codes", v);
        if (int8) {
            const quant::qparams& q = p.q[v];
            SPARQ_TRY(q.validate());
            if (q.type != dtype::s8 || q.gran != quant::granularity::per_tensor)
                return status(errc::unsupported, "model parts: value %zu needs per-tensor s8 qparams", v);
        }
    }
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        const compiled_step_parts& d = p.steps[i];
        const char* name = d.name.c_str();
        if (std::uint8_t(d.kind) > std::uint8_t(last_op) ||
            std::uint8_t(d.act) > std::uint8_t(kernels::activation::hard_swish))
            return status(errc::invalid_argument, "model parts: node %zu has an unknown op or activation", i);
        if (!d.weight_s8.empty() && !kernels::clamps_codes(d.act))
            return status(errc::invalid_argument,
                          "model parts: int8 layer '%.60s' has an activation its output stage cannot apply",
                          d.name.c_str());
        const bool weighted = d.kind == op::linear || d.kind == op::conv2d;
        // an add on codes may carry a ReLU / ReLU6 (nn/fold_activations.hpp), a clamp of its codes
        const bool codes_add = d.kind == op::add && p.s8[i + 1] && kernels::clamps_codes(d.act);
        if (!weighted && !codes_add && d.act != kernels::activation::none)
            return status(errc::invalid_argument,
                          "model parts: %s '%.60s' has a folded activation (only linear, conv2d and an int8 add have one)",
                          to_string(d.kind), name);
        auto shape = output_shape(facts_of(d, name), i, p.shapes.data(), "model parts");
        if (!shape) return shape.error();
        const sample_shape y = *shape;
        const std::size_t in_v = std::size_t(d.inputs[0]), out_v = i + 1;
        const extents_t<4>& ws = d.weight_shape;
        if (y != p.shapes[out_v])
            return status(errc::shape_mismatch,
                          "model parts: %s '%.60s' makes (%td, %td, %td), value %zu is (%td, %td, %td)",
                          to_string(d.kind), name, y[0], y[1], y[2], out_v, p.shapes[out_v][0], p.shapes[out_v][1],
                          p.shapes[out_v][2]);
        // Codes flow only where run() reads them as codes.
        if (p.s8[out_v] && !weighted && !(takes_s8(d.kind) && p.s8[in_v]) &&
            !own_codes(d.kind, d.inputs, p.shapes.data()))
            return status(errc::invalid_argument, "model parts: %s '%.60s' cannot make int8 codes here",
                          to_string(d.kind), name);
        // The weights: exactly the storage of the precision, of the shape's size.
        const std::size_t count = weighted ? std::size_t(ws[0] * ws[1] * ws[2] * ws[3]) : 0;
        const std::size_t outs = weighted ? std::size_t(ws[0]) : 0;
        // (an int8 model's float layer: fp32 weights, no codes, and it makes floats)
        const bool float_layer = weighted && int8 && d.weight_s8.empty() && !d.weight_f32.empty();
        if (float_layer && p.s8[out_v])
            return status(errc::invalid_argument, "model parts: float layer '%.60s' cannot make int8 codes", name);
        const bool codes = int8 && !float_layer;
        const bool nibbles = weighted && p.prec == precision::int4 && d.kind == op::linear;
        const bool half = weighted && !int8 && !nibbles && d.kind == op::linear && p.prec != precision::f32;
        const std::size_t f32 = weighted && !codes && !half && !nibbles ? count : 0;
        const std::size_t s4 = nibbles ? std::size_t(ws[0] * ((ws[1] + 1) / 2)) : 0;
        const std::size_t scales = codes     ? outs
                                   : nibbles ? std::size_t(ws[0] * ((ws[1] + int4_group - 1) / int4_group))
                                             : 0;
        const std::size_t f16 = half && p.prec == precision::f16 ? count : 0,
                          bf16 = half && p.prec == precision::bf16 ? count : 0;
        if (d.weight_f32.size() != f32 || d.weight_f16.size() != f16 || d.weight_bf16.size() != bf16 ||
            d.weight_s8.size() != (codes ? count : 0) || d.weight_s4.size() != s4 || d.weight_scale.size() != scales ||
            !(d.bias.empty() || d.bias.size() == outs))
            return status(errc::shape_mismatch,
                          "model parts: %s '%.60s' (%s) has %zu f32, %zu f16, %zu bf16, %zu s8 weights, %zu scales and "
                          "%zu biases for %zu weights and %zu outputs",
                          to_string(d.kind), name, to_string(p.prec), d.weight_f32.size(), d.weight_f16.size(),
                          d.weight_bf16.size(), d.weight_s8.size(), d.weight_scale.size(), d.bias.size(), count, outs);
    }
    return check_outputs(p.outputs, values, "model parts");
}

}  // namespace sparq::nn::detail
