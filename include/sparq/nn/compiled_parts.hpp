// compiled_parts: a compiled model as plain data (nn/compiled_model.hpp's compile() makes it,
// from_parts() packs it, parts() gives it back): each node's weights unpacked, in the precision
// they are stored in, with the int8 scales and every value's qparams. What sparq's own file
// format stores (io/sparq_format.hpp) and export-c writes out; what compile-time rewrites of a
// compiled model (nn/fold_activations.hpp) work on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sparq/core/float16.hpp"
#include "sparq/core/shape.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/quant/qparams.hpp"
#include "sparq/quant/requantize.hpp"

namespace sparq::nn {

enum class precision : std::uint8_t { f32, f16, bf16, int8, int4 };

constexpr const char* to_string(precision p) noexcept {
    switch (p) {
        case precision::f32: return "fp32";
        case precision::f16: return "fp16";
        case precision::bf16: return "bf16";
        case precision::int8: return "int8";
        case precision::int4: return "int4";
    }
    return "?";
}

inline constexpr precision precision_choices[] = {precision::f32, precision::f16, precision::bf16, precision::int8, precision::int4};

// int4 models: one scale per this many weights along K (llama.cpp's Q4 and GPTQ's usual group).
inline constexpr index_t int4_group = 32;

// One node of a compiled model as data.
struct compiled_step_parts {
    std::string name;
    op kind = op::linear;
    std::vector<int> inputs;
    // linear ([N, K, 1, 1]) and conv2d ([O, C / groups, KH, KW]) nodes: the weights, in exactly one of
    extents_t<4> weight_shape{0, 0, 0, 0};
    std::vector<float> weight_f32;        // fp32 models; conv2d weights of fp16 / bf16 models; float layers of int8 models
    std::vector<float16> weight_f16;      // fp16 models' linear weights
    std::vector<bfloat16> weight_bf16;    // bf16 models' linear weights
    std::vector<std::int8_t> weight_s8;   // int8 models: symmetric codes (zero point 0, [-127, 127])
    std::vector<std::uint8_t> weight_s4;  // int4 models' linear weights: [N, ceil(K / 2)] bytes, two codes each
    std::vector<float> weight_scale;      // int8: one scale per output channel; int4: one per group of int4_group along K
    std::vector<float> bias;              // N / O values or empty
    kernels::activation act = kernels::activation::none;
    kernels::conv2d_params conv;          // conv2d
    pool_params pool;                     // max_pool, avg_pool
    op_params params;                     // the other ops' parameters (nn/op.hpp)
    std::vector<float> constant;          // binary ops with a constant operand; batch_norm: scales, then shifts
};

struct compiled_parts {
    precision prec = precision::f32;
    // How to run it, not what it is (not stored in .sparq files): int8 linear layers with at
    // least half zero codes run from a CSR (compile_options::sparse_int8).
    bool sparse_int8 = false;
    // How to run, not stored either: compile_options::check_finite and channels_last.
    bool check_finite = true;
    bool channels_last = true;
    bool winograd = true;                 // compile_options::winograd (how to run, not stored)
    quant::requant_rounding requant = quant::requant_rounding::float_scale;  // compile_options::requant
    std::vector<sample_shape> shapes;     // per value (0: the input; i + 1: node i's output)
    std::vector<std::uint8_t> s8;         // per value: 1 if held as int8 codes (int8 models only)
    std::vector<quant::qparams> q;        // per value: per-tensor int8 parameters (int8 models; else empty)
    std::vector<compiled_step_parts> steps;
    std::vector<int> outputs;             // the values the model returns, in order; empty: the last one
};

}  // namespace sparq::nn
