// ONNX -> nn::model (see onnx_import.hpp). Built with SPARQ_CLI_WITH_ONNX when libonnx-dev and
// libprotobuf-dev are found; otherwise every .onnx file gets a message saying what to install.
#include "onnx_import.hpp"

#include <cmath>
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
    std::string current;  // the value the chain has reached
    for (const auto& in : g.input())
        if (!constants.count(in.name())) {
            if (!current.empty()) return status(errc::unsupported, "%s: more than one graph input ('%.60s', '%.60s')", source,
                                                current.c_str(), in.name().c_str());
            current = in.name();
        }
    if (current.empty()) return status(errc::parse_error, "%s: the graph has no input", source);
    if (g.output_size() != 1) return status(errc::unsupported, "%s: %d graph outputs; one is supported", source, g.output_size());

    nn::model m;
    bool open_bias = false;  // the last layer came from a MatMul and may take an Add
    int index = 0;
    for (const auto& n : g.node()) {
        ++index;
        const std::string& op = n.op_type();
        char where[200];
        std::snprintf(where, sizeof where, "node %d '%.40s' (%.80s)", index, op.c_str(), n.name().c_str());
        if (op == "Constant") {
            const onnx::AttributeProto* v = attribute(n, "value");
            if (!v || !v->has_t() || n.output_size() != 1)
                return status(errc::unsupported, "%s: %s: only tensor-valued Constant nodes are supported", source, where);
            auto c = read_tensor(v->t(), source);
            if (!c) return c.error();
            constants[n.output(0)] = std::move(*c);
            continue;
        }
        if (n.input_size() < 1 || n.output_size() < 1 || n.input(0) != current)
            return status(errc::unsupported, "%s: %s does not continue the chain from '%.60s': only chains of layers are supported so far",
                          source, where, current.c_str());
        auto weight = [&](int i) -> const constant* {
            if (n.input_size() <= i || n.input(i).empty()) return nullptr;
            auto it = constants.find(n.input(i));
            return it == constants.end() ? nullptr : &it->second;
        };
        if (op == "Gemm" || op == "MatMul") {
            const constant* w = weight(1);
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
            if (op == "Gemm" && weight(2)) {
                const constant* b = weight(2);
                if (index_t(b->values.size()) != l->out_features())
                    return status(errc::shape_mismatch, "%s: %s: %zu biases for %td outputs", source, where, b->values.size(), l->out_features());
                l->bias = b->values;
            } else if (op == "Gemm" && n.input_size() > 2 && !n.input(2).empty()) {
                return status(errc::unsupported, "%s: %s: the bias '%.60s' is not a constant", source, where, n.input(2).c_str());
            }
            m.layers.push_back(std::move(*l));
            open_bias = op == "MatMul";
        } else if (op == "Add" && open_bias && weight(1)) {
            const constant* b = weight(1);
            if (index_t(b->values.size()) != m.layers.back().out_features())
                return status(errc::shape_mismatch, "%s: %s: %zu biases for %td outputs", source, where, b->values.size(),
                              m.layers.back().out_features());
            m.layers.back().bias = b->values;
            open_bias = false;
        } else if (op == "Relu" || op == "Clip") {
            if (m.layers.empty() || m.layers.back().act != kernels::activation::none)
                return status(errc::unsupported, "%s: %s: an activation must follow a Gemm / MatMul", source, where);
            kernels::activation act = kernels::activation::relu;
            if (op == "Clip") {
                const constant* lo = weight(1);
                const constant* hi = weight(2);
                if (!lo || !hi || lo->values.size() != 1 || hi->values.size() != 1 || lo->values[0] != 0.0f ||
                    (hi->values[0] != 6.0f && !std::isinf(hi->values[0])))
                    return status(errc::unsupported, "%s: %s: only Clip(0, 6) (ReLU6) and Clip(0, inf) are supported", source, where);
                act = hi->values[0] == 6.0f ? kernels::activation::relu6 : kernels::activation::relu;
            }
            m.layers.back().act = act;
            open_bias = false;
        } else if (op == "Flatten" || op == "Identity" || op == "Dropout") {
            const auto* axis = attribute(n, "axis");
            if (op == "Flatten" && axis && axis->i() != 1)
                return status(errc::unsupported, "%s: %s: Flatten with axis %lld", source, where, (long long)axis->i());
        } else {
            return status(errc::unsupported,
                          "%s: %s: op not supported yet (supported: Gemm, MatMul, Add, Relu, Clip, Flatten, Identity, Dropout, Constant)",
                          source, where);
        }
        current = n.output(0);
    }
    if (current != g.output(0).name())
        return status(errc::unsupported, "%s: the graph output '%.60s' is not the end of the chain ('%.60s')", source,
                      g.output(0).name().c_str(), current.c_str());
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
    return status(errc::unsupported, "%s: unknown model format (.onnx or .safetensors)", path);
}

}  // namespace sparq_cli
