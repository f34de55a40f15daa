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
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/nn/shape_rules.hpp"

namespace sparq::nn {

// What a model loaded from a file may cost one sample unless the caller raises the limits
// (onnx::import_options::limits, io::load_model_safetensors, io::load_sparq; sparq --max-work,
// --max-memory): work as counted below, and memory as sample_bytes counts it (every value in
// fp32, one node's temporaries, a convolution's im2col): 4 GiB is some 40 times resnet50's.
inline constexpr std::uint64_t default_max_work = 1000000000000ull;
inline constexpr std::uint64_t default_max_memory = std::uint64_t(1) << 32;

// One sample's cost, as counted here.
struct sample_cost {
    std::uint64_t work = 0;    // multiply-adds, pooling taps, values moved
    std::uint64_t memory = 0;  // bytes: run_bytes at batch 1
};

struct load_limits {
    std::uint64_t max_work = default_max_work;      // per sample
    std::uint64_t max_memory = default_max_memory;  // bytes, per sample
};

// The work of one sample through node `d`, whose input shapes are values[d.inputs[k]] and whose
// output shape is y (as output_shape gave them: every product below fits in 64 bits, since a
// value has at most 2^26 elements and a node at most 2^31 weights).
inline std::uint64_t node_work(const node_facts& d, const sample_shape* values, const sample_shape& y) noexcept {
    const std::uint64_t out = std::uint64_t(size_of(y));
    const extents_t<4>& ws = d.weight_shape;
    switch (d.kind) {
        case op::linear:  // each output value reads K inputs (a whole-sample layer or one per row)
            return out * std::uint64_t(ws[1]);
        case op::conv2d:
            return out * std::uint64_t(ws[1]) * std::uint64_t(ws[2]) * std::uint64_t(ws[3]);
        case op::max_pool:
        case op::avg_pool: {
            const sample_shape& x = values[std::size_t(d.inputs[0])];
            const index_t th = d.pool->kh < x[1] ? d.pool->kh : x[1], tw = d.pool->kw < x[2] ? d.pool->kw : x[2];
            return out * std::uint64_t(th) * std::uint64_t(tw);
        }
        default: {
            std::uint64_t w = out;
            for (std::size_t k = 0; k < d.input_count; ++k)
                w += std::uint64_t(size_of(values[std::size_t(d.inputs[k])]));
            return w + d.constant_size;
        }
    }
}

// The bytes a node needs for itself while one image runs through it (released after): a
// convolution's im2col of one group and that group's output (kernels/conv2d.hpp), else none.
inline std::uint64_t node_scratch_bytes(const node_facts& d, const sample_shape& y) noexcept {
    if (d.kind != op::conv2d) return 0;
    const std::uint64_t pixels = std::uint64_t(y[1]) * std::uint64_t(y[2]);
    const std::uint64_t kg =
        std::uint64_t(d.weight_shape[1]) * std::uint64_t(d.weight_shape[2]) * std::uint64_t(d.weight_shape[3]);
    const std::uint64_t og = std::uint64_t(y[0]) / std::uint64_t(d.conv->groups);
    return pixels * kg * 4 + pixels * og * 4 + 256;
}

// The memory a run of `batch` samples takes (what compiled_model::scratch_bytes reserves):
// every value held as fp32 for the whole run (64 bytes of alignment each), the widest node's
// temporaries (its inputs converted and its output's int32 sums, at least three of the widest
// value; each input may be converted twice: dequantized, then to the other layout), and the
// largest node scratch (an NCHW convolution's per image; channels-last ones add theirs per batch).
// values[v]: value v's shape (nodes + 1 of them); inputs_of(i): node i's input value ids.
template <class InputsOf>
std::uint64_t run_bytes(const sample_shape* values, std::size_t nodes, const InputsOf& inputs_of,
                        std::uint64_t largest_node_scratch, std::uint64_t batch) noexcept {
    const auto bytes = [&](std::size_t v) { return batch * std::uint64_t(size_of(values[v])) * 4 + 64; };
    std::uint64_t total = 0, temps = 0;
    for (std::size_t v = 0; v <= nodes; ++v) total += bytes(v), temps = temps > 3 * bytes(v) ? temps : 3 * bytes(v);
    for (std::size_t i = 0; i < nodes; ++i) {
        std::uint64_t t = bytes(i + 1);  // each input converted twice at most: dequantized, then to the other layout
        for (int in : inputs_of(i)) t += 2 * bytes(std::size_t(in));
        temps = temps > t ? temps : t;
    }
    return total + temps + largest_node_scratch + 1024;
}

// a + b, or UINT64_MAX when that overflows (many nodes of the largest work each).
constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    return a > ~std::uint64_t(0) - b ? ~std::uint64_t(0) : a + b;
}

// Success when one sample's work and memory are within the limits; else a status naming
// `source`, the figure and how to raise its limit.
inline status check_limits(std::uint64_t work, std::uint64_t memory, const load_limits& lim, const char* source) {
    if (work > lim.max_work)
        return status(
            errc::out_of_range,
            "%s: one sample costs %.3g operations (multiply-adds, pooling taps, values moved), over the limit of %.3g "
            "(a model this large: raise it with --max-work or load_limits::max_work)",
            source, double(work), double(lim.max_work));
    if (memory > lim.max_memory)
        return status(errc::out_of_range,
                      "%s: one sample needs %.3g bytes of activations and scratch, over the limit of %.3g (a model "
                      "this large: raise it "
                      "with --max-memory or load_limits::max_memory)",
                      source, double(memory), double(lim.max_memory));
    return status::success();
}

}  // namespace sparq::nn
