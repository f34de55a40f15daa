// A model in a safetensors file: the weights as tensors <name>.weight and <name>.bias, and the
// graph, a chain of nodes, in the metadata entry "sparq.graph" (safetensors itself stores no
// graph, so without it the file is refused rather than guessed). Words, in order:
//
//   NAME              a layer with NAME.weight: [out, in] is linear, [O, C/g, KH, KW] a convolution
//   NAME@s,p[,g]      a convolution with stride s, padding p on every side, g groups
//   relu relu6        folded into the layer before when it has no activation yet, else a node
//   sigmoid tanh gelu softmax flatten gap (global average pooling)
//   maxpool:k[:s[:p]] avgpool:k[:s[:p]]   k x k windows, stride s (default k), padding p
//
// e.g. "conv1@1,1 relu maxpool:2 conv2@1,1 relu maxpool:2 flatten fc". The input's per-sample
// shape is "sparq.input" = "C H W" (default: the first linear layer's input features).
//
// A file from a stranger is bounded twice: a graph may name a tensor more than once (each node
// gets its own copy), but all the copies together hold at most 4 times the file's tensor bytes
// (issue 19: a 16 MB file naming one tensor 1000 times reached 4 GB; counted as the floats
// they become, so float16 tensors may be named twice); and one sample's work and memory
// (nn/work.hpp) are within `limits`.
#pragma once

#include <cstdio>
#include <sstream>
#include <string>

#include "sparq/io/safetensors.hpp"
#include "sparq/nn/model.hpp"

namespace sparq::io {

namespace detail {

inline bool parse_ints(const std::string& text, char sep, std::vector<index_t>& out, std::size_t max) {
    std::istringstream in(text);
    std::string part;
    while (std::getline(in, part, sep)) {
        if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos || out.size() == max) return false;
        out.push_back(index_t(std::stol(part)));
    }
    return !out.empty();
}

}  // namespace detail

inline result<nn::model> load_model_safetensors(const char* path, const nn::load_limits& limits = {}) {
    auto file = safetensors_file::read(path);
    if (!file) return file.error();
    // the bytes the nodes' weights may copy out of the file, all uses together
    std::uint64_t tensor_bytes = 0, used_bytes = 0;
    for (const auto& e : file->entries()) tensor_bytes += e.end - e.begin;
    const std::uint64_t copy_budget = 4 * tensor_bytes;
    auto use = [&](const safetensors_entry& e) -> status {
        const std::uint64_t width = e.dtype == "F32" ? 4 : 2;  // (f32() takes F32, F16 and BF16 only)
        used_bytes += 4 * (e.end - e.begin) / width;
        if (used_bytes <= copy_budget) return status::success();
        return status(errc::out_of_range,
                      "%s: sparq.graph's layers copy %llu bytes of weights out of %llu in the file (at most 4 times: '%.60s' named too often?)",
                      path, (unsigned long long)used_bytes, (unsigned long long)tensor_bytes, e.name.c_str());
    };
    const std::string* graph = file->metadata("sparq.graph");
    if (!graph)
        return status(errc::parse_error, "%s: no \"sparq.graph\" metadata giving the layer order (e.g. \"fc1 relu fc2\")", path);
    nn::model m;
    bool have_input = false;
    if (const std::string* in = file->metadata("sparq.input")) {
        std::vector<index_t> dims;
        std::istringstream words(*in);
        std::string w;
        while (words >> w && dims.size() < 4) {
            if (w.size() > 6 || w.find_first_not_of("0123456789") != std::string::npos) dims.clear(), words.setstate(std::ios::failbit);
            else dims.push_back(index_t(std::stol(w)));
        }
        if (dims.size() != 3) return status(errc::parse_error, "%s: sparq.input '%.40s' is not \"C H W\"", path, in->c_str());
        m.input = {dims[0], dims[1], dims[2]};
        have_input = true;
    }
    auto add_node = [&](nn::node n) {
        n.inputs = {int(m.nodes.size())};
        m.nodes.push_back(std::move(n));
    };
    std::istringstream words(*graph);
    std::string w;
    while (words >> w) {
        if (m.nodes.size() >= 1000) return status(errc::parse_error, "%s: sparq.graph names over 1000 nodes", path);
        nn::node n;
        n.name = w;
        if (w == "relu" || w == "relu6") {
            const kernels::activation act = w == "relu" ? kernels::activation::relu : kernels::activation::relu6;
            if (!m.nodes.empty()) {
                nn::node& prev = m.nodes.back();
                kernels::activation* slot = prev.kind == nn::op::linear ? &prev.linear.act : prev.kind == nn::op::conv2d ? &prev.conv.act : nullptr;
                if (slot && *slot == kernels::activation::none) {
                    *slot = act;
                    continue;
                }
            }
            n.kind = w == "relu" ? nn::op::relu : nn::op::relu6;
        } else if (w == "sigmoid" || w == "tanh" || w == "gelu" || w == "softmax" || w == "flatten" || w == "gap") {
            n.kind = w == "sigmoid" ? nn::op::sigmoid : w == "tanh" ? nn::op::tanh : w == "gelu" ? nn::op::gelu
                   : w == "softmax" ? nn::op::softmax : w == "flatten" ? nn::op::flatten : nn::op::global_avg_pool;
        } else if (w.rfind("maxpool:", 0) == 0 || w.rfind("avgpool:", 0) == 0) {
            std::vector<index_t> k;
            if (!detail::parse_ints(w.substr(8), ':', k, 3))
                return status(errc::parse_error, "%s: sparq.graph: '%.40s' is not maxpool:k[:s[:p]]", path, w.c_str());
            n.kind = w[0] == 'm' ? nn::op::max_pool : nn::op::avg_pool;
            n.pool.kh = n.pool.kw = k[0];
            n.pool.stride_h = n.pool.stride_w = k.size() > 1 ? k[1] : k[0];
            n.pool.pad_top = n.pool.pad_left = n.pool.pad_bottom = n.pool.pad_right = k.size() > 2 ? k[2] : 0;
        } else {
            std::string name = w;
            std::vector<index_t> conv_args;
            if (const auto at = w.find('@'); at != std::string::npos) {
                name = w.substr(0, at);
                if (!detail::parse_ints(w.substr(at + 1), ',', conv_args, 3) || conv_args.size() < 2)
                    return status(errc::parse_error, "%s: sparq.graph: '%.40s' is not NAME@stride,padding[,groups]", path, w.c_str());
            }
            n.name = name;
            const safetensors_entry* e = file->find(name + ".weight");
            if (!e) return status(errc::parse_error, "%s: sparq.graph names '%.60s' but there is no tensor '%.60s.weight'", path, name.c_str(), name.c_str());
            SPARQ_TRY(use(*e));
            std::vector<float> bias;
            if (const safetensors_entry* b_entry = file->find(name + ".bias")) {
                SPARQ_TRY(use(*b_entry));
                auto b = file->f32<1>(name + ".bias");
                if (!b) return b.error();
                bias.assign(b->data(), b->data() + b->size());
            }
            if (e->shape.size() == 2 && conv_args.empty()) {
                auto weight = file->f32<2>(name + ".weight");
                if (!weight) return weight.error();
                n.kind = nn::op::linear;
                n.linear.name = name;
                n.linear.weight = std::move(*weight);
                n.linear.bias = std::move(bias);
                if (!have_input && m.nodes.empty()) m.input = {n.linear.in_features(), 1, 1}, have_input = true;
            } else if (e->shape.size() == 4) {
                auto weight = file->f32<4>(name + ".weight");
                if (!weight) return weight.error();
                n.kind = nn::op::conv2d;
                n.conv.weight = std::move(*weight);
                n.conv.bias = std::move(bias);
                const index_t stride = conv_args.empty() ? 1 : conv_args[0], pad = conv_args.size() > 1 ? conv_args[1] : 0;
                n.conv.params = kernels::conv2d_params::same_padding(pad, stride);
                n.conv.params.groups = conv_args.size() > 2 ? conv_args[2] : 1;
            } else {
                return status(errc::parse_error, "%s: '%.60s.weight' has %zu dimensions: neither linear (2) nor a convolution (4)", path,
                              name.c_str(), e->shape.size());
            }
        }
        add_node(std::move(n));
    }
    if (!have_input) return status(errc::parse_error, "%s: the model starts with a convolution: give \"sparq.input\" = \"C H W\"", path);
    auto cost = m.cost_per_sample();
    if (!cost) return cost.error();
    SPARQ_TRY(nn::check_limits(cost->work, cost->memory, limits, path));
    return m;
}

inline status save_model_safetensors(const char* path, const nn::model& m) {
    SPARQ_TRY(m.validate());
    std::vector<named_f32> tensors;
    std::string graph;
    auto word = [&](const std::string& w) { graph += (graph.empty() ? "" : " ") + w; };
    auto act_word = [&](kernels::activation a) {
        if (a == kernels::activation::relu) word("relu");
        if (a == kernels::activation::relu6) word("relu6");
    };
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const nn::node& n = m.nodes[i];
        const kernels::activation folded = n.kind == nn::op::conv2d ? n.conv.act : n.kind == nn::op::linear ? n.linear.act : kernels::activation::none;
        if (!kernels::clamps_codes(folded))  // (only compile folds those, into a copy: nn::fold_activations)
            return status(errc::unsupported, "%s: node '%.60s' has a folded %s: safetensors graphs name relu and relu6 only", path,
                          n.name.c_str(), kernels::to_string(folded));
        if (n.inputs.size() != 1 || n.inputs[0] != int(i))
            return status(errc::unsupported, "%s: node '%.60s' is not a link of a chain: safetensors models hold chains (use ONNX)", path,
                          n.name.c_str());
        switch (n.kind) {
            case nn::op::linear:
                tensors.push_back({n.name + ".weight", {n.linear.out_features(), n.linear.in_features()}, n.linear.weight.data()});
                if (!n.linear.bias.empty()) tensors.push_back({n.name + ".bias", {index_t(n.linear.bias.size())}, n.linear.bias.data()});
                word(n.name);
                act_word(n.linear.act);
                break;
            case nn::op::conv2d: {
                const auto& p = n.conv.params;
                if (p.stride_h != p.stride_w || p.pad_top != p.pad_left || p.pad_top != p.pad_bottom || p.pad_top != p.pad_right ||
                    p.dilation_h != 1 || p.dilation_w != 1)
                    return status(errc::unsupported, "%s: convolution '%.60s' has uneven stride / padding or dilation: use ONNX", path, n.name.c_str());
                const auto e = n.conv.weight.extents();
                tensors.push_back({n.name + ".weight", {e[0], e[1], e[2], e[3]}, n.conv.weight.data()});
                if (!n.conv.bias.empty()) tensors.push_back({n.name + ".bias", {index_t(n.conv.bias.size())}, n.conv.bias.data()});
                word(n.name + "@" + std::to_string(p.stride_h) + "," + std::to_string(p.pad_top) + "," + std::to_string(p.groups));
                act_word(n.conv.act);
                break;
            }
            case nn::op::max_pool: case nn::op::avg_pool: {
                const auto& p = n.pool;
                if (p.kh != p.kw || p.stride_h != p.stride_w || p.pad_top != p.pad_left || p.pad_top != p.pad_bottom || p.pad_top != p.pad_right ||
                    (n.kind == nn::op::avg_pool && p.pad_top && p.count_include_pad))
                    return status(errc::unsupported, "%s: pooling '%.60s' is not square and even: use ONNX", path, n.name.c_str());
                word(std::string(n.kind == nn::op::max_pool ? "maxpool:" : "avgpool:") + std::to_string(p.kh) + ":" + std::to_string(p.stride_h) +
                     ":" + std::to_string(p.pad_top));
                break;
            }
            case nn::op::global_avg_pool: word("gap"); break;
            case nn::op::add: case nn::op::concat:
                return status(errc::unsupported, "%s: '%.60s' joins branches: safetensors models hold chains (use ONNX)", path, n.name.c_str());
            default: word(nn::to_string(n.kind)); break;
        }
    }
    const std::string input = std::to_string(m.input[0]) + " " + std::to_string(m.input[1]) + " " + std::to_string(m.input[2]);
    return write_safetensors(path, tensors, {{"sparq.graph", graph}, {"sparq.input", input}});
}

}  // namespace sparq::io
