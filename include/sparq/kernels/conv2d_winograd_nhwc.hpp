// conv2d_winograd_nhwc: a 3x3, stride-1 convolution on channels-last activations by Winograd's
// minimal filtering F(m x m, 3 x 3) (winograd_transforms.hpp), with fewer multiplies than the
// im2col + GEMM convolution (conv2d_nhwc.hpp): F(2x2) does 16 per 2x2 outputs where the direct
// form does 36 (2.25x fewer), F(4x4) 36 per 16 outputs instead of 144 (4x fewer).
//
// The output is cut into m x m tiles (the batch folded in: tile = (n, tile row, tile column));
// chunks of tiles run the pipeline
//
//   1. input transform: each tile's (m + 2)^2 channels-last patch (zeros outside the image:
//      any padding, and past the right / bottom edge for partial tiles) -> B^T d B, written as
//      V[position][tile][C], vectorised across channels;
//   2. (m + 2)^2 GEMMs on the packed fp32 GEMM: M[pos] = V[pos] [tiles, C] x U[pos] [C, O], U the
//      weights transformed once at pack time (G g G^T), one packed B operand per position;
//   3. output transform: A^T M A + bias, activation, written to the tile's pixels of y (only
//      those inside the output), vectorised across output channels.
//
// A chunk's V and M stay near L2 (the chunk's size does not depend on the thread count, so the
// bits do not either); threads take chunks (each task its own V and M in a slice of the arena),
// or, when there is a single chunk, split the GEMMs' weight panels.
//
// Accuracy: the sums are the convolution's up to rounding, but rounding the transformed values
// (larger than the inputs, cancelling in the output transform) costs more than the direct sum's.
// Measured against a double-precision direct convolution on resnet18's layers (N(0,1) inputs,
// He-initialised weights, padding 1, batch 1; max |error| / max |output|, then / rms output):
//
//   layer (C = O, map)   im2col + GEMM        F(2x2, 3x3)          F(4x4, 3x3)
//   64, 56x56            4.9e-7 / 2.4e-6      3.2e-7 / 1.6e-6      3.1e-6 / 1.5e-5
//   128, 28x28           3.1e-7 / 1.7e-6      3.8e-7 / 2.0e-6      2.4e-6 / 1.3e-5
//   256, 14x14           3.6e-7 / 1.6e-6      6.2e-7 / 2.8e-6      4.2e-6 / 1.9e-5
//   512, 7x7             3.3e-7 / 1.4e-6      6.6e-7 / 2.9e-6      5.2e-6 / 2.3e-5
//   512, 14x14           3.3e-7 / 1.6e-6      5.6e-7 / 2.6e-6      3.6e-6 / 1.7e-5
//
// F(2x2) is as exact as the direct form (within 2x); F(4x4) is ~10x less exact, 5e-6 of the
// largest output at worst (Lavin's points 0, +-1, +-2 gave up to 1.5e-5: winograd_transforms.hpp).
//
// Speed (bench/bench_conv_winograd.cpp, one thread, Xeon with AVX-512, batch 1, resnet18's
// layers as direct-convolution GFLOP/s; im2col + GEMM 150-180): F(2x2) 300-350 on 56x56 to
// 14x14, 205 on 7x7x512; F(4x4) 450-540 on 56x56 and 28x28, 350 on 14x14, 130 on 7x7x512,
// where 4 tiles make each of the 36 GEMMs 4 rows against 1 MB of weights (memory-bound).
//
// Non-finite values: an Inf or NaN input reaches, through the transforms, every output of the
// tiles whose patch holds it, including outputs whose 3x3 window does not (a direct convolution
// keeps it to the window). Every output the direct convolution makes non-finite is non-finite
// here too.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/thread_pool.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/winograd_transforms.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels {
// Whether conv2d_nhwc_winograd can run weights [O, C / groups, KH, KW] with params p: 3x3,
// stride 1, no dilation, one group; any padding.
inline bool winograd_applies(const extents_t<4>& w, const conv2d_params& p) noexcept {
    return w[2] == 3 && w[3] == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dilation_h == 1 && p.dilation_w == 1 &&
           p.groups == 1;
}

// 3x3 weights transformed for F(m x m, 3 x 3): for each of the (m + 2)^2 positions, the [O, C]
// matrix U[pos][o][c] = (G g[o][c] G^T)[pos], packed as the GEMM's B operand.
struct packed_winograd {
    index_t out_channels = 0, in_channels = 0;
    index_t m = 2;                      // outputs per tile side: 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3))
    std::vector<packed_f32> positions;  // (m + 2)^2, row-major over the tile
    index_t t() const noexcept { return m + 2; }
    std::size_t bytes() const noexcept {
        std::size_t b = 0;
        for (const packed_f32& p : positions) b += p.bytes();
        return b;
    }
};

// Packs OIHW fp32 weights [O, C, 3, 3] (one group) for F(m x m, 3 x 3), m = 2 or 4. The
// transform runs in double and rounds each U once.
inline result<packed_winograd> pack_winograd_weights(const tensor_view<const float, 4>& w, index_t m = 2) {
    if (m != 2 && m != 4) return status(errc::invalid_argument, "pack_winograd_weights: tile %td (2 or 4)", m);
    if (w.extent(2) != 3 || w.extent(3) != 3)
        return status(errc::invalid_argument, "pack_winograd_weights: a %tdx%td kernel (3x3 only)", w.extent(2),
                      w.extent(3));
    packed_winograd p;
    p.out_channels = w.extent(0), p.in_channels = w.extent(1), p.m = m;
    const index_t o_n = p.out_channels, c_n = p.in_channels, t = m + 2, positions = t * t;
    auto u = tensor<float, 2>::make({positions, o_n * c_n});  // U[pos][o * C + c]
    if (!u) return u.error();
    for (index_t o = 0; o < o_n; ++o)
        for (index_t c = 0; c < c_n; ++c) {
            double g[9], out[36];
            for (index_t k = 0; k < 9; ++k) g[k] = double(w(o, c, k / 3, k % 3));
            if (m == 2)
                winograd::weight_transform<2>(g, out);
            else
                winograd::weight_transform<4>(g, out);
            for (index_t q = 0; q < positions; ++q) (*u)(q, o * c_n + c) = float(out[q]);
        }
    p.positions.reserve(std::size_t(positions));
    for (index_t q = 0; q < positions; ++q) {
        auto packed = pack_weights(matrix_view<const float>(u->data() + q * o_n * c_n, {o_n, c_n}));
        if (!packed) return packed.error();
        p.positions.push_back(std::move(*packed));
    }
    return p;
}

namespace detail {

// A chunk's V + M take about this much, half of L2 or less (1-2 MB per core on the machines
// sparq runs on: the GEMM's weight panels need room too; on the Xeon 512 KB ran resnet's 56x56
// layer ~5 % faster than 1 MB and 2 MB 15 % slower); more when the transformed weights are
// larger, since every chunk streams all of them once.
constexpr std::size_t winograd_chunk_floor_bytes = std::size_t(1) << 19;
constexpr std::size_t winograd_chunk_ceiling_bytes = std::size_t(4) << 20;
// The GEMM's row block on the widest kernel (AVX-512's 12): chunks are whole blocks of it.
constexpr index_t winograd_row_block = 12;

struct winograd_plan {
    index_t tiles_h = 0, tiles_w = 0, tiles = 0, chunk = 0, chunks = 0, tasks = 1;
    std::size_t v_bytes = 0, m_bytes = 0;  // per task
    std::size_t task_bytes() const noexcept { return v_bytes + m_bytes; }
};

constexpr std::size_t winograd_round_64(std::size_t b) noexcept {
    return (b + 63) / 64 * 64;
}

inline winograd_plan plan_winograd(const packed_winograd& w, const extents_t<4>& ye, int threads) noexcept {
    winograd_plan pl;
    const index_t m = w.m, positions = w.t() * w.t();
    pl.tiles_h = (ye[2] + m - 1) / m, pl.tiles_w = (ye[3] + m - 1) / m;
    pl.tiles = ye[0] * pl.tiles_h * pl.tiles_w;
    const std::size_t per_tile = std::size_t(positions * (w.in_channels + w.out_channels)) * sizeof(float);
    const std::size_t budget = std::min(std::max(winograd_chunk_floor_bytes, w.bytes()), winograd_chunk_ceiling_bytes);
    index_t chunk = index_t(budget / std::max<std::size_t>(per_tile, 1));
    if (chunk > winograd_row_block) chunk = chunk / winograd_row_block * winograd_row_block;
    pl.chunk = std::clamp<index_t>(chunk, 1, std::max<index_t>(pl.tiles, 1));
    pl.chunks = pl.tiles ? (pl.tiles + pl.chunk - 1) / pl.chunk : 0;
    // below about a million multiply-adds waking the pool costs more than it saves
    const bool big = std::uint64_t(pl.tiles) * std::uint64_t(positions) * std::uint64_t(w.in_channels) *
                         std::uint64_t(w.out_channels) >=
                     (std::uint64_t(1) << 20);
    pl.tasks = big ? std::max<index_t>(1, std::min<index_t>(threads, pl.chunks)) : 1;
    pl.v_bytes = winograd_round_64(std::size_t(positions * pl.chunk * w.in_channels) * sizeof(float));
    pl.m_bytes = winograd_round_64(std::size_t(positions * pl.chunk * w.out_channels) * sizeof(float));
    return pl;
}

// Where tile `tile` of the batch starts: image n, top-left output pixel (oh0, ow0).
struct tile_origin {
    index_t n, oh0, ow0;
};
inline tile_origin winograd_tile(index_t tile, index_t m, index_t tiles_h, index_t tiles_w) noexcept {
    return {tile / (tiles_h * tiles_w), tile / tiles_w % tiles_h * m, tile % tiles_w * m};
}

// Step 1 for tiles [t0, t0 + count): V[pos][r][c] = (B^T d B)[pos] of tile t0 + r, channel c.
template <index_t M>
void winograd_input(const float* x, const extents_t<4>& xe, const conv2d_params& p, const winograd_plan& pl, index_t t0,
                    index_t count, float* v) noexcept {
    constexpr index_t T = M + 2, P = T * T;
    const index_t c_n = xe[1], h = xe[2], w = xe[3];
    const std::size_t pos_stride = std::size_t(count * c_n);
    for (index_t r = 0; r < count; ++r) {
        const tile_origin at = winograd_tile(t0 + r, M, pl.tiles_h, pl.tiles_w);
        const index_t ih0 = at.oh0 - p.pad_top, iw0 = at.ow0 - p.pad_left;
        // the patch's pixels, null outside the image (zeros)
        const float* src[P];
        for (index_t i = 0; i < T; ++i)
            for (index_t j = 0; j < T; ++j) {
                const index_t ih = ih0 + i, iw = iw0 + j;
                src[i * T + j] =
                    ih >= 0 && ih < h && iw >= 0 && iw < w ? x + ((at.n * h + ih) * w + iw) * c_n : nullptr;
            }
        float* out = v + r * c_n;
        index_t c = 0;
#if defined(SPARQ_MATMUL_XSIMD)
        using fb = ::xsimd::batch<float, ::xsimd::default_arch>;
        constexpr index_t L = index_t(fb::size);
        for (; c + L <= c_n; c += L) {
            fb d[P];
            SPARQ_UNROLL
            for (index_t q = 0; q < P; ++q) d[q] = src[q] ? fb::load_unaligned(src[q] + c) : fb(0.0f);
            winograd::input_transform<M>(d);
            SPARQ_UNROLL
            for (index_t q = 0; q < P; ++q) d[q].store_unaligned(out + q * pos_stride + c);
        }
#endif
        for (; c < c_n; ++c) {
            float d[P];
            for (index_t q = 0; q < P; ++q) d[q] = src[q] ? src[q][c] : 0.0f;
            winograd::input_transform<M>(d);
            for (index_t q = 0; q < P; ++q) out[q * pos_stride + c] = d[q];
        }
    }
}

// Step 3 for tiles [t0, t0 + count): y at the tile's pixels inside the output =
// act((A^T M A)[i][j] + bias).
template <index_t M>
void winograd_output(const float* sums, const extents_t<4>& ye, const winograd_plan& pl, index_t t0, index_t count,
                     const std::vector<float>& bias, activation act, float* y) noexcept {
    constexpr index_t T = M + 2, P = T * T;
    const index_t o_n = ye[1], oh_n = ye[2], ow_n = ye[3];
    const std::size_t pos_stride = std::size_t(count * o_n);
    const float* b = bias.empty() ? nullptr : bias.data();
    for (index_t r = 0; r < count; ++r) {
        const tile_origin at = winograd_tile(t0 + r, M, pl.tiles_h, pl.tiles_w);
        const index_t rows = std::min<index_t>(M, oh_n - at.oh0), cols = std::min<index_t>(M, ow_n - at.ow0);
        float* dst[M * M];  // the tile's output pixels, null past the edge
        for (index_t i = 0; i < M; ++i)
            for (index_t j = 0; j < M; ++j)
                dst[i * M + j] =
                    i < rows && j < cols ? y + ((at.n * oh_n + at.oh0 + i) * ow_n + at.ow0 + j) * o_n : nullptr;
        const float* in = sums + r * o_n;
        index_t o = 0;
#if defined(SPARQ_MATMUL_XSIMD)
        using arch = ::xsimd::default_arch;
        using fb = ::xsimd::batch<float, arch>;
        constexpr index_t L = index_t(fb::size);
        for (; o + L <= o_n; o += L) {
            fb s[P], out[M * M];
            SPARQ_UNROLL
            for (index_t q = 0; q < P; ++q) s[q] = fb::load_unaligned(in + q * pos_stride + o);
            winograd::output_transform<M>(s, out);
            const fb bv = b ? fb::load_unaligned(b + o) : fb(0.0f);
            SPARQ_UNROLL
            for (index_t q = 0; q < M * M; ++q)
                if (dst[q]) xsimd::bias_activation<arch>(out[q], bv, act).store_unaligned(dst[q] + o);
        }
#endif
        for (; o < o_n; ++o) {
            float s[P], out[M * M];
            for (index_t q = 0; q < P; ++q) s[q] = in[q * pos_stride + o];
            winograd::output_transform<M>(s, out);
            const float bo = b ? b[o] : 0.0f;
            for (index_t q = 0; q < M * M; ++q)
                if (dst[q]) dst[q][o] = activate(out[q] + bo, act);
        }
    }
}

template <index_t M>
status winograd_chunks(const context& ctx, const float* x, const extents_t<4>& xe, const packed_winograd& w,
                       const conv2d_params& p, const std::vector<float>& bias, activation act, float* y,
                       const extents_t<4>& ye) noexcept {
    constexpr index_t P = (M + 2) * (M + 2);
    winograd_plan pl = plan_winograd(w, ye, parallel_threads(ctx, 1 << 20));
    if (pl.tiles == 0) return status::success();
    // as many tasks as the arena holds buffers for (after up to 63 bytes of alignment)
    if (ctx.scratch) {
        const std::size_t room = ctx.scratch->available() > 63 ? ctx.scratch->available() - 63 : 0;
        pl.tasks = std::max<index_t>(1, std::min<index_t>(pl.tasks, index_t(room / pl.task_bytes())));
    }
    SPARQ_TRY(ctx.require_scratch(pl.task_bytes(), "conv2d_nhwc_winograd (transformed tiles)"));
    constexpr index_t max_tasks = 64;
    pl.tasks = std::min(pl.tasks, max_tasks);
    context one = ctx;
    one.energy = nullptr;               // counted once, as the convolution
    one.scratch = nullptr;              // the float GEMM takes none
    if (pl.tasks > 1) one.threads = 1;  // else the single task's GEMMs split their panels
    const arena::marker top = ctx.scratch->mark();
    auto* buffers = static_cast<std::byte*>(ctx.scratch->allocate(std::size_t(pl.tasks) * pl.task_bytes(), 64));
    if (!buffers) return status(errc::out_of_memory, "conv2d_nhwc_winograd: the arena is too small for the tiles");
    const index_t c_n = w.in_channels, o_n = w.out_channels;
    status failed[max_tasks];
    parallel_for(ctx, pl.tasks, [&](index_t t) {
        auto* v = reinterpret_cast<float*>(buffers + std::size_t(t) * pl.task_bytes());
        auto* sums = reinterpret_cast<float*>(buffers + std::size_t(t) * pl.task_bytes() + pl.v_bytes);
        for (index_t ci = t; ci < pl.chunks; ci += pl.tasks) {
            const index_t t0 = ci * pl.chunk, count = std::min(pl.chunk, pl.tiles - t0);
            winograd_input<M>(x, xe, p, pl, t0, count, v);
            for (index_t q = 0; q < P; ++q) {
                const status s =
                    matmul(one, matrix_view<const float>(v + q * count * c_n, {count, c_n}),
                           w.positions[std::size_t(q)], matrix_view<float>(sums + q * count * o_n, {count, o_n}));
                if (!s.ok()) {
                    failed[t] = s;
                    return;
                }
            }
            winograd_output<M>(sums, ye, pl, t0, count, bias, act, y);
        }
    });
    ctx.scratch->release(top);
    for (index_t t = 0; t < pl.tasks; ++t)
        if (!failed[t].ok()) return failed[t];
    return status::success();
}

}  // namespace detail

// The arena bytes conv2d_nhwc_winograd takes for output ye (NCHW extents) on `threads` threads
// (it uses fewer when the arena holds less; one task's share is the least it needs).
inline std::size_t conv2d_nhwc_winograd_scratch_bytes(const packed_winograd& w, const extents_t<4>& ye,
                                                      int threads = 1) noexcept {
    const detail::winograd_plan pl = detail::plan_winograd(w, ye, threads);
    return pl.tiles ? std::size_t(pl.tasks) * pl.task_bytes() : 0;
}

// y [N, OH, OW, O] = act(conv(x [N, H, W, C], w) + bias) for a 3x3 stride-1 convolution
// (winograd_applies), as conv2d_nhwc: extents given as NCHW (conv2d_output's), x and y contiguous
// channels-last, bias O floats or empty. Scratch from ctx.scratch
// (conv2d_nhwc_winograd_scratch_bytes).
// Energy: counted as conv2d_nhwc counts the layer (N * OH * OW * O * C * 9 fp32 MACs, the same
// weight and activation bytes), the layer's work rather than the multiplies this algorithm
// performs, so a model's energy report does not depend on which kernel ran a layer.
inline status conv2d_nhwc_winograd(const context& ctx, const float* x, const extents_t<4>& xe, const packed_winograd& w,
                                   const conv2d_params& p, const std::vector<float>& bias, activation act, float* y,
                                   const extents_t<4>& ye) noexcept {
    const extents_t<4> we{w.out_channels, w.in_channels, 3, 3};
    if (!winograd_applies(we, p))
        return status(errc::invalid_argument,
                      "conv2d_nhwc_winograd: stride %tdx%td, dilation %tdx%td, %td groups (Winograd runs 3x3 stride 1, "
                      "dilation 1, one group)",
                      p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.groups);
    if ((w.m != 2 && w.m != 4) || w.positions.size() != std::size_t(w.t() * w.t()))
        return status(errc::invalid_argument, "conv2d_nhwc_winograd: the weights are not a packed Winograd layout");
    auto out = conv2d_output(xe, we, p);
    if (!out) return out.error();
    if (*out != ye) {
        char a[64], b[64];
        return status(errc::shape_mismatch, "conv2d_nhwc_winograd: the output is %s, y is %s",
                      format_extents(*out, a, sizeof a), format_extents(ye, b, sizeof b));
    }
    if (!bias.empty() && index_t(bias.size()) != ye[1])
        return status(errc::shape_mismatch, "conv2d_nhwc_winograd: %zu biases for %td output channels", bias.size(),
                      ye[1]);
    if (w.m == 2)
        SPARQ_TRY(detail::winograd_chunks<2>(ctx, x, xe, w, p, bias, act, y, ye));
    else
        SPARQ_TRY(detail::winograd_chunks<4>(ctx, x, xe, w, p, bias, act, y, ye));
    energy::count_conv(ctx.energy, dtype::f32, dtype::f32, dtype::f32, dtype::f32,
                       std::uint64_t(xe[0] * xe[1] * xe[2] * xe[3]), std::uint64_t(ye[0] * ye[1] * ye[2] * ye[3]),
                       std::uint64_t(ye[1]), std::uint64_t(xe[1] * 9));
    return status::success();
}

}  // namespace sparq::kernels

SPARQ_INTRINSICS_END
