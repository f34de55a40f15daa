// ONNX ops on constants: Constant, aliases (Identity, Dropout, Cast to float), and the shape
// subgraphs dynamic-batch exports make (Shape, Gather, Slice, Range, ConstantOfShape), folded at
// import. (The layout ops on values, and the Slice of a value, are in ops_layout.cpp.)
#include <algorithm>
#include <cmath>

#include "importer.hpp"

namespace sparq::onnx_import {

status importer::constant_node() {
    SPARQ_TRY(only_attributes({"value", "value_float", "value_floats", "value_int", "value_ints"}));
    constant c;
    if (const auto* v = attr("value")) {
        auto t = read_tensor(v->t(), where_);
        if (!t) return t.error();
        c = std::move(*t);
    } else if (const auto* f = attr("value_float")) {
        c.f = {f->f()};
    } else if (const auto* fs = attr("value_floats")) {
        c.f.assign(fs->floats().begin(), fs->floats().end());
        c.dims = {index_t(c.f.size())};
    } else if (const auto* i = attr("value_int")) {
        c.integer = true;
        c.i = {i->i()};
    } else if (const auto* is = attr("value_ints")) {
        c.integer = true;
        c.i.assign(is->ints().begin(), is->ints().end());
        c.dims = {index_t(c.i.size())};
    } else {
        return fail(errc::unsupported, "a Constant without a value (sparse_value and string values are not supported)");
    }
    return define_constant(std::move(c));
}

// Identity, Dropout (inference: the input as it is): the output names the same value.
status importer::alias() {
    if (n_->op_type() == "Dropout") {
        SPARQ_TRY(only_attributes({"seed", "ratio"}));
        if (n_->input_size() > 2 && !n_->input(2).empty()) {
            auto t = constant_input(2, "training_mode");
            if (!t) return t.error();
            if ((*t)->size() == 1 && (*t)->at(0) != 0) return fail(errc::unsupported, "training_mode = true");
        }
        if (n_->output_size() > 1 && !n_->output(1).empty()) {
            // the mask of inference-mode Dropout is all ones
            auto x = input(0);
            if (!x) return fail(errc::invalid_argument, "reads a value no earlier node makes");
            return fail(errc::unsupported, "the mask output of Dropout");
        }
    } else {
        SPARQ_TRY(only_attributes({}));
    }
    const entry* e = input(0);
    if (!e) return fail(errc::invalid_argument, "reads '%.60s', which no earlier node makes", n_->input_size() ? n_->input(0).c_str() : "");
    names_[n_->output(0)] = *e;
    return status::success();
}

status importer::cast() {
    SPARQ_TRY(only_attributes({"to", "saturate"}));
    const entry* e = input(0);
    if (!e) return fail(errc::invalid_argument, "reads a value no earlier node makes");
    const std::int64_t to = attr_int("to", 0);
    const bool to_float = to == ::onnx::TensorProto::FLOAT || to == ::onnx::TensorProto::DOUBLE;
    const bool to_int = to == ::onnx::TensorProto::INT64 || to == ::onnx::TensorProto::INT32 || to == ::onnx::TensorProto::BOOL;
    if (!e->is_constant()) {
        if (to != ::onnx::TensorProto::FLOAT) return fail(errc::unsupported, "a cast of run-time values to ONNX type %lld (float32 only)", (long long)to);
        names_[n_->output(0)] = *e;
        return status::success();
    }
    if (!to_float && !to_int) return fail(errc::unsupported, "a cast to ONNX type %lld", (long long)to);
    constant c = *e->c;
    if (to_float && c.integer) {
        if (c.has_batch_dim()) return fail(errc::unsupported, "a cast of the batch extent to float");
        c.f.assign(c.i.begin(), c.i.end());
        c.i.clear();
        c.integer = false;
    } else if (to_int && !c.integer) {
        for (float v : c.f) {
            if (to != ::onnx::TensorProto::BOOL && !(v >= -9.2e18f && v <= 9.2e18f))
                return fail(errc::out_of_range, "a cast of %g to an integer", double(v));
            c.i.push_back(to == ::onnx::TensorProto::BOOL ? std::int64_t(v != 0.0f) : std::int64_t(v));
        }
        c.f.clear();
        c.integer = true;
    } else if (to == ::onnx::TensorProto::BOOL) {
        for (auto& v : c.i) v = v != 0;
    }
    return define_constant(std::move(c));
}

status importer::shape() {
    SPARQ_TRY(only_attributes({"start", "end"}));
    const entry* e = input(0);
    if (!e) return fail(errc::invalid_argument, "reads a value no earlier node makes");
    constant c;
    c.integer = true;
    if (e->is_constant()) {
        c.i.assign(e->c->dims.begin(), e->c->dims.end());
    } else {
        c.i.assign(e->r.dims.begin(), e->r.dims.end());
        c.i[0] = static_batch_ > 0 ? static_batch_ : batch_dim;
    }
    const std::int64_t r = std::int64_t(c.i.size());
    std::int64_t start = attr_int("start", 0), end = attr_int("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<std::int64_t>(start, 0, r), end = std::clamp<std::int64_t>(end, start, r);
    c.i = std::vector<std::int64_t>(c.i.begin() + start, c.i.begin() + end);
    c.dims = {index_t(c.i.size())};
    return define_constant(std::move(c));
}

status importer::gather() {
    SPARQ_TRY(only_attributes({"axis"}));
    const entry* d = input(0);
    if (d && !d->is_constant()) return fail(errc::unsupported, "Gather from run-time values (embedding lookups) is not supported yet");
    auto data = constant_input(0, "data");
    if (!data) return data.error();
    auto idx = constant_input(1, "indices");
    if (!idx) return idx.error();
    auto c = fold_gather(**data, **idx, attr_int("axis", 0), where_);
    if (!c) return c.error();
    return define_constant(std::move(*c));
}

status importer::slice() {
    std::vector<std::int64_t> starts, ends, axes, steps;
    if (opset_ >= 10) {
        SPARQ_TRY(only_attributes({}));
        auto s = ints_input(1, "starts");
        if (!s) return s.error();
        auto e = ints_input(2, "ends");
        if (!e) return e.error();
        starts = *s, ends = *e;
        if (n_->input_size() > 3 && !n_->input(3).empty()) {
            auto a = ints_input(3, "axes");
            if (!a) return a.error();
            axes = *a;
        }
        if (n_->input_size() > 4 && !n_->input(4).empty()) {
            auto st = ints_input(4, "steps");
            if (!st) return st.error();
            steps = *st;
        }
    } else {
        SPARQ_TRY(only_attributes({"starts", "ends", "axes"}));
        starts = attr_ints("starts"), ends = attr_ints("ends"), axes = attr_ints("axes");
    }
    const entry* d = input(0);
    if (d && !d->is_constant()) return crop(d->r, starts, ends, axes, steps);
    auto data = constant_input(0, "data");
    if (!data) return data.error();
    auto c = fold_slice(**data, starts, ends, axes, steps, where_);
    if (!c) return c.error();
    return define_constant(std::move(*c));
}

status importer::range() {
    SPARQ_TRY(only_attributes({}));
    const constant* p[3];
    for (int i = 0; i < 3; ++i) {
        auto c = constant_input(i, i == 0 ? "start" : i == 1 ? "limit" : "delta");
        if (!c) return c.error();
        if ((*c)->size() != 1 || (*c)->has_batch_dim()) return fail(errc::invalid_argument, "Range's inputs must be known scalars");
        p[i] = c->get();
    }
    const double start = p[0]->at(0), limit = p[1]->at(0), delta = p[2]->at(0);
    if (delta == 0) return fail(errc::invalid_argument, "Range with delta 0");
    const double count = std::max(std::ceil((limit - start) / delta), 0.0);
    if (!(count >= 0 && count <= double(max_folded_elements))) return fail(errc::out_of_range, "Range of %g values", count);
    constant c;
    c.integer = p[0]->integer;
    c.dims = {index_t(count)};
    for (index_t k = 0; k < index_t(count); ++k) {
        const double v = start + double(k) * delta;
        if (c.integer) c.i.push_back(std::int64_t(v));
        else c.f.push_back(float(v));
    }
    return define_constant(std::move(c));
}

status importer::constant_of_shape() {
    SPARQ_TRY(only_attributes({"value"}));
    auto s = ints_input(0, "shape");
    if (!s) return s.error();
    constant c;
    index_t n = 1;
    for (auto v : *s) {
        if (v < 0 || v == batch_dim || v > max_folded_elements || (v && n > max_folded_elements / v))
            return fail(errc::unsupported, "ConstantOfShape of a shape that depends on the batch or is too large");
        c.dims.push_back(index_t(v));
        n *= index_t(v);
    }
    double value = 0;
    if (const auto* a = attr("value")) {
        auto t = read_tensor(a->t(), where_);
        if (!t) return t.error();
        if (t->size() != 1) return fail(errc::invalid_argument, "value is not one element");
        value = t->at(0);
        c.integer = t->integer;
    }
    if (c.integer) c.i.assign(std::size_t(n), std::int64_t(value));
    else c.f.assign(std::size_t(n), float(value));
    return define_constant(std::move(c));
}

}  // namespace sparq::onnx_import
