// int4 weight-only matmul: float activations, weights as packed int4 codes (two per byte,
// quantize_int4's layout) with per-group (or per-channel / per-tensor) scales, dequantized group
// by group on the stack and multiplied in float. For LLM-style weight-only compression, where a
// matvec is bound by weight bytes: an eighth of fp32's, a quarter of fp16's.
#pragma once

#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/quantize.hpp"

namespace sparq::kernels {

// y[M, N] = x[M, K] * dequantize(w)[N, K]^T; w is [N, ceil(K / 2)] bytes, p its s4 qparams.
inline status matmul_int4(const context& ctx, const matrix_view<const float>& x, const matrix_view<const std::uint8_t>& w,
                          const quant::qparams& p, const matrix_view<float>& y) noexcept {
    const index_t M = x.extent(0), K = x.extent(1), N = w.extent(0);
    if (p.type != dtype::s4) return status(errc::dtype_mismatch, "matmul_int4: qparams are for %s, not s4", to_string(p.type));
    if (w.extent(1) != (K + 1) / 2 || y.extent(0) != M || y.extent(1) != N)
        return status(errc::shape_mismatch, "matmul_int4: x [%td, %td], packed w [%td, %td] (K = %td needs %td bytes a row), y [%td, %td]",
                      M, K, N, w.extent(1), K, (K + 1) / 2, y.extent(0), y.extent(1));
    SPARQ_TRY(p.check_for(extents_t<2>{N, K}));
    SPARQ_TRY(detail::quant_backend(ctx, "matmul_int4"));
    constexpr index_t chunk = 256;  // weights dequantized per step, on the stack
    float wide[chunk];
    for (index_t m = 0; m < M; ++m)
        for (index_t n = 0; n < N; ++n) y(m, n) = 0.0f;
    for (index_t n = 0; n < N; ++n) {
        const auto row = w.row(n);
        for (index_t k0 = 0; k0 < K; k0 += chunk) {
            const index_t len = K - k0 < chunk ? K - k0 : chunk;
            // One (scale, zero point) per run of the same group; nibbles decoded in a plain loop.
            const index_t run = p.gran == quant::granularity::per_group ? p.group_size
                                : (p.gran == quant::granularity::per_channel && p.axis == 1) ? 1
                                                                                              : K;
            for (index_t j = 0; j < len;) {
                const index_t k = k0 + j;
                const index_t end = (k / run + 1) * run - k0 < len ? (k / run + 1) * run - k0 : len;
                const auto step = detail::step_of(p, detail::param_index(p, n, k, K));
                const float zp = float(step.zero_point);
                for (; j < end; ++j) {
                    wide[j] = (float(int4_at(row, k0 + j)) - zp) * step.scale;
                }
            }
            for (index_t m = 0; m < M; ++m) {
                float acc = y(m, n);
                for (index_t j = 0; j < len; ++j) acc += x(m, k0 + j) * wide[j];
                y(m, n) = acc;
            }
        }
    }
    if (ctx.energy) {
        // Weight-only int4: f32 MACs; the weights are N rows of K nibbles plus a scale per group.
        const std::uint64_t w_bytes = std::uint64_t(N) * std::uint64_t((K + 1) / 2) + std::uint64_t(p.count()) * 4;
        const std::uint64_t w32 = std::uint64_t(N) * std::uint64_t(K) * 4;
        ctx.energy->add_macs(dtype::f32, std::uint64_t(M) * std::uint64_t(N) * std::uint64_t(K));
        ctx.energy->add_traffic(energy::traffic::weights, w_bytes, w_bytes, w32, w32);
        ctx.energy->add_activations(dtype::f32, std::uint64_t(x.size()));
        ctx.energy->add_activations(dtype::f32, std::uint64_t(y.size()));
    }
    return status::success();
}

}  // namespace sparq::kernels
