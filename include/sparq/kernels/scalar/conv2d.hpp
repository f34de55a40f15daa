// Reference conv2d: the definition, loop by loop (NCHW, any stride, padding, dilation, groups).
// Float or int8 x int8 -> int32. Padded positions hold `pad` (int8: the activations' zero point,
// the code of 0.0, so that the zero-point correction of a requantization stays exact at borders).
#pragma once

#include <cstdint>

#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/conv2d_params.hpp"

namespace sparq::kernels::scalar {

template <class X, class W, class Y>
void conv2d(const tensor_view<const X, 4>& x, const tensor_view<const W, 4>& w, const conv2d_params& p,
            const tensor_view<Y, 4>& y, X pad = X(0)) noexcept {
    const index_t cg = w.extent(1), og = w.extent(0) / p.groups;
    for (index_t n = 0; n < y.extent(0); ++n)
        for (index_t o = 0; o < y.extent(1); ++o) {
            const index_t g = o / og;
            for (index_t oh = 0; oh < y.extent(2); ++oh)
                for (index_t ow = 0; ow < y.extent(3); ++ow) {
                    Y acc = 0;
                    for (index_t c = 0; c < cg; ++c)
                        for (index_t kh = 0; kh < w.extent(2); ++kh) {
                            const index_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
                            const bool row_in = ih >= 0 && ih < x.extent(2);
                            for (index_t kw = 0; kw < w.extent(3); ++kw) {
                                const index_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
                                const X v = row_in && iw >= 0 && iw < x.extent(3) ? x(n, g * cg + c, ih, iw) : pad;
                                acc += Y(v) * Y(w(o, c, kh, kw));
                            }
                        }
                    y(n, o, oh, ow) = acc;
                }
        }
}

}  // namespace sparq::kernels::scalar
