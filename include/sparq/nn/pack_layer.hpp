// pack_layer: which kernel runs a linear / conv2d layer, and its weights packed for it. The one
// place that decides (Winograd, im2col, CSR, which GEMM), as a table over the layer's facts, so
// that a new kernel is a new row here and a new runner (nn/runners/), not a branch in several
// places of compiled_model.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/conv2d_winograd_nhwc.hpp"
#include "sparq/kernels/int4.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/nn/compiled_parts.hpp"
#include "sparq/nn/compiled_step.hpp"
#include "sparq/nn/layer_weights.hpp"
#include "sparq/quant/qparams.hpp"
#include "sparq/sparse/csr.hpp"

namespace sparq::nn::detail {

// The weight sum of each output channel of int8 conv weights [O, C/g, KH, KW].
inline result<tensor<std::int32_t, 1>> channel_sums(const tensor<std::int8_t, 4>& w) {
    auto s = tensor<std::int32_t, 1>::make({w.extent(0)});
    if (!s) return s.error();
    const index_t per = w.extent(1) * w.extent(2) * w.extent(3);
    for (index_t o = 0; o < w.extent(0); ++o) {
        std::int32_t sum = 0;
        for (index_t i = 0; i < per; ++i) sum += w.data()[o * per + i];
        (*s)(o) = sum;
    }
    return s;
}

// The per-group s4 qparams of an int4 step's stored scales ([N, K] weights).
inline quant::qparams int4_qparams(std::vector<float> scales) {
    quant::qparams q;
    q.type = dtype::s4;
    q.gran = quant::granularity::per_group;
    q.axis = 1;
    q.group_size = int4_group;
    q.qmin = -8;
    q.qmax = 7;
    q.zero_point.assign(scales.size(), 0);
    q.scale = std::move(scales);
    return q;
}

// The per-channel weight qparams a step's stored scales stand for.
inline quant::qparams weight_qparams(const std::vector<float>& scales) {
    quant::qparams q;
    q.type = dtype::s8;
    q.gran = quant::granularity::per_channel;
    q.axis = 0;
    q.qmin = -127;
    q.qmax = 127;
    q.scale = scales;
    q.zero_point.assign(scales.size(), 0);
    return q;
}

// The compiled_parts flags that choose kernels (how to run, not what the model is).
struct pack_options {
    precision prec = precision::f32;
    bool winograd = true;
    bool sparse_int8 = false;
    quant::requant_rounding requant = quant::requant_rounding::float_scale;
};

// Which form a layer's weights take, one per kernel that runs it.
enum class weight_form : std::uint8_t {
    gemm_f32,
    gemm_f16,
    gemm_bf16,
    gemm_int4,
    gemm_s8,
    csr_s8,
    conv_f32,
    winograd_f32,
    conv_s8
};

// The kernel for linear / conv2d layer d (checked parts) whose output is held channels-last or not.
inline weight_form choose_kernel(const compiled_step_parts& d, const pack_options& o, bool out_channels_last) noexcept {
    const bool is_conv = d.kind == op::conv2d;
    const extents_t<4>& ws = d.weight_shape;
    if (o.prec == precision::int8 && !d.weight_s8.empty()) {
        if (is_conv) return weight_form::conv_s8;
        // a pruned linear layer (half its codes zero at least, K within the CSR's 16-bit columns)
        const auto zeros = std::count(d.weight_s8.begin(), d.weight_s8.end(), std::int8_t(0));
        const bool pruned = 2 * std::size_t(zeros) >= d.weight_s8.size() && ws[1] - 1 <= 65535;
        return o.sparse_int8 && pruned ? weight_form::csr_s8 : weight_form::gemm_s8;
    }
    if (is_conv) {
        // Winograd where its transforms (per tile, ~16 (C + O) adds) are small next to the
        // multiplies it saves (~C O per output): 32 channels in and out at least (the digits
        // CNN's 1 -> 8 and 8 -> 16 layers ran 1.7x slower through it); channels-last only
        const bool winograd =
            out_channels_last && o.winograd && kernels::winograd_applies(ws, d.conv) && ws[0] >= 32 && ws[1] >= 32;
        return winograd ? weight_form::winograd_f32 : weight_form::conv_f32;
    }
    if (o.prec == precision::int4) return weight_form::gemm_int4;
    if (o.prec == precision::f32 || o.prec == precision::int8) return weight_form::gemm_f32;  // (int8: a float layer)
    return o.prec == precision::f16 ? weight_form::gemm_f16 : weight_form::gemm_bf16;
}

struct packed_layer {
    layer_weights weights;
    std::size_t stored_bytes = 0;  // what a file holds of these weights (and their scales)
};

// Layer d's weights (moved from) packed for the kernel choose_kernel picks. s: the step being
// built (its bias, activation, conv parameters), y: its output's shape; in_q / out_q: its input's
// and output's int8 parameters (int8 models, else null).
inline result<packed_layer> pack_layer(compiled_step_parts& d, const compiled_step& s, const pack_options& o,
                                       bool out_channels_last, const sample_shape& y, const quant::qparams* in_q,
                                       const quant::qparams* out_q) {
    const extents_t<4> ws = d.weight_shape;
    const std::size_t count = std::size_t(ws[0] * ws[1] * ws[2] * ws[3]);
    const weight_form form = choose_kernel(d, o, out_channels_last);
    packed_layer r;
    switch (form) {
        case weight_form::conv_s8: {
            s8_conv w;
            w.scale = std::move(d.weight_scale);
            const quant::qparams wq = weight_qparams(w.scale);
            const tensor_view<const std::int8_t, 4> codes(d.weight_s8.data(), ws);
            auto pk = kernels::pack_conv_weights(codes, s.conv.groups, out_channels_last);
            if (!pk) return pk.error();
            w.w = std::move(*pk);
            auto sums = channel_sums(w.w.original);
            if (!sums) return sums.error();
            auto st = kernels::make_requant_stage(*in_q, wq, sums->cview(), *out_q, s.bias, s.act, o.requant);
            if (!st) return st.error();
            w.stage = std::move(*st);
            r.stored_bytes = count + std::size_t(ws[0]) * sizeof(float);
            r.weights = std::move(w);
            break;
        }
        case weight_form::gemm_s8:
        case weight_form::csr_s8: {
            std::vector<float> scale = std::move(d.weight_scale);
            const quant::qparams wq = weight_qparams(scale);
            auto pk = kernels::pack_weights(matrix_view<const std::int8_t>(d.weight_s8.data(), {ws[0], ws[1]}));
            if (!pk) return pk.error();
            auto st = kernels::make_requant_stage(*in_q, wq, *pk, *out_q, s.bias, s.act, o.requant);
            if (!st) return st.error();
            if (form == weight_form::gemm_s8) {
                r.stored_bytes = count + std::size_t(ws[0]) * sizeof(float);
                r.weights = s8_gemm{std::move(*pk), std::move(*st), std::move(scale)};
                break;
            }
            const matrix_view<const std::int8_t> codes(d.weight_s8.data(), {ws[0], ws[1]});
            auto keep = tensor<std::uint8_t, 2>::make({ws[0], ws[1]});
            if (!keep) return keep.error();
            for (std::size_t e = 0; e < count; ++e) keep->data()[e] = d.weight_s8[e] != 0;
            auto csr = sparse::make_csr<std::int8_t, std::uint16_t>(codes, keep->cview());
            if (!csr) return csr.error();
            // a pruned layer stores its CSR instead of the dense codes
            r.stored_bytes = csr->storage_bytes() + std::size_t(ws[0]) * sizeof(float);
            r.weights = s8_csr{std::move(*pk), std::move(*csr), std::move(*st), std::move(scale)};
            break;
        }
        case weight_form::winograd_f32: {
            const tensor_view<const float, 4> wf(d.weight_f32.data(), ws);
            // F(4x4) where the map has room for its tiles; smaller maps (resnet's 14x14 and 7x7)
            // run F(2x2) faster (bench/bench_conv_winograd.cpp)
            auto pw = kernels::pack_winograd_weights(wf, std::min(y[1], y[2]) >= 28 ? 4 : 2);
            if (!pw) return pw.error();
            winograd_conv w;
            w.w = std::move(*pw);
            auto copy = tensor<float, 4>::copy_of(wf);  // what parts() gives back (no im2col packing)
            if (!copy) return copy.error();
            w.original.extents = ws, w.original.groups = s.conv.groups, w.original.channels_last = true,
            w.original.original = std::move(*copy);
            r.stored_bytes = count * 4;
            r.weights = std::move(w);
            break;
        }
        case weight_form::conv_f32: {
            const tensor_view<const float, 4> wf(d.weight_f32.data(), ws);
            auto pk = kernels::pack_conv_weights(wf, s.conv.groups, out_channels_last);
            if (!pk) return pk.error();
            r.stored_bytes = count * 4;
            r.weights = std::move(*pk);
            break;
        }
        case weight_form::gemm_int4: {
            auto w4 = tensor<std::uint8_t, 2>::make({ws[0], (ws[1] + 1) / 2});
            if (!w4) return w4.error();
            std::copy(d.weight_s4.begin(), d.weight_s4.end(), w4->data());
            int4_gemm w;
            w.codes = std::move(*w4);
            w.k = ws[1];
            w.q = int4_qparams(std::move(d.weight_scale));
            SPARQ_TRY(w.q.check_for(extents_t<2>{ws[0], ws[1]}));
            r.stored_bytes = d.weight_s4.size() + w.q.scale.size() * sizeof(float);
            r.weights = std::move(w);
            break;
        }
        case weight_form::gemm_f32: {
            auto pk = kernels::pack_weights(matrix_view<const float>(d.weight_f32.data(), {ws[0], ws[1]}));
            if (!pk) return pk.error();
            r.stored_bytes = count * 4;
            r.weights = std::move(*pk);
            break;
        }
        // the stored bits, as they are (the layout pack_weights_as makes)
        case weight_form::gemm_f16: {
            auto pk = kernels::pack_float<float16, float16>({d.weight_f16.data(), {ws[0], ws[1]}},
                                                            kernels::panel_width_f32());
            if (!pk) return pk.error();
            r.stored_bytes = count * 2;
            r.weights = std::move(*pk);
            break;
        }
        case weight_form::gemm_bf16: {
            auto pk = kernels::pack_float<bfloat16, bfloat16>({d.weight_bf16.data(), {ws[0], ws[1]}},
                                                              kernels::panel_width_f32());
            if (!pk) return pk.error();
            r.stored_bytes = count * 2;
            r.weights = std::move(*pk);
            break;
        }
    }
    return r;
}

}  // namespace sparq::nn::detail
