// matmul: the public entry. Checks shapes, picks a backend from the context, and adds the
// work to the context's energy counter. Y[M, N] = X[M, K] * W[N, K]^T.
// On a plain weight view: the scalar reference. On packed weights (pack once with
// pack_weights, run many times): xsimd where compiled in (fp32 FMA micro-kernel; int8 with
// AVX512-VNNI), else the scalar reference on the packed layout. Output stages (bias +
// activation, requantization, dequantization) are fused into the xsimd GEMMs' tiles. A backend that cannot do the
// op says so in a status, or falls back when the context allows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/dtype.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/core/thread_pool.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/pack.hpp"
#include "sparq/kernels/scalar/matmul.hpp"
#include "sparq/kernels/scalar/matmul_packed.hpp"
#if defined(SPARQ_WITH_XSIMD) && !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#include "sparq/kernels/xsimd/gemm_f32.hpp"
#include "sparq/kernels/xsimd/epilogue.hpp"
#include "sparq/kernels/xsimd/gemm_s8.hpp"
#include "sparq/kernels/xsimd/gemm_s8_amx.hpp"
#define SPARQ_MATMUL_XSIMD 1
#endif

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

// Whether the context lets this op run: the preferred backend has a kernel for it (`xsimd`
// says whether this op has an xsimd kernel in this build), or falling back is allowed.
inline status pick_backend(const context& ctx, const char* op, bool xsimd = false) noexcept {
    if (ctx.preferred == backend::automatic || ctx.preferred == backend::scalar || ctx.allow_fallback)
        return status::success();
    if (ctx.preferred == backend::xsimd && xsimd) return status::success();
    if (!backend_compiled(ctx.preferred)) return check_backend(ctx.preferred);
    return status(errc::unsupported, "%s: backend '%s' has no kernel for this op yet (allow fallback to use scalar)",
                  op, to_string(ctx.preferred));
}

// The exact work of one product: float16 / bfloat16 weights are widened and multiplied in f32
// (f32 MACs, fewer weight bytes); int8 and uint8 activations count as s8 MACs.
template <class W, class X, class Y>
void count(const context& ctx, index_t m, index_t n, index_t k) noexcept {
    constexpr dtype mac = std::is_same_v<X, float> ? dtype::f32 : dtype::s8;
    energy::count_gemm(ctx.energy, mac, dtype_of_v<W>, dtype_of_v<X>, dtype_of_v<Y>, std::uint64_t(m), std::uint64_t(n),
                       std::uint64_t(k));
}

}  // namespace detail

template <class W>
status matmul(const context& ctx, const matrix_view<const float>& x, const matrix_view<const W>& w,
              const matrix_view<float>& y) noexcept {
    SPARQ_TRY(detail::check_matmul(x, w, y));
    SPARQ_TRY(detail::pick_backend(ctx, "matmul"));
    scalar::matmul(x, w, y);
    detail::count<W, float, float>(ctx, x.extent(0), w.extent(0), x.extent(1));
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
    detail::count<std::int8_t, std::int8_t, std::int32_t>(ctx, x.extent(0), w.extent(0), x.extent(1));
    return status::success();
}

// ---- packed weights ----------------------------------------------------------------------

// The panel width the fastest compiled-in kernel wants (xsimd), or a fixed one for the scalar path.
constexpr index_t panel_width_f32() noexcept {
#if defined(SPARQ_MATMUL_XSIMD)
    return xsimd::gemm_f32_shape<::xsimd::default_arch>::nr;
#else
    return 16;
#endif
}
constexpr index_t panel_width_s8() noexcept {
#if defined(SPARQ_MATMUL_XSIMD) && defined(SPARQ_HAS_VNNI_GEMM)
    return xsimd::gemm_s8_nr;
#elif defined(SPARQ_MATMUL_XSIMD)
    return xsimd::gemm_s8_widen_shape<::xsimd::default_arch>::nr;
#else
    return 32;
#endif
}
// 4 consecutive k per column for a dot-product instruction (VNNI), else 1 (widening kernels).
constexpr index_t k_group_s8() noexcept {
#if defined(SPARQ_MATMUL_XSIMD) && !defined(SPARQ_HAS_VNNI_GEMM)
    return 1;
#else
    return 4;
#endif
}

inline result<packed_f32> pack_weights(const matrix_view<const float>& w) noexcept { return pack_f32(w, panel_width_f32()); }
// Float weights stored as float16 or bfloat16: pack_weights_as<float16>(w).
template <class T>
result<packed_weights<T>> pack_weights_as(const matrix_view<const float>& w) noexcept {
    return pack_float<T>(w, panel_width_f32());
}
inline result<packed_s8> pack_weights(const matrix_view<const std::int8_t>& w) noexcept {
    return pack_s8(w, panel_width_s8(), k_group_s8());
}

namespace detail {

// Runs body(p_begin, p_end) over the panels, split across ctx.threads threads (the shared
// pool, core/thread_pool.hpp) when the work is big enough to pay for waking them; on the calling
// thread otherwise.
template <class F>
void for_panels(const context& ctx, index_t panels, std::uint64_t macs, F&& body) {
    const index_t threads = macs >= (std::uint64_t(1) << 20) ? index_t(parallel_threads(ctx, panels)) : 1;
    if (threads <= 1) {
        body(0, panels);
        return;
    }
    const index_t per = (panels + threads - 1) / threads;
    parallel_for(ctx, threads, [&](index_t t) {
        const index_t b = t * per, e = std::min(panels, b + per);
        if (b < e) body(b, e);
    });
}

template <class X, class P, class Y>
status check_packed(const matrix_view<const X>& x, const P& w, const matrix_view<Y>& y, const char* op) noexcept {
    if (x.extent(1) != w.k || y.extent(0) != x.extent(0) || y.extent(1) != w.n) {
        char a[64], c[64];
        return status(errc::shape_mismatch, "%s: x %s, packed w [%td, %td] (as [N, K]) and y %s do not fit", op,
                      format_extents(x.extents(), a, sizeof a), w.n, w.k, format_extents(y.extents(), c, sizeof c));
    }
    if (w.nr <= 0 || w.data.size() != w.panels() * w.k_stride * w.nr)
        return status(errc::invalid_argument, "%s: the packed weights are not a packed layout (made by pack_weights?)", op);
    return status::success();
}
inline bool use_simd(const context& ctx) noexcept {
    return ctx.preferred == backend::automatic || ctx.preferred == backend::xsimd || ctx.allow_fallback;
}
}  // namespace detail

namespace detail {

// The packed float GEMM, with the float output stage when `bias` is not null (N floats or an
// empty vector): fused into the xsimd GEMM's tiles, or the scalar reference's second pass.
template <class W>
status matmul_packed(const context& ctx, const matrix_view<const float>& x, const packed_weights<W>& w,
                     const matrix_view<float>& y, const std::vector<float>* bias, activation act) noexcept {
    static_assert(std::is_same_v<W, float> || std::is_same_v<W, float16> || std::is_same_v<W, bfloat16>,
                  "float activations take float, float16 or bfloat16 weights; int8 weights go through matmul_s8");
    SPARQ_TRY(detail::check_packed(x, w, y, "matmul"));
    if (bias != nullptr && !bias->empty() && index_t(bias->size()) != w.n)
        return status(errc::shape_mismatch, "matmul: %zu biases for %td output columns", bias->size(), w.n);
#if defined(SPARQ_MATMUL_XSIMD)
    SPARQ_TRY(detail::pick_backend(ctx, "matmul", true));
#else
    SPARQ_TRY(detail::pick_backend(ctx, "matmul"));
#endif
#if defined(SPARQ_MATMUL_XSIMD)
    using arch = ::xsimd::default_arch;
    if (detail::use_simd(ctx) && w.nr == xsimd::gemm_f32_shape<arch>::nr && x.stride(1) == 1 && y.stride(1) == 1 &&
        ctx.preferred != backend::scalar) {
        const xsimd::f32_epilogue epi{bias != nullptr, bias != nullptr && !bias->empty() ? bias->data() : nullptr, act};
        detail::for_panels(ctx, w.panels(), std::uint64_t(x.extent(0)) * std::uint64_t(w.n) * std::uint64_t(w.k),
                           [&](index_t b, index_t e) { xsimd::gemm_f32<arch, W>(x, w, y, b, e, epi); });
    } else
#endif
    {
        scalar::matmul_packed(x, w, y);
        if (bias != nullptr) SPARQ_TRY(apply_bias_activation(y, *bias, act));
    }
    detail::count<W, float, float>(ctx, x.extent(0), w.n, x.extent(1));
    return status::success();
}

}  // namespace detail

// Float activations; weights packed as float, float16 or bfloat16 (fp32 arithmetic throughout).
template <class W>
status matmul(const context& ctx, const matrix_view<const float>& x, const packed_weights<W>& w,
              const matrix_view<float>& y) noexcept {
    return detail::matmul_packed(ctx, x, w, y, nullptr, activation::none);
}

// The same with the layer's output stage: y = act(x * w^T + bias); bias has N entries or is
// empty. The xsimd GEMM applies it to each tile in registers after its last K block (the same
// bits as apply_bias_activation on its result); the scalar backend runs it as a second pass.
template <class W>
status matmul(const context& ctx, const matrix_view<const float>& x, const packed_weights<W>& w,
              const std::vector<float>& bias, activation act, const matrix_view<float>& y) noexcept {
    return detail::matmul_packed(ctx, x, w, y, &bias, act);
}

// int8 x int8, or uint8 (asymmetric activations) x int8 -> exact int32 sums.
template <class X, class = std::enable_if_t<std::is_same_v<X, std::int8_t> || std::is_same_v<X, std::uint8_t>>>
status matmul_s8(const context& ctx, const matrix_view<const X>& x, const packed_s8& w,
                 const matrix_view<std::int32_t>& y) noexcept {
    SPARQ_TRY(detail::check_packed(x, w, y, "matmul_s8"));
    // The VNNI path shifts activations by +128: keep its intermediate sums inside int32 too.
    if (x.extent(1) > max_s8_reduction / 2)
        return status(errc::overflow, "matmul_s8: reduction length %td could overflow int32 (limit %td)",
                      x.extent(1), max_s8_reduction / 2);
#if defined(SPARQ_MATMUL_XSIMD)
    SPARQ_TRY(detail::pick_backend(ctx, "matmul_s8", true));
    if (detail::use_simd(ctx) && ctx.preferred != backend::scalar && x.stride(1) == 1 && y.stride(1) == 1) {
        using arch = ::xsimd::default_arch;
        if (w.k_group == 1 && w.nr == xsimd::gemm_s8_widen_shape<arch>::nr) {
            detail::for_panels(ctx, w.panels(), std::uint64_t(x.extent(0)) * std::uint64_t(w.n) * std::uint64_t(w.k),
                               [&](index_t b, index_t e) { xsimd::gemm_s8_widen<arch, X>(x, w, y, b, e); });
            detail::count<std::int8_t, X, std::int32_t>(ctx, x.extent(0), w.n, x.extent(1));
            return status::success();
        }
    }
#else
    SPARQ_TRY(detail::pick_backend(ctx, "matmul_s8"));
#endif
#if defined(SPARQ_MATMUL_XSIMD) && defined(SPARQ_HAS_VNNI_GEMM)
    {
        if (detail::use_simd(ctx) && w.nr == xsimd::gemm_s8_nr && w.k_group == 4 && x.stride(1) == 1 && y.stride(1) == 1 &&
            ctx.preferred != backend::scalar) {
            detail::for_panels(ctx, w.panels(), std::uint64_t(x.extent(0)) * std::uint64_t(w.n) * std::uint64_t(w.k),
                               [&](index_t b, index_t e) { xsimd::gemm_s8<X>(x, w, y, b, e); });
            detail::count<std::int8_t, X, std::int32_t>(ctx, x.extent(0), w.n, x.extent(1));
            return status::success();
        }
    }
#endif
    scalar::matmul_packed_s8(x, w, y);
    detail::count<std::int8_t, X, std::int32_t>(ctx, x.extent(0), w.n, x.extent(1));
    return status::success();
}

namespace detail {

// Whether linear_s8 fuses its stage into the GEMM for these operands: a SIMD kernel for w's
// layout, unit column strides, a reduction the fused kernels take.
inline bool linear_s8_fuses(const context& ctx, index_t k, const packed_s8& w, index_t x_col_stride, index_t y_col_stride) noexcept {
#if defined(SPARQ_MATMUL_XSIMD)
    if (k > max_s8_reduction / 2 || !use_simd(ctx) || ctx.preferred == backend::scalar || x_col_stride != 1 || y_col_stride != 1)
        return false;
    if (w.k_group == 1 && w.nr == xsimd::gemm_s8_widen_shape<::xsimd::default_arch>::nr) return true;
#if defined(SPARQ_HAS_VNNI_GEMM)
    if (w.k_group == 4 && w.nr == xsimd::gemm_s8_nr) return true;
#endif
#endif
    (void)ctx, (void)k, (void)w, (void)x_col_stride, (void)y_col_stride;
    return false;
}

}  // namespace detail

// An int8 fully connected layer in one call: int8 or uint8 activations, the stage from
// make_requant_stage, and Out = int8_t / uint8_t (requantized codes) or float (dequantized).
// On the xsimd path the stage is fused into the GEMM: each tile of int32 sums is turned into
// outputs while it is in L1 (no [M, N] int32 buffer, no arena needed), with the bits of the
// two-pass form. The scalar backend (and weights packed for another kernel) runs the reference:
// int32 sums in the context's arena, then apply_requant / apply_dequant.
// stage_col: the stage's columns [stage_col, stage_col + N) apply (a grouped convolution's group
// over the stage of all its output channels); only where detail::linear_s8_fuses, else 0.
template <class Out, class X, class = std::enable_if_t<std::is_same_v<X, std::int8_t> || std::is_same_v<X, std::uint8_t>>>
status linear_s8(const context& ctx, const matrix_view<const X>& x, const packed_s8& w, const requant_stage& st,
                 const matrix_view<Out>& y, index_t stage_col = 0) noexcept {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::uint8_t> || std::is_same_v<Out, float>,
                  "linear_s8 writes int8_t / uint8_t codes or float");
    SPARQ_TRY(detail::check_packed(x, w, y, "linear_s8"));
    const bool fuses = detail::linear_s8_fuses(ctx, x.extent(1), w, x.stride(1), y.stride(1));
    const index_t stage_n = index_t(st.offset.size());
    if (stage_col < 0) return status(errc::invalid_argument, "linear_s8: stage column %td", stage_col);
    if (stage_col == 0 && stage_n == w.n) {
        SPARQ_TRY(detail::check_stage(st, w.n, "linear_s8"));
    } else {  // a slice of the stage's columns
        if (stage_n < stage_col + w.n)
            return status(errc::shape_mismatch, "linear_s8: stage columns [%td, %td) of a stage prepared for %td", stage_col,
                          stage_col + w.n, stage_n);
        if (!fuses) return status(errc::invalid_argument, "linear_s8: a slice of the stage's columns needs the fused GEMM");
        SPARQ_TRY(detail::check_stage(st, stage_n, "linear_s8"));
    }
#if defined(SPARQ_MATMUL_XSIMD)
    if (fuses) {
        SPARQ_TRY(detail::pick_backend(ctx, "linear_s8", true));
        using arch = ::xsimd::default_arch;
        const bool fits = !std::is_same_v<Out, float> && stage_sums_fit(st, x.extent(1));
        const auto epi = [&](const std::int32_t* tile, index_t ldt, index_t m0, index_t rows, index_t n0, index_t cols) {
            Out* out = y.data() + m0 * y.stride(0) + n0;
            if constexpr (std::is_same_v<Out, float>)
                xsimd::dequant_tile<arch>(st, tile, ldt, rows, stage_col + n0, cols, out, y.stride(0));
            else
                xsimd::requant_tile<arch, Out>(st, tile, ldt, rows, stage_col + n0, cols, out, y.stride(0), fits);
        };
        const std::uint64_t macs = std::uint64_t(x.extent(0)) * std::uint64_t(w.n) * std::uint64_t(w.k);
        if (w.k_group == 1) {
            detail::for_panels(ctx, w.panels(), macs, [&](index_t b, index_t e) { xsimd::gemm_s8_widen_fused<arch, X>(x, w, epi, b, e); });
        } else {
#if defined(SPARQ_HAS_VNNI_GEMM)
#if defined(SPARQ_HAS_AMX_GEMM)
            if (xsimd::amx_usable())
                detail::for_panels(ctx, w.panels(), macs, [&](index_t b, index_t e) { xsimd::gemm_s8_fused_amx<X>(x, w, epi, b, e); });
            else
#endif
                detail::for_panels(ctx, w.panels(), macs, [&](index_t b, index_t e) { xsimd::gemm_s8_fused<X>(x, w, epi, b, e); });
#endif
        }
        // fused: the sums never leave the tile buffer; what is written is the stage's output
        detail::count<std::int8_t, X, Out>(ctx, x.extent(0), w.n, x.extent(1));
        return status::success();
    }
#endif
    SPARQ_TRY(ctx.require_scratch(std::size_t(x.extent(0) * w.n) * sizeof(std::int32_t) + 64, "linear_s8"));
    arena::scope keep(*ctx.scratch);
    auto acc = ctx.scratch->allocate_view<std::int32_t, 2>({x.extent(0), w.n});
    if (!acc) return acc.error();
    SPARQ_TRY(matmul_s8(ctx, x, w, *acc));
    if constexpr (std::is_same_v<Out, float>) return apply_dequant(st, acc->as_const(), y);
    else return apply_requant(st, acc->as_const(), y);
}

}  // namespace sparq::kernels
