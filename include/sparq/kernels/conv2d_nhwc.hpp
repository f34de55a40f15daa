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
//   - a depthwise convolution runs direct (dwconv2d_nhwc.hpp), across channels;
//   - int8 to int8 codes on an image of 128 bytes at most (the digits CNN's 8x8x1 and 4x4x8)
//     runs whole-image byte gathers and vpdpbusd (conv2d_nhwc_s8_gather.hpp), where AVX-512
//     VBMI and VNNI are there: per-tap copies of 1 to 8 bytes were most of that model's time.
//
// The output stage is fused into the GEMM's tiles: bias and activation for float, requantization
// (or dequantization) for int8, so the result is written once, already channels-last. Grouped
// (not depthwise) convolutions run a GEMM per group into the group's columns of the same rows:
// int8 with the stage's columns of those channels fused (linear_s8's stage_col), float (and int8
// where no fused GEMM is built) then the stage over the whole row.
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
#include "sparq/core/thread_pool.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/conv2d_nhwc_s8_gather.hpp"
#include "sparq/kernels/copy_short.hpp"
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
    // (n, oh, ow) of row m0, then stepped: three divisions a row cost more than a small image's taps
    index_t n = m0 / (oh_n * ow_n), oh = m0 / ow_n % oh_n, ow = m0 % ow_n;
    for (index_t r = 0; r < count; ++r, ++ow) {
        if (ow == ow_n) {
            ow = 0;
            if (++oh == oh_n) oh = 0, ++n;
        }
        X* row = cols + r * k;
        const X* image = x + n * h * w * c + g * cg;
        const index_t iw0 = ow * p.stride_w - p.pad_left;
        // one group, undilated and wholly inside along W: a kernel row's taps are contiguous
        // in the input too, one copy of KW x C values
        const bool span = cg == c && p.dilation_w == 1 && iw0 >= 0 && iw0 + kw_n <= w;
        for (index_t kh = 0; kh < kh_n; ++kh) {
            const index_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
            if (span && ih >= 0 && ih < h) {
                copy_short(image + (ih * w + iw0) * c, kw_n * c, row);
                row += kw_n * c;
                continue;
            }
            for (index_t kw = 0; kw < kw_n; ++kw, row += cg) {
                const index_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) fill_short(row, cg, pad);
                else copy_short(image + (ih * w + iw) * c, cg, row);
            }
        }
    }
}

// Work split across threads: each of T tasks takes every T-th chunk of output pixels (its own
// im2col buffer and, for grouped int8, its own sums), the GEMMs inside on one thread each; a
// pointwise convolution splits its rows. Below about a million multiply-adds a layer stays on
// the calling thread (waking the pool costs more).
// Each task's slice of the arena (multiples of 64 bytes, so every part stays aligned): its im2col
// chunk, its int32 sums (grouped int8), and an arena of its own for the GEMM's scratch (linear_s8's
// unfused fallback takes one), so that no two threads allocate from one arena.
struct nhwc_plan {
    index_t rows = 0, kg = 0, chunk = 0, chunks = 0, tasks = 1;
    std::size_t cols_bytes = 0, sums_bytes = 0, gemm_bytes = 0;  // per task
    std::size_t task_bytes() const noexcept { return cols_bytes + sums_bytes + gemm_bytes; }
};

constexpr std::size_t round_up_64(std::size_t b) noexcept { return (b + 63) / 64 * 64; }

template <class T>
nhwc_plan plan_nhwc(const packed_conv<T>& w, const conv2d_params& p, const extents_t<4>& ye, int threads) noexcept {
    nhwc_plan pl;
    pl.rows = ye[0] * ye[2] * ye[3];
    pl.kg = w.extents[1] * w.extents[2] * w.extents[3];
    const bool big = std::uint64_t(pl.rows) * std::uint64_t(pl.kg) * std::uint64_t(ye[1]) >= (std::uint64_t(1) << 20);
    pl.tasks = big ? std::max(1, threads) : 1;
    if (is_pointwise(w.extents, p)) {
        pl.tasks = std::min(pl.tasks, std::max<index_t>(1, pl.rows / 64));
        pl.chunk = (pl.rows + pl.tasks - 1) / std::max<index_t>(pl.tasks, 1);
        pl.chunks = pl.rows ? (pl.rows + pl.chunk - 1) / pl.chunk : 0;
        if (std::is_same_v<T, std::int8_t>) pl.gemm_bytes = round_up_64(std::size_t(pl.chunk * ye[1]) * 4 + 128);
        return pl;
    }
    pl.chunk = nhwc_chunk_rows(pl.rows, pl.kg * p.groups, sizeof(T), std::size_t(w.original.size()) * sizeof(T));
    if (pl.tasks > 1 && pl.rows > 0) {
        // as many chunks as a multiple of the tasks, of equal size: 4 chunks of 455, 455, 455 and
        // 203 rows on two threads gave one of them 910 rows and the other 658
        const index_t n = ((pl.rows + pl.chunk - 1) / pl.chunk + pl.tasks - 1) / pl.tasks * pl.tasks;
        pl.chunk = std::max<index_t>(1, (pl.rows + n - 1) / n);
    }
    // whole blocks of the GEMM's rows (the int8 kernels' 32, the float one's 12), but for the last
    constexpr index_t block = std::is_same_v<T, std::int8_t> ? 32 : 12;
    if (pl.chunk > block && pl.chunk < pl.rows) pl.chunk = (pl.chunk + block - 1) / block * block;
    pl.chunks = pl.rows ? (pl.rows + pl.chunk - 1) / pl.chunk : 0;
    pl.tasks = std::max<index_t>(1, std::min(pl.tasks, pl.chunks));
    pl.cols_bytes = round_up_64(std::size_t(pl.chunk * pl.kg) * sizeof(T));
    if (std::is_same_v<T, std::int8_t>) {
        if (p.groups > 1) pl.sums_bytes = round_up_64(std::size_t(pl.chunk * ye[1]) * 4);
        else pl.gemm_bytes = round_up_64(std::size_t(pl.chunk * ye[1]) * 4 + 128);
    }
    return pl;
}

}  // namespace detail

// The arena bytes conv2d_nhwc / conv2d_nhwc_s8 take for output ye (NCHW extents) on `threads`
// threads (fewer are used when the arena holds less).
template <class T>
std::size_t conv2d_nhwc_scratch_bytes(const packed_conv<T>& w, const conv2d_params& p, const extents_t<4>& ye, int threads = 1) noexcept {
    if (is_depthwise(w.extents, p.groups)) return dwconv2d_nhwc_scratch_bytes(ye, threads, w.extents[2], w.extents[3]);
    const detail::nhwc_plan pl = detail::plan_nhwc(w, p, ye, threads);
    return std::size_t(pl.tasks) * pl.task_bytes();
}

namespace detail {

// Runs the GEMMs of a channels-last convolution; gemm(ctx1, g, cols, m0, rows, sums) multiplies
// [rows, K_g] by group g's weights into output rows [m0, m0 + rows) (group g's columns), and
// finish(m0, rows, sums) runs the output stage of those rows when the GEMM did not fuse it
// (sums: the task's int32 buffer, grouped int8 only). ctx1 is the context a GEMM runs on: one
// thread when the rows are split, the caller's threads otherwise.
template <class X, class W, class Gemm, class Finish>
status conv2d_nhwc_rows(const context& ctx, const X* x, const extents_t<4>& xe, const packed_conv<W>& w, const conv2d_params& p,
                        const extents_t<4>& ye, X pad, Gemm&& gemm, Finish&& finish) noexcept {
    const index_t cg = w.extents[1], kh = w.extents[2], kw = w.extents[3];
    nhwc_plan pl = plan_nhwc(w, p, ye, parallel_threads(ctx, 1 << 20));
    if (pl.rows == 0) return status::success();
    // as many tasks as the arena holds buffers for (after up to 63 bytes of alignment)
    if (pl.task_bytes() > 0 && ctx.scratch) {
        const std::size_t room = ctx.scratch->available() > 63 ? ctx.scratch->available() - 63 : 0;
        pl.tasks = std::max<index_t>(1, std::min<index_t>(pl.tasks, index_t(room / pl.task_bytes())));
    }
    if (pl.task_bytes() > 0) SPARQ_TRY(ctx.require_scratch(pl.task_bytes(), "conv2d_nhwc (im2col)"));
    constexpr index_t max_tasks = 64;
    pl.tasks = std::min(pl.tasks, max_tasks);
    context one = ctx;
    one.energy = nullptr;  // counted once, as the convolution
    if (pl.tasks > 1) one.threads = 1;
    const arena::marker top = ctx.scratch ? ctx.scratch->mark() : 0;
    std::byte* buffers = nullptr;
    if (pl.task_bytes() > 0) {
        buffers = static_cast<std::byte*>(ctx.scratch->allocate(std::size_t(pl.tasks) * pl.task_bytes(), 64));
        if (!buffers) return status(errc::out_of_memory, "conv2d_nhwc: the arena is too small for the im2col buffers");
    }
    status failed[max_tasks];
    parallel_for(ctx, pl.tasks, [&](index_t t) {
        std::byte* slice = buffers ? buffers + std::size_t(t) * pl.task_bytes() : nullptr;
        X* cols = slice ? reinterpret_cast<X*>(slice) : nullptr;
        auto* sums = pl.sums_bytes ? reinterpret_cast<std::int32_t*>(slice + pl.cols_bytes) : nullptr;
        arena own(pl.gemm_bytes ? slice + pl.cols_bytes + pl.sums_bytes : nullptr, pl.gemm_bytes);
        context one_t = one;
        one_t.scratch = pl.gemm_bytes ? &own : nullptr;
        for (index_t ci = t; ci < pl.chunks; ci += pl.tasks) {
            const index_t m0 = ci * pl.chunk, count = std::min(pl.chunk, pl.rows - m0);
            status s = status::success();
            if (is_pointwise(w.extents, p)) {
                s = gemm(one_t, index_t(0), matrix_view<const X>(x + m0 * pl.kg, {count, pl.kg}), m0, count, sums);
            } else {
                for (index_t g = 0; g < p.groups && s.ok(); ++g) {
                    im2col_nhwc(x, xe, ye, kh, kw, p, g, cg, m0, count, pad, cols);
                    s = gemm(one_t, g, matrix_view<const X>(cols, {count, pl.kg}), m0, count, sums);
                }
            }
            if (s.ok()) s = finish(m0, count, sums);
            if (!s.ok()) {
                failed[t] = s;
                return;
            }
        }
    });
    if (buffers) ctx.scratch->release(top);
    for (index_t t = 0; t < pl.tasks; ++t)
        if (!failed[t].ok()) return failed[t];
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
    const index_t o = ye[1], og = o / p.groups;
    const bool fused = p.groups == 1;
    SPARQ_TRY(detail::conv2d_nhwc_rows(
        ctx, x, xe, w, p, ye, 0.0f,
        [&](const context& one, index_t g, const matrix_view<const float>& cols, index_t m0, index_t rows, std::int32_t*) {
            const matrix_view<float> out(y + m0 * o + g * og, {rows, og}, {o, 1});
            return fused ? matmul(one, cols, w.per_group[0], bias, act, out) : matmul(one, cols, w.per_group[std::size_t(g)], out);
        },
        [&](index_t m0, index_t rows, std::int32_t*) {
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
    const index_t o = ye[1], og = o / p.groups;
    bool done = false;
#if defined(SPARQ_HAS_CONV_GATHER_S8)
    // an image of 128 bytes at most: whole-image gathers instead of im2col (conv2d_nhwc_s8_gather.hpp)
    if constexpr (std::is_same_v<Out, std::int8_t>) {
        if (detail::use_simd(ctx) && ctx.preferred != backend::scalar && conv2d_nhwc_s8_gather_applies(w, p, xe, ye)) {
            SPARQ_TRY(detail::pick_backend(ctx, "conv2d_nhwc_s8", true));
            conv2d_nhwc_s8_gather(ctx, x, xe, w, p, zero_point, st, y, ye);
            done = true;
        }
    }
#endif
    // Requantization fused into the GEMM (linear_s8), a group's GEMM applying the stage's columns
    // of its output channels (regnet's grouped layers ran 3x slower through int32 sums and a
    // pass of their own); where the GEMM cannot fuse, each group's int32 sums go into its columns
    // of the task's [rows, O] buffer, then the stage runs over whole rows
    const bool fused = !done && detail::linear_s8_fuses(ctx, w.per_group[0].k, w.per_group[0], 1, 1);
    if (!done)
        SPARQ_TRY(detail::conv2d_nhwc_rows(
        ctx, x, xe, w, p, ye, zero_point,
        [&](const context& one, index_t g, const matrix_view<const std::int8_t>& cols, index_t m0, index_t rows, std::int32_t* sums) {
            if (p.groups == 1) return linear_s8(one, cols, w.per_group[0], st, matrix_view<Out>(y + m0 * o, {rows, o}));
            if (fused)
                return linear_s8(one, cols, w.per_group[std::size_t(g)], st, matrix_view<Out>(y + m0 * o + g * og, {rows, og}, {o, 1}),
                                 g * og);
            return matmul_s8(one, cols, w.per_group[std::size_t(g)], matrix_view<std::int32_t>(sums + g * og, {rows, og}, {o, 1}));
        },
        [&](index_t m0, index_t rows, std::int32_t* sums) {
            if (p.groups == 1 || fused) return status::success();
            const matrix_view<const std::int32_t> acc(sums, {rows, o});
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
