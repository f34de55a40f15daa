// model: a trained network in fp32, as it arrives (from a safetensors or ONNX file), before any
// compression: a small graph of nodes in topological order. Values are numbered: 0 is the
// model's input, i + 1 the output of node i; the last node's output is the model's. Every value
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
};

struct model {
    sample_shape input{0, 1, 1};
    std::vector<node> nodes;

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
    index_t out_features() const;
    index_t parameters() const noexcept {
        index_t n = 0;
        for (const node& d : nodes)
            n += d.linear.weight.size() + index_t(d.linear.bias.size()) + d.conv.weight.size() + index_t(d.conv.bias.size());
        return n;
    }
    // MACs of one sample through the linear and conv nodes (their GEMM shapes).
    result<index_t> macs_per_sample() const;
    // Every node's inputs exist and fit (infer_shapes).
    status validate() const;
};

// The output shape of max / average pooling over x, or false when the window does not fit.
inline bool pool_output(const pool_params& p, const sample_shape& x, sample_shape& y) noexcept {
    const index_t h = x[1] + p.pad_top + p.pad_bottom, w = x[2] + p.pad_left + p.pad_right;
    if (p.kh < 1 || p.kw < 1 || p.stride_h < 1 || p.stride_w < 1 || p.kh > h || p.kw > w || p.pad_top < 0 || p.pad_left < 0 ||
        p.pad_bottom < 0 || p.pad_right < 0 || p.pad_top >= p.kh || p.pad_left >= p.kw)
        return false;
    y = {x[0], (h - p.kh) / p.stride_h + 1, (w - p.kw) / p.stride_w + 1};
    return true;
}

// Each value's per-sample shape (values.size() == nodes.size() + 1), or a status naming the
// node whose inputs do not fit.
inline result<std::vector<sample_shape>> infer_shapes(const model& m) {
    std::vector<sample_shape> v{m.input};
    if (m.input[0] < 1 || m.input[1] < 1 || m.input[2] < 1)
        return status(errc::shape_mismatch, "model: input shape (%td, %td, %td) has an empty dimension", m.input[0], m.input[1], m.input[2]);
    if (m.nodes.empty()) return status(errc::invalid_argument, "model: no nodes");
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const node& d = m.nodes[i];
        const char* name = d.name.c_str();
        const std::size_t want = d.kind == op::add ? 2 : d.kind == op::concat ? d.inputs.size() : 1;
        if (d.inputs.size() != want || (d.kind == op::concat && want < 2))
            return status(errc::invalid_argument, "model: node '%.60s' (%s) has %zu inputs", name, to_string(d.kind), d.inputs.size());
        for (int in : d.inputs)
            if (in < 0 || std::size_t(in) > i)
                return status(errc::invalid_argument, "model: node '%.60s' reads value %d, not yet made (graphs are in topological order)",
                              name, in);
        const sample_shape x = v[std::size_t(d.inputs[0])];
        sample_shape y = x;
        switch (d.kind) {
            case op::linear: {
                const linear_layer& l = d.linear;
                if (l.weight.size() == 0 || l.in_features() != x[0] * x[1] * x[2])
                    return status(errc::shape_mismatch, "model: linear '%.60s' takes %td features, its input has %td", name,
                                  l.in_features(), x[0] * x[1] * x[2]);
                if (!l.bias.empty() && index_t(l.bias.size()) != l.out_features())
                    return status(errc::shape_mismatch, "model: linear '%.60s' has %zu biases for %td outputs", name, l.bias.size(), l.out_features());
                y = {l.out_features(), 1, 1};
                break;
            }
            case op::conv2d: {
                const conv_layer& c = d.conv;
                auto out = kernels::conv2d_output({1, x[0], x[1], x[2]}, c.weight.extents(), c.params);
                if (!out) return status(out.error().code(), "model: conv2d '%.60s': %s", name, out.error().message());
                if (!c.bias.empty() && index_t(c.bias.size()) != c.weight.extent(0))
                    return status(errc::shape_mismatch, "model: conv2d '%.60s' has %zu biases for %td channels", name, c.bias.size(), c.weight.extent(0));
                y = {(*out)[1], (*out)[2], (*out)[3]};
                break;
            }
            case op::max_pool: case op::avg_pool:
                if (!pool_output(d.pool, x, y))
                    return status(errc::shape_mismatch, "model: %s '%.60s': a %tdx%td window (stride %td) does not fit a %tdx%td input",
                                  to_string(d.kind), name, d.pool.kh, d.pool.kw, d.pool.stride_h, x[1], x[2]);
                break;
            case op::global_avg_pool: y = {x[0], 1, 1}; break;
            case op::flatten: y = {x[0] * x[1] * x[2], 1, 1}; break;
            case op::add:
                if (v[std::size_t(d.inputs[1])] != x)
                    return status(errc::shape_mismatch, "model: add '%.60s' of different shapes", name);
                break;
            case op::concat:
                for (int in : d.inputs) {
                    const sample_shape& s = v[std::size_t(in)];
                    if (s[1] != x[1] || s[2] != x[2])
                        return status(errc::shape_mismatch, "model: concat '%.60s': inputs differ in height or width", name);
                    if (in != d.inputs[0]) y[0] += s[0];
                }
                break;
            default: break;  // elementwise: the shape stays
        }
        v.push_back(y);
    }
    return v;
}

inline index_t model::out_features() const {
    auto s = infer_shapes(*this);
    if (!s) return 0;
    const sample_shape& y = s->back();
    return y[0] * y[1] * y[2];
}

inline result<index_t> model::macs_per_sample() const {
    auto s = infer_shapes(*this);
    if (!s) return s.error();
    index_t macs = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const node& d = nodes[i];
        if (d.kind == op::linear) macs += d.linear.weight.size();
        if (d.kind == op::conv2d) {
            const sample_shape& y = (*s)[i + 1];
            macs += y[0] * y[1] * y[2] * d.conv.weight.extent(1) * d.conv.weight.extent(2) * d.conv.weight.extent(3);
        }
    }
    return macs;
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
