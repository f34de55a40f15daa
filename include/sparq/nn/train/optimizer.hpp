// Optimizers with PyTorch's update rules and defaults (torch.optim.SGD and Adam, single-tensor
// path, no AMSGrad), over the weights and biases of an MLP or of any model (param_ref arrays):
//
//   SGD   g += wd p;  b = g (first step) or momentum b + (1 - dampening) g;  g = nesterov ? g + momentum b : b
//         (when momentum > 0);  p -= lr g
//   Adam  g += wd p;  m += (1 - beta1)(g - m);  v = beta2 v + (1 - beta2) g^2;
//         p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/train/backward.hpp"

namespace sparq::nn::train {

enum class optimizer_kind : std::uint8_t { sgd, adam };

constexpr const char* to_string(optimizer_kind k) noexcept { return k == optimizer_kind::sgd ? "sgd" : "adam"; }

struct optimizer_options {
    optimizer_kind kind = optimizer_kind::adam;
    double lr = 1e-3;            // Adam's default; SGD has none in PyTorch (give one)
    double weight_decay = 0.0;   // L2 added to the gradient (both)
    double momentum = 0.0;       // SGD
    double dampening = 0.0;      // SGD
    bool nesterov = false;       // SGD
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam

    status validate() const noexcept {
        if (!(lr > 0.0) || !std::isfinite(lr)) return status(errc::invalid_argument, "optimizer: learning rate %g must be finite and > 0", lr);
        if (!(weight_decay >= 0.0)) return status(errc::invalid_argument, "optimizer: weight decay %g must be >= 0", weight_decay);
        if (!(momentum >= 0.0)) return status(errc::invalid_argument, "optimizer: momentum %g must be >= 0", momentum);
        if (nesterov && (momentum <= 0.0 || dampening != 0.0))
            return status(errc::invalid_argument, "optimizer: Nesterov momentum needs a momentum > 0 and zero dampening");
        if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0))
            return status(errc::invalid_argument, "optimizer: Adam betas (%g, %g) must be in [0, 1)", beta1, beta2);
        if (!(eps >= 0.0)) return status(errc::invalid_argument, "optimizer: eps %g must be >= 0", eps);
        return status::success();
    }
};

// One parameter array and its gradient (a weight or a bias, flat).
struct param_ref {
    float* value;
    const float* grad;
    std::size_t size;
};

class optimizer {
public:
    // For parameter arrays of these sizes, stepped in this order (any model).
    static result<optimizer> make(const std::vector<std::size_t>& sizes, const optimizer_options& o) {
        SPARQ_TRY(o.validate());
        optimizer opt;
        opt.o_ = o;
        for (std::size_t n : sizes) {
            opt.m_.emplace_back(n, 0.0f);
            opt.v_.emplace_back(o.kind == optimizer_kind::adam ? n : 0, 0.0f);
        }
        return opt;
    }
    // For an MLP: each layer's weights then biases as one array.
    static result<optimizer> make(const std::vector<linear_layer>& layers, const optimizer_options& o) {
        std::vector<std::size_t> sizes;
        for (const linear_layer& l : layers) sizes.push_back(std::size_t(l.weight.size()) + l.bias.size());
        return make(sizes, o);
    }

    // One step over every parameter array with its gradient, in the order the optimizer was made for.
    status step(const std::vector<param_ref>& params) {
        if (params.size() != m_.size())
            return status(errc::invalid_argument, "optimizer: made for %zu parameter arrays, stepped with %zu", m_.size(), params.size());
        for (std::size_t i = 0; i < params.size(); ++i)
            if (params[i].size != m_[i].size())
                return status(errc::shape_mismatch, "optimizer: parameter array %zu has %zu values, %zu when the optimizer was made", i,
                              params[i].size, m_[i].size());
        ++t_;
        for (std::size_t i = 0; i < params.size(); ++i)
            update(params[i].value, params[i].grad, params[i].size, m_[i].data(), v_[i].empty() ? nullptr : v_[i].data());
        return status::success();
    }
    // An MLP's layers with their gradients.
    status step(std::vector<linear_layer>& layers, const std::vector<linear_grad>& grads) {
        if (layers.size() != m_.size() || grads.size() != m_.size())
            return status(errc::invalid_argument, "optimizer: made for %zu layers, stepped with %zu layers and %zu gradients", m_.size(),
                          layers.size(), grads.size());
        for (std::size_t i = 0; i < layers.size(); ++i) {
            const linear_layer& l = layers[i];
            const std::size_t nw = std::size_t(l.weight.size());
            if (grads[i].weight.extents() != l.weight.extents() || grads[i].bias.size() != l.bias.size() || m_[i].size() != nw + l.bias.size())
                return status(errc::shape_mismatch, "optimizer: layer '%.60s' changed shape since the optimizer was made", l.name.c_str());
        }
        ++t_;
        for (std::size_t i = 0; i < layers.size(); ++i) {
            linear_layer& l = layers[i];
            const std::size_t nw = std::size_t(l.weight.size());
            update(l.weight.data(), grads[i].weight.data(), nw, m_[i].data(), v_[i].empty() ? nullptr : v_[i].data());
            update(l.bias.data(), grads[i].bias.data(), l.bias.size(), m_[i].data() + nw, v_[i].empty() ? nullptr : v_[i].data() + nw);
        }
        return status::success();
    }

    const optimizer_options& options() const noexcept { return o_; }
    std::int64_t steps() const noexcept { return t_; }

private:
    void update(float* p, const float* grad, std::size_t n, float* m, float* v) const noexcept {
        const float wd = float(o_.weight_decay), lr = float(o_.lr);
        if (o_.kind == optimizer_kind::sgd) {
            const float mom = float(o_.momentum), damp = 1.0f - float(o_.dampening);
            for (std::size_t k = 0; k < n; ++k) {
                float d = grad[k] + (wd != 0.0f ? wd * p[k] : 0.0f);
                if (mom != 0.0f) {
                    m[k] = t_ == 1 ? d : mom * m[k] + damp * d;
                    d = o_.nesterov ? d + mom * m[k] : m[k];
                }
                p[k] -= lr * d;
            }
            return;
        }
        const float b1 = float(o_.beta1), b2 = float(o_.beta2), eps = float(o_.eps);
        const double bc1 = 1.0 - std::pow(o_.beta1, double(t_)), bc2 = 1.0 - std::pow(o_.beta2, double(t_));
        const float step_size = float(o_.lr / bc1), bc2_sqrt = float(std::sqrt(bc2));
        for (std::size_t k = 0; k < n; ++k) {
            const float d = grad[k] + (wd != 0.0f ? wd * p[k] : 0.0f);
            m[k] += (1.0f - b1) * (d - m[k]);
            v[k] = b2 * v[k] + (1.0f - b2) * d * d;
            p[k] -= step_size * m[k] / (std::sqrt(v[k]) / bc2_sqrt + eps);
        }
    }

    optimizer_options o_;
    std::vector<std::vector<float>> m_, v_;  // per parameter array (SGD momentum buffer / Adam moments)
    std::int64_t t_ = 0;
};

}  // namespace sparq::nn::train
