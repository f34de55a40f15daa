// Training any model graph (nn::model: convolutions, pooling, residual adds, concatenations),
// not only an MLP (backward.hpp): a forward pass over a batch that keeps every value, and the
// backward pass that walks the nodes in reverse, adding each node's input gradients to what
// its other consumers gave (a value read twice, as a residual input is, sums both).
//
//   linear   y = act(x W^T + b)            dW = dy^T x, db = sum dy, dx = dy W
//   conv2d   y = act(conv(x, W) + b)       dW[o, c, kh, kw] = sum dy[o, oh, ow] x[c, ih, iw], dx the
//                                          transposed convolution (groups, stride, padding, dilation)
//   relu, relu6, sigmoid, tanh, gelu       from the output (GELU from its input, erf form)
//   max_pool                               to the first maximum of each window (as the forward picks it)
//   avg_pool, global_avg_pool              spread over the window (its divisor as in the forward)
//   flatten, reshape, add, concat, softmax copy, both inputs, split by channels, y (dy - <dy, y>)
//                                          (softmax along its axis; add of equal shapes; concat
//                                          along channels)
// The other ops of ONNX import (sub, mul, batch_norm, pad, transpose, ...) are refused with a
// status naming the node: training covers the graphs sparq builds from safetensors layer lists.
// The forward uses nn/ops.hpp's float ops, so a trained model's logits are what inference gives
// in fp32 (up to the GEMM's summation order). Plain loops: digits-sized models train in seconds.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/ops.hpp"
#include "sparq/nn/train/backward.hpp"
#include "sparq/nn/train/optimizer.hpp"
#include "sparq/nn/train/trainer.hpp"

namespace sparq::nn::train {

// d loss / d (weight, bias) of one node, flat in the node's own layout (empty for nodes without).
struct node_grad {
    std::vector<float> weight;
    std::vector<float> bias;
};

// What one forward pass over a batch leaves for the backward pass.
struct graph_cache {
    std::vector<sample_shape> shapes;       // per value (0: the input)
    std::vector<tensor<float, 2>> values;   // per value: [batch, C*H*W]
    std::vector<tensor<float, 2>> grads;    // per value: d loss / d value
    std::vector<tensor<float, 2>> scratch;  // per node: W^T of linear nodes

    const tensor<float, 2>& logits() const noexcept { return values.back(); }
};

namespace detail {

inline const float* weight_of(const node& d) noexcept {
    return d.kind == op::linear ? d.linear.weight.data() : d.kind == op::conv2d ? d.conv.weight.data() : nullptr;
}
inline float* weight_of(node& d) noexcept {
    return d.kind == op::linear ? d.linear.weight.data() : d.kind == op::conv2d ? d.conv.weight.data() : nullptr;
}
inline index_t weight_size(const node& d) noexcept {
    return d.kind == op::linear ? d.linear.weight.size() : d.kind == op::conv2d ? d.conv.weight.size() : 0;
}
inline std::vector<float>& bias_of(node& d) noexcept { return d.kind == op::conv2d ? d.conv.bias : d.linear.bias; }
inline const std::vector<float>& bias_of(const node& d) noexcept { return d.kind == op::conv2d ? d.conv.bias : d.linear.bias; }

// Calls f(x index, w index) for every tap of output o's window at (oh, ow) that falls inside
// the input (padding contributes nothing): the one loop nest of the forward and backward passes.
template <class F>
void conv_taps(const sample_shape& in, const extents_t<4>& ws, const kernels::conv2d_params& p, index_t o, index_t oh, index_t ow,
               F&& f) noexcept {
    const index_t cg = ws[1], g = o / (ws[0] / p.groups);
    for (index_t c = 0; c < cg; ++c)
        for (index_t kh = 0; kh < ws[2]; ++kh) {
            const index_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
            if (ih < 0 || ih >= in[1]) continue;
            for (index_t kw = 0; kw < ws[3]; ++kw) {
                const index_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
                if (iw >= 0 && iw < in[2]) f(((g * cg + c) * in[1] + ih) * in[2] + iw, ((o * cg + c) * ws[2] + kh) * ws[3] + kw);
            }
        }
}

// y[o, oh, ow] += the convolution of one sample (y holds the bias already).
inline void conv_forward(const float* x, const sample_shape& in, const float* w, const extents_t<4>& ws, const kernels::conv2d_params& p,
                         float* y, const sample_shape& out) noexcept {
    for (index_t o = 0; o < out[0]; ++o)
        for (index_t oh = 0; oh < out[1]; ++oh)
            for (index_t ow = 0; ow < out[2]; ++ow) {
                float acc = 0.0f;
                conv_taps(in, ws, p, o, oh, ow, [&](index_t xi, index_t wi) { acc += x[xi] * w[wi]; });
                y[(o * out[1] + oh) * out[2] + ow] += acc;
            }
}

// Given dy of one sample: dw += dy * x, db += dy, dx += the transposed convolution of dy.
inline void conv_backward(const float* x, const sample_shape& in, const float* w, const extents_t<4>& ws, const kernels::conv2d_params& p,
                          const float* dy, const sample_shape& out, float* dw, float* db, float* dx) noexcept {
    for (index_t o = 0; o < out[0]; ++o)
        for (index_t oh = 0; oh < out[1]; ++oh)
            for (index_t ow = 0; ow < out[2]; ++ow) {
                const float d = dy[(o * out[1] + oh) * out[2] + ow];
                if (d == 0.0f) continue;
                if (db) db[o] += d;
                conv_taps(in, ws, p, o, oh, ow, [&](index_t xi, index_t wi) {
                    dw[wi] += d * x[xi];
                    dx[xi] += d * w[wi];
                });
            }
}

// dx += the gradient of max / average pooling of one plane.
inline void pool_backward(op kind, const pool_params& p, const float* x, index_t h, index_t w, const float* dy, index_t oh_n, index_t ow_n,
                          float* dx) noexcept {
    for (index_t oh = 0; oh < oh_n; ++oh)
        for (index_t ow = 0; ow < ow_n; ++ow) {
            const float d = dy[oh * ow_n + ow];
            const index_t h0 = oh * p.stride_h - p.pad_top, w0 = ow * p.stride_w - p.pad_left;
            // the taps on the input only, as the forward pass (ops.hpp); the max as it picks it
            // (a NaN wins and stays)
            const index_t kh_lo = h0 < 0 ? -h0 : 0, kh_hi = p.kh < h - h0 ? p.kh : h - h0;
            const index_t kw_lo = w0 < 0 ? -w0 : 0, kw_hi = p.kw < w - w0 ? p.kw : w - w0;
            index_t best = -1, valid = 0;
            for (index_t kh = kh_lo; kh < kh_hi; ++kh)
                for (index_t kw = kw_lo; kw < kw_hi; ++kw) {
                    const index_t i = (h0 + kh) * w + w0 + kw;
                    ++valid;
                    if (best < 0 || x[i] > x[best] || (std::isnan(x[i]) && !std::isnan(x[best]))) best = i;
                }
            if (kind == op::max_pool) {
                if (best >= 0) dx[best] += d;
                continue;
            }
            const float share = d / float(p.count_include_pad ? p.kh * p.kw : (valid ? valid : 1));
            for (index_t kh = kh_lo; kh < kh_hi; ++kh)
                for (index_t kw = kw_lo; kw < kw_hi; ++kw) dx[(h0 + kh) * w + w0 + kw] += share;
        }
}

inline index_t elements(const sample_shape& s) noexcept { return s[0] * s[1] * s[2]; }

// Whether the passes below cover every node of m (shapes: infer_shapes(m)).
inline status check_trainable(const model& m, const std::vector<sample_shape>& shapes) {
    if (!m.outputs.empty() && !(m.outputs.size() == 1 && std::size_t(m.outputs[0]) == m.nodes.size()))
        return status(errc::unsupported, "training: the model returns %zu values (or not its last one): training takes the last value's logits",
                      m.outputs.size());
    for (const node& d : m.nodes) {
        bool ok = true;
        switch (d.kind) {
            // (not per row of a sequence; activations folded in: relu, relu6, whose backward is a mask)
            case op::linear: ok = d.params.axis == 0 && kernels::clamps_codes(d.linear.act); break;
            case op::conv2d: ok = kernels::clamps_codes(d.conv.act); break;
            case op::relu: case op::relu6: case op::sigmoid: case op::tanh: case op::gelu:
            case op::max_pool: case op::avg_pool: case op::global_avg_pool: case op::flatten: case op::reshape: case op::softmax:
                break;
            case op::add: ok = d.inputs.size() == 2 && shapes[std::size_t(d.inputs[0])] == shapes[std::size_t(d.inputs[1])]; break;
            case op::concat: ok = d.params.axis == 0; break;
            case op::silu: case op::hard_sigmoid: case op::hard_swish: case op::leaky_relu: case op::clip: case op::exp: case op::sqrt:
            case op::neg: case op::erf: case op::sub: case op::mul: case op::div: case op::pow: case op::batch_norm: case op::pad:
            case op::transpose: case op::reduce_mean:
                return status(errc::unsupported, "training: node '%.60s': op '%s' has no backward pass here", d.name.c_str(), to_string(d.kind));
        }
        if (!ok)
            return status(errc::unsupported, "training: node '%.60s': op '%s' with broadcasting or along another axis has no backward pass here",
                          d.name.c_str(), to_string(d.kind));
    }
    return status::success();
}

}  // namespace detail

// One gradient per node, shaped as its parameters (zero).
inline std::vector<node_grad> make_graph_grads(const model& m) {
    std::vector<node_grad> g(m.nodes.size());
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        g[i].weight.assign(std::size_t(detail::weight_size(m.nodes[i])), 0.0f);
        g[i].bias.assign(detail::bias_of(m.nodes[i]).size(), 0.0f);
    }
    return g;
}

// The model's parameter arrays with their gradients, in node order (weights, then biases).
inline std::vector<param_ref> graph_params(model& m, const std::vector<node_grad>& g) {
    std::vector<param_ref> p;
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        node& d = m.nodes[i];
        if (detail::weight_size(d) == 0) continue;
        p.push_back({detail::weight_of(d), g[i].weight.data(), g[i].weight.size()});
        if (!detail::bias_of(d).empty()) p.push_back({detail::bias_of(d).data(), g[i].bias.data(), g[i].bias.size()});
    }
    return p;
}

// The forward pass over x [batch, C*H*W of the input]; every value stays in c.values.
inline status graph_forward(const model& m, const matrix_view<const float>& x, graph_cache& c) {
    if (c.shapes.empty()) {
        auto shapes = infer_shapes(m);
        if (!shapes) return shapes.error();
        SPARQ_TRY(detail::check_trainable(m, *shapes));
        c.shapes = std::move(*shapes);
    }
    if (x.extent(1) != m.in_features())
        return status(errc::shape_mismatch, "forward: inputs have %td values per sample, the model takes %td", x.extent(1), m.in_features());
    const index_t batch = x.extent(0);
    const std::size_t values = c.shapes.size();
    c.values.resize(values), c.grads.resize(values), c.scratch.resize(m.nodes.size());
    for (std::size_t v = 0; v < values; ++v) SPARQ_TRY(detail::ensure(c.values[v], batch, detail::elements(c.shapes[v])));
    for (index_t r = 0; r < batch; ++r)
        for (index_t k = 0; k < x.extent(1); ++k) c.values[0](r, k) = x(r, k);
    const context ctx;
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const node& d = m.nodes[i];
        const std::size_t in = std::size_t(d.inputs[0]);
        const sample_shape& xs = c.shapes[in];
        const sample_shape& ys = c.shapes[i + 1];
        const float* xv = c.values[in].data();
        float* yv = c.values[i + 1].data();
        const index_t n_in = detail::elements(xs), n_out = detail::elements(ys);
        switch (d.kind) {
            case op::linear:
                SPARQ_TRY(linear_forward(c.values[in].cview(), d.linear.weight.cview(), d.linear.bias, c.scratch[i], c.values[i + 1].view()));
                for (index_t k = 0; k < batch * n_out; ++k) yv[k] = kernels::activate(yv[k], d.linear.act);
                break;
            case op::conv2d: {
                const index_t plane = ys[1] * ys[2];
                for (index_t b = 0; b < batch; ++b) {
                    float* y = yv + b * n_out;
                    for (index_t k = 0; k < n_out; ++k) y[k] = d.conv.bias.empty() ? 0.0f : d.conv.bias[std::size_t(k / plane)];
                    detail::conv_forward(xv + b * n_in, xs, d.conv.weight.data(), d.conv.weight.extents(), d.conv.params, y, ys);
                    for (index_t k = 0; k < n_out; ++k) y[k] = kernels::activate(y[k], d.conv.act);
                }
                break;
            }
            case op::relu: case op::relu6: case op::sigmoid: case op::tanh: case op::gelu:
                ops::activation(ctx, d.kind, xv, yv, batch * n_in);
                break;
            case op::max_pool: case op::avg_pool: ops::pool(ctx, d.kind, d.pool, xv, xs, yv, ys, batch); break;
            case op::global_avg_pool: ops::global_avg_pool(ctx, xv, xs, yv, batch); break;
            case op::flatten: case op::reshape:
                for (index_t k = 0; k < batch * n_in; ++k) yv[k] = xv[k];
                break;
            case op::add: ops::add(ctx, xv, c.values[std::size_t(d.inputs[1])].data(), yv, batch * n_out); break;
            case op::concat: {
                std::vector<const float*> parts;
                std::vector<index_t> sizes;
                for (int v : d.inputs) parts.push_back(c.values[std::size_t(v)].data()), sizes.push_back(detail::elements(c.shapes[std::size_t(v)]));
                ops::concat(ctx, parts.data(), sizes.data(), parts.size(), yv, batch);
                break;
            }
            case op::softmax: ops::softmax_axis(ctx, xv, yv, xs, int(d.params.axis), batch); break;
            default:  // refused by check_trainable
                return status(errc::unsupported, "training: node '%.60s': op '%s' has no forward pass here", d.name.c_str(), to_string(d.kind));
        }
    }
    return status::success();
}

// The backward pass of the last graph_forward(): dlogits is d loss / d logits; g (make_graph_grads)
// receives every node's gradients (set, not accumulated).
inline status graph_backward(const model& m, graph_cache& c, const matrix_view<const float>& dlogits, std::vector<node_grad>& g) {
    if (c.values.size() != m.nodes.size() + 1) return status(errc::invalid_argument, "backward: no forward pass of this model to go back through");
    if (g.size() != m.nodes.size()) return status(errc::invalid_argument, "backward: %zu gradients for %zu nodes", g.size(), m.nodes.size());
    SPARQ_TRY(check_same_shape(c.logits().cview(), dlogits, "backward: d loss / d logits"));
    const index_t batch = dlogits.extent(0);
    for (std::size_t v = 0; v < c.values.size(); ++v) {
        SPARQ_TRY(detail::ensure(c.grads[v], batch, detail::elements(c.shapes[v])));
        c.grads[v].fill(0.0f);
    }
    for (index_t r = 0; r < batch; ++r)
        for (index_t k = 0; k < dlogits.extent(1); ++k) c.grads.back()(r, k) = dlogits(r, k);
    for (std::size_t i = m.nodes.size(); i-- > 0;) {
        const node& d = m.nodes[i];
        node_grad& ng = g[i];
        if (ng.weight.size() != std::size_t(detail::weight_size(d)) || ng.bias.size() != detail::bias_of(d).size())
            return status(errc::shape_mismatch, "backward: the gradient of node '%.60s' is not shaped as its parameters", d.name.c_str());
        for (float& v : ng.weight) v = 0.0f;
        for (float& v : ng.bias) v = 0.0f;
        const std::size_t in = std::size_t(d.inputs[0]);
        const sample_shape& xs = c.shapes[in];
        const sample_shape& ys = c.shapes[i + 1];
        const index_t n_in = detail::elements(xs), n_out = detail::elements(ys);
        const float* x = c.values[in].data();
        const float* y = c.values[i + 1].data();
        float* dy = c.grads[i + 1].data();
        float* dx = c.grads[in].data();
        switch (d.kind) {
            case op::linear: {
                activation_backward(c.values[i + 1].cview(), d.linear.act, c.grads[i + 1].view());
                auto lg = make_grad(d.linear);
                if (!lg) return lg.error();
                zero(*lg);
                SPARQ_TRY(detail::ensure(c.scratch[i], batch, n_in));  // W^T is not needed any more: dx of this node
                linear_backward(c.values[in].cview(), d.linear.weight.cview(), c.grads[i + 1].cview(), *lg, c.scratch[i].view());
                for (index_t k = 0; k < lg->weight.size(); ++k) ng.weight[std::size_t(k)] = lg->weight.data()[k];
                ng.bias = lg->bias;
                for (index_t k = 0; k < batch * n_in; ++k) dx[k] += c.scratch[i].data()[k];
                break;
            }
            case op::conv2d: {
                for (index_t k = 0; k < batch * n_out; ++k) {
                    const float z = y[k];
                    const kernels::activation a = d.conv.act;
                    if ((a == kernels::activation::relu && !(z > 0.0f)) || (a == kernels::activation::relu6 && !(z > 0.0f && z < 6.0f))) dy[k] = 0.0f;
                }
                for (index_t b = 0; b < batch; ++b)
                    detail::conv_backward(x + b * n_in, xs, d.conv.weight.data(), d.conv.weight.extents(), d.conv.params, dy + b * n_out, ys,
                                          ng.weight.data(), ng.bias.empty() ? nullptr : ng.bias.data(), dx + b * n_in);
                break;
            }
            case op::relu: case op::relu6: case op::sigmoid: case op::tanh: case op::gelu:
                for (index_t k = 0; k < batch * n_out; ++k) {
                    const float z = y[k];
                    float slope = 1.0f;
                    switch (d.kind) {
                        case op::relu: slope = z > 0.0f ? 1.0f : 0.0f; break;
                        case op::relu6: slope = z > 0.0f && z < 6.0f ? 1.0f : 0.0f; break;
                        case op::sigmoid: slope = z * (1.0f - z); break;
                        case op::tanh: slope = 1.0f - z * z; break;
                        default: {  // GELU, erf form: Phi(v) + v phi(v)
                            const double v = x[k];
                            slope = float(0.5 * (1.0 + std::erf(v * 0.70710678118654752)) + v * std::exp(-0.5 * v * v) * 0.3989422804014327);
                        }
                    }
                    dx[k] += dy[k] * slope;
                }
                break;
            case op::max_pool: case op::avg_pool:
                for (index_t plane = 0; plane < batch * xs[0]; ++plane)
                    detail::pool_backward(d.kind, d.pool, x + plane * xs[1] * xs[2], xs[1], xs[2], dy + plane * ys[1] * ys[2], ys[1], ys[2],
                                          dx + plane * xs[1] * xs[2]);
                break;
            case op::global_avg_pool: {
                const index_t hw = xs[1] * xs[2];
                for (index_t plane = 0; plane < batch * xs[0]; ++plane)
                    for (index_t k = 0; k < hw; ++k) dx[plane * hw + k] += dy[plane] / float(hw);
                break;
            }
            case op::flatten: case op::reshape:
                for (index_t k = 0; k < batch * n_in; ++k) dx[k] += dy[k];
                break;
            case op::add: {
                float* dx1 = c.grads[std::size_t(d.inputs[1])].data();
                for (index_t k = 0; k < batch * n_out; ++k) dx[k] += dy[k], dx1[k] += dy[k];
                break;
            }
            case op::concat:
                for (index_t b = 0; b < batch; ++b) {
                    const float* from = dy + b * n_out;
                    for (int v : d.inputs) {
                        const index_t n = detail::elements(c.shapes[std::size_t(v)]);
                        float* to = c.grads[std::size_t(v)].data() + b * n;
                        for (index_t k = 0; k < n; ++k) to[k] += *from++;
                    }
                }
                break;
            case op::softmax: {
                // along the axis: each (outer, inner) line of n values on its own
                const int axis = int(d.params.axis);
                index_t outer = batch, inner = 1;
                for (int k = 0; k < axis; ++k) outer *= ys[std::size_t(k)];
                for (int k = axis + 1; k < 3; ++k) inner *= ys[std::size_t(k)];
                const index_t n = ys[std::size_t(axis)];
                for (index_t o = 0; o < outer; ++o)
                    for (index_t j = 0; j < inner; ++j) {
                        const index_t at = o * n * inner + j;
                        double dot = 0;
                        for (index_t k = 0; k < n; ++k) dot += double(dy[at + k * inner]) * y[at + k * inner];
                        for (index_t k = 0; k < n; ++k) dx[at + k * inner] += y[at + k * inner] * float(dy[at + k * inner] - dot);
                    }
                break;
            }
            default:  // refused by check_trainable in the forward pass
                return status(errc::unsupported, "training: node '%.60s': op '%s' has no backward pass here", d.name.c_str(), to_string(d.kind));
        }
    }
    return status::success();
}

// Trains a model graph in place on x [N, C*H*W of the input] with the given loss (the MLP
// trainer's epochs, batches, optimizers and divergence checks). keep_zeros keeps pruned weights
// at zero; fake-quant (qat) and per-layer masks are the MLP trainer's (train()).
inline result<train_report> train_model(model& m, const matrix_view<const float>& x, const loss_fn& loss, const train_options& o) {
    if (m.nodes.empty()) return status(errc::invalid_argument, "training: the model has no nodes");
    if (x.extent(0) == 0) return status(errc::invalid_argument, "training: no samples");
    if (o.qat || o.masks)
        return status(errc::unsupported, "training a model graph: QAT and per-layer masks are for MLPs (train()); keep_zeros keeps a pruned graph pruned");
    SPARQ_TRY(detail::check_train_options(loss, o));
    for (index_t i = 0; i < x.extent(0); ++i)
        for (index_t j = 0; j < x.extent(1); ++j)
            if (!std::isfinite(x(i, j)))
                return status(errc::invalid_argument, "training: input [%td, %td] is %g (clean the data first)", i, j, double(x(i, j)));
    graph_cache cache;
    auto shapes = infer_shapes(m);
    if (!shapes) return shapes.error();
    cache.shapes = std::move(*shapes);
    if (x.extent(1) != m.in_features())
        return status(errc::shape_mismatch, "training: samples have %td values, the model takes %td", x.extent(1), m.in_features());
    std::vector<node_grad> grads = make_graph_grads(m);
    const std::vector<param_ref> params = graph_params(m, grads);
    std::vector<std::size_t> sizes;
    for (const param_ref& p : params) sizes.push_back(p.size);
    auto opt = optimizer::make(sizes, o.optim);
    if (!opt) return opt.error();
    // keep_zeros: one flag per weight of each node, 1 where it may train.
    std::vector<std::vector<std::uint8_t>> live(m.nodes.size());
    if (o.keep_zeros)
        for (std::size_t i = 0; i < m.nodes.size(); ++i) {
            const float* w = detail::weight_of(m.nodes[i]);
            for (index_t k = 0; k < detail::weight_size(m.nodes[i]); ++k) live[i].push_back(w[k] != 0.0f);
        }
    auto fwd = [&](const matrix_view<const float>& xb) -> result<matrix_view<const float>> {
        SPARQ_TRY(graph_forward(m, xb, cache));
        return cache.logits().cview();
    };
    auto step = [&](const matrix_view<float>& dlogits) -> status {
        SPARQ_TRY(graph_backward(m, cache, dlogits.as_const(), grads));
        SPARQ_TRY(opt->step(params));
        for (std::size_t i = 0; i < live.size(); ++i) {
            float* w = detail::weight_of(m.nodes[i]);
            for (std::size_t k = 0; k < live[i].size(); ++k)
                if (!live[i][k]) w[k] = 0.0f;  // Adam's moments would move them: put them back
        }
        return status::success();
    };
    auto finite = [&] {
        for (const param_ref& p : params)
            for (std::size_t k = 0; k < p.size; ++k)
                if (!std::isfinite(p.value[k])) return false;
        return true;
    };
    return detail::run_epochs(x, m.out_features(), loss, o, fwd, step, finite);
}

// Softmax cross-entropy on labels (one per row of x).
inline result<train_report> train_model_classifier(model& m, const matrix_view<const float>& x, const std::vector<std::int64_t>& labels,
                                                   const train_options& o) {
    if (index_t(labels.size()) != x.extent(0))
        return status(errc::shape_mismatch, "training: %zu labels for %td samples", labels.size(), x.extent(0));
    SPARQ_TRY(check_labels(vector_view<const std::int64_t>(labels.data(), {index_t(labels.size())}), x.extent(0), m.out_features(),
                           "training labels"));
    return train_model(m, x, detail::cross_entropy_on(labels), o);
}

// The fp32 logits of a model graph on x, in batches of 256.
inline result<tensor<float, 2>> predict(const model& m, const matrix_view<const float>& x) {
    graph_cache c;
    return detail::predict_in_batches(x, m.out_features(), [&](const matrix_view<const float>& xb) -> result<matrix_view<const float>> {
        SPARQ_TRY(graph_forward(m, xb, c));
        return c.logits().cview();
    });
}

}  // namespace sparq::nn::train
