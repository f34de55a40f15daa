// model: a trained network in fp32, as it arrives (from a safetensors or ONNX file), before
// any compression: for now a stack of fully connected layers, each with its activation
// folded in (Linear -> ReLU is one layer). compiled_model.hpp prepares it for one precision.
#pragma once

#include <string>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/kernels/output_stage.hpp"

namespace sparq::nn {

struct linear_layer {
    std::string name;
    tensor<float, 2> weight;  // [out, in]
    std::vector<float> bias;  // out values, or empty
    kernels::activation act = kernels::activation::none;

    index_t in_features() const noexcept { return weight.extent(1); }
    index_t out_features() const noexcept { return weight.extent(0); }
};

struct model {
    std::vector<linear_layer> layers;

    index_t in_features() const noexcept { return layers.empty() ? 0 : layers.front().in_features(); }
    index_t out_features() const noexcept { return layers.empty() ? 0 : layers.back().out_features(); }
    index_t parameters() const noexcept {
        index_t n = 0;
        for (const auto& l : layers) n += l.weight.size() + index_t(l.bias.size());
        return n;
    }

    // Each layer takes what the one before gives, and biases fit.
    status validate() const {
        if (layers.empty()) return status(errc::invalid_argument, "model: no layers");
        for (std::size_t i = 0; i < layers.size(); ++i) {
            const linear_layer& l = layers[i];
            if (l.weight.size() == 0) return status(errc::shape_mismatch, "model: layer '%.60s' has an empty weight", l.name.c_str());
            if (!l.bias.empty() && index_t(l.bias.size()) != l.out_features())
                return status(errc::shape_mismatch, "model: layer '%.60s' has %zu biases for %td outputs", l.name.c_str(), l.bias.size(),
                              l.out_features());
            if (i > 0 && layers[i - 1].out_features() != l.in_features())
                return status(errc::shape_mismatch, "model: layer '%.60s' gives %td values, layer '%.60s' takes %td",
                              layers[i - 1].name.c_str(), layers[i - 1].out_features(), l.name.c_str(), l.in_features());
        }
        return status::success();
    }
};

}  // namespace sparq::nn
