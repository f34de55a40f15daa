// Fused output stages (gemmlowp's output pipeline, oneDNN's post-ops): the GEMMs hand each
// finished MR x NR tile of sums, still in registers or in an L1 tile buffer, to one of these,
// which writes the layer's final outputs. Per-column parameters are loaded as batches; every
// result has the bits of the scalar stage (kernels/output_stage.hpp): float bias + activation,
// int32 -> float dequantization, and int32 -> int8 / uint8 requantization (vectorised on
// AVX-512; elsewhere the exact scalar arithmetic on each lane of the tile).
#pragma once

#include "sparq/core/config.hpp"

#include <cstdint>
#include "sparq/core/xsimd.hpp"

#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/xsimd/unary.hpp"
#include "sparq/kernels/xsimd/arch/arm_neon.hpp"
#include "sparq/kernels/xsimd/arch/generic.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

namespace detail {

// activate() on a batch: the same comparisons, so NaN and -0 come out as in the scalar stage;
// SiLU through the vector exp the standalone op uses (kernels/xsimd/unary.hpp: a layer with
// SiLU folded in gives the bits of the layer, then the op), hard-swish the scalar formula.
// (the costly ones out of line: inlined into every GEMM tile they made activate too big for
// GCC to inline, and a call per vector cost ReLU6 models 12 %)
template <class A>
[[gnu::noinline]] ::xsimd::batch<float, A> activate_costly(::xsimd::batch<float, A> v, activation a) noexcept {
    using fb = ::xsimd::batch<float, A>;
    if (a == activation::silu) return unary_batches<A>::silu(v);
    const fb zero(0.0f), t = v + fb(3.0f);  // hard_swish
    return v * ::xsimd::select(t < zero, zero, ::xsimd::select(t > fb(6.0f), fb(6.0f), t)) / fb(6.0f);
}

template <class A>
SPARQ_ALWAYS_INLINE ::xsimd::batch<float, A> activate(::xsimd::batch<float, A> v, activation a) noexcept {
    using fb = ::xsimd::batch<float, A>;
    if (a == activation::none) return v;
    if (a == activation::silu || a == activation::hard_swish) return activate_costly<A>(v, a);
    const fb zero(0.0f);
    if (a == activation::relu6) v = ::xsimd::select(v > fb(6.0f), fb(6.0f), v);
    return ::xsimd::select(v < zero, zero, v);
}

// The portable requantization: the scalar arithmetic on each lane (exact).
template <class A>
::xsimd::batch<std::int32_t, A> requantize(::xsimd::batch<std::int32_t, A> acc, ::xsimd::batch<std::int32_t, A> offset,
                                           ::xsimd::batch<std::int32_t, A> fixed, ::xsimd::batch<std::int32_t, A> shift,
                                           std::int32_t zero_point, std::int32_t qmin, std::int32_t qmax,
                                           quant::requant_rounding r, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    using ib = ::xsimd::batch<std::int32_t, A>;
    alignas(A::alignment()) std::int32_t a[ib::size], o[ib::size], f[ib::size], s[ib::size];
    acc.store_aligned(a), offset.store_aligned(o), fixed.store_aligned(f), shift.store_aligned(s);
    for (std::size_t i = 0; i < ib::size; ++i) {
        const std::int64_t v = std::int64_t(a[i]) + o[i];
        const std::int32_t sat = std::int32_t(v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : v));
        a[i] = quant::requantize(sat, quant::quantized_multiplier{f[i], s[i]}, zero_point, qmin, qmax, r);
    }
    return ib::load_aligned(a);
}

// float_scale requantization (quant::requantize's float_scale) on a block of columns: the
// per-column parameters and the bounds prepared once, then applied to each row of the block.
// Written on xsimd batches alone, so AVX2 and NEON run it as vectors too (the integer forms
// fall back to the per-lane scalar arithmetic there). Bit for bit the scalar stage: the
// multiplier is float(fixed) * 2^(shift - 31) (a power of two built in the exponent bits:
// shift - 31 is in [-62, -1], a normal float), the product is clamped in float (finite: |x| <
// 2^31, multiplier < 2^31) and rounded half to even by the default rounding mode.
template <class A>
struct float_scale_block {
    using ib = ::xsimd::batch<std::int32_t, A>;
    using fb = ::xsimd::batch<float, A>;
    ib offset, zero_point;
    fb multiplier, lo, hi;

    SPARQ_ALWAYS_INLINE float_scale_block(ib offset_b, ib fixed, ib shift, std::int32_t zp, std::int32_t qmin, std::int32_t qmax) noexcept
        : offset(offset_b), zero_point(zp), lo(float(std::int64_t(qmin) - zp)), hi(float(std::int64_t(qmax) - zp)) {
        const ib exponent = (shift + ib(127 - 31)) << 23;
        multiplier = ::xsimd::batch_cast<float>(fixed) * ::xsimd::bitwise_cast<fb>(exponent);
    }
    SPARQ_ALWAYS_INLINE ib operator()(ib acc) const noexcept {
        // acc + offset, saturated: it overflowed where both operands' signs differ from the sum's
        // (all-ones lanes in `overflow`; bitwise, as xsimd 8.1's int32 select fails on AVX-512BW)
        const ib x = acc + offset;
        const ib overflow = ((acc ^ x) & (offset ^ x)) >> 31;
        const ib saturated = (acc >> 31) ^ ib(INT32_MAX);
        const fb f = ::xsimd::min(::xsimd::max(::xsimd::batch_cast<float>(x ^ ((x ^ saturated) & overflow)) * multiplier, lo), hi);
        return ::xsimd::nearbyint_as_int(f) + zero_point;
    }
    // The same where acc + offset cannot overflow (stage_sums_fit): no saturation to select.
    SPARQ_ALWAYS_INLINE ib exact(ib acc) const noexcept {
        const fb f = ::xsimd::min(::xsimd::max(::xsimd::batch_cast<float>(acc + offset) * multiplier, lo), hi);
        return ::xsimd::nearbyint_as_int(f) + zero_point;
    }
};

}  // namespace detail

// The float stage on one batch of finished sums: act(sum + bias), as apply_bias_activation.
template <class A>
SPARQ_ALWAYS_INLINE ::xsimd::batch<float, A> bias_activation(::xsimd::batch<float, A> sum, ::xsimd::batch<float, A> bias, activation a) noexcept {
    return detail::activate<A>(sum + bias, a);
}

// Requantize rows [0, rows) x columns [n0, n0 + cols) of a tile of int32 sums (row r at
// tile + r * ldt) into Q codes; y + r * ldy is row r's output at column n0. fits: the caller
// found stage_sums_fit for its sums (the float_scale stage then skips its saturation).
template <class A, class Q>
void requant_tile(const requant_stage& st, const std::int32_t* tile, index_t ldt, index_t rows, index_t n0, index_t cols,
                  Q* y, index_t ldy, bool fits = false) noexcept {
    using ib = ::xsimd::batch<std::int32_t, A>;
    constexpr index_t L = index_t(ib::size);
    index_t j = 0;
    if (st.rounding == quant::requant_rounding::float_scale) {  // the compiled models' default: its own loop
        for (; j + L <= cols; j += L) {
            const std::size_t n = std::size_t(n0 + j);
            const detail::float_scale_block<A> block(ib::load_unaligned(st.offset.data() + n), ib::load_unaligned(st.fixed.data() + n),
                                                     ib::load_unaligned(st.shift.data() + n), st.zero_point, st.qmin, st.qmax);
            const std::int32_t* t = tile + j;
            Q* out = y + j;
            if (fits)
                for (index_t r = 0; r < rows; ++r) detail::store_narrow<Q>(block.exact(ib::load_unaligned(t + r * ldt)), out + r * ldy, A{});
            else
                for (index_t r = 0; r < rows; ++r) detail::store_narrow<Q>(block(ib::load_unaligned(t + r * ldt)), out + r * ldy, A{});
        }
    }
    for (; j + L <= cols; j += L) {
        const std::size_t n = std::size_t(n0 + j);
        const ib offset = ib::load_unaligned(st.offset.data() + n), fixed = ib::load_unaligned(st.fixed.data() + n),
                 shift = ib::load_unaligned(st.shift.data() + n);
        for (index_t r = 0; r < rows; ++r) {
            const ib v = detail::requantize<A>(ib::load_unaligned(tile + r * ldt + j), offset, fixed, shift, st.zero_point,
                                               st.qmin, st.qmax, st.rounding, A{});
            detail::store_narrow<Q>(v, y + r * ldy + j, A{});
        }
    }
    if (j < cols) {  // the last columns through the same vector code on padded batches (not the
        // scalar stage per element: with 8 or 24 channels that was most of a small CNN's time)
        const index_t tail = cols - j;
        const std::size_t n = std::size_t(n0 + j);
        alignas(64) std::int32_t offset[L] = {}, fixed[L] = {}, shift[L] = {};
        for (index_t i = 0; i < tail; ++i)
            offset[i] = st.offset[n + std::size_t(i)], fixed[i] = st.fixed[n + std::size_t(i)], shift[i] = st.shift[n + std::size_t(i)];
        const ib o = ib::load_aligned(offset), f = ib::load_aligned(fixed), sh = ib::load_aligned(shift);
        const bool float_scale = st.rounding == quant::requant_rounding::float_scale;
        const detail::float_scale_block<A> block(o, f, sh, st.zero_point, st.qmin, st.qmax);
        for (index_t r = 0; r < rows; ++r) {
            const ib sums = detail::load_partial<A>(tile + r * ldt + j, std::size_t(tail), A{});
            const ib v = float_scale ? block(sums) : detail::requantize<A>(sums, o, f, sh, st.zero_point, st.qmin, st.qmax, st.rounding, A{});
            detail::store_narrow_partial<Q>(v, y + r * ldy + j, std::size_t(tail), A{});
        }
    }
}

// Requantize `count` sums of column n, contiguous (one channel's plane of a convolution's NCHW
// output), into Q codes: the column's parameters broadcast once, the plane in batches.
template <class A, class Q>
void requant_column(const requant_stage& st, index_t n, const std::int32_t* acc, index_t count, Q* y) noexcept {
    using ib = ::xsimd::batch<std::int32_t, A>;
    constexpr index_t L = index_t(ib::size);
    const std::size_t c = std::size_t(n);
    const ib offset(st.offset[c]), fixed(st.fixed[c]), shift(st.shift[c]);
    index_t m = 0;
    if (st.rounding == quant::requant_rounding::float_scale) {
        const detail::float_scale_block<A> block(offset, fixed, shift, st.zero_point, st.qmin, st.qmax);
        for (; m + L <= count; m += L) detail::store_narrow<Q>(block(ib::load_unaligned(acc + m)), y + m, A{});
    }
    for (; m + L <= count; m += L) {
        const ib v = detail::requantize<A>(ib::load_unaligned(acc + m), offset, fixed, shift, st.zero_point, st.qmin, st.qmax, st.rounding, A{});
        detail::store_narrow<Q>(v, y + m, A{});
    }
    for (; m < count; ++m) y[m] = static_cast<Q>(kernels::detail::requantize_sum(st, acc[m], n));
}

// Dequantize a tile of int32 sums: s_x s_w[n] (acc - z_x colsum[n]) + bias[n], then the activation.
template <class A>
void dequant_tile(const requant_stage& st, const std::int32_t* tile, index_t ldt, index_t rows, index_t n0, index_t cols,
                  float* y, index_t ldy) noexcept {
    using ib = ::xsimd::batch<std::int32_t, A>;
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t L = index_t(ib::size);
    // Columns [j, j + width) of every row, their parameters in batches: acc - zx overflowed int32
    // where the operands' signs differ and the result's is not acc's; such rows take the
    // reference's 64-bit difference.
    const auto columns = [&](index_t j, index_t width, ib zx, fb scale, fb bias) {
        for (index_t r = 0; r < rows; ++r) {
            const std::int32_t* t = tile + r * ldt + j;
            float* out = y + r * ldy + j;
            const ib acc = width == L ? ib::load_unaligned(t) : detail::load_partial<A>(t, std::size_t(width), A{});
            const ib centred = acc - zx;
            if (::xsimd::any(((acc ^ zx) & (acc ^ centred)) < ib(0))) {
                for (index_t i = 0; i < width; ++i) out[i] = kernels::detail::dequantize_sum(st, t[i], n0 + j + i);
                continue;
            }
            const fb v = bias_activation<A>(::xsimd::batch_cast<float>(centred) * scale, bias, st.act);
            if (width == L) {
                v.store_unaligned(out);
            } else {
                alignas(64) float part[L];
                v.store_aligned(part);
                for (index_t i = 0; i < width; ++i) out[i] = part[i];
            }
        }
    };
    index_t j = 0;
    for (; j + L <= cols; j += L) {
        const std::size_t n = std::size_t(n0 + j);
        columns(j, L, ib::load_unaligned(st.zx_colsum.data() + n), fb::load_unaligned(st.real_scale.data() + n),
                st.bias.empty() ? fb(0.0f) : fb::load_unaligned(st.bias.data() + n));
    }
    if (j < cols) {  // the last columns through the same vector code on padded batches (as requant_tile)
        const index_t tail = cols - j;
        const std::size_t n = std::size_t(n0 + j);
        alignas(64) std::int32_t zx[L] = {};
        alignas(64) float scale[L] = {}, bias[L] = {};
        for (index_t i = 0; i < tail; ++i) {
            zx[i] = st.zx_colsum[n + std::size_t(i)], scale[i] = st.real_scale[n + std::size_t(i)];
            if (!st.bias.empty()) bias[i] = st.bias[n + std::size_t(i)];
        }
        columns(j, tail, ib::load_aligned(zx), fb::load_aligned(scale), fb::load_aligned(bias));
    }
}

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
