// channels_last: which values a compiled model holds as [batch, H, W, C] rather than the
// graph's [batch, C, H, W] (what ONNX Runtime's NHWC transformer, XNNPACK and TFLite do).
//
// Why: a convolution on channels-last data is a GEMM whose rows are pixels (batch folded in)
// and whose output is already channels-last: no transposes around it, a tap of im2col is one
// contiguous copy, a depthwise convolution vectorises across channels. The graph keeps NCHW
// (shape rules, files, ONNX semantics); only the runtime's buffers change.
//
// The rule, decided once per model (compile / from_parts): every convolution runs channels-last;
// an op that can (elementwise ops on equal shapes, pooling, batch normalization, channel concat)
// runs channels-last when one of its inputs is channels-last; everything else reads NCHW. A
// value is converted where a consumer wants the other layout (at flatten before a linear layer,
// say, and at the model's outputs); a value with one channel or one pixel is the same bytes in
// both layouts and never converted.
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/core/context.hpp"
#include "sparq/core/parallel.hpp"
#include "sparq/core/shape.hpp"
#include "sparq/kernels/transpose.hpp"
#include "sparq/nn/op.hpp"

namespace sparq::nn {

// The same bytes in both layouts: one channel, or one pixel.
inline bool layout_free(const sample_shape& s) noexcept { return s[0] == 1 || s[1] * s[2] == 1; }

// Whether a node may run on channels-last values (it reads every input and writes its output
// channels-last). inputs: its value ids; shapes: every value's; constant_size: a binary op's
// constant (1: a scalar, which broadcasts the same in both layouts).
inline bool can_run_channels_last(op kind, const std::vector<int>& inputs, const op_params& prm, std::size_t constant_size,
                                  const sample_shape* shapes, const sample_shape& y) noexcept {
    if (is_unary_elementwise(kind)) return true;
    if (is_binary(kind)) {  // (each operand's shape permuted to [H, W, C] broadcasts as numpy does)
        for (int v : inputs)
            if (!(shapes[v] == y || layout_free(shapes[v]))) return false;
        return inputs.size() == 2 || constant_size == 1 || layout_free(prm.shape);
    }
    switch (kind) {
        case op::conv2d: case op::max_pool: case op::avg_pool: case op::global_avg_pool: case op::batch_norm: return true;
        case op::concat: return prm.axis == 0;
        default: return false;
    }
}

// Per value: 1 when held channels-last (value 0, the model's input, is NCHW as given).
// Step i (kind_of(i), inputs_of(i), ...) makes value i + 1.
template <class StepFacts>
std::vector<std::uint8_t> plan_channels_last(const std::vector<sample_shape>& shapes, std::size_t steps, const StepFacts& facts) {
    std::vector<std::uint8_t> cl(shapes.size(), 0);
    for (std::size_t i = 0; i < steps; ++i) {
        const auto f = facts(i);  // {kind, inputs, params, constant size}
        if (!can_run_channels_last(f.kind, *f.inputs, *f.params, f.constant_size, shapes.data(), shapes[i + 1])) continue;
        bool any = f.kind == op::conv2d;
        for (int v : *f.inputs) any = any || (cl[std::size_t(v)] && !layout_free(shapes[std::size_t(v)]));
        cl[i + 1] = any;
    }
    return cl;
}

// A batch of `batch` samples of shape s from one layout to the other (to_channels_last: NCHW ->
// NHWC, else back), on ctx.threads threads: each takes blocks of 64 pixels (all their channels),
// one tiled transpose each.
template <class T>
void convert_layout(const context& ctx, const T* x, const sample_shape& s, index_t batch, bool to_channels_last,
                    T* y) noexcept {
    const index_t c = s[0], hw = s[1] * s[2], n = c * hw;
    constexpr index_t block = 64;
    const index_t blocks = (hw + block - 1) / block;
    // work units (core/parallel.hpp): three a value (a transpose reads or writes across rows:
    // measured ~0.3 ns a value)
    const std::uint64_t block_work = 3 * std::uint64_t(hw < block ? hw : block) * std::uint64_t(c);
    parallel_range(ctx, batch * blocks, block_work, [&](index_t begin, index_t end) {
        for (index_t t = begin; t < end; ++t) {
            const index_t b = t / blocks, p0 = t % blocks * block, p1 = p0 + block < hw ? p0 + block : hw;
            if (to_channels_last) kernels::transpose(x + b * n + p0, c, p1 - p0, hw, y + b * n + p0 * c, c);
            else kernels::transpose(x + b * n + p0 * c, p1 - p0, c, c, y + b * n + p0, hw);
        }
    });
}

// The same on the calling thread alone.
template <class T>
void convert_layout(const T* x, const sample_shape& s, index_t batch, bool to_channels_last, T* y) noexcept {
    convert_layout(context{}, x, s, batch, to_channels_last, y);
}

}  // namespace sparq::nn
