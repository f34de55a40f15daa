// compile_options: how compiled_model::compile() prepares a model (precision, int8
// calibration and its observer, layouts, kernels), apart from the model it prepares so that
// tools and loaders can hold and parse options without the compiler's code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sparq/core/tensor_view.hpp"
#include "sparq/nn/compiled_parts.hpp"
#include "sparq/quant/requantize.hpp"

namespace sparq::nn {

// How int8 activation ranges are chosen from the calibration data (quant/observer_*.hpp).
enum class observer_kind : std::uint8_t { minmax, histogram, percentile, mse, entropy };

constexpr const char* to_string(observer_kind o) noexcept {
    switch (o) {
        case observer_kind::minmax:
            return "minmax";
        case observer_kind::histogram:
            return "histogram";
        case observer_kind::percentile:
            return "percentile";
        case observer_kind::mse:
            return "mse";
        case observer_kind::entropy:
            return "entropy";
    }
    return "?";
}

inline constexpr observer_kind observer_choices[] = {observer_kind::minmax, observer_kind::histogram,
                                                     observer_kind::percentile, observer_kind::mse,
                                                     observer_kind::entropy};

struct compile_options {
    precision prec = precision::f32;
    observer_kind observer = observer_kind::minmax;
    // int8: sample inputs [samples, in_features] whose activations set the ranges.
    matrix_view<const float> calibration;
    // Called as int8 calibration advances (done of total steps: the fp32 run, then each value
    // observed), e.g. to draw a progress bar; null: not called.
    void (*progress)(void* user, std::size_t done, std::size_t total) = nullptr;
    void* progress_user = nullptr;
    // int8: run linear layers whose weights are at least half zeros (a pruned model) from a CSR
    // of their int8 codes (kernels/spmm.hpp): sparse MACs and index bytes are what is counted.
    bool sparse_int8 = false;
    // int8: linear / conv2d nodes (by name) kept in fp32, the rest quantized (mixed precision,
    // e.g. the layers a sensitivity pass finds fragile: nn/sensitivity.hpp). A float layer reads
    // its input as floats (dequantized where the producer holds codes) and writes floats; every
    // value keeps its calibrated qparams, so a consumer that takes codes quantizes them again.
    std::vector<std::string> float_layers;
    // int8: subtract from each quantized layer's bias the mean shift its weight rounding causes
    // on the calibration inputs (quant/bias_correction.hpp).
    bool bias_correction = true;
    // int8: run() refuses an input holding NaN or +-Inf, naming its row and feature (one pass
    // over the input; core/finite.hpp). int8 has no code for either, so quantized they give
    // plausible numbers. false lets them through: NaN becomes the input's zero point (exactly
    // as if it were 0.0), +Inf / -Inf saturate to codes 127 / -128 (kernels/quantize.hpp;
    // PyTorch 1.13's quantize_per_tensor makes all three -128). The input is checked whenever
    // the model holds codes anywhere, also when its first layers are kept in float
    // (float_layers): fp32 carries a NaN through them to the first quantized value. (Every
    // layer in float: the model is fp32 and propagates NaN as fp32 does.) Values the model
    // computes from finite inputs are not checked at run time: an fp32 layer that overflows to
    // Inf saturates where it is quantized. Calibration inputs are always checked
    // (quant/calibration_inputs.hpp).
    bool check_finite = true;
    // Hold activations channels-last inside the model where convolutions use them
    // (nn/channels_last.hpp): the fast layout. false runs every op on NCHW, as the graph is
    // written (the slower path, kept as a reference the channels-last one is tested against).
    bool channels_last = true;
    // fp32, channels-last: 3x3 stride-1 convolutions by Winograd's minimal filtering
    // (kernels/conv2d_winograd_nhwc.hpp: 2.25-4x fewer multiplies, rounding within 1e-5 of the
    // largest output); false: every convolution through im2col + GEMM. A run-time choice, not stored.
    bool winograd = true;
    // Float precisions: a SiLU or hard-swish right after a conv2d / linear runs in the layer's
    // output stage; int8: a ReLU / ReLU6 on the codes of an add clamps in the add
    // (nn/fold_activations.hpp); the compiled model then has one node fewer for each.
    bool fold_activations = true;
    // int8: how int32 sums become codes (quant/requantize.hpp). float_scale, the fp32
    // requantization of XNNPACK and ONNX Runtime, is the fast one; double_rounding is the
    // integer-only form of TFLite and gemmlowp, for targets without an FPU (export-c firmware
    // runs whichever the model was compiled with). Not stored in .sparq files: a run-time choice.
    quant::requant_rounding requant = quant::requant_rounding::float_scale;
};

}  // namespace sparq::nn
