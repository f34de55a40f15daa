// quantize / dequantize / fake_quant of whole views with qparams (per tensor, per channel on any
// axis, per group), and int4 packing. The public entry: checks shapes, types and qparams,
// picks xsimd for contiguous rows when it is compiled in (and the context allows), the scalar
// reference otherwise; both give the same bits. quantize and dequantize split their values over
// ctx.threads (core/parallel.hpp): each value's code is the same whichever thread computes it.
#pragma once

#include <cstdint>
#include <type_traits>

#include "sparq/core/context.hpp"
#include "sparq/core/parallel.hpp"
#include "sparq/core/rows.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/scalar/quantize.hpp"
#include "sparq/quant/qparams.hpp"
#if defined(SPARQ_WITH_XSIMD) && !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#include "sparq/kernels/xsimd/quantize.hpp"
#define SPARQ_QUANTIZE_XSIMD 1
#endif

namespace sparq::kernels {

namespace detail {

template <class Q>
constexpr dtype code_dtype() noexcept {
    static_assert(std::is_same_v<Q, std::int8_t> || std::is_same_v<Q, std::uint8_t>, "codes are int8_t or uint8_t");
    return std::is_same_v<Q, std::int8_t> ? dtype::s8 : dtype::u8;
}

inline bool use_xsimd(const context& ctx) noexcept {
#if defined(SPARQ_QUANTIZE_XSIMD)
    return ctx.preferred == backend::automatic || ctx.preferred == backend::xsimd ||
           (ctx.preferred == backend::dnnl && ctx.allow_fallback);
#else
    (void)ctx;
    return false;
#endif
}

inline status quant_backend(const context& ctx, const char* op) noexcept {
    if (ctx.preferred == backend::automatic || ctx.preferred == backend::scalar || ctx.allow_fallback) {
        if (ctx.preferred == backend::xsimd && !backend_compiled(backend::xsimd) && !ctx.allow_fallback)
            return check_backend(backend::xsimd);
        return status::success();
    }
    if (ctx.preferred == backend::xsimd) return check_backend(backend::xsimd);
    return status(errc::unsupported, "%s: backend '%s' has no kernel for this op (allow fallback to use another)", op,
                  to_string(ctx.preferred));
}

inline scalar::quant_step step_of(const quant::qparams& p, index_t i) noexcept {
    return scalar::quant_step::make(p.scale[std::size_t(i)], p.zero_point[std::size_t(i)], p.qmin, p.qmax, p.round,
                                    p.scale_by);
}

template <class Q, class F>
status check_codes(const quant::qparams& p, const char* op, const F& extents_check) noexcept {
    if (p.type != code_dtype<Q>())
        return status(errc::dtype_mismatch, "%s: qparams are for %s, the codes are %s", op, to_string(p.type),
                      to_string(code_dtype<Q>()));
    return extents_check();
}

// Calls f(row_a, row_b, step) for each piece of rows that shares one (scale, zero point) (one
// element for a last-axis per-channel layout: a step per element), split over ctx.threads: runs
// of whole cache lines of one contiguous per-tensor view, whole rows otherwise. f runs on several
// threads at once, each piece once.
template <class A, class B, std::size_t Rank, class F>
void for_each_step(const context& ctx, const tensor_view<A, Rank>& a, const tensor_view<B, Rank>& b,
                   const quant::qparams& p, F&& f) {
    if (a.empty()) return;
    if (p.gran == quant::granularity::per_tensor && a.is_contiguous() && b.is_contiguous()) {
        const scalar::quant_step s = step_of(p, 0);
        parallel_range(ctx, a.size(), 1, [&](index_t i, index_t j) {
            f(vector_view<A>(a.data() + i, {j - i}, {1}), vector_view<B>(b.data() + i, {j - i}, {1}), s);
        }, 64);
        return;
    }
    const auto row = [&](const vector_view<A>& ra, const vector_view<B>& rb, const extents_t<Rank>& idx) {
        switch (p.gran) {
            case quant::granularity::per_tensor: f(ra, rb, step_of(p, 0)); break;
            case quant::granularity::per_channel:
                if (p.axis == int(Rank) - 1) {
                    for (index_t i = 0; i < ra.extent(0); ++i) f(ra.slice(0, i, i + 1), rb.slice(0, i, i + 1), step_of(p, i));
                } else {
                    f(ra, rb, step_of(p, row_index_along(idx, p.axis)));
                }
                break;
            case quant::granularity::per_group: {
                const index_t k = ra.extent(0), groups = p.groups_per_row(k);
                for (index_t g = 0; g < groups; ++g) {
                    const index_t from = g * p.group_size, to = from + p.group_size < k ? from + p.group_size : k;
                    f(ra.slice(0, from, to), rb.slice(0, from, to), step_of(p, idx[0] * groups + g));
                }
                break;
            }
        }
    };
    const index_t rows = sparq::detail::leading_rows(a.extents());
    parallel_range(ctx, rows, std::uint64_t(a.extent(Rank - 1)), [&](index_t i, index_t j) {
        for (index_t r = i; r < j; ++r) {
            const auto idx = sparq::detail::row_index(a.extents(), r);
            row(row_at(a, idx), row_at(b, idx), idx);
        }
    });
}

}  // namespace detail

// q = quantize(x) with qparams p (type s8 for int8_t codes, u8 for uint8_t).
template <class Q, std::size_t Rank>
status quantize(const context& ctx, const tensor_view<const float, Rank>& x, const quant::qparams& p,
                const tensor_view<Q, Rank>& q) noexcept {
    SPARQ_TRY(check_same_shape(x, q.as_const(), "quantize"));
    SPARQ_TRY(detail::check_codes<Q>(p, "quantize", [&] { return p.check_for(x.extents()); }));
    SPARQ_TRY(detail::quant_backend(ctx, "quantize"));
    const bool simd = detail::use_xsimd(ctx);
    detail::for_each_step(ctx, x, q, p, [&](const vector_view<const float>& rx, const vector_view<Q>& rq, const scalar::quant_step& s) {
#if defined(SPARQ_QUANTIZE_XSIMD)
        if (simd && rx.stride(0) == 1 && rq.stride(0) == 1)
            return xsimd::quantize_contiguous<::xsimd::default_arch>(rx.data(), rx.extent(0), s, rq.data());
#endif
        scalar::quantize_row(rx, s, rq);
    });
    (void)simd;
    energy::count_elementwise(ctx.energy, dtype::f32, dtype_of_v<Q>, std::uint64_t(x.size()));
    return status::success();
}

// x = dequantize(q) = (q - zero_point) * scale.
template <class Q, std::size_t Rank>
status dequantize(const context& ctx, const tensor_view<const Q, Rank>& q, const quant::qparams& p,
                  const tensor_view<float, Rank>& x) noexcept {
    SPARQ_TRY(check_same_shape(q, x.as_const(), "dequantize"));
    SPARQ_TRY(detail::check_codes<Q>(p, "dequantize", [&] { return p.check_for(q.extents()); }));
    SPARQ_TRY(detail::quant_backend(ctx, "dequantize"));
    const bool simd = detail::use_xsimd(ctx);
    detail::for_each_step(ctx, q, x, p, [&](const vector_view<const Q>& rq, const vector_view<float>& rx, const scalar::quant_step& s) {
#if defined(SPARQ_QUANTIZE_XSIMD)
        if (simd && rx.stride(0) == 1 && rq.stride(0) == 1)
            return xsimd::dequantize_contiguous<::xsimd::default_arch>(rq.data(), rq.extent(0), s, rx.data());
#endif
        scalar::dequantize_row(rq, s, rx);
    });
    (void)simd;
    energy::count_elementwise(ctx.energy, dtype::f32, dtype_of_v<Q>, std::uint64_t(x.size()));
    return status::success();
}

// y = dequantize(quantize(x)) in float, for quantization-aware training; mask (optional: pass
// an empty view) gets 1 where the straight-through gradient passes, 0 where x was clipped.
template <std::size_t Rank>
status fake_quant(const context& ctx, const tensor_view<const float, Rank>& x, const quant::qparams& p,
                  const tensor_view<float, Rank>& y, const tensor_view<std::uint8_t, Rank>& mask = {}) noexcept {
    SPARQ_TRY(check_same_shape(x, y.as_const(), "fake_quant"));
    const bool want_mask = mask.data() != nullptr || !mask.empty();  // a default (empty) view: no mask
    if (want_mask) SPARQ_TRY(check_same_shape(x, mask.as_const(), "fake_quant mask"));
    SPARQ_TRY(p.check_for(x.extents()));
    SPARQ_TRY(detail::quant_backend(ctx, "fake_quant"));
    const bool simd = detail::use_xsimd(ctx);
    // The mask rides along as a third view with the same rows.
    for_each_row(x, y, [&](const vector_view<const float>& rx, const vector_view<float>& ry, const extents_t<Rank>& idx) {
        const vector_view<std::uint8_t> rm = want_mask ? row_at(mask, idx) : vector_view<std::uint8_t>();
        auto run = [&](index_t from, index_t to, const scalar::quant_step& s) {
            const auto sx = rx.slice(0, from, to);
            const auto sy = ry.slice(0, from, to);
            const auto sm = want_mask ? rm.slice(0, from, to) : vector_view<std::uint8_t>();
#if defined(SPARQ_QUANTIZE_XSIMD)
            if (simd && sx.stride(0) == 1 && sy.stride(0) == 1 && (!want_mask || sm.stride(0) == 1))
                return xsimd::fake_quant_contiguous<::xsimd::default_arch>(sx.data(), sx.extent(0), s, sy.data(),
                                                                            want_mask ? sm.data() : nullptr);
#endif
            scalar::fake_quant_row(sx, s, sy, sm);
        };
        const index_t k = rx.extent(0);
        switch (p.gran) {
            case quant::granularity::per_tensor: run(0, k, detail::step_of(p, 0)); break;
            case quant::granularity::per_channel:
                if (p.axis == int(Rank) - 1) {
                    for (index_t i = 0; i < k; ++i) run(i, i + 1, detail::step_of(p, i));
                } else {
                    run(0, k, detail::step_of(p, row_index_along(idx, p.axis)));
                }
                break;
            case quant::granularity::per_group: {
                const index_t groups = p.groups_per_row(k);
                for (index_t g = 0; g < groups; ++g)
                    run(g * p.group_size, (g + 1) * p.group_size < k ? (g + 1) * p.group_size : k,
                        detail::step_of(p, idx[0] * groups + g));
                break;
            }
        }
    });
    (void)simd;
    return status::success();
}

namespace detail {
// Which (scale, zero point) element (n, k) of a [N, K] matrix uses.
inline index_t param_index(const quant::qparams& p, index_t n, index_t k, index_t cols) noexcept {
    switch (p.gran) {
        case quant::granularity::per_group: return n * p.groups_per_row(cols) + k / p.group_size;
        case quant::granularity::per_channel: return p.axis == 0 ? n : k;
        case quant::granularity::per_tensor: return 0;
    }
    return 0;
}
}  // namespace detail

// int4 weights: codes in [qmin, qmax] of s4, two per byte, element 2j in the low nibble and
// 2j+1 in the high nibble of byte j (two's complement nibbles, as llama.cpp's and ONNX's int4).
// w is [N, K]; packed is [N, ceil(K / 2)]; an odd K leaves the last high nibble 0.
inline status quantize_int4(const matrix_view<const float>& w, const quant::qparams& p,
                            const matrix_view<std::uint8_t>& packed) noexcept {
    if (p.type != dtype::s4) return status(errc::dtype_mismatch, "quantize_int4: qparams are for %s, not s4", to_string(p.type));
    SPARQ_TRY(p.check_for(w.extents()));
    if (packed.extent(0) != w.extent(0) || packed.extent(1) != (w.extent(1) + 1) / 2)
        return status(errc::shape_mismatch, "quantize_int4: weights [%td, %td] need packed [%td, %td], got [%td, %td]",
                      w.extent(0), w.extent(1), w.extent(0), (w.extent(1) + 1) / 2, packed.extent(0), packed.extent(1));
    for (index_t n = 0; n < w.extent(0); ++n) {
        for (index_t j = 0; j < packed.extent(1); ++j) packed(n, j) = 0;
        for (index_t k = 0; k < w.extent(1); ++k) {
            const index_t i = detail::param_index(p, n, k, w.extent(1));
            const auto code = static_cast<std::uint8_t>(scalar::quantize_value(w(n, k), detail::step_of(p, i)) & 0xF);
            packed(n, k / 2) = static_cast<std::uint8_t>(packed(n, k / 2) | (k % 2 ? code << 4 : code));
        }
    }
    return status::success();
}

// The int4 code at column k of a packed row (sign-extended).
inline std::int32_t int4_at(const vector_view<const std::uint8_t>& packed_row, index_t k) noexcept {
    const std::uint8_t byte = packed_row(k / 2);
    const int nibble = k % 2 ? byte >> 4 : byte & 0xF;
    return nibble >= 8 ? nibble - 16 : nibble;
}

inline status dequantize_int4(const matrix_view<const std::uint8_t>& packed, const quant::qparams& p,
                              const matrix_view<float>& w) noexcept {
    if (p.type != dtype::s4) return status(errc::dtype_mismatch, "dequantize_int4: qparams are for %s, not s4", to_string(p.type));
    SPARQ_TRY(p.check_for(w.extents()));
    if (packed.extent(0) != w.extent(0) || packed.extent(1) != (w.extent(1) + 1) / 2)
        return status(errc::shape_mismatch, "dequantize_int4: packed [%td, %td] does not hold weights [%td, %td]",
                      packed.extent(0), packed.extent(1), w.extent(0), w.extent(1));
    for (index_t n = 0; n < w.extent(0); ++n)
        for (index_t k = 0; k < w.extent(1); ++k) {
            w(n, k) = scalar::dequantize_value(int4_at(packed.row(n), k),
                                               detail::step_of(p, detail::param_index(p, n, k, w.extent(1))));
        }
    return status::success();
}

}  // namespace sparq::kernels
