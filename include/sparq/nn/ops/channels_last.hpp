// Channels-last twins of the small graph ops a CNN runs between its convolutions: max / average
// pooling, global average pooling, batch normalization and concatenation along channels, on
// batches held as [batch, H, W, C] (shapes still given as sample_shape {C, H, W}), so a model
// that keeps its activations channels-last never transposes around them.
//
// Each gives bit for bit what its NCHW op (ops.hpp, ops/elementwise.hpp, ops/layout.hpp) gives
// on the same data transposed: every channel sees the same arithmetic in the same order (the
// same taps in the same order, the same double sums, the same division), and the energy
// counter gets the same calls with the same totals. Only the loop order differs: the innermost
// loop runs over a pixel's channels, contiguous here, so it vectorises without branches, where
// the NCHW loops run over a plane's pixels. (One thing C++ does not pin down: when two
// different NaNs meet in a sum, which payload survives may depend on the operand order the
// compiler picks; the result is NaN either way.)
//
// Threads (core/parallel.hpp) split whole output rows, pixels or blocks of channels, never a
// window's or a channel's sum, so any thread count gives the same bits; the energy counter gets
// its calls once, on the calling thread, from the shapes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "sparq/core/context.hpp"
#include "sparq/core/parallel.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/nn/op.hpp"
#include "sparq/nn/ops/max_window_nhwc.hpp"

namespace sparq::nn::ops {

namespace detail {

// Channels whose accumulators a window keeps in a local block: 64 doubles are 512 bytes of
// stack (no heap, no arena: the ops stay noexcept), and 8 AVX-512 / 16 AVX2 registers.
inline constexpr index_t nhwc_block = 64;
using nhwc_full_block = std::integral_constant<index_t, nhwc_block>;

// v > best, or v is NaN: the max pooling step of ops::pool, where NaN wins and stays (a later
// NaN replaces an earlier one, as there). A bitwise or, not ||: no branch for the vectoriser.
template <class T>
inline T max_step(T v, T best) noexcept {
    if constexpr (std::is_floating_point_v<T>)
        return ((v > best) | (v != v)) ? v : best;
    else
        return v > best ? v : best;
}

// The max over a window's taps on the input (rows x cols pixels from x0, pixel rows row_stride
// values apart) of n channels, into y. N is index_t, or nhwc_full_block so that a full block's
// loops have a constant trip count the compiler unrolls into registers.
template <class T, class N>
inline void max_window(const T* x0, index_t rows, index_t cols, index_t row_stride, index_t channels, T* y,
                       N n) noexcept {
    T best[nhwc_block];
    for (index_t c = 0; c < n; ++c) best[c] = std::numeric_limits<T>::lowest();
    for (index_t r = 0; r < rows; ++r)
        for (index_t k = 0; k < cols; ++k) {
            const T* xp = x0 + r * row_stride + k * channels;
            for (index_t c = 0; c < n; ++c) best[c] = max_step(xp[c], best[c]);
        }
    for (index_t c = 0; c < n; ++c) y[c] = best[c];
}

// The average of a window's taps, each channel summed in double in tap order (row by row, as
// ops::pool), then divided by `divisor` (not multiplied by its inverse: ops::pool divides).
template <class N>
inline void avg_window(const float* x0, index_t rows, index_t cols, index_t row_stride, index_t channels,
                       double divisor, float* y, N n) noexcept {
    double sum[nhwc_block];
    for (index_t c = 0; c < n; ++c) sum[c] = 0;
    for (index_t r = 0; r < rows; ++r)
        for (index_t k = 0; k < cols; ++k) {
            const float* xp = x0 + r * row_stride + k * channels;
            for (index_t c = 0; c < n; ++c) sum[c] += double(xp[c]);
        }
    for (index_t c = 0; c < n; ++c) y[c] = float(sum[c] / divisor);
}

// The taps on the input of every window of one plane (what a pooling sums, padding excluded):
// a window's taps are its rows on the input times its columns on the input, so the total is
// the product of the sums over output rows and over output columns.
inline std::uint64_t pool_plane_taps(const pool_params& p, const sample_shape& in, const sample_shape& out) noexcept {
    const auto on_input = [](index_t start, index_t k, index_t extent) -> std::uint64_t {
        const index_t lo = std::max<index_t>(start, 0), hi = std::max(lo, start + std::min(k, extent - start));
        return std::uint64_t(hi - lo);
    };
    std::uint64_t rows = 0, cols = 0;
    for (index_t oh = 0; oh < out[1]; ++oh) rows += on_input(oh * p.stride_h - p.pad_top, p.kh, in[1]);
    for (index_t ow = 0; ow < out[2]; ++ow) cols += on_input(ow * p.stride_w - p.pad_left, p.kw, in[2]);
    return rows * cols;
}

// One output row of a pooling: its windows' taps on the input at most, per channel (the work
// units of core/parallel.hpp: measured ~0.1 ns a tap of a channel channels-last, ~1 ns a tap of
// the NCHW loop, which tests each value for NaN).
inline std::uint64_t pool_row_taps(const pool_params& p, const sample_shape& in, const sample_shape& out) noexcept {
    return std::uint64_t(out[2]) * std::uint64_t(std::min(p.kh, in[1])) * std::uint64_t(std::min(p.kw, in[2]));
}

// f(first channel, count) over the channels in blocks, full blocks with a constant count.
template <class F>
inline void for_channel_blocks(index_t channels, F f) noexcept {
    index_t c0 = 0;
    for (; c0 + nhwc_block <= channels; c0 += nhwc_block) f(c0, nhwc_full_block{});
    if (c0 < channels) f(c0, channels - c0);
}

// f(first channel, count) for block k of for_channel_blocks alone.
template <class F>
inline void channel_block(index_t channels, index_t k, F f) noexcept {
    const index_t c0 = k * nhwc_block;
    if (c0 + nhwc_block <= channels) f(c0, nhwc_full_block{});
    else f(c0, channels - c0);
}

}  // namespace detail

// Max or average pooling of [batch, H, W, C] into [batch, OH, OW, C]; T float, or int8_t for
// max pooling only (ops::pool writes nothing for an int8 average: never asked). A window
// outside the input on some side reads only its taps on the input (its padding costs nothing,
// however large); one wholly outside gives lowest() (max) or 0 (average), as ops::pool.
template <class T>
void pool_nhwc(const context& ctx, op kind, const pool_params& p, const T* x, const sample_shape& in, T* y,
               const sample_shape& out, index_t batch) noexcept {
    const index_t channels = in[0], ih = in[1], iw = in[2], row_stride = iw * channels;
    const double window = double(p.kh * p.kw);
    // threads split the output rows (image, oh); a row's work: its taps over all channels
    const std::uint64_t row_work = detail::pool_row_taps(p, in, out) * std::uint64_t(channels);
#if defined(SPARQ_HAS_MAX_POOL_ROW_PAIRS)
    // int8, 2 wide at stride 2 (the digits CNN's pools): whole output rows a few vectors each
    const bool row_pairs = std::is_same_v<T, std::int8_t> && kind == op::max_pool &&
                           detail::max_pool_row_pairs_apply(channels, p.kw, p.stride_w, p.pad_left, iw, out[2]);
    const detail::row_pair_index pair_index = detail::make_row_pair_index(row_pairs ? channels : 1);
#endif
    parallel_range(ctx, batch * out[1], row_work, [&](index_t begin, index_t end) {
        for (index_t r = begin; r < end; ++r) {
            const index_t b = r / out[1], oh = r % out[1];
            const T* xb = x + b * ih * row_stride;
            T* yb = y + b * out[1] * out[2] * channels;
            // the window's rows on the input, [h_lo, h_hi), empty when it lies wholly outside
            // (h0 + min(kh, ih - h0), not min(h0 + kh, ih): a huge kh must not overflow)
            const index_t h0 = oh * p.stride_h - p.pad_top;
            const index_t h_lo = std::max<index_t>(h0, 0), h_hi = std::max(h_lo, h0 + std::min(p.kh, ih - h0));
#if defined(SPARQ_HAS_MAX_POOL_ROW_PAIRS)
            if constexpr (std::is_same_v<T, std::int8_t>) {
                if (row_pairs) {
                    detail::max_pool_row_pairs(xb + (h_hi > h_lo ? h_lo * row_stride : 0), h_hi - h_lo, row_stride, channels,
                                               out[2], pair_index, yb + oh * out[2] * channels);
                    continue;
                }
            }
#endif
            for (index_t ow = 0; ow < out[2]; ++ow) {
                const index_t w0 = ow * p.stride_w - p.pad_left;
                const index_t w_lo = std::max<index_t>(w0, 0), w_hi = std::max(w_lo, w0 + std::min(p.kw, iw - w0));
                const index_t rows = h_hi - h_lo, cols = w_hi - w_lo, valid = rows * cols;
                // no pointer is formed outside x: an empty window reads nothing from x0
                const T* x0 = xb + (valid ? h_lo * row_stride + w_lo * channels : 0);
                T* yp = yb + (oh * out[2] + ow) * channels;
                if (kind == op::max_pool) {
#if defined(SPARQ_HAS_MAX_WINDOW_NHWC)
                    // whole vectors of channels per tap (ops/max_window_nhwc.hpp): the same bits
                    detail::max_window_vector(x0, rows, cols, row_stride, channels, yp);
#else
                    detail::for_channel_blocks(channels, [&](index_t c0, auto n) {
                        detail::max_window(x0 + c0, rows, cols, row_stride, channels, yp + c0, n);
                    });
#endif
                } else if constexpr (std::is_floating_point_v<T>) {
                    const double divisor = p.count_include_pad ? window : double(valid ? valid : 1);
                    detail::for_channel_blocks(channels, [&](index_t c0, auto n) {
                        detail::avg_window(x0 + c0, rows, cols, row_stride, channels, divisor, yp + c0, n);
                    });
                }
            }
        }
    });
    // ops::pool's counts: its planes are batch x channels, each with these taps
    const std::uint64_t planes = std::uint64_t(batch * channels);
    const std::uint64_t n_in = planes * std::uint64_t(ih * iw), n_out = planes * std::uint64_t(out[1] * out[2]);
    if (ctx.energy) {
        ctx.energy->add_activations(dtype_of_v<T>, n_in);
        ctx.energy->add_activations(dtype_of_v<T>, n_out);
        if (kind == op::avg_pool) ctx.energy->add_adds(dtype::f32, planes * detail::pool_plane_taps(p, in, out));
    }
}

// [batch, H, W, C] to [batch, C]: each channel's mean, summed in double pixel by pixel (the
// order ops::global_avg_pool sums a plane in), a block of channels at a time.
inline void global_avg_pool_nhwc(const context& ctx, const float* x, const sample_shape& in, float* y,
                                 index_t batch) noexcept {
    const index_t channels = in[0], hw = in[1] * in[2];
    // threads split (image, block of channels) pairs: a block's sums stay whole, in pixel order;
    // two work units a value (double sums: measured ~0.2 ns a value)
    const index_t blocks = (channels + detail::nhwc_block - 1) / detail::nhwc_block;
    const std::uint64_t block_work = 2 * std::uint64_t(hw) * std::uint64_t(std::min(channels, detail::nhwc_block));
    parallel_range(ctx, batch * blocks, block_work, [&](index_t begin, index_t end) {
        for (index_t r = begin; r < end; ++r) {
            const float* xb = x + (r / blocks) * hw * channels;
            float* yb = y + (r / blocks) * channels;
            detail::channel_block(channels, r % blocks, [&](index_t c0, auto n) {
                double sum[detail::nhwc_block];
                for (index_t c = 0; c < n; ++c) sum[c] = 0;
                for (index_t i = 0; i < hw; ++i) {
                    const float* xp = xb + i * channels + c0;
                    for (index_t c = 0; c < n; ++c) sum[c] += xp[c];
                }
                for (index_t c = 0; c < n; ++c) yb[c0 + c] = float(sum[c] / double(hw));
            });
        }
    });
    if (ctx.energy) {
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * channels * hw));
        ctx.energy->add_activations(dtype::f32, std::uint64_t(batch * channels));
        ctx.energy->add_adds(dtype::f32, std::uint64_t(batch * channels * hw));
    }
}

// y[b, i, c] = x[b, i, c] * scale[c] + shift[c] over [batch, plane, channels] (affine: the
// channels scales, then the channels shifts, as ops::batch_norm).
inline void batch_norm_nhwc(const context& ctx, const float* x, const float* affine, float* y, index_t batch,
                            index_t channels, index_t plane) noexcept {
    const float* scale = affine;
    const float* shift = affine + channels;
    parallel_range(ctx, batch * plane, std::uint64_t(channels), [&](index_t begin, index_t end) {  // pixels
        for (index_t i = begin; i < end; ++i) {
            const float* xp = x + i * channels;
            float* yp = y + i * channels;
            for (index_t c = 0; c < channels; ++c) yp[c] = xp[c] * scale[c] + shift[c];
        }
    });
    const std::uint64_t n = std::uint64_t(batch * channels * plane);
    energy::count_elementwise(ctx.energy, dtype::f32, dtype::f32, n);
    if (ctx.energy) ctx.energy->add_adds(dtype::f32, n);  // the shift (the scale: the elementwise pass's multiply)
}

// y [batch, H, W, sum C_i] = parts[i] [batch, H, W, C_i] joined along channels (sample axis 0,
// as ops::concat_axis with axis 0): per pixel, each part's channels in turn. T float or int8_t
// (codes: the parts must share one scale and zero point, which is the caller's business).
template <class T>
void concat_channels_nhwc(const context& ctx, const T* const* parts, const sample_shape* shapes, std::size_t count,
                          T* y, const sample_shape& ys, index_t batch) noexcept {
    const index_t pixels = batch * ys[1] * ys[2];
    // written once: pixel by pixel, each part's channels in turn; threads split the pixels
    parallel_range(ctx, pixels, std::uint64_t(ys[0]), [&](index_t begin, index_t end) {
        T* dst = y + begin * ys[0];
        for (index_t px = begin; px < end; ++px)
            for (std::size_t i = 0; i < count; ++i) {
                const index_t ci = shapes[i][0];
                const T* src = parts[i] + px * ci;
                for (index_t c = 0; c < ci; ++c) dst[c] = src[c];
                dst += ci;
            }
    });
    energy::count_elementwise(ctx.energy, dtype_of_v<T>, dtype_of_v<T>, std::uint64_t(batch * ys[0] * ys[1] * ys[2]));
}

inline void concat_channels_nhwc(const context& ctx, const float* const* parts, const sample_shape* shapes,
                                 std::size_t count, float* y, const sample_shape& ys, index_t batch) noexcept {
    concat_channels_nhwc<float>(ctx, parts, shapes, count, y, ys, batch);
}

}  // namespace sparq::nn::ops
