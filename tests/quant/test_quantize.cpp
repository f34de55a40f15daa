// Bulk quantize / dequantize / fake_quant: the xsimd path bit-identical to the scalar reference
// on every length, both roundings, ties, extremes, NaN and Inf; layouts (per channel on any
// axis, per group, strided views); int4 packing; bad input as statuses.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/kernels/int4.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/kernels/scalar/matmul.hpp"
#include "sparq/quant/calibrate.hpp"
#include "sparq/quant/metrics.hpp"

using namespace sparq;

namespace {

std::vector<float> edge_data(std::size_t n, float scale, std::mt19937& rng) {
    std::vector<float> x(n);
    const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e30f, -1e30f, 2.5f * scale, -2.5f * scale,
                              0.5f * scale, -0.5f * scale, 127.5f * scale, -128.5f * scale, 255.5f * scale,
                              std::numeric_limits<float>::denorm_min(), 3.5f * scale,
                              // just inside (-0.5, 0) and (0, 0.5) steps: x - floor(x) is inexact there
                              -0.49999997f * scale, 0.49999997f * scale, -1.4999999f * scale, -0.0000001f};
    std::normal_distribution<float> d(0.0f, 60.0f * scale);
    for (std::size_t i = 0; i < n; ++i) x[i] = i % 7 == 3 ? specials[rng() % 20] : (i % 5 == 1 ? float(int(d(rng))) * scale + 0.5f * scale : d(rng));
    return x;
}

template <class Q>
void compare_backends(dtype t, quant::rounding r, std::int32_t zp, quant::scaling by = quant::scaling::multiply_inverse,
                      float scale = 0.125f /* a power of two: x * (1 / scale) is exact, so ties stay ties */) {
    std::mt19937 rng(17);
    auto p = quant::make_per_tensor(t, scale, zp, false, r);
    p.scale_by = by;
    for (std::size_t n : {0, 1, 3, 15, 16, 17, 31, 64, 127, 1000, 4099}) {
        CAPTURE(n);
        auto x = edge_data(n, scale, rng);
        std::vector<Q> qs(n), qv(n);
        std::vector<float> ds(n), dv(n), fs(n), fv(n);
        std::vector<std::uint8_t> ms(n), mv(n);
        const index_t len = index_t(n);
        vector_view<const float> xv(x.data(), {len});
        context scalar_ctx, simd_ctx;
        scalar_ctx.with_backend(backend::scalar, false);
        REQUIRE(kernels::quantize(scalar_ctx, xv, p, vector_view<Q>(qs.data(), {len})).ok());
        REQUIRE(kernels::quantize(simd_ctx, xv, p, vector_view<Q>(qv.data(), {len})).ok());
        REQUIRE(kernels::dequantize(scalar_ctx, vector_view<const Q>(qs.data(), {len}), p, vector_view<float>(ds.data(), {len})).ok());
        REQUIRE(kernels::dequantize(simd_ctx, vector_view<const Q>(qs.data(), {len}), p, vector_view<float>(dv.data(), {len})).ok());
        REQUIRE(kernels::fake_quant(scalar_ctx, xv, p, vector_view<float>(fs.data(), {len}), vector_view<std::uint8_t>(ms.data(), {len})).ok());
        REQUIRE(kernels::fake_quant(simd_ctx, xv, p, vector_view<float>(fv.data(), {len}), vector_view<std::uint8_t>(mv.data(), {len})).ok());
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(x[i]);
            REQUIRE(qs[i] == qv[i]);
            REQUIRE(ds[i] == dv[i]);
            REQUIRE(std::memcmp(&fs[i], &fv[i], sizeof(float)) == 0);
            REQUIRE(ms[i] == mv[i]);
        }
    }
}

}  // namespace

TEST_CASE("quantize: the values the semantics promise") {
    auto p = quant::make_per_tensor(dtype::s8, 0.5f, 0);
    const float x[] = {0.25f, 0.75f, -0.25f, -0.75f, 1.25f, 100.0f, -100.0f, NAN, INFINITY, -INFINITY, -0.0f};
    std::int8_t q[11];
    context ctx;
    REQUIRE(kernels::quantize(ctx, vector_view<const float>(x, {11}), p, vector_view<std::int8_t>(q, {11})).ok());
    const int even[] = {0, 2, 0, -2, 2, 127, -128, 0, 127, -128, 0};
    for (int i = 0; i < 11; ++i) CHECK(int(q[i]) == even[i]);

    p.round = quant::rounding::half_away_from_zero;  // TFLite's reference rounding
    REQUIRE(kernels::quantize(ctx, vector_view<const float>(x, {11}), p, vector_view<std::int8_t>(q, {11})).ok());
    const int away[] = {1, 2, -1, -2, 3, 127, -128, 0, 127, -128, 0};
    for (int i = 0; i < 11; ++i) CHECK(int(q[i]) == away[i]);

    // -0.49999997 rounds to 0 both ways (a floor(x)-based rounding gets -1 half away from zero)
    CHECK(quant::round_integral(-0.49999997f, quant::rounding::half_away_from_zero) == 0.0f);
    CHECK(quant::round_integral(-0.49999997f, quant::rounding::half_to_even) == 0.0f);
    CHECK(quant::round_integral(-2.5f, quant::rounding::half_away_from_zero) == -3.0f);
    CHECK(quant::round_integral(-2.5f, quant::rounding::half_to_even) == -2.0f);
    CHECK(std::signbit(quant::round_integral(-0.3f)));

    auto narrow = quant::make_per_tensor(dtype::s8, 0.5f, 0, /*narrow=*/true);
    REQUIRE(kernels::quantize(ctx, vector_view<const float>(x, {11}), narrow, vector_view<std::int8_t>(q, {11})).ok());
    CHECK(int(q[6]) == -127);  // [-127, 127]
}

TEST_CASE("xsimd quantize / dequantize / fake_quant are bit-identical to the scalar reference") {
    for (auto r : {quant::rounding::half_to_even, quant::rounding::half_away_from_zero}) {
        compare_backends<std::int8_t>(dtype::s8, r, 0);
        compare_backends<std::int8_t>(dtype::s8, r, -7);
        compare_backends<std::uint8_t>(dtype::u8, r, 128);
        compare_backends<std::uint8_t>(dtype::u8, r, 0);
        compare_backends<std::int8_t>(dtype::s8, r, 3, quant::scaling::divide, 0.0123f);
        compare_backends<std::uint8_t>(dtype::u8, r, 100, quant::scaling::multiply_inverse, 0.0123f);
    }
}

TEST_CASE("per-channel on every axis and per-group agree with element-wise quantization") {
    std::mt19937 rng(3);
    std::normal_distribution<float> d(0.0f, 1.0f);
    auto x = tensor<float, 3>::make({3, 4, 10});
    REQUIRE(x.ok());
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = d(rng);
    for (int axis = 0; axis < 3; ++axis) {
        CAPTURE(axis);
        quant::qscheme s = quant::qscheme::weights_s8_per_channel(axis);
        auto p = quant::calibrate_weights(x->cview(), s);
        REQUIRE(p.ok());
        CHECK(p->count() == x->extent(std::size_t(axis)));
        auto q = tensor<std::int8_t, 3>::make(x->extents());
        REQUIRE(q.ok());
        context ctx;
        REQUIRE(kernels::quantize(ctx, x->cview(), *p, q->view()).ok());
        for (index_t a = 0; a < 3; ++a)
            for (index_t b = 0; b < 4; ++b)
                for (index_t c = 0; c < 10; ++c) {
                    const index_t ch = axis == 0 ? a : (axis == 1 ? b : c);
                    const auto step = kernels::scalar::quant_step::make(p->scale[std::size_t(ch)], 0, -127, 127,
                                                                        quant::rounding::half_to_even);
                    REQUIRE(int((*q)(a, b, c)) == kernels::scalar::quantize_value((*x)(a, b, c), step));
                }
    }
    // per group of 4 along the rows of a [5, 10] matrix (the last group of each row is partial)
    auto w = tensor<float, 2>::make({5, 10});
    REQUIRE(w.ok());
    for (index_t i = 0; i < w->size(); ++i) w->data()[i] = d(rng);
    quant::qscheme g;
    g.type = dtype::s8, g.symmetric = true, g.gran = quant::granularity::per_group, g.axis = 1, g.group_size = 4;
    auto p = quant::calibrate_weights(w->cview(), g);
    REQUIRE(p.ok());
    CHECK(p->count() == 5 * 3);
    auto q = tensor<std::int8_t, 2>::make({5, 10});
    auto back = tensor<float, 2>::make({5, 10});
    REQUIRE((q.ok() && back.ok()));
    context ctx;
    REQUIRE(kernels::quantize(ctx, w->cview(), *p, q->view()).ok());
    REQUIRE(kernels::dequantize(ctx, q->cview(), *p, back->view()).ok());
    for (index_t n = 0; n < 5; ++n)
        for (index_t k = 0; k < 10; ++k) CHECK(std::fabs((*back)(n, k) - (*w)(n, k)) <= 0.5f * p->scale[std::size_t(n * 3 + k / 4)] * 1.0001f);
}

TEST_CASE("strided views take the scalar path with the same results") {
    std::mt19937 rng(5);
    std::normal_distribution<float> d(0.0f, 2.0f);
    auto x = tensor<float, 2>::make({9, 13});
    REQUIRE(x.ok());
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = d(rng);
    auto p = quant::make_per_tensor(dtype::u8, 0.05f, 100);
    auto q = tensor<std::uint8_t, 2>::make({13, 9});
    REQUIRE(q.ok());
    context ctx;
    REQUIRE(kernels::quantize(ctx, x->cview(), p, q->view().transpose(0, 1)).ok());
    const auto step = kernels::scalar::quant_step::make(0.05f, 100, 0, 255, quant::rounding::half_to_even);
    for (index_t i = 0; i < 9; ++i)
        for (index_t j = 0; j < 13; ++j) REQUIRE(int((*q)(j, i)) == kernels::scalar::quantize_value((*x)(i, j), step));
}

TEST_CASE("int4: two codes per byte, per-group scales, round trip within half a step") {
    std::mt19937 rng(8);
    std::normal_distribution<float> d(0.0f, 0.1f);
    for (index_t k : {1, 7, 32, 33}) {
        CAPTURE(k);
        auto w = tensor<float, 2>::make({3, k});
        REQUIRE(w.ok());
        for (index_t i = 0; i < w->size(); ++i) w->data()[i] = d(rng);
        auto p = quant::calibrate_weights(w->cview(), quant::qscheme::weights_s4_per_group(8));
        REQUIRE(p.ok());
        CHECK(p->qmin == -8);
        CHECK(p->qmax == 7);
        auto packed = tensor<std::uint8_t, 2>::make({3, (k + 1) / 2});
        auto back = tensor<float, 2>::make({3, k});
        REQUIRE((packed.ok() && back.ok()));
        REQUIRE(kernels::quantize_int4(w->cview(), *p, packed->view()).ok());
        REQUIRE(kernels::dequantize_int4(packed->cview(), *p, back->view()).ok());
        for (index_t n = 0; n < 3; ++n)
            for (index_t j = 0; j < k; ++j) {
                const float s = p->scale[std::size_t(n * p->groups_per_row(k) + j / 8)];
                CHECK(std::fabs((*back)(n, j) - (*w)(n, j)) <= 0.5f * s * 1.0001f);
            }
        if (k % 2) CHECK(((*packed)(0, k / 2) >> 4) == 0);  // the unused high nibble stays 0
    }
    // A fixed vector: codes 1, -2, 7, -8, 3 (scale 1) pack to 0xE1, 0x87, 0x03.
    const float fixed[5] = {1, -2, 7, -8, 3};
    quant::qparams unit = quant::make_per_tensor(dtype::s4, 1.0f, 0);
    std::uint8_t bytes[3] = {0xFF, 0xFF, 0xFF};
    REQUIRE(kernels::quantize_int4(matrix_view<const float>(fixed, {1, 5}), unit, matrix_view<std::uint8_t>(bytes, {1, 3})).ok());
    CHECK(bytes[0] == 0xE1);
    CHECK(bytes[1] == 0x87);
    CHECK(bytes[2] == 0x03);
    // nibble order: element 0 low, element 1 high; -8 and 7 are the extremes
    const std::uint8_t byte[1] = {0x87};
    CHECK(kernels::int4_at(vector_view<const std::uint8_t>(byte, {1}), 0) == 7);
    CHECK(kernels::int4_at(vector_view<const std::uint8_t>(byte, {1}), 1) == -8);
}

TEST_CASE("bad input: a clear status, nothing written") {
    float x[4] = {1, 2, 3, 4};
    std::int8_t q[4] = {9, 9, 9, 9};
    context ctx;
    auto run = [&](const quant::qparams& p) {
        return kernels::quantize(ctx, vector_view<const float>(x, {4}), p, vector_view<std::int8_t>(q, {4}));
    };
    auto p = quant::make_per_tensor(dtype::s8, 0.0f, 0);
    auto s = run(p);
    CHECK(s.code() == errc::invalid_argument);
    CHECK(std::string(s.message()) == "qparams: scale 0 is 0; scales must be finite, > 0, with a finite reciprocal");
    CHECK(run(quant::make_per_tensor(dtype::s8, -1.0f, 0)).code() == errc::invalid_argument);
    CHECK(run(quant::make_per_tensor(dtype::s8, INFINITY, 0)).code() == errc::invalid_argument);
    CHECK(run(quant::make_per_tensor(dtype::s8, NAN, 0)).code() == errc::invalid_argument);
    CHECK(run(quant::make_per_tensor(dtype::s8, 1e-39f, 5)).code() == errc::invalid_argument);  // 1 / scale is inf
    CHECK(run(quant::make_per_tensor(dtype::s8, 1.0f, 200)).code() == errc::invalid_argument);  // zero point outside
    CHECK(run(quant::make_per_tensor(dtype::u8, 1.0f, 0)).code() == errc::dtype_mismatch);      // u8 params, s8 codes
    quant::qparams pc = quant::make_per_tensor(dtype::s8, 1.0f, 0);
    pc.gran = quant::granularity::per_channel, pc.axis = 1;
    CHECK(run(pc).code() == errc::invalid_argument);  // axis 1 of a 1-D tensor
    pc.axis = 0;
    CHECK(run(pc).code() == errc::shape_mismatch);    // 1 scale for 4 channels
    for (auto v : q) CHECK(v == 9);

    std::int8_t small[3];
    CHECK(kernels::quantize(ctx, vector_view<const float>(x, {4}), quant::make_per_tensor(dtype::s8, 1.0f, 0),
                            vector_view<std::int8_t>(small, {3})).code() == errc::shape_mismatch);
    // empty tensors are fine and touch nothing
    CHECK(kernels::quantize(ctx, vector_view<const float>(x, {0}), quant::make_per_tensor(dtype::s8, 1.0f, 0),
                            vector_view<std::int8_t>(q, {0})).ok());
    CHECK(quant::calibrate_weights(vector_view<const float>(x, {0}), quant::qscheme{}).error().code() == errc::invalid_argument);
    // fake_quant of an empty tensor without a mask: fine
    float none[1];
    CHECK(kernels::fake_quant(ctx, matrix_view<const float>(none, {0, 5}), quant::make_per_tensor(dtype::s8, 1.0f, 0),
                              matrix_view<float>(none, {0, 5})).ok());
}

TEST_CASE("fake_quant: no gradient through NaN") {
    const float x[3] = {NAN, 0.5f, 1000.0f};
    float y[3];
    std::uint8_t mask[3];
    for (backend b : {backend::scalar, backend::automatic}) {
        context ctx;
        ctx.with_backend(b, false);
        REQUIRE(kernels::fake_quant(ctx, vector_view<const float>(x, {3}), quant::make_per_tensor(dtype::s8, 0.25f, 0),
                                    vector_view<float>(y, {3}), vector_view<std::uint8_t>(mask, {3})).ok());
        CHECK(mask[0] == 0);
        CHECK(y[0] == 0.0f);
        CHECK(mask[1] == 1);
        CHECK(mask[2] == 0);
    }
}

TEST_CASE("quality metrics: SQNR, errors, cosine") {
    const float ref[4] = {1, -2, 3, -4};
    const float same[4] = {1, -2, 3, -4};
    const float off[4] = {1.1f, -2, 3, -4};
    auto m = quant::compare(vector_view<const float>(ref, {4}), vector_view<const float>(same, {4}));
    REQUIRE(m.ok());
    CHECK(std::isinf(m->sqnr_db));
    CHECK(m->cosine == doctest::Approx(1.0));
    auto e = quant::compare(vector_view<const float>(ref, {4}), vector_view<const float>(off, {4}));
    REQUIRE(e.ok());
    CHECK(e->sqnr_db == doctest::Approx(10.0 * std::log10(30.0 / (0.1 * 0.1))).epsilon(1e-5));
    CHECK(e->max_abs == doctest::Approx(0.1).epsilon(1e-5));
    CHECK(e->mean_abs == doctest::Approx(0.025).epsilon(1e-5));
    CHECK(e->cosine < 1.0);
    const float nan[4] = {NAN, 0, 0, 0};
    CHECK(quant::compare(vector_view<const float>(ref, {4}), vector_view<const float>(nan, {4})).error().code() ==
          errc::invalid_argument);
}

TEST_CASE("int4 weight-only matmul equals float matmul on the dequantized weights") {
    std::mt19937 rng(9);
    std::normal_distribution<float> d(0.0f, 0.2f);
    for (index_t k : {1, 33, 300}) {
        CAPTURE(k);
        const index_t m = 3, n = 7;
        auto x = tensor<float, 2>::make({m, k});
        auto w = tensor<float, 2>::make({n, k});
        REQUIRE((x.ok() && w.ok()));
        for (index_t i = 0; i < x->size(); ++i) x->data()[i] = d(rng);
        for (index_t i = 0; i < w->size(); ++i) w->data()[i] = d(rng);
        auto p = quant::calibrate_weights(w->cview(), quant::qscheme::weights_s4_per_group(32));
        REQUIRE(p.ok());
        auto packed = tensor<std::uint8_t, 2>::make({n, (k + 1) / 2});
        auto back = tensor<float, 2>::make({n, k});
        auto y = tensor<float, 2>::make({m, n}), r = tensor<float, 2>::make({m, n});
        REQUIRE((packed.ok() && back.ok() && y.ok() && r.ok()));
        REQUIRE(kernels::quantize_int4(w->cview(), *p, packed->view()).ok());
        REQUIRE(kernels::dequantize_int4(packed->cview(), *p, back->view()).ok());
        // The scalar backend: the same products in the same order (tests/kernels/test_int4.cpp
        // bounds the xsimd path, which sums in another order).
        context ctx;
        ctx.with_backend(backend::scalar);
        REQUIRE(kernels::matmul_int4(ctx, x->cview(), packed->cview(), *p, y->view()).ok());
        kernels::scalar::matmul<float>(x->cview(), back->cview(), r->view());
        for (index_t i = 0; i < m * n; ++i) CHECK(y->data()[i] == r->data()[i]);
    }
    auto bad = quant::make_per_tensor(dtype::s8, 1.0f, 0);
    float x1[2] = {}, y1[1] = {};
    std::uint8_t w1[1] = {};
    context ctx;
    CHECK(kernels::matmul_int4(ctx, matrix_view<const float>(x1, {1, 2}), matrix_view<const std::uint8_t>(w1, {1, 1}), bad,
                               matrix_view<float>(y1, {1, 1})).code() == errc::dtype_mismatch);
}
