// transpose: dst[j][i] = src[i][j] for a rows x cols block, in square tiles so that the rows read
// and the rows written both stay in cache (a plain double loop strides one side by a whole row
// per element: for a convolution's [pixels, channels] block that side misses on every access).
// Used by conv2d to turn NCHW planes into the GEMM's rows (pointwise im2col) and the GEMM's rows
// back into planes.
#pragma once

#include <algorithm>
#include <type_traits>

#include "sparq/core/shape.hpp"

namespace sparq::kernels {

namespace detail {

// A few (R) channels interleaved into pixels, or pixels split into R planes: R a constant, so
// the compiler turns the loop into vector shuffles (an image's 3 planes to channels-last took
// 110-126 us through the tiles below at 224 x 224, 5-15 us this way).
template <index_t R, class T>
void interleave_rows(const T* __restrict src, index_t cols, index_t lds, T* __restrict dst) noexcept {
    for (index_t j = 0; j < cols; ++j)
        for (index_t i = 0; i < R; ++i) dst[j * R + i] = src[i * lds + j];
}
template <index_t R, class T>
void split_rows(const T* __restrict src, index_t rows, T* __restrict dst, index_t ldd) noexcept {
    for (index_t i = 0; i < rows; ++i)
        for (index_t j = 0; j < R; ++j) dst[j * ldd + i] = src[i * R + j];
}

// f(integral_constant<n>) for n of 1 to 4; false (nothing called) otherwise.
template <class F>
bool with_width_1_to_4(index_t n, F&& f) noexcept {
    switch (n) {
        case 1: f(std::integral_constant<index_t, 1>{}); return true;
        case 2: f(std::integral_constant<index_t, 2>{}); return true;
        case 3: f(std::integral_constant<index_t, 3>{}); return true;
        case 4: f(std::integral_constant<index_t, 4>{}); return true;
        default: return false;
    }
}

}  // namespace detail

// src: rows x cols, rows lds apart; dst: cols x rows, rows ldd apart (elements). The ranges must
// not overlap.
template <class T>
void transpose(const T* src, index_t rows, index_t cols, index_t lds, T* dst, index_t ldd) noexcept {
    if (ldd == rows && detail::with_width_1_to_4(rows, [&](auto r) { detail::interleave_rows<decltype(r)::value>(src, cols, lds, dst); }))
        return;
    if (lds == cols && detail::with_width_1_to_4(cols, [&](auto c) { detail::split_rows<decltype(c)::value>(src, rows, dst, ldd); }))
        return;
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
