// conv2d parameters and output shape: NCHW activations, [O, C / groups, KH, KW] weights
// (PyTorch's and ONNX's layouts), stride, padding (top, left, bottom, right), dilation, groups.
#pragma once

#include "sparq/core/shape.hpp"
#include "sparq/core/status.hpp"

namespace sparq::kernels {

struct conv2d_params {
    index_t stride_h = 1, stride_w = 1;
    index_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    index_t dilation_h = 1, dilation_w = 1;
    index_t groups = 1;

    static conv2d_params same_padding(index_t pad, index_t stride = 1) noexcept {
        conv2d_params p;
        p.stride_h = p.stride_w = stride;
        p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
        return p;
    }
};

// The output extents [N, O, OH, OW] for input [N, C, H, W] and weights [O, C / groups, KH, KW],
// or a status naming what does not fit.
inline result<extents_t<4>> conv2d_output(const extents_t<4>& in, const extents_t<4>& w, const conv2d_params& p) noexcept {
    if (p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1 || p.groups < 1 || p.pad_top < 0 ||
        p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0)
        return status(errc::invalid_argument, "conv2d: strides, dilations and groups must be >= 1, padding >= 0");
    if (in[1] % p.groups || w[0] % p.groups)
        return status(errc::shape_mismatch, "conv2d: %td input and %td output channels do not split into %td groups",
                      in[1], w[0], p.groups);
    if (w[1] != in[1] / p.groups)
        return status(errc::shape_mismatch, "conv2d: weights take %td channels per group, the input has %td (%td groups)",
                      w[1], in[1] / p.groups, p.groups);
    const index_t eff_h = p.dilation_h * (w[2] - 1) + 1, eff_w = p.dilation_w * (w[3] - 1) + 1;
    const index_t h = in[2] + p.pad_top + p.pad_bottom, wd = in[3] + p.pad_left + p.pad_right;
    if (w[2] < 1 || w[3] < 1 || eff_h > h || eff_w > wd)
        return status(errc::shape_mismatch, "conv2d: a %tdx%td kernel (dilated %tdx%td) does not fit a padded %tdx%td input",
                      w[2], w[3], eff_h, eff_w, h, wd);
    return extents_t<4>{in[0], w[0], (h - eff_h) / p.stride_h + 1, (wd - eff_w) / p.stride_w + 1};
}

}  // namespace sparq::kernels
