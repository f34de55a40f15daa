// The public matmul entry: shape checks, backend selection, energy counts, and the scalar
// reference against an independent loop in double / int64 on random shapes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "sparq/core/tensor.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/matmul.hpp"

using namespace sparq;

namespace {
struct mnk {
    index_t m, n, k;
};

// int8 values with -128 at every `every`-th position (the extreme that breaks saturating sums).
void fill_s8(tensor<std::int8_t, 2>& t, std::mt19937& rng, index_t every) {
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<std::int8_t>(i % every == 0 ? -128 : int(rng() % 256) - 128);
}

template <class T>
tensor<T, 2> random_matrix(index_t r, index_t c, std::mt19937& rng, float lo, float hi) {
    auto t = tensor<T, 2>::make({r, c});
    REQUIRE(t.ok());
    std::uniform_real_distribution<float> d(lo, hi);
    for (index_t i = 0; i < t->size(); ++i) t->data()[i] = static_cast<T>(d(rng));
    return std::move(*t);
}
}  // namespace

TEST_CASE("matmul f32 / f16 / bf16 weights: the float path on widened weights, bit for bit") {
    std::mt19937 rng(11);
    for (const mnk& shape : {mnk{1, 1, 1}, mnk{3, 5, 7}, mnk{2, 13, 257}, mnk{5, 3, 600}}) {
        const index_t m = shape.m, n = shape.n, k = shape.k;
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(k);
        auto x = random_matrix<float>(m, k, rng, -1, 1);
        auto w = random_matrix<float>(n, k, rng, -1, 1);
        auto w16 = tensor<float16, 2>::make({n, k});
        auto wbf = tensor<bfloat16, 2>::make({n, k});
        auto w16wide = tensor<float, 2>::make({n, k});
        auto wbfwide = tensor<float, 2>::make({n, k});
        REQUIRE((w16.ok() && wbf.ok() && w16wide.ok() && wbfwide.ok()));
        REQUIRE(convert(w.cview(), w16->view()).ok());
        REQUIRE(convert(w.cview(), wbf->view()).ok());
        REQUIRE(convert(w16->cview(), w16wide->view()).ok());
        REQUIRE(convert(wbf->cview(), wbfwide->view()).ok());

        auto y = tensor<float, 2>::make({m, n}), y16 = tensor<float, 2>::make({m, n}),
             ybf = tensor<float, 2>::make({m, n}), ref16 = tensor<float, 2>::make({m, n}),
             refbf = tensor<float, 2>::make({m, n});
        context ctx;
        REQUIRE(kernels::matmul<float>(ctx, x.cview(), w.cview(), y->view()).ok());
        REQUIRE(kernels::matmul<float16>(ctx, x.cview(), w16->cview(), y16->view()).ok());
        REQUIRE(kernels::matmul<bfloat16>(ctx, x.cview(), wbf->cview(), ybf->view()).ok());
        REQUIRE(kernels::matmul<float>(ctx, x.cview(), w16wide->cview(), ref16->view()).ok());
        REQUIRE(kernels::matmul<float>(ctx, x.cview(), wbfwide->cview(), refbf->view()).ok());
        for (index_t i = 0; i < m; ++i)
            for (index_t j = 0; j < n; ++j) {
                double exact = 0;
                for (index_t kk = 0; kk < k; ++kk) exact += double(x(i, kk)) * double(w(j, kk));
                CHECK(std::fabs((*y)(i, j) - exact) <= 1e-5 * double(k));
                CHECK((*y16)(i, j) == (*ref16)(i, j));
                CHECK((*ybf)(i, j) == (*refbf)(i, j));
            }
    }
}

TEST_CASE("matmul on strided views (a transposed weight)") {
    std::mt19937 rng(3);
    auto x = random_matrix<float>(2, 9, rng, -1, 1);
    auto wt = random_matrix<float>(9, 4, rng, -1, 1);  // [K, N]: its transpose is the [N, K] weight
    auto w16t = tensor<float16, 2>::make({9, 4});
    REQUIRE(w16t.ok());
    REQUIRE(convert(wt.cview(), w16t->view()).ok());
    auto y = tensor<float, 2>::make({2, 4}), y16 = tensor<float, 2>::make({2, 4});
    context ctx;
    REQUIRE(kernels::matmul<float>(ctx, x.cview(), wt.cview().transpose(0, 1), y->view()).ok());
    REQUIRE(kernels::matmul<float16>(ctx, x.cview(), w16t->cview().transpose(0, 1), y16->view()).ok());
    for (index_t i = 0; i < 2; ++i)
        for (index_t j = 0; j < 4; ++j) {
            double exact = 0;
            for (index_t kk = 0; kk < 9; ++kk) exact += double(x(i, kk)) * double(wt(kk, j));
            CHECK((*y)(i, j) == doctest::Approx(exact).epsilon(1e-5));
            CHECK((*y16)(i, j) == doctest::Approx(exact).epsilon(2e-3));
        }
}

TEST_CASE("matmul_s8: exact int32 sums, extremes included") {
    std::mt19937 rng(5);
    for (const mnk& shape : {mnk{1, 1, 1}, mnk{4, 7, 31}, mnk{3, 2, 4099}}) {
        const index_t m = shape.m, n = shape.n, k = shape.k;
        auto x = tensor<std::int8_t, 2>::make({m, k});
        auto w = tensor<std::int8_t, 2>::make({n, k});
        auto y = tensor<std::int32_t, 2>::make({m, n});
        REQUIRE((x.ok() && w.ok() && y.ok()));
        fill_s8(*x, rng, 3);
        fill_s8(*w, rng, 2);
        context ctx;
        REQUIRE(kernels::matmul_s8(ctx, x->cview(), w->cview(), y->view()).ok());
        for (index_t i = 0; i < m; ++i)
            for (index_t j = 0; j < n; ++j) {
                std::int64_t exact = 0;
                for (index_t kk = 0; kk < k; ++kk) exact += std::int64_t((*x)(i, kk)) * (*w)(j, kk);
                CHECK((*y)(i, j) == exact);
            }
    }
}

TEST_CASE("matmul: shape mismatches, int32 overflow guard and unavailable backends are statuses") {
    float a[6] = {}, b[6] = {}, c[4] = {};
    context ctx;
    auto s = kernels::matmul<float>(ctx, matrix_view<const float>(a, {2, 3}), matrix_view<const float>(b, {2, 2}),
                                    matrix_view<float>(c, {2, 2}));
    CHECK(s.code() == errc::shape_mismatch);
    CHECK(std::string(s.message()) == "matmul: x [2, 3], w [2, 2] (as [N, K]) and y [2, 2] do not fit");

    std::int8_t q[1] = {};
    std::int32_t r[1] = {};
    const index_t too_long = kernels::max_s8_reduction + 1;
    auto o = kernels::matmul_s8(ctx, matrix_view<const std::int8_t>(q, {1, too_long}, {0, 0}),
                                matrix_view<const std::int8_t>(q, {1, too_long}, {0, 0}), matrix_view<std::int32_t>(r, {1, 1}));
    CHECK(o.code() == errc::overflow);

    ctx.with_backend(backend::dnnl, /*fallback=*/false);
    auto u = kernels::matmul<float>(ctx, matrix_view<const float>(a, {2, 3}), matrix_view<const float>(b, {2, 3}),
                                    matrix_view<float>(c, {2, 2}));
#if defined(SPARQ_WITH_DNNL)
    CHECK(u.code() == errc::unsupported);  // compiled in, but no kernel for plain views
#else
    CHECK(u.code() == errc::not_available);  // not compiled in: the status says how to get it
#endif
    ctx.with_backend(backend::dnnl, /*fallback=*/true);
    CHECK(kernels::matmul<float>(ctx, matrix_view<const float>(a, {2, 3}), matrix_view<const float>(b, {2, 3}),
                                 matrix_view<float>(c, {2, 2})).ok());
}

TEST_CASE("matmul adds its exact work to the energy counter, and nothing without one") {
    std::mt19937 rng(1);
    for (const mnk& shape : {mnk{1, 1, 1}, mnk{3, 5, 7}, mnk{17, 2, 129}}) {
        const index_t m = shape.m, n = shape.n, k = shape.k;
        auto x = random_matrix<float>(m, k, rng, -1, 1);
        auto w = random_matrix<float>(n, k, rng, -1, 1);
        auto w16 = tensor<float16, 2>::make({n, k});
        auto y = tensor<float, 2>::make({m, n});
        auto x8 = tensor<std::int8_t, 2>::make({m, k});
        auto w8 = tensor<std::int8_t, 2>::make({n, k});
        auto y8 = tensor<std::int32_t, 2>::make({m, n});
        energy::counter count;
        context ctx;
        ctx.with_energy(count);
        REQUIRE(kernels::matmul<float>(ctx, x.cview(), w.cview(), y->view()).ok());
        const auto macs = std::uint64_t(m * n * k);
        CHECK(count.macs(dtype::f32) == macs);
        CHECK(count.bytes(energy::traffic::weights) == std::uint64_t(n * k * 4));
        CHECK(count.bytes(energy::traffic::activations) == std::uint64_t((m * k + m * n) * 4));
        REQUIRE(kernels::matmul<float16>(ctx, x.cview(), w16->cview(), y->view()).ok());
        CHECK(count.macs(dtype::f32) == 2 * macs);  // fp16 storage, fp32 multiplies
        CHECK(count.bytes(energy::traffic::weights) == std::uint64_t(n * k * 6));
        REQUIRE(kernels::matmul_s8(ctx, x8->cview(), w8->cview(), y8->view()).ok());
        CHECK(count.macs(dtype::s8) == macs);
        CHECK(count.total_macs() == 3 * macs);
        CHECK(count.bytes(energy::traffic::weights) == std::uint64_t(n * k * 7));
        // int8 activations (1 byte in) and int32 sums (4 bytes out); the fp32 baseline is 4 + 4.
        CHECK(count.bytes(energy::traffic::activations) == std::uint64_t((m * k + m * n) * 4 * 2 + m * k + m * n * 4));
        CHECK(count.fp32_bytes(energy::traffic::weights) == std::uint64_t(n * k * 4 * 3));
        CHECK(count.baseline_macs() == 3 * macs);
    }
}

// ---- packed weights: the SIMD kernels against the scalar reference ------------------------

namespace {
const mnk packed_shapes[] = {{1, 1, 1},   {1, 4096, 64}, {2, 3, 5},    {7, 13, 5},   {12, 32, 256}, {13, 33, 257},
                             {17, 31, 3}, {31, 97, 511}, {64, 64, 64}, {3, 33, 4099}, {100, 70, 600}};
}

TEST_CASE("packed fp32 matmul (xsimd micro-kernel) matches the scalar reference on random shapes") {
    std::mt19937 rng(21);
    for (const mnk& s : packed_shapes) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        auto x = random_matrix<float>(s.m, s.k, rng, -1, 1);
        auto w = random_matrix<float>(s.n, s.k, rng, -1, 1);
        auto packed = kernels::pack_weights(w.cview());
        REQUIRE(packed.ok());
        auto fast = tensor<float, 2>::make({s.m, s.n}), ref = tensor<float, 2>::make({s.m, s.n}),
             ref_packed = tensor<float, 2>::make({s.m, s.n});
        REQUIRE((fast.ok() && ref.ok() && ref_packed.ok()));
        context ctx, scalar_ctx;
        scalar_ctx.with_backend(backend::scalar, false);
        REQUIRE(kernels::matmul(ctx, x.cview(), *packed, fast->view()).ok());
        REQUIRE(kernels::matmul(scalar_ctx, x.cview(), *packed, ref_packed->view()).ok());
        REQUIRE(kernels::matmul<float>(scalar_ctx, x.cview(), w.cview(), ref->view()).ok());
        int bad = 0, bad_exact = 0;
        for (index_t i = 0; i < s.m; ++i)
            for (index_t j = 0; j < s.n; ++j) {
                double bound = 0;  // |error| <= k * eps * sum |x w| for any summation order and FMA use
                for (index_t kk = 0; kk < s.k; ++kk) bound += std::fabs(double(x(i, kk)) * double(w(j, kk)));
                bound *= double(s.k) * 1.2e-7;
                bad += std::fabs(double((*fast)(i, j)) - double((*ref)(i, j))) > bound + 1e-30;
                bad_exact += (*ref_packed)(i, j) != (*ref)(i, j);  // the packed reference is the same arithmetic
            }
        CHECK(bad == 0);
        CHECK(bad_exact == 0);
    }
}

TEST_CASE("packed int8 matmul (VNNI where compiled) is exact, -128 x -128 and long reductions included") {
    std::mt19937 rng(22);
    for (const mnk& s : packed_shapes) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        auto x = tensor<std::int8_t, 2>::make({s.m, s.k});
        auto w = tensor<std::int8_t, 2>::make({s.n, s.k});
        REQUIRE((x.ok() && w.ok()));
        fill_s8(*x, rng, 5);
        fill_s8(*w, rng, 3);
        auto packed = kernels::pack_weights(w->cview());
        REQUIRE(packed.ok());
        auto fast = tensor<std::int32_t, 2>::make({s.m, s.n}), ref = tensor<std::int32_t, 2>::make({s.m, s.n});
        REQUIRE((fast.ok() && ref.ok()));
        context ctx, scalar_ctx;
        scalar_ctx.with_backend(backend::scalar, false);
        REQUIRE(kernels::matmul_s8(ctx, x->cview(), *packed, fast->view()).ok());
        REQUIRE(kernels::matmul_s8(scalar_ctx, x->cview(), w->cview(), ref->view()).ok());
        int bad = 0;
        for (index_t i = 0; i < s.m * s.n; ++i) bad += fast->data()[i] != ref->data()[i];
        CHECK(bad == 0);
    }
    // all -128: the largest products; K = 60000 sums to 60000 * 16384 < 2^31
    const index_t k = 60000;
    auto x = tensor<std::int8_t, 2>::make({2, k});
    auto w = tensor<std::int8_t, 2>::make({3, k});
    REQUIRE((x.ok() && w.ok()));
    x->fill(-128);
    w->fill(-128);
    auto packed = kernels::pack_weights(w->cview());
    auto y = tensor<std::int32_t, 2>::make({2, 3});
    REQUIRE((packed.ok() && y.ok()));
    context ctx;
    REQUIRE(kernels::matmul_s8(ctx, x->cview(), *packed, y->view()).ok());
    for (index_t i = 0; i < 6; ++i) CHECK(y->data()[i] == 60000 * 16384);
}

TEST_CASE("packed matmul: strided views, shape checks, foreign layouts") {
    std::mt19937 rng(23);
    auto xt = random_matrix<float>(9, 4, rng, -1, 1);  // [K, M]: its transpose is a strided X
    auto w = random_matrix<float>(5, 9, rng, -1, 1);
    auto packed = kernels::pack_weights(w.cview());
    REQUIRE(packed.ok());
    auto y = tensor<float, 2>::make({4, 5}), ref = tensor<float, 2>::make({4, 5});
    REQUIRE((y.ok() && ref.ok()));
    context ctx;
    REQUIRE(kernels::matmul(ctx, xt.cview().transpose(0, 1), *packed, y->view()).ok());
    REQUIRE(kernels::matmul<float>(ctx, xt.cview().transpose(0, 1), w.cview(), ref->view()).ok());
    for (index_t i = 0; i < 20; ++i) CHECK(y->data()[i] == ref->data()[i]);  // the scalar path: same arithmetic

    auto wrong = tensor<float, 2>::make({4, 6});
    REQUIRE(wrong.ok());
    CHECK(kernels::matmul(ctx, xt.cview().transpose(0, 1), *packed, wrong->view()).code() == errc::shape_mismatch);
    kernels::packed_f32 empty;
    empty.n = 5, empty.k = 9;
    CHECK(kernels::matmul(ctx, xt.cview().transpose(0, 1), empty, y->view()).code() == errc::invalid_argument);
}

TEST_CASE("packed float16 / bfloat16 weights: fp32 arithmetic on the widened weights") {
    std::mt19937 rng(24);
    for (const mnk& s : packed_shapes) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        auto x = random_matrix<float>(s.m, s.k, rng, -1, 1);
        auto w = random_matrix<float>(s.n, s.k, rng, -1, 1);
        auto p16 = kernels::pack_weights_as<float16>(w.cview());
        auto pbf = kernels::pack_weights_as<bfloat16>(w.cview());
        REQUIRE((p16.ok() && pbf.ok()));
        auto y16 = tensor<float, 2>::make({s.m, s.n}), ybf = tensor<float, 2>::make({s.m, s.n}),
             r16 = tensor<float, 2>::make({s.m, s.n}), rbf = tensor<float, 2>::make({s.m, s.n});
        REQUIRE((y16.ok() && ybf.ok() && r16.ok() && rbf.ok()));
        context ctx, scalar_ctx;
        scalar_ctx.with_backend(backend::scalar, false);
        REQUIRE(kernels::matmul(ctx, x.cview(), *p16, y16->view()).ok());
        REQUIRE(kernels::matmul(ctx, x.cview(), *pbf, ybf->view()).ok());
        REQUIRE(kernels::matmul(scalar_ctx, x.cview(), *p16, r16->view()).ok());
        REQUIRE(kernels::matmul(scalar_ctx, x.cview(), *pbf, rbf->view()).ok());
        int bad = 0;
        for (index_t i = 0; i < s.m; ++i)
            for (index_t j = 0; j < s.n; ++j) {
                double bound = 0;
                for (index_t kk = 0; kk < s.k; ++kk) bound += std::fabs(double(x(i, kk)) * double(w(j, kk)));
                bound *= double(s.k) * 1.2e-7;
                bad += std::fabs(double((*y16)(i, j)) - double((*r16)(i, j))) > bound + 1e-30;
                bad += std::fabs(double((*ybf)(i, j)) - double((*rbf)(i, j))) > bound + 1e-30;
            }
        CHECK(bad == 0);
    }
}

TEST_CASE("threads split the panels: the same bits as one thread") {
    std::mt19937 rng(25);
    const index_t m = 40, n = 300, k = 500;  // 6M MACs: above the threading threshold
    auto x = random_matrix<float>(m, k, rng, -1, 1);
    auto w = random_matrix<float>(n, k, rng, -1, 1);
    auto packed = kernels::pack_weights(w.cview());
    auto one = tensor<float, 2>::make({m, n}), two = tensor<float, 2>::make({m, n});
    REQUIRE((packed.ok() && one.ok() && two.ok()));
    context ctx;
    REQUIRE(kernels::matmul(ctx, x.cview(), *packed, one->view()).ok());
    ctx.with_threads(2);
    REQUIRE(kernels::matmul(ctx, x.cview(), *packed, two->view()).ok());
    int differ = 0;
    for (index_t i = 0; i < one->size(); ++i) differ += one->data()[i] != two->data()[i];
    CHECK(differ == 0);

    auto xq = tensor<std::int8_t, 2>::make({m, k});
    auto wq = tensor<std::int8_t, 2>::make({n, k});
    REQUIRE((xq.ok() && wq.ok()));
    for (index_t i = 0; i < xq->size(); ++i) xq->data()[i] = std::int8_t(int(rng() % 256) - 128);
    for (index_t i = 0; i < wq->size(); ++i) wq->data()[i] = std::int8_t(int(rng() % 256) - 128);
    auto p8 = kernels::pack_weights(wq->cview());
    auto a1 = tensor<std::int32_t, 2>::make({m, n}), a2 = tensor<std::int32_t, 2>::make({m, n});
    REQUIRE((p8.ok() && a1.ok() && a2.ok()));
    context single;
    REQUIRE(kernels::matmul_s8(single, xq->cview(), *p8, a1->view()).ok());
    REQUIRE(kernels::matmul_s8(ctx, xq->cview(), *p8, a2->view()).ok());
    int differ8 = 0;
    for (index_t i = 0; i < a1->size(); ++i) differ8 += a1->data()[i] != a2->data()[i];
    CHECK(differ8 == 0);
}

#if defined(SPARQ_WITH_XSIMD)
TEST_CASE("int8 without a dot-product instruction: the widening kernel is exact too") {
    std::mt19937 rng(26);
    using arch = ::xsimd::default_arch;
    for (const mnk& s : packed_shapes) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        auto x = tensor<std::int8_t, 2>::make({s.m, s.k});
        auto w = tensor<std::int8_t, 2>::make({s.n, s.k});
        REQUIRE((x.ok() && w.ok()));
        fill_s8(*x, rng, 5);
        fill_s8(*w, rng, 3);
        auto packed = kernels::pack_s8(w->cview(), kernels::xsimd::gemm_s8_widen_shape<arch>::nr, 1);
        REQUIRE(packed.ok());
        auto fast = tensor<std::int32_t, 2>::make({s.m, s.n}), ref = tensor<std::int32_t, 2>::make({s.m, s.n});
        REQUIRE((fast.ok() && ref.ok()));
        context ctx, scalar_ctx;
        scalar_ctx.with_backend(backend::scalar, false);
        REQUIRE(kernels::matmul_s8(ctx, x->cview(), *packed, fast->view()).ok());
        REQUIRE(kernels::matmul_s8(scalar_ctx, x->cview(), w->cview(), ref->view()).ok());
        int bad = 0;
        for (index_t i = 0; i < s.m * s.n; ++i) bad += fast->data()[i] != ref->data()[i];
        CHECK(bad == 0);
    }
}
#endif

TEST_CASE("uint8 activations x int8 weights: exact, 255 x -128 included, on every path") {
    std::mt19937 rng(27);
    for (const mnk& s : packed_shapes) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        auto x = tensor<std::uint8_t, 2>::make({s.m, s.k});
        auto w = tensor<std::int8_t, 2>::make({s.n, s.k});
        REQUIRE((x.ok() && w.ok()));
        for (index_t i = 0; i < x->size(); ++i) x->data()[i] = static_cast<std::uint8_t>(i % 4 == 0 ? 255 : rng() % 256);
        fill_s8(*w, rng, 2);
        auto ref = tensor<std::int32_t, 2>::make({s.m, s.n});
        REQUIRE(ref.ok());
        kernels::scalar::matmul_s8(x->cview(), w->cview(), ref->view());
        std::vector<kernels::packed_s8> layouts;
        layouts.push_back(*kernels::pack_weights(w->cview()));  // this build's layout
        layouts.push_back(*kernels::pack_s8(w->cview(), 32, 4));
#if defined(SPARQ_WITH_XSIMD)
        layouts.push_back(*kernels::pack_s8(w->cview(), kernels::xsimd::gemm_s8_widen_shape<::xsimd::default_arch>::nr, 1));
#endif
        for (const auto& packed : layouts) {
            for (backend b : {backend::automatic, backend::scalar}) {
                auto y = tensor<std::int32_t, 2>::make({s.m, s.n});
                REQUIRE(y.ok());
                context ctx;
                ctx.with_backend(b, false);
                REQUIRE(kernels::matmul_s8(ctx, x->cview(), packed, y->view()).ok());
                int bad = 0;
                for (index_t i = 0; i < s.m * s.n; ++i) bad += y->data()[i] != ref->data()[i];
                CHECK(bad == 0);
            }
        }
    }
}
