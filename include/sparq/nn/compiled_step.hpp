// compiled_step: one node of a compiled model as run() holds it (nn/compiled_model.hpp): its
// op, inputs and parameters, and for linear / conv2d its weights packed in the one form its
// kernel reads (nn/layer_weights.hpp). Outside compiled_model so that the runners
// (nn/runners/) can take it.
#pragma once

#include <string>
#include <vector>

#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/nn/layer_weights.hpp"
#include "sparq/nn/op.hpp"
#include "sparq/nn/ops/lut_s8.hpp"

namespace sparq::nn::detail {

struct compiled_step {
    std::string name;
    op kind = op::linear;
    std::vector<int> inputs;
    layer_weights weights;  // linear / conv2d (monostate for the other ops)
    std::vector<float> bias;
    kernels::activation act = kernels::activation::none;
    kernels::conv2d_params conv;
    pool_params pool;
    op_params params;
    std::vector<float> constant;
    ops::lut_s8 lut;    // int8 unary ops on codes (ops::has_lut): the output code of each input code
    bool int8 = false;  // runs on int8 codes
};

}  // namespace sparq::nn::detail
