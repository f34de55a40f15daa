// fp32 GEMM with xsimd: Y[M, N] = X[M, K] * W[N, K]^T on packed weights (pack.hpp), written once
// over batch<float, Arch>, with weights stored as float, float16 or bfloat16 (widened to float
// as they are loaded: half the weight bytes, the same float arithmetic). The micro-kernel keeps an MR x NR block of Y in registers (NR = two
// batches) and, for each k, loads NR packed weights and broadcasts MR activations into MR x 2
// FMAs. K is cut into blocks that keep a weight panel in L1/L2. No allocation.
#pragma once

#include <cstddef>
#include <utility>
#include "sparq/core/xsimd.hpp"

#include "sparq/core/config.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/kernels/pack.hpp"
#include "sparq/kernels/xsimd/arch/half_load.hpp"
#include "sparq/kernels/xsimd/epilogue.hpp"
#include "sparq/kernels/xsimd/gemm_driver.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

template <class A>
struct gemm_f32_shape {
    static constexpr index_t lanes = index_t(::xsimd::batch<float, A>::size);
    static constexpr index_t nr = 2 * lanes;
    // Accumulators (mr x 2) + 2 weight registers + 1 broadcast must fit the register file:
    // 32 vector registers with AVX-512 and on AArch64 (12 x 2 + 3 = 27), 16 otherwise (6 x 2 + 3).
#if defined(__AVX512F__) || defined(__aarch64__)
    static constexpr index_t mr = 12;
#else
    static constexpr index_t mr = 6;
#endif
    static constexpr index_t kc = 256;  // a 256 x nr panel block: 32 KB at nr = 32
};

// The fused float output stage: y = act(y + bias[n]) on each tile after its last K block.
// bias: N floats or null (no bias); `on` false: plain sums.
struct f32_epilogue {
    bool on = false;
    const float* bias = nullptr;
    activation act = activation::none;
};

namespace detail {

// An R x nr block of Y += X[R, kc] * panel[kc, nr]; `first` overwrites Y. R is a compile-time
// constant so the accumulators live in registers; micro_rows picks R for the last rows.
// `bias` (nr floats, zero past the tile's columns) and `act`: the output stage, applied to the
// finished sums in registers when `bias` is not null (the last K block).
template <class A, index_t R, class W>
void micro_f32(const float* x, index_t ldx, const W* wp, index_t kc, float* y, index_t ldy, index_t cols, bool first,
               const float* bias, activation act) noexcept {
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t L = index_t(fb::size);
    fb acc0[R], acc1[R];
    SPARQ_UNROLL
    for (index_t m = 0; m < R; ++m) acc0[m] = acc1[m] = fb(0.0f);
    for (index_t k = 0; k < kc; ++k) {
        // Few rows: the weights stream from memory; ask for them well ahead of use.
        if constexpr (R <= 2) __builtin_prefetch(wp + (k + 16) * 2 * L);
        const fb b0 = load_widen_f32<A>(wp + k * 2 * L, A{});
        const fb b1 = load_widen_f32<A>(wp + k * 2 * L + L, A{});
        SPARQ_UNROLL  // fully: the accumulators must stay in registers, at -O2 too
        for (index_t m = 0; m < R; ++m) {
            const fb a(x[m * ldx + k]);
            acc0[m] = fmadd<A>(a, b0, acc0[m], A{});
            acc1[m] = fmadd<A>(a, b1, acc1[m], A{});
        }
    }
    if (!first) {  // the sums of the earlier K blocks
        SPARQ_UNROLL
        for (index_t m = 0; m < R; ++m) {
            const float* out = y + m * ldy;
            if (cols == 2 * L) {
                acc0[m] += fb::load_unaligned(out);
                acc1[m] += fb::load_unaligned(out + L);
            } else {
                alignas(64) float tmp[2 * L] = {};
                for (index_t j = 0; j < cols; ++j) tmp[j] = out[j];
                acc0[m] += fb::load_aligned(tmp);
                acc1[m] += fb::load_aligned(tmp + L);
            }
        }
    }
    if (bias != nullptr) {
        const fb b0 = fb::load_unaligned(bias), b1 = fb::load_unaligned(bias + L);
        SPARQ_UNROLL
        for (index_t m = 0; m < R; ++m) {
            acc0[m] = bias_activation<A>(acc0[m], b0, act);
            acc1[m] = bias_activation<A>(acc1[m], b1, act);
        }
    }
    SPARQ_UNROLL
    for (index_t m = 0; m < R; ++m) {
        float* out = y + m * ldy;
        if (cols == 2 * L) {
            acc0[m].store_unaligned(out);
            acc1[m].store_unaligned(out + L);
        } else {
            alignas(64) float tmp[2 * L];
            acc0[m].store_aligned(tmp);
            acc1[m].store_aligned(tmp + L);
            for (index_t j = 0; j < cols; ++j) out[j] = tmp[j];
        }
    }
}

template <class A, class W, index_t... R>
void micro_rows(index_t rows, std::integer_sequence<index_t, R...>, const float* x, index_t ldx, const W* wp,
                index_t kc, float* y, index_t ldy, index_t cols, bool first, const float* bias, activation act) noexcept {
    using fn = void (*)(const float*, index_t, const W*, index_t, float*, index_t, index_t, bool, const float*,
                        activation) noexcept;
    static constexpr fn table[] = {&micro_f32<A, R + 1, W>...};
    table[rows - 1](x, ldx, wp, kc, y, ldy, cols, first, bias, act);
}

}  // namespace detail

// Y = X * W^T, then the output stage `epi` if it is on. Preconditions (checked by the public
// entry): X is [M, K] with unit column stride, Y is [M, N] with unit column stride, w was packed
// with nr == gemm_f32_shape<A>::nr, epi.bias null or N floats.
// Panels [p_begin, p_end) only (threads split the panels); all of them by default.
template <class A, class W>
void gemm_f32(const matrix_view<const float>& x, const packed_weights<W>& w, const matrix_view<float>& y,
              index_t p_begin = 0, index_t p_end = -1, const f32_epilogue& epi = {}) noexcept {
    if (p_end < 0) p_end = w.panels();
    using shape = gemm_f32_shape<A>;
    constexpr index_t MR = shape::mr, NR = shape::nr, KC = shape::kc;
    const index_t M = x.extent(0), K = w.k, N = w.n;
    if (K == 0) {
        for (index_t m = 0; m < M; ++m)
            for (index_t n = p_begin * NR; n < N && n < p_end * NR; ++n)
                y(m, n) = epi.on ? activate(0.0f + (epi.bias ? epi.bias[n] : 0.0f), epi.act) : 0.0f;
        return;
    }
    // The bias of the current panel, zero past N (a tile's columns); loaded into registers per tile.
    alignas(64) float bias[NR] = {};
    index_t bias_panel = -1;
    // Few rows (a matvec, a small batch): each panel streams once over the whole of K (X fits
    // in L1 whatever K is); otherwise K is blocked so a panel block stays in L1 / L2.
    detail::drive_panels<MR, NR, KC>(M, K, N, p_begin, p_end,
                                     [&](index_t k0, index_t kc, index_t p, index_t cols, index_t m0, index_t rows) {
        const W* panel = w.panel(p) + k0 * NR;
        const float* xs = x.data() + m0 * x.stride(0) + k0;
        float* ys = y.data() + m0 * y.stride(0) + p * NR;
        const bool last = k0 + kc == K;
        if (epi.on && last && bias_panel != p) {
            for (index_t j = 0; j < NR; ++j) bias[j] = epi.bias && j < cols ? epi.bias[p * NR + j] : 0.0f;
            bias_panel = p;
        }
        const float* b = epi.on && last ? bias : nullptr;
        if (rows == MR)
            detail::micro_f32<A, MR, W>(xs, x.stride(0), panel, kc, ys, y.stride(0), cols, k0 == 0, b, epi.act);
        else
            detail::micro_rows<A>(rows, std::make_integer_sequence<index_t, MR>{}, xs, x.stride(0), panel, kc, ys,
                                  y.stride(0), cols, k0 == 0, b, epi.act);
    });
}

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
