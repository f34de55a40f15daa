// Output stages: what happens to a GEMM's raw sums before they leave the kernel call (gemmlowp's
// "output pipeline"). The functions here are the reference: one scalar pass over the [M, N]
// result; the xsimd GEMMs apply the same stage to each tile as it is finished
// (kernels/xsimd/epilogue.hpp), with the same bits.
//   float sums:  y = act(y + bias[n])
//   int32 sums:  real value r = s_x * s_w[n] * (acc - z_x * colsum[n]) + bias[n], then either
//                dequantized (float, then act) or requantized to int8 / uint8 with integer
//                arithmetic only (a fixed-point multiplier per column, bias pre-scaled to int32,
//                the activation folded into the clamp).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/kernels/pack.hpp"
#include "sparq/quant/qparams.hpp"
#include "sparq/quant/requantize.hpp"

namespace sparq::kernels {

// y = act(y + bias): bias has N entries or is empty.
inline status apply_bias_activation(const matrix_view<float>& y, const std::vector<float>& bias, activation a) noexcept {
    if (!bias.empty() && index_t(bias.size()) != y.extent(1))
        return status(errc::shape_mismatch, "output stage: %zu biases for %td columns", bias.size(), y.extent(1));
    for (index_t m = 0; m < y.extent(0); ++m)
        for (index_t n = 0; n < y.extent(1); ++n) y(m, n) = activate(y(m, n) + (bias.empty() ? 0.0f : bias[std::size_t(n)]), a);
    return status::success();
}

// The int8 layer's output stage, prepared once from the quantization of input, weights, output.
struct requant_stage {
    std::vector<quant::quantized_multiplier> multiplier;  // s_x * s_w[n] / s_y per column
    std::vector<std::int32_t> offset;                     // round(bias[n] / (s_x s_w[n])) - z_x * colsum[n]
    std::vector<float> real_scale;                        // s_x * s_w[n] (the dequantize path)
    std::vector<float> bias;                              // as given (the dequantize path)
    std::vector<std::int32_t> zx_colsum;                  // z_x * colsum[n]
    std::vector<std::int32_t> fixed, shift;               // multiplier[n] as two arrays (SIMD loads)
    std::int32_t zero_point = 0, qmin = -128, qmax = 127;  // the output's; the activation narrows qmin / qmax
    quant::requant_rounding rounding = quant::requant_rounding::double_rounding;
    activation act = activation::none;
};

// Whether no sum of k products of an activation code (int8 or uint8: |x| <= 255) and an int8
// weight, plus any of the stage's offsets, can overflow int32: then the stage's saturating add
// would return its input, and the SIMD stages skip it (the same bits, a third less work).
inline bool stage_sums_fit(const requant_stage& st, index_t k) noexcept {
    const std::int64_t most = std::int64_t(k) * 255 * 128;
    for (const std::int32_t o : st.offset)
        if (std::int64_t(o) + most > INT32_MAX || std::int64_t(o) - most < INT32_MIN) return false;
    return true;
}

// x: per-tensor qparams of the input; w: per-tensor or per-channel (axis 0) qparams of the
// [N, K] weights, symmetric (zero point 0); packed: the packed int8 weights (their column
// sums); y: per-tensor qparams of the output; bias: N floats or empty.
// col_sums: each output channel's weight sum (a convolution's over C / groups x KH x KW).
inline result<requant_stage> make_requant_stage(const quant::qparams& x, const quant::qparams& w,
                                                const tensor_view<const std::int32_t, 1>& col_sums, const quant::qparams& y,
                                                const std::vector<float>& bias, activation act,
                                                quant::requant_rounding r = quant::requant_rounding::double_rounding) {
    SPARQ_TRY(x.validate());
    SPARQ_TRY(w.validate());
    SPARQ_TRY(y.validate());
    const index_t n = col_sums.extent(0);
    if (x.gran != quant::granularity::per_tensor || y.gran != quant::granularity::per_tensor)
        return status(errc::unsupported, "requant stage: input and output need per-tensor qparams");
    if (!(w.gran == quant::granularity::per_tensor || (w.gran == quant::granularity::per_channel && w.axis == 0 && w.count() == n)))
        return status(errc::shape_mismatch, "requant stage: weight qparams must be per tensor or per output channel (%td)", n);
    if (!bias.empty() && index_t(bias.size()) != n)
        return status(errc::shape_mismatch, "requant stage: %zu biases for %td output channels", bias.size(), n);
    if (!clamps_codes(act)) return status(errc::unsupported, "requant stage: only relu and relu6 fold into int8 codes (a clamp)");
    requant_stage st;
    st.zero_point = y.zero_point[0], st.qmin = y.qmin, st.qmax = y.qmax, st.rounding = r, st.act = act, st.bias = bias;
    // The activation is a clamp in the output's integer domain.
    if (act != activation::none) st.qmin = std::max(st.qmin, y.zero_point[0]);
    if (act == activation::relu6) {
        const double six = std::nearbyint(6.0 / double(y.scale[0])) + y.zero_point[0];
        st.qmax = std::int32_t(std::min<double>(st.qmax, six));
    }
    for (index_t j = 0; j < n; ++j) {
        for (std::int32_t z : w.zero_point)
            if (z != 0) return status(errc::unsupported, "requant stage: weights must be symmetric (zero point 0)");
        const double sw = w.scale[std::size_t(w.count() == 1 ? 0 : j)];
        const double in_scale = double(x.scale[0]) * sw;
        auto m = quant::quantize_multiplier(in_scale / double(y.scale[0]));
        if (!m) return m.error();
        st.multiplier.push_back(*m);
        st.fixed.push_back(m->multiplier);
        st.shift.push_back(m->shift);
        const std::int64_t zx_colsum = std::int64_t(x.zero_point[0]) * col_sums(j);
        const double b = bias.empty() ? 0.0 : std::nearbyint(double(bias[std::size_t(j)]) / in_scale);
        // (a NaN bias fails the first test too: it has no integer form)
        if (!(std::fabs(b) <= 2e9) || std::llabs(zx_colsum) > 2000000000LL || std::llabs(std::int64_t(b) - zx_colsum) > INT32_MAX)
            return status(errc::overflow, "requant stage: bias or zero-point term of column %td does not fit int32", j);
        st.offset.push_back(std::int32_t(std::int64_t(b) - zx_colsum));
        st.zx_colsum.push_back(std::int32_t(zx_colsum));
        st.real_scale.push_back(float(in_scale));
    }
    return st;
}

// The stage of a packed int8 GEMM (its column sums are in the packing).
inline result<requant_stage> make_requant_stage(const quant::qparams& x, const quant::qparams& w, const packed_s8& packed,
                                                const quant::qparams& y, const std::vector<float>& bias, activation act,
                                                quant::requant_rounding r = quant::requant_rounding::double_rounding) {
    return make_requant_stage(x, w, packed.col_sums.cview(), y, bias, act, r);
}

namespace detail {

inline std::int32_t requantize_sum(const requant_stage& st, std::int32_t acc, index_t n) noexcept {
    return requantize_sum(acc, st.offset[std::size_t(n)], st.multiplier[std::size_t(n)], st.zero_point, st.qmin, st.qmax, st.rounding);
}

inline float dequantize_sum(const requant_stage& st, std::int32_t acc, index_t n) noexcept {
    return dequantize_sum(acc, st.zx_colsum[std::size_t(n)], st.real_scale[std::size_t(n)], st.bias.empty() ? 0.0f : st.bias[std::size_t(n)],
                          st.act);
}

// Whether a stage was prepared for n columns (by make_requant_stage).
inline status check_stage(const requant_stage& st, index_t n, const char* op) noexcept {
    const auto fits = [n](std::size_t size) { return index_t(size) == n; };
    if (!fits(st.multiplier.size()) || !fits(st.offset.size()) || !fits(st.real_scale.size()) ||
        !fits(st.zx_colsum.size()) || !fits(st.fixed.size()) || !fits(st.shift.size()) ||
        !(st.bias.empty() || fits(st.bias.size())))
        return status(errc::shape_mismatch, "%s: the output stage was not prepared for %td columns (make_requant_stage)",
                      op, n);
    return status::success();
}

}  // namespace detail

// int32 sums -> int8 / uint8 codes, integer arithmetic only.
template <class Q>
status apply_requant(const requant_stage& st, const matrix_view<const std::int32_t>& acc, const matrix_view<Q>& y) noexcept {
    if (acc.extents() != y.extents() || index_t(st.multiplier.size()) != acc.extent(1))
        return status(errc::shape_mismatch, "requant stage: sums [%td, %td], output [%td, %td], %zu columns prepared",
                      acc.extent(0), acc.extent(1), y.extent(0), y.extent(1), st.multiplier.size());
    // Walk memory in order: row by row for a GEMM's [M, N], column by column for a convolution's
    // NCHW planes seen as [pixels, channels] (column stride 1; row by row, each step crossed a
    // whole plane: half of int8 mobilenet v2's time). Each column's parameters are read once.
    if (acc.stride(0) == 1 && acc.stride(1) != 1 && y.stride(0) == 1) {
        for (index_t n = 0; n < acc.extent(1); ++n) {
            const std::int32_t offset = st.offset[std::size_t(n)];
            const quant::quantized_multiplier mult = st.multiplier[std::size_t(n)];
            const std::int32_t* a = &acc(0, n);
            Q* out = &y(0, n);
            for (index_t m = 0; m < acc.extent(0); ++m)
                out[m] = static_cast<Q>(detail::requantize_sum(a[m], offset, mult, st.zero_point, st.qmin, st.qmax, st.rounding));
        }
        return status::success();
    }
    for (index_t m = 0; m < acc.extent(0); ++m)
        for (index_t n = 0; n < acc.extent(1); ++n) y(m, n) = static_cast<Q>(detail::requantize_sum(st, acc(m, n), n));
    return status::success();
}

// int32 sums -> float: s_x s_w[n] (acc - z_x colsum[n]) + bias[n], then the activation.
inline status apply_dequant(const requant_stage& st, const matrix_view<const std::int32_t>& acc,
                            const matrix_view<float>& y) noexcept {
    if (acc.extents() != y.extents() || index_t(st.real_scale.size()) != acc.extent(1))
        return status(errc::shape_mismatch, "dequant stage: sums [%td, %td], output [%td, %td], %zu columns prepared",
                      acc.extent(0), acc.extent(1), y.extent(0), y.extent(1), st.real_scale.size());
    if (acc.stride(0) == 1 && acc.stride(1) != 1 && y.stride(0) == 1) {  // NCHW planes: column by column (as above)
        for (index_t n = 0; n < acc.extent(1); ++n) {
            const std::int32_t zc = st.zx_colsum[std::size_t(n)];
            const float scale = st.real_scale[std::size_t(n)], b = st.bias.empty() ? 0.0f : st.bias[std::size_t(n)];
            const std::int32_t* a = &acc(0, n);
            float* out = &y(0, n);
            for (index_t m = 0; m < acc.extent(0); ++m) out[m] = detail::dequantize_sum(a[m], zc, scale, b, st.act);
        }
        return status::success();
    }
    for (index_t m = 0; m < acc.extent(0); ++m)
        for (index_t n = 0; n < acc.extent(1); ++n) y(m, n) = detail::dequantize_sum(st, acc(m, n), n);
    return status::success();
}

}  // namespace sparq::kernels
