// ONNX -> nn::model. Start reading here: import_bytes parses the ModelProto, registers the
// initializers (constants) and the graph input, then imports each node in order through one
// table of handlers (add_node), names the graph outputs, and hands the graph to nn::fuse.
#include "sparq/onnx/import.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include "importer.hpp"
#include "sparq/io/file.hpp"
#include "sparq/nn/fuse.hpp"

namespace sparq::onnx_import {

result<nn::sample_shape> sample_of(const std::vector<index_t>& d, const std::string& where) {
    switch (d.size()) {
        case 1: return nn::sample_shape{1, 1, 1};
        case 2: return nn::sample_shape{d[1], 1, 1};
        case 3: return nn::sample_shape{d[1], d[2], 1};
        case 4: return nn::sample_shape{d[1], d[2], d[3]};
        case 5: return nn::sample_shape{d[1], d[2], d[3] * d[4]};
        default:
            return status(errc::unsupported, "%s: a value of rank %zu (values of rank 1 to 5, the batch first, are supported)", where.c_str(),
                          d.size());
    }
}

status importer::fail(errc code, const char* fmt, ...) const {
    char msg[400];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, args);
    va_end(args);
    return status(code, "%s: %s: %s", source_, where_.c_str(), msg);
}

const entry* importer::input(int i) const {
    if (i >= n_->input_size() || n_->input(i).empty()) return nullptr;
    auto it = names_.find(n_->input(i));
    return it == names_.end() ? nullptr : &it->second;
}

result<constant_ptr> importer::constant_input(int i, const char* what) const {
    if (i >= n_->input_size() || n_->input(i).empty()) return fail(errc::invalid_argument, "the %s (input %d) is missing", what, i);
    const entry* e = input(i);
    if (!e) return fail(errc::invalid_argument, "the %s '%.60s' is made by no earlier node", what, n_->input(i).c_str());
    if (!e->is_constant())
        return fail(errc::unsupported, "the %s '%.60s' is computed at run time; only a constant is supported here", what, n_->input(i).c_str());
    return e->c;
}

result<runtime_value> importer::runtime_input(int i, const char* what) const {
    if (i >= n_->input_size() || n_->input(i).empty()) return fail(errc::invalid_argument, "the %s (input %d) is missing", what, i);
    const entry* e = input(i);
    if (!e) return fail(errc::invalid_argument, "reads '%.60s', which no earlier node makes", n_->input(i).c_str());
    if (e->is_constant())
        return fail(errc::unsupported, "the %s '%.60s' is a constant; this op is imported on run-time values only", what, n_->input(i).c_str());
    return e->r;
}

result<std::vector<std::int64_t>> importer::ints_input(int i, const char* what) const {
    auto c = constant_input(i, what);
    if (!c) return c.error();
    if (!(*c)->integer) return fail(errc::invalid_argument, "the %s is not an integer tensor", what);
    return (*c)->i;
}

const ::onnx::AttributeProto* importer::attr(const char* name) const {
    for (const auto& a : n_->attribute())
        if (a.name() == name) return &a;
    return nullptr;
}
std::int64_t importer::attr_int(const char* name, std::int64_t fallback) const {
    const auto* a = attr(name);
    return a ? a->i() : fallback;
}
float importer::attr_float(const char* name, float fallback) const {
    const auto* a = attr(name);
    return a ? a->f() : fallback;
}
std::string importer::attr_string(const char* name, const char* fallback) const {
    const auto* a = attr(name);
    return a ? a->s() : std::string(fallback);
}
std::vector<std::int64_t> importer::attr_ints(const char* name) const {
    const auto* a = attr(name);
    return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : std::vector<std::int64_t>{};
}

status importer::only_attributes(std::initializer_list<const char*> known) const {
    for (const auto& a : n_->attribute()) {
        bool ok = false;
        for (const char* k : known) ok = ok || a.name() == k;
        if (!ok) return fail(errc::unsupported, "attribute '%.40s' is not supported", a.name().c_str());
    }
    return status::success();
}

status importer::define_constant(constant c, int output) {
    if (output >= n_->output_size()) return status::success();
    // every constant a node makes stays until the end: their total is bounded too
    folded_total_ += std::size_t(c.f.size() + c.i.size());
    if (folded_total_ > max_folded_total)
        return fail(errc::out_of_range, "the graph's folded constants pass %zu values in all", max_folded_total);
    names_[n_->output(output)] = entry{std::make_shared<const constant>(std::move(c)), {}};
    return status::success();
}

status importer::define(const runtime_value& v, int output) {
    if (output >= n_->output_size()) return status::success();
    names_[n_->output(output)] = entry{nullptr, v};
    return status::success();
}

status importer::emit(nn::node node, std::vector<index_t> dims) {
    auto s = sample_of(dims, where_);
    if (!s) return fail(s.error().code(), "%s", s.error().message());
    if (node.name.empty()) node.name = node_name(nn::to_string(node.kind));
    copied_bytes_ += 4 * (std::size_t(node.linear.weight.size() + node.conv.weight.size()) + node.linear.bias.size() +
                          node.conv.bias.size() + node.constant.size());
    if (copied_bytes_ > max_copied_bytes_)
        return fail(errc::out_of_range, "the nodes copy %zu bytes of weights and constants out of a %zu-byte file (constants named too often?)",
                    copied_bytes_, file_bytes_);
    if (node.inputs.empty()) {
        const entry* x = input(0);
        if (!x || x->is_constant()) return fail(errc::invalid_argument, "input 0 is not a run-time value");
        node.inputs = {x->r.id};
    }
    m_.nodes.push_back(std::move(node));
    return define(runtime_value{int(m_.nodes.size()), std::move(dims)});
}

result<runtime_value> importer::view_as(const runtime_value& v, std::vector<index_t> dims) {
    auto from = sample_of(v.dims, where_), to = sample_of(dims, where_);
    if (!from) return from.error();
    if (!to) return to.error();
    if (*from == *to) return runtime_value{v.id, std::move(dims)};
    nn::node node;
    node.name = node_name("reshape");
    node.kind = nn::op::reshape;
    node.inputs = {v.id};
    node.params.shape = *to;
    m_.nodes.push_back(std::move(node));
    return runtime_value{int(m_.nodes.size()), std::move(dims)};
}

std::string importer::node_name(const char* prefix) const {
    if (!n_->name().empty()) return n_->name();
    return std::string(prefix) + "_" + std::to_string(m_.nodes.size());
}

// Layers are named after their weights when the exporter kept PyTorch's names ("fc1.weight").
std::string importer::weight_name(int i) const {
    if (i < n_->input_size()) {
        const std::string& w = n_->input(i);
        if (w.size() > 7 && w.compare(w.size() - 7, 7, ".weight") == 0) return w.substr(0, w.size() - 7);
    }
    return node_name(n_->op_type().c_str());
}

result<std::int64_t> importer::axis(std::int64_t a, std::size_t rank, bool batch_allowed) const {
    const std::int64_t r = std::int64_t(rank);
    if (a < -r || a >= r) return fail(errc::invalid_argument, "axis %lld of a rank-%lld value", (long long)a, (long long)r);
    if (a < 0) a += r;
    if (a == 0 && !batch_allowed) return fail(errc::unsupported, "axis 0 is the batch; only the other axes are supported");
    return a;
}

status importer::add_initializer(const ::onnx::TensorProto& t) {
    auto c = read_tensor(t, std::string(source_) + ": initializer");
    if (!c) return c.error();
    names_[t.name()] = entry{std::make_shared<const constant>(std::move(*c)), {}};
    return status::success();
}

status importer::add_input(const ::onnx::ValueInfoProto& in) {
    if (names_.count(in.name())) return status::success();  // an initializer listed as an input (IR < 4)
    if (have_input_)
        return status(errc::unsupported, "%s: more than one graph input ('%.60s'); one is supported", source_, in.name().c_str());
    const int elem = in.type().tensor_type().elem_type();  // 0: not stated
    if (!in.type().has_tensor_type() || (elem != ::onnx::TensorProto::FLOAT && elem != 0))
        return status(errc::unsupported, "%s: input '%.60s' is not a float32 tensor", source_, in.name().c_str());
    const auto& dims = in.type().tensor_type().shape().dim();
    runtime_value v;
    v.id = 0;
    v.dims.push_back(1);
    if (dims.size() > 0 && dims[0].has_dim_value()) static_batch_ = dims[0].dim_value();
    for (int i = 1; i < dims.size(); ++i) {
        if (!dims[i].has_dim_value() || dims[i].dim_value() < 1 || dims[i].dim_value() > (1 << 24))
            return status(errc::unsupported, "%s: input '%.60s' has an unknown or bad extent in dimension %d (only the batch may vary)",
                          source_, in.name().c_str(), i);
        v.dims.push_back(index_t(dims[i].dim_value()));
    }
    if (v.dims.size() < 2 || v.dims.size() > 5)
        return status(errc::unsupported, "%s: input '%.60s' of rank %d: [batch, features] up to rank 5 is supported", source_,
                      in.name().c_str(), dims.size());
    auto s = sample_of(v.dims, source_);
    if (!s) return s.error();
    m_.input = *s;
    names_[in.name()] = entry{nullptr, v};
    have_input_ = true;
    return status::success();
}

status importer::add_node(const ::onnx::NodeProto& n, int index) {
    n_ = &n;
    char where[200];
    std::snprintf(where, sizeof where, "node %d '%.40s' (%.80s)", index, n.op_type().c_str(), n.name().c_str());
    where_ = where;
    if (n.output_size() < 1) return fail(errc::parse_error, "no output");
    if (!n.domain().empty() && n.domain() != "ai.onnx")
        return fail(errc::unsupported, "op of domain '%.40s' (only the default ONNX domain is supported)", n.domain().c_str());
    if (!have_input_) return fail(errc::parse_error, "the graph has no input");
    using handler = status (importer::*)();
    static const std::map<std::string, handler> table = {
        {"Gemm", &importer::gemm}, {"MatMul", &importer::matmul}, {"Conv", &importer::conv},
        {"BatchNormalization", &importer::batch_norm}, {"MaxPool", &importer::pool}, {"AveragePool", &importer::pool},
        {"GlobalAveragePool", &importer::global_pool}, {"GlobalMaxPool", &importer::global_pool},
        {"Relu", &importer::unary}, {"LeakyRelu", &importer::unary}, {"Sigmoid", &importer::unary}, {"Tanh", &importer::unary},
        {"HardSigmoid", &importer::unary}, {"HardSwish", &importer::unary}, {"Erf", &importer::unary}, {"Exp", &importer::unary},
        {"Sqrt", &importer::unary}, {"Neg", &importer::unary}, {"Reciprocal", &importer::unary}, {"Floor", &importer::unary},
        {"Ceil", &importer::unary},
        {"Add", &importer::binary}, {"Sub", &importer::binary}, {"Mul", &importer::binary}, {"Div", &importer::binary},
        {"Pow", &importer::binary}, {"Equal", &importer::binary}, {"Less", &importer::binary}, {"Greater", &importer::binary},
        {"Clip", &importer::clip}, {"Softmax", &importer::softmax},
        {"Constant", &importer::constant_node}, {"Identity", &importer::alias}, {"Dropout", &importer::alias},
        {"Cast", &importer::cast}, {"Shape", &importer::shape}, {"Gather", &importer::gather},
        {"Unsqueeze", &importer::unsqueeze_squeeze}, {"Squeeze", &importer::unsqueeze_squeeze}, {"Concat", &importer::concat},
        {"Slice", &importer::slice}, {"Split", &importer::split}, {"Range", &importer::range}, {"ConstantOfShape", &importer::constant_of_shape},
        {"Reshape", &importer::reshape}, {"Flatten", &importer::flatten}, {"Transpose", &importer::transpose},
        {"Pad", &importer::pad}, {"ReduceMean", &importer::reduce_mean},
    };
    auto it = table.find(n.op_type());
    if (it == table.end())
        return fail(errc::unsupported, "op not supported (docs/onnx-import.md lists the supported ops)");
    return (this->*(it->second))();
}

status importer::set_outputs(const ::onnx::GraphProto& g) {
    if (g.output_size() < 1) return status(errc::parse_error, "%s: the graph has no output", source_);
    for (const auto& out : g.output()) {
        auto it = names_.find(out.name());
        if (it == names_.end()) return status(errc::parse_error, "%s: no node makes the graph output '%.60s'", source_, out.name().c_str());
        if (it->second.is_constant())
            return status(errc::unsupported, "%s: the graph output '%.60s' is a constant (it does not depend on the input)", source_,
                          out.name().c_str());
        int id = it->second.r.id;
        if (id == 0) {  // the input itself (through aliases): a node that makes a copy of it
            auto s = sample_of(it->second.r.dims, source_);
            if (!s) return s.error();
            nn::node copy;
            copy.name = out.name();
            copy.kind = nn::op::reshape;
            copy.inputs = {0};
            copy.params.shape = *s;
            m_.nodes.push_back(std::move(copy));
            id = int(m_.nodes.size());
        }
        m_.outputs.push_back(id);
    }
    return status::success();
}

}  // namespace sparq::onnx_import

namespace sparq::onnx {

namespace {

result<nn::model> import_or_status(const unsigned char* data, std::size_t size, const char* source, const import_options& o) {
    if (size > std::size_t(INT32_MAX) || size > o.max_file_bytes)
        return status(errc::out_of_memory, "%s: %zu bytes: too large (at most %zu)", source, size, std::min(o.max_file_bytes, std::size_t(INT32_MAX)));
    ::onnx::ModelProto proto;
    if (!proto.ParseFromArray(data, int(size)))
        return status(errc::parse_error, "%s: not an ONNX model (protobuf parsing failed; truncated or not .onnx?)", source);
    int opset = 0;
    for (const auto& s : proto.opset_import())
        if (s.domain().empty() || s.domain() == "ai.onnx") opset = int(s.version());
    if (opset == 0) opset = 13;
    if (opset < 7 || opset > 18)
        return status(errc::unsupported, "%s: opset %d (opsets 7 to 18 are imported; PyTorch exports 13 by default)", source, opset);
    const ::onnx::GraphProto& g = proto.graph();
    onnx_import::importer im(source, opset, size);
    for (const auto& t : g.initializer()) SPARQ_TRY(im.add_initializer(t));
    for (const auto& in : g.input()) SPARQ_TRY(im.add_input(in));
    int index = 0;
    for (const auto& n : g.node()) SPARQ_TRY(im.add_node(n, ++index));
    SPARQ_TRY(im.set_outputs(g));
    nn::model m = im.take();
    if (m.nodes.empty()) return status(errc::unsupported, "%s: the graph computes nothing (no node depends on the input)", source);
    if (o.fuse) SPARQ_TRY(nn::fuse(m));
    else SPARQ_TRY(nn::prune_dead_nodes(m));
    auto cost = m.cost_per_sample();  // (infer_shapes: the imported graph validates)
    if (!cost) return status(cost.error().code(), "%s: %s", source, cost.error().message());
    SPARQ_TRY(nn::check_limits(cost->work, cost->memory, o.limits, source));
    return m;
}

}  // namespace

// protobuf and the containers throw on exhausted memory: a status here, never an abort
result<nn::model> import_bytes(const unsigned char* data, std::size_t size, const char* source, const import_options& o) {
    try {
        return import_or_status(data, size, source, o);
    } catch (const std::bad_alloc&) {
        return status(errc::out_of_memory, "%s: out of memory while importing", source);
    } catch (const std::exception& e) {
        return status(errc::parse_error, "%s: %.200s", source, e.what());
    }
}

result<nn::model> import_file(const char* path, const import_options& o) {
    auto bytes = io::read_file(path, o.max_file_bytes);
    if (!bytes) return bytes.error();
    return import_bytes(bytes->data(), bytes->size(), path, o);
}

}  // namespace sparq::onnx
