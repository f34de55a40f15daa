// Ops that move values without arithmetic, over a batch of contiguous [C, H, W] samples:
// constant padding, the transpose of a sample seen as 4 dims, concatenation along a sample dim.
// (Reshape and flatten move nothing: the same bytes under another shape.)
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/nn/op.hpp"

namespace sparq::nn::ops {

// y = x padded with `value`: pads before dims 0, 1, 2, then after them (op_params::pads);
// ys = xs + before + after. A negative pad crops that many values at that end (a slice).
inline void pad(const context& ctx, const float* x, const sample_shape& xs, const index_t* pads, float value, float* y, const sample_shape& ys,
                index_t batch) noexcept {
    const index_t nx = xs[0] * xs[1] * xs[2], ny = ys[0] * ys[1] * ys[2];
    // the input coordinates that land in the output, per dim: [lo, hi)
    index_t lo[3], hi[3];
    for (int k = 0; k < 3; ++k) {
        lo[k] = pads[k] < 0 ? -pads[k] : 0;
        hi[k] = ys[k] - pads[k] < xs[k] ? ys[k] - pads[k] : xs[k];
    }
    for (index_t r = 0; r < batch; ++r) {
        float* py = y + r * ny;
        for (index_t i = 0; i < ny; ++i) py[i] = value;
        const float* px = x + r * nx;
        for (index_t c = lo[0]; c < hi[0]; ++c)
            for (index_t h = lo[1]; h < hi[1]; ++h) {
                const float* from = px + (c * xs[1] + h) * xs[2];
                float* to = py + ((c + pads[0]) * ys[1] + h + pads[1]) * ys[2] + pads[2];
                for (index_t w = lo[2]; w < hi[2]; ++w) to[w] = from[w];
            }
    }
    if (ctx.energy) {
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * nx));
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * ny));
    }
}

// Each sample seen as the row-major dims[0..3], its dims permuted: output dim i is input dim
// perm[i] (op_params::dims, perm; a permutation of 0..3).
inline void transpose(const context& ctx, const float* x, const index_t* dims, const index_t* perm, float* y, index_t batch) noexcept {
    const index_t stride[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
    const index_t n = stride[0] * dims[0];
    const index_t e0 = dims[perm[0]], e1 = dims[perm[1]], e2 = dims[perm[2]], e3 = dims[perm[3]];
    const index_t s0 = stride[perm[0]], s1 = stride[perm[1]], s2 = stride[perm[2]], s3 = stride[perm[3]];
    for (index_t r = 0; r < batch; ++r) {
        const float* px = x + r * n;
        float* py = y + r * n;
        for (index_t i0 = 0; i0 < e0; ++i0)
            for (index_t i1 = 0; i1 < e1; ++i1)
                for (index_t i2 = 0; i2 < e2; ++i2) {
                    const float* from = px + i0 * s0 + i1 * s1 + i2 * s2;
                    for (index_t i3 = 0; i3 < e3; ++i3) *py++ = from[i3 * s3];
                }
    }
    energy::count_elementwise(ctx.energy, dtype::f32, dtype::f32, std::uint64_t(batch * n));
}

// y = the inputs joined along sample dim `axis` (0..2): parts[i] a batch of samples of shape
// shapes[i], equal to ys in every other dim.
inline void concat_axis(const context& ctx, const float* const* parts, const sample_shape* shapes, std::size_t count, int axis, float* y,
                        const sample_shape& ys, index_t batch) noexcept {
    index_t outer = 1, inner = 1;
    for (int k = 0; k < axis; ++k) outer *= ys[std::size_t(k)];
    for (int k = axis + 1; k < 3; ++k) inner *= ys[std::size_t(k)];
    const index_t ny = ys[0] * ys[1] * ys[2];
    for (index_t r = 0; r < batch; ++r) {
        float* out = y + r * ny;
        for (index_t o = 0; o < outer; ++o)
            for (std::size_t i = 0; i < count; ++i) {
                const index_t chunk = shapes[i][std::size_t(axis)] * inner;  // one outer slice of input i
                const float* in = parts[i] + r * outer * chunk + o * chunk;
                for (index_t j = 0; j < chunk; ++j) *out++ = in[j];
            }
    }
    energy::count_elementwise(ctx.energy, dtype::f32, dtype::f32, std::uint64_t(batch * ny));
}

}  // namespace sparq::nn::ops
