// Graph rewrites on an imported model, each exact (the same function, fewer nodes or fewer
// passes over memory), each applied only where the intermediate value it removes has exactly
// one consumer and is not a model output:
//
//   conv2d / linear -> batch_norm            the normalisation folded into weights and bias
//   conv2d / linear -> add / sub / mul of a per-channel constant   folded into weights and bias
//   conv2d / linear -> relu / relu6          the activation folded into the layer
//   pad (zeros, spatial) -> conv2d           the padding folded into the convolution's
//   x * sigmoid(x)                           silu(x)
//   x * hard_sigmoid(x) (1/6, 1/2)           hard_swish(x)
//   (x * (erf(x / sqrt 2) + 1)) * 0.5        gelu(x) (PyTorch's export of nn.GELU)
//
// then nodes whose outputs no model output needs are removed and values renumbered.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/nn/model.hpp"

namespace sparq::nn {

namespace detail {

// The graph being rewritten, with each value's uses and consumers kept up to date as nodes are
// rewired or removed, so a rewrite costs the nodes it touches, not a pass over the graph (a
// file of 20000 Conv -> Relu pairs took minutes when every removal recounted every use).
class graph_rewriter {
public:
    explicit graph_rewriter(model& m)
        : m_(m), alive_(m.nodes.size(), 1), uses_(m.nodes.size() + 1, 0), is_output_(m.nodes.size() + 1, 0),
          consumers_(m.nodes.size() + 1) {
        if (m_.outputs.empty() && !m_.nodes.empty()) m_.outputs = {int(m_.nodes.size())};
        for (std::size_t i = 0; i < m_.nodes.size(); ++i)
            for (int in : m_.nodes[i].inputs) ++uses_[std::size_t(in)], consumers_[std::size_t(in)].push_back(i);
        for (int o : m_.outputs) is_output_[std::size_t(o)] = 1;
    }

    node& producer(int v) { return m_.nodes[std::size_t(v - 1)]; }
    bool made_by(int v, op k) const { return v > 0 && alive_[std::size_t(v - 1)] && m_.nodes[std::size_t(v - 1)].kind == k; }
    // v may disappear into its consumer: one consumer, not a model output, made by a node
    bool private_value(int v) const { return v > 0 && uses_[std::size_t(v)] == 1 && !is_output_[std::size_t(v)]; }
    // Node i now reads `in` instead of its inputs.
    void set_inputs(std::size_t i, std::vector<int> in) {
        for (int v : m_.nodes[i].inputs) --uses_[std::size_t(v)];
        for (int v : in) ++uses_[std::size_t(v)], consumers_[std::size_t(v)].push_back(i);
        m_.nodes[i].inputs = std::move(in);
    }
    // Node i's output is now value `to` (an earlier value); node i is gone.
    void forward(std::size_t i, int to) {
        const std::size_t from = i + 1;
        // (a consumer may be listed twice, or have been rewired since: only its reads of `from` move)
        for (std::size_t c : consumers_[from]) {
            if (!alive_[c]) continue;
            bool reads = false;
            for (int& in : m_.nodes[c].inputs)
                if (std::size_t(in) == from) in = to, --uses_[from], ++uses_[std::size_t(to)], reads = true;
            if (reads) consumers_[std::size_t(to)].push_back(c);
        }
        consumers_[from].clear();
        if (is_output_[from]) {
            for (int& o : m_.outputs)
                if (std::size_t(o) == from) o = to;
            is_output_[from] = 0, is_output_[std::size_t(to)] = 1;
        }
        kill(i);
    }
    void kill(std::size_t i) {
        if (!alive_[i]) return;
        alive_[i] = 0;
        for (int v : m_.nodes[i].inputs) --uses_[std::size_t(v)];
    }
    bool alive(std::size_t i) const { return alive_[i] != 0; }
    // Drops dead nodes and nodes no output needs; renumbers values.
    void compact() {
        std::vector<std::uint8_t> needed(m_.nodes.size() + 1, 0);
        for (int o : m_.outputs) needed[std::size_t(o)] = 1;
        for (std::size_t i = m_.nodes.size(); i-- > 0;)
            if (needed[i + 1] && alive_[i])
                for (int in : m_.nodes[i].inputs) needed[std::size_t(in)] = 1;
        std::vector<int> id(m_.nodes.size() + 1, -1);
        id[0] = 0;
        std::vector<node> kept;
        for (std::size_t i = 0; i < m_.nodes.size(); ++i) {
            if (!alive_[i] || !needed[i + 1]) continue;
            node d = std::move(m_.nodes[i]);
            for (int& in : d.inputs) in = id[std::size_t(in)];
            kept.push_back(std::move(d));
            id[i + 1] = int(kept.size());
        }
        for (int& o : m_.outputs) o = id[std::size_t(o)];
        m_.nodes = std::move(kept);
        alive_.assign(m_.nodes.size(), 1);
        // one output, the last node's: the default form
        if (m_.outputs.size() == 1 && m_.outputs[0] == int(m_.nodes.size())) m_.outputs.clear();
    }

private:
    model& m_;
    std::vector<std::uint8_t> alive_;
    std::vector<int> uses_;                         // per value: reads by live nodes
    std::vector<std::uint8_t> is_output_;           // per value
    std::vector<std::vector<std::size_t>> consumers_;  // per value: nodes that read it (or did)
};

inline bool is_layer(const node& d) { return d.kind == op::conv2d || d.kind == op::linear; }
inline kernels::activation& layer_act(node& d) { return d.kind == op::conv2d ? d.conv.act : d.linear.act; }
inline std::vector<float>& layer_bias(node& d) { return d.kind == op::conv2d ? d.conv.bias : d.linear.bias; }
inline index_t layer_channels(const node& d) { return d.kind == op::conv2d ? d.conv.weight.extent(0) : d.linear.out_features(); }
inline float* layer_weights(node& d) { return d.kind == op::conv2d ? d.conv.weight.data() : d.linear.weight.data(); }
inline index_t layer_weights_per_channel(const node& d) {
    return d.kind == op::conv2d ? d.conv.weight.size() / d.conv.weight.extent(0) : d.linear.in_features();
}

// The sample dim of a layer's output channels: 0, or a per-row linear layer's axis.
inline int channel_axis(const node& layer) { return layer.kind == op::linear ? layer.params.axis : 0; }

// A constant operand of one value per output channel (extent C on the channel axis, 1
// elsewhere) or one value for all.
inline bool per_channel_constant(const node& d, index_t channels, int axis) {
    if (d.inputs.size() != 1 || d.params.constant_first) return false;
    const sample_shape& s = d.params.shape;
    bool along = index_t(d.constant.size()) == channels;
    for (int k = 0; k < 3; ++k) along = along && s[std::size_t(k)] == (k == axis ? channels : 1);
    return d.constant.size() == 1 || along;
}

inline float scalar_constant(const node& d, float fallback) {
    return d.inputs.size() == 1 && d.constant.size() == 1 ? d.constant[0] : fallback;
}

// y = x * scale[c] + shift[c] folded into the layer making x.
inline void fold_affine(node& layer, const float* scale, const float* shift, bool scalar) {
    const index_t channels = layer_channels(layer), per = layer_weights_per_channel(layer);
    std::vector<float>& bias = layer_bias(layer);
    if (bias.empty()) bias.assign(std::size_t(channels), 0.0f);
    float* w = layer_weights(layer);
    for (index_t c = 0; c < channels; ++c) {
        const float s = scale ? scale[scalar ? 0 : c] : 1.0f, t = shift ? shift[scalar ? 0 : c] : 0.0f;
        for (index_t i = 0; i < per; ++i) w[c * per + i] *= s;
        bias[std::size_t(c)] = bias[std::size_t(c)] * s + t;
    }
}

}  // namespace detail

// Removes nodes that no model output needs, renumbering values (no other rewrite).
inline status prune_dead_nodes(model& m) {
    if (m.nodes.empty()) return status::success();
    detail::graph_rewriter g(m);
    g.compact();
    return status::success();
}

inline status fuse(model& m) {
    if (m.nodes.empty()) return status::success();
    for (const node& d : m.nodes)
        for (int in : d.inputs)
            if (in < 0 || std::size_t(in) > m.nodes.size()) return status(errc::invalid_argument, "fuse: node '%.60s' reads value %d", d.name.c_str(), in);
    detail::graph_rewriter g(m);
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        if (!g.alive(i)) continue;
        node& d = m.nodes[i];
        if (d.inputs.empty()) continue;
        const int x = d.inputs[0];
        const bool layer_before = x > 0 && g.alive(std::size_t(x - 1)) && detail::is_layer(g.producer(x)) && g.private_value(x) &&
                                  detail::layer_act(g.producer(x)) == kernels::activation::none;
        // a layer's own output shape: the channel is sample dim 0 (a linear's [N, 1, 1] only)
        if (layer_before) {
            node& p = g.producer(x);
            const index_t channels = detail::layer_channels(p);
            if (d.kind == op::batch_norm && index_t(d.constant.size()) == 2 * channels && detail::channel_axis(p) == 0) {
                detail::fold_affine(p, d.constant.data(), d.constant.data() + channels, false);
                g.forward(i, x);
                continue;
            }
            if ((d.kind == op::add || d.kind == op::sub || d.kind == op::mul) && detail::per_channel_constant(d, channels, detail::channel_axis(p))) {
                std::vector<float> c = d.constant;
                if (d.kind == op::sub)
                    for (float& v : c) v = -v;
                const bool scalar = c.size() == 1;
                if (d.kind == op::mul) detail::fold_affine(p, c.data(), nullptr, scalar);
                else detail::fold_affine(p, nullptr, c.data(), scalar);
                g.forward(i, x);
                continue;
            }
            if (d.kind == op::relu || d.kind == op::relu6) {
                detail::layer_act(p) = d.kind == op::relu ? kernels::activation::relu : kernels::activation::relu6;
                g.forward(i, x);
                continue;
            }
        }
        if (d.kind == op::conv2d && g.made_by(x, op::pad) && g.private_value(x)) {
            node& p = g.producer(x);
            const auto& q = p.params.pads;
            // (zeros only, and no crop: a Slice is a pad node with negative pads)
            if (p.params.alpha == 0.0f && q[0] == 0 && q[3] == 0 && q[1] >= 0 && q[2] >= 0 && q[4] >= 0 && q[5] >= 0) {
                d.conv.params.pad_top += q[1], d.conv.params.pad_left += q[2];
                d.conv.params.pad_bottom += q[4], d.conv.params.pad_right += q[5];
                std::vector<int> in = d.inputs;
                in[0] = p.inputs[0];
                g.set_inputs(i, std::move(in));
                g.kill(std::size_t(x - 1));
                continue;
            }
        }
        if (d.kind == op::mul && d.inputs.size() == 2) {
            // x * f(x) with f = sigmoid or hard_sigmoid(1/6, 1/2), either operand order
            for (int side = 0; side < 2; ++side) {
                const int a = d.inputs[std::size_t(side)], b = d.inputs[std::size_t(1 - side)];
                if (!g.private_value(b)) continue;
                const node& f = g.producer(b);
                if (!g.alive(std::size_t(b - 1)) || f.inputs.size() != 1 || f.inputs[0] != a) continue;
                const bool silu = f.kind == op::sigmoid;
                const bool hswish = f.kind == op::hard_sigmoid && std::fabs(f.params.alpha - 1.0f / 6.0f) < 1e-6f && f.params.beta == 0.5f;
                if (!silu && !hswish) continue;
                d.kind = silu ? op::silu : op::hard_swish;
                g.set_inputs(i, {a});
                g.kill(std::size_t(b - 1));
                break;
            }
            if (d.kind != op::mul) continue;
        }
        // GELU: mul(mul(a, add(erf(div(a, sqrt2)), 1)), 0.5)
        if (d.kind == op::mul && d.inputs.size() == 1 && detail::scalar_constant(d, 0.0f) == 0.5f && g.made_by(x, op::mul) && g.private_value(x)) {
            node& t = g.producer(x);
            if (t.inputs.size() != 2) continue;
            for (int side = 0; side < 2; ++side) {
                const int a = t.inputs[std::size_t(side)], u = t.inputs[std::size_t(1 - side)];
                if (!g.made_by(u, op::add) || !g.private_value(u) || detail::scalar_constant(g.producer(u), 0.0f) != 1.0f) continue;
                const int e = g.producer(u).inputs[0];
                if (!g.made_by(e, op::erf) || !g.private_value(e)) continue;
                const int q = g.producer(e).inputs[0];
                if (!g.private_value(q) || !(g.made_by(q, op::div) || g.made_by(q, op::mul))) continue;
                const node& s = g.producer(q);
                const float c = detail::scalar_constant(s, 0.0f);
                const bool scaled = s.kind == op::div ? std::fabs(c - 1.41421356f) < 1e-5f : std::fabs(c - 0.70710678f) < 1e-6f;
                if (!scaled || s.params.constant_first || s.inputs[0] != a) continue;
                d.kind = op::gelu;
                g.set_inputs(i, {a});
                d.constant.clear();
                g.kill(std::size_t(q - 1));
                g.kill(std::size_t(e - 1));
                g.kill(std::size_t(u - 1));
                g.kill(std::size_t(x - 1));
                break;
            }
        }
    }
    g.compact();
    return status::success();
}

}  // namespace sparq::nn
