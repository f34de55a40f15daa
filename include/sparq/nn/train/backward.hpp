// The training pass of an MLP (a stack of nn::linear_layer): a forward pass that keeps what the
// backward pass needs, and the backward pass that turns d loss / d logits into the gradients of
// every weight and bias. Linear layers with their folded activation (none, ReLU, ReLU6); with a
// qat_state, fake-quantized weights and layer inputs (nn/train/qat.hpp).
//
//   forward   y_i = x_i W_i^T + b_i,  z_i = act(y_i),  x_{i+1} = z_i (or fake_quant(z_i))
//   backward  dy_i = dz_i * act'(y_i);  dW_i = dy_i^T x_i;  db_i = sum_rows dy_i;  dx_i = dy_i W_i
//             act' = 1 (none), [y > 0] (ReLU), [0 < y < 6] (ReLU6), as PyTorch's threshold /
//             hardtanh backward; through a fake quant, times its straight-through mask.
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/train/qat.hpp"

namespace sparq::nn::train {

// d loss / d (weight, bias) of one linear layer, shaped as the layer.
struct linear_grad {
    tensor<float, 2> weight;  // [out, in]
    std::vector<float> bias;  // out values, or empty when the layer has no bias
};

inline result<linear_grad> make_grad(const linear_layer& l) {
    auto w = tensor<float, 2>::make(l.weight.extents());
    if (!w) return w.error();
    linear_grad g;
    g.weight = std::move(*w);
    g.bias.assign(l.bias.size(), 0.0f);
    return g;
}

inline result<std::vector<linear_grad>> make_grads(const std::vector<linear_layer>& layers) {
    std::vector<linear_grad> g;
    for (const linear_layer& l : layers) {
        auto one = make_grad(l);
        if (!one) return one.error();
        g.push_back(std::move(*one));
    }
    return g;
}

inline void zero(linear_grad& g) noexcept {
    g.weight.fill(0.0f);
    for (float& b : g.bias) b = 0.0f;
}

namespace detail {
inline status ensure(tensor<float, 2>& t, index_t rows, index_t cols) {
    if (t.extent(0) == rows && t.extent(1) == cols) return status::success();
    auto m = tensor<float, 2>::make({rows, cols});
    if (!m) return m.error();
    t = std::move(*m);
    return status::success();
}
}  // namespace detail

// y = x W^T + b: x [batch, in], w [out, in], y [batch, out]. wt is scratch for W^T ([in, out]),
// so that the inner loop runs along contiguous rows (the compiler vectorises it). Rows of x and
// y are contiguous (stride 1 along the features).
inline status linear_forward(const matrix_view<const float>& x, const matrix_view<const float>& w, const std::vector<float>& b,
                           tensor<float, 2>& wt, const matrix_view<float>& y) {
    const index_t batch = x.extent(0), in = w.extent(1), out = w.extent(0);
    SPARQ_TRY(detail::ensure(wt, in, out));
    for (index_t o = 0; o < out; ++o)
        for (index_t i = 0; i < in; ++i) wt(i, o) = w(o, i);
    const float* wtp = wt.data();
    for (index_t r = 0; r < batch; ++r) {
        float* yr = &y(r, 0);
        for (index_t o = 0; o < out; ++o) yr[o] = b.empty() ? 0.0f : b[std::size_t(o)];
        for (index_t i = 0; i < in; ++i) {
            const float xi = x(r, i);
            if (xi == 0.0f) continue;  // ReLU outputs and digit pixels are often 0
            const float* wrow = wtp + i * out;
            for (index_t o = 0; o < out; ++o) yr[o] += xi * wrow[o];
        }
    }
    return status::success();
}

// Given dy [batch, out]: g.weight += dy^T x, g.bias += column sums of dy, and dx = dy W when dx
// is not empty. Rows of x, dy and dx are contiguous (stride 1 along the features).
inline void linear_backward(const matrix_view<const float>& x, const matrix_view<const float>& w, const matrix_view<const float>& dy,
                            linear_grad& g, const matrix_view<float>& dx) {
    const index_t batch = x.extent(0), in = w.extent(1), out = w.extent(0);
    for (index_t r = 0; r < batch; ++r) {
        const float* xr = &x(r, 0);
        for (index_t o = 0; o < out; ++o) {
            const float d = dy(r, o);
            if (d == 0.0f) continue;
            if (!g.bias.empty()) g.bias[std::size_t(o)] += d;
            float* gw = &g.weight(o, 0);
            for (index_t i = 0; i < in; ++i) gw[i] += d * xr[i];
        }
    }
    if (dx.empty()) return;
    for (index_t r = 0; r < batch; ++r) {
        float* dxr = &dx(r, 0);
        for (index_t i = 0; i < in; ++i) dxr[i] = 0.0f;
        for (index_t o = 0; o < out; ++o) {
            const float d = dy(r, o);
            if (d == 0.0f) continue;
            const float* wr = &w(o, 0);
            for (index_t i = 0; i < in; ++i) dxr[i] += d * wr[i];
        }
    }
}

// dz <- dz * act'(y), from the activation's output z = act(y) (z > 0 iff y > 0; 0 < z < 6 iff 0 < y < 6).
inline void activation_backward(const matrix_view<const float>& z, kernels::activation a, const matrix_view<float>& dz) noexcept {
    if (a == kernels::activation::none) return;
    for (index_t r = 0; r < z.extent(0); ++r)
        for (index_t j = 0; j < z.extent(1); ++j) {
            const float v = z(r, j);
            const bool pass = a == kernels::activation::relu ? v > 0.0f : (v > 0.0f && v < 6.0f);
            if (!pass) dz(r, j) = 0.0f;
        }
}

// What one forward pass leaves for the backward pass.
struct forward_cache {
    std::vector<tensor<float, 2>> inputs;   // inputs[i]: what layer i multiplied (fake-quantized under QAT)
    std::vector<tensor<float, 2>> outputs;  // outputs[i]: act(y_i) (before any fake quant); the last is the logits
    std::vector<tensor<std::uint8_t, 2>> input_pass;  // QAT: the straight-through mask of inputs[i]
    std::vector<tensor<float, 2>> weights_q;          // QAT: the fake-quantized weights used
    std::vector<tensor<std::uint8_t, 2>> weight_pass; // QAT: their straight-through masks
    std::vector<tensor<float, 2>> transposed;         // scratch: W^T of each layer
    std::vector<tensor<float, 2>> grad_in;            // scratch: d loss / d inputs[i] (i > 0)

    const tensor<float, 2>& logits() const noexcept { return outputs.back(); }
};

// The forward pass over x [batch, in_features]; the logits end in cache.outputs.back(). With a
// qat_state (one observer per layer), weights and layer inputs are fake-quantized and the
// observers see the batch.
inline status forward(const std::vector<linear_layer>& layers, const matrix_view<const float>& x, forward_cache& c,
                      qat_state* qat = nullptr) {
    const std::size_t n = layers.size();
    if (n == 0) return status(errc::invalid_argument, "forward: no layers");
    if (x.extent(1) != layers.front().in_features())
        return status(errc::shape_mismatch, "forward: inputs have %td features, the first layer takes %td", x.extent(1),
                      layers.front().in_features());
    if (qat && qat->inputs.size() != n)
        return status(errc::invalid_argument, "forward: %zu QAT observers for %zu layers", qat->inputs.size(), n);
    c.inputs.resize(n), c.outputs.resize(n), c.transposed.resize(n), c.grad_in.resize(n);
    if (qat) c.input_pass.resize(n), c.weights_q.resize(n), c.weight_pass.resize(n);
    const index_t batch = x.extent(0);
    for (std::size_t i = 0; i < n; ++i) {
        const linear_layer& l = layers[i];
        SPARQ_TRY(detail::ensure(c.inputs[i], batch, l.in_features()));
        SPARQ_TRY(detail::ensure(c.outputs[i], batch, l.out_features()));
        const matrix_view<const float> from = i == 0 ? x : c.outputs[i - 1].cview();
        for (index_t r = 0; r < batch; ++r)
            for (index_t k = 0; k < l.in_features(); ++k) c.inputs[i](r, k) = from(r, k);
        matrix_view<const float> w = l.weight.cview();
        if (qat) {
            SPARQ_TRY(qat->inputs[i].observe_and_apply(c.inputs[i].view(), c.input_pass[i]));
            SPARQ_TRY(fake_quant_weights(l.weight.cview(), c.weights_q[i], c.weight_pass[i]));
            w = c.weights_q[i].cview();
        }
        SPARQ_TRY(linear_forward(c.inputs[i].cview(), w, l.bias, c.transposed[i], c.outputs[i].view()));
        for (index_t r = 0; r < batch; ++r)
            for (index_t k = 0; k < l.out_features(); ++k) c.outputs[i](r, k) = kernels::activate(c.outputs[i](r, k), l.act);
    }
    return status::success();
}

// The backward pass of the last forward(): dlogits (overwritten) is d loss / d logits; grads
// (one per layer, from make_grads) receive the gradients (set, not accumulated).
inline status backward(const std::vector<linear_layer>& layers, forward_cache& c, const matrix_view<float>& dlogits,
                       std::vector<linear_grad>& grads, bool qat = false) {
    const std::size_t n = layers.size();
    if (grads.size() != n) return status(errc::invalid_argument, "backward: %zu gradients for %zu layers", grads.size(), n);
    if (c.outputs.size() != n) return status(errc::invalid_argument, "backward: no forward pass of these layers to go back through");
    SPARQ_TRY(check_same_shape(c.outputs.back().cview(), dlogits.as_const(), "backward: d loss / d logits"));
    matrix_view<float> dz = dlogits;
    for (std::size_t i = n; i-- > 0;) {
        const linear_layer& l = layers[i];
        if (grads[i].weight.extents() != l.weight.extents() || grads[i].bias.size() != l.bias.size())
            return status(errc::shape_mismatch, "backward: the gradient of layer '%.60s' is not shaped as the layer", l.name.c_str());
        activation_backward(c.outputs[i].cview(), l.act, dz);
        zero(grads[i]);
        matrix_view<float> dx;
        if (i > 0) {
            SPARQ_TRY(detail::ensure(c.grad_in[i], dz.extent(0), l.in_features()));
            dx = c.grad_in[i].view();
        }
        linear_backward(c.inputs[i].cview(), qat ? c.weights_q[i].cview() : l.weight.cview(), dz.as_const(), grads[i], dx);
        if (qat) {
            // straight through the weights' fake quant, and through the input's (into dz of the layer before)
            for (index_t k = 0; k < grads[i].weight.size(); ++k)
                if (!c.weight_pass[i].data()[k]) grads[i].weight.data()[k] = 0.0f;
            if (i > 0)
                for (index_t k = 0; k < dx.size(); ++k)
                    if (!c.input_pass[i].data()[k]) dx.data()[k] = 0.0f;
        }
        dz = dx;
    }
    return status::success();
}

}  // namespace sparq::nn::train
