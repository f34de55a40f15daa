// int4 weight-only matmul: the xsimd path (nibbles unpacked in lanes, FMA dot products) and the
// scalar reference, each against the exact (double) product of x with the dequantized weights,
// within the bound of its own summation order.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/kernels/int4.hpp"
#include "sparq/quant/calibrate.hpp"

using namespace sparq;

namespace {

struct case_t {
    index_t m, n, k;
    quant::qscheme scheme;
};

}  // namespace

TEST_CASE("matmul_int4: xsimd and scalar within their summation-order bounds of the exact product") {
    std::mt19937 rng(81);
    auto per_channel = quant::qscheme::weights_s8_per_channel(0);
    per_channel.type = dtype::s4, per_channel.narrow = false;
    auto per_tensor = per_channel;  // asymmetric: a zero point in the formula
    per_tensor.gran = quant::granularity::per_tensor, per_tensor.axis = -1, per_tensor.symmetric = false;
    const case_t cases[] = {{1, 1, 1, quant::qscheme::weights_s4_per_group(32)},
                            {1, 7, 13, quant::qscheme::weights_s4_per_group(32)},
                            {3, 13, 31, quant::qscheme::weights_s4_per_group(8)},    // groups shorter than a batch
                            {2, 31, 97, quant::qscheme::weights_s4_per_group(96)},   // groups across batches
                            {5, 97, 257, quant::qscheme::weights_s4_per_group(7)},   // odd groups: runs start on odd k
                            {1, 64, 4096, quant::qscheme::weights_s4_per_group(32)},
                            {4, 33, 3001, quant::qscheme::weights_s4_per_group(128)},  // chunks of 1024 with a tail
                            {2, 9, 301, per_channel},
                            {3, 5, 77, per_tensor}};
    for (const auto& c : cases) {
        CAPTURE(c.m);
        CAPTURE(c.n);
        CAPTURE(c.k);
        std::normal_distribution<float> d(0.0f, 1.0f);
        std::vector<float> x(std::size_t(c.m * c.k)), w(std::size_t(c.n * c.k));
        for (auto& v : x) v = d(rng);
        for (std::size_t i = 0; i < w.size(); ++i) w[i] = d(rng) * (i % 97 == 0 ? 50.0f : 1.0f);  // outliers: clipped codes
        const matrix_view<const float> xv(x.data(), {c.m, c.k}), wv(w.data(), {c.n, c.k});
        auto p = quant::calibrate_weights(wv, c.scheme);
        REQUIRE(p.ok());
        const index_t kb = (c.k + 1) / 2;
        std::vector<std::uint8_t> packed(std::size_t(c.n * (kb + 3)), 0xAB);  // rows 3 bytes apart
        const matrix_view<std::uint8_t> pv(packed.data(), {c.n, kb}, {kb + 3, 1});
        REQUIRE(kernels::quantize_int4(wv, *p, pv).ok());
        std::vector<float> deq(w.size());
        REQUIRE(kernels::dequantize_int4(pv.as_const(), *p, matrix_view<float>(deq.data(), {c.n, c.k})).ok());

        std::vector<float> fast(std::size_t(c.m * c.n)), ref(fast.size()), strided(fast.size());
        context ctx, scalar_ctx;
        scalar_ctx.with_backend(backend::scalar, false);
        REQUIRE(kernels::matmul_int4(ctx, xv, pv.as_const(), *p, matrix_view<float>(fast.data(), {c.m, c.n})).ok());
        REQUIRE(kernels::matmul_int4(scalar_ctx, xv, pv.as_const(), *p, matrix_view<float>(ref.data(), {c.m, c.n})).ok());
        // a transposed copy of x (strided rows): the scalar path, the scalar bits (one row is contiguous: xsimd)
        std::vector<float> xt(x.size());
        for (index_t i = 0; i < c.m; ++i)
            for (index_t k = 0; k < c.k; ++k) xt[std::size_t(k * c.m + i)] = x[std::size_t(i * c.k + k)];
        REQUIRE(kernels::matmul_int4(ctx, matrix_view<const float>(xt.data(), {c.k, c.m}).transpose(0, 1), pv.as_const(), *p,
                                     matrix_view<float>(strided.data(), {c.m, c.n})).ok());
#if defined(SPARQ_QUANTIZE_XSIMD)
        const double lanes = double(::xsimd::batch<float>::size);
#else
        const double lanes = 1.0;
#endif
        const double u = std::ldexp(1.0, -24);
        int bad_fast = 0, bad_ref = 0, bad_strided = 0;
        for (index_t i = 0; i < c.m; ++i)
            for (index_t j = 0; j < c.n; ++j) {
                double exact = 0, abs_sum = 0;
                for (index_t k = 0; k < c.k; ++k) {
                    const double t = double(x[std::size_t(i * c.k + k)]) * double(deq[std::size_t(j * c.k + k)]);
                    exact += t, abs_sum += std::fabs(t);
                }
                const std::size_t at = std::size_t(i * c.n + j);
                bad_fast += std::fabs(double(fast[at]) - exact) > (2.0 * std::ceil(double(c.k) / lanes) + 4.0 * lanes + 2.0) * u * abs_sum;
                bad_ref += std::fabs(double(ref[at]) - exact) > double(c.k) * u * abs_sum;  // in order: K roundings at most
                bad_strided += strided[at] != (c.m == 1 ? fast[at] : ref[at]);  // one row: stride 1 after all
            }
        CHECK(bad_fast == 0);
        CHECK(bad_ref == 0);
        CHECK(bad_strided == 0);
    }
}
