// conv2d: NCHW activations, [O, C / groups, KH, KW] weights, through im2col + the packed GEMM
// (weights packed once per group), or directly for depthwise convolutions (one input channel
// per output channel, where a GEMM would have N = 1). Float, or int8 x int8 -> int32.
// The im2col buffer comes from the context's arena: no allocation in the call.
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/dwconv2d.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/scalar/conv2d.hpp"
#include "sparq/kernels/transpose.hpp"

namespace sparq::kernels {

// The weights of each group as a [O / groups, C / groups * KH * KW] matrix, packed. Packed for
// NCHW activations (conv2d here: K in (c, kh, kw) order) or channels-last ones (conv2d_nhwc.hpp:
// K in (kh, kw, c) order, the order an NHWC im2col row holds; a depthwise convolution's taps
// instead, [KH * KW, C]). The layout is recorded: each kernel refuses weights packed for the other.
template <class T>
struct packed_conv {
    extents_t<4> extents{};  // [O, C / groups, KH, KW]
    index_t groups = 1;
    bool channels_last = false;
    std::vector<packed_weights<T>> per_group;  // (none for a channels-last depthwise convolution)
    tensor<T, 2> taps;                         // channels-last depthwise: [KH * KW, C]
    tensor<T, 4> original;  // kept for the direct (depthwise) path, the scalar reference and parts()
};

// Whether [O, C / groups, KH, KW] weights in `groups` groups are a depthwise convolution's.
inline bool is_depthwise(const extents_t<4>& w, index_t groups) noexcept { return w[1] == 1 && groups > 1 && w[0] == groups; }

template <class T>
result<packed_conv<T>> pack_conv_weights(const tensor_view<const T, 4>& w, index_t groups, bool channels_last = false) {
    if (groups < 1 || w.extent(0) % groups)
        return status(errc::invalid_argument, "conv2d weights: %td output channels do not split into %td groups",
                      w.extent(0), groups);
    packed_conv<T> p;
    p.extents = w.extents();
    p.groups = groups;
    auto copy = tensor<T, 4>::copy_of(w);
    if (!copy) return copy.error();
    p.original = std::move(*copy);
    p.channels_last = channels_last;
    const index_t og = w.extent(0) / groups, cg = w.extent(1), kh = w.extent(2), kw = w.extent(3), kg = cg * kh * kw;
    if (channels_last && is_depthwise(w.extents(), groups)) {
        auto taps = tensor<T, 2>::make({kh * kw, w.extent(0)});
        if (!taps) return taps.error();
        for (index_t c = 0; c < w.extent(0); ++c)
            for (index_t t = 0; t < kh * kw; ++t) (*taps)(t, c) = p.original.data()[c * kh * kw + t];
        p.taps = std::move(*taps);
        return p;
    }
    std::vector<T> reordered;  // channels-last: each output's K as (kh, kw, c)
    if (channels_last) reordered.resize(std::size_t(w.size()));
    for (index_t g = 0; g < groups; ++g) {
        const T* src = p.original.data() + g * og * kg;
        if (channels_last) {
            T* dst = reordered.data() + g * og * kg;
            for (index_t o = 0; o < og; ++o)
                for (index_t c = 0; c < cg; ++c)
                    for (index_t t = 0; t < kh * kw; ++t) dst[o * kg + t * cg + c] = src[o * kg + c * kh * kw + t];
            src = dst;
        }
        auto packed = pack_weights(matrix_view<const T>(src, {og, kg}));
        if (!packed) return packed.error();
        p.per_group.push_back(std::move(*packed));
    }
    return p;
}

namespace detail {

// Rows = output pixels of image n, columns = (c, kh, kw) of group g: the GEMM's X. Each tap
// (c, kh, kw) fills its column over an output row at once, the columns whose input lies outside
// the image clipped out of the loop (as dwconv2d does) rather than tested per element; a
// pointwise convolution (1x1, stride 1, no padding) over contiguous planes is a transpose.
template <class X>
void im2col(const tensor_view<const X, 4>& x, index_t n, index_t g, index_t cg, index_t kh_n, index_t kw_n,
            const conv2d_params& p, index_t oh_n, index_t ow_n, X pad, X* cols) noexcept {
    const index_t kg = cg * kh_n * kw_n, h = x.extent(2), wd = x.extent(3), sh = x.stride(2), sw = x.stride(3);
    const X* image = x.data() + n * x.stride(0) + g * cg * x.stride(1);
    const bool pointwise = kh_n == 1 && kw_n == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 && p.pad_left == 0 &&
                           p.pad_bottom == 0 && p.pad_right == 0;
    if (pointwise && sw == 1 && sh == wd) {
        transpose(image, cg, h * wd, x.stride(1), cols, kg);  // [C, H * W] -> [H * W, C]
        return;
    }
    for (index_t oh = 0; oh < oh_n; ++oh) {
        X* block = cols + oh * ow_n * kg;  // this output row's pixels
        for (index_t c = 0, col = 0; c < cg; ++c) {
            const X* plane = image + c * x.stride(1);
            for (index_t kh = 0; kh < kh_n; ++kh) {
                const index_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
                const bool row_in = ih >= 0 && ih < h;
                const X* line = row_in ? plane + ih * sh : nullptr;
                for (index_t kw = 0; kw < kw_n; ++kw, ++col) {
                    const index_t offset = kw * p.dilation_w - p.pad_left;
                    index_t lo = 0, hi = 0;
                    if (row_in) inside_columns(offset, p.stride_w, wd, ow_n, lo, hi);
                    X* out = block + col;
                    for (index_t ow = 0; ow < lo; ++ow) out[ow * kg] = pad;
                    for (index_t ow = lo; ow < hi; ++ow) out[ow * kg] = line[(ow * p.stride_w + offset) * sw];
                    for (index_t ow = hi; ow < ow_n; ++ow) out[ow * kg] = pad;
                }
            }
        }
    }
}

template <class X, class W, class Y>
status conv2d_impl(const context& ctx, const tensor_view<const X, 4>& x, const packed_conv<W>& w, const conv2d_params& p,
                   const tensor_view<Y, 4>& y, X pad) noexcept {
    if (p.groups != w.groups)
        return status(errc::invalid_argument, "conv2d: weights were packed for %td groups, params say %td", w.groups, p.groups);
    if (w.channels_last) return status(errc::invalid_argument, "conv2d: the weights were packed for channels-last activations (conv2d_nhwc)");
    auto out = conv2d_output(x.extents(), w.extents, p);
    if (!out) return out.error();
    if (*out != y.extents()) {
        char a[64], b[64];
        return status(errc::shape_mismatch, "conv2d: the output is %s, y is %s", format_extents(*out, a, sizeof a),
                      format_extents(y.extents(), b, sizeof b));
    }
    const index_t cg = w.extents[1], og = w.extents[0] / p.groups, kh = w.extents[2], kw = w.extents[3];
    const index_t pixels = y.extent(2) * y.extent(3), kg = cg * kh * kw;
    const bool depthwise = cg == 1 && og == 1;
    if (pixels == 0 || (depthwise && (x.stride(3) != 1 || y.stride(3) != 1))) {
        scalar::conv2d(x, w.original.cview(), p, y, pad);  // padded with the zero point, as im2col does
    } else if (depthwise) {
        dwconv2d(x, w.original.cview(), p, y, pad);  // direct, row by row (dwconv2d.hpp)
    } else {
        const std::size_t bytes = std::size_t(pixels * kg) * sizeof(X) + std::size_t(pixels * og) * sizeof(Y) + 128;
        SPARQ_TRY(ctx.require_scratch(bytes, "conv2d (im2col)"));
        arena::scope keep(*ctx.scratch);
        auto cols = ctx.scratch->allocate_view<X, 2>({pixels, kg});
        auto pix = ctx.scratch->allocate_view<Y, 2>({pixels, og});
        if (!cols) return cols.error();
        if (!pix) return pix.error();
        context inner = ctx;
        inner.energy = nullptr;  // counted once below, as the convolution
        for (index_t n = 0; n < x.extent(0); ++n)
            for (index_t g = 0; g < p.groups; ++g) {
                im2col(x, n, g, cg, kh, kw, p, y.extent(2), y.extent(3), pad, cols->data());
                if constexpr (std::is_same_v<X, float>) SPARQ_TRY(matmul(inner, cols->as_const(), w.per_group[std::size_t(g)], *pix));
                else SPARQ_TRY(matmul_s8(inner, cols->as_const(), w.per_group[std::size_t(g)], *pix));
                // [pixels, O_g] back to NCHW: one output plane per channel
                if (y.stride(3) == 1 && y.stride(2) == y.extent(3)) {
                    transpose(pix->data(), pixels, og, pix->stride(0), &y(n, g * og, 0, 0), y.stride(1));
                } else {
                    for (index_t o = 0; o < og; ++o) {
                        const auto plane = y.select(0, n).select(0, g * og + o);  // [OH, OW]
                        for (index_t oh = 0, q = 0; oh < y.extent(2); ++oh)
                            for (index_t ow = 0; ow < y.extent(3); ++ow, ++q) plane(oh, ow) = (*pix)(q, o);
                    }
                }
            }
    }
    energy::count_conv(ctx.energy, std::is_same_v<X, float> ? dtype::f32 : dtype::s8, dtype_of_v<W>, dtype_of_v<X>,
                       dtype_of_v<Y>, std::uint64_t(x.size()), std::uint64_t(y.size()), std::uint64_t(w.extents[0]),
                       std::uint64_t(kg));
    return status::success();
}

}  // namespace detail

inline status conv2d(const context& ctx, const tensor_view<const float, 4>& x, const packed_conv<float>& w,
                     const conv2d_params& p, const tensor_view<float, 4>& y) noexcept {
    return detail::conv2d_impl(ctx, x, w, p, y, 0.0f);
}

// int8: padding takes the activations' zero point (the code of 0.0), int32 sums.
inline status conv2d_s8(const context& ctx, const tensor_view<const std::int8_t, 4>& x, const packed_conv<std::int8_t>& w,
                        const conv2d_params& p, const tensor_view<std::int32_t, 4>& y, std::int8_t zero_point = 0) noexcept {
    if (w.extents[1] * w.extents[2] * w.extents[3] > max_s8_reduction / 2)
        return status(errc::overflow, "conv2d_s8: reduction length %td could overflow int32",
                      w.extents[1] * w.extents[2] * w.extents[3]);
    return detail::conv2d_impl(ctx, x, w, p, y, zero_point);
}

}  // namespace sparq::kernels
