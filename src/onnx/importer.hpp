// The ONNX importer's state while it walks a graph (start reading at import.cpp): which ONNX
// value names are constants and which are values of the model being built (with their ONNX
// shapes), and the helpers every op's handler shares. The handlers are grouped by kind:
// ops_layers.cpp (Gemm, MatMul, Conv, BatchNormalization, pooling), ops_elementwise.cpp
// (activations, arithmetic, Clip, Softmax), ops_constant.cpp (constants, aliases, shape
// subgraphs folded), ops_layout.cpp (Reshape, Transpose, Concat, Pad, Slice / Split of values,
// reductions).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "constant.hpp"
#include "sparq/nn/model.hpp"

namespace sparq::onnx_import {

// A value of the model being built: its id in nn::model and its ONNX shape (dims[0]: the
// batch, whose extent is not known at import and is written as 1).
struct runtime_value {
    int id = -1;
    std::vector<index_t> dims;
};

// What an ONNX name stands for: a constant, or a runtime value.
struct entry {
    constant_ptr c;
    runtime_value r;
    bool is_constant() const noexcept { return c != nullptr; }
};

// The sample shape of a value of ONNX shape dims: the dims after the batch, padded with
// trailing ones to three, or the trailing dims of a rank-5 value merged (memory order is kept).
result<nn::sample_shape> sample_of(const std::vector<index_t>& dims, const std::string& where);

class importer {
public:
    // file_bytes: the model file's size, which bounds what nodes may copy out of its constants.
    importer(const char* source, int opset, std::size_t file_bytes)
        : source_(source), opset_(opset), file_bytes_(file_bytes), max_copied_bytes_(4 * (file_bytes + max_folded_total)) {}

    status add_initializer(const ::onnx::TensorProto& t);
    status add_input(const ::onnx::ValueInfoProto& in);
    status add_node(const ::onnx::NodeProto& n, int index);
    status set_outputs(const ::onnx::GraphProto& g);
    nn::model take() { return std::move(m_); }

private:
    // the node being imported
    const ::onnx::NodeProto* n_ = nullptr;
    std::string where_;

    // handlers (each returns success once the node's outputs are defined)
    status gemm();
    status matmul();
    status conv();
    status batch_norm();
    status pool();
    status global_pool();
    status unary();
    status binary();
    status clip();
    status softmax();
    status constant_node();
    status alias();
    status cast();
    status shape();
    status gather();
    status unsqueeze_squeeze();
    status concat();
    status slice();
    status split();
    status crop(const runtime_value& x, const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                const std::vector<std::int64_t>& axes, const std::vector<std::int64_t>& steps, int output = 0);
    status range();
    status constant_of_shape();
    status reshape();
    status flatten();
    status transpose();
    status pad();
    status reduce_mean();

    // inputs
    const entry* input(int i) const;  // null when absent (or named "")
    result<constant_ptr> constant_input(int i, const char* what) const;
    result<runtime_value> runtime_input(int i, const char* what) const;
    result<std::vector<std::int64_t>> ints_input(int i, const char* what) const;
    // attributes
    const ::onnx::AttributeProto* attr(const char* name) const;
    std::int64_t attr_int(const char* name, std::int64_t fallback) const;
    float attr_float(const char* name, float fallback) const;
    std::string attr_string(const char* name, const char* fallback) const;
    std::vector<std::int64_t> attr_ints(const char* name) const;
    status only_attributes(std::initializer_list<const char*> known) const;
    // outputs
    status define_constant(constant c, int output = 0);
    status define(const runtime_value& v, int output = 0);
    // Appends a node reading `inputs` (empty: the node's own inputs[0]) and makes output 0 a
    // value of ONNX shape dims.
    status emit(nn::node node, std::vector<index_t> dims);
    // v seen with ONNX shape dims (same values in the same order): v itself when the sample
    // shape is the same, else a reshape node.
    result<runtime_value> view_as(const runtime_value& v, std::vector<index_t> dims);
    status fail(errc code, const char* fmt, ...) const;
    std::string node_name(const char* fallback_prefix) const;
    std::string weight_name(int input_index) const;
    result<nn::node> linear_node(const constant& w, bool transposed, index_t n, index_t k, float alpha) const;
    // The ONNX axis a (may be negative) of a rank-r value, or a status; batch: whether axis 0 is allowed.
    result<std::int64_t> axis(std::int64_t a, std::size_t rank, bool batch_allowed) const;

    const char* source_;
    int opset_;
    nn::model m_;
    std::map<std::string, entry> names_;
    bool have_input_ = false;
    std::int64_t static_batch_ = 0;  // the input's batch extent when the file fixes it, else 0
    std::size_t folded_total_ = 0;   // values of all constants nodes made (bounded by max_folded_total)
    static constexpr std::size_t max_folded_total = std::size_t(1) << 26;
    // Bytes the nodes copied out of constants (weights, biases, node constants) as floats,
    // bounded by 4 x (the file's bytes + what folding may make): a constant named by 1000 nodes
    // is copied 1000 times, and issue 19's 16 MB file reached 4 GB that way.
    std::size_t file_bytes_;
    std::size_t copied_bytes_ = 0;
    std::size_t max_copied_bytes_;
};

}  // namespace sparq::onnx_import
