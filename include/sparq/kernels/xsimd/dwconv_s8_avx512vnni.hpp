// The channels-last int8 depthwise row kernel for AVX512-VNNI (dwconv2d_nhwc_s8's fast path).
// A multiply-add is one vpdpwssd on int32 lanes: the activation sign-extended (vpmovsxbd: its low
// 16 bits x, its high 16 bits 0 or -1), the weight zero-extended from its int16 (low 16 bits w,
// high 16 bits 0), so lo * lo + hi * hi = x * w + hi * 0 = x * w exactly: one uop per 16 MACs,
// no +128 shift to correct (vpmulld, what the portable path runs, is two). A block of 16
// channels keeps every tap's weights in registers while it walks the output row; a group of
// neighbouring output pixels loads each input pixel once for all the taps that read it (stride
// 1: 3 loads serve 9 taps of 3x3 kernels in a long row), so a MAC costs well under one load.
// Integer sums are exact, so their order is free: padded kernel rows go into the block's
// starting sum once per row (zero_point * w), padded columns (the row's edge pixels) take the
// zero point as their input. A finished block of sums goes to a sink: the float_scale
// requantization in registers, stored as codes (the compiled models' default), or the int32 row
// the other stages read.
#pragma once

#include "sparq/core/config.hpp"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "sparq/core/shape.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/xsimd/epilogue.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd::avx512vnni {

// One output row of a depthwise convolution on an image [H, W, C] with taps [KH * KW, C].
struct dw_row_s8 {
    const std::int8_t* img;
    const std::int8_t* taps;
    index_t w, c, ow_n, kh_n, kw_n;
    index_t stride_w, dilation_h, dilation_w, pad_left;
    index_t ih0, kh_lo, kh_hi;  // the input row of kernel row 0; the kernel rows inside the image
    index_t ow_lo, ow_hi;       // the output columns whose taps all lie inside the image along W
    std::int8_t zero_point;
};

namespace detail {

template <class F, int... I>
SPARQ_ALWAYS_INLINE void static_for(F&& f, std::integer_sequence<int, I...>) noexcept {
    (f(std::integral_constant<int, I>{}), ...);
}
// f(integral_constant<int, i>) for i in [0, N): indices known at compile time, so arrays of
// registers indexed by them stay registers
template <int N, class F>
SPARQ_ALWAYS_INLINE void static_for(F&& f) noexcept {
    static_for(f, std::make_integer_sequence<int, N>{});
}

// 16 channels' int8 as sign-extended int32 lanes (Masked: only the lanes in m are read).
template <bool Masked>
SPARQ_ALWAYS_INLINE __m512i load_x(const std::int8_t* p, __mmask16 m) noexcept {
    if constexpr (Masked)
        return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p));
    else
        return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// 16 channels' weights as int32 lanes holding (uint16_t)w: the high halves zero.
template <bool Masked>
SPARQ_ALWAYS_INLINE __m512i load_w(const std::int8_t* p, __mmask16 m) noexcept {
    return _mm512_and_si512(load_x<Masked>(p, m), _mm512_set1_epi32(0xFFFF));
}

SPARQ_ALWAYS_INLINE __m512i mac(__m512i acc, __m512i x, __m512i w) noexcept {
    return _mm512_dpwssd_epi32(acc, x, w);
}

// A block's kernel, KH x KW taps known at compile time (0 x 0: any, the weights reloaded per tap).
template <int KH, int KW>
struct dw_weights {
    __m512i v[KH * KW];
};
template <>
struct dw_weights<0, 0> {
    const std::int8_t* taps;  // the block's first channel of tap 0
};

// One output pixel ow, any stride and dilation, taps outside the image taking the zero point:
// the row's edge pixels, and every pixel where no sliding window below applies.
template <int KH, int KW, bool Masked>
SPARQ_ALWAYS_INLINE __m512i dw_pixel(const dw_row_s8& r, const dw_weights<KH, KW>& wt, __m512i base, __m512i zp,
                                     index_t ow, index_t c0, __mmask16 m) noexcept {
    __m512i acc = base;
    const index_t iw0 = ow * r.stride_w - r.pad_left;
    const auto tap = [&](index_t kh, index_t kw, __m512i w) SPARQ_ALWAYS_INLINE_LAMBDA {
        const index_t iw = iw0 + kw * r.dilation_w;
        const bool inside = iw >= 0 && iw < r.w;
        const __m512i x =
            inside ? load_x<Masked>(r.img + ((r.ih0 + kh * r.dilation_h) * r.w + iw) * r.c + c0, m) : zp;
        acc = mac(acc, x, w);
    };
    if constexpr (KH == 0) {
        for (index_t kh = r.kh_lo; kh < r.kh_hi; ++kh)
            for (index_t kw = 0; kw < r.kw_n; ++kw) tap(kh, kw, load_w<Masked>(wt.taps + (kh * r.kw_n + kw) * r.c, m));
    } else {
        static_for<KH>([&](auto kh) SPARQ_ALWAYS_INLINE_LAMBDA {
            if (kh < r.kh_lo || kh >= r.kh_hi) return;  // in the block's base
            static_for<KW>([&](auto kw) SPARQ_ALWAYS_INLINE_LAMBDA { tap(kh, kw, wt.v[kh * KW + kw]); });
        });
    }
    return acc;
}

// U neighbouring output pixels from ow, every tap inside the image along W, stride S, no
// dilation along W: each kernel row's (U - 1) S + KW input pixels loaded once, each multiplied
// by the taps that read it. ih: the input row each kernel row reads (dw_block: a kernel row
// outside the image reads a row inside with zero weights, so one code serves every output row;
// a test per kernel row cost GCC register moves of all the sums at its joins).
// Guarded: the group reaches past the image along W; those input pixels are read from pad (16
// bytes of the zero point), chosen per input pixel without a branch (the edges of the small
// maps, where a tap at a time was a third of the time).
template <int KH, int KW, int S, int U, bool Guarded>
SPARQ_ALWAYS_INLINE void dw_pixels(const dw_row_s8& r, const dw_weights<KH, KW>& wt, const index_t (&ih)[KH],
                                   __m512i base, index_t ow, index_t c0, const std::int8_t* pad,
                                   __m512i (&acc)[U]) noexcept {
    static_for<U>([&](auto j) SPARQ_ALWAYS_INLINE_LAMBDA { acc[j] = base; });
    const index_t iw0 = ow * S - r.pad_left;
    static_for<KH>([&](auto kh) SPARQ_ALWAYS_INLINE_LAMBDA {
        // (an index, not a pointer: column iw0 may lie left of the image when guarded)
        const index_t row = (ih[kh] * r.w + iw0) * r.c + c0;
        static_for<(U - 1) * S + KW>([&](auto i) SPARQ_ALWAYS_INLINE_LAMBDA {
            // (guarded: the pointer formed only for a column inside the image)
            const std::int8_t* p = pad;
            if constexpr (Guarded) {
                const index_t iw = iw0 + index_t(i);
                if (iw >= 0 && iw < r.w) p = r.img + (row + index_t(i) * r.c);
            } else {
                p = r.img + (row + index_t(i) * r.c);
            }
            const __m512i x = load_x<false>(p, 0xFFFF);
            static_for<KW>([&](auto kw) SPARQ_ALWAYS_INLINE_LAMBDA {
                constexpr int d = int(i) - int(kw);
                if constexpr (d >= 0 && d % S == 0 && d / S < U) acc[d / S] = mac(acc[d / S], x, wt.v[kh * KW + kw]);
            });
        });
    });
}

// The row's pixels from ow on in groups of U, then of U / 2, ..., 1. Top (the first, largest
// groups): those inside the image along W unguarded. The rest guarded: the halves come only at
// the row's end, and an unguarded variant of each would double the code GCC compiles.
template <int KH, int KW, int S, int U, bool Top, class Sink>
SPARQ_ALWAYS_INLINE void dw_groups(const dw_row_s8& r, const dw_weights<KH, KW>& wt, const index_t (&ih)[KH],
                                   __m512i base, index_t& ow, index_t c0, const std::int8_t* pad, Sink& sink) noexcept {
    for (; ow + U <= r.ow_n; ow += U) {
        __m512i acc[U];
        bool inside = false;
        if constexpr (Top) {
            inside = ow >= r.ow_lo && ow + U <= r.ow_hi;
            if (inside) dw_pixels<KH, KW, S, U, false>(r, wt, ih, base, ow, c0, pad, acc);
        }
        if (!inside) dw_pixels<KH, KW, S, U, true>(r, wt, ih, base, ow, c0, pad, acc);
        static_for<U>([&](auto j) SPARQ_ALWAYS_INLINE_LAMBDA { sink(acc[j], ow + j); });
    }
    if constexpr (U > 1) dw_groups<KH, KW, S, U / 2, false>(r, wt, ih, base, ow, c0, pad, sink);
}

// Channels [c0, c0 + 16) (those in m) of the whole row into sink(acc, ow). Sliding groups (S > 0)
// for whole blocks of 16 with a kernel row inside the image; a pixel at a time otherwise (the
// masked last block: sliding variants of it would double the code GCC compiles).
template <int KH, int KW, int S, int U, bool Masked, class Sink>
SPARQ_ALWAYS_INLINE void dw_block(const dw_row_s8& r, index_t c0, __mmask16 m, Sink& sink) noexcept {
    const __m512i zp = _mm512_set1_epi32(r.zero_point);
    dw_weights<KH, KW> wt;
    __m512i base = _mm512_setzero_si512();
    if constexpr (KH == 0) {
        wt.taps = r.taps + c0;
        for (index_t kh = 0; kh < r.kh_n; ++kh)
            if (kh < r.kh_lo || kh >= r.kh_hi)
                for (index_t kw = 0; kw < r.kw_n; ++kw)
                    base = mac(base, zp, load_w<Masked>(wt.taps + (kh * r.kw_n + kw) * r.c, m));
    } else {
        static_for<KH * KW>([&](auto t) SPARQ_ALWAYS_INLINE_LAMBDA {
            wt.v[t] = load_w<Masked>(r.taps + index_t(t) * r.c + c0, m);
            constexpr int kh = int(t) / KW;
            if (kh < r.kh_lo || kh >= r.kh_hi) base = mac(base, zp, wt.v[t]);
        });
    }
    index_t ow = 0;
    if constexpr (S > 0 && !Masked) {
        if (r.kh_lo < r.kh_hi) {
            // the kernel rows outside the image (their zero-point products are in base) read
            // the first row inside with zero weights
            index_t ih[KH];
            static_for<KH>([&](auto kh) SPARQ_ALWAYS_INLINE_LAMBDA {
                const bool inside = kh >= r.kh_lo && kh < r.kh_hi;
                ih[kh] = r.ih0 + (inside ? index_t(kh) : r.kh_lo) * r.dilation_h;
                if (!inside)
                    static_for<KW>([&](auto kw) SPARQ_ALWAYS_INLINE_LAMBDA {
                        wt.v[kh * KW + kw] = _mm512_setzero_si512();
                    });
            });
            alignas(16) std::int8_t pad[16];
            for (std::int8_t& v : pad) v = r.zero_point;
            dw_groups<KH, KW, S, U, true>(r, wt, ih, base, ow, c0, pad, sink);
            return;
        }
    }
    for (; ow < r.ow_n; ++ow) sink(dw_pixel<KH, KW, Masked>(r, wt, base, zp, ow, c0, m), ow);
}

}  // namespace detail

// Where a block's finished sums go: the int32 row [OW, C] (any stage reads it afterwards).
struct dw_sums_sink {
    std::int32_t* row;
    index_t c;
    struct block {
        std::int32_t* p;
        index_t c;
        __mmask16 m;
        SPARQ_ALWAYS_INLINE void operator()(__m512i acc, index_t ow) const noexcept {
            _mm512_mask_storeu_epi32(p + ow * c, m, acc);
        }
    };
    SPARQ_ALWAYS_INLINE block for_block(index_t c0, __mmask16 m) const noexcept { return {row + c0, c, m}; }
};

// float_scale requantization in registers (xsimd::detail::float_scale_block: the bits of
// requant_tile's), codes stored straight into the output row [OW, C]. Only where the caller found
// that no sum + offset can overflow int32 (stage_sums_fit): the block's saturation would return
// its input, so it is skipped, the same bits (a sixth of the row's work here).
template <class Q>
struct dw_float_scale_sink {
    using A = ::xsimd::default_arch;
    using ib = ::xsimd::batch<std::int32_t, A>;
    const requant_stage& st;
    Q* out;
    index_t c;
    struct block {
        ::sparq::kernels::xsimd::detail::float_scale_block<A> stage;
        Q* p;
        index_t c;
        __mmask16 m;
        SPARQ_ALWAYS_INLINE void operator()(__m512i acc, index_t ow) const noexcept {
            const __m512i v = stage.exact(ib(acc));
            if (m == 0xFFFF)
                ::sparq::kernels::xsimd::detail::store_narrow<Q>(ib(v), p + ow * c, A{});
            else
                ::sparq::kernels::xsimd::detail::store_narrow_partial<Q>(ib(v), p + ow * c,
                                                                         std::size_t(__builtin_popcount(m)), A{});
        }
    };
    // (the unused lanes' parameters are zeros, as requant_tile's last batch)
    SPARQ_ALWAYS_INLINE block for_block(index_t c0, __mmask16 m) const noexcept {
        const auto n = std::size_t(c0);
        return {::sparq::kernels::xsimd::detail::float_scale_block<A>(
                    ib(_mm512_maskz_loadu_epi32(m, st.offset.data() + n)),
                    ib(_mm512_maskz_loadu_epi32(m, st.fixed.data() + n)),
                    ib(_mm512_maskz_loadu_epi32(m, st.shift.data() + n)), st.zero_point, st.qmin, st.qmax),
                out + c0, c, m};
    }
};

// The whole row, every channel: blocks of 16, the last one masked. KH x KW taps and the stride
// along W as compiled in (KH = KW = 0: any kernel; S = 0: any stride or dilation along W, one
// pixel at a time), U pixels a group; the caller checked they match r.
template <int KH, int KW, int S, int U, class Sink>
void dw_row(const dw_row_s8& r, const Sink& sink) noexcept {
    index_t c0 = 0;
    for (; c0 + 16 <= r.c; c0 += 16) {
        auto block = sink.for_block(c0, __mmask16(0xFFFF));
        detail::dw_block<KH, KW, S, U, false>(r, c0, __mmask16(0xFFFF), block);
    }
    if (c0 < r.c) {
        const auto m = __mmask16((1u << (r.c - c0)) - 1);
        auto block = sink.for_block(c0, m);
        detail::dw_block<KH, KW, S, U, true>(r, c0, m, block);
    }
}

// The row kernel for a kernel shape: 3x3 and 5x5 with their weights in registers, sliding
// windows for strides 1 and 2 without dilation along W; anything else the general kernel.
template <class Sink>
using dw_row_fn = void (*)(const dw_row_s8&, const Sink&) noexcept;

template <class Sink>
dw_row_fn<Sink> pick_dw_row(index_t kh, index_t kw, index_t stride_w, index_t dilation_w) noexcept {
    const bool slide = dilation_w == 1;
    if (kh == 3 && kw == 3) {
        if (slide && stride_w == 1) return &dw_row<3, 3, 1, 8, Sink>;
        if (slide && stride_w == 2) return &dw_row<3, 3, 2, 8, Sink>;
        return &dw_row<3, 3, 0, 1, Sink>;
    }
    if (kh == 5 && kw == 5) {
        if (slide && stride_w == 1) return &dw_row<5, 5, 1, 4, Sink>;
        if (slide && stride_w == 2) return &dw_row<5, 5, 2, 4, Sink>;
        return &dw_row<5, 5, 0, 1, Sink>;
    }
    return &dw_row<0, 0, 0, 1, Sink>;
}

}  // namespace sparq::kernels::xsimd::avx512vnni

SPARQ_INTRINSICS_END
#endif
