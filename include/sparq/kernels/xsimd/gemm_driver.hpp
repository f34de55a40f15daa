// The loop nest shared by the packed GEMMs: blocks of K (a weight panel block stays in cache
// across row blocks; few rows take the whole of K so each panel streams once, front to back),
// the panels [p_begin, p_end), and blocks of MR rows. The micro-kernel call is the caller's.
#pragma once

#include "sparq/core/shape.hpp"

namespace sparq::kernels::xsimd::detail {

// micro(k0, kc, panel, cols, m0, rows) for every block; cols < nr only in the last panel.
template <index_t MR, index_t NR, index_t KC, class Micro>
void drive_panels(index_t M, index_t K, index_t N, index_t p_begin, index_t p_end, Micro&& micro) {
    const index_t kblock = M <= MR ? K : KC;
    for (index_t k0 = 0; k0 < K; k0 += kblock) {
        const index_t kc = K - k0 < kblock ? K - k0 : kblock;
        for (index_t p = p_begin; p < p_end; ++p) {
            const index_t cols = N - p * NR < NR ? N - p * NR : NR;
            for (index_t m0 = 0; m0 < M; m0 += MR) micro(k0, kc, p, cols, m0, M - m0 < MR ? M - m0 : MR);
        }
    }
}

}  // namespace sparq::kernels::xsimd::detail
