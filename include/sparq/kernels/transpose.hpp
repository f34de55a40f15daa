// transpose: dst[j][i] = src[i][j] for a rows x cols block, in square tiles so that the rows read
// and the rows written both stay in cache (a plain double loop strides one side by a whole row
// per element: for a convolution's [pixels, channels] block that side misses on every access).
// Used by conv2d to turn NCHW planes into the GEMM's rows (pointwise im2col) and the GEMM's rows
// back into planes.
#pragma once

#include <algorithm>

#include "sparq/core/shape.hpp"

namespace sparq::kernels {

// src: rows x cols, rows lds apart; dst: cols x rows, rows ldd apart (elements).
template <class T>
void transpose(const T* src, index_t rows, index_t cols, index_t lds, T* dst, index_t ldd) noexcept {
    constexpr index_t tile = 16;
    for (index_t i0 = 0; i0 < rows; i0 += tile) {
        const index_t i1 = std::min(rows, i0 + tile);
        for (index_t j0 = 0; j0 < cols; j0 += tile) {
            const index_t j1 = std::min(cols, j0 + tile);
            for (index_t j = j0; j < j1; ++j)
                for (index_t i = i0; i < i1; ++i) dst[j * ldd + i] = src[i * lds + j];
        }
    }
}

}  // namespace sparq::kernels
