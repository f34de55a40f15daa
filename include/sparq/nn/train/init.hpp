// Making and copying trainable MLPs (std::vector<nn::linear_layer>: nn::mlp_layers(model) gives
// them, nn::model::sequential(layers) makes a model of them): torch.nn.Linear's default
// initialisation from a seed, and deep copies (tensors are move-only).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/train/rng.hpp"

namespace sparq::nn::train {

// torch.nn.Linear.reset_parameters: weight kaiming_uniform_(a = sqrt(5)), i.e. U(-b, b) with
// b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + 5)), so b = 1 / sqrt(in); bias U(-b, b), same b.
inline result<linear_layer> make_linear(std::string name, index_t in, index_t out, kernels::activation act, rng& r, bool bias = true) {
    if (in < 1 || out < 1) return status(errc::invalid_argument, "make_linear: %td -> %td features", in, out);
    auto w = tensor<float, 2>::make({out, in});
    if (!w) return w.error();
    const double b = 1.0 / std::sqrt(double(in));
    for (index_t k = 0; k < w->size(); ++k) w->data()[k] = float(r.uniform(-b, b));
    linear_layer l;
    l.name = std::move(name);
    l.weight = std::move(*w);
    l.act = act;
    if (bias)
        for (index_t o = 0; o < out; ++o) l.bias.push_back(float(r.uniform(-b, b)));
    return l;
}

// An MLP widths[0] -> widths[1] -> ... -> widths.back(): layers fc1, fc2, ..., `hidden` after every
// layer but the last (which gives logits), initialised as torch.nn.Linear from `seed`.
inline result<std::vector<linear_layer>> make_mlp(const std::vector<index_t>& widths, std::uint64_t seed,
                                                  kernels::activation hidden = kernels::activation::relu) {
    if (widths.size() < 2) return status(errc::invalid_argument, "make_mlp: %zu widths; an MLP needs at least 2", widths.size());
    rng r(seed);
    std::vector<linear_layer> layers;
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
        auto l = make_linear("fc" + std::to_string(i + 1), widths[i], widths[i + 1],
                             i + 2 < widths.size() ? hidden : kernels::activation::none, r);
        if (!l) return l.error();
        layers.push_back(std::move(*l));
    }
    return layers;
}

// A deep copy of the layers (e.g. a student that starts as the teacher).
inline result<std::vector<linear_layer>> clone_layers(const std::vector<linear_layer>& from) {
    std::vector<linear_layer> out;
    for (const linear_layer& l : from) {
        auto w = l.weight.clone();
        if (!w) return w.error();
        out.push_back(linear_layer{l.name, std::move(*w), l.bias, l.act});
    }
    return out;
}

}  // namespace sparq::nn::train
