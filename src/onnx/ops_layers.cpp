// ONNX layers: Gemm, MatMul, Conv, BatchNormalization, pooling.
#include <cmath>

#include "importer.hpp"
#include "sparq/kernels/conv2d_params.hpp"

namespace sparq::onnx_import {

namespace {

// auto_pad's padding of one spatial dim (ONNX: SAME_UPPER puts the odd cell at the end).
void same_padding(const std::string& mode, index_t in, index_t k_eff, index_t stride, index_t& begin, index_t& end) {
    const index_t out = (in + stride - 1) / stride;
    const index_t total = std::max<index_t>((out - 1) * stride + k_eff - in, 0);
    begin = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
    end = total - begin;
}

}  // namespace

// A linear node of n outputs and k inputs from a float constant held [N, K] (transposed:
// PyTorch's Linear, Gemm transB) or [K, N] (MatMul), times alpha; named after the weight.
result<nn::node> importer::linear_node(const constant& w, bool transposed, index_t n, index_t k, float alpha) const {
    nn::node node;
    node.name = weight_name(1);
    node.kind = nn::op::linear;
    auto t = tensor<float, 2>::make({n, k});
    if (!t) return t.error();
    for (index_t o = 0; o < n; ++o)
        for (index_t i = 0; i < k; ++i) (*t)(o, i) = alpha * w.f[std::size_t(transposed ? o * k + i : i * n + o)];
    node.linear.name = node.name;
    node.linear.weight = std::move(*t);
    return node;
}

status importer::gemm() {
    SPARQ_TRY(only_attributes({"alpha", "beta", "transA", "transB"}));
    auto a = runtime_input(0, "input A");
    if (!a) return a.error();
    auto b = constant_input(1, "weight B");
    if (!b) return b.error();
    if (attr_int("transA", 0) != 0) return fail(errc::unsupported, "transA = 1 would transpose the batch into the features");
    const constant& w = **b;
    if (a->dims.size() != 2 || w.dims.size() != 2 || w.integer)
        return fail(errc::shape_mismatch, "Gemm needs a [batch, K] input and a float [K, N] or [N, K] weight");
    const bool tb = attr_int("transB", 0) != 0;
    const index_t k = tb ? w.dims[1] : w.dims[0], n = tb ? w.dims[0] : w.dims[1];
    if (k != a->dims[1]) return fail(errc::shape_mismatch, "the input has %td features, the weight takes %td", a->dims[1], k);
    if (n < 1 || k < 1) return fail(errc::shape_mismatch, "an empty weight [%td, %td]", w.dims[0], w.dims[1]);
    const float alpha = attr_float("alpha", 1.0f), beta = attr_float("beta", 1.0f);
    auto made = linear_node(w, tb, n, k, alpha);
    if (!made) return made.error();
    nn::node node = std::move(*made);
    if (const entry* c = input(2)) {
        if (!c->is_constant()) return fail(errc::unsupported, "the bias C is computed at run time; only a constant is supported");
        const constant& bias = *c->c;
        // C broadcasts to [batch, N]: a scalar, [N] or [1, N] (a per-row C would depend on the batch)
        index_t count = bias.size();
        const bool per_row = bias.dims.size() == 2 && bias.dims[0] != 1;
        if (per_row || (count != n && count != 1) || (!bias.dims.empty() && bias.dims.back() != count))
            return fail(errc::unsupported, "the bias C of shape %s broadcasts other than along N (%td)", bias.dims.size() == 2 ? "[M, N]" : "other", n);
        node.linear.bias.resize(std::size_t(n));
        for (index_t o = 0; o < n; ++o) node.linear.bias[std::size_t(o)] = float(beta * bias.at(count == 1 ? 0 : o));
    }
    return emit(std::move(node), {a->dims[0], n});
}

status importer::matmul() {
    SPARQ_TRY(only_attributes({}));
    auto a = runtime_input(0, "input A");
    if (!a) return a.error();
    const entry* be = input(1);
    if (be && !be->is_constant())
        return fail(errc::unsupported, "MatMul of two run-time values (attention) is not supported yet; the weight must be a constant");
    auto b = constant_input(1, "weight B");
    if (!b) return b.error();
    const constant& w = **b;
    // a constant of leading shape [1, ..., 1, K, N] is the same [K, N] weight, as long as it has
    // no more dims than A (more would broadcast A's batch into a later axis)
    if (a->dims.size() < 2) return fail(errc::unsupported, "MatMul of a rank-1 input");
    if (w.dims.size() > a->dims.size())
        return fail(errc::unsupported, "a weight of rank %zu against a rank-%zu input moves the batch", w.dims.size(), a->dims.size());
    std::vector<index_t> wd = w.dims;
    while (wd.size() > 2 && wd.front() == 1) wd.erase(wd.begin());
    if (wd.size() != 2 || w.integer)
        return fail(errc::unsupported, "a weight of rank %zu: MatMul with a [K, N] float constant is supported (batched weights are not)", w.dims.size());
    const index_t k = wd[0], n = wd[1];
    if (a->dims.size() > 4)
        return fail(errc::unsupported, "MatMul on a rank-%zu input (ranks 2 to 4: a linear layer on each row)", a->dims.size());
    if (a->dims.back() != k) return fail(errc::shape_mismatch, "the input has %td features, the weight takes %td", a->dims.back(), k);
    if (n < 1 || k < 1) return fail(errc::shape_mismatch, "an empty weight [%td, %td]", k, n);
    auto made = linear_node(w, false, n, k, 1.0f);
    if (!made) return made.error();
    nn::node node = std::move(*made);
    if (a->dims.size() > 2) node.params.axis = std::int32_t(a->dims.size() - 2);  // each row of K: the sample dim holding K
    std::vector<index_t> dims = a->dims;
    dims.back() = n;
    return emit(std::move(node), std::move(dims));
}

status importer::conv() {
    SPARQ_TRY(only_attributes({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}));
    auto x = runtime_input(0, "input X");
    if (!x) return x.error();
    auto wc = constant_input(1, "weight W");
    if (!wc) return wc.error();
    const constant& w = **wc;
    if (x->dims.size() != 4 || w.dims.size() != 4 || w.integer)
        return fail(errc::unsupported, "a %zu-D convolution: 2-D convolutions ([N, C, H, W] input, float [O, C/g, KH, KW] weight) are supported",
                    x->dims.size() >= 2 ? x->dims.size() - 2 : 0);
    for (index_t d : w.dims)
        if (d < 1) return fail(errc::shape_mismatch, "an empty weight [%td, %td, %td, %td]", w.dims[0], w.dims[1], w.dims[2], w.dims[3]);
    const auto ks = attr_ints("kernel_shape");
    if (!ks.empty() && (ks.size() != 2 || ks[0] != w.dims[2] || ks[1] != w.dims[3]))
        return fail(errc::invalid_argument, "kernel_shape does not match the weight's %tdx%td", w.dims[2], w.dims[3]);
    kernels::conv2d_params p;
    const auto strides = attr_ints("strides"), dil = attr_ints("dilations"), pads = attr_ints("pads");
    if ((!strides.empty() && strides.size() != 2) || (!dil.empty() && dil.size() != 2) || (!pads.empty() && pads.size() != 4))
        return fail(errc::invalid_argument, "strides, dilations and pads must have 2, 2 and 4 entries");
    auto bounded = [](std::int64_t v, std::int64_t lo) { return v >= lo && v <= (std::int64_t(1) << 24); };
    for (auto v : strides) if (!bounded(v, 1)) return fail(errc::invalid_argument, "stride %lld", (long long)v);
    for (auto v : dil) if (!bounded(v, 1)) return fail(errc::invalid_argument, "dilation %lld", (long long)v);
    for (auto v : pads) if (!bounded(v, 0)) return fail(errc::invalid_argument, "padding %lld", (long long)v);
    if (!strides.empty()) p.stride_h = index_t(strides[0]), p.stride_w = index_t(strides[1]);
    if (!dil.empty()) p.dilation_h = index_t(dil[0]), p.dilation_w = index_t(dil[1]);
    const std::int64_t group = attr_int("group", 1);
    if (group < 1 || group > x->dims[1]) return fail(errc::invalid_argument, "group %lld for %td channels", (long long)group, x->dims[1]);
    p.groups = index_t(group);
    const std::string ap = attr_string("auto_pad", "NOTSET");
    if (ap == "NOTSET") {
        if (!pads.empty()) p.pad_top = index_t(pads[0]), p.pad_left = index_t(pads[1]), p.pad_bottom = index_t(pads[2]), p.pad_right = index_t(pads[3]);
    } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
        same_padding(ap, x->dims[2], p.dilation_h * (w.dims[2] - 1) + 1, p.stride_h, p.pad_top, p.pad_bottom);
        same_padding(ap, x->dims[3], p.dilation_w * (w.dims[3] - 1) + 1, p.stride_w, p.pad_left, p.pad_right);
    } else if (ap != "VALID") {
        return fail(errc::unsupported, "auto_pad '%.20s'", ap.c_str());
    }
    auto out = kernels::conv2d_output({1, x->dims[1], x->dims[2], x->dims[3]}, {w.dims[0], w.dims[1], w.dims[2], w.dims[3]}, p);
    if (!out) return fail(out.error().code(), "%s", out.error().message());
    nn::node node;
    node.name = weight_name(1);
    node.kind = nn::op::conv2d;
    auto t = tensor<float, 4>::make({w.dims[0], w.dims[1], w.dims[2], w.dims[3]});
    if (!t) return t.error();
    std::copy(w.f.begin(), w.f.end(), t->data());
    node.conv.weight = std::move(*t);
    node.conv.params = p;
    if (const entry* b = input(2)) {
        if (!b->is_constant()) return fail(errc::unsupported, "the bias is computed at run time; only a constant is supported");
        if (b->c->integer || b->c->size() != w.dims[0]) return fail(errc::shape_mismatch, "%td biases for %td channels", b->c->size(), w.dims[0]);
        node.conv.bias = b->c->f;
    }
    return emit(std::move(node), {x->dims[0], (*out)[1], (*out)[2], (*out)[3]});
}

// Standalone here; nn::fuse folds it into the convolution or linear layer before it where that
// layer's output feeds nothing else.
status importer::batch_norm() {
    SPARQ_TRY(only_attributes({"epsilon", "momentum", "training_mode", "spatial"}));
    if (attr_int("training_mode", 0) != 0) return fail(errc::unsupported, "training_mode = 1 (batch statistics): export in eval mode");
    if (attr_int("spatial", 1) != 1) return fail(errc::unsupported, "spatial = 0");
    for (int i = 1; i < n_->output_size(); ++i)
        if (!n_->output(i).empty()) return fail(errc::unsupported, "running statistics as outputs (a training graph): export in eval mode");
    auto x = runtime_input(0, "input X");
    if (!x) return x.error();
    if (x->dims.size() < 2 || x->dims.size() > 4) return fail(errc::unsupported, "an input of rank %zu", x->dims.size());
    const index_t channels = x->dims[1];
    const constant* p[4];
    const char* names[4] = {"scale", "bias B", "mean", "variance"};
    for (int i = 0; i < 4; ++i) {
        auto c = constant_input(i + 1, names[i]);
        if (!c) return c.error();
        if ((*c)->integer || (*c)->size() != channels)
            return fail(errc::shape_mismatch, "%s has %td values for %td channels", names[i], (*c)->size(), channels);
        p[i] = c->get();
    }
    const double eps = attr_float("epsilon", 1e-5f);
    nn::node node;
    node.name = node_name("batch_norm");
    node.kind = nn::op::batch_norm;
    node.constant.resize(std::size_t(2 * channels));
    for (index_t c = 0; c < channels; ++c) {
        const std::size_t k = std::size_t(c);
        const double s = double(p[0]->f[k]) / std::sqrt(double(p[3]->f[k]) + eps);
        node.constant[k] = float(s);
        node.constant[k + std::size_t(channels)] = float(double(p[1]->f[k]) - double(p[2]->f[k]) * s);
    }
    node.inputs = {x->id};
    return emit(std::move(node), x->dims);
}

status importer::pool() {
    const bool max = n_->op_type() == "MaxPool";
    if (max) SPARQ_TRY(only_attributes({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}));
    else SPARQ_TRY(only_attributes({"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"}));
    if (n_->output_size() > 1 && !n_->output(1).empty()) return fail(errc::unsupported, "the Indices output of MaxPool");
    auto x = runtime_input(0, "input X");
    if (!x) return x.error();
    if (x->dims.size() != 4) return fail(errc::unsupported, "%zu-D pooling: 2-D pooling ([N, C, H, W]) is supported", x->dims.size() - 2);
    const auto k = attr_ints("kernel_shape"), strides = attr_ints("strides"), pads = attr_ints("pads"), dil = attr_ints("dilations");
    if (k.size() != 2) return fail(errc::invalid_argument, "kernel_shape must have 2 entries");
    if ((!strides.empty() && strides.size() != 2) || (!pads.empty() && pads.size() != 4))
        return fail(errc::invalid_argument, "strides and pads must have 2 and 4 entries");
    for (auto d : dil)
        if (d != 1) return fail(errc::unsupported, "dilated pooling (dilations other than 1)");
    if (attr_int("storage_order", 0) != 0) return fail(errc::unsupported, "storage_order = 1");
    auto bounded = [&](std::int64_t v, std::int64_t lo, std::int64_t hi) { return v >= lo && v <= hi; };
    nn::pool_params p;
    const index_t h = x->dims[2], w = x->dims[3];
    if (!bounded(k[0], 1, h + 64) || !bounded(k[1], 1, w + 64)) return fail(errc::invalid_argument, "a %lldx%lld window for a %tdx%td input", (long long)k[0], (long long)k[1], h, w);
    p.kh = index_t(k[0]), p.kw = index_t(k[1]);
    p.stride_h = p.stride_w = 1;
    if (!strides.empty()) {
        if (!bounded(strides[0], 1, 1 << 24) || !bounded(strides[1], 1, 1 << 24)) return fail(errc::invalid_argument, "bad strides");
        p.stride_h = index_t(strides[0]), p.stride_w = index_t(strides[1]);
    }
    const std::string ap = attr_string("auto_pad", "NOTSET");
    if (ap == "NOTSET") {
        if (!pads.empty()) {
            for (auto v : pads)
                if (!bounded(v, 0, 1 << 24)) return fail(errc::invalid_argument, "padding %lld", (long long)v);
            p.pad_top = index_t(pads[0]), p.pad_left = index_t(pads[1]), p.pad_bottom = index_t(pads[2]), p.pad_right = index_t(pads[3]);
        }
    } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
        same_padding(ap, h, p.kh, p.stride_h, p.pad_top, p.pad_bottom);
        same_padding(ap, w, p.kw, p.stride_w, p.pad_left, p.pad_right);
    } else if (ap != "VALID") {
        return fail(errc::unsupported, "auto_pad '%.20s'", ap.c_str());
    }
    if (p.pad_top >= p.kh || p.pad_left >= p.kw || p.pad_bottom >= p.kh || p.pad_right >= p.kw)
        return fail(errc::invalid_argument, "padding as large as the window (a window could see no input)");
    p.count_include_pad = !max && attr_int("count_include_pad", 0) != 0;
    // ceil_mode: the last window may hang over the end (it must start inside the input or the
    // leading padding); it becomes extra padding at the end, which pooling skips like padding
    auto ceil_extra = [&](index_t in, index_t kk, index_t s, index_t pb, index_t pe, index_t& extra) -> status {
        extra = 0;
        if (attr_int("ceil_mode", 0) == 0 || in + pb + pe < kk) return status::success();
        index_t out = (in + pb + pe - kk + s - 1) / s + 1;
        if ((out - 1) * s >= in + pb) --out;
        extra = std::max<index_t>((out - 1) * s + kk - (in + pb + pe), 0);
        return status::success();
    };
    index_t eh = 0, ew = 0;
    SPARQ_TRY(ceil_extra(h, p.kh, p.stride_h, p.pad_top, p.pad_bottom, eh));
    SPARQ_TRY(ceil_extra(w, p.kw, p.stride_w, p.pad_left, p.pad_right, ew));
    if ((eh || ew) && p.count_include_pad && (p.pad_bottom || p.pad_right || p.pad_top || p.pad_left))
        return fail(errc::unsupported, "ceil_mode with count_include_pad and padding (the divisor of the overhanging window)");
    if ((eh || ew) && p.count_include_pad)
        return fail(errc::unsupported, "ceil_mode with count_include_pad (the divisor of the overhanging window)");
    p.pad_bottom += eh, p.pad_right += ew;
    nn::sample_shape y;
    if (!nn::pool_output(p, {x->dims[1], h, w}, y)) return fail(errc::shape_mismatch, "the window does not fit the %tdx%td input", h, w);
    nn::node node;
    node.name = node_name(max ? "max_pool" : "avg_pool");
    node.kind = max ? nn::op::max_pool : nn::op::avg_pool;
    node.pool = p;
    node.inputs = {x->id};
    return emit(std::move(node), {x->dims[0], x->dims[1], y[1], y[2]});
}

status importer::global_pool() {
    SPARQ_TRY(only_attributes({}));
    auto x = runtime_input(0, "input X");
    if (!x) return x.error();
    if (x->dims.size() != 4) return fail(errc::unsupported, "an input of rank %zu: [N, C, H, W] is supported", x->dims.size());
    nn::node node;
    node.inputs = {x->id};
    if (n_->op_type() == "GlobalAveragePool") {
        node.kind = nn::op::global_avg_pool;
    } else {
        node.kind = nn::op::max_pool;
        node.pool.kh = x->dims[2], node.pool.kw = x->dims[3];
        node.pool.stride_h = node.pool.stride_w = 1;
    }
    return emit(std::move(node), {x->dims[0], x->dims[1], 1, 1});
}

}  // namespace sparq::onnx_import
