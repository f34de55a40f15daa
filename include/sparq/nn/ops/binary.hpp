// Binary elementwise ops (add, sub, mul, div, pow) with numpy broadcasting over the sample dims
// [C, H, W] of a batch. Each operand is a batch of samples or one sample shared by the whole
// batch (a node's constant). Three loops, no division per element: equal shapes run flat, a
// per-channel [C, 1, 1] operand (a scale or a bias) runs one scalar per plane, anything else
// runs with zero strides on the broadcast dims. Threads split the outputs (core/parallel.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/core/parallel.hpp"
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

// y = f(a, b) over [batch, ys], split over ctx.threads in pieces of the loop each case runs:
// values for equal shapes (whole cache lines), planes for a per-channel operand, rows of the last
// dim otherwise. Each output is f of the same two inputs whatever the split.
template <class F>
void broadcast(const context& ctx, F f, const operand& a, const operand& b, float* y, const sample_shape& ys,
               index_t batch) noexcept {
    const index_t n = ys[0] * ys[1] * ys[2], plane = ys[1] * ys[2];
    const index_t na = a.shape[0] * a.shape[1] * a.shape[2], nb = b.shape[0] * b.shape[1] * b.shape[2];
    const auto pa = [&](index_t r) { return a.data + (a.batched ? r * na : 0); };  // row r's operands
    const auto pb = [&](index_t r) { return b.data + (b.batched ? r * nb : 0); };
    if (na == n && nb == n) {  // equal shapes: values [i, j) of the batch, row by row (2 units a value)
        parallel_range(ctx, batch * n, 2, [&](index_t i, index_t j) {
            for (index_t r = i / n; r * n < j; ++r) {
                const index_t lo = std::max(i - r * n, index_t(0)), hi = std::min(j - r * n, n);
                const float* ra = pa(r);
                const float* rb = pb(r);
                float* ry = y + r * n;
                for (index_t k = lo; k < hi; ++k) ry[k] = f(ra[k], rb[k]);
            }
        }, 16);
    } else if (na == n && b.shape[0] == ys[0] && nb == ys[0]) {  // x op per-channel: planes (r, c)
        parallel_range(ctx, batch * ys[0], std::uint64_t(plane), [&](index_t i, index_t j) {
            for (index_t rc = i; rc < j; ++rc) {
                const index_t r = rc / ys[0], c = rc % ys[0];
                const float v = pb(r)[c];
                const float* ra = pa(r) + c * plane;
                float* ry = y + rc * plane;
                for (index_t k = 0; k < plane; ++k) ry[k] = f(ra[k], v);
            }
        });
    } else if (nb == n && a.shape[0] == ys[0] && na == ys[0]) {  // per-channel op x: planes (r, c)
        parallel_range(ctx, batch * ys[0], std::uint64_t(plane), [&](index_t i, index_t j) {
            for (index_t rc = i; rc < j; ++rc) {
                const index_t r = rc / ys[0], c = rc % ys[0];
                const float v = pa(r)[c];
                const float* rb = pb(r) + c * plane;
                float* ry = y + rc * plane;
                for (index_t k = 0; k < plane; ++k) ry[k] = f(v, rb[k]);
            }
        });
    } else {  // strides of 0 where an operand's extent is 1: rows (r, c, h) of ys[2] values
        const index_t sa0 = a.shape[0] == 1 ? 0 : a.shape[1] * a.shape[2], sa1 = a.shape[1] == 1 ? 0 : a.shape[2], sa2 = a.shape[2] == 1 ? 0 : 1;
        const index_t sb0 = b.shape[0] == 1 ? 0 : b.shape[1] * b.shape[2], sb1 = b.shape[1] == 1 ? 0 : b.shape[2], sb2 = b.shape[2] == 1 ? 0 : 1;
        parallel_range(ctx, batch * ys[0] * ys[1], 2 * std::uint64_t(ys[2]), [&](index_t i, index_t j) {
            for (index_t row = i; row < j; ++row) {
                const index_t r = row / (ys[0] * ys[1]), c = row / ys[1] % ys[0], h = row % ys[1];
                const float* ra = pa(r) + c * sa0 + h * sa1;
                const float* rb = pb(r) + c * sb0 + h * sb1;
                float* ry = y + row * ys[2];
                if (sa2 == 1 && sb2 == 1)  // both along the row (a channels-last [1, 1, C] gate): vectorises
                    for (index_t w = 0; w < ys[2]; ++w) ry[w] = f(ra[w], rb[w]);
                else
                    for (index_t w = 0; w < ys[2]; ++w) ry[w] = f(ra[w * sa2], rb[w * sb2]);
            }
        });
    }
}

}  // namespace detail

// y [batch, ys] = a op b, kind one of add, sub, mul, div, pow (is_binary); ys the broadcast of
// the operands' shapes (shape_rules.hpp checked it).
inline void binary(const context& ctx, op kind, const operand& a, const operand& b, float* y, const sample_shape& ys, index_t batch) noexcept {
    switch (kind) {
        case op::sub: detail::broadcast(ctx, [](float u, float v) { return u - v; }, a, b, y, ys, batch); break;
        case op::mul: detail::broadcast(ctx, [](float u, float v) { return u * v; }, a, b, y, ys, batch); break;
        case op::div: detail::broadcast(ctx, [](float u, float v) { return u / v; }, a, b, y, ys, batch); break;
        case op::pow: detail::broadcast(ctx, [](float u, float v) { return std::pow(u, v); }, a, b, y, ys, batch); break;
        default: detail::broadcast(ctx, [](float u, float v) { return u + v; }, a, b, y, ys, batch); break;  // add
    }
    if (ctx.energy) {
        const std::uint64_t n = std::uint64_t(batch * ys[0] * ys[1] * ys[2]);
        const auto size = [&](const operand& o) { return std::uint64_t(o.shape[0] * o.shape[1] * o.shape[2]) * (o.batched ? std::uint64_t(batch) : 1u); };
        ctx.energy->add_activations(dtype::f32, size(a) + size(b) + n);
        ctx.energy->add_adds(dtype::f32, n);  // one arithmetic op per output (mul, div, pow counted as an add's worth)
    }
}

}  // namespace sparq::nn::ops
