// conv2d_nhwc_s8_gather: an int8 channels-last convolution whose input image fits in 128 bytes
// (H x W x C: the digits CNN's 8x8x1 and 4x4x8), with int8 codes out and the requant stage fused.
//
// At such sizes im2col + GEMM is mostly overhead: a tap is 1 to 8 bytes, each copied on its own,
// and the GEMM's 32-column panels are a quarter or half used by 8 or 16 output channels. Here a
// whole image sits in two zmm registers, and each 64-byte piece of its im2col matrix (16 output
// pixels x 4 consecutive k of one group of four) is one vpermi2b of the image with a fixed index
// vector (the gather table, one per image geometry, built once per call from the shapes), the
// padding taps blended in. The sums take vpdpbusd over those pieces and the GEMM's own packed
// panels (k groups of 4, 32 columns): lanes hold (pixel, output channel) pairs, 16 / O pixels a
// vector when O divides 16, one pixel and O / 16 vectors when O is a multiple of 16, so no lane
// is wasted and each vector is a contiguous run of the NHWC output.
//
// Results: exact int32 sums (activations shifted by +128, 128 * the column sums taken back in
// wrapping uint32 arithmetic, as kernels/xsimd/gemm_s8.hpp), then the same vector requantization
// as the GEMM's fused stage (kernels/xsimd/epilogue.hpp), so codes are bit for bit
// scalar::conv2d + apply_requant's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "sparq/core/config.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/parallel.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/matmul.hpp"  // SPARQ_MATMUL_XSIMD, the xsimd epilogues, use_simd
#include "sparq/kernels/output_stage.hpp"

#if defined(SPARQ_MATMUL_XSIMD) && defined(__AVX512VBMI__) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define SPARQ_HAS_CONV_GATHER_S8 1
#include <immintrin.h>
#endif

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels {
namespace detail {

// Limits of the stack buffers: gather pieces an image (k groups x blocks of 16 output pixels)
// and k groups (the weight vectors of the O < 16 form).
constexpr index_t gather_max_pieces = 64;
constexpr index_t gather_max_k_groups = 32;
constexpr index_t gather_max_image_bytes = 128;
constexpr index_t gather_min_batch = 4;

}  // namespace detail

// Whether conv2d_nhwc_s8_gather runs this convolution (on this build and these weights): one
// group, input image H x W x C <= 128 bytes, O dividing 16 or a multiple of 16, weights in the
// VNNI GEMM's panels, the gather table within the stack buffers, and 4 images at least: the
// table is built on each call (~1.5 us for a digits CNN layer, about what im2col + GEMM cost
// for one image; measured batch 1 went from 3.5 to 7.5 us with it).
inline bool conv2d_nhwc_s8_gather_applies(const packed_conv<std::int8_t>& w, const conv2d_params& p,
                                          const extents_t<4>& xe, const extents_t<4>& ye) noexcept {
#if defined(SPARQ_HAS_CONV_GATHER_S8)
    if (!w.channels_last || p.groups != 1 || w.per_group.size() != 1) return false;
    const packed_s8& pk = w.per_group[0];
    if (pk.nr != 32 || pk.k_group != 4 || pk.k == 0) return false;
    const index_t o = ye[1], image = xe[1] * xe[2] * xe[3], pixels = ye[2] * ye[3];
    if (image < 1 || image > detail::gather_max_image_bytes || pixels < 1 || xe[0] < detail::gather_min_batch)
        return false;
    if (!(o >= 1 && (16 % o == 0 || o % 16 == 0))) return false;
    const index_t groups = pk.k_padded / 4, blocks = (pixels + 15) / 16;
    return groups <= detail::gather_max_k_groups && groups * blocks <= detail::gather_max_pieces;
#else
    (void)w, (void)p, (void)xe, (void)ye;
    return false;
#endif
}

#if defined(SPARQ_HAS_CONV_GATHER_S8)

namespace detail {

// The gather table of one image geometry: for piece (g, b), byte j of the im2col piece is image
// byte idx[j] when bit j of valid is set, else the padding code. Pieces are stored g-major, so
// the 4-byte k group g of pixel q is dword g * blocks * 16 + q of the gathered buffer.
struct gather_table {
    alignas(64) std::uint8_t idx[gather_max_pieces][64];
    std::uint64_t valid[gather_max_pieces];
    index_t groups = 0, blocks = 0;
};

inline void make_gather_table(const extents_t<4>& xe, const extents_t<4>& ye, index_t kw_n, index_t k,
                              index_t k_padded, const conv2d_params& p, gather_table& t) noexcept {
    const index_t c_n = xe[1], h = xe[2], w = xe[3], ow_n = ye[3], pixels = ye[2] * ye[3];
    t.groups = k_padded / 4, t.blocks = (pixels + 15) / 16;
    // each k's offsets (kh dh, kw dw, c), in the channels-last order (kh, kw, c); no division per entry
    index_t dy[4 * gather_max_k_groups], dx[4 * gather_max_k_groups], dc[4 * gather_max_k_groups];
    for (index_t kk = 0, kh = 0, kw = 0, c = 0; kk < k; ++kk) {
        dy[kk] = kh * p.dilation_h, dx[kk] = kw * p.dilation_w, dc[kk] = c;
        if (++c == c_n) {
            c = 0;
            if (++kw == kw_n) kw = 0, ++kh;
        }
    }
    const index_t pieces = t.groups * t.blocks;
    for (index_t i = 0; i < pieces; ++i) {
        t.valid[i] = 0;
        for (index_t j = 0; j < 64; ++j) t.idx[i][j] = 0;
    }
    // pixel by pixel, (oh, ow) stepped: no division per entry (this runs on every call, and a
    // batch of one image must not pay more for it than for the convolution)
    for (index_t q = 0, oh = 0, ow = 0; q < pixels; ++q) {
        const index_t ih0 = oh * p.stride_h - p.pad_top, iw0 = ow * p.stride_w - p.pad_left;
        for (index_t kk = 0; kk < k; ++kk) {
            const index_t ih = ih0 + dy[kk], iw = iw0 + dx[kk];
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            const index_t piece = (kk >> 2) * t.blocks + (q >> 4), j = (q & 15) * 4 + (kk & 3);
            t.idx[piece][j] = std::uint8_t((ih * w + iw) * c_n + dc[kk]);
            t.valid[piece] |= std::uint64_t(1) << j;
        }
        if (++ow == ow_n) ow = 0, ++oh;
    }
}

// The image's im2col pieces (table t), shifted to unsigned by +128, into a.
SPARQ_ALWAYS_INLINE void gather_image(const std::int8_t* image, index_t bytes, const gather_table& t, __m512i pad,
                                      std::uint8_t* a) noexcept {
    const __m512i flip = _mm512_set1_epi8(char(0x80));
    const __mmask64 lo_mask = bytes >= 64 ? ~__mmask64(0) : (__mmask64(1) << bytes) - 1;
    const __mmask64 hi_mask = bytes <= 64 ? 0 : bytes == 128 ? ~__mmask64(0) : (__mmask64(1) << (bytes - 64)) - 1;
    const __m512i lo = _mm512_xor_si512(_mm512_maskz_loadu_epi8(lo_mask, image), flip);
    const __m512i hi = _mm512_xor_si512(_mm512_maskz_loadu_epi8(hi_mask, image + 64), flip);
    const index_t pieces = t.groups * t.blocks;
    for (index_t i = 0; i < pieces; ++i) {
        const __m512i idx = _mm512_load_si512(t.idx[i]);
        const __m512i v = _mm512_permutex2var_epi8(lo, idx, hi);
        _mm512_store_si512(a + i * 64, _mm512_mask_blend_epi8(t.valid[i], pad, v));
    }
}

// Four bytes (one pixel's k group) in every lane.
SPARQ_ALWAYS_INLINE __m512i broadcast_dword(const std::uint8_t* p) noexcept {
    return _mm512_broadcastd_epi32(_mm_loadu_si32(p));
}

// The requant stage of 16 lanes whose channels the parameter vectors give, then int8 codes; the
// float_scale form's multipliers and bounds prepared once (the loops around kept rebuilding them).
struct gather_stage {
    using A = ::xsimd::default_arch;
    using ib = ::xsimd::batch<std::int32_t, A>;
    const requant_stage& st;
    __m512i corr, offset, fixed, shift;
    xsimd::detail::float_scale_block<A> block;

    gather_stage(const requant_stage& s, __m512i corr_v, __m512i offset_v, __m512i fixed_v, __m512i shift_v) noexcept
        : st(s),
          corr(corr_v),
          offset(offset_v),
          fixed(fixed_v),
          shift(shift_v),
          block(ib(offset_v), ib(fixed_v), ib(shift_v), s.zero_point, s.qmin, s.qmax) {}

    SPARQ_ALWAYS_INLINE __m128i operator()(__m512i acc) const noexcept {
        const ib sums = ib(_mm512_sub_epi32(acc, corr));  // the +128 shift taken back (wrapping)
        const ib v = st.rounding == quant::requant_rounding::float_scale
                         ? block(sums)
                         : xsimd::detail::requantize<A>(sums, ib(offset), ib(fixed), ib(shift), st.zero_point, st.qmin,
                                                        st.qmax, st.rounding, A{});
        return _mm512_cvtepi32_epi8(v);  // within [qmin, qmax]: no saturation needed
    }
};

// Lane l of the stage vectors: channel first + l % per (per: the channels one vector spans).
inline gather_stage make_gather_stage(const requant_stage& st, const packed_s8& pk, index_t first,
                                      index_t per) noexcept {
    alignas(64) std::int32_t corr[16], offset[16], fixed[16], shift[16];
    for (index_t l = 0; l < 16; ++l) {
        const std::size_t n = std::size_t(first + l % per);
        corr[l] = std::int32_t(128u * std::uint32_t(pk.col_sums(index_t(n))));
        offset[l] = st.offset[n], fixed[l] = st.fixed[n], shift[l] = st.shift[n];
    }
    return gather_stage(st, _mm512_load_si512(corr), _mm512_load_si512(offset), _mm512_load_si512(fixed),
                        _mm512_load_si512(shift));
}

}  // namespace detail

// y [N, OH, OW, O] int8 codes = requant(conv(x [N, H, W, C] codes, w)); the caller has checked
// the shapes (detail::check_nhwc, check_stage) and conv2d_nhwc_s8_gather_applies. Threads split
// the images.
inline void conv2d_nhwc_s8_gather(const context& ctx, const std::int8_t* x, const extents_t<4>& xe,
                                  const packed_conv<std::int8_t>& w, const conv2d_params& p, std::int8_t zero_point,
                                  const requant_stage& st, std::int8_t* y, const extents_t<4>& ye) noexcept {
    const packed_s8& pk = w.per_group[0];
    const index_t o = ye[1], pixels = ye[2] * ye[3], image = xe[1] * xe[2] * xe[3];
    detail::gather_table t;
    detail::make_gather_table(xe, ye, w.extents[3], pk.k, pk.k_padded, p, t);
    const index_t groups = t.groups, span = t.blocks * 16;  // dwords a k group spans in the buffer
    const __m512i pad = _mm512_set1_epi8(char(std::uint8_t(zero_point) ^ 0x80u));
    // work units (core/parallel.hpp): about a quarter of a unit a multiply-add
    const std::uint64_t image_work = std::uint64_t(pixels) * std::uint64_t(o) * std::uint64_t(pk.k_padded) / 4 + 64;
    if (o < 16) {
        // 16 / O pixels a vector: lane l is pixel l / O, channel l % O; the weights of each k
        // group (the panel's first O columns) repeated 16 / O times, kept for all images
        const index_t per_vec = 16 / o, vecs = (pixels + per_vec - 1) / per_vec;
        alignas(64) std::int32_t lane_pixel[16], lane_channel[16];
        for (index_t l = 0; l < 16; ++l) lane_pixel[l] = std::int32_t(l / o), lane_channel[l] = std::int32_t(l % o);
        const __m512i spread = _mm512_load_si512(lane_pixel), repeat = _mm512_load_si512(lane_channel);
        __m512i wv[detail::gather_max_k_groups];
        for (index_t g = 0; g < groups; ++g)
            wv[g] = _mm512_permutexvar_epi32(repeat, _mm512_loadu_si512(pk.panel(0) + g * 128));
        const detail::gather_stage stage = detail::make_gather_stage(st, pk, 0, o);
        parallel_range(ctx, xe[0], image_work, [&](index_t begin, index_t end) {
            alignas(64) std::uint8_t a[detail::gather_max_pieces * 64 + 64];  // + a vector's overread
            for (index_t n = begin; n < end; ++n) {
                detail::gather_image(x + n * image, image, t, pad, a);
                std::int8_t* yn = y + n * pixels * o;
                for (index_t v = 0; v < vecs; ++v) {
                    __m512i acc = _mm512_setzero_si512();
                    for (index_t g = 0; g < groups; ++g)
                        acc = _mm512_dpbusd_epi32(
                            acc,
                            _mm512_permutexvar_epi32(spread, _mm512_loadu_si512(a + (g * span + v * per_vec) * 4)),
                            wv[g]);
                    const index_t bytes = std::min(per_vec, pixels - v * per_vec) * o;
                    _mm_mask_storeu_epi8(
                        yn + v * 16, bytes == 16 ? __mmask16(0xFFFF) : __mmask16((1u << bytes) - 1), stage(acc));
                }
            }
        });
        return;
    }
    // one pixel a vector, O / 16 vectors a pixel: lane l is channel 16 v + l; four pixels at a
    // time (four independent chains of vpdpbusd)
    const index_t vos = o / 16;
    parallel_range(ctx, xe[0], image_work, [&](index_t begin, index_t end) {
        alignas(64) std::uint8_t a[detail::gather_max_pieces * 64 + 64];
        for (index_t n = begin; n < end; ++n) {
            detail::gather_image(x + n * image, image, t, pad, a);
            std::int8_t* yn = y + n * pixels * o;
            for (index_t vo = 0; vo < vos; ++vo) {
                const std::int8_t* panel = pk.panel(vo / 2) + (vo % 2) * 64;
                const detail::gather_stage stage = detail::make_gather_stage(st, pk, vo * 16, 16);
                index_t q = 0;
                for (; q + 4 <= pixels; q += 4) {
                    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
                    for (index_t g = 0; g < groups; ++g) {
                        const __m512i wg = _mm512_loadu_si512(panel + g * 128);
                        const std::uint8_t* ag = a + (g * span + q) * 4;
                        acc0 = _mm512_dpbusd_epi32(acc0, detail::broadcast_dword(ag), wg);
                        acc1 = _mm512_dpbusd_epi32(acc1, detail::broadcast_dword(ag + 4), wg);
                        acc2 = _mm512_dpbusd_epi32(acc2, detail::broadcast_dword(ag + 8), wg);
                        acc3 = _mm512_dpbusd_epi32(acc3, detail::broadcast_dword(ag + 12), wg);
                    }
                    std::int8_t* yq = yn + q * o + vo * 16;
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(yq), stage(acc0));
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(yq + o), stage(acc1));
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(yq + 2 * o), stage(acc2));
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(yq + 3 * o), stage(acc3));
                }
                for (; q < pixels; ++q) {
                    __m512i acc = _mm512_setzero_si512();
                    for (index_t g = 0; g < groups; ++g)
                        acc = _mm512_dpbusd_epi32(acc, detail::broadcast_dword(a + (g * span + q) * 4),
                                                  _mm512_loadu_si512(panel + g * 128));
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(yn + q * o + vo * 16), stage(acc));
                }
            }
        }
    });
}

#endif

}  // namespace sparq::kernels

SPARQ_INTRINSICS_END
