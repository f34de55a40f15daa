// dwconv2d_nhwc: a depthwise convolution on channels-last (NHWC) activations, the layer's output
// stage fused. A pixel's C channels are contiguous, so the inner loop runs over channels, whole
// vectors per tap, whatever the stride or map width (the NCHW kernel, dwconv2d.hpp, runs along
// rows 7 wide in mobilenet's last stage). Each output takes its taps in the reference's order
// (kh, then kw, from 0); those inside the image are a rectangle found once per row and pixel, so
// nothing is tested per tap, and those outside add pad * w as the reference does (0.0f * Inf is
// NaN). Float: kernels::dwconv2d bit for bit (no FP contraction, as sparq builds), then act(y + b)
// as apply_bias_activation. int8: exact int32 sums, then the requant stage, as scalar::conv2d +
// apply_requant / apply_dequant. The sums of a block of channels stay in registers over all taps:
// xsimd batches (plain loops at -O3 scattered a block's sums over scalar registers); plain loops
// take the channels past the last whole batch, and all of them in builds without xsimd.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/config.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/dtype.hpp"
#include "sparq/core/parallel.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/dwconv2d.hpp"  // inside_columns
#include "sparq/kernels/matmul.hpp"    // SPARQ_MATMUL_XSIMD, the xsimd epilogues, use_simd
#include "sparq/kernels/output_stage.hpp"
#if defined(SPARQ_MATMUL_XSIMD)
#include "sparq/kernels/xsimd/dwconv_f32_row.hpp"
#endif

// int8 on AVX512-VNNI: its own row kernel (vpdpwssd, the weights in registers, float_scale fused)
// (not in sanitizer builds: config.hpp's SPARQ_SANITIZED_BUILD)
#if defined(SPARQ_MATMUL_XSIMD) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512VNNI__) && !defined(SPARQ_SANITIZED_BUILD)
#define SPARQ_DW_S8_AVX512VNNI 1
#include "sparq/kernels/xsimd/dwconv_s8_avx512vnni.hpp"
#endif

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels {

// Taps of depthwise weights w [C, 1, KH, KW] rearranged channels-last: taps[(kh * KW + kw) * C + c].
template <class T>
void pack_dw_taps(const tensor_view<const T, 4>& w, T* taps) noexcept {
    const index_t c_n = w.extent(0), kh_n = w.extent(2), kw_n = w.extent(3);
    for (index_t c = 0; c < c_n; ++c)
        for (index_t kh = 0; kh < kh_n; ++kh)
            for (index_t kw = 0; kw < kw_n; ++kw) taps[(kh * kw_n + kw) * c_n + c] = w(c, 0, kh, kw);
}

namespace detail {

// Threads split the output rows (image, oh), a row's work its OW x C x taps multiply-adds, a work
// unit each (core/parallel.hpp; measured ~0.07 ns a multiply-add in f32, ~0.1 in int8 with its
// stage, AVX-512). taps 0: each row a grain (as many tasks as rows and threads allow). The split
// depends on the shapes and the thread count only.
constexpr range_split dw_nhwc_split(int threads, const extents_t<4>& y_ext, index_t taps, index_t max_tasks) noexcept {
    const std::uint64_t row = std::uint64_t(y_ext[3]) * std::uint64_t(y_ext[1]) * std::uint64_t(taps);
    return split_range(y_ext[0] * y_ext[2], taps > 0 ? row : parallel_grain, threads, 1, max_tasks);
}

// The int8 kernel's task buffers: one output row of int32 sums, [OW, C], each, 64-byte multiples
// (at least one).
constexpr std::size_t dw_nhwc_row_bytes(const extents_t<4>& y_ext) noexcept {
    const std::size_t bytes = std::size_t(y_ext[3] * y_ext[1]) * sizeof(std::int32_t);
    return bytes ? (bytes + 63) / 64 * 64 : 64;
}
constexpr index_t dw_nhwc_max_tasks = 64;

}  // namespace detail

// Scratch the int8 kernel takes from ctx.scratch on `threads` threads (a row of int32 sums,
// [OW, C], per task, plus the worst alignment padding; fewer tasks run when the arena holds
// fewer rows); the float kernel writes its sums into y and takes none. y_ext is in NCHW extents
// {N, C, OH, OW}; kh, kw the kernel's taps (0: the most tasks any kernel could take).
constexpr std::size_t dwconv2d_nhwc_scratch_bytes(const extents_t<4>& y_ext, int threads = 1, index_t kh = 0,
                                                  index_t kw = 0) noexcept {
    const index_t tasks = detail::dw_nhwc_split(threads, y_ext, kh * kw, detail::dw_nhwc_max_tasks).tasks;
    return std::size_t(tasks) * detail::dw_nhwc_row_bytes(y_ext) + default_alignment;
}

namespace detail {

struct dw_nhwc_geometry {
    index_t h, w, c, oh_n, ow_n, kh_n, kw_n;
    conv2d_params p;
    // float: y = act(sum + bias[c]) as each block of sums leaves its registers (bias may be null: + 0.0f)
    bool float_stage = false;
    const float* bias = nullptr;
    activation act = activation::none;
};

// One output pixel: the input position of its tap (0, 0) and its taps inside the image.
struct dw_pixel_taps {
    index_t ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi;
};

// Walks one pixel's taps in the reference's order (kh, then kw) for channels from c0: in(w, x)
// with the tap's weights and input channels, pad(w) for a tap in the padding. The padding is
// whole kernel rows and runs of columns at either end, so nothing is tested per tap.
template <class X, class In, class Pad>
inline void for_each_tap(const dw_nhwc_geometry& g, const X* img, const X* taps, const dw_pixel_taps& t, index_t c0,
                         In&& in, Pad&& pad) noexcept {
    const index_t c_n = g.c;
    const X* w = taps + c0;
    for (index_t kh = 0; kh < g.kh_n; ++kh) {
        if (kh < t.kh_lo || kh >= t.kh_hi) {
            for (index_t kw = 0; kw < g.kw_n; ++kw, w += c_n) pad(w);
            continue;
        }
        // (an index, not a pointer: column iw0 may lie left of the image)
        const index_t row = ((t.ih0 + kh * g.p.dilation_h) * g.w + t.iw0) * c_n + c0;
        index_t kw = 0;
        for (; kw < t.kw_lo; ++kw, w += c_n) pad(w);
        for (; kw < t.kw_hi; ++kw, w += c_n) in(w, img + (row + kw * g.p.dilation_w * c_n));
        for (; kw < g.kw_n; ++kw, w += c_n) pad(w);
    }
}

// Channels [c0, c0 + len) of one pixel, len <= 16, in plain loops: the channels past the last
// whole batch (all of them, 16 at a time, in a build without xsimd).
template <class X, class Y>
inline void dw_pixel_tail(const dw_nhwc_geometry& g, const X* img, const X* taps, const dw_pixel_taps& t, index_t c0,
                          index_t len, X pad, Y* out) noexcept {
    const Y padded = Y(pad);
    Y a[16];
    for (index_t i = 0; i < len; ++i) a[i] = Y(0);
    for_each_tap(
        g, img, taps, t, c0,
        [&](const X* w, const X* x) {
            for (index_t i = 0; i < len; ++i) a[i] += Y(x[i]) * Y(w[i]);
        },
        [&](const X* w) {
            for (index_t i = 0; i < len; ++i) a[i] += padded * Y(w[i]);
        });
    if constexpr (std::is_same_v<Y, float>)
        if (g.float_stage)
            for (index_t i = 0; i < len; ++i) a[i] = activate(a[i] + (g.bias ? g.bias[c0 + i] : 0.0f), g.act);
    for (index_t i = 0; i < len; ++i) out[c0 + i] = a[i];
}

#if defined(SPARQ_MATMUL_XSIMD)
// Channels [c0, c0 + R batches) of P neighbouring pixels of one row with the same taps inside
// the image (t is the first one's; the next reads stride_w pixels further): the P x R batches
// of sums stay in registers over all taps, each tap's weights loaded once for the P pixels.
// int8 codes are widened to int32 lanes on load (exact products and sums).
template <class A, int R, int P, class X, class Y>
SPARQ_ALWAYS_INLINE void dw_pixels_simd(const dw_nhwc_geometry& g, const X* img, const X* taps, const dw_pixel_taps& t, index_t c0,
                           X pad, Y* out) noexcept {
    using batch = ::xsimd::batch<Y, A>;
    constexpr index_t L = index_t(batch::size);
    const auto load = [](const X* p) {
        if constexpr (std::is_same_v<X, float>)
            return batch::load_unaligned(p);
        else
            return ::sparq::kernels::xsimd::detail::load_widen<A>(p, A{});
    };
    const index_t step = g.p.stride_w * g.c;
    const batch padded(static_cast<Y>(pad));
    batch a[P][R];
    for (int j = 0; j < P; ++j)
        for (int r = 0; r < R; ++r) a[j][r] = batch(Y(0));
    for_each_tap(
        g, img, taps, t, c0,
        [&](const X* w, const X* x) {
            for (int r = 0; r < R; ++r) {
                const batch wr = load(w + r * L);
                for (int j = 0; j < P; ++j) a[j][r] += load(x + j * step + r * L) * wr;
            }
        },
        [&](const X* w) {
            for (int r = 0; r < R; ++r) {
                const batch pw = padded * load(w + r * L);
                for (int j = 0; j < P; ++j) a[j][r] += pw;
            }
        });
    for (int r = 0; r < R; ++r) {
        if constexpr (std::is_same_v<Y, float>) {
            if (g.float_stage) {  // as apply_bias_activation (xsimd/epilogue.hpp: the same bits)
                const batch b = g.bias ? batch::load_unaligned(g.bias + c0 + r * L) : batch(0.0f);
                for (int j = 0; j < P; ++j) a[j][r] = ::sparq::kernels::xsimd::bias_activation<A>(a[j][r], b, g.act);
            }
        }
        for (int j = 0; j < P; ++j) a[j][r].store_unaligned(out + j * g.c + c0 + r * L);
    }
}
#endif

// Every channel of P neighbouring pixels with the same taps inside the image (t: the first).
template <int P, class X, class Y>
SPARQ_ALWAYS_INLINE void dw_pixels(const dw_nhwc_geometry& g, const X* img, const X* taps, dw_pixel_taps t, X pad, Y* out) noexcept {
    index_t c0 = 0;
#if defined(SPARQ_MATMUL_XSIMD)
    // 4 batches of sums (64 channels in AVX-512, 32 in AVX2), then 2, then 1, then the tail
    using A = ::xsimd::default_arch;
    constexpr index_t L = index_t(::xsimd::batch<Y, A>::size);
    for (; c0 + 4 * L <= g.c; c0 += 4 * L) dw_pixels_simd<A, 4, P>(g, img, taps, t, c0, pad, out);
    if (c0 + 2 * L <= g.c) dw_pixels_simd<A, 2, P>(g, img, taps, t, c0, pad, out), c0 += 2 * L;
    if (c0 + L <= g.c) dw_pixels_simd<A, 1, P>(g, img, taps, t, c0, pad, out), c0 += L;
#endif
    for (int j = 0; j < P; ++j, t.iw0 += g.p.stride_w, out += g.c)
        for (index_t c = c0; c < g.c; c += 16)
            dw_pixel_tail(g, img, taps, t, c, std::min<index_t>(16, g.c - c), pad, out);
}

// (dw_nhwc_row, dw_pixels and dw_pixels_simd are always inlined: the row loop keeps the geometry
// and the blocks' sums in registers; called through the thread split's chunk function, GCC
// otherwise made the vector blocks calls, 10-15 % slower in float.)
// Output row oh of one image: out[ow * C + c], OW x C sums. The pixels in [ow_lo, ow_hi) have
// every tap inside the image and go in groups of 4 (then 2) sharing each tap's weight loads:
// 4 x 4 batches of sums, up to 1.5x single pixels' speed here with AVX-512, 1.2x with AVX2
// (though its 16 registers no longer hold them all).
template <class X, class Y>
SPARQ_ALWAYS_INLINE void dw_nhwc_row(const dw_nhwc_geometry& g, const X* img, const X* taps, index_t oh, index_t ow_lo, index_t ow_hi,
                 X pad, Y* out) noexcept {
    dw_pixel_taps t{oh * g.p.stride_h - g.p.pad_top, 0, 0, 0, 0, g.kw_n};
    inside_columns(t.ih0, g.p.dilation_h, g.h, g.kh_n, t.kh_lo, t.kh_hi);
    for (index_t ow = 0; ow < g.ow_n;) {
        t.iw0 = ow * g.p.stride_w - g.p.pad_left;
        const index_t group = ow < ow_lo ? 1 : ow + 3 < ow_hi ? 4 : ow + 1 < ow_hi ? 2 : 1;
        t.kw_lo = 0, t.kw_hi = g.kw_n;
        if (group == 1) inside_columns(t.iw0, g.p.dilation_w, g.w, g.kw_n, t.kw_lo, t.kw_hi);
        if (group == 4)
            dw_pixels<4>(g, img, taps, t, pad, out + ow * g.c);
        else if (group == 2)
            dw_pixels<2>(g, img, taps, t, pad, out + ow * g.c);
        else
            dw_pixels<1>(g, img, taps, t, pad, out + ow * g.c);
        ow += group;
    }
}

// Output row oh of one image, channels [c0, C) alone, one pixel at a time in plain loops: the
// channels past the last whole batch of a row the vector row kernels took.
template <class X, class Y>
void dw_nhwc_row_channels(const dw_nhwc_geometry& g, const X* img, const X* taps, index_t oh, index_t c0, X pad,
                          Y* out) noexcept {
    dw_pixel_taps t{oh * g.p.stride_h - g.p.pad_top, 0, 0, 0, 0, g.kw_n};
    inside_columns(t.ih0, g.p.dilation_h, g.h, g.kh_n, t.kh_lo, t.kh_hi);
    for (index_t ow = 0; ow < g.ow_n; ++ow, out += g.c) {
        t.iw0 = ow * g.p.stride_w - g.p.pad_left;
        t.kw_lo = 0, t.kw_hi = g.kw_n;
        inside_columns(t.iw0, g.p.dilation_w, g.w, g.kw_n, t.kw_lo, t.kw_hi);
        for (index_t c = c0; c < g.c; c += 16) dw_pixel_tail(g, img, taps, t, c, std::min<index_t>(16, g.c - c), pad, out);
    }
}

// Checks the shapes, then runs row(task, n, oh, ow_lo, ow_hi) over every output row of every
// image, the rows split over threads as `split` says (task: which of split.tasks runs the row).
template <class F>
status dw_nhwc_rows(const context& ctx, const range_split& split, const extents_t<4>& x_ext, index_t kh, index_t kw,
                    const conv2d_params& p, const extents_t<4>& y_ext, const char* op, dw_nhwc_geometry& g,
                    F&& row) noexcept {
    auto out = conv2d_output(x_ext, {x_ext[1], 1, kh, kw}, p);  // p.groups must be C: depthwise
    if (!out) return out.error();
    if (*out != y_ext) {
        char a[64], b[64];
        return status(errc::shape_mismatch, "%s: the output is %s, y is %s", op, format_extents(*out, a, sizeof a),
                      format_extents(y_ext, b, sizeof b));
    }
    g.h = x_ext[2], g.w = x_ext[3], g.c = x_ext[1], g.oh_n = y_ext[2], g.ow_n = y_ext[3], g.kh_n = kh, g.kw_n = kw,
    g.p = p;
    // the output columns whose first and last taps both lie inside the image: every tap does
    index_t lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0;
    inside_columns(-p.pad_left, p.stride_w, g.w, g.ow_n, lo0, hi0);
    inside_columns((kw - 1) * p.dilation_w - p.pad_left, p.stride_w, g.w, g.ow_n, lo1, hi1);
    const index_t ow_lo = std::max(lo0, lo1), ow_hi = std::max(ow_lo, std::min(hi0, hi1));
    parallel_range(ctx, split, [&](index_t task, index_t begin, index_t end) {
        for (index_t r = begin; r < end; ++r) row(task, r / g.oh_n, r % g.oh_n, ow_lo, ow_hi);
    });
    return status::success();
}

#if defined(SPARQ_DW_S8_AVX512VNNI)
// Output row oh of one image as the AVX512-VNNI row kernel takes it.
inline xsimd::avx512vnni::dw_row_s8 dw_vnni_row(const dw_nhwc_geometry& g, const std::int8_t* img,
                                                const std::int8_t* taps, index_t oh, index_t ow_lo, index_t ow_hi,
                                                std::int8_t pad) noexcept {
    xsimd::avx512vnni::dw_row_s8 r{};
    r.img = img, r.taps = taps, r.w = g.w, r.c = g.c, r.ow_n = g.ow_n, r.kh_n = g.kh_n, r.kw_n = g.kw_n;
    r.stride_w = g.p.stride_w, r.dilation_h = g.p.dilation_h, r.dilation_w = g.p.dilation_w, r.pad_left = g.p.pad_left;
    r.ih0 = oh * g.p.stride_h - g.p.pad_top, r.ow_lo = ow_lo, r.ow_hi = ow_hi, r.zero_point = pad;
    inside_columns(r.ih0, g.p.dilation_h, g.h, g.kh_n, r.kh_lo, r.kh_hi);
    return r;
}
#endif

// What conv2d_impl counts for the same depthwise layer: C output channels of KH * KW taps,
// int8 as conv2d_s8 (its int32 sums are the convolution's output).
inline void count_dw_nhwc(const context& ctx, dtype t, dtype y, const extents_t<4>& x_ext, const extents_t<4>& y_ext,
                          index_t taps) noexcept {
    const auto elements = [](const extents_t<4>& e) { return std::uint64_t(e[0] * e[1] * e[2] * e[3]); };
    energy::count_conv(ctx.energy, t, t, t, y, elements(x_ext), elements(y_ext), std::uint64_t(x_ext[1]),
                       std::uint64_t(taps));
}

}  // namespace detail

// y [N, OH, OW, C] = act(depthwise conv of x [N, H, W, C] with taps + bias[c]) (bias may be empty).
// Shapes in NCHW extents (x_ext = {N, C, H, W}, y_ext = {N, C, OH, OW}, as conv2d_output gives
// them, p.groups == C); data pointers contiguous channels-last. Any stride, padding, dilation.
// Needs no scratch. Rows split over ctx.threads. Counts the convolution as conv2d does (the bias
// adds are the caller's), once, on the calling thread.
inline status dwconv2d_nhwc(const context& ctx, const float* x, const extents_t<4>& x_ext, const float* taps,
                            index_t kh, index_t kw, const conv2d_params& p, const std::vector<float>& bias,
                            activation act, float* y, const extents_t<4>& y_ext) noexcept {
    const index_t c_n = x_ext[1];
    if (!bias.empty() && index_t(bias.size()) != c_n)
        return status(errc::shape_mismatch, "dwconv2d_nhwc: %zu biases for %td channels", bias.size(), c_n);
    detail::dw_nhwc_geometry g{};
    // the stage in registers (without bias or activation, y + 0.0f would be y: a sum from +0 is never -0)
    g.float_stage = !bias.empty() || act != activation::none;
    g.bias = bias.empty() ? nullptr : bias.data(), g.act = act;
    const range_split split = detail::dw_nhwc_split(parallel_range_threads(ctx), y_ext, kh * kw, detail::dw_nhwc_max_tasks);
#if defined(SPARQ_MATMUL_XSIMD)
    // 3x3 and 5x5 (mobilenet's, efficientnet's): the weights in registers, fused multiply-adds;
    // the scalar backend keeps the reference's bits
    if (((kh == 3 && kw == 3) || (kh == 5 && kw == 5)) && detail::use_simd(ctx) && ctx.preferred != backend::scalar) {
        using A = ::xsimd::default_arch;
        constexpr index_t L = index_t(::xsimd::batch<float, A>::size);
        const index_t whole = c_n / L * L;
        xsimd::dw_f32_row_args a{x, x_ext[2], x_ext[3], c_n, y_ext[3], p, g.bias, act, g.float_stage};
        const auto row = [&](index_t, index_t n, index_t oh, index_t ow_lo, index_t ow_hi) {
            float* out = y + (n * g.oh_n + oh) * g.ow_n * c_n;
            xsimd::dw_f32_row_args img = a;
            img.img = x + n * g.h * g.w * c_n;
            if (kh == 3)
                xsimd::dw_f32_row<A, 3, 3>(img, taps, oh, ow_lo, ow_hi, whole, out);
            else
                xsimd::dw_f32_row<A, 5, 5>(img, taps, oh, ow_lo, ow_hi, whole, out);
            if (whole < c_n) detail::dw_nhwc_row_channels(g, img.img, taps, oh, whole, 0.0f, out);
        };
        SPARQ_TRY(detail::dw_nhwc_rows(ctx, split, x_ext, kh, kw, p, y_ext, "dwconv2d_nhwc", g, row));
        detail::count_dw_nhwc(ctx, dtype::f32, dtype::f32, x_ext, y_ext, kh * kw);
        return status::success();
    }
#endif
    const auto row = [&](index_t, index_t n, index_t oh, index_t ow_lo, index_t ow_hi) {
        const float* img = x + n * g.h * g.w * c_n;
        detail::dw_nhwc_row(g, img, taps, oh, ow_lo, ow_hi, 0.0f, y + (n * g.oh_n + oh) * g.ow_n * c_n);
    };
    SPARQ_TRY(detail::dw_nhwc_rows(ctx, split, x_ext, kh, kw, p, y_ext, "dwconv2d_nhwc", g, row));
    detail::count_dw_nhwc(ctx, dtype::f32, dtype::f32, x_ext, y_ext, kh * kw);
    return status::success();
}

// int8: x codes, padding = zero_point (the activations' code of 0.0), exact int32 sums, then the
// requant stage per channel (stage column = channel): Out = int8_t codes (requantized) or float
// (dequantized). Takes dwconv2d_nhwc_scratch_bytes(y_ext, ctx.threads, kh, kw) from ctx.scratch:
// a row of sums per task (a smaller arena runs fewer tasks, down to one row on one thread).
// Counts the convolution exactly as conv2d_s8 does (int32 outputs), the stage is the caller's.
template <class Out>
status dwconv2d_nhwc_s8(const context& ctx, const std::int8_t* x, const extents_t<4>& x_ext, const std::int8_t* taps,
                        index_t kh, index_t kw, const conv2d_params& p, std::int8_t zero_point, const requant_stage& st,
                        Out* y, const extents_t<4>& y_ext) noexcept {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, float>,
                  "dwconv2d_nhwc_s8 writes int8_t codes or float");
    const index_t c_n = x_ext[1];
    if (kh * kw > max_s8_reduction / 2)
        return status(errc::overflow, "dwconv2d_nhwc_s8: %td taps could overflow int32", kh * kw);
    SPARQ_TRY(detail::check_stage(st, c_n, "dwconv2d_nhwc_s8"));
    // a row of sums per task, as many tasks as the arena holds rows for (after up to 63 bytes of
    // alignment: dwconv2d_nhwc_scratch_bytes allows for them)
    const std::size_t row_bytes = detail::dw_nhwc_row_bytes(y_ext);
    SPARQ_TRY(ctx.require_scratch(row_bytes, "dwconv2d_nhwc_s8 (a row of int32 sums)"));
    const std::size_t room = ctx.scratch->available() > 63 ? ctx.scratch->available() - 63 : 0;
    const index_t fit = index_t(std::min<std::size_t>(room / row_bytes, std::size_t(detail::dw_nhwc_max_tasks)));
    const range_split split = detail::dw_nhwc_split(parallel_range_threads(ctx), y_ext, kh * kw, std::max<index_t>(fit, 1));
    arena::scope keep(*ctx.scratch);
    auto* rows = static_cast<std::byte*>(ctx.scratch->allocate(std::size_t(split.tasks) * row_bytes, 64));
    if (!rows) return status(errc::out_of_memory, "dwconv2d_nhwc_s8: the arena is too small for a row of int32 sums");
#if defined(SPARQ_MATMUL_XSIMD)
    const bool simd = detail::use_simd(ctx) && ctx.preferred != backend::scalar;
#endif
    detail::dw_nhwc_geometry g{};
#if defined(SPARQ_DW_S8_AVX512VNNI)
    // AVX512-VNNI: the sums from its row kernel; float_scale to codes fused into it, the other
    // stages on its row of sums as below
    namespace vnni = xsimd::avx512vnni;
    // (only where no sum + offset can overflow: a saturating variant of every row kernel would
    // double their code, which GCC compiles in every translation unit, for offsets no real
    // layer has; those take the row of sums and the stage below)
    using unsaturated_sink = vnni::dw_float_scale_sink<std::int8_t>;
    const auto sums_row = vnni::pick_dw_row<vnni::dw_sums_sink>(kh, kw, p.stride_w, p.dilation_w);
    const bool fits = std::is_same_v<Out, std::int8_t> && st.rounding == quant::requant_rounding::float_scale &&
                      stage_sums_fit(st, kh * kw);
    const auto unsaturated_row = fits ? vnni::pick_dw_row<unsaturated_sink>(kh, kw, p.stride_w, p.dilation_w) : nullptr;
#endif
    status stage[detail::dw_nhwc_max_tasks];  // a task's first failure (the stage refusing its shapes)
    const auto row = [&](index_t task, index_t n, index_t oh, index_t ow_lo, index_t ow_hi) {
        if (!stage[task].ok()) return;
        const std::int8_t* img = x + n * g.h * g.w * c_n;
        Out* out = y + (n * g.oh_n + oh) * g.ow_n * c_n;
        auto* sums = reinterpret_cast<std::int32_t*>(rows + std::size_t(task) * row_bytes);
#if defined(SPARQ_DW_S8_AVX512VNNI)
        if (simd) {
            const vnni::dw_row_s8 r = detail::dw_vnni_row(g, img, taps, oh, ow_lo, ow_hi, zero_point);
            if constexpr (std::is_same_v<Out, std::int8_t>) {
                if (unsaturated_row) return unsaturated_row(r, unsaturated_sink{st, out, c_n});
            }
            sums_row(r, vnni::dw_sums_sink{sums, c_n});
        } else
#endif
            detail::dw_nhwc_row(g, img, taps, oh, ow_lo, ow_hi, zero_point, sums);
        // the stage on the row of sums, still in L1: [OW, C], a column per channel
#if defined(SPARQ_MATMUL_XSIMD)
        if (simd) {
            if constexpr (std::is_same_v<Out, float>)
                xsimd::dequant_tile<::xsimd::default_arch>(st, sums, c_n, g.ow_n, 0, c_n, out, c_n);
            else
                xsimd::requant_tile<::xsimd::default_arch, Out>(st, sums, c_n, g.ow_n, 0, c_n, out, c_n);
            return;
        }
#endif
        const matrix_view<const std::int32_t> s(sums, {g.ow_n, c_n});
        const matrix_view<Out> o(out, {g.ow_n, c_n});
        if constexpr (std::is_same_v<Out, float>)
            stage[task] = apply_dequant(st, s, o);
        else
            stage[task] = apply_requant(st, s, o);
    };
    SPARQ_TRY(detail::dw_nhwc_rows(ctx, split, x_ext, kh, kw, p, y_ext, "dwconv2d_nhwc_s8", g, row));
    for (index_t t = 0; t < split.tasks; ++t) SPARQ_TRY(stage[t]);
    detail::count_dw_nhwc(ctx, dtype::s8, dtype::s32, x_ext, y_ext, kh * kw);
    return status::success();
}

}  // namespace sparq::kernels

SPARQ_INTRINSICS_END
