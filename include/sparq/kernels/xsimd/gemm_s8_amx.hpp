// gemm_s8_amx: the fused int8 GEMM (gemm_s8_fused's contract) on AMX tiles, for CPUs with
// AMX-INT8 (Sapphire Rapids and later). Blocks of 32 rows x 32 columns (one weight panel) sum in
// four 16 x 16 int32 tiles; each step loads two 16-row tiles of activations straight from X (64
// bytes of k a row, no packing: tdpbssd takes int8 x int8, tdpbusd uint8 x int8, so no +128
// shift) and the panel's two 16-column halves, which the VNNI packing already lays out as AMX
// wants them (a row per group of 4 k, 4 bytes a column). The k past the last whole 64 run as one
// more tile step: a tile row reads 64 bytes from the row's tail on, past K into the next row,
// and the panel's rows past K (pack.hpp's k_stride) are zeros, so what it reads there adds
// nothing. Where that read would leave X (the last block or two) those k are packed and go
// through the AVX512-VNNI kernel, whose +128 shift is taken back with their own weight sums, as
// do the rows past the last whole 32. So a K = 16 or 24 layer (mobilenet's pointwise ones) runs
// on tiles, unpacked, not on the VNNI kernel with its packing. Exact int32 sums, so the same
// bits as every other int8 GEMM. Linux hands out the tile state per process
// on request (arch_prctl ARCH_REQ_XCOMP_PERM): amx_usable() asks once; without it, or with
// set_amx(false), callers keep the VNNI kernel.
#pragma once

#include "sparq/core/config.hpp"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AVX512VNNI__) && defined(__linux__)
#define SPARQ_HAS_AMX_GEMM 1

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <type_traits>
#include <utility>

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sparq/kernels/xsimd/gemm_s8.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

namespace detail {

// Asks Linux for the AMX tile data state (XFEATURE_XTILEDATA, 18), once per process.
inline bool amx_permitted() noexcept {
    static const bool ok = [] {
        constexpr long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
        return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
    }();
    return ok;
}

inline std::atomic<bool>& amx_allowed() noexcept {
    static std::atomic<bool> allowed{std::getenv("SPARQ_NO_AMX") == nullptr};
    return allowed;
}

// ldtilecfg's 64-byte operand: palette 1, every tile 16 rows of 64 bytes.
struct alignas(64) amx_tile_config {
    std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
    std::uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
    std::uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

}  // namespace detail

// Whether the fused int8 GEMM runs on AMX: the CPU and the kernel allow it, and nobody said no
// (set_amx(false), or SPARQ_NO_AMX in the environment: the VNNI kernel then, for comparisons).
inline bool amx_usable() noexcept { return detail::amx_allowed().load(std::memory_order_relaxed) && detail::amx_permitted(); }
inline void set_amx(bool on) noexcept { detail::amx_allowed().store(on, std::memory_order_relaxed); }

// gemm_s8_fused's contract: w packed with nr == 32 and k_group 4, X [M, K] with unit column
// stride, epi(tile, ldt, m0, rows, n0, cols) on each finished tile (here up to 32 rows).
template <class X, class Epi>
void gemm_s8_fused_amx(const matrix_view<const X>& x, const packed_s8& w, Epi&& epi, index_t p_begin = 0,
                       index_t p_end = -1) noexcept {
    static_assert(avx512vnni::nr == 32, "an AMX block is one 32-column weight panel");
    constexpr index_t NR = 32, MB = 32, VR = avx512vnni::mr;
    if (p_end < 0) p_end = w.panels();
    const index_t M = x.extent(0), N = w.n, K = w.k, ldx = x.stride(0);
    const index_t k_amx = K / 64 * 64, m_amx = M / MB * MB;
    const index_t k_tail = w.k_padded - k_amx;  // 0..64, a multiple of 4
    // blocks [0, m_direct) read their tail as a tile: the last row's 64 bytes from k_amx on end
    // within X, whose last element is (M - 1) * ldx + K - 1
    index_t m_direct = 0;
    if (k_tail > 0 && m_amx > 0) {
        const index_t last = (M - 1) * ldx + K - k_amx - 64 - (MB - 1) * ldx;  // m0 * ldx at most this
        m_direct = last < 0 ? 0 : (ldx > 0 ? std::min(last / ldx / MB + 1, m_amx / MB) : m_amx / MB) * MB;
    }
    if (m_amx > 0 && (k_amx > 0 || m_direct > 0)) {
        const detail::amx_tile_config config;
        _tile_loadconfig(&config);
        alignas(64) std::int32_t tile[MB * NR];
        alignas(64) std::uint8_t a[MB * 64];  // the k tail of a block, +128 for int8, zero padded
        constexpr std::uint32_t shift = std::is_signed_v<X> ? 128u : 0u;
        for (index_t p = p_begin; p < p_end; ++p) {
            const index_t cols = N - p * NR < NR ? N - p * NR : NR;
            const std::int8_t* panel = w.panel(p);
            // the tail's own weight sums: what its +128 shift adds (int8 activations)
            alignas(64) std::uint32_t corr[NR] = {};
            if (shift != 0)
                for (index_t g = k_amx / 4; g < w.k_padded / 4; ++g)
                    for (index_t j = 0; j < NR; ++j)
                        for (index_t e = 0; e < 4; ++e) corr[j] += shift * std::uint32_t(std::int32_t(panel[(g * NR + j) * 4 + e]));
            for (index_t m0 = 0; m0 < m_amx; m0 += MB) {
                const X* x0 = x.data() + m0 * ldx;
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                // the blocks of m_direct take the tail as one more step: 64 bytes a row, zeros in
                // the panel past K
                const index_t k_end = m0 < m_direct ? k_amx + 64 : k_amx;
                for (index_t k0 = 0; k0 < k_end; k0 += 64) {
                    _tile_loadd(4, x0 + k0, ldx);
                    _tile_loadd(5, x0 + 16 * ldx + k0, ldx);
                    const std::int8_t* b = panel + k0 * NR;  // k0 / 4 groups of NR x 4 bytes
                    _tile_loadd(6, b, NR * 4);
                    _tile_loadd(7, b + 64, NR * 4);
                    if constexpr (std::is_signed_v<X>) {
                        _tile_dpbssd(0, 4, 6);
                        _tile_dpbssd(1, 4, 7);
                        _tile_dpbssd(2, 5, 6);
                        _tile_dpbssd(3, 5, 7);
                    } else {
                        _tile_dpbusd(0, 4, 6);
                        _tile_dpbusd(1, 4, 7);
                        _tile_dpbusd(2, 5, 6);
                        _tile_dpbusd(3, 5, 7);
                    }
                }
                _tile_stored(0, tile, NR * 4);
                _tile_stored(1, tile + 16, NR * 4);
                _tile_stored(2, tile + 16 * NR, NR * 4);
                _tile_stored(3, tile + 16 * NR + 16, NR * 4);
                if (k_tail > 0 && m0 >= m_direct) {  // the last k on the VNNI kernel, added to the tile
                    detail::pack_activations(x, m0, MB, k_amx, k_tail, 64, a);
                    for (index_t r = 0; r < MB; r += VR) {
                        const index_t rows = MB - r < VR ? MB - r : VR;
                        detail::micro_s8_rows(rows, std::make_integer_sequence<index_t, VR>{}, a + r * 64, 64, panel + k_amx * NR,
                                              k_tail / 4, tile + r * NR, NR, NR, false);
                    }
                    if (shift != 0)
                        for (index_t r = 0; r < MB; ++r)
                            for (index_t j = 0; j < NR; ++j)
                                tile[r * NR + j] = std::int32_t(std::uint32_t(tile[r * NR + j]) - corr[j]);
                }
                epi(static_cast<const std::int32_t*>(tile), NR, m0, MB, p * NR, cols);
            }
        }
        _tile_release();
    }
    if (m_amx < M || (k_amx == 0 && m_direct == 0)) {  // the rows past the last whole block (all of them when no tile ran)
        const index_t m_begin = k_amx > 0 || m_direct > 0 ? m_amx : 0;
        const matrix_view<const X> rest(x.data() + m_begin * ldx, {M - m_begin, K}, {ldx, 1});
        gemm_s8_fused<X>(rest, w, [&](const std::int32_t* t, index_t ldt, index_t m0, index_t rows, index_t n0, index_t cols) {
            epi(t, ldt, m_begin + m0, rows, n0, cols);
        }, p_begin, p_end);
    }
}

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END

#endif
