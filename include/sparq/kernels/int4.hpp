// int4 weight-only matmul: float activations, weights as packed int4 codes (two per byte,
// quantize_int4's layout) with per-group (or per-channel / per-tensor) scales, dequantized group
// by group on the stack and multiplied in float. For LLM-style weight-only compression, where a
// matvec is bound by weight bytes: an eighth of fp32's, a quarter of fp16's. With xsimd (and
// contiguous rows) the codes are unpacked and scaled in SIMD lanes and the dot products use
// FMA batches: the decoded weights are the scalar path's, only the summation order differs
// (|xsimd - exact| <= (2 ceil(K / L) + 4 L + 2) * 2^-24 * sum |x w|, L the float lanes; tested).
#pragma once

#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/quantize.hpp"
#if defined(SPARQ_QUANTIZE_XSIMD)
#include "sparq/kernels/xsimd/int4.hpp"
#endif

namespace sparq::kernels {

namespace detail {

// The loop nest of matmul_int4: y = 0, then for each weight row n and chunk of K, the chunk's
// codes decoded into `wide` one run of equal (scale, zero point) at a time with
// decode(row bytes, k, len, scale, zero point, out), then acc(m, n, k0, len) adds
// x[m, k0 .. k0 + len) . wide[0 .. len) to y(m, n) for every row m.
template <class Decode, class Acc>
void int4_chunks(const matrix_view<const float>& x, const matrix_view<const std::uint8_t>& w, const quant::qparams& p,
                 const matrix_view<float>& y, float* wide, index_t chunk, Decode&& decode, Acc&& acc) {
    const index_t M = x.extent(0), K = x.extent(1), N = w.extent(0);
    for (index_t m = 0; m < M; ++m)
        for (index_t n = 0; n < N; ++n) y(m, n) = 0.0f;
    // One (scale, zero point) per run of the same group.
    const index_t run = p.gran == quant::granularity::per_group ? p.group_size
                        : (p.gran == quant::granularity::per_channel && p.axis == 1) ? 1
                                                                                      : K;
    for (index_t n = 0; n < N; ++n) {
        const auto row = w.row(n);
        for (index_t k0 = 0; k0 < K; k0 += chunk) {
            const index_t len = K - k0 < chunk ? K - k0 : chunk;
            // runs of one (scale, zero point): the parameter index steps by one per run (no division per run)
            std::size_t at = std::size_t(param_index(p, n, k0, K));
            for (index_t j = 0, end = (k0 / run + 1) * run - k0; j < len; j = end, end += run, ++at) {
                const index_t stop = end < len ? end : len;
                decode(row, k0 + j, stop - j, p.scale[at], float(p.zero_point[at]), wide + j);
            }
            for (index_t m = 0; m < M; ++m) acc(m, n, k0, len);
        }
    }
}

}  // namespace detail

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
#if defined(SPARQ_QUANTIZE_XSIMD)
    if (detail::use_xsimd(ctx) && x.stride(1) == 1 && w.stride(1) == 1) {
        using arch = ::xsimd::default_arch;
        float wide[1024];  // a longer chunk: fewer horizontal sums per output
        detail::int4_chunks(x, w, p, y, wide, 1024,
                            [](const vector_view<const std::uint8_t>& row, index_t k, index_t len, float scale, float zp,
                               float* out) { xsimd::decode_int4<arch>(row.data(), k, len, scale, zp, out); },
                            [&](index_t m, index_t n, index_t k0, index_t len) {
                                y(m, n) += xsimd::dot<arch>(&x(m, k0), wide, len);
                            });
    } else
#endif
    {
        float wide[256];
        detail::int4_chunks(x, w, p, y, wide, 256,
                            [](const vector_view<const std::uint8_t>& row, index_t k, index_t len, float scale, float zp,
                               float* out) {
                                for (index_t j = 0; j < len; ++j) out[j] = (float(int4_at(row, k + j)) - zp) * scale;
                            },
                            [&](index_t m, index_t n, index_t k0, index_t len) {
                                float acc = y(m, n);
                                for (index_t j = 0; j < len; ++j) acc += x(m, k0 + j) * wide[j];
                                y(m, n) = acc;
                            });
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
