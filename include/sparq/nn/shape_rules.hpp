// shape_rules: the output sample shape of one node, from its op, parameters, input shapes and
// weight shape: one rule per op, written once, that a model's shape inference (infer_shapes,
// model.hpp) and the check of a compiled model's parts (check_parts, compiled_model.hpp) both
// apply, so a graph the importer builds, a compiled model and a .sparq file agree on every shape.
// Every count and parameter is checked against the bounds below before any product is taken
// (the parts may come from a file: nothing here overflows or trusts them).
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparq/core/shape.hpp"
#include "sparq/core/status.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/nn/op.hpp"

namespace sparq::nn {

// Bounds every model obeys (compiled_model::from_parts enforces them on parts from files).
inline constexpr index_t max_value_elements = index_t(1) << 26;  // C * H * W of one sample
inline constexpr index_t max_dimension = index_t(1) << 24;      // any extent, stride, padding, ...
inline constexpr index_t max_weight_elements = index_t(1) << 31;  // one node's weights

// The output shape of max / average pooling over x, or false when the window does not fit.
inline bool pool_output(const pool_params& p, const sample_shape& x, sample_shape& y) noexcept {
    const index_t h = x[1] + p.pad_top + p.pad_bottom, w = x[2] + p.pad_left + p.pad_right;
    // padding smaller than the window on every side: every window then overlaps the input (none
    // lies wholly in padding). What a window costs is its taps on the input (ops.hpp's pool skips
    // the padding): issue 19's 2^24 x 2^24 window over a 1 x 1 input is one tap. Padding larger
    // than the input itself stays allowed (PyTorch's SPPF, k 5 p 2, on a 1 x 1 map).
    if (p.kh < 1 || p.kw < 1 || p.stride_h < 1 || p.stride_w < 1 || p.kh > h || p.kw > w || p.pad_top < 0 || p.pad_left < 0 ||
        p.pad_bottom < 0 || p.pad_right < 0 || p.pad_top >= p.kh || p.pad_left >= p.kw || p.pad_bottom >= p.kh || p.pad_right >= p.kw)
        return false;
    y = {x[0], (h - p.kh) / p.stride_h + 1, (w - p.kw) / p.stride_w + 1};
    return true;
}

// Whether a sample shape is one a model may hold: every extent in [1, max_dimension], at most
// max_value_elements values (products checked in an order that cannot overflow).
constexpr bool shape_fits(const sample_shape& s) noexcept {
    return s[0] >= 1 && s[1] >= 1 && s[2] >= 1 && s[0] <= max_dimension && s[1] <= max_dimension && s[2] <= max_dimension &&
           s[0] * s[1] <= max_value_elements && s[0] * s[1] * s[2] <= max_value_elements;
}
constexpr index_t size_of(const sample_shape& s) noexcept { return s[0] * s[1] * s[2]; }

// What a shape rule reads of a node; a model's node (model.hpp) and a compiled step's parts
// (compiled_model.hpp) both give it.
struct node_facts {
    const char* name = "";
    op kind = op::linear;
    const int* inputs = nullptr;  // value ids
    std::size_t input_count = 0;
    const op_params* params = nullptr;  // never null when the rule runs
    std::size_t constant_size = 0;      // floats in the node's constant
    extents_t<4> weight_shape{0, 0, 0, 0};  // linear: [out, in, 1, 1]; conv2d: [O, C / groups, KH, KW]
    std::size_t bias_size = 0;
    const kernels::conv2d_params* conv = nullptr;  // conv2d
    const pool_params* pool = nullptr;             // max_pool, avg_pool
};

// The facts both forms of a node share (nn::node and compiled_step_parts, with the same member
// names); the weights' shape and bias count are each form's own, stored differently.
template <class Node>
node_facts shared_facts(const Node& d, const char* name, const kernels::conv2d_params& conv) noexcept {
    node_facts f;
    f.name = name;
    f.kind = d.kind;
    f.inputs = d.inputs.data();
    f.input_count = d.inputs.size();
    f.params = &d.params;
    f.constant_size = d.constant.size();
    f.conv = &conv;
    f.pool = &d.pool;
    return f;
}

namespace detail {

// The size of a shape of up to 4 extents, each in [1, max_dimension], or -1 when an extent is out
// of range or the product passes max_value_elements.
inline index_t bounded_size(const index_t* e, std::size_t n) noexcept {
    index_t p = 1;
    for (std::size_t i = 0; i < n; ++i) {
        if (e[i] < 1 || e[i] > max_dimension) return -1;
        p *= e[i];  // p <= 2^26 and e <= 2^24: no overflow
        if (p > max_value_elements) return -1;
    }
    return p;
}

}  // namespace detail

// The output sample shape of node number `index` of a graph, whose inputs are among the values
// 0..index (values[v]: value v's shape, each shape_fits); or a status "<where>: <op> '<name>'
// ..." naming the node and what does not fit.
inline result<sample_shape> output_shape(const node_facts& d, std::size_t index, const sample_shape* values, const char* where) {
    const char* name = d.name;
    const char* kind = to_string(d.kind);
    if (std::uint8_t(d.kind) > std::uint8_t(last_op)) return status(errc::invalid_argument, "%s: node '%.60s' has an unknown op", where, name);
    // How many inputs: binary ops two values, or one value and the constant; concat two or more.
    const bool with_constant = is_binary(d.kind) && d.input_count == 1;
    const bool inputs_ok = is_binary(d.kind)     ? d.input_count == 2 || (d.input_count == 1 && d.constant_size > 0)
                           : d.kind == op::concat ? d.input_count >= 2
                                                  : d.input_count == 1;
    if (!inputs_ok)
        return status(errc::invalid_argument, "%s: node '%.60s' (%s) has %zu inputs%s", where, name, kind, d.input_count,
                      is_binary(d.kind) && d.input_count == 1 ? " and no constant" : "");
    for (std::size_t k = 0; k < d.input_count; ++k)
        if (d.inputs[k] < 0 || std::size_t(d.inputs[k]) > index)
            return status(errc::invalid_argument, "%s: node '%.60s' reads value %d, not yet made (graphs are in topological order)", where,
                          name, d.inputs[k]);
    if (d.constant_size != 0 && !with_constant && d.kind != op::batch_norm)
        return status(errc::invalid_argument, "%s: %s '%.60s' has a constant (only a binary op of one value, or batch_norm, has one)",
                      where, kind, name);
    const op_params& p = *d.params;
    const sample_shape x = values[std::size_t(d.inputs[0])];
    sample_shape y = x;
    const extents_t<4>& ws = d.weight_shape;
    if (d.kind == op::linear || d.kind == op::conv2d) {
        for (index_t e : ws)
            if (e < 1 || e > max_dimension)
                return status(errc::out_of_range, "%s: %s '%.60s' has weights [%td, %td, %td, %td]", where, kind, name, ws[0], ws[1], ws[2], ws[3]);
        if (ws[0] * ws[1] > max_weight_elements || ws[0] * ws[1] * ws[2] > max_weight_elements ||
            ws[0] * ws[1] * ws[2] * ws[3] > max_weight_elements)
            return status(errc::out_of_range, "%s: %s '%.60s' has more than %td weights", where, kind, name, max_weight_elements);
        if (d.bias_size != 0 && d.bias_size != std::size_t(ws[0]))
            return status(errc::shape_mismatch, "%s: %s '%.60s' has %zu biases for %td outputs", where, kind, name, d.bias_size, ws[0]);
    }
    switch (d.kind) {
        case op::linear: {
            // the whole sample (legacy: any [C, H, W] read as C*H*W features), or each row along
            // sample dim params.axis (a sequence [L, K, 1] -> [L, N, 1]): that dim holds K, the
            // dims after it are 1
            const int a = p.axis;
            const bool per_row = a >= 1 && a <= 2 && x[std::size_t(a)] == ws[1] && (a == 2 || x[2] == 1);
            if (ws[2] != 1 || ws[3] != 1 || (ws[1] != size_of(x) && !per_row))
                return status(errc::shape_mismatch, "%s: linear '%.60s' takes %td features, its input has %td (%td, %td, %td)", where, name, ws[1],
                              size_of(x), x[0], x[1], x[2]);
            if (ws[1] == size_of(x) && !per_row) y = {ws[0], 1, 1};
            else y[std::size_t(a)] = ws[0];
            break;
        }
        case op::conv2d: {
            const kernels::conv2d_params& c = *d.conv;
            for (index_t e : {c.stride_h, c.stride_w, c.pad_top, c.pad_left, c.pad_bottom, c.pad_right, c.dilation_h, c.dilation_w, c.groups})
                if (e < 0 || e > max_dimension) return status(errc::out_of_range, "%s: conv2d '%.60s' has a parameter %td", where, name, e);
            auto out = kernels::conv2d_output({1, x[0], x[1], x[2]}, ws, c);
            if (!out) return status(out.error().code(), "%s: conv2d '%.60s': %s", where, name, out.error().message());
            y = {(*out)[1], (*out)[2], (*out)[3]};
            break;
        }
        case op::max_pool: case op::avg_pool: {
            const pool_params& q = *d.pool;
            for (index_t e : {q.kh, q.kw, q.stride_h, q.stride_w, q.pad_top, q.pad_left, q.pad_bottom, q.pad_right})
                if (e < 0 || e > max_dimension) return status(errc::out_of_range, "%s: %s '%.60s' has a parameter %td", where, kind, name, e);
            if (!pool_output(q, x, y))
                return status(errc::shape_mismatch, "%s: %s '%.60s': a %tdx%td window (stride %td) does not fit a %tdx%td input", where, kind,
                              name, q.kh, q.kw, q.stride_h, x[1], x[2]);
            break;
        }
        case op::global_avg_pool: y = {x[0], 1, 1}; break;
        case op::flatten: y = {size_of(x), 1, 1}; break;
        case op::relu: case op::relu6: case op::sigmoid: case op::tanh: case op::gelu: case op::silu: case op::hard_sigmoid:
        case op::hard_swish: case op::leaky_relu: case op::clip: case op::exp: case op::sqrt: case op::neg: case op::erf:
            break;  // elementwise: the shape stays
        case op::add: case op::sub: case op::mul: case op::div: case op::pow: {
            sample_shape b;
            if (with_constant) {
                b = p.shape;
                const index_t n = detail::bounded_size(b.data(), 3);
                if (n < 0 || std::size_t(n) != d.constant_size)
                    return status(errc::shape_mismatch, "%s: %s '%.60s' has %zu constant values for the shape (%td, %td, %td)", where, kind, name,
                                  d.constant_size, b[0], b[1], b[2]);
            } else {
                b = values[std::size_t(d.inputs[1])];
            }
            // numpy broadcasting per sample dim: equal extents, or one of them 1
            for (int k = 0; k < 3; ++k) {
                if (x[k] != b[k] && x[k] != 1 && b[k] != 1)
                    return status(errc::shape_mismatch, "%s: %s '%.60s' of shapes (%td, %td, %td) and (%td, %td, %td) that do not broadcast", where,
                                  kind, name, x[0], x[1], x[2], b[0], b[1], b[2]);
                y[k] = x[k] > b[k] ? x[k] : b[k];
            }
            break;
        }
        case op::batch_norm:
            if (d.constant_size != 2 * std::size_t(x[0]))
                return status(errc::shape_mismatch, "%s: batch_norm '%.60s' has %zu constant values for %td channels (a scale and a shift each)",
                              where, name, d.constant_size, x[0]);
            break;
        case op::pad:
            // (negative pads crop: ONNX Pad's negative pads, and Slice)
            for (int k = 0; k < 6; ++k)
                if (p.pads[std::size_t(k)] < -max_dimension || p.pads[std::size_t(k)] > max_dimension)
                    return status(errc::out_of_range, "%s: pad '%.60s' pads dim %d by %td (at most %td either way)", where, name, k % 3,
                                  p.pads[std::size_t(k)], max_dimension);
            for (std::size_t k = 0; k < 3; ++k) {
                y[k] = x[k] + p.pads[k] + p.pads[k + 3];
                if (y[k] < 1 || y[k] > max_dimension)
                    return status(errc::shape_mismatch, "%s: pad '%.60s' makes dim %zu of extent %td", where, name, k, y[k]);
            }
            break;
        case op::transpose: {
            const index_t n = detail::bounded_size(p.dims.data(), 4);
            if (n != size_of(x))
                return status(errc::shape_mismatch, "%s: transpose '%.60s' sees its input of %td values as (%td, %td, %td, %td)", where, name,
                              size_of(x), p.dims[0], p.dims[1], p.dims[2], p.dims[3]);
            unsigned seen = 0;
            for (index_t a : p.perm)
                if (a >= 0 && a < 4) seen |= 1u << a;
            if (seen != 15u)
                return status(errc::invalid_argument, "%s: transpose '%.60s' has perm (%td, %td, %td, %td), not a permutation of 0..3", where,
                              name, p.perm[0], p.perm[1], p.perm[2], p.perm[3]);
            // the permuted dims [a, b, c, d] packed as the sample [a, b, c * d]
            const auto& e = p.dims;
            y = {e[std::size_t(p.perm[0])], e[std::size_t(p.perm[1])], e[std::size_t(p.perm[2])] * e[std::size_t(p.perm[3])]};
            break;
        }
        case op::reshape: {
            const index_t n = detail::bounded_size(p.shape.data(), 3);
            if (n != size_of(x))
                return status(errc::shape_mismatch, "%s: reshape '%.60s' of %td values into (%td, %td, %td)", where, name, size_of(x), p.shape[0],
                              p.shape[1], p.shape[2]);
            y = p.shape;
            break;
        }
        case op::reduce_mean:
            if (p.axes == 0 || p.axes > 7)
                return status(errc::invalid_argument, "%s: reduce_mean '%.60s' has axes mask 0x%x (bits 0..2, at least one)", where, name, unsigned(p.axes));
            for (std::size_t k = 0; k < 3; ++k)
                if (p.axes & (1u << k)) y[k] = 1;
            break;
        case op::softmax:
            if (p.axis < 0 || p.axis > 2) return status(errc::invalid_argument, "%s: softmax '%.60s' over sample dim %d (0..2)", where, name, int(p.axis));
            break;
        case op::concat: {
            if (p.axis < 0 || p.axis > 2) return status(errc::invalid_argument, "%s: concat '%.60s' along sample dim %d (0..2)", where, name, int(p.axis));
            const std::size_t a = std::size_t(p.axis);
            for (std::size_t k = 1; k < d.input_count; ++k) {
                const sample_shape& s = values[std::size_t(d.inputs[k])];
                for (std::size_t e = 0; e < 3; ++e)
                    if (e != a && s[e] != x[e])
                        return status(errc::shape_mismatch, "%s: concat '%.60s' along dim %zu: inputs (%td, %td, %td) and (%td, %td, %td) differ in dim %zu",
                                      where, name, a, x[0], x[1], x[2], s[0], s[1], s[2], e);
                y[a] += s[a];
                if (y[a] > max_dimension) break;  // caught below
            }
            break;
        }
    }
    if (!shape_fits(y))
        return status(errc::out_of_range, "%s: %s '%.60s' makes (%td, %td, %td) (each extent at most %td, at most %td values a sample)", where,
                      kind, name, y[0], y[1], y[2], max_dimension, max_value_elements);
    return y;
}

}  // namespace sparq::nn
