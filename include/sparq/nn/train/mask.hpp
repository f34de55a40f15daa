// Weight masks for training a pruned MLP: one byte per weight (1 keeps it, 0 prunes it), shaped
// as the weight; an empty mask leaves its layer dense. The trainer zeroes masked gradients and
// re-applies the masks after every step, so pruned weights stay exactly zero. A plain magnitude
// criterion is here for fine-tuning experiments (unstructured, per layer or global, as
// torch.nn.utils.prune.l1_unstructured / global_unstructured: round(amount * n) smallest |w|).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/train/backward.hpp"

namespace sparq::nn::train {

using weight_mask = tensor<std::uint8_t, 2>;

inline status check_masks(const std::vector<linear_layer>& layers, const std::vector<weight_mask>& masks) {
    if (masks.size() != layers.size())
        return status(errc::shape_mismatch, "masks: %zu masks for %zu layers", masks.size(), layers.size());
    for (std::size_t i = 0; i < masks.size(); ++i)
        if (!masks[i].empty() && masks[i].extents() != layers[i].weight.extents())
            return status(errc::shape_mismatch, "masks: the mask of layer '%.60s' is [%td, %td], its weight [%td, %td]",
                          layers[i].name.c_str(), masks[i].extent(0), masks[i].extent(1), layers[i].weight.extent(0),
                          layers[i].weight.extent(1));
    return status::success();
}

// w *= mask for every layer with a mask.
inline status apply_masks(std::vector<linear_layer>& layers, const std::vector<weight_mask>& masks) {
    SPARQ_TRY(check_masks(layers, masks));
    for (std::size_t i = 0; i < masks.size(); ++i)
        if (!masks[i].empty())
            for (index_t k = 0; k < masks[i].size(); ++k)
                if (!masks[i].data()[k]) layers[i].weight.data()[k] = 0.0f;
    return status::success();
}

inline void mask_grads(std::vector<linear_grad>& grads, const std::vector<weight_mask>& masks) noexcept {
    for (std::size_t i = 0; i < masks.size() && i < grads.size(); ++i)
        if (!masks[i].empty())
            for (index_t k = 0; k < masks[i].size(); ++k)
                if (!masks[i].data()[k]) grads[i].weight.data()[k] = 0.0f;
}

// Masks that prune the fraction `amount` (in [0, 1]) of weights with the smallest magnitude,
// in each layer separately or over all layers together (global). Ties go to the lower index.
inline result<std::vector<weight_mask>> magnitude_masks(const std::vector<linear_layer>& layers, double amount, bool global = false) {
    if (!(amount >= 0.0 && amount <= 1.0)) return status(errc::invalid_argument, "magnitude masks: amount %g must be in [0, 1]", amount);
    std::vector<weight_mask> masks;
    for (const linear_layer& l : layers) {
        auto m = weight_mask::make(l.weight.extents());
        if (!m) return m.error();
        m->fill(1);
        masks.push_back(std::move(*m));
    }
    struct ref { std::size_t layer; index_t k; float mag; };
    auto prune = [&](std::vector<ref>& all) {
        const std::size_t n = std::size_t(std::llround(amount * double(all.size())));
        std::stable_sort(all.begin(), all.end(), [](const ref& a, const ref& b) { return a.mag < b.mag; });
        for (std::size_t i = 0; i < n && i < all.size(); ++i) masks[all[i].layer].data()[all[i].k] = 0;
    };
    std::vector<ref> all;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        for (index_t k = 0; k < layers[i].weight.size(); ++k) all.push_back({i, k, std::fabs(layers[i].weight.data()[k])});
        if (!global) {
            prune(all);
            all.clear();
        }
    }
    if (global) prune(all);
    return masks;
}

// The fraction of weights (not biases) that are exactly zero.
inline double weight_sparsity(const std::vector<linear_layer>& layers) noexcept {
    index_t zeros = 0, total = 0;
    for (const linear_layer& l : layers) {
        for (index_t k = 0; k < l.weight.size(); ++k) zeros += l.weight.data()[k] == 0.0f;
        total += l.weight.size();
    }
    return total ? double(zeros) / double(total) : 0.0;
}

}  // namespace sparq::nn::train
