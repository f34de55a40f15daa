// The oneDNN backend against the scalar reference, and backend choice through the context
// (built only with SPARQ_WITH_DNNL).
#include <doctest/doctest.h>

#if defined(SPARQ_WITH_DNNL)
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sparq/energy/counter.hpp"
#include "sparq/kernels/dnnl/int8_exact.hpp"
#include "sparq/kernels/dnnl/matmul.hpp"
#include "sparq/kernels/prepared.hpp"
#include "sparq/kernels/scalar/matmul.hpp"

using namespace sparq;

// oneDNN's int8 is exact for full-range weights only with VNNI / AMX (dnnl/int8_exact.hpp): the
// int8 checks below use full-range weights and activations (-128 and 127 both present); where
// make() accepts them the sums must be exact, and make() may refuse them only on an ISA without
// VNNI. ctest also runs these cases with oneDNN capped to avx2 and to avx512_core
// (ONEDNN_MAX_CPU_ISA), so the refusals and the narrower rules are exercised on any machine.
static ::dnnl::cpu_isa dnnl_isa() {
    return ::dnnl::get_effective_cpu_isa();
}

TEST_CASE("oneDNN matmul f32 and s8 match the scalar reference; counts its work; caches per M") {
    std::mt19937 rng(31);
    struct shape {
        index_t m, n, k;
    };
    for (const shape s : {shape{1, 1, 1}, shape{7, 33, 65}, shape{13, 64, 257}, shape{128, 96, 72}}) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        std::vector<float> x(std::size_t(s.m * s.k)), w(std::size_t(s.n * s.k)), y(std::size_t(s.m * s.n)),
            r(std::size_t(s.m * s.n));
        std::uniform_real_distribution<float> d(-1, 1);
        for (auto& v : x) v = d(rng);
        for (auto& v : w) v = d(rng);
        auto mm = kernels::dnnl_backend::matmul_f32::make(matrix_view<const float>(w.data(), {s.n, s.k}));
        REQUIRE(mm.ok());
        energy::counter count;
        context ctx;
        ctx.with_energy(count);
        for (int twice = 0; twice < 2; ++twice)  // the second call reuses the cached primitive
            REQUIRE(mm->run(ctx, matrix_view<const float>(x.data(), {s.m, s.k}), matrix_view<float>(y.data(), {s.m, s.n})).ok());
        CHECK(count.macs(dtype::f32) == 2 * std::uint64_t(s.m * s.n * s.k));  // two calls so far
        kernels::scalar::matmul<float>(matrix_view<const float>(x.data(), {s.m, s.k}),
                                       matrix_view<const float>(w.data(), {s.n, s.k}), matrix_view<float>(r.data(), {s.m, s.n}));
        int bad = 0;
        for (std::size_t i = 0; i < y.size(); ++i) bad += std::fabs(y[i] - r[i]) > 1e-5f * float(s.k);
        CHECK(bad == 0);
        // Other buffers on a cached primitive: the new pointers reach oneDNN.
        std::vector<float> x2(x.size()), y2(y.size(), -1.0f);
        for (std::size_t i = 0; i < x.size(); ++i) x2[i] = 2.0f * x[i];
        REQUIRE(mm->run(ctx, matrix_view<const float>(x2.data(), {s.m, s.k}), matrix_view<float>(y2.data(), {s.m, s.n})).ok());
        int bad2 = 0;
        for (std::size_t i = 0; i < y.size(); ++i) bad2 += std::fabs(y2[i] - 2.0f * r[i]) > 2e-5f * float(s.k);
        CHECK(bad2 == 0);

        std::vector<std::int8_t> xq(x.size()), wq(w.size());
        std::vector<std::int32_t> yq(y.size()), rq(y.size());
        for (std::size_t i = 0; i < xq.size(); ++i) xq[i] = std::int8_t(i % 7 == 0 ? -128 : int(rng() % 256) - 128);
        // Full range: -128 and 127 in both, the rest uniform over all 256 values.
        for (std::size_t i = 0; i < xq.size(); ++i)
            xq[i] = std::int8_t(i % 7 == 0 ? -128 : i % 7 == 1 ? 127 : int(rng() % 256) - 128);
        for (std::size_t i = 0; i < wq.size(); ++i)
            wq[i] = std::int8_t(i % 5 == 0 ? -128 : i % 5 == 1 ? 127 : int(rng() % 256) - 128);
        auto m8 = kernels::dnnl_backend::matmul_s8::make(matrix_view<const std::int8_t>(wq.data(), {s.n, s.k}));
        if (kernels::dnnl_backend::has_vnni(dnnl_isa())) REQUIRE(m8.ok());
        if (m8) {
            CAPTURE(m8->implementation(s.m));
            REQUIRE(m8->run(ctx, matrix_view<const std::int8_t>(xq.data(), {s.m, s.k}),
                            matrix_view<std::int32_t>(yq.data(), {s.m, s.n}))
                        .ok());
            kernels::scalar::matmul_s8(matrix_view<const std::int8_t>(xq.data(), {s.m, s.k}),
                                       matrix_view<const std::int8_t>(wq.data(), {s.n, s.k}),
                                       matrix_view<std::int32_t>(rq.data(), {s.m, s.n}));
            int bad8 = 0;
            for (std::size_t i = 0; i < yq.size(); ++i) bad8 += yq[i] != rq[i];
            CHECK(bad8 == 0);
        } else {
            // Refused only without VNNI, with the rule named (-128 is outside [-64, 64]).
            CHECK(m8.error().code() == errc::unsupported);
            CHECK(std::string(m8.error().message()).find("outside [-64, 64]") != std::string::npos);
        }
    }
}

TEST_CASE("oneDNN matmul: shape mismatches and empty weights are statuses") {
    float w[6] = {}, x[6] = {}, y[4] = {};
    auto mm = kernels::dnnl_backend::matmul_f32::make(matrix_view<const float>(w, {2, 3}));
    REQUIRE(mm.ok());
    context ctx;
    CHECK(mm->run(ctx, matrix_view<const float>(x, {3, 2}), matrix_view<float>(y, {3, 2})).code() == errc::shape_mismatch);
    CHECK(kernels::dnnl_backend::matmul_f32::make(matrix_view<const float>(w, {0, 3})).error().code() == errc::invalid_argument);
}



TEST_CASE("prepared_matmul: the context picks the backend, each gives the reference result") {
    std::mt19937 rng(33);
    const index_t m = 9, n = 40, k = 33;
    std::vector<float> x(std::size_t(m * k)), w(std::size_t(n * k)), y(std::size_t(m * n)), r(std::size_t(m * n));
    std::uniform_real_distribution<float> d(-1, 1);
    for (auto& v : x) v = d(rng);
    for (auto& v : w) v = d(rng);
    kernels::scalar::matmul<float>(matrix_view<const float>(x.data(), {m, k}), matrix_view<const float>(w.data(), {n, k}),
                                   matrix_view<float>(r.data(), {m, n}));
    for (backend b : {backend::automatic, backend::xsimd, backend::scalar, backend::dnnl}) {
        CAPTURE(to_string(b));
        context ctx;
        ctx.with_backend(b, false);
        if (!backend_compiled(b)) continue;
        auto p = kernels::prepared_matmul<float>::make(ctx, matrix_view<const float>(w.data(), {n, k}));
        REQUIRE(p.ok());
        CHECK(p->has_dnnl() == (b == backend::dnnl));
        REQUIRE(p->run(ctx, matrix_view<const float>(x.data(), {m, k}), matrix_view<float>(y.data(), {m, n})).ok());
        int bad = 0;
        for (std::size_t i = 0; i < y.size(); ++i) bad += std::fabs(y[i] - r[i]) > 1e-5f * float(k);
        CHECK(bad == 0);
    }
    // prepared without oneDNN, run asking for it without fallback: a status
    context plain;
    auto p = kernels::prepared_matmul<float>::make(plain, matrix_view<const float>(w.data(), {n, k}));
    REQUIRE(p.ok());
    context strict;
    strict.with_backend(backend::dnnl, false);
    CHECK(p->run(strict, matrix_view<const float>(x.data(), {m, k}), matrix_view<float>(y.data(), {m, n})).code() ==
          errc::unsupported);
}
#endif

#if defined(SPARQ_WITH_DNNL)
#include "sparq/core/tensor.hpp"
#include "sparq/kernels/dnnl/conv2d.hpp"
#include "sparq/kernels/scalar/conv2d.hpp"

TEST_CASE("oneDNN conv2d f32 and s8 match the reference loops (stride, padding, dilation, groups)") {
    std::mt19937 rng(35);
    struct conv_case {
        extents_t<4> in, w;
        index_t stride, pad, dilation, groups;
    };
    for (const conv_case& c : {conv_case{{1, 3, 8, 8}, {4, 3, 3, 3}, 1, 1, 1, 1}, conv_case{{2, 8, 9, 7}, {6, 8, 3, 3}, 2, 1, 1, 1},
                               conv_case{{1, 4, 11, 11}, {4, 2, 3, 3}, 1, 2, 2, 2}, conv_case{{1, 6, 7, 7}, {6, 1, 3, 3}, 1, 1, 1, 6}}) {
        kernels::conv2d_params p = kernels::conv2d_params::same_padding(c.pad, c.stride);
        p.dilation_h = p.dilation_w = c.dilation;
        p.groups = c.groups;
        auto out = kernels::conv2d_output(c.in, c.w, p);
        REQUIRE(out.ok());
        auto x = tensor<float, 4>::make(c.in);
        auto w = tensor<float, 4>::make(c.w);
        auto y = tensor<float, 4>::make(*out), r = tensor<float, 4>::make(*out);
        REQUIRE((x.ok() && w.ok() && y.ok() && r.ok()));
        std::uniform_real_distribution<float> d(-1, 1);
        for (index_t i = 0; i < x->size(); ++i) x->data()[i] = d(rng);
        for (index_t i = 0; i < w->size(); ++i) w->data()[i] = d(rng);
        auto conv = kernels::dnnl_backend::conv2d_f32::make(w->cview(), p);
        REQUIRE(conv.ok());
        context ctx;
        REQUIRE(conv->run(ctx, x->cview(), y->view()).ok());
        kernels::scalar::conv2d(x->cview(), w->cview(), p, r->view());
        int bad = 0;
        for (index_t i = 0; i < y->size(); ++i) bad += std::fabs(y->data()[i] - r->data()[i]) > 1e-4f;
        CHECK(bad == 0);

        auto xq = tensor<std::int8_t, 4>::make(c.in);
        auto wq = tensor<std::int8_t, 4>::make(c.w);
        auto yq = tensor<std::int32_t, 4>::make(*out), rq = tensor<std::int32_t, 4>::make(*out);
        REQUIRE((xq.ok() && wq.ok() && yq.ok() && rq.ok()));
        for (index_t i = 0; i < xq->size(); ++i)
            xq->data()[i] = std::int8_t(i % 4 == 0 ? -128 : i % 4 == 1 ? 127 : int(rng() % 256) - 128);
        for (index_t i = 0; i < wq->size(); ++i)
            wq->data()[i] = std::int8_t(i % 3 == 0 ? -128 : i % 3 == 1 ? 127 : int(rng() % 256) - 128);
        auto conv8 = kernels::dnnl_backend::conv2d_s8::make(wq->cview(), p);
        if (kernels::dnnl_backend::has_vnni(dnnl_isa())) REQUIRE(conv8.ok());
        if (conv8) {
            CAPTURE(conv8->implementation(c.in));
            REQUIRE(conv8->run(ctx, xq->cview(), yq->view()).ok());
            kernels::scalar::conv2d(xq->cview(), wq->cview(), p, rq->view());
            int bad8 = 0;
            for (index_t i = 0; i < yq->size(); ++i) bad8 += yq->data()[i] != rq->data()[i];
            CHECK(bad8 == 0);
        } else {
            CHECK(conv8.error().code() == errc::unsupported);  // 127 is odd: halving would drop its low bit
            CHECK(std::string(conv8.error().message()).find("odd") != std::string::npos);
        }
    }
}
#endif

#if defined(SPARQ_WITH_DNNL)
namespace {

// One s8 matmul through oneDNN if make() accepts the weights; the sums must then equal the
// scalar reference's bit for bit. Returns whether it was accepted.
bool dnnl_s8_matmul_exact(const std::vector<std::int8_t>& x, const std::vector<std::int8_t>& w, index_t m, index_t n,
                          index_t k) {
    auto mm = kernels::dnnl_backend::matmul_s8::make(matrix_view<const std::int8_t>(w.data(), {n, k}));
    if (!mm) {
        CHECK(mm.error().code() == errc::unsupported);
        return false;
    }
    CAPTURE(mm->implementation(m));
    std::vector<std::int32_t> y(std::size_t(m * n)), r(std::size_t(m * n));
    context ctx;
    REQUIRE(mm->run(ctx, matrix_view<const std::int8_t>(x.data(), {m, k}), matrix_view<std::int32_t>(y.data(), {m, n}))
                .ok());
    kernels::scalar::matmul_s8(matrix_view<const std::int8_t>(x.data(), {m, k}),
                               matrix_view<const std::int8_t>(w.data(), {n, k}),
                               matrix_view<std::int32_t>(r.data(), {m, n}));
    int bad = 0;
    for (std::size_t i = 0; i < y.size(); ++i) bad += y[i] != r[i];
    CAPTURE(y[0]);
    CAPTURE(r[0]);
    CHECK(bad == 0);
    return true;
}

}  // namespace

TEST_CASE("oneDNN int8 exactness rules: VNNI / AMX take any weights; without, [-64, 64] (matmul) or even (conv2d)") {
    using kernels::dnnl_backend::int8_exact;
    using kernels::dnnl_backend::int8_op;
    using kernels::dnnl_backend::s8_weight_facts;
    using isa = ::dnnl::cpu_isa;
    auto facts = [](std::vector<std::vector<int>> outputs) {
        s8_weight_facts f;
        for (const auto& o : outputs)
            f.add_output([&](auto visit) {
                for (int v : o) visit(std::int8_t(v));
            });
        return f;
    };
    const s8_weight_facts full = facts({{-128, 127, 3}, {5, -7, 0}}), narrow = facts({{-64, 64, 3}, {5, -7, 0}}),
                          even = facts({{-128, 126, 2}, {4, -6, 0}}), single = facts({{-64, 64, 2}});
    CHECK(full.outputs == 2);
    CHECK(full.min == -128);
    CHECK(full.max == 127);
    CHECK(full.max_abs_sum == 258);
    CHECK(full.first_odd == 127);
    CHECK(even.first_odd == 0);
    for (isa i : {isa::avx2_vnni, isa::avx512_core_vnni, isa::avx512_core_bf16, isa::avx512_core_amx}) {
        CAPTURE(kernels::dnnl_backend::isa_name(i));
        for (const s8_weight_facts* f : {&full, &narrow, &even, &single}) {
            CHECK(int8_exact(int8_op::matmul, *f, i).ok());
            CHECK(int8_exact(int8_op::conv2d, *f, i).ok());
        }
    }
    for (isa i : {isa::sse41, isa::avx, isa::avx2, isa::avx512_core, isa::all}) {
        CAPTURE(kernels::dnnl_backend::isa_name(i));
        const status s = int8_exact(int8_op::matmul, full, i);
        CHECK(s.code() == errc::unsupported);
        CHECK(std::string(s.message()).find(std::string("on ") + kernels::dnnl_backend::isa_name(i) + " (no VNNI)") !=
              std::string::npos);
        CHECK(int8_exact(int8_op::matmul, narrow, i).ok());
        CHECK(int8_exact(int8_op::matmul, even, i).code() == errc::unsupported);  // -128 and 126: outside [-64, 64]
        CHECK(int8_exact(int8_op::matmul, single, i).ok() == (i != isa::avx512_core));  // its N = 1 defect
        CHECK(int8_exact(int8_op::conv2d, even, i).ok());
        CHECK(int8_exact(int8_op::conv2d, narrow, i).code() == errc::unsupported);  // 3 is odd
        CHECK(int8_exact(int8_op::conv2d, full, i).code() == errc::unsupported);
    }
    // The float output stage, on every ISA: 128 * sum |w| <= 2^24, i.e. sum |w| <= 131072.
    s8_weight_facts at, over;
    at.add_output([](auto visit) {
        for (int k = 0; k < 1024; ++k) visit(std::int8_t(-128));
    });
    over.add_output([](auto visit) {
        for (int k = 0; k < 1025; ++k) visit(std::int8_t(-128));
    });
    CHECK(at.max_abs_sum == 131072);
    for (isa i : {isa::avx2, isa::avx512_core_vnni, isa::avx512_core_amx}) {
        CHECK(int8_exact(int8_op::matmul, at, i).ok() == kernels::dnnl_backend::has_vnni(i));  // -128: not [-64, 64]
        CHECK(int8_exact(int8_op::conv2d, at, i).ok());
        CHECK(std::string(int8_exact(int8_op::conv2d, over, i).message()).find("2^24") != std::string::npos);
    }
}

TEST_CASE("oneDNN int8 matmul: whatever make() accepts is exact at the edges of its rules") {
    std::mt19937 rng(37);
    const bool vnni = kernels::dnnl_backend::has_vnni(dnnl_isa());
    CAPTURE(kernels::dnnl_backend::isa_name(dnnl_isa()));
    // Constant weights at and past the [-64, 64] edge against activations 127 (255 once oneDNN
    // shifts them to u8: the largest pair sums) and -128; M = 1 (a matvec) to 64, N = 1 to 33.
    for (int wv : {64, -64, 65, -65, 127, -128})
        for (int xv : {127, -128, 0})
            for (index_t m : {1, 2, 5, 64})
                for (index_t n : {1, 2, 33})
                    for (index_t k : {4, 333}) {
                        CAPTURE(wv);
                        CAPTURE(xv);
                        CAPTURE(m);
                        CAPTURE(n);
                        CAPTURE(k);
                        std::vector<std::int8_t> x(std::size_t(m * k), std::int8_t(xv)),
                            w(std::size_t(n * k), std::int8_t(wv));
                        const bool accepted = dnnl_s8_matmul_exact(x, w, m, n, k);
                        const bool in_rule =
                            wv >= -64 && wv <= 64 && (n > 1 || dnnl_isa() != ::dnnl::cpu_isa::avx512_core);
                        CHECK(accepted == (vnni || in_rule));
                    }
    // Random activations over the whole range, random weights in [-64, 64]: accepted everywhere.
    for (index_t m : {1, 3, 64}) {
        const index_t n = 40, k = 517;
        std::vector<std::int8_t> x(std::size_t(m * k)), w(std::size_t(n * k));
        for (auto& v : x) v = std::int8_t(int(rng() % 256) - 128);
        for (auto& v : w) v = std::int8_t(int(rng() % 129) - 64);
        CHECK(dnnl_s8_matmul_exact(x, w, m, n, k));
    }
    // Sums beyond 2^24, which oneDNN's float output stage rounds on every ISA (16790289 came out
    // 16790288 on avx512_core_vnni): refused; 128 * 1024 * 128 = 2^24 itself is exact.
    {
        const index_t m = 2, n = 3, k = 1041;
        std::vector<std::int8_t> x(std::size_t(m * k), 127), w(std::size_t(n * k), 127);
        auto mm = kernels::dnnl_backend::matmul_s8::make(matrix_view<const std::int8_t>(w.data(), {n, k}));
        REQUIRE_FALSE(mm.ok());
        CHECK(std::string(mm.error().message()).find("2^24") != std::string::npos);
    }
    for (int xv : {-128, 127}) {
        const index_t m = 2, n = 3, k = 1024;
        std::vector<std::int8_t> x(std::size_t(m * k), std::int8_t(xv)), w(std::size_t(n * k), -128);
        CHECK(dnnl_s8_matmul_exact(x, w, m, n, k) == vnni);
        std::vector<std::int8_t> w64(std::size_t(n * k), -64);  // within the rule everywhere
        CHECK(dnnl_s8_matmul_exact(x, w64, m, n, k));
    }
}

TEST_CASE("oneDNN int8 conv2d: even full-range weights are exact on every ISA; odd ones only with VNNI") {
    std::mt19937 rng(39);
    const bool vnni = kernels::dnnl_backend::has_vnni(dnnl_isa());
    CAPTURE(kernels::dnnl_backend::isa_name(dnnl_isa()));
    struct conv_case {
        extents_t<4> in, w;
        index_t groups;
    };
    // 3x3, 1x1, depthwise, grouped, one output channel, a 5x5: each picks another oneDNN kernel.
    for (const conv_case& c : {conv_case{{1, 3, 8, 8}, {4, 3, 3, 3}, 1}, conv_case{{1, 64, 14, 14}, {64, 64, 3, 3}, 1},
                               conv_case{{1, 64, 7, 7}, {128, 64, 1, 1}, 1},
                               conv_case{{1, 32, 10, 10}, {32, 1, 3, 3}, 32}, conv_case{{3, 8, 5, 5}, {2, 4, 3, 3}, 2},
                               conv_case{{2, 4, 6, 6}, {1, 4, 3, 3}, 1}, conv_case{{2, 16, 9, 7}, {24, 16, 5, 5}, 1}}) {
        CAPTURE(c.w[0]);
        CAPTURE(c.w[1]);
        CAPTURE(c.w[2]);
        kernels::conv2d_params p = kernels::conv2d_params::same_padding(c.w[2] / 2, 1);
        p.groups = c.groups;
        auto out = kernels::conv2d_output(c.in, c.w, p);
        REQUIRE(out.ok());
        auto xq = tensor<std::int8_t, 4>::make(c.in);
        auto wq = tensor<std::int8_t, 4>::make(c.w);
        auto yq = tensor<std::int32_t, 4>::make(*out), rq = tensor<std::int32_t, 4>::make(*out);
        REQUIRE((xq.ok() && wq.ok() && yq.ok() && rq.ok()));
        for (index_t i = 0; i < xq->size(); ++i)
            xq->data()[i] = std::int8_t(i % 3 == 0 ? 127 : i % 3 == 1 ? -128 : int(rng() % 256) - 128);
        for (bool even : {true, false}) {
            CAPTURE(even);
            for (index_t i = 0; i < wq->size(); ++i) {
                const int v = i % 4 == 0 ? -128 : i % 4 == 1 ? 127 : int(rng() % 256) - 128;
                wq->data()[i] = std::int8_t(even ? v & ~1 : v);  // not even: 127 is there
            }
            auto conv8 = kernels::dnnl_backend::conv2d_s8::make(wq->cview(), p);
            CHECK(conv8.ok() == (even || vnni));
            if (!conv8) continue;
            CAPTURE(conv8->implementation(c.in));
            context ctx;
            REQUIRE(conv8->run(ctx, xq->cview(), yq->view()).ok());
            kernels::scalar::conv2d(xq->cview(), wq->cview(), p, rq->view());
            int bad = 0;
            for (index_t i = 0; i < yq->size(); ++i) bad += yq->data()[i] != rq->data()[i];
            CHECK(bad == 0);
        }
    }
    // A 1x1 reduction of 1041 channels of 127 * 127 (16790289 per output, rounded to 16790288 by
    // oneDNN's float output stage): refused on every ISA.
    auto w = tensor<std::int8_t, 4>::make({2, 1041, 1, 1});
    REQUIRE(w.ok());
    for (index_t i = 0; i < w->size(); ++i) w->data()[i] = 126;
    CHECK(kernels::dnnl_backend::conv2d_s8::make(w->cview(), kernels::conv2d_params{}).error().code() ==
          errc::unsupported);
}

TEST_CASE("prepared_matmul<int8>: weights oneDNN cannot keep exact run on sparq's kernel, with the reason kept") {
    std::mt19937 rng(41);
    const index_t m = 6, n = 24, k = 70;
    std::vector<std::int8_t> x(std::size_t(m * k)), w(std::size_t(n * k));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::int8_t(i % 3 == 0 ? 127 : int(rng() % 256) - 128);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::int8_t(i % 3 == 0 ? -128 : int(rng() % 256) - 128);
    std::vector<std::int32_t> y(std::size_t(m * n)), r(std::size_t(m * n));
    kernels::scalar::matmul_s8(matrix_view<const std::int8_t>(x.data(), {m, k}),
                               matrix_view<const std::int8_t>(w.data(), {n, k}),
                               matrix_view<std::int32_t>(r.data(), {m, n}));
    const bool vnni = kernels::dnnl_backend::has_vnni(dnnl_isa());
    context ctx;
    ctx.with_backend(backend::dnnl, /*fallback=*/true);
    auto p = kernels::prepared_matmul<std::int8_t>::make(ctx, matrix_view<const std::int8_t>(w.data(), {n, k}));
    REQUIRE(p.ok());
    CHECK(p->has_dnnl() == vnni);
    CHECK(p->dnnl_declined().ok() == vnni);
    if (!vnni) CHECK(std::string(p->dnnl_declined().message()).find("use sparq's kernel") != std::string::npos);
    REQUIRE(p->run(ctx, matrix_view<const std::int8_t>(x.data(), {m, k}), matrix_view<std::int32_t>(y.data(), {m, n}))
                .ok());
    CHECK(y == r);
    // Without fallback the refusal is the caller's answer.
    ctx.with_backend(backend::dnnl, /*fallback=*/false);
    auto strict = kernels::prepared_matmul<std::int8_t>::make(ctx, matrix_view<const std::int8_t>(w.data(), {n, k}));
    CHECK(strict.ok() == vnni);
    if (!strict) CHECK(strict.error().code() == errc::unsupported);
}
#endif
