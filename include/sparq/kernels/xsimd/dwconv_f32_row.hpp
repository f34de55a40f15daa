// dwconv_f32_row: one output row of a float depthwise convolution with a fixed KH x KW kernel on
// channels-last activations, for a block of R batches of channels, the output stage fused.
// The block's KH * KW * R weight batches are loaded once and stay in registers while the row's
// pixels stream past them (3x3 with R = 2: 18 of AVX-512's 32 registers), so each multiply-add
// costs one activation load and one FMA; P pixels of the row go together so P * R independent
// sums hide the FMA latency. Pixels whose taps all lie inside the image address the input
// directly; the others (the row's ends, and every pixel of a row whose taps reach above or below
// the image) take each tap from the image or from a block of zeros, as the reference pads (0 * w,
// so a padded tap on an infinite weight gives NaN there too). The taps go in the reference's
// order (kh, then kw) from a zero sum, but fused: within 1e-5 of kernels::dwconv2d (the GEMMs'
// rule for float), not its bits.
#pragma once

#include "sparq/core/config.hpp"

#include <cstdint>
#include <type_traits>

#include "sparq/core/tensor_view.hpp"
#include "sparq/core/xsimd.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/output_value.hpp"
#include "sparq/kernels/xsimd/arch/generic.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512.hpp"
#include "sparq/kernels/xsimd/epilogue.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

// What one row needs: the input image (channels-last, [H, W, C]), its geometry and the output
// stage. Rows of the image outside [0, H) are padding.
struct dw_f32_row_args {
    const float* img = nullptr;
    index_t h = 0, w = 0, c = 0, ow_n = 0;
    conv2d_params p;
    const float* bias = nullptr;  // null: + 0.0f
    activation act = activation::none;
    bool stage = false;           // act(sum + bias) as the sums leave their registers
};

namespace detail {

// The padding's source: as many zeros as the widest block reads (R <= 4 batches of 16 floats).
inline const float* dw_zeros() noexcept {
    alignas(64) static const float zeros[64] = {};
    return zeros;
}

}  // namespace detail

// Output row oh, channels [c0, c0 + R * L) (L floats a batch), into out (the row's first pixel,
// pixel stride a.c). The pixels in [ow_lo, ow_hi) have every column tap inside the image; taps
// holds the packed weights (taps[(kh * KW + kw) * C + c]). S: the column stride (1 or 2, no
// dilation) the interior is addressed for, 0: any (every pixel tap by tap).
// (out of line: one small function per shape, whose sums and weights GCC keeps in registers;
// inlined into the row loop with its siblings, it spilled them)
template <class A, int KH, int KW, int S, int R, int P>
[[gnu::noinline]] void dw_f32_row_block(const dw_f32_row_args& a, const float* taps, index_t oh, index_t ow_lo,
                                          index_t ow_hi, index_t c0, float* out) noexcept {
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t L = index_t(fb::size);
    constexpr int T = KH * KW;
    static_assert(R * L <= 64, "dw_zeros holds 64 floats");
    const index_t c_n = a.c, sw = a.p.stride_w, dw = a.p.dilation_w;
    fb wt[T][R];
    SPARQ_UNROLL
    for (int t = 0; t < T; ++t)
        SPARQ_UNROLL
        for (int r = 0; r < R; ++r) wt[t][r] = fb::load_unaligned(taps + t * c_n + c0 + r * L);
    fb bias[R];
    SPARQ_UNROLL
    for (int r = 0; r < R; ++r) bias[r] = a.bias ? fb::load_unaligned(a.bias + c0 + r * L) : fb(0.0f);
    // the input rows of the taps, null outside the image
    const float* rows[KH];
    bool all_rows = true;
    const index_t ih0 = oh * a.p.stride_h - a.p.pad_top;
    SPARQ_UNROLL
    for (int kh = 0; kh < KH; ++kh) {
        const index_t ih = ih0 + kh * a.p.dilation_h;
        rows[kh] = ih >= 0 && ih < a.h ? a.img + ih * a.w * c_n + c0 : nullptr;
        all_rows = all_rows && rows[kh];
    }
    // (locals: read through `a`, GCC reloaded them after every store to out)
    const bool stage = a.stage;
    const activation act = a.act;
    const auto finish = [&](fb& s, int r, float* dst) SPARQ_ALWAYS_INLINE_LAMBDA {
        if (stage) s = bias_activation<A>(s, bias[r], act);
        s.store_unaligned(dst + c0 + r * L);
    };
    // one pixel, each tap from the image or the zeros
    const auto edge_pixel = [&](index_t ow) SPARQ_ALWAYS_INLINE_LAMBDA {
        const index_t iw0 = ow * sw - a.p.pad_left;
        fb s[R];
        SPARQ_UNROLL
        for (int r = 0; r < R; ++r) s[r] = fb(0.0f);
        SPARQ_UNROLL
        for (int kh = 0; kh < KH; ++kh)
            SPARQ_UNROLL
            for (int kw = 0; kw < KW; ++kw) {
                const index_t iw = iw0 + kw * dw;
                const float* src = rows[kh] && iw >= 0 && iw < a.w ? rows[kh] + iw * c_n : detail::dw_zeros();
                SPARQ_UNROLL
                for (int r = 0; r < R; ++r) s[r] = detail::fmadd<A>(fb::load_unaligned(src + r * L), wt[kh * KW + kw][r], s[r], A{});
            }
        SPARQ_UNROLL
        for (int r = 0; r < R; ++r) finish(s[r], r, out + ow * c_n);
    };
    if (S == 0 || !all_rows || ow_lo >= ow_hi) {
        for (index_t ow = 0; ow < a.ow_n; ++ow) edge_pixel(ow);
        return;
    }
    index_t ow = 0;
    for (; ow < ow_lo; ++ow) edge_pixel(ow);
    // P pixels at a time, every tap inside the image. Pixel j's tap kw is m = j * S + kw pixels
    // right of the group's first column: M offsets, hoisted, and KH row pointers that step along
    // (GCC kept a pointer per tap and pixel, 36, and spilled them: a stack load per FMA).
    constexpr int M = S == 0 ? 1 : (P - 1) * S + KW;
    index_t off[M];
    SPARQ_UNROLL
    for (int m = 0; m < M; ++m) off[m] = m * c_n;
    const float* src[KH];
    SPARQ_UNROLL
    for (int kh = 0; kh < KH; ++kh) src[kh] = rows[kh] + (ow * sw - a.p.pad_left) * c_n;
    const index_t step = P * S * c_n;
    for (; ow + P <= ow_hi; ow += P) {
        fb s[P][R];
        SPARQ_UNROLL
        for (int j = 0; j < P; ++j)
            SPARQ_UNROLL
            for (int r = 0; r < R; ++r) s[j][r] = fb(0.0f);
        SPARQ_UNROLL
        for (int kh = 0; kh < KH; ++kh)
            SPARQ_UNROLL
            for (int kw = 0; kw < KW; ++kw)
                SPARQ_UNROLL
                for (int j = 0; j < P; ++j)
                    SPARQ_UNROLL
                    for (int r = 0; r < R; ++r)
                        s[j][r] = detail::fmadd<A>(fb::load_unaligned(src[kh] + off[j * S + kw] + r * L), wt[kh * KW + kw][r],
                                                   s[j][r], A{});
        SPARQ_UNROLL
        for (int kh = 0; kh < KH; ++kh) src[kh] += step;
        SPARQ_UNROLL
        for (int j = 0; j < P; ++j)
            SPARQ_UNROLL
            for (int r = 0; r < R; ++r) finish(s[j][r], r, out + (ow + j) * c_n);
    }
    for (; ow < a.ow_n; ++ow) edge_pixel(ow);
}

// Output row oh of one image, channels [0, c_end) (a multiple of L: the caller takes the rest),
// in blocks of R_MAX batches, then single batches.
template <class A, int KH, int KW>
SPARQ_ALWAYS_INLINE void dw_f32_row(const dw_f32_row_args& a, const float* taps, index_t oh, index_t ow_lo, index_t ow_hi,
                                    index_t c_end, float* out) noexcept {
    constexpr index_t L = index_t(::xsimd::batch<float, A>::size);
    // registers: R * KH * KW weights + P * R sums of 32 (AVX-512) or 16 (AVX2, NEON)
    constexpr bool wide = L * sizeof(float) >= 64;
    constexpr int R = wide && KH * KW <= 9 ? 2 : 1;
    constexpr int P = wide ? 4 : 2;
    const auto blocks = [&](auto stride) SPARQ_ALWAYS_INLINE_LAMBDA {
        constexpr int S = decltype(stride)::value;
        index_t c0 = 0;
        for (; c0 + R * L <= c_end; c0 += R * L) dw_f32_row_block<A, KH, KW, S, R, P>(a, taps, oh, ow_lo, ow_hi, c0, out);
        if constexpr (R > 1)
            for (; c0 + L <= c_end; c0 += L) dw_f32_row_block<A, KH, KW, S, 1, P>(a, taps, oh, ow_lo, ow_hi, c0, out);
    };
    // the interior's addressing for column strides 1 and 2 without dilation; others tap by tap
    if (a.p.dilation_w == 1 && a.p.stride_w == 1)
        blocks(std::integral_constant<int, 1>{});
    else if (a.p.dilation_w == 1 && a.p.stride_w == 2)
        blocks(std::integral_constant<int, 2>{});
    else
        blocks(std::integral_constant<int, 0>{});
}

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
