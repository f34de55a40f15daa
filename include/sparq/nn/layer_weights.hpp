// layer_weights: the packed weights of one linear / conv2d layer of a compiled model, in the
// one form its kernel reads. One variant instead of a member per form, so that a layer cannot
// hold two forms at once and the code that runs it says which form it found
// (nn/pack_layer.hpp decides and packs it, nn/runners/ run it, compiled_model::parts() unpacks it).
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/conv2d_winograd_nhwc.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/quant/qparams.hpp"
#include "sparq/sparse/csr.hpp"

namespace sparq::nn {

// int4 linear (weight-only): the packed codes, their per-group s4 parameters, and K (odd K
// leaves half a byte, so it is not the codes' width times two).
struct int4_gemm {
    tensor<std::uint8_t, 2> codes;
    quant::qparams q;
    index_t k = 0;
};

// int8 linear: the packed codes, the output stage that takes their int32 sums to the output's
// codes (or to float), the weights' per-channel scales (what parts() stores).
struct s8_gemm {
    kernels::packed_s8 w;
    kernels::requant_stage stage;
    std::vector<float> scale;
};

// int8 linear, pruned: run from a CSR of its nonzero codes (kernels/spmm.hpp); the dense
// packing is kept because the output stage was made from it and parts() unpacks it.
struct s8_csr {
    kernels::packed_s8 w;
    sparse::csr<std::int8_t> csr;
    kernels::requant_stage stage;
    std::vector<float> scale;
};

// int8 conv2d: im2col-packed codes (their original layout inside), the output stage, the scales.
struct s8_conv {
    kernels::packed_conv<std::int8_t> w;
    kernels::requant_stage stage;
    std::vector<float> scale;
};

// fp32 channels-last 3x3 stride 1: Winograd's transformed weights; `original` holds only the
// weights as given (no im2col packing), for parts().
struct winograd_conv {
    kernels::packed_winograd w;
    kernels::packed_conv<float> original;
};

// monostate: a node without weights. packed_f32 also serves an int8 model's float layers.
using layer_weights = std::variant<std::monostate, kernels::packed_f32, kernels::packed_f16, kernels::packed_bf16,
                                   int4_gemm, s8_gemm, s8_csr, kernels::packed_conv<float>, winograd_conv, s8_conv>;

// Whether the layer runs on int8 codes.
inline bool runs_on_codes(const layer_weights& w) noexcept {
    return std::holds_alternative<s8_gemm>(w) || std::holds_alternative<s8_csr>(w) ||
           std::holds_alternative<s8_conv>(w);
}

// K of a linear layer's weights, whatever their form (0 for any other).
inline index_t linear_k(const layer_weights& w) noexcept {
    if (const auto* p = std::get_if<kernels::packed_f32>(&w)) return p->k;
    if (const auto* p = std::get_if<kernels::packed_f16>(&w)) return p->k;
    if (const auto* p = std::get_if<kernels::packed_bf16>(&w)) return p->k;
    if (const auto* p = std::get_if<int4_gemm>(&w)) return p->k;
    if (const auto* p = std::get_if<s8_gemm>(&w)) return p->w.k;
    if (const auto* p = std::get_if<s8_csr>(&w)) return p->w.k;
    return 0;
}

}  // namespace sparq::nn
