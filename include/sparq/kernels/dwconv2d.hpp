// dwconv2d: a depthwise convolution (groups == C == O: each output channel reads its own input
// channel), direct, NCHW. A GEMM has nothing to do here (N = 1 per group), and the reference's
// per-tap bounds test made mobilenet's depthwise layers most of its time. Instead each output row
// accumulates its taps one after the other as whole-row multiply-adds, over the output columns
// whose input column lies inside the image: borders are clipped out of the loop, not tested per
// tap, so the inner loop is a plain axpy (contiguous at stride 1) the compiler vectorises.
//
// Every output gets its taps' products added in the reference's order (kh, then kw), and taps
// in the padding add pad * w as the reference does: float results are the reference's bit for
// bit (built without FP contraction, as sparq is), int8 x int8 -> int32 sums are exact.
#pragma once

#include <algorithm>

#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/conv2d_params.hpp"

namespace sparq::kernels {

namespace detail {

// The output columns [lo, hi) whose input column ow * stride + offset lies in [0, width).
inline void inside_columns(index_t offset, index_t stride, index_t width, index_t out_width, index_t& lo,
                           index_t& hi) noexcept {
    // ow * stride + offset >= 0  <=>  ow >= ceil(-offset / stride)
    lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    // ow * stride + offset <= width - 1  <=>  ow <= floor((width - 1 - offset) / stride)
    hi = width - 1 - offset < 0 ? 0 : (width - 1 - offset) / stride + 1;
    lo = std::min(lo, out_width);
    hi = std::clamp(hi, lo, out_width);
}

}  // namespace detail

// y [N, C, OH, OW] = the depthwise convolution of x [N, C, H, W] with w [C, 1, KH, KW] (any
// stride, padding, dilation), padded positions holding `pad` (int8: the activations' zero
// point). X, W: float, or int8 with Y int32. x and y must be contiguous along W (stride 1);
// the caller checked the shapes (conv2d_output).
template <class X, class W, class Y>
void dwconv2d(const tensor_view<const X, 4>& x, const tensor_view<const W, 4>& w, const conv2d_params& p,
              const tensor_view<Y, 4>& y, X pad = X(0)) noexcept {
    const index_t h = x.extent(2), width = x.extent(3), oh_n = y.extent(2), ow_n = y.extent(3);
    const index_t kh_n = w.extent(2), kw_n = w.extent(3), s = p.stride_w;
    for (index_t n = 0; n < y.extent(0); ++n)
        for (index_t c = 0; c < y.extent(1); ++c) {
            const X* plane = &x(n, c, 0, 0);
            for (index_t oh = 0; oh < oh_n; ++oh) {
                Y* yr = &y(n, c, oh, 0);
                for (index_t ow = 0; ow < ow_n; ++ow) yr[ow] = Y(0);
                for (index_t kh = 0; kh < kh_n; ++kh) {
                    const index_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
                    const bool row_in = ih >= 0 && ih < h;
                    const X* xr = row_in ? plane + ih * x.stride(2) : nullptr;
                    for (index_t kw = 0; kw < kw_n; ++kw) {
                        const Y wv = Y(w(c, 0, kh, kw));
                        const Y padded = Y(pad) * wv;
                        const index_t offset = kw * p.dilation_w - p.pad_left;
                        index_t lo = 0, hi = 0;
                        if (row_in) detail::inside_columns(offset, s, width, ow_n, lo, hi);
                        for (index_t ow = 0; ow < lo; ++ow) yr[ow] += padded;
                        if (s == 1) {
                            for (index_t ow = lo; ow < hi; ++ow) yr[ow] += Y(xr[ow + offset]) * wv;
                        } else {
                            for (index_t ow = lo; ow < hi; ++ow) yr[ow] += Y(xr[ow * s + offset]) * wv;
                        }
                        for (index_t ow = hi; ow < ow_n; ++ow) yr[ow] += padded;
                    }
                }
            }
        }
}

}  // namespace sparq::kernels
