// firmware: a compiled model as constant tables (what `sparq export-c` writes into a header)
// and the function that runs one sample of it over a caller's buffer: no heap, no exceptions,
// no RTTI, no I/O, no threads, no OS call; weights stay where the tables put them (flash).
//
// int8 models run as compiled_model runs them, bit for bit: inputs quantized with the same
// formula, int8 x int8 sums in int32 (exact, in any order), the same integer requantization
// (kernels::detail::requantize_sum from the stage's multipliers, shifts and offsets), the same
// small ops (nn/ops.hpp). Float layers (fp32 models, fp16 / bf16 weights, the float ops of int8
// models) use the scalar reference kernels: within rounding of compiled_model, whose packed SIMD
// GEMMs sum in another order. Build with -ffp-contract=off (as sparq's own builds) so a
// compiler does not fuse a multiply and an add into an FMA where compiled_model did not.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparq/core/bfloat16.hpp"
#include "sparq/core/float16.hpp"
#include "sparq/core/status.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/kernels/scalar/matmul.hpp"
#include "sparq/kernels/scalar/quantize.hpp"
#include "sparq/nn/op.hpp"
#include "sparq/nn/ops.hpp"

namespace sparq::fw {

// s8_csr: a pruned int8 linear layer's nonzero codes row by row (weights), with row_ptr and
// one column index per code (col8 when K <= 256, else col16): fewer flash bytes than the dense
// codes once at least half are zero (with 8-bit indices), and the same int32 sums.
// s4: int4 weight-only linear layers: [N, ceil(K / 2)] bytes, two's complement nibbles (code 2j
// low, 2j + 1 high), a scale per group of `group` codes along K (w_scale), fp32 arithmetic.
enum class weight_type : std::uint8_t { none, f32, f16, bf16, s8, s8_csr, s4 };

// One value of the graph (0: the input; i + 1: layer i's output), per sample.
struct value {
    index_t c, h, w;
    bool s8;                     // held as int8 codes
    float scale;                 // int8 models: the value's qparams (per tensor)
    std::int32_t zero_point, qmin, qmax;
    quant::rounding round;
    quant::scaling scale_by;
    std::size_t offset;          // its bytes in the buffer (C*H*W codes or floats)
    std::size_t shadow;          // the other form (floats of codes, codes of floats) where an op needs it
};

struct layer {
    nn::op kind;
    kernels::activation act;
    const int* inputs;           // value ids
    int input_count;
    weight_type wtype;
    const void* weights;         // [N, K] (linear) or [O, C / groups, KH, KW] (conv2d), row-major
    index_t wshape[4];
    const float* bias;           // N floats or null
    // int8 layers: the requantization stage, one entry per output channel (make_requant_stage)
    const std::int32_t* fixed;
    const std::int32_t* shift;
    const std::int32_t* offset;
    const std::int32_t* zx_colsum;
    const float* real_scale;
    std::int32_t zero_point, qmin, qmax;  // the output's, narrowed by the activation
    quant::requant_rounding rounding;
    kernels::conv2d_params conv;
    nn::pool_params pool;
    // s8_csr: row n's codes are weights[row_ptr[n] .. row_ptr[n + 1]), in columns col8 / col16
    const std::uint32_t* row_ptr;
    const std::uint8_t* col8;
    const std::uint16_t* col16;
    // s4: the per-group scales (N * ceil(K / group)) and the group length
    const float* w_scale;
    index_t group;
};

struct model {
    const value* values;
    int value_count;
    const layer* layers;
    int layer_count;
    std::size_t buffer_bytes;    // what run() needs
    std::size_t scratch_offset;  // int32 sums of the widest int8 layer
};

namespace detail {

inline index_t size_of(const value& v) noexcept { return v.c * v.h * v.w; }

inline kernels::scalar::quant_step step_of(const value& v) noexcept {
    return kernels::scalar::quant_step::make(v.scale, v.zero_point, v.qmin, v.qmax, v.round, v.scale_by);
}

// y[o, oh, ow] = sum over the window of x * w, padding taking `pad` (the activations' zero point
// for int8, so the offset's z_x * colsum cancels it exactly, as im2col does).
template <class X, class W, class Acc>
void conv_direct(const X* x, const value& in, const W* w, const index_t* ws, const kernels::conv2d_params& p, Acc* y, const value& out,
                 X pad) noexcept {
    const index_t cg = ws[1], og = ws[0] / p.groups;
    for (index_t o = 0; o < out.c; ++o) {
        const index_t g = o / og;
        for (index_t oh = 0; oh < out.h; ++oh)
            for (index_t ow = 0; ow < out.w; ++ow) {
                Acc acc = 0;
                for (index_t c = 0; c < cg; ++c)
                    for (index_t kh = 0; kh < ws[2]; ++kh) {
                        const index_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
                        for (index_t kw = 0; kw < ws[3]; ++kw) {
                            const index_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
                            const bool inside = ih >= 0 && ih < in.h && iw >= 0 && iw < in.w;
                            const X v = inside ? x[((g * cg + c) * in.h + ih) * in.w + iw] : pad;
                            acc += Acc(v) * Acc(w[((o * cg + c) * ws[2] + kh) * ws[3] + kw]);
                        }
                    }
                y[(o * out.h + oh) * out.w + ow] = acc;
            }
    }
}

// y[n] = x . (row n's int4 codes times their group's scale), summed in k order: the bits of
// kernels::matmul_int4's scalar path (its xsimd path sums in lanes: within rounding).
inline void s4_matvec(const float* x, const layer& l, float* y) noexcept {
    const auto* bytes = static_cast<const std::uint8_t*>(l.weights);
    const index_t n_out = l.wshape[0], k_in = l.wshape[1], row_bytes = (k_in + 1) / 2, groups = (k_in + l.group - 1) / l.group;
    for (index_t n = 0; n < n_out; ++n) {
        float acc = 0.0f;
        for (index_t k = 0; k < k_in; ++k) {
            const std::uint8_t b = bytes[n * row_bytes + k / 2];
            const int nibble = k % 2 ? b >> 4 : b & 15;
            const int code = nibble >= 8 ? nibble - 16 : nibble;
            acc += x[k] * ((float(code) - 0.0f) * l.w_scale[n * groups + k / l.group]);
        }
        y[n] = acc;
    }
}

// acc[n] = sum of x[col] * code over row n's stored codes: the dense sum, zeros left out
// (int32 sums are exact in any order).
inline void csr_matvec(const std::int8_t* x, const layer& l, std::int32_t* acc) noexcept {
    const auto* codes = static_cast<const std::int8_t*>(l.weights);
    for (index_t n = 0; n < l.wshape[0]; ++n) {
        std::int32_t sum = 0;
        for (std::uint32_t j = l.row_ptr[n]; j < l.row_ptr[n + 1]; ++j)
            sum += std::int32_t(x[l.col8 ? l.col8[j] : l.col16[j]]) * std::int32_t(codes[j]);
        acc[n] = sum;
    }
}

}  // namespace detail

// y[out] = the model on one sample x[in] (C*H*W floats, NCHW): its last value (export-c
// refuses models returning others, and ops the tables cannot describe: softmax and concat
// only over the whole sample / along channels, add of equal shapes). buffer: m.buffer_bytes bytes,
// aligned to 16, owned by the caller (a static array on a microcontroller).
inline status run(const model& m, const float* x, float* y, void* buffer, std::size_t bytes) noexcept {
    if (buffer == nullptr || bytes < m.buffer_bytes || reinterpret_cast<std::uintptr_t>(buffer) % 16 != 0)
        return status(errc::invalid_argument, "firmware model: a buffer of %zu bytes aligned to 16 is needed", m.buffer_bytes);
    auto* base = static_cast<unsigned char*>(buffer);
    const context ctx;  // no arena, no energy counter: nothing here needs them
    auto f32 = [&](std::size_t off) { return reinterpret_cast<float*>(base + off); };
    auto s8 = [&](std::size_t off) { return reinterpret_cast<std::int8_t*>(base + off); };
    const value& input = m.values[0];
    for (index_t i = 0; i < detail::size_of(input); ++i) f32(input.offset)[i] = x[i];
    // A value as floats or as codes, converted into its shadow when it is held the other way.
    auto as_float = [&](int id) -> const float* {
        const value& v = m.values[id];
        if (!v.s8) return f32(v.offset);
        const kernels::scalar::quant_step st = detail::step_of(v);
        for (index_t i = 0; i < detail::size_of(v); ++i) f32(v.shadow)[i] = kernels::scalar::dequantize_value(s8(v.offset)[i], st);
        return f32(v.shadow);
    };
    auto as_s8 = [&](int id) -> const std::int8_t* {
        const value& v = m.values[id];
        if (v.s8) return s8(v.offset);
        const kernels::scalar::quant_step st = detail::step_of(v);
        for (index_t i = 0; i < detail::size_of(v); ++i) s8(v.shadow)[i] = std::int8_t(kernels::scalar::quantize_value(f32(v.offset)[i], st));
        return s8(v.shadow);
    };
    for (int li = 0; li < m.layer_count; ++li) {
        const layer& l = m.layers[li];
        const value& in = m.values[l.inputs[0]];
        const value& out = m.values[li + 1];
        const index_t in_n = detail::size_of(in), out_n = detail::size_of(out);
        const bool weighted = l.kind == nn::op::linear || l.kind == nn::op::conv2d;
        if (weighted && (l.wtype == weight_type::s8 || l.wtype == weight_type::s8_csr)) {
            const std::int8_t* xq = as_s8(l.inputs[0]);
            auto* acc = reinterpret_cast<std::int32_t*>(base + m.scratch_offset);
            const auto* w = static_cast<const std::int8_t*>(l.weights);
            if (l.wtype == weight_type::s8_csr) {
                detail::csr_matvec(xq, l, acc);
            } else if (l.kind == nn::op::linear) {
                const matrix_view<const std::int8_t> xv(xq, {1, in_n}), wv(w, {l.wshape[0], l.wshape[1]});
                kernels::scalar::matmul_s8(xv, wv, matrix_view<std::int32_t>(acc, {1, out_n}));
            } else {
                detail::conv_direct(xq, in, w, l.wshape, l.conv, acc, out, std::int8_t(in.zero_point));
            }
            const index_t channels = l.wshape[0], plane = out_n / channels;  // linear: plane 1
            for (index_t i = 0; i < out_n; ++i) {
                const index_t n = i / plane;
                if (out.s8) {
                    const quant::quantized_multiplier qm{l.fixed[n], int(l.shift[n])};
                    s8(out.offset)[i] = std::int8_t(kernels::detail::requantize_sum(acc[i], l.offset[n], qm, l.zero_point, l.qmin, l.qmax, l.rounding));
                } else {
                    f32(out.offset)[i] = kernels::detail::dequantize_sum(acc[i], l.zx_colsum[n], l.real_scale[n], l.bias ? l.bias[n] : 0.0f, l.act);
                }
            }
            continue;
        }
        switch (l.kind) {
            case nn::op::linear: {
                const matrix_view<const float> xv(as_float(l.inputs[0]), {1, in_n});
                const matrix_view<float> yv(f32(out.offset), {1, out_n});
                const extents_t<2> we{l.wshape[0], l.wshape[1]};
                if (l.wtype == weight_type::s4) detail::s4_matvec(xv.data(), l, yv.data());
                else if (l.wtype == weight_type::f16) kernels::scalar::matmul(xv, matrix_view<const float16>(static_cast<const float16*>(l.weights), we), yv);
                else if (l.wtype == weight_type::bf16) kernels::scalar::matmul(xv, matrix_view<const bfloat16>(static_cast<const bfloat16*>(l.weights), we), yv);
                else kernels::scalar::matmul(xv, matrix_view<const float>(static_cast<const float*>(l.weights), we), yv);
                for (index_t n = 0; n < out_n; ++n) yv(0, n) = kernels::activate(yv(0, n) + (l.bias ? l.bias[n] : 0.0f), l.act);
                break;
            }
            case nn::op::conv2d: {
                float* yv = f32(out.offset);
                detail::conv_direct(as_float(l.inputs[0]), in, static_cast<const float*>(l.weights), l.wshape, l.conv, yv, out, 0.0f);
                const index_t plane = out.h * out.w;
                for (index_t i = 0; i < out_n; ++i) yv[i] = kernels::activate(yv[i] + (l.bias ? l.bias[i / plane] : 0.0f), l.act);
                break;
            }
            case nn::op::relu: case nn::op::relu6: case nn::op::sigmoid: case nn::op::tanh: case nn::op::gelu:
                if (out.s8 && nn::ops::has_lut(l.kind)) {  // the compiled model's table, made here from the same qparams
                    const nn::ops::lut_s8 t = nn::ops::make_lut_s8(l.kind, nn::op_params{}, detail::step_of(m.values[l.inputs[0]]), detail::step_of(out));
                    nn::ops::apply_lut_s8(ctx, t, as_s8(l.inputs[0]), s8(out.offset), in_n);
                } else if (out.s8) nn::ops::activation_s8(ctx, l.kind, as_s8(l.inputs[0]), s8(out.offset), in_n, out.zero_point, out.scale);
                else nn::ops::activation(ctx, l.kind, as_float(l.inputs[0]), f32(out.offset), in_n);
                break;
            case nn::op::max_pool: case nn::op::avg_pool: {
                const nn::sample_shape xs{in.c, in.h, in.w}, ys{out.c, out.h, out.w};
                if (out.s8) nn::ops::pool(ctx, l.kind, l.pool, as_s8(l.inputs[0]), xs, s8(out.offset), ys, 1);
                else nn::ops::pool(ctx, l.kind, l.pool, as_float(l.inputs[0]), xs, f32(out.offset), ys, 1);
                break;
            }
            case nn::op::global_avg_pool:
                if (in.s8)  // from the codes, as the compiled model does
                    nn::ops::global_avg_pool_s8(ctx, s8(in.offset), in.scale, in.zero_point, 1, in.c, in.h * in.w, false, f32(out.offset));
                else nn::ops::global_avg_pool(ctx, as_float(l.inputs[0]), nn::sample_shape{in.c, in.h, in.w}, f32(out.offset), 1);
                break;
            case nn::op::flatten:
                if (out.s8) for (index_t i = 0; i < in_n; ++i) s8(out.offset)[i] = as_s8(l.inputs[0])[i];
                else {
                    const float* v = as_float(l.inputs[0]);
                    for (index_t i = 0; i < in_n; ++i) f32(out.offset)[i] = v[i];
                }
                break;
            case nn::op::add: {
                if (out.s8) {  // a residual add between int8 layers, on codes (compiled_model's rule)
                    const value &va = m.values[l.inputs[0]], &vb = m.values[l.inputs[1]];
                    const std::int8_t* qa = as_s8(l.inputs[0]);
                    const std::int8_t* qb = as_s8(l.inputs[1]);
                    nn::ops::add_s8(ctx, qa, va.scale, va.zero_point, qb, vb.scale, vb.zero_point, s8(out.offset), out.scale, out.zero_point, out_n,
                                    l.act);
                    break;
                }
                const float* a = as_float(l.inputs[0]);
                const float* b = as_float(l.inputs[1]);  // its own shadow: a stays valid
                nn::ops::add(ctx, a, b, f32(out.offset), out_n);
                break;
            }
            case nn::op::concat: {
                float* o = f32(out.offset);
                for (int k = 0; k < l.input_count; ++k) {
                    const float* v = as_float(l.inputs[k]);
                    for (index_t i = 0; i < detail::size_of(m.values[l.inputs[k]]); ++i) *o++ = v[i];
                }
                break;
            }
            case nn::op::softmax: nn::ops::softmax(ctx, as_float(l.inputs[0]), f32(out.offset), 1, out_n); break;
            // The ops of ONNX import carry parameters the tables do not hold: export-c refuses them.
            case nn::op::silu: case nn::op::hard_sigmoid: case nn::op::hard_swish: case nn::op::leaky_relu: case nn::op::clip:
            case nn::op::exp: case nn::op::sqrt: case nn::op::neg: case nn::op::erf: case nn::op::sub: case nn::op::mul:
            case nn::op::div: case nn::op::pow: case nn::op::batch_norm: case nn::op::pad: case nn::op::transpose:
            case nn::op::reshape: case nn::op::reduce_mean:
                return status(errc::unsupported, "firmware model: layer %d: op '%s' is not supported by the firmware runtime", li,
                              nn::to_string(l.kind));
        }
    }
    const int last = m.value_count - 1;
    const float* result = as_float(last);
    for (index_t i = 0; i < detail::size_of(m.values[last]); ++i) y[i] = result[i];
    return status::success();
}

}  // namespace sparq::fw
