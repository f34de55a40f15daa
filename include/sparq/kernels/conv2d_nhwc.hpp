// conv2d_nhwc: a convolution on channels-last activations ([N, H, W, C], as compiled models hold
// them), through the packed GEMM with the batch and the pixels folded into M:
//
//   - a pointwise convolution (1x1, stride 1, no padding, one group) is the GEMM on the input as
//     it lies: [N * H * W, C] x [C, O] -> [N * OH * OW, O], no copy at all;
//   - any other runs im2col on a chunk of output pixels at a time (each row a pixel's taps, in
//     (kh, kw, c) order, so a tap is one contiguous copy of C / groups values), then the GEMM on
//     the chunk. Chunks are sized so the im2col buffer stays near L2 unless the weights are larger
//     (each chunk streams all the weights once more: for resnet's last 3x3 layers, 9 MB of
//     weights, the whole batch is one chunk);
//   - a depthwise convolution runs direct (dwconv2d_nhwc.hpp), across channels.
//
// The output stage is fused into the GEMM's tiles: bias and activation for float, requantization
// (or dequantization) for int8, so the result is written once, already channels-last. Grouped
// (not depthwise) convolutions run a GEMM per group on column slices of the same rows, then the
// stage over the whole row.
//
// Results: int8 codes are bit for bit the NCHW path's (exact int32 sums, the same stage); float
// sums run in (kh, kw, c) order instead of (c, kh, kw), so they match the reference to rounding.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/dwconv2d_nhwc.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"

namespace sparq::kernels {

namespace detail {

// im2col of a chunk of an L2 (1 MB) at least, or of the weights' size when they are larger.
constexpr std::size_t nhwc_chunk_floor_bytes = std::size_t(1) << 20;
constexpr std::size_t nhwc_chunk_ceiling_bytes = std::size_t(16) << 20;

inline bool is_pointwise(const extents_t<4>& w, const conv2d_params& p) noexcept {
    return w[2] == 1 && w[3] == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 && p.pad_left == 0 &&
           p.pad_bottom == 0 && p.pad_right == 0 && p.groups == 1;
}

// How many output pixels one im2col chunk holds (at least one; at most all `rows`).
inline index_t nhwc_chunk_rows(index_t rows, index_t k, std::size_t elem, std::size_t weight_bytes) noexcept {
    const std::size_t budget = std::min(std::max(nhwc_chunk_floor_bytes, weight_bytes), nhwc_chunk_ceiling_bytes);
    const index_t fit = index_t(budget / (std::size_t(std::max<index_t>(k, 1)) * elem));
    return std::clamp<index_t>(fit, 1, std::max<index_t>(rows, 1));
}

// Rows [m0, m0 + count) of the im2col matrix of group g: row m is output pixel m of the batch
// (n, oh, ow), its columns the taps (kh, kw) each holding C / groups channels.
template <class X>
void im2col_nhwc(const X* x, const extents_t<4>& xe, const extents_t<4>& ye, index_t kh_n, index_t kw_n, const conv2d_params& p,
                 index_t g, index_t cg, index_t m0, index_t count, X pad, X* cols) noexcept {
    const index_t c = xe[1], h = xe[2], w = xe[3], oh_n = ye[2], ow_n = ye[3], k = kh_n * kw_n * cg;
    for (index_t r = 0; r < count; ++r) {
        const index_t m = m0 + r, n = m / (oh_n * ow_n), oh = m / ow_n % oh_n, ow = m % ow_n;
        X* row = cols + r * k;
        const X* image = x + n * h * w * c + g * cg;
        for (index_t kh = 0; kh < kh_n; ++kh) {
            const index_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
            for (index_t kw = 0; kw < kw_n; ++kw, row += cg) {
                const index_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) std::fill(row, row + cg, pad);
                else std::copy_n(image + (ih * w + iw) * c, cg, row);
            }
        }
    }
}

}  // namespace detail

// The arena bytes conv2d_nhwc / conv2d_nhwc_s8 take for input xe -> output ye (NCHW extents).
template <class T>
std::size_t conv2d_nhwc_scratch_bytes(const packed_conv<T>& w, const conv2d_params& p, const extents_t<4>& ye) noexcept {
    if (is_depthwise(w.extents, p.groups)) return dwconv2d_nhwc_scratch_bytes(ye);
    if (detail::is_pointwise(w.extents, p)) return 0;
    const index_t rows = ye[0] * ye[2] * ye[3], k = w.extents[1] * w.extents[2] * w.extents[3];
    const index_t chunk = detail::nhwc_chunk_rows(rows, k * p.groups, sizeof(T), std::size_t(w.original.size()) * sizeof(T));
    std::size_t bytes = std::size_t(chunk * k) * sizeof(T) + 64;
    if (p.groups > 1) bytes += std::size_t(chunk * ye[1]) * 4 + 64;  // int32 sums of every group's columns (int8)
    return bytes;
}

namespace detail {

// Runs the GEMMs of a channels-last convolution; gemm(g, cols, rows, y_rows) multiplies
// [rows, K_g] by group g's weights into y_rows (a [rows, O] view's columns of group g), and
// finish(m0, rows) runs the output stage of rows [m0, m0 + rows) when the GEMM did not fuse it.
template <class X, class W, class Gemm, class Finish>
status conv2d_nhwc_rows(const context& ctx, const X* x, const extents_t<4>& xe, const packed_conv<W>& w, const conv2d_params& p,
                        const extents_t<4>& ye, X pad, Gemm&& gemm, Finish&& finish) noexcept {
    const index_t cg = w.extents[1], kh = w.extents[2], kw = w.extents[3], kg = cg * kh * kw;
    const index_t rows = ye[0] * ye[2] * ye[3];
    if (rows == 0) return status::success();
    if (is_pointwise(w.extents, p)) {
        SPARQ_TRY(gemm(0, matrix_view<const X>(x, {rows, kg}), index_t(0), rows));
        return finish(index_t(0), rows);
    }
    const index_t chunk = nhwc_chunk_rows(rows, kg * p.groups, sizeof(X), std::size_t(w.original.size()) * sizeof(W));
    SPARQ_TRY(ctx.require_scratch(std::size_t(chunk * kg) * sizeof(X) + 64, "conv2d_nhwc (im2col)"));
    arena::scope keep(*ctx.scratch);
    auto cols = ctx.scratch->allocate_view<X, 2>({chunk, kg});
    if (!cols) return cols.error();
    for (index_t m0 = 0; m0 < rows; m0 += chunk) {
        const index_t count = std::min(chunk, rows - m0);
        for (index_t g = 0; g < p.groups; ++g) {
            im2col_nhwc(x, xe, ye, kh, kw, p, g, cg, m0, count, pad, cols->data());
            SPARQ_TRY(gemm(g, matrix_view<const X>(cols->data(), {count, kg}), m0, count));
        }
        SPARQ_TRY(finish(m0, count));
    }
    return status::success();
}

template <class T>
status check_nhwc(const packed_conv<T>& w, const conv2d_params& p, const extents_t<4>& xe, const extents_t<4>& ye) noexcept {
    if (!w.channels_last) return status(errc::invalid_argument, "conv2d_nhwc: the weights were packed for NCHW activations");
    if (p.groups != w.groups)
        return status(errc::invalid_argument, "conv2d_nhwc: weights were packed for %td groups, params say %td", w.groups, p.groups);
    auto out = conv2d_output(xe, w.extents, p);
    if (!out) return out.error();
    if (*out != ye) {
        char a[64], b[64];
        return status(errc::shape_mismatch, "conv2d_nhwc: the output is %s, y is %s", format_extents(*out, a, sizeof a),
                      format_extents(ye, b, sizeof b));
    }
    return status::success();
}

}  // namespace detail

// y [N, OH, OW, O] = act(conv(x [N, H, W, C], w) + bias) (bias: O floats or empty); extents
// given as NCHW (conv2d_output's); x and y contiguous channels-last; w packed channels-last.
inline status conv2d_nhwc(const context& ctx, const float* x, const extents_t<4>& xe, const packed_conv<float>& w,
                          const conv2d_params& p, const std::vector<float>& bias, activation act, float* y,
                          const extents_t<4>& ye) noexcept {
    SPARQ_TRY(detail::check_nhwc(w, p, xe, ye));
    if (is_depthwise(w.extents, p.groups))
        return dwconv2d_nhwc(ctx, x, xe, w.taps.data(), w.extents[2], w.extents[3], p, bias, act, y, ye);
    context inner = ctx;
    inner.energy = nullptr;  // counted once below, as the convolution
    const index_t o = ye[1], og = o / p.groups;
    const bool fused = p.groups == 1;
    const std::vector<float> none;
    SPARQ_TRY(detail::conv2d_nhwc_rows(
        ctx, x, xe, w, p, ye, 0.0f,
        [&](index_t g, const matrix_view<const float>& cols, index_t m0, index_t rows) {
            const matrix_view<float> out(y + m0 * o + g * og, {rows, og}, {o, 1});
            return fused ? matmul(inner, cols, w.per_group[0], bias, act, out) : matmul(inner, cols, w.per_group[std::size_t(g)], out);
        },
        [&](index_t m0, index_t rows) {
            return fused ? status::success() : apply_bias_activation(matrix_view<float>(y + m0 * o, {rows, o}), bias, act);
        }));
    energy::count_conv(ctx.energy, dtype::f32, dtype::f32, dtype::f32, dtype::f32, std::uint64_t(xe[0] * xe[1] * xe[2] * xe[3]),
                       std::uint64_t(ye[0] * ye[1] * ye[2] * ye[3]), std::uint64_t(w.extents[0]),
                       std::uint64_t(w.extents[1] * w.extents[2] * w.extents[3]));
    return status::success();
}

// int8: x codes, padding with their zero point; the stage (make_requant_stage with the weights'
// per-channel sums) turns each output channel's int32 sums into Out: int8_t codes or float.
template <class Out>
status conv2d_nhwc_s8(const context& ctx, const std::int8_t* x, const extents_t<4>& xe, const packed_conv<std::int8_t>& w,
                      const conv2d_params& p, std::int8_t zero_point, const requant_stage& st, Out* y, const extents_t<4>& ye) noexcept {
    SPARQ_TRY(detail::check_nhwc(w, p, xe, ye));
    SPARQ_TRY(detail::check_stage(st, ye[1], "conv2d_nhwc_s8"));
    if (w.extents[1] * w.extents[2] * w.extents[3] > max_s8_reduction / 2)
        return status(errc::overflow, "conv2d_nhwc_s8: reduction length %td could overflow int32",
                      w.extents[1] * w.extents[2] * w.extents[3]);
    if (is_depthwise(w.extents, p.groups))
        return dwconv2d_nhwc_s8<Out>(ctx, x, xe, w.taps.data(), w.extents[2], w.extents[3], p, zero_point, st, y, ye);
    context inner = ctx;
    inner.energy = nullptr;
    const index_t o = ye[1], og = o / p.groups;
    // Grouped: each group's int32 sums into its columns of a chunk's [rows, O], then the stage.
    arena::scope keep(*ctx.scratch);
    matrix_view<std::int32_t> sums;
    if (p.groups > 1) {
        const index_t rows = ye[0] * ye[2] * ye[3], kg = w.extents[1] * w.extents[2] * w.extents[3];
        const index_t chunk = detail::nhwc_chunk_rows(rows, kg * p.groups, 1, std::size_t(w.original.size()));
        SPARQ_TRY(ctx.require_scratch(std::size_t(chunk * o) * 4 + 64, "conv2d_nhwc_s8 (sums)"));
        auto s = ctx.scratch->allocate_view<std::int32_t, 2>({chunk, o});
        if (!s) return s.error();
        sums = *s;
    }
    SPARQ_TRY(detail::conv2d_nhwc_rows(
        ctx, x, xe, w, p, ye, zero_point,
        [&](index_t g, const matrix_view<const std::int8_t>& cols, index_t m0, index_t rows) {
            if (p.groups == 1) return linear_s8(inner, cols, w.per_group[0], st, matrix_view<Out>(y + m0 * o, {rows, o}));
            return matmul_s8(inner, cols, w.per_group[std::size_t(g)],
                             matrix_view<std::int32_t>(sums.data() + g * og, {rows, og}, {o, 1}));
        },
        [&](index_t m0, index_t rows) {
            if (p.groups == 1) return status::success();
            const matrix_view<const std::int32_t> acc(sums.data(), {rows, o});
            const matrix_view<Out> out(y + m0 * o, {rows, o});
            if constexpr (std::is_same_v<Out, float>) return apply_dequant(st, acc, out);
            else return apply_requant(st, acc, out);
        }));
    energy::count_conv(ctx.energy, dtype::s8, dtype::s8, dtype::s8, dtype::s32, std::uint64_t(xe[0] * xe[1] * xe[2] * xe[3]),
                       std::uint64_t(ye[0] * ye[1] * ye[2] * ye[3]), std::uint64_t(w.extents[0]),
                       std::uint64_t(w.extents[1] * w.extents[2] * w.extents[3]));
    return status::success();
}

}  // namespace sparq::kernels
