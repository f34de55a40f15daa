// work: how much one sample costs a model, counted from its shapes alone, so a model loaded from
// a stranger's file (.onnx, .safetensors, .sparq) is refused before it runs when one sample
// would take hours (issue 19: a 2^24 x 2^24 pooling window, a convolution of the largest
// weights over the largest map). The count is a bound on the inner-loop steps run() takes:
//
//   linear, conv2d        multiply-adds: output values x the weights each one reads
//   max / average pool    output values x the window's taps on the input (padding is skipped)
//   every other op        values read plus values written (elementwise, softmax, layout, ...)
//
// It is not the energy counter's MAC count (energy/counter.hpp prices each kind of operation);
// it is the one number a load limit compares. The default limit, 10^12 per sample, is some
// 250 times resnet50 (4.1e9 MACs) and 6 times ViT-H/14 (1.7e11): generous for real models,
// minutes to hours of one core for anything above it.
#pragma once

#include <cstdint>

#include "sparq/core/status.hpp"
#include "sparq/nn/shape_rules.hpp"

namespace sparq::nn {

// Work per sample a model loaded from a file may have unless the caller raises the limit
// (onnx::import_options::max_work, io::load_model_safetensors, io::load_sparq; sparq --max-work).
inline constexpr std::uint64_t default_max_work = 1000000000000ull;

// The work of one sample through node `d`, whose input shapes are values[d.inputs[k]] and whose
// output shape is y (as output_shape gave them: every product below fits in 64 bits, since a
// value has at most 2^26 elements and a node at most 2^31 weights).
inline std::uint64_t node_work(const node_facts& d, const sample_shape* values, const sample_shape& y) noexcept {
    const std::uint64_t out = std::uint64_t(size_of(y));
    const extents_t<4>& ws = d.weight_shape;
    switch (d.kind) {
        case op::linear:  // each output value reads K inputs (a whole-sample layer or one per row)
            return out * std::uint64_t(ws[1]);
        case op::conv2d: return out * std::uint64_t(ws[1]) * std::uint64_t(ws[2]) * std::uint64_t(ws[3]);
        case op::max_pool: case op::avg_pool: {
            const sample_shape& x = values[std::size_t(d.inputs[0])];
            const index_t th = d.pool->kh < x[1] ? d.pool->kh : x[1], tw = d.pool->kw < x[2] ? d.pool->kw : x[2];
            return out * std::uint64_t(th) * std::uint64_t(tw);
        }
        default: {
            std::uint64_t w = out;
            for (std::size_t k = 0; k < d.input_count; ++k) w += std::uint64_t(size_of(values[std::size_t(d.inputs[k])]));
            return w + d.constant_size;
        }
    }
}

// a + b, or UINT64_MAX when that overflows (many nodes of the largest work each).
constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept { return a > ~std::uint64_t(0) - b ? ~std::uint64_t(0) : a + b; }

// Success when `work` (per sample) is within `max_work`; else a status naming `source`, the work
// and how to raise the limit.
inline status check_work(std::uint64_t work, std::uint64_t max_work, const char* source) {
    if (work <= max_work) return status::success();
    return status(errc::out_of_range,
                  "%s: one sample costs %.3g operations (multiply-adds, pooling taps, values moved), over the limit of %.3g "
                  "(a model this large: raise it with --max-work or the loader's max_work)",
                  source, double(work), double(max_work));
}

}  // namespace sparq::nn
