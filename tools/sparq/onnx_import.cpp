// ONNX -> nn::model (see onnx_import.hpp). Built with SPARQ_CLI_WITH_ONNX when libonnx-dev and
// libprotobuf-dev are found; otherwise every .onnx file gets a message saying what to install.
#include "onnx_import.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "sparq/io/file.hpp"
#include "sparq/io/model_safetensors.hpp"

#if defined(SPARQ_CLI_WITH_ONNX)
#include <onnx/onnx_pb.h>
#endif

namespace sparq_cli {

using namespace sparq;

namespace {

bool ends_with(const std::string& s, const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

#if defined(SPARQ_CLI_WITH_ONNX)

struct constant {
    std::vector<index_t> dims;
    std::vector<float> values;
};

// A float tensor from an initializer or a Constant node: float_data or raw little-endian bytes.
result<constant> read_tensor(const onnx::TensorProto& t, const char* source) {
    constant c;
    index_t count = 1;
    for (auto d : t.dims()) {
        if (d < 0 || d > (index_t(1) << 31) || (d && count > (index_t(1) << 31) / d))
            return status(errc::parse_error, "%s: tensor '%.80s' has a bad dimension %lld", source, t.name().c_str(), (long long)d);
        c.dims.push_back(index_t(d));
        count *= index_t(d);
    }
    if (t.data_type() != onnx::TensorProto::FLOAT)
        return status(errc::unsupported, "%s: tensor '%.80s' has ONNX data type %d; only float32 weights are imported", source,
                      t.name().c_str(), int(t.data_type()));
    if (t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL)
        return status(errc::unsupported, "%s: tensor '%.80s' keeps its data in an external file", source, t.name().c_str());
    if (!t.raw_data().empty()) {
        if (t.raw_data().size() != std::size_t(count) * 4)
            return status(errc::parse_error, "%s: tensor '%.80s' of %td values has %zu bytes of raw data", source, t.name().c_str(),
                          count, t.raw_data().size());
        c.values.resize(std::size_t(count));
        std::memcpy(c.values.data(), t.raw_data().data(), t.raw_data().size());
    } else {
        if (t.float_data_size() != count)
            return status(errc::parse_error, "%s: tensor '%.80s' of %td values has %d float_data entries", source, t.name().c_str(),
                          count, t.float_data_size());
        c.values.assign(t.float_data().begin(), t.float_data().end());
    }
    return c;
}

const onnx::AttributeProto* attribute(const onnx::NodeProto& n, const char* name) {
    for (const auto& a : n.attribute())
        if (a.name() == name) return &a;
    return nullptr;
}

result<nn::linear_layer> make_linear(const std::string& name, const constant& w, bool transposed, const char* source) {
    if (w.dims.size() != 2)
        return status(errc::shape_mismatch, "%s: layer '%.80s': weight of rank %zu, expected 2", source, name.c_str(), w.dims.size());
    // ONNX's Gemm with transB = 1 holds [out, in] (PyTorch's Linear); MatMul and transB = 0 [in, out].
    const index_t out = transposed ? w.dims[0] : w.dims[1], in = transposed ? w.dims[1] : w.dims[0];
    nn::linear_layer l;
    l.name = name;
    auto t = tensor<float, 2>::make({out, in});
    if (!t) return t.error();
    for (index_t o = 0; o < out; ++o)
        for (index_t i = 0; i < in; ++i) (*t)(o, i) = w.values[std::size_t(transposed ? o * in + i : i * out + o)];
    l.weight = std::move(*t);
    return l;
}

#endif

}  // namespace

bool onnx_available() noexcept {
#if defined(SPARQ_CLI_WITH_ONNX)
    return true;
#else
    return false;
#endif
}

result<nn::model> import_onnx_bytes(const unsigned char* data, std::size_t size, const char* source) {
#if !defined(SPARQ_CLI_WITH_ONNX)
    (void)data, (void)size;
    return status(errc::not_available, "%s: this sparq was built without ONNX import (install libonnx-dev libprotobuf-dev, reconfigure)",
                  source);
#else
    if (size > std::size_t(INT32_MAX)) return status(errc::out_of_memory, "%s: over 2 GiB: too large for protobuf", source);
    onnx::ModelProto proto;
    if (!proto.ParseFromArray(data, int(size)))
        return status(errc::parse_error, "%s: not an ONNX model (protobuf parsing failed; truncated or not .onnx?)", source);
    const onnx::GraphProto& g = proto.graph();
    std::map<std::string, constant> constants;
    for (const auto& t : g.initializer()) {
        auto c = read_tensor(t, source);
        if (!c) return c.error();
        constants[t.name()] = std::move(*c);
    }
    nn::model m;
    std::map<std::string, int> value_of;  // ONNX value name -> sparq value id
    for (const auto& in : g.input()) {
        if (constants.count(in.name())) continue;
        if (!value_of.empty())
            return status(errc::unsupported, "%s: more than one graph input ('%.60s'); one is supported", source, in.name().c_str());
        const auto& dims = in.type().tensor_type().shape().dim();
        std::vector<index_t> d;
        for (int i = 1; i < dims.size(); ++i) {
            if (!dims[i].has_dim_value() || dims[i].dim_value() < 1 || dims[i].dim_value() > (1 << 24))
                return status(errc::unsupported, "%s: input '%.60s' has an unknown or bad dimension %d (only the batch may vary)", source,
                              in.name().c_str(), i);
            d.push_back(index_t(dims[i].dim_value()));
        }
        if (d.size() == 1) m.input = {d[0], 1, 1};
        else if (d.size() == 3) m.input = {d[0], d[1], d[2]};
        else return status(errc::unsupported, "%s: input '%.60s' of rank %zu: [batch, features] or [batch, C, H, W] are supported", source,
                           in.name().c_str(), d.size() + 1);
        value_of[in.name()] = 0;
    }
    if (value_of.empty()) return status(errc::parse_error, "%s: the graph has no input", source);
    if (g.output_size() != 1) return status(errc::unsupported, "%s: %d graph outputs; one is supported", source, g.output_size());
    std::map<std::string, int> uses;  // how many nodes read each value: a layer folds what only it feeds
    for (const auto& n : g.node())
        for (const auto& i : n.input()) ++uses[i];

    int index = 0;
    for (const auto& n : g.node()) {
        ++index;
        const std::string& op = n.op_type();
        char where[200];
        std::snprintf(where, sizeof where, "node %d '%.40s' (%.80s)", index, op.c_str(), n.name().c_str());
        if (n.output_size() < 1) return status(errc::parse_error, "%s: %s has no output", source, where);
        if (op == "Constant") {
            const onnx::AttributeProto* v = attribute(n, "value");
            if (!v || !v->has_t())
                return status(errc::unsupported, "%s: %s: only tensor-valued Constant nodes are supported", source, where);
            constant c;
            if (v->t().data_type() == onnx::TensorProto::INT64) {  // shapes for Reshape
                c.dims.push_back(index_t(v->t().int64_data_size()));
                for (auto x : v->t().int64_data()) c.values.push_back(float(x));
                if (!v->t().raw_data().empty()) {
                    c.values.clear();
                    for (std::size_t i = 0; i + 8 <= v->t().raw_data().size(); i += 8) {
                        std::int64_t x;
                        std::memcpy(&x, v->t().raw_data().data() + i, 8);
                        c.values.push_back(float(x));
                    }
                    c.dims = {index_t(c.values.size())};
                }
            } else {
                auto r = read_tensor(v->t(), source);
                if (!r) return r.error();
                c = std::move(*r);
            }
            constants[n.output(0)] = std::move(c);
            continue;
        }
        auto constant_at = [&](int i) -> const constant* {
            if (n.input_size() <= i || n.input(i).empty()) return nullptr;
            auto it = constants.find(n.input(i));
            return it == constants.end() ? nullptr : &it->second;
        };
        auto value_at = [&](int i) -> int {
            if (n.input_size() <= i) return -1;
            auto it = value_of.find(n.input(i));
            return it == value_of.end() ? -1 : it->second;
        };
        const int x = value_at(0);
        if (x < 0)
            return status(errc::unsupported, "%s: %s reads '%.60s', which no earlier node makes (a constant where data was expected?)",
                          source, where, n.input_size() ? n.input(0).c_str() : "");
        // The node that made value x, when only this node reads it: layers fold what follows them.
        nn::node* producer = x > 0 && uses[n.input(0)] == 1 ? &m.nodes[std::size_t(x - 1)] : nullptr;
        auto emit = [&](nn::node node) {
            if (node.inputs.empty()) node.inputs = {x};
            m.nodes.push_back(std::move(node));
            value_of[n.output(0)] = int(m.nodes.size());
        };
        auto alias = [&] { value_of[n.output(0)] = x; };  // ops that change nothing here

        if (op == "Gemm" || op == "MatMul") {
            const constant* w = constant_at(1);
            if (!w) return status(errc::unsupported, "%s: %s: the weight '%.60s' is not a constant", source, where,
                                  n.input_size() > 1 ? n.input(1).c_str() : "");
            bool transposed = false;
            if (op == "Gemm") {
                const auto* alpha = attribute(n, "alpha");
                const auto* beta = attribute(n, "beta");
                const auto* ta = attribute(n, "transA");
                const auto* tb = attribute(n, "transB");
                if ((alpha && alpha->f() != 1.0f) || (beta && beta->f() != 1.0f) || (ta && ta->i() != 0))
                    return status(errc::unsupported, "%s: %s: Gemm with alpha, beta other than 1 or transA", source, where);
                transposed = tb && tb->i() == 1;
            }
            std::string name = n.input(1);
            if (ends_with(name, ".weight")) name.resize(name.size() - 7);
            auto l = make_linear(name, *w, transposed, source);
            if (!l) return l.error();
            if (op == "Gemm" && n.input_size() > 2 && !n.input(2).empty()) {
                const constant* b = constant_at(2);
                if (!b) return status(errc::unsupported, "%s: %s: the bias '%.60s' is not a constant", source, where, n.input(2).c_str());
                if (index_t(b->values.size()) != l->out_features())
                    return status(errc::shape_mismatch, "%s: %s: %zu biases for %td outputs", source, where, b->values.size(), l->out_features());
                l->bias = b->values;
            }
            nn::node node;
            node.name = name;
            node.kind = nn::op::linear;
            node.linear = std::move(*l);
            emit(std::move(node));
        } else if (op == "Conv") {
            const constant* w = constant_at(1);
            if (!w || w->dims.size() != 4)
                return status(errc::unsupported, "%s: %s: the weight is not a constant [O, C/g, KH, KW] tensor", source, where);
            nn::node node;
            node.name = ends_with(n.input(1), ".weight") ? n.input(1).substr(0, n.input(1).size() - 7) : n.input(1);
            node.kind = nn::op::conv2d;
            auto t = tensor<float, 4>::make({w->dims[0], w->dims[1], w->dims[2], w->dims[3]});
            if (!t) return t.error();
            std::copy(w->values.begin(), w->values.end(), t->data());
            node.conv.weight = std::move(*t);
            if (const constant* b = constant_at(2)) {
                if (index_t(b->values.size()) != w->dims[0])
                    return status(errc::shape_mismatch, "%s: %s: %zu biases for %td channels", source, where, b->values.size(), w->dims[0]);
                node.conv.bias = b->values;
            }
            auto& p = node.conv.params;
            if (const auto* a = attribute(n, "strides"); a && a->ints_size() == 2) p.stride_h = index_t(a->ints(0)), p.stride_w = index_t(a->ints(1));
            if (const auto* a = attribute(n, "dilations"); a && a->ints_size() == 2) p.dilation_h = index_t(a->ints(0)), p.dilation_w = index_t(a->ints(1));
            if (const auto* a = attribute(n, "group")) p.groups = index_t(a->i());
            if (const auto* a = attribute(n, "pads"); a && a->ints_size() == 4)  // x1_begin, x2_begin, x1_end, x2_end
                p.pad_top = index_t(a->ints(0)), p.pad_left = index_t(a->ints(1)), p.pad_bottom = index_t(a->ints(2)), p.pad_right = index_t(a->ints(3));
            if (const auto* a = attribute(n, "auto_pad"); a && a->s() != "NOTSET")
                return status(errc::unsupported, "%s: %s: auto_pad '%.20s' (export with explicit pads)", source, where, a->s().c_str());
            emit(std::move(node));
        } else if (op == "BatchNormalization") {
            // Folded into the convolution (or linear layer) it follows: w' = w g / sqrt(v + eps),
            // b' = (b - mean) g / sqrt(v + eps) + beta, per output channel.
            const constant *gamma = constant_at(1), *beta = constant_at(2), *mean = constant_at(3), *var = constant_at(4);
            if (!producer || !gamma || !beta || !mean || !var || (producer->kind != nn::op::conv2d && producer->kind != nn::op::linear) ||
                (producer->kind == nn::op::conv2d ? producer->conv.act : producer->linear.act) != kernels::activation::none)
                return status(errc::unsupported, "%s: %s: BatchNormalization is folded into the layer before it, and there is none to fold into",
                              source, where);
            const auto* eps_a = attribute(n, "epsilon");
            const float eps = eps_a ? eps_a->f() : 1e-5f;
            const bool conv = producer->kind == nn::op::conv2d;
            tensor<float, 4>* w4 = conv ? &producer->conv.weight : nullptr;
            const index_t channels = conv ? w4->extent(0) : producer->linear.out_features();
            if (index_t(gamma->values.size()) != channels || beta->values.size() != gamma->values.size() ||
                mean->values.size() != gamma->values.size() || var->values.size() != gamma->values.size())
                return status(errc::shape_mismatch, "%s: %s: parameters for %zu channels, the layer has %td", source, where, gamma->values.size(), channels);
            std::vector<float>& bias = conv ? producer->conv.bias : producer->linear.bias;
            if (bias.empty()) bias.assign(std::size_t(channels), 0.0f);
            const index_t per = conv ? w4->size() / channels : producer->linear.in_features();
            float* w = conv ? w4->data() : producer->linear.weight.data();
            for (index_t c = 0; c < channels; ++c) {
                const std::size_t k = std::size_t(c);
                const float f = gamma->values[k] / std::sqrt(var->values[k] + eps);
                for (index_t i = 0; i < per; ++i) w[c * per + i] *= f;
                bias[k] = (bias[k] - mean->values[k]) * f + beta->values[k];
            }
            value_of[n.output(0)] = x;
        } else if (op == "Add" && value_at(1) >= 0) {
            nn::node node;
            node.name = n.name();
            node.kind = nn::op::add;
            node.inputs = {x, value_at(1)};
            emit(std::move(node));
        } else if (op == "Add" && constant_at(1) && producer && producer->kind == nn::op::linear && producer->linear.bias.empty() &&
                   producer->linear.act == kernels::activation::none) {
            const constant* b = constant_at(1);
            if (index_t(b->values.size()) != producer->linear.out_features())
                return status(errc::shape_mismatch, "%s: %s: %zu biases for %td outputs", source, where, b->values.size(),
                              producer->linear.out_features());
            producer->linear.bias = b->values;
            alias();
        } else if (op == "Relu" || op == "Clip") {
            kernels::activation act = kernels::activation::relu;
            if (op == "Clip") {
                const constant* lo = constant_at(1);
                const constant* hi = constant_at(2);
                if (!lo || !hi || lo->values.size() != 1 || hi->values.size() != 1 || lo->values[0] != 0.0f ||
                    (hi->values[0] != 6.0f && !std::isinf(hi->values[0])))
                    return status(errc::unsupported, "%s: %s: only Clip(0, 6) (ReLU6) and Clip(0, inf) are supported", source, where);
                act = hi->values[0] == 6.0f ? kernels::activation::relu6 : kernels::activation::relu;
            }
            kernels::activation* slot = !producer ? nullptr : producer->kind == nn::op::linear ? &producer->linear.act
                                      : producer->kind == nn::op::conv2d ? &producer->conv.act : nullptr;
            if (slot && *slot == kernels::activation::none) {
                *slot = act;
                alias();
            } else {
                nn::node node;
                node.name = n.name();
                node.kind = act == kernels::activation::relu ? nn::op::relu : nn::op::relu6;
                emit(std::move(node));
            }
        } else if (op == "Sigmoid" || op == "Tanh" || op == "GlobalAveragePool" || op == "Softmax") {
            nn::node node;
            node.name = n.name();
            node.kind = op == "Sigmoid" ? nn::op::sigmoid : op == "Tanh" ? nn::op::tanh : op == "Softmax" ? nn::op::softmax : nn::op::global_avg_pool;
            emit(std::move(node));
        } else if (op == "MaxPool" || op == "AveragePool") {
            nn::node node;
            node.name = n.name();
            node.kind = op == "MaxPool" ? nn::op::max_pool : nn::op::avg_pool;
            auto& p = node.pool;
            const auto* k = attribute(n, "kernel_shape");
            if (!k || k->ints_size() != 2) return status(errc::unsupported, "%s: %s: needs a 2-D kernel_shape", source, where);
            p.kh = index_t(k->ints(0)), p.kw = index_t(k->ints(1));
            p.stride_h = p.stride_w = 1;
            if (const auto* a = attribute(n, "strides"); a && a->ints_size() == 2) p.stride_h = index_t(a->ints(0)), p.stride_w = index_t(a->ints(1));
            if (const auto* a = attribute(n, "pads"); a && a->ints_size() == 4)
                p.pad_top = index_t(a->ints(0)), p.pad_left = index_t(a->ints(1)), p.pad_bottom = index_t(a->ints(2)), p.pad_right = index_t(a->ints(3));
            if (const auto* a = attribute(n, "count_include_pad")) p.count_include_pad = a->i() != 0;
            if (const auto* a = attribute(n, "ceil_mode"); a && a->i() != 0)
                return status(errc::unsupported, "%s: %s: ceil_mode pooling", source, where);
            if (const auto* a = attribute(n, "dilations"); a && (a->ints_size() != 2 || a->ints(0) != 1 || a->ints(1) != 1))
                return status(errc::unsupported, "%s: %s: dilated pooling", source, where);
            emit(std::move(node));
        } else if (op == "Flatten" || op == "Reshape") {
            if (op == "Flatten") {
                const auto* axis = attribute(n, "axis");
                if (axis && axis->i() != 1)
                    return status(errc::unsupported, "%s: %s: Flatten with axis %lld", source, where, (long long)axis->i());
            } else {
                const constant* shape = constant_at(1);
                if (!shape || shape->values.size() != 2)
                    return status(errc::unsupported, "%s: %s: only Reshape to [batch, features] (a constant 2-element shape)", source, where);
            }
            nn::node node;
            node.name = n.name();
            node.kind = nn::op::flatten;
            emit(std::move(node));
        } else if (op == "Concat") {
            const auto* axis = attribute(n, "axis");
            if (!axis || axis->i() != 1) return status(errc::unsupported, "%s: %s: Concat along an axis other than channels", source, where);
            nn::node node;
            node.name = n.name();
            node.kind = nn::op::concat;
            for (int i = 0; i < n.input_size(); ++i) {
                if (value_at(i) < 0) return status(errc::unsupported, "%s: %s: input '%.60s' is not a value", source, where, n.input(i).c_str());
                node.inputs.push_back(value_at(i));
            }
            emit(std::move(node));
        } else if (op == "Identity" || op == "Dropout") {
            alias();
        } else {
            return status(errc::unsupported,
                          "%s: %s: op not supported yet (supported: Gemm, MatMul, Add, Conv, BatchNormalization, Relu, Clip, Sigmoid, Tanh, "
                          "MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Concat, Softmax, Identity, Dropout, Constant)",
                          source, where);
        }
    }
    auto out = value_of.find(g.output(0).name());
    if (out == value_of.end()) return status(errc::parse_error, "%s: no node makes the graph output '%.60s'", source, g.output(0).name().c_str());
    if (out->second != int(m.nodes.size()))
        return status(errc::unsupported, "%s: the graph output '%.60s' is not the last node's", source, g.output(0).name().c_str());
    SPARQ_TRY(m.validate());
    return m;
#endif
}

result<nn::model> import_onnx(const char* path) {
    auto bytes = io::read_file(path, std::size_t(1) << 31);
    if (!bytes) return bytes.error();
    return import_onnx_bytes(bytes->data(), bytes->size(), path);
}

result<nn::model> load_any_model(const char* path) {
    const std::string p = path;
    if (ends_with(p, ".onnx")) return import_onnx(path);
    if (ends_with(p, ".safetensors")) return io::load_model_safetensors(path);
    if (ends_with(p, ".sparq"))
        return status(errc::unsupported, "%s: a compressed .sparq model has no fp32 graph to load here (run, eval, energy, inspect and export-c take it)", path);
    return status(errc::unsupported, "%s: unknown model format (.onnx or .safetensors)", path);
}

}  // namespace sparq_cli
