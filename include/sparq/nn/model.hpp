// model: a trained network in fp32, as it arrives (from a safetensors or ONNX file), before any
// compression: a small graph of nodes in topological order. Values are numbered: 0 is the
// model's input, i + 1 the output of node i; the model returns the values in `outputs` (by
// default the last node's output alone). Every value
// is a batch of [C, H, W] samples in NCHW order ([features, 1, 1] for a vector), so Flatten
// changes only the shape and a Linear layer reads any value as [batch, C*H*W].
// compiled_model.hpp prepares a model for one precision; this header only holds and checks it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/nn/op.hpp"
#include "sparq/nn/shape_rules.hpp"
#include "sparq/nn/work.hpp"

namespace sparq::nn {

struct linear_layer {
    std::string name;
    tensor<float, 2> weight;  // [out, in]
    std::vector<float> bias;  // out values, or empty
    kernels::activation act = kernels::activation::none;

    index_t in_features() const noexcept { return weight.extent(1); }
    index_t out_features() const noexcept { return weight.extent(0); }
};

struct conv_layer {
    tensor<float, 4> weight;  // [O, C / groups, KH, KW]
    std::vector<float> bias;  // O values, or empty
    kernels::conv2d_params params;
    kernels::activation act = kernels::activation::none;
};

struct node {
    std::string name;
    nn::op kind = op::linear;
    std::vector<int> inputs;  // value ids: 0 the model input, i + 1 node i's output
    linear_layer linear;      // op::linear
    conv_layer conv;          // op::conv2d
    pool_params pool;         // op::max_pool, op::avg_pool
    op_params params;         // the other ops' parameters (op.hpp)
    std::vector<float> constant;  // binary ops with a constant operand (params.shape); batch_norm: C scales, C shifts
};

struct model {
    sample_shape input{0, 1, 1};
    std::vector<node> nodes;
    // The values the model returns, in order; empty: the last node's output alone.
    std::vector<int> outputs;

    // An MLP: the layers one after the other, activations folded into them.
    static model sequential(std::vector<linear_layer> layers) {
        model m;
        m.input = {layers.empty() ? 0 : layers.front().in_features(), 1, 1};
        for (auto& l : layers) {
            node n;
            n.name = l.name;
            n.kind = op::linear;
            n.inputs = {int(m.nodes.size())};
            n.linear = std::move(l);
            m.nodes.push_back(std::move(n));
        }
        return m;
    }

    index_t in_features() const noexcept { return input[0] * input[1] * input[2]; }
    // The features of output 0 (of the last node's output when outputs is empty).
    index_t out_features() const;
    index_t parameters() const noexcept {
        index_t n = 0;
        for (const node& d : nodes)
            n += d.linear.weight.size() + index_t(d.linear.bias.size()) + d.conv.weight.size() + index_t(d.conv.bias.size());
        return n;
    }
    // MACs of one sample through the linear and conv nodes (their GEMM shapes).
    result<index_t> macs_per_sample() const;
    // What one sample costs (nn/work.hpp): its work (MACs, pooling taps, values moved) and the
    // memory a run of it takes; loaders compare them with their load_limits.
    result<sample_cost> cost_per_sample() const;
    // Every node's inputs exist and fit (infer_shapes).
    status validate() const;
};

// What the shape rules (shape_rules.hpp) read of a node.
inline node_facts facts_of(const node& d, const char* name) noexcept {
    node_facts f = shared_facts(d, name, d.conv.params);
    if (d.kind == op::linear) {
        f.weight_shape = {d.linear.weight.extent(0), d.linear.weight.extent(1), 1, 1};
        f.bias_size = d.linear.bias.size();
    } else if (d.kind == op::conv2d) {
        f.weight_shape = d.conv.weight.extents();
        f.bias_size = d.conv.bias.size();
    }
    return f;
}

// Whether a model's output list names values that exist (value ids 0 .. values - 1).
inline status check_outputs(const std::vector<int>& outputs, std::size_t values, const char* where) {
    for (int v : outputs)
        if (v < 0 || std::size_t(v) >= values)
            return status(errc::invalid_argument, "%s: output value %d does not exist (%zu values)", where, v, values);
    return status::success();
}

// Each value's per-sample shape (values.size() == nodes.size() + 1), or a status naming the
// node whose inputs do not fit (the rules: shape_rules.hpp).
inline result<std::vector<sample_shape>> infer_shapes(const model& m) {
    std::vector<sample_shape> v{m.input};
    if (!shape_fits(m.input))
        return status(errc::shape_mismatch, "model: input shape (%td, %td, %td) has an empty or too large dimension", m.input[0], m.input[1],
                      m.input[2]);
    if (m.nodes.empty()) return status(errc::invalid_argument, "model: no nodes");
    v.reserve(m.nodes.size() + 1);
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        auto y = output_shape(facts_of(m.nodes[i], m.nodes[i].name.c_str()), i, v.data(), "model");
        if (!y) return y.error();
        v.push_back(*y);
    }
    SPARQ_TRY(check_outputs(m.outputs, v.size(), "model"));
    return v;
}

inline index_t model::out_features() const {
    auto s = infer_shapes(*this);
    if (!s) return 0;
    const sample_shape& y = outputs.empty() ? s->back() : (*s)[std::size_t(outputs[0])];
    return y[0] * y[1] * y[2];
}

inline result<index_t> model::macs_per_sample() const {
    auto s = infer_shapes(*this);
    if (!s) return s.error();
    std::uint64_t macs = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].kind == op::linear || nodes[i].kind == op::conv2d)
            macs = saturating_add(macs, node_work(facts_of(nodes[i], ""), s->data(), (*s)[i + 1]));
    return index_t(macs > std::uint64_t(INT64_MAX) ? INT64_MAX : macs);
}

inline result<sample_cost> model::cost_per_sample() const {
    auto s = infer_shapes(*this);
    if (!s) return s.error();
    sample_cost c;
    std::uint64_t scratch = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const node_facts f = facts_of(nodes[i], "");
        c.work = saturating_add(c.work, node_work(f, s->data(), (*s)[i + 1]));
        const std::uint64_t b = node_scratch_bytes(f, (*s)[i + 1]);
        scratch = scratch > b ? scratch : b;
    }
    c.memory = run_bytes(s->data(), nodes.size(), [&](std::size_t i) -> const std::vector<int>& { return nodes[i].inputs; }, scratch, 1);
    return c;
}

inline status model::validate() const {
    auto s = infer_shapes(*this);
    return s ? status::success() : s.error();
}

// A copy of the layers of an MLP (a chain of linear nodes with their activations folded), what
// the trainer (nn/train) takes; a status naming the first node that is not such a link.
inline result<std::vector<linear_layer>> mlp_layers(const model& m) {
    std::vector<linear_layer> out;
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const node& n = m.nodes[i];
        if (n.kind != op::linear || n.inputs.size() != 1 || n.inputs[0] != int(i))
            return status(errc::unsupported, "model: node '%.60s' (%s) is not a linear layer of a chain: training handles MLPs",
                          n.name.c_str(), to_string(n.kind));
        linear_layer l;
        l.name = n.linear.name.empty() ? n.name : n.linear.name;
        auto w = n.linear.weight.clone();
        if (!w) return w.error();
        l.weight = std::move(*w);
        l.bias = n.linear.bias;
        l.act = n.linear.act;
        out.push_back(std::move(l));
    }
    return out;
}

}  // namespace sparq::nn
