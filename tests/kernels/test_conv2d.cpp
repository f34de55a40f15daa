// conv2d (im2col + packed GEMM, direct depthwise) against the reference loops, on shapes from
// real networks and awkward ones: strides, asymmetric padding, dilation, groups, 1x1, int8 extremes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "sparq/core/arena.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/conv2d.hpp"

using namespace sparq;

namespace {
struct conv_case {
    extents_t<4> in, w;
    kernels::conv2d_params p;
};
kernels::conv2d_params params(index_t stride, index_t pt, index_t pl, index_t pb, index_t pr, index_t dil, index_t groups) {
    kernels::conv2d_params p;
    p.stride_h = p.stride_w = stride;
    p.pad_top = pt, p.pad_left = pl, p.pad_bottom = pb, p.pad_right = pr;
    p.dilation_h = p.dilation_w = dil;
    p.groups = groups;
    return p;
}
const conv_case cases[] = {
    {{1, 3, 8, 8}, {4, 3, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},       // 3x3 same
    {{2, 8, 9, 7}, {6, 8, 3, 3}, params(2, 1, 0, 1, 2, 1, 1)},       // stride 2, asymmetric pad, batch 2
    {{1, 4, 11, 11}, {4, 2, 3, 3}, params(1, 2, 2, 2, 2, 2, 2)},     // dilation 2, 2 groups
    {{1, 6, 7, 7}, {6, 1, 3, 3}, params(1, 1, 1, 1, 1, 1, 6)},       // depthwise
    {{1, 16, 5, 5}, {8, 16, 1, 1}, params(1, 0, 0, 0, 0, 1, 1)},     // 1x1 (pointwise)
    {{1, 64, 14, 14}, {64, 64, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},  // a ResNet-18 stage-3 shape, shrunk
    {{1, 1, 1, 1}, {1, 1, 1, 1}, params(1, 0, 0, 0, 0, 1, 1)},
};
}  // namespace

TEST_CASE("conv2d f32 and int8 match the reference loops") {
    std::mt19937 rng(41);
    static std::byte scratch[1 << 21];
    arena a(scratch, sizeof scratch);
    for (const conv_case& c : cases) {
        auto out = kernels::conv2d_output(c.in, c.w, c.p);
        REQUIRE(out.ok());
        auto x = tensor<float, 4>::make(c.in);
        auto w = tensor<float, 4>::make(c.w);
        auto y = tensor<float, 4>::make(*out), r = tensor<float, 4>::make(*out);
        REQUIRE((x.ok() && w.ok() && y.ok() && r.ok()));
        std::uniform_real_distribution<float> d(-1, 1);
        for (index_t i = 0; i < x->size(); ++i) x->data()[i] = d(rng);
        for (index_t i = 0; i < w->size(); ++i) w->data()[i] = d(rng);
        auto packed = kernels::pack_conv_weights(w->cview(), c.p.groups);
        REQUIRE(packed.ok());
        energy::counter count;
        context ctx;
        ctx.with_scratch(a).with_energy(count);
        REQUIRE(kernels::conv2d(ctx, x->cview(), *packed, c.p, y->view()).ok());
        kernels::scalar::conv2d(x->cview(), w->cview(), c.p, r->view());
        const index_t kg = c.w[1] * c.w[2] * c.w[3];
        int bad = 0;
        for (index_t i = 0; i < y->size(); ++i) bad += std::fabs(y->data()[i] - r->data()[i]) > 1e-5f * float(kg);
        CHECK(bad == 0);
        CHECK(count.macs(dtype::f32) == std::uint64_t(y->size() * kg));  // the GEMM's work, pads included
        CHECK(a.used() == 0);  // the im2col buffer went back to the arena

        auto xq = tensor<std::int8_t, 4>::make(c.in);
        auto wq = tensor<std::int8_t, 4>::make(c.w);
        auto yq = tensor<std::int32_t, 4>::make(*out), rq = tensor<std::int32_t, 4>::make(*out);
        REQUIRE((xq.ok() && wq.ok() && yq.ok() && rq.ok()));
        for (index_t i = 0; i < xq->size(); ++i) xq->data()[i] = std::int8_t(i % 4 == 0 ? -128 : int(rng() % 256) - 128);
        for (index_t i = 0; i < wq->size(); ++i) wq->data()[i] = std::int8_t(i % 3 == 0 ? -128 : int(rng() % 256) - 128);
        auto packed8 = kernels::pack_conv_weights(wq->cview(), c.p.groups);
        REQUIRE(packed8.ok());
        REQUIRE(kernels::conv2d_s8(ctx, xq->cview(), *packed8, c.p, yq->view()).ok());
        kernels::scalar::conv2d(xq->cview(), wq->cview(), c.p, rq->view());
        int bad8 = 0;
        for (index_t i = 0; i < yq->size(); ++i) bad8 += yq->data()[i] != rq->data()[i];
        CHECK(bad8 == 0);
        // Asymmetric activations: padding holds the zero point on every path (im2col and the
        // direct depthwise loops alike), as the requantization's z_x * colsum term assumes.
        const std::int8_t zp = -37;
        REQUIRE(kernels::conv2d_s8(ctx, xq->cview(), *packed8, c.p, yq->view(), zp).ok());
        kernels::scalar::conv2d(xq->cview(), wq->cview(), c.p, rq->view(), zp);
        int bad_zp = 0;
        for (index_t i = 0; i < yq->size(); ++i) bad_zp += yq->data()[i] != rq->data()[i];
        CHECK(bad_zp == 0);
    }
}

TEST_CASE("conv2d: bad shapes and missing scratch memory are statuses") {
    auto x = tensor<float, 4>::make({1, 3, 8, 8});
    auto w = tensor<float, 4>::make({4, 3, 3, 3});
    auto y = tensor<float, 4>::make({1, 4, 8, 8});
    REQUIRE((x.ok() && w.ok() && y.ok()));
    auto packed = kernels::pack_conv_weights(w->cview(), 1);
    REQUIRE(packed.ok());
    context ctx;
    const auto same = kernels::conv2d_params::same_padding(1);
    auto s = kernels::conv2d(ctx, x->cview(), *packed, same, y->view());
    CHECK(s.code() == errc::invalid_argument);  // im2col needs an arena
    CHECK(std::string(s.message()).find("give the context an arena") != std::string::npos);
    static std::byte small[256];
    arena tiny(small, sizeof small);
    ctx.with_scratch(tiny);
    CHECK(kernels::conv2d(ctx, x->cview(), *packed, same, y->view()).code() == errc::out_of_memory);
    CHECK(kernels::conv2d(ctx, x->cview(), *packed, kernels::conv2d_params{}, y->view()).code() == errc::shape_mismatch);
    CHECK(kernels::conv2d_output({1, 3, 2, 2}, {4, 3, 5, 5}, kernels::conv2d_params{}).error().code() == errc::shape_mismatch);
    CHECK(kernels::conv2d_output({1, 3, 8, 8}, {4, 3, 3, 3}, params(1, 0, 0, 0, 0, 1, 2)).error().code() == errc::shape_mismatch);
    CHECK(kernels::pack_conv_weights(w->cview(), 3).error().code() == errc::invalid_argument);
}

TEST_CASE("conv2d on random shapes (pointwise, grouped, strided, dilated, padded) matches the reference loops") {
    std::mt19937 rng(77);
    static std::byte scratch[1 << 22];
    arena a(scratch, sizeof scratch);
    context ctx;
    ctx.with_scratch(a);
    for (int trial = 0; trial < 120; ++trial) {
        CAPTURE(trial);
        const index_t groups = trial % 5 == 0 ? 2 : 1, cg = 1 + index_t(rng() % 9), og = 1 + index_t(rng() % 11);
        const bool pointwise = trial % 3 == 0;
        const index_t k = pointwise ? 1 : 1 + index_t(rng() % 5);
        kernels::conv2d_params p;
        p.groups = groups;
        if (!pointwise) {
            p.stride_h = 1 + index_t(rng() % 3), p.stride_w = 1 + index_t(rng() % 3);
            p.dilation_h = 1 + index_t(rng() % 2), p.dilation_w = 1 + index_t(rng() % 2);
            p.pad_top = index_t(rng() % 3), p.pad_left = index_t(rng() % 3), p.pad_bottom = index_t(rng() % 3), p.pad_right = index_t(rng() % 3);
        }
        const index_t h = p.dilation_h * (k - 1) + 1 + index_t(rng() % 19), w = p.dilation_w * (k - 1) + 1 + index_t(rng() % 23);
        const extents_t<4> in{1 + index_t(rng() % 2), groups * cg, h, w}, wx{groups * og, cg, k, k};
        auto out = kernels::conv2d_output(in, wx, p);
        REQUIRE(out.ok());
        auto x = tensor<float, 4>::make(in);
        auto wt = tensor<float, 4>::make(wx);
        auto y = tensor<float, 4>::make(*out), r = tensor<float, 4>::make(*out);
        REQUIRE((x.ok() && wt.ok() && y.ok() && r.ok()));
        std::uniform_real_distribution<float> d(-1, 1);
        for (index_t i = 0; i < x->size(); ++i) x->data()[i] = d(rng);
        for (index_t i = 0; i < wt->size(); ++i) wt->data()[i] = d(rng);
        auto packed = kernels::pack_conv_weights(wt->cview(), groups);
        REQUIRE(packed.ok());
        REQUIRE(kernels::conv2d(ctx, x->cview(), *packed, p, y->view()).ok());
        kernels::scalar::conv2d(x->cview(), wt->cview(), p, r->view());
        int bad = 0;
        for (index_t i = 0; i < y->size(); ++i) bad += std::fabs(y->data()[i] - r->data()[i]) > 1e-5f * float(cg * k * k);
        CHECK(bad == 0);

        auto xq = tensor<std::int8_t, 4>::make(in);
        auto wq = tensor<std::int8_t, 4>::make(wx);
        auto yq = tensor<std::int32_t, 4>::make(*out), rq = tensor<std::int32_t, 4>::make(*out);
        REQUIRE((xq.ok() && wq.ok() && yq.ok() && rq.ok()));
        for (index_t i = 0; i < xq->size(); ++i) xq->data()[i] = std::int8_t(int(rng() % 256) - 128);
        for (index_t i = 0; i < wq->size(); ++i) wq->data()[i] = std::int8_t(int(rng() % 256) - 128);
        auto packed8 = kernels::pack_conv_weights(wq->cview(), groups);
        REQUIRE(packed8.ok());
        const std::int8_t zp = std::int8_t(int(rng() % 256) - 128);
        REQUIRE(kernels::conv2d_s8(ctx, xq->cview(), *packed8, p, yq->view(), zp).ok());
        kernels::scalar::conv2d(xq->cview(), wq->cview(), p, rq->view(), zp);
        int bad8 = 0;
        for (index_t i = 0; i < yq->size(); ++i) bad8 += yq->data()[i] != rq->data()[i];
        CHECK(bad8 == 0);
    }
}
