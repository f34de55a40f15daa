// PLACEHOLDER (replaced by the vectorised kernel): depthwise convolution on channels-last data.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/output_stage.hpp"

namespace sparq::kernels {

inline std::size_t dwconv2d_nhwc_scratch_bytes(const extents_t<4>& ye) noexcept { return std::size_t(ye[1] * ye[3]) * 4 + 64; }

namespace detail {
template <class X, class A, class Store>
void dw_nhwc_sums(const X* x, const extents_t<4>& xe, const X* taps, index_t kh_n, index_t kw_n, const conv2d_params& p, X pad,
                  const extents_t<4>& ye, A* row, Store&& store) noexcept {
    const index_t c_n = xe[1], h = xe[2], w = xe[3];
    for (index_t n = 0; n < ye[0]; ++n)
        for (index_t oh = 0; oh < ye[2]; ++oh) {
            for (index_t ow = 0; ow < ye[3]; ++ow) {
                A* acc = row + ow * c_n;
                for (index_t c = 0; c < c_n; ++c) acc[c] = A(0);
                for (index_t kh = 0; kh < kh_n; ++kh) {
                    const index_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
                    for (index_t kw = 0; kw < kw_n; ++kw) {
                        const index_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
                        const X* t = taps + (kh * kw_n + kw) * c_n;
                        if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                            for (index_t c = 0; c < c_n; ++c) acc[c] += A(pad) * A(t[c]);
                        else {
                            const X* in = x + ((n * h + ih) * w + iw) * c_n;
                            for (index_t c = 0; c < c_n; ++c) acc[c] += A(in[c]) * A(t[c]);
                        }
                    }
                }
            }
            store((n * ye[2] + oh) * ye[3], row);
        }
}
}  // namespace detail

inline status dwconv2d_nhwc(const context& ctx, const float* x, const extents_t<4>& xe, const float* taps, index_t kh, index_t kw,
                            const conv2d_params& p, const std::vector<float>& bias, activation act, float* y,
                            const extents_t<4>& ye) noexcept {
    const index_t c_n = ye[1];
    SPARQ_TRY(ctx.require_scratch(dwconv2d_nhwc_scratch_bytes(ye), "dwconv2d_nhwc"));
    arena::scope keep(*ctx.scratch);
    auto row = ctx.scratch->allocate_view<float, 2>({ye[3], c_n});
    if (!row) return row.error();
    detail::dw_nhwc_sums(x, xe, taps, kh, kw, p, 0.0f, ye, row->data(), [&](index_t m0, float* acc) {
        for (index_t m = 0; m < ye[3]; ++m)
            for (index_t c = 0; c < c_n; ++c)
                y[(m0 + m) * c_n + c] = activate(acc[m * c_n + c] + (bias.empty() ? 0.0f : bias[std::size_t(c)]), act);
    });
    energy::count_conv(ctx.energy, dtype::f32, dtype::f32, dtype::f32, dtype::f32, std::uint64_t(xe[0] * xe[1] * xe[2] * xe[3]),
                       std::uint64_t(ye[0] * ye[1] * ye[2] * ye[3]), std::uint64_t(c_n), std::uint64_t(kh * kw));
    return status::success();
}

template <class Out>
status dwconv2d_nhwc_s8(const context& ctx, const std::int8_t* x, const extents_t<4>& xe, const std::int8_t* taps, index_t kh, index_t kw,
                        const conv2d_params& p, std::int8_t zero_point, const requant_stage& st, Out* y, const extents_t<4>& ye) noexcept {
    const index_t c_n = ye[1];
    SPARQ_TRY(ctx.require_scratch(dwconv2d_nhwc_scratch_bytes(ye), "dwconv2d_nhwc_s8"));
    arena::scope keep(*ctx.scratch);
    auto row = ctx.scratch->allocate_view<std::int32_t, 2>({ye[3], c_n});
    if (!row) return row.error();
    status bad = status::success();
    // (the sums of one output row at a time; a placeholder writes them row by row)
    detail::dw_nhwc_sums(x, xe, taps, kh, kw, p, zero_point, ye, row->data(), [&](index_t m0, std::int32_t* acc) {
        const matrix_view<const std::int32_t> a(acc, {ye[3], c_n});
        const matrix_view<Out> out(y + m0 * c_n, {ye[3], c_n});
        status s = status::success();
        if constexpr (std::is_same_v<Out, float>) s = apply_dequant(st, a, out);
        else s = apply_requant(st, a, out);
        if (!s.ok()) bad = s;
    });
    energy::count_conv(ctx.energy, dtype::s8, dtype::s8, dtype::s8, dtype::s32, std::uint64_t(xe[0] * xe[1] * xe[2] * xe[3]),
                       std::uint64_t(ye[0] * ye[1] * ye[2] * ye[3]), std::uint64_t(c_n), std::uint64_t(kh * kw));
    return bad;
}

}  // namespace sparq::kernels
