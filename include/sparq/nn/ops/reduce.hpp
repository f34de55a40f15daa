// Reductions over sample dims of a batch of contiguous [C, H, W] samples: the mean over a set of
// dims (each kept with extent 1), and softmax along one dim. Sums in double.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "sparq/core/context.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/nn/op.hpp"

namespace sparq::nn::ops {

// y = the mean of x over the sample dims whose bit is set in `axes` (bit d: dim d), those dims
// kept with extent 1.
inline void reduce_mean(const context& ctx, const float* x, const sample_shape& xs, std::uint32_t axes, float* y, index_t batch) noexcept {
    const index_t r0 = axes & 1u ? xs[0] : 1, r1 = axes & 2u ? xs[1] : 1, r2 = axes & 4u ? xs[2] : 1;  // reduced extents
    const index_t o0 = xs[0] / r0, o1 = xs[1] / r1, o2 = xs[2] / r2;                                     // kept extents
    const index_t nx = xs[0] * xs[1] * xs[2], ny = o0 * o1 * o2;
    const double count = double(r0 * r1 * r2);
    for (index_t r = 0; r < batch; ++r) {
        const float* px = x + r * nx;
        float* py = y + r * ny;
        for (index_t c = 0; c < o0; ++c)
            for (index_t h = 0; h < o1; ++h)
                for (index_t w = 0; w < o2; ++w) {
                    double sum = 0;
                    for (index_t dc = 0; dc < r0; ++dc)
                        for (index_t dh = 0; dh < r1; ++dh) {
                            const float* row = px + ((c + dc) * xs[1] + h + dh) * xs[2] + w;
                            for (index_t dw = 0; dw < r2; ++dw) sum += double(row[dw]);
                        }
                    py[(c * o1 + h) * o2 + w] = float(sum / count);
                }
    }
    if (ctx.energy) {
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * nx));
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * ny));
        ctx.energy->add_adds(dtype::f32, std::uint64_t(batch * nx));
    }
}

// Softmax along sample dim `axis` (0..2) of each sample, max-subtracted: for a [F, 1, 1] vector
// and axis 0, over the whole sample.
inline void softmax_axis(const context& ctx, const float* x, float* y, const sample_shape& xs, int axis, index_t batch) noexcept {
    index_t outer = batch, inner = 1;
    for (int k = 0; k < axis; ++k) outer *= xs[std::size_t(k)];
    for (int k = axis + 1; k < 3; ++k) inner *= xs[std::size_t(k)];
    const index_t n = xs[std::size_t(axis)];
    for (index_t o = 0; o < outer; ++o)
        for (index_t j = 0; j < inner; ++j) {
            const float* xs_ = x + o * n * inner + j;
            float* ys_ = y + o * n * inner + j;
            float top = -std::numeric_limits<float>::infinity();
            for (index_t i = 0; i < n; ++i) top = xs_[i * inner] > top ? xs_[i * inner] : top;
            double sum = 0;
            for (index_t i = 0; i < n; ++i) sum += double(ys_[i * inner] = std::exp(xs_[i * inner] - top));
            for (index_t i = 0; i < n; ++i) ys_[i * inner] = float(double(ys_[i * inner]) / sum);
        }
    energy::count_elementwise(ctx.energy, dtype::f32, dtype::f32, std::uint64_t(batch * xs[0] * xs[1] * xs[2]));
}

}  // namespace sparq::nn::ops
