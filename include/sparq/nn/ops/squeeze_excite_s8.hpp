// The two ops of a squeeze-excitation block (MobileNet v3, EfficientNet) on int8 codes, so the
// block's big feature map stays int8 between the layers around it:
//   global_avg_pool_s8   codes [C, H, W] -> float [C]: each channel's mean, from exact integer
//                        sums: scale * (sum - zero_point * HW) / HW
//   channel_scale_s8     codes x [C, H, W] times a float gate [C] (per sample) -> codes of the
//                        output: clamp(round_half_even((x - z_x) * (s_x g[c] / s_y)) + z_y),
//                        ONNX QLinearMul's arithmetic with one operand in float
// Both for NCHW (channels_last false) and NHWC bytes. Plain float arithmetic in a fixed order,
// one definition used by every build and thread count; the inner loops run over contiguous
// values and vectorise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/core/shape.hpp"
#include "sparq/energy/counter.hpp"

namespace sparq::nn::ops {

namespace detail {
// Channels in blocks of this many, each block's per-channel values on the stack (no heap: the
// firmware runtime calls these too).
inline constexpr index_t se_block = 64;
}  // namespace detail

// y[b, c] = mean over the plane of channel c of x's codes, as floats; x [batch, C, plane]
// (NCHW) or [batch, plane, C] (NHWC).
inline void global_avg_pool_s8(const context& ctx, const std::int8_t* x, float scale, std::int32_t zero_point, index_t batch,
                               index_t channels, index_t plane, bool channels_last, float* y) noexcept {
    for (index_t b = 0; b < batch; ++b) {
        const std::int8_t* xb = x + b * channels * plane;
        for (index_t c0 = 0; c0 < channels; c0 += detail::se_block) {
            const index_t n = std::min(detail::se_block, channels - c0);
            std::int64_t sums[detail::se_block] = {};
            // (unit-stride inner loops, so they vectorise)
            if (channels_last)
                for (index_t i = 0; i < plane; ++i) {
                    const std::int8_t* px = xb + i * channels + c0;
                    for (index_t c = 0; c < n; ++c) sums[c] += px[c];
                }
            else
                for (index_t c = 0; c < n; ++c) {
                    const std::int8_t* plane_x = xb + (c0 + c) * plane;
                    std::int64_t s = 0;
                    for (index_t i = 0; i < plane; ++i) s += plane_x[i];
                    sums[c] = s;
                }
            for (index_t c = 0; c < n; ++c)
                y[b * channels + c0 + c] = scale * float(double(sums[c] - std::int64_t(zero_point) * plane) / double(plane));
        }
    }
    if (ctx.energy) {
        ctx.energy->add_activations(dtype::s8, std::uint64_t(batch * channels * plane));
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * channels));
        ctx.energy->add_adds(dtype::s32, std::uint64_t(batch * channels * plane));
    }
}

// y = x * gate, x codes [batch, C, plane] (NCHW) or [batch, plane, C] (NHWC) with (sx, zx),
// gate floats [batch, C], y codes with (sy, zy), int8.
inline void channel_scale_s8(const context& ctx, const std::int8_t* x, float sx, std::int32_t zx, const float* gate, index_t batch,
                             index_t channels, index_t plane, bool channels_last, std::int8_t* y, float sy, std::int32_t zy) noexcept {
    const float lo = float(-128 - zy), hi = float(127 - zy), fzx = float(zx);
    const auto code = [&](std::int8_t v, float kc) {
        float r = std::nearbyint((float(v) - fzx) * kc);
        r = !(r >= lo) ? lo : (r > hi ? hi : r);  // (NaN, from a non-finite gate, to lo)
        return std::int8_t(std::int32_t(r) + zy);
    };
    for (index_t b = 0; b < batch; ++b) {
        const std::int8_t* xb = x + b * channels * plane;
        std::int8_t* yb = y + b * channels * plane;
        for (index_t c0 = 0; c0 < channels; c0 += detail::se_block) {
            const index_t n = std::min(detail::se_block, channels - c0);
            float k[detail::se_block];
            for (index_t c = 0; c < n; ++c) k[c] = float(double(sx) * double(gate[b * channels + c0 + c]) / double(sy));
            if (channels_last)
                for (index_t i = 0; i < plane; ++i) {
                    const std::int8_t* px = xb + i * channels + c0;
                    std::int8_t* py = yb + i * channels + c0;
                    for (index_t c = 0; c < n; ++c) py[c] = code(px[c], k[c]);
                }
            else
                for (index_t c = 0; c < n; ++c) {
                    const std::int8_t* plane_x = xb + (c0 + c) * plane;
                    std::int8_t* plane_y = yb + (c0 + c) * plane;
                    const float kc = k[c];
                    for (index_t i = 0; i < plane; ++i) plane_y[i] = code(plane_x[i], kc);
                }
        }
    }
    if (ctx.energy) {
        ctx.energy->add_activations(dtype::s8, 2 * std::uint64_t(batch * channels * plane));
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * channels));
        ctx.energy->add_adds(dtype::f32, std::uint64_t(batch * channels * plane));  // one op an output, as ops::binary counts a mul
    }
}

}  // namespace sparq::nn::ops
