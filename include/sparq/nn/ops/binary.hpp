// Binary elementwise ops (add, sub, mul, div, pow) with numpy broadcasting over the sample dims
// [C, H, W] of a batch. Each operand is a batch of samples or one sample shared by the whole
// batch (a node's constant). No division per element: equal shapes run flat, a per-channel
// [C, 1, 1] operand (a scale or a bias) runs one scalar per plane, a [1, 1, W] one (the same,
// channels-last) one row at a time, anything else with zero strides on the broadcast dims.
#pragma once

#include <cmath>
#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/nn/op.hpp"

namespace sparq::nn::ops {

// One operand: its data, its sample shape, and whether it holds a sample per batch row (else
// the same sample serves every row).
struct operand {
    const float* data;
    sample_shape shape;
    bool batched;
};

namespace detail {

template <class F>
void broadcast(F f, const operand& a, const operand& b, float* y, const sample_shape& ys, index_t batch) noexcept {
    const index_t n = ys[0] * ys[1] * ys[2];
    const index_t na = a.shape[0] * a.shape[1] * a.shape[2], nb = b.shape[0] * b.shape[1] * b.shape[2];
    for (index_t r = 0; r < batch; ++r) {
        const float* pa = a.data + (a.batched ? r * na : 0);
        const float* pb = b.data + (b.batched ? r * nb : 0);
        float* py = y + r * n;
        if (na == n && nb == n) {  // equal shapes
            for (index_t i = 0; i < n; ++i) py[i] = f(pa[i], pb[i]);
        } else if (na == n && b.shape[0] == ys[0] && nb == ys[0]) {  // x op per-channel
            const index_t plane = ys[1] * ys[2];
            for (index_t c = 0; c < ys[0]; ++c) {
                const float v = pb[c];
                for (index_t i = 0; i < plane; ++i) py[c * plane + i] = f(pa[c * plane + i], v);
            }
        } else if (nb == n && a.shape[0] == ys[0] && na == ys[0]) {  // per-channel op x
            const index_t plane = ys[1] * ys[2];
            for (index_t c = 0; c < ys[0]; ++c) {
                const float v = pa[c];
                for (index_t i = 0; i < plane; ++i) py[c * plane + i] = f(v, pb[c * plane + i]);
            }
        } else if (na == n && b.shape[0] == 1 && b.shape[1] == 1 && nb == ys[2]) {  // x op a vector along the last dim
            // (a channels-last feature map times a per-channel gate: unit strides, so it vectorises)
            for (index_t row = 0; row < ys[0] * ys[1]; ++row)
                for (index_t i = 0; i < ys[2]; ++i) py[row * ys[2] + i] = f(pa[row * ys[2] + i], pb[i]);
        } else if (nb == n && a.shape[0] == 1 && a.shape[1] == 1 && na == ys[2]) {  // a vector along the last dim op x
            for (index_t row = 0; row < ys[0] * ys[1]; ++row)
                for (index_t i = 0; i < ys[2]; ++i) py[row * ys[2] + i] = f(pa[i], pb[row * ys[2] + i]);
        } else {  // strides of 0 where an operand's extent is 1
            const index_t sa0 = a.shape[0] == 1 ? 0 : a.shape[1] * a.shape[2], sa1 = a.shape[1] == 1 ? 0 : a.shape[2], sa2 = a.shape[2] == 1 ? 0 : 1;
            const index_t sb0 = b.shape[0] == 1 ? 0 : b.shape[1] * b.shape[2], sb1 = b.shape[1] == 1 ? 0 : b.shape[2], sb2 = b.shape[2] == 1 ? 0 : 1;
            for (index_t c = 0; c < ys[0]; ++c)
                for (index_t h = 0; h < ys[1]; ++h) {
                    const float* ra = pa + c * sa0 + h * sa1;
                    const float* rb = pb + c * sb0 + h * sb1;
                    float* ry = py + (c * ys[1] + h) * ys[2];
                    for (index_t w = 0; w < ys[2]; ++w) ry[w] = f(ra[w * sa2], rb[w * sb2]);
                }
        }
    }
}

}  // namespace detail

// y [batch, ys] = a op b, kind one of add, sub, mul, div, pow (is_binary); ys the broadcast of
// the operands' shapes (shape_rules.hpp checked it).
inline void binary(const context& ctx, op kind, const operand& a, const operand& b, float* y, const sample_shape& ys, index_t batch) noexcept {
    switch (kind) {
        case op::sub: detail::broadcast([](float u, float v) { return u - v; }, a, b, y, ys, batch); break;
        case op::mul: detail::broadcast([](float u, float v) { return u * v; }, a, b, y, ys, batch); break;
        case op::div: detail::broadcast([](float u, float v) { return u / v; }, a, b, y, ys, batch); break;
        case op::pow: detail::broadcast([](float u, float v) { return std::pow(u, v); }, a, b, y, ys, batch); break;
        default: detail::broadcast([](float u, float v) { return u + v; }, a, b, y, ys, batch); break;  // add
    }
    if (ctx.energy) {
        const std::uint64_t n = std::uint64_t(batch * ys[0] * ys[1] * ys[2]);
        const auto size = [&](const operand& o) { return std::uint64_t(o.shape[0] * o.shape[1] * o.shape[2]) * (o.batched ? std::uint64_t(batch) : 1u); };
        ctx.energy->add_activations(dtype::f32, size(a) + size(b) + n);
        ctx.energy->add_adds(dtype::f32, n);  // one arithmetic op per output (mul, div, pow counted as an add's worth)
    }
}

}  // namespace sparq::nn::ops
