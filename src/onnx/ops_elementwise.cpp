// ONNX elementwise ops: activations, arithmetic with numpy broadcasting (between values, or
// against a constant), Clip, Softmax. On constants they fold at import.
#include <cmath>
#include <limits>

#include "importer.hpp"

namespace sparq::onnx_import {

status importer::unary() {
    const std::string& op = n_->op_type();
    if (op == "LeakyRelu") SPARQ_TRY(only_attributes({"alpha"}));
    else if (op == "HardSigmoid") SPARQ_TRY(only_attributes({"alpha", "beta"}));
    else SPARQ_TRY(only_attributes({}));
    const entry* e = input(0);
    if (!e) return fail(errc::invalid_argument, "reads '%.60s', which no earlier node makes", n_->input_size() ? n_->input(0).c_str() : "");
    if (e->is_constant()) {
        auto c = fold_unary(op, *e->c, where_);
        if (!c) return c.error();
        return define_constant(std::move(*c));
    }
    nn::node node;
    node.inputs = {e->r.id};
    if (op == "Relu") node.kind = nn::op::relu;
    else if (op == "Sigmoid") node.kind = nn::op::sigmoid;
    else if (op == "Tanh") node.kind = nn::op::tanh;
    else if (op == "Erf") node.kind = nn::op::erf;
    else if (op == "Exp") node.kind = nn::op::exp;
    else if (op == "Sqrt") node.kind = nn::op::sqrt;
    else if (op == "Neg") node.kind = nn::op::neg;
    else if (op == "HardSwish") node.kind = nn::op::hard_swish;
    else if (op == "LeakyRelu") {
        node.kind = nn::op::leaky_relu;
        node.params.alpha = attr_float("alpha", 0.01f);
    } else if (op == "HardSigmoid") {
        node.kind = nn::op::hard_sigmoid;
        node.params.alpha = attr_float("alpha", 0.2f);
        node.params.beta = attr_float("beta", 0.5f);
    } else if (op == "Reciprocal") {  // 1 / x
        node.kind = nn::op::div;
        node.constant = {1.0f};
        node.params.constant_first = true;
    } else {
        return fail(errc::unsupported, "%s of a run-time value", op.c_str());
    }
    return emit(std::move(node), e->r.dims);
}

status importer::binary() {
    SPARQ_TRY(only_attributes({}));
    const std::string& op = n_->op_type();
    const entry *a = input(0), *b = input(1);
    if (!a || !b) return fail(errc::invalid_argument, "an input is missing or made by no earlier node");
    const fold_binary kind = op == "Add" ? fold_binary::add : op == "Sub" ? fold_binary::sub : op == "Mul" ? fold_binary::mul
                           : op == "Div" ? fold_binary::div : op == "Pow" ? fold_binary::pow : op == "Equal" ? fold_binary::equal
                           : op == "Less" ? fold_binary::less : fold_binary::greater;
    if (a->is_constant() && b->is_constant()) {
        auto c = fold_elementwise(kind, *a->c, *b->c, where_);
        if (!c) return c.error();
        return define_constant(std::move(*c));
    }
    if (kind == fold_binary::equal || kind == fold_binary::less || kind == fold_binary::greater)
        return fail(errc::unsupported, "%s of run-time values", op.c_str());
    nn::node node;
    node.kind = kind == fold_binary::add ? nn::op::add : kind == fold_binary::sub ? nn::op::sub : kind == fold_binary::mul ? nn::op::mul
              : kind == fold_binary::div ? nn::op::div : nn::op::pow;
    std::vector<index_t> out;
    if (!a->is_constant() && !b->is_constant()) {
        if (a->r.dims.size() != b->r.dims.size() || a->r.dims.size() > 4)
            return fail(errc::unsupported, "%s of run-time values of ranks %zu and %zu (equal ranks up to 4 are supported)", op.c_str(),
                        a->r.dims.size(), b->r.dims.size());
        auto d = broadcast_dims(a->r.dims, b->r.dims, where_);
        if (!d) return d.error();
        out = std::move(*d);
        node.inputs = {a->r.id, b->r.id};
        return emit(std::move(node), std::move(out));
    }
    const bool first = a->is_constant();
    const runtime_value& x = first ? b->r : a->r;
    const constant& c = first ? *a->c : *b->c;
    if (c.has_batch_dim()) return fail(errc::unsupported, "arithmetic with the batch extent");
    if (c.dims.size() > x.dims.size() || (c.dims.size() == x.dims.size() && !c.dims.empty() && c.dims[0] != 1))
        return fail(errc::unsupported, "a constant of rank %zu broadcast over the batch of a rank-%zu value", c.dims.size(), x.dims.size());
    if (x.dims.size() > 4) return fail(errc::unsupported, "arithmetic on a rank-%zu value", x.dims.size());
    auto d = broadcast_dims(x.dims, c.dims, where_);
    if (!d) return d.error();
    out = std::move(*d);
    // the constant right-aligned to the value's rank, its batch position 1: a sample shape
    std::vector<index_t> full(x.dims.size() - c.dims.size(), 1);
    full.insert(full.end(), c.dims.begin(), c.dims.end());
    auto cs = sample_of(full, where_);
    if (!cs) return cs.error();
    node.params.shape = *cs;
    node.constant.resize(std::size_t(c.size()));
    for (index_t k = 0; k < c.size(); ++k) node.constant[std::size_t(k)] = float(c.at(k));
    node.params.constant_first = first && (node.kind == nn::op::sub || node.kind == nn::op::div || node.kind == nn::op::pow);
    node.inputs = {x.id};
    return emit(std::move(node), std::move(out));
}

status importer::clip() {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (opset_ < 11) {
        SPARQ_TRY(only_attributes({"min", "max"}));
        lo = attr_float("min", lo), hi = attr_float("max", hi);
    } else {
        SPARQ_TRY(only_attributes({}));
        for (int i = 1; i <= 2; ++i) {
            if (i >= n_->input_size() || n_->input(i).empty()) continue;
            auto c = constant_input(i, i == 1 ? "min" : "max");
            if (!c) return c.error();
            if ((*c)->size() != 1 || (*c)->has_batch_dim()) return fail(errc::invalid_argument, "the %s is not a known scalar", i == 1 ? "min" : "max");
            (i == 1 ? lo : hi) = float((*c)->at(0));
        }
    }
    auto x = runtime_input(0, "input");
    if (!x) return x.error();
    nn::node node;
    node.inputs = {x->id};
    if (lo == 0.0f && hi == 6.0f) node.kind = nn::op::relu6;
    else if (lo == 0.0f && std::isinf(hi) && hi > 0) node.kind = nn::op::relu;
    else {
        node.kind = nn::op::clip;
        node.params.alpha = lo, node.params.beta = hi;
    }
    return emit(std::move(node), x->dims);
}

status importer::softmax() {
    SPARQ_TRY(only_attributes({"axis"}));
    auto x = runtime_input(0, "input");
    if (!x) return x.error();
    const std::size_t r = x->dims.size();
    auto a = axis(attr_int("axis", opset_ >= 13 ? -1 : 1), r, false);
    if (!a) return a.error();
    nn::node node;
    node.kind = nn::op::softmax;
    if (opset_ < 13 && std::size_t(*a) + 1 < r) {
        // before opset 13: over the values from axis on, flattened
        std::vector<index_t> flat(x->dims.begin(), x->dims.begin() + *a);
        index_t inner = 1;
        for (std::size_t k = std::size_t(*a); k < r; ++k) inner *= x->dims[k];
        flat.push_back(inner);
        if (flat.size() > 4) return fail(errc::unsupported, "softmax over part of a rank-%zu value", r);
        auto v = view_as(*x, flat);
        if (!v) return v.error();
        node.inputs = {v->id};
        node.params.axis = std::int32_t(*a - 1);
        SPARQ_TRY(emit(std::move(node), flat));
        auto back = view_as(names_[n_->output(0)].r, x->dims);
        if (!back) return back.error();
        return define(*back);
    }
    if (r > 4) return fail(errc::unsupported, "softmax on a rank-%zu value", r);
    node.inputs = {x->id};
    node.params.axis = std::int32_t(*a - 1);
    return emit(std::move(node), x->dims);
}

}  // namespace sparq::onnx_import
