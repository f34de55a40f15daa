// ONNX layout ops on values: Reshape, Flatten, Squeeze / Unsqueeze (aliases or reshape nodes),
// Transpose, Concat, Pad, Slice and Split of a value (crops: pad nodes with negative pads),
// ReduceMean. On constants the shape ops fold (ops_constant.cpp).
#include <algorithm>
#include <cmath>

#include "importer.hpp"

namespace sparq::onnx_import {

namespace {

constexpr index_t max_elements_of_value = index_t(1) << 31;

index_t product(const std::vector<index_t>& d, std::size_t from = 0, std::size_t to = ~std::size_t(0)) {
    index_t p = 1;
    for (std::size_t k = from; k < d.size() && k < to; ++k) p *= d[k];
    return p;
}

}  // namespace

status importer::unsqueeze_squeeze() {
    const bool unsq = n_->op_type() == "Unsqueeze";
    std::vector<std::int64_t> axes;
    if (opset_ >= 13) {
        SPARQ_TRY(only_attributes({}));
        if (n_->input_size() > 1 && !n_->input(1).empty()) {
            auto a = ints_input(1, "axes");
            if (!a) return a.error();
            axes = *a;
        }
    } else {
        SPARQ_TRY(only_attributes({"axes"}));
        axes = attr_ints("axes");
    }
    const entry* e = input(0);
    if (!e) return fail(errc::invalid_argument, "reads a value no earlier node makes");
    std::vector<index_t> in = e->is_constant() ? e->c->dims : e->r.dims;
    std::vector<index_t> out;
    bool batch_axis_touched = false;
    if (unsq) {
        if (axes.empty()) return fail(errc::invalid_argument, "Unsqueeze without axes");
        const std::int64_t r = std::int64_t(in.size() + axes.size());
        std::vector<bool> is_new(std::size_t(r), false);
        for (auto a : axes) {
            if (a < -r || a >= r) return fail(errc::invalid_argument, "axis %lld out of range", (long long)a);
            is_new[std::size_t(a < 0 ? a + r : a)] = true;
        }
        batch_axis_touched = is_new[0];
        std::size_t k = 0;
        for (std::int64_t j = 0; j < r; ++j) {
            if (is_new[std::size_t(j)]) out.push_back(1);
            else if (k < in.size()) out.push_back(in[k++]);
            else return fail(errc::invalid_argument, "repeated axes");
        }
    } else {
        const std::int64_t r = std::int64_t(in.size());
        std::vector<bool> drop(in.size(), false);
        if (axes.empty()) {
            for (std::size_t k = e->is_constant() ? 0 : 1; k < in.size(); ++k) drop[k] = in[k] == 1;
        }
        for (auto a : axes) {
            if (a < -r || a >= r) return fail(errc::invalid_argument, "axis %lld out of range", (long long)a);
            const std::size_t k = std::size_t(a < 0 ? a + r : a);
            if (in[k] != 1 && !(k == 0 && !e->is_constant())) return fail(errc::invalid_argument, "squeezing axis %zu of extent %td", k, in[k]);
            drop[k] = true;
        }
        batch_axis_touched = !drop.empty() && drop[0];
        for (std::size_t k = 0; k < in.size(); ++k)
            if (!drop[k]) out.push_back(in[k]);
    }
    if (e->is_constant()) {
        constant c = *e->c;
        c.dims = out;
        return define_constant(std::move(c));
    }
    // on a value: the batch stays first (the values stay in order either way)
    if (batch_axis_touched) return fail(errc::unsupported, "%s of the batch axis", n_->op_type().c_str());
    auto v = view_as(e->r, out);
    if (!v) return v.error();
    return define(*v);
}

status importer::concat() {
    SPARQ_TRY(only_attributes({"axis"}));
    if (!attr("axis")) return fail(errc::invalid_argument, "Concat without an axis");
    std::vector<const entry*> parts;
    bool all_constant = true, any_constant = false;
    for (int i = 0; i < n_->input_size(); ++i) {
        const entry* e = input(i);
        if (!e) return fail(errc::invalid_argument, "input %d '%.60s' is made by no earlier node", i, n_->input(i).c_str());
        parts.push_back(e);
        all_constant = all_constant && e->is_constant();
        any_constant = any_constant || e->is_constant();
    }
    if (parts.empty()) return fail(errc::invalid_argument, "Concat of nothing");
    if (all_constant) {
        std::vector<const constant*> cs;
        for (const entry* e : parts) cs.push_back(e->c.get());
        auto c = fold_concat(cs, attr_int("axis", 0), where_);
        if (!c) return c.error();
        return define_constant(std::move(*c));
    }
    if (any_constant) return fail(errc::unsupported, "Concat of run-time values with constants");
    const std::vector<index_t>& d0 = parts[0]->r.dims;
    auto a = axis(attr_int("axis", 0), d0.size(), false);
    if (!a) return a.error();
    if (d0.size() > 4) return fail(errc::unsupported, "Concat of rank-%zu values", d0.size());
    std::vector<index_t> out = d0;
    out[std::size_t(*a)] = 0;
    nn::node node;
    node.kind = nn::op::concat;
    node.params.axis = std::int32_t(*a - 1);
    for (const entry* e : parts) {
        if (e->r.dims.size() != d0.size()) return fail(errc::shape_mismatch, "inputs of different ranks");
        for (std::size_t k = 1; k < d0.size(); ++k)
            if (k != std::size_t(*a) && e->r.dims[k] != d0[k]) return fail(errc::shape_mismatch, "inputs differ outside the concatenated axis");
        out[std::size_t(*a)] += e->r.dims[std::size_t(*a)];
        node.inputs.push_back(e->r.id);
    }
    if (parts.size() == 1) {
        names_[n_->output(0)] = *parts[0];
        return status::success();
    }
    return emit(std::move(node), std::move(out));
}

// Slice of a value (step 1, axes after the batch): a pad node with negative pads.
status importer::crop(const runtime_value& x, const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                      const std::vector<std::int64_t>& axes, const std::vector<std::int64_t>& steps, int output) {
    const std::size_t r = x.dims.size();
    if (r > 4) return fail(errc::unsupported, "Slice of a rank-%zu value", r);
    if (ends.size() != starts.size() || (!axes.empty() && axes.size() != starts.size()) || (!steps.empty() && steps.size() != starts.size()))
        return fail(errc::invalid_argument, "starts, ends, axes and steps differ in length");
    nn::node node;
    node.kind = nn::op::pad;
    node.inputs = {x.id};
    std::vector<index_t> out = x.dims;
    for (std::size_t j = 0; j < starts.size(); ++j) {
        auto a = axis(axes.empty() ? std::int64_t(j) : axes[j], r, false);
        if (!a) return a.error();
        if (!steps.empty() && steps[j] != 1) return fail(errc::unsupported, "Slice of a value with step %lld (step 1 only)", (long long)steps[j]);
        const std::int64_t dim = x.dims[std::size_t(*a)];
        std::int64_t b = starts[j], e = ends[j];
        if (b == batch_dim || e == batch_dim) return fail(errc::unsupported, "Slice bounds from the batch extent");
        if (b < 0) b += dim;
        if (e < 0) e += dim;
        b = std::clamp<std::int64_t>(b, 0, dim), e = std::clamp<std::int64_t>(e, b, dim);
        if (e == b) return fail(errc::unsupported, "an empty Slice");
        node.params.pads[std::size_t(*a - 1)] = -index_t(b);
        node.params.pads[std::size_t(*a - 1 + 3)] = -index_t(dim - e);
        out[std::size_t(*a)] = index_t(e - b);
    }
    if (out == x.dims) return define(x, output);
    node.name = node_name("slice") + (output ? "_" + std::to_string(output) : std::string());
    auto s = sample_of(out, where_);
    if (!s) return s.error();
    m_.nodes.push_back(std::move(node));
    return define(runtime_value{int(m_.nodes.size()), std::move(out)}, output);
}

// Split of a value: one crop per output.
status importer::split() {
    SPARQ_TRY(only_attributes(opset_ >= 13 ? std::initializer_list<const char*>{"axis"} : std::initializer_list<const char*>{"axis", "split"}));
    auto x = runtime_input(0, "input");
    if (!x) return x.error();
    auto a = axis(attr_int("axis", 0), x->dims.size(), false);
    if (!a) return a.error();
    std::vector<std::int64_t> sizes;
    if (opset_ >= 13 && n_->input_size() > 1 && !n_->input(1).empty()) {
        auto s = ints_input(1, "split");
        if (!s) return s.error();
        sizes = *s;
    } else if (opset_ < 13) {
        sizes = attr_ints("split");
    }
    const std::int64_t dim = x->dims[std::size_t(*a)], parts = n_->output_size();
    if (sizes.empty()) {
        if (parts < 1 || dim % parts) return fail(errc::invalid_argument, "%lld does not split into %lld equal parts", (long long)dim, (long long)parts);
        sizes.assign(std::size_t(parts), dim / parts);
    }
    if (std::int64_t(sizes.size()) != parts) return fail(errc::invalid_argument, "%zu sizes for %lld outputs", sizes.size(), (long long)parts);
    std::int64_t at = 0;
    for (std::size_t k = 0; k < sizes.size(); ++k) {
        if (sizes[k] < 1 || sizes[k] > dim - at) return fail(errc::invalid_argument, "split sizes do not fit an extent of %lld", (long long)dim);
        SPARQ_TRY(crop(*x, {at}, {at + sizes[k]}, {*a}, {}, int(k)));
        at += sizes[k];
    }
    if (at != dim) return fail(errc::invalid_argument, "split sizes add up to %lld of %lld", (long long)at, (long long)dim);
    return status::success();
}

status importer::reshape() {
    SPARQ_TRY(only_attributes({"allowzero"}));
    auto target = ints_input(1, "shape");
    if (!target) return target.error();
    const entry* e = input(0);
    if (!e) return fail(errc::invalid_argument, "reads a value no earlier node makes");
    const bool allowzero = attr_int("allowzero", 0) != 0;
    const std::vector<index_t> in = e->is_constant() ? e->c->dims : e->r.dims;
    const index_t total = e->is_constant() ? e->c->size() : product(in, 1);  // values: per sample
    std::vector<index_t> out;
    int infer = -1;
    const std::vector<std::int64_t>& t = *target;
    for (std::size_t k = 0; k < t.size(); ++k) {
        std::int64_t v = t[k];
        if (v == batch_dim || (!e->is_constant() && k == 0 && static_batch_ > 0 && v == static_batch_)) {
            if (k != 0 || e->is_constant()) return fail(errc::unsupported, "the batch extent moved to axis %zu", k);
            out.push_back(in[0]);
            continue;
        }
        if (v == 0 && !allowzero) {
            if (k >= in.size()) return fail(errc::invalid_argument, "0 (copy) at axis %zu of a rank-%zu input", k, in.size());
            out.push_back(in[k]);
        } else if (v == -1) {
            if (infer >= 0) return fail(errc::invalid_argument, "two -1 extents");
            infer = int(k);
            out.push_back(1);
        } else if (v < 0 || v > (index_t(1) << 31)) {
            return fail(errc::invalid_argument, "extent %lld", (long long)v);
        } else {
            out.push_back(index_t(v));
        }
    }
    if (checked_count(out, max_elements_of_value) < 0) return fail(errc::out_of_range, "a target shape of too many values");
    if (e->is_constant()) {
        const index_t known = product(out);
        if (infer >= 0) {
            if (known == 0 || total % known) return fail(errc::shape_mismatch, "%td values do not reshape to the target", total);
            out[std::size_t(infer)] = total / known;
        }
        if (product(out) != total) return fail(errc::shape_mismatch, "%td values do not fit the target shape", total);
        constant c = *e->c;
        c.dims = out;
        return define_constant(std::move(c));
    }
    // a value: axis 0 must stay the batch (0, the batch extent from Shape, or -1 inferred to it)
    if (out.empty()) return fail(errc::invalid_argument, "an empty target shape");
    const bool batch_kept = (t[0] == 0 && !allowzero) || t[0] == batch_dim || (static_batch_ > 0 && t[0] == static_batch_);
    const index_t rest = product(out, 1);
    if (infer == 0) {
        if (rest != total) return fail(errc::unsupported, "the -1 extent would change the batch (%td values a sample, the target keeps %td)", total, rest);
        out[0] = in[0];
    } else if (!batch_kept) {
        return fail(errc::unsupported, "the target shape's first extent %lld is not the batch (0, -1 or the input's batch)", (long long)t[0]);
    } else if (infer > 0) {
        if (rest == 0 || total % rest) return fail(errc::shape_mismatch, "%td values a sample do not reshape to the target", total);
        out[std::size_t(infer)] = total / rest;
    }
    if (product(out, 1) != total) return fail(errc::shape_mismatch, "%td values a sample do not fit the target's %td", total, product(out, 1));
    auto v = view_as(e->r, out);
    if (!v) return v.error();
    return define(*v);
}

status importer::flatten() {
    SPARQ_TRY(only_attributes({"axis"}));
    auto x = runtime_input(0, "input");
    if (!x) return x.error();
    // (axis in [-r, r]: negative counts from the end, r itself flattens everything after the batch)
    std::int64_t a0 = attr_int("axis", 1);
    const std::int64_t r = std::int64_t(x->dims.size());
    if (a0 < -r || a0 > r) return fail(errc::invalid_argument, "axis %lld of a rank-%lld value", (long long)a0, (long long)r);
    if (a0 < 0) a0 += r;
    if (a0 == 0) return fail(errc::unsupported, "axis 0 (the batch flattened into the features)");
    if (product(x->dims, 1, std::size_t(a0)) != 1)
        return fail(errc::unsupported, "axis %lld merges dims 1..%lld into the batch", (long long)a0, (long long)a0 - 1);
    auto v = view_as(*x, {x->dims[0], product(x->dims, std::size_t(a0))});
    if (!v) return v.error();
    return define(*v);
}

status importer::transpose() {
    SPARQ_TRY(only_attributes({"perm"}));
    const entry* e = input(0);
    if (!e) return fail(errc::invalid_argument, "reads a value no earlier node makes");
    const std::size_t r = e->is_constant() ? e->c->dims.size() : e->r.dims.size();
    std::vector<std::int64_t> perm = attr_ints("perm");
    if (perm.empty())
        for (std::size_t k = r; k-- > 0;) perm.push_back(std::int64_t(k));
    std::vector<bool> seen(r, false);
    if (perm.size() != r) return fail(errc::invalid_argument, "perm of %zu entries for rank %zu", perm.size(), r);
    for (auto p : perm) {
        if (p < 0 || p >= std::int64_t(r) || seen[std::size_t(p)]) return fail(errc::invalid_argument, "perm is not a permutation");
        seen[std::size_t(p)] = true;
    }
    if (e->is_constant()) {
        const constant& c = *e->c;
        constant o;
        o.integer = c.integer;
        for (auto p : perm) o.dims.push_back(c.dims[std::size_t(p)]);
        std::vector<index_t> si(r, 1), so(r, 1);
        for (std::size_t k = r; k-- > 1;) si[k - 1] = si[k] * c.dims[k], so[k - 1] = so[k] * o.dims[k];
        const index_t n = c.size();
        for (index_t q = 0; q < n; ++q) {
            index_t src = 0, rest = q;
            for (std::size_t k = 0; k < r; ++k) {
                const index_t j = rest / so[k];
                rest -= j * so[k];
                src += j * si[std::size_t(perm[k])];
            }
            if (o.integer) o.i.push_back(c.i[std::size_t(src)]);
            else o.f.push_back(c.f[std::size_t(src)]);
        }
        return define_constant(std::move(o));
    }
    if (perm[0] != 0) return fail(errc::unsupported, "perm moves the batch axis");
    if (r > 5) return fail(errc::unsupported, "a rank-%zu value", r);
    std::vector<index_t> out;
    for (auto p : perm) out.push_back(e->r.dims[std::size_t(p)]);
    bool identity = true;
    for (std::size_t k = 0; k < r; ++k) identity = identity && perm[k] == std::int64_t(k);
    if (identity) {
        names_[n_->output(0)] = *e;
        return status::success();
    }
    nn::node node;
    node.kind = nn::op::transpose;
    node.inputs = {e->r.id};
    for (std::size_t k = 1; k < r; ++k) {
        node.params.dims[k - 1] = e->r.dims[k];
        node.params.perm[k - 1] = index_t(perm[k] - 1);
    }
    return emit(std::move(node), std::move(out));
}

status importer::pad() {
    std::vector<std::int64_t> pads;
    float value = 0.0f;
    if (opset_ >= 11) {
        SPARQ_TRY(only_attributes({"mode"}));
        auto p = ints_input(1, "pads");
        if (!p) return p.error();
        pads = *p;
        if (n_->input_size() > 2 && !n_->input(2).empty()) {
            auto v = constant_input(2, "constant_value");
            if (!v) return v.error();
            if ((*v)->size() != 1 || (*v)->has_batch_dim()) return fail(errc::invalid_argument, "constant_value is not a known scalar");
            value = float((*v)->at(0));
        }
        if (n_->input_size() > 3 && !n_->input(3).empty()) return fail(errc::unsupported, "the axes input");
    } else {
        SPARQ_TRY(only_attributes({"mode", "pads", "value"}));
        pads = attr_ints("pads");
        value = attr_float("value", 0.0f);
    }
    if (attr_string("mode", "constant") != "constant") return fail(errc::unsupported, "mode '%.20s' (constant padding only)", attr_string("mode", "").c_str());
    auto x = runtime_input(0, "data");
    if (!x) return x.error();
    const std::size_t r = x->dims.size();
    if (pads.size() != 2 * r) return fail(errc::invalid_argument, "%zu pads for rank %zu", pads.size(), r);
    if (r > 4) return fail(errc::unsupported, "padding a rank-%zu value", r);
    if (pads[0] != 0 || pads[r] != 0) return fail(errc::unsupported, "padding the batch axis");
    nn::node node;
    node.kind = nn::op::pad;
    node.inputs = {x->id};
    node.params.alpha = value;
    std::vector<index_t> out = x->dims;
    for (std::size_t k = 1; k < r; ++k) {
        if (pads[k] < -x->dims[k] || pads[k + r] < -x->dims[k] || pads[k] > (1 << 20) || pads[k + r] > (1 << 20) ||
            x->dims[k] + pads[k] + pads[k + r] < 1)
            return fail(errc::invalid_argument, "pads %lld, %lld for an extent of %td", (long long)pads[k], (long long)pads[k + r], x->dims[k]);
        node.params.pads[k - 1] = index_t(pads[k]);
        node.params.pads[k - 1 + 3] = index_t(pads[k + r]);
        out[k] += index_t(pads[k] + pads[k + r]);
    }
    return emit(std::move(node), std::move(out));
}

status importer::reduce_mean() {
    std::vector<std::int64_t> axes;
    if (opset_ >= 18) {
        SPARQ_TRY(only_attributes({"keepdims", "noop_with_empty_axes"}));
        if (n_->input_size() > 1 && !n_->input(1).empty()) {
            auto a = ints_input(1, "axes");
            if (!a) return a.error();
            axes = *a;
        }
        if (axes.empty() && attr_int("noop_with_empty_axes", 0)) {
            const entry* e = input(0);
            if (!e) return fail(errc::invalid_argument, "reads a value no earlier node makes");
            names_[n_->output(0)] = *e;
            return status::success();
        }
    } else {
        SPARQ_TRY(only_attributes({"axes", "keepdims"}));
        axes = attr_ints("axes");
    }
    auto x = runtime_input(0, "data");
    if (!x) return x.error();
    const std::size_t r = x->dims.size();
    if (r > 4) return fail(errc::unsupported, "a rank-%zu value", r);
    if (axes.empty())
        for (std::size_t k = 0; k < r; ++k) axes.push_back(std::int64_t(k));
    std::uint32_t mask = 0;
    for (auto a0 : axes) {
        auto a = axis(a0, r, false);
        if (!a) return a.error();
        mask |= 1u << (*a - 1);
    }
    const bool keep = attr_int("keepdims", 1) != 0;
    std::vector<index_t> kept = x->dims, out;
    for (std::size_t k = 1; k < r; ++k)
        if (mask & (1u << (k - 1))) kept[k] = 1;
    for (std::size_t k = 0; k < r; ++k)
        if (keep || k == 0 || !(mask & (1u << (k - 1)))) out.push_back(kept[k]);
    nn::node node;
    node.inputs = {x->id};
    if (r == 4 && mask == 6u) {
        node.kind = nn::op::global_avg_pool;  // over H and W
    } else {
        node.kind = nn::op::reduce_mean;
        node.params.axes = mask;
    }
    SPARQ_TRY(emit(std::move(node), kept));
    auto v = view_as(names_[n_->output(0)].r, out);
    if (!v) return v.error();
    return define(*v);
}

}  // namespace sparq::onnx_import
