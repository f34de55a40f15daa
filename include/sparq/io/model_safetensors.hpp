// A model in a safetensors file: the weights as tensors <name>.weight [out, in] and
// <name>.bias [out], and the layer order in the metadata entry "sparq.graph", e.g.
// "fc1 relu fc2 relu6 fc3" (a name is a Linear layer; relu / relu6 apply to the layer before).
// safetensors stores no graph, so without that entry the file is refused rather than guessed.
#pragma once

#include <sstream>
#include <string>

#include "sparq/io/safetensors.hpp"
#include "sparq/nn/model.hpp"

namespace sparq::io {

inline result<nn::model> load_model_safetensors(const char* path) {
    auto file = safetensors_file::read(path);
    if (!file) return file.error();
    const std::string* graph = file->metadata("sparq.graph");
    if (!graph)
        return status(errc::parse_error, "%s: no \"sparq.graph\" metadata giving the layer order (e.g. \"fc1 relu fc2\")", path);
    nn::model m;
    std::istringstream words(*graph);
    std::string w;
    while (words >> w) {
        if (w == "relu" || w == "relu6") {
            if (m.layers.empty() || m.layers.back().act != kernels::activation::none)
                return status(errc::parse_error, "%s: sparq.graph: '%s' must follow a layer without an activation", path, w.c_str());
            m.layers.back().act = w == "relu" ? kernels::activation::relu : kernels::activation::relu6;
            continue;
        }
        nn::linear_layer l;
        l.name = w;
        auto weight = file->f32<2>(w + ".weight");
        if (!weight) return weight.error();
        l.weight = std::move(*weight);
        if (file->find(w + ".bias")) {
            auto bias = file->f32<1>(w + ".bias");
            if (!bias) return bias.error();
            l.bias.assign(bias->data(), bias->data() + bias->size());
        }
        m.layers.push_back(std::move(l));
        if (m.layers.size() > 1000) return status(errc::parse_error, "%s: sparq.graph names over 1000 layers", path);
    }
    SPARQ_TRY(m.validate());
    return m;
}

inline status save_model_safetensors(const char* path, const nn::model& m) {
    SPARQ_TRY(m.validate());
    std::vector<named_f32> tensors;
    std::string graph;
    for (const nn::linear_layer& l : m.layers) {
        tensors.push_back({l.name + ".weight", {l.out_features(), l.in_features()}, l.weight.data()});
        if (!l.bias.empty()) tensors.push_back({l.name + ".bias", {index_t(l.bias.size())}, l.bias.data()});
        graph += (graph.empty() ? "" : " ") + l.name;
        if (l.act == kernels::activation::relu) graph += " relu";
        if (l.act == kernels::activation::relu6) graph += " relu6";
    }
    return write_safetensors(path, tensors, {{"sparq.graph", graph}});
}

}  // namespace sparq::io
