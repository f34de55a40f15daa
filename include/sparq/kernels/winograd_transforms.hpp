// The Winograd minimal-filtering transforms F(m x m, 3 x 3) (Lavin and Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2016): an m x m block of a 3x3 convolution's outputs is
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
//
// with d the (m + 2) x (m + 2) input patch, g the 3 x 3 kernel and (.) the element-wise product,
// so (m + 2)^2 multiplies stand for 9 m^2 (F(2x2): 16 for 36, F(4x4): 36 for 144). Here the
// element-wise products of one position, summed over input channels, become a GEMM
// (conv2d_winograd_nhwc.hpp); this file holds the three transforms only.
//
// The input and output transforms are written once over a value type V (float, or an xsimd
// batch of channels) with constant coefficients, adds and multiplies only: no FMA (sparq builds
// with -ffp-contract=off), so a channel gets the same bits in a vector lane or a scalar tail.
// The weight transform runs once at pack time in double and is rounded to float once.
//
// Interpolation points (and infinity): F(2x2, 3x3) uses 0, 1, -1, whose input and output
// transforms are exact adds. F(4x4, 3x3) uses 0, -1, 1, 1/2, -2 rather than Lavin's 0, +-1, +-2:
// all powers of two (the transforms' coefficients are exact in binary), and in a simulation of
// this pipeline in fp32 (C = 256, He-initialised weights) its largest error was 5.6e-6 of the
// largest output against 1.3e-5 for Lavin's points (rms 2.1e-6 against 3.2e-6); Barabasz et
// al. ("Error analysis and improving the accuracy of Winograd convolution for deep neural
// networks", 2020) found the same set. Its G holds fifteenths and thirds, which only the
// weights see (rounded once, at pack time). conv2d_winograd_nhwc.hpp has the measured errors.
#pragma once

#include "sparq/core/config.hpp"
#include "sparq/core/shape.hpp"

namespace sparq::kernels::winograd {

// F(M x M, 3 x 3): M outputs per tile side, T = M + 2 inputs per side, T^2 GEMM positions.
template <index_t M>
struct tile_shape {
    static_assert(M == 2 || M == 4, "F(2x2, 3x3) and F(4x4, 3x3) only");
    static constexpr index_t m = M, t = M + 2, positions = (M + 2) * (M + 2);
};

namespace detail {

// One dimension of B^T d: T inputs, read and written through strides (a column or a row of a
// T x T array held in a flat array).
template <class V>
inline void input_1d(const V* d, index_t s, V* r, index_t rs, tile_shape<2>) noexcept {
    const V d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s];
    r[0] = d0 - d2;
    r[rs] = d1 + d2;
    r[2 * rs] = d2 - d1;
    r[3 * rs] = d1 - d3;
}

// F(4x4): points 0, -1, 1, 1/2, -2 (rows of B^T in that order, then infinity's).
template <class V>
inline void input_1d(const V* d, index_t s, V* r, index_t rs, tile_shape<4>) noexcept {
    const V d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
    const V half(0.5f), two(2.0f), one_half(1.5f), two_half(2.5f);
    r[0] = ((d0 - two * d2) + one_half * (d3 - d1)) + d4;
    r[rs] = ((d1 - two_half * d2) + half * d3) + d4;
    r[2 * rs] = ((half * d2 - d1) + two_half * d3) + d4;
    r[3 * rs] = (two * (d3 - d1) - d2) + d4;
    r[4 * rs] = (half * (d1 - d3) - d2) + d4;
    r[5 * rs] = ((d1 - two * d3) + one_half * (d4 - d2)) + d5;
}

// One dimension of A^T m: T sums in, M outputs.
template <class V>
inline void output_1d(const V* x, index_t s, V* o, index_t os, tile_shape<2>) noexcept {
    const V m0 = x[0], m1 = x[s], m2 = x[2 * s], m3 = x[3 * s];
    o[0] = (m0 + m1) + m2;
    o[os] = (m1 - m2) - m3;
}

template <class V>
inline void output_1d(const V* x, index_t s, V* o, index_t os, tile_shape<4>) noexcept {
    const V m0 = x[0], m1 = x[s], m2 = x[2 * s], m3 = x[3 * s], m4 = x[4 * s], m5 = x[5 * s];
    const V half(0.5f), two(2.0f), quarter(0.25f), four(4.0f), eighth(0.125f), eight(8.0f);
    const V p12 = m2 + m1, d12 = m2 - m1;
    o[0] = (m0 + p12) + (m3 + m4);
    o[os] = d12 + (half * m3 - two * m4);
    o[2 * os] = p12 + (quarter * m3 + four * m4);
    o[3 * os] = (d12 + (eighth * m3 - eight * m4)) + m5;
}

}  // namespace detail

// d (T x T, row-major) -> B^T d B, in place: columns first, then rows.
template <index_t M, class V>
inline void input_transform(V* d) noexcept {
    constexpr index_t T = M + 2;
    V tmp[T * T];
    SPARQ_UNROLL
    for (index_t j = 0; j < T; ++j) detail::input_1d(d + j, T, tmp + j, T, tile_shape<M>{});
    SPARQ_UNROLL
    for (index_t i = 0; i < T; ++i) detail::input_1d(tmp + i * T, 1, d + i * T, 1, tile_shape<M>{});
}

// m (T x T, row-major) -> A^T m A into o (M x M, row-major).
template <index_t M, class V>
inline void output_transform(const V* m, V* o) noexcept {
    constexpr index_t T = M + 2;
    V tmp[M * T];
    SPARQ_UNROLL
    for (index_t j = 0; j < T; ++j) detail::output_1d(m + j, T, tmp + j, T, tile_shape<M>{});
    SPARQ_UNROLL
    for (index_t i = 0; i < M; ++i) detail::output_1d(tmp + i * T, 1, o + i * M, 1, tile_shape<M>{});
}

// g (3 x 3, row-major) -> G g G^T (T x T), in double (packing time only).
template <index_t M>
inline void weight_transform(const double* g, double* u) noexcept {
    constexpr index_t T = M + 2;
    // G: T x 3
    constexpr double g2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    constexpr double g4[6][3] = {{1, 0, 0},
                                 {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                                 {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                 {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                                 {1.0 / 15, -2.0 / 15, 4.0 / 15},
                                 {0, 0, 1}};
    auto coef = [&](index_t r, index_t k) { return M == 2 ? g2[r][k] : g4[r][k]; };
    double tmp[T][3];
    for (index_t r = 0; r < T; ++r)
        for (index_t c = 0; c < 3; ++c) {
            double s = 0;
            for (index_t k = 0; k < 3; ++k) s += coef(r, k) * g[k * 3 + c];
            tmp[r][c] = s;
        }
    for (index_t r = 0; r < T; ++r)
        for (index_t c = 0; c < T; ++c) {
            double s = 0;
            for (index_t k = 0; k < 3; ++k) s += tmp[r][k] * coef(c, k);
            u[r * T + c] = s;
        }
}

}  // namespace sparq::kernels::winograd
