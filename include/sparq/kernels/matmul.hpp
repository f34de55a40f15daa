// matmul: the public entry. Checks shapes, picks a backend from the context, and adds the
// work to the context's energy counter. Y[M, N] = X[M, K] * W[N, K]^T.
// Backends so far: scalar (always). Others say so in a status, or fall back when allowed.
#pragma once

#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/core/dtype.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/scalar/matmul.hpp"

namespace sparq::kernels {

// Longest reduction whose int8 x int8 sum is sure to fit int32: K * 128 * 128 < 2^31.
inline constexpr index_t max_s8_reduction = (index_t(1) << 31) / (128 * 128) - 1;

namespace detail {

template <class X, class W, class Y>
status check_matmul(const matrix_view<const X>& x, const matrix_view<const W>& w, const matrix_view<Y>& y) noexcept {
    if (x.extent(1) != w.extent(1) || y.extent(0) != x.extent(0) || y.extent(1) != w.extent(0)) {
        char a[64], b[64], c[64];
        return status(errc::shape_mismatch, "matmul: x %s, w %s (as [N, K]) and y %s do not fit",
                      format_extents(x.extents(), a, sizeof a), format_extents(w.extents(), b, sizeof b),
                      format_extents(y.extents(), c, sizeof c));
    }
    return status::success();
}

inline status pick_backend(const context& ctx, const char* op) noexcept {
    if (ctx.preferred == backend::automatic || ctx.preferred == backend::scalar || ctx.allow_fallback)
        return status::success();
    return status(errc::unsupported, "%s: backend '%s' has no kernel for this op yet (allow fallback to use scalar)",
                  op, to_string(ctx.preferred));
}

template <class T>
void count(const context& ctx, dtype precision, index_t m, index_t n, index_t k) noexcept {
    if (ctx.energy == nullptr) return;
    ctx.energy->add_macs(precision, std::uint64_t(m) * std::uint64_t(n) * std::uint64_t(k));
    ctx.energy->add_weight_bytes(std::uint64_t(n) * std::uint64_t(k) * sizeof(T));
}

}  // namespace detail

template <class W>
status matmul(const context& ctx, const matrix_view<const float>& x, const matrix_view<const W>& w,
              const matrix_view<float>& y) noexcept {
    SPARQ_TRY(detail::check_matmul(x, w, y));
    SPARQ_TRY(detail::pick_backend(ctx, "matmul"));
    scalar::matmul(x, w, y);
    // float16 / bfloat16 weights are widened and multiplied in float: f32 MACs, fewer bytes.
    detail::count<W>(ctx, dtype::f32, x.extent(0), w.extent(0), x.extent(1));
    if (ctx.energy) ctx.energy->add_activation_bytes(std::uint64_t(x.size() + y.size()) * sizeof(float));
    return status::success();
}

inline status matmul_s8(const context& ctx, const matrix_view<const std::int8_t>& x,
                        const matrix_view<const std::int8_t>& w, const matrix_view<std::int32_t>& y) noexcept {
    SPARQ_TRY(detail::check_matmul(x, w, y));
    if (x.extent(1) > max_s8_reduction)
        return status(errc::overflow, "matmul_s8: reduction length %td could overflow int32 (limit %td)",
                      x.extent(1), max_s8_reduction);
    SPARQ_TRY(detail::pick_backend(ctx, "matmul_s8"));
    scalar::matmul_s8(x, w, y);
    detail::count<std::int8_t>(ctx, dtype::s8, x.extent(0), w.extent(0), x.extent(1));
    if (ctx.energy) ctx.energy->add_activation_bytes(std::uint64_t(x.size()) + std::uint64_t(y.size()) * 4);
    return status::success();
}

}  // namespace sparq::kernels
