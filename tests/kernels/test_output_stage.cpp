// The int8 layer's output stage: integer-only requantization within 1 LSB of the float layer,
// dequantization to the real formula, bias and activations; the float stage.
#include <doctest/doctest.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <random>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/kernels/requant_planes.hpp"
#include "sparq/quant/calibrate.hpp"

using namespace sparq;

TEST_CASE("linear_s8: requantized int8 outputs within 1 LSB of the float layer, dequantized exactly") {
    std::mt19937 rng(51);
    std::normal_distribution<float> d(0.0f, 1.0f);
    const index_t M = 5, N = 37, K = 70;
    std::vector<float> x(M * K), w(N * K), bias(N);
    for (auto& v : x) v = d(rng) + 0.7f;  // off-centre: an asymmetric zero point matters
    for (auto& v : w) v = 0.1f * d(rng);
    for (auto& v : bias) v = 0.3f * d(rng);
    matrix_view<const float> xv(x.data(), {M, K}), wv(w.data(), {N, K});

    quant::qscheme xs = quant::qscheme::activations_s8();  // affine int8
    auto xq_p = quant::calibrate_weights(xv, xs);
    auto wq_p = quant::calibrate_weights(wv, quant::qscheme::weights_s8_per_channel(0));
    REQUIRE((xq_p.ok() && wq_p.ok()));
    CHECK(xq_p->zero_point[0] != 0);
    std::vector<std::int8_t> xq(M * K), wq(N * K);
    context ctx;
    REQUIRE(kernels::quantize(ctx, xv, *xq_p, matrix_view<std::int8_t>(xq.data(), {M, K})).ok());
    REQUIRE(kernels::quantize(ctx, wv, *wq_p, matrix_view<std::int8_t>(wq.data(), {N, K})).ok());
    auto packed = kernels::pack_weights(matrix_view<const std::int8_t>(wq.data(), {N, K}));
    REQUIRE(packed.ok());

    for (auto act : {kernels::activation::none, kernels::activation::relu, kernels::activation::relu6}) {
        // The float layer on the dequantized operands: the exact target of the integer pipeline.
        std::vector<double> real(M * N);
        double lo = 0, hi = 0;
        for (index_t m = 0; m < M; ++m)
            for (index_t n = 0; n < N; ++n) {
                double acc = bias[std::size_t(n)];
                for (index_t k = 0; k < K; ++k)
                    acc += double(xq_p->scale[0]) * (xq[std::size_t(m * K + k)] - xq_p->zero_point[0]) *
                           double(wq_p->scale[std::size_t(n)]) * wq[std::size_t(n * K + k)];
                acc = act == kernels::activation::none ? acc : std::max(0.0, act == kernels::activation::relu6 ? std::min(acc, 6.0) : acc);
                real[std::size_t(m * N + n)] = acc;
                lo = std::min(lo, acc), hi = std::max(hi, acc);
            }
        quant::qparams yq_p = quant::make_per_tensor(dtype::s8, 1.0f, 0);
        REQUIRE(quant::choose_qparams(float(lo), float(hi), xs, yq_p.scale[0], yq_p.zero_point[0]).ok());
        auto stage = kernels::make_requant_stage(*xq_p, *wq_p, *packed, yq_p, bias, act);
        REQUIRE(stage.ok());

        static std::byte scratch[1 << 16];
        arena a(scratch, sizeof scratch);
        context sctx;
        sctx.with_scratch(a);
        std::vector<std::int8_t> yq(M * N);
        std::vector<float> yf(M * N);
        REQUIRE(kernels::linear_s8(sctx, matrix_view<const std::int8_t>(xq.data(), {M, K}), *packed, *stage,
                                   matrix_view<std::int8_t>(yq.data(), {M, N})).ok());
        REQUIRE(kernels::linear_s8(sctx, matrix_view<const std::int8_t>(xq.data(), {M, K}), *packed, *stage,
                                   matrix_view<float>(yf.data(), {M, N})).ok());
        int bad_q = 0, bad_f = 0;
        for (std::size_t i = 0; i < real.size(); ++i) {
            const double want = std::nearbyint(real[i] / yq_p.scale[0]) + yq_p.zero_point[0];
            bad_q += std::fabs(double(yq[i]) - std::max(-128.0, std::min(127.0, want))) > 1.0;
            bad_f += std::fabs(double(yf[i]) - real[i]) > 1e-4 * (1.0 + std::fabs(real[i]));
        }
        CHECK(bad_q == 0);
        CHECK(bad_f == 0);

        // The same sums held column by column (a convolution's NCHW planes seen as [pixels,
        // channels]): apply_requant / apply_dequant walk them in memory order and give the same
        // codes and floats as row by row, bit for bit.
        std::vector<std::int32_t> acc(M * N), acc_t(M * N);
        for (std::size_t i = 0; i < acc.size(); ++i) acc[i] = std::int32_t(rng() % 200001) - 100000;
        for (index_t m = 0; m < M; ++m)
            for (index_t n = 0; n < N; ++n) acc_t[std::size_t(n * M + m)] = acc[std::size_t(m * N + n)];
        std::vector<std::int8_t> rq(M * N), cq(M * N);
        std::vector<float> rf(M * N), cf(M * N);
        REQUIRE(kernels::apply_requant(*stage, matrix_view<const std::int32_t>(acc.data(), {M, N}), matrix_view<std::int8_t>(rq.data(), {M, N})).ok());
        REQUIRE(kernels::apply_requant(*stage, matrix_view<const std::int32_t>(acc_t.data(), {M, N}, {1, M}),
                                       matrix_view<std::int8_t>(cq.data(), {M, N}, {1, M})).ok());
        REQUIRE(kernels::apply_dequant(*stage, matrix_view<const std::int32_t>(acc.data(), {M, N}), matrix_view<float>(rf.data(), {M, N})).ok());
        REQUIRE(kernels::apply_dequant(*stage, matrix_view<const std::int32_t>(acc_t.data(), {M, N}, {1, M}),
                                       matrix_view<float>(cf.data(), {M, N}, {1, M})).ok());
        int differ = 0;
        for (index_t m = 0; m < M; ++m)
            for (index_t n = 0; n < N; ++n) {
                differ += rq[std::size_t(m * N + n)] != cq[std::size_t(n * M + m)];
                differ += std::memcmp(&rf[std::size_t(m * N + n)], &cf[std::size_t(n * M + m)], sizeof(float)) != 0;
            }
        CHECK(differ == 0);
        // requant_planes (SIMD along each plane where built) gives the scalar stage's codes: the
        // column-major sums above are N planes of M
        std::vector<std::int8_t> pq(M * N);
        std::vector<float> pf(M * N);
        context simd;
        REQUIRE(kernels::requant_planes(simd, *stage, acc_t.data(), N, M, pq.data()).ok());
        REQUIRE(kernels::requant_planes(simd, *stage, acc_t.data(), N, M, pf.data()).ok());
        CHECK(pq == cq);
        CHECK(std::memcmp(pf.data(), cf.data(), pf.size() * sizeof(float)) == 0);
    }
    // longer planes than a batch, with a tail, and sums at the int32 extremes
    const index_t planes = 3, plane = 53;
    std::vector<std::int32_t> sums(std::size_t(planes * plane));
    for (std::size_t i = 0; i < sums.size(); ++i)
        sums[i] = i % 13 == 0 ? INT32_MAX : i % 17 == 0 ? INT32_MIN : std::int32_t(rng() % 4000001) - 2000000;
    quant::qparams out = quant::make_per_tensor(dtype::s8, 0.05f, 3);
    std::vector<float> no_bias;
    auto wide = kernels::make_requant_stage(*xq_p, *quant::calibrate_weights(matrix_view<const float>(w.data(), {planes, K}),
                                                                          quant::qscheme::weights_s8_per_channel(0)),
                                            *kernels::pack_weights(matrix_view<const std::int8_t>(wq.data(), {planes, K})), out, no_bias,
                                            kernels::activation::relu);
    REQUIRE(wide.ok());
    std::vector<std::int8_t> fast(sums.size()), slow(sums.size());
    context simd, scalar;
    scalar.with_backend(backend::scalar, false);
    REQUIRE(kernels::requant_planes(simd, *wide, sums.data(), planes, plane, fast.data()).ok());
    REQUIRE(kernels::requant_planes(scalar, *wide, sums.data(), planes, plane, slow.data()).ok());
    CHECK(fast == slow);
}

TEST_CASE("output stages: bias and activation on float, bad setups are statuses") {
    float y[6] = {-2, -0.5f, 0.5f, 3, 7, 10};
    REQUIRE(kernels::apply_bias_activation(matrix_view<float>(y, {2, 3}), {1.0f, 0.0f, -1.0f}, kernels::activation::relu6).ok());
    const float want[6] = {0, 0, 0, 4, 6, 6};
    for (int i = 0; i < 6; ++i) CHECK(y[i] == want[i]);
    CHECK(kernels::apply_bias_activation(matrix_view<float>(y, {2, 3}), {1.0f}, kernels::activation::none).code() ==
          errc::shape_mismatch);

    std::int8_t w[6] = {1, 2, 3, 4, 5, 6};
    auto packed = kernels::pack_weights(matrix_view<const std::int8_t>(w, {2, 3}));
    REQUIRE(packed.ok());
    auto x = quant::make_per_tensor(dtype::s8, 0.1f, 0), wq = quant::make_per_tensor(dtype::s8, 0.1f, 3),
         out = quant::make_per_tensor(dtype::s8, 0.1f, 0);
    CHECK(kernels::make_requant_stage(x, wq, *packed, out, {}, kernels::activation::none).error().code() == errc::unsupported);
    wq.zero_point[0] = 0;
    CHECK(kernels::make_requant_stage(x, wq, *packed, out, {1.0f}, kernels::activation::none).error().code() ==
          errc::shape_mismatch);
    CHECK(kernels::make_requant_stage(x, wq, *packed, out, {}, kernels::activation::none).ok());
    std::int32_t acc[2] = {};
    std::int8_t q[2];
    context ctx;  // the two-pass reference with no arena: linear_s8 says so
    ctx.with_backend(backend::scalar, false);
    CHECK(kernels::linear_s8(ctx, matrix_view<const std::int8_t>(w, {1, 3}), *packed,
                             *kernels::make_requant_stage(x, wq, *packed, out, {}, kernels::activation::none),
                             matrix_view<std::int8_t>(q, {1, 2})).code() == errc::invalid_argument);
    (void)acc;
}
