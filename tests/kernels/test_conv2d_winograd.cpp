// conv2d_nhwc_winograd (F(2x2, 3x3) and F(4x4, 3x3)) against the reference loops run in double
// (scalar::conv2d on NCHW, then bias and activation): random shapes (1x1 and 2x2 maps, odd and
// prime sizes, partial tiles, C and O across vector widths, batches, padding 0-2 on each side),
// bias or none, every activation. Tolerance: |y - ref| <= tol * scale, scale per output being
// sum over c of (sum of |x| over its tile's (m + 2)^2 patch) * max |w[o][c]| + |bias| (a tile's
// rounding comes from its whole patch, not only the output's 3x3 window: with one channel and a
// corner output whose window is mostly padding, the window's own sum of |terms| is far smaller);
// tol 1e-6 for F(2x2), 1e-5 for F(4x4) (measured worst cases here 1.4e-7 and 1.1e-6).
// Then: 1 and 3 threads and a tight arena give the same bits; non-finite inputs and weights;
// the energy counts; bad calls as statuses.
#include <doctest/doctest.h>

#include "support/layout.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/conv2d_nhwc.hpp"
#include "sparq/kernels/conv2d_winograd_nhwc.hpp"
#include "sparq/kernels/scalar/conv2d.hpp"

using namespace sparq;

namespace {

struct wcase {
    extents_t<4> x, w, y;  // NCHW extents
    kernels::conv2d_params p;
};

index_t count(const extents_t<4>& e) {
    return e[0] * e[1] * e[2] * e[3];
}

std::string describe(const wcase& s) {
    char x[64], buf[160];
    std::snprintf(buf, sizeof buf, "x %s o %td pad %td,%td,%td,%td", format_extents(s.x, x, sizeof x), s.w[0],
                  s.p.pad_top, s.p.pad_left, s.p.pad_bottom, s.p.pad_right);
    return buf;
}

wcase make_case(index_t n, index_t c, index_t o, index_t h, index_t w, index_t pt, index_t pl, index_t pb, index_t pr) {
    wcase s;
    s.x = {n, c, h, w};
    s.w = {o, c, 3, 3};
    s.p.pad_top = pt, s.p.pad_left = pl, s.p.pad_bottom = pb, s.p.pad_right = pr;
    auto y = kernels::conv2d_output(s.x, s.w, s.p);
    REQUIRE(y.ok());
    s.y = *y;
    return s;
}

wcase random_case(std::mt19937& rng) {
    auto pick = [&](std::initializer_list<index_t> v) { return v.begin()[rng() % v.size()]; };
    for (;;) {
        const index_t c = pick({1, 3, 17, 64, 130}), o = pick({1, 3, 17, 64, 130});
        const index_t h = pick({1, 2, 3, 5, 7, 11, 13}), w = pick({1, 2, 3, 5, 7, 11, 13});
        const index_t n = c * o > 2000 ? 1 : pick({1, 3});
        const index_t pt = index_t(rng() % 3), pl = index_t(rng() % 3), pb = index_t(rng() % 3),
                      pr = index_t(rng() % 3);
        if (h + pt + pb < 3 || w + pl + pr < 3) continue;
        return make_case(n, c, o, h, w, pt, pl, pb, pr);
    }
}

using sparq_test::to_nhwc;

// The reference in double, channels-last: act(conv + bias); and each output's error scale:
// what a Winograd tile's rounding is proportional to, the whole (m + 2)^2 patch of its tile
// rather than its own 3x3 window (the transforms mix the patch, and their cancellation is what
// rounds): sum over c of (sum of |x| over the patch) * max |w[o][c]|, + |bias|.
void reference(const wcase& s, index_t m, const std::vector<float>& x, const std::vector<float>& w,
               const std::vector<float>& bias, kernels::activation act, std::vector<double>& ref,
               std::vector<double>& scale) {
    std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
    std::vector<double> r(std::size_t(count(s.y)));
    kernels::scalar::conv2d(tensor_view<const double, 4>(xd.data(), s.x), tensor_view<const double, 4>(wd.data(), s.w),
                            s.p, tensor_view<double, 4>(r.data(), s.y));
    ref = to_nhwc(r, s.y);
    const index_t o_n = s.y[1], c_n = s.x[1], oh_n = s.y[2], ow_n = s.y[3], h = s.x[2], wd_n = s.x[3];
    std::vector<double> wmax(std::size_t(o_n * c_n), 0.0);
    std::vector<double> patch(static_cast<std::size_t>(c_n), 0.0);
    for (index_t o = 0; o < o_n; ++o)
        for (index_t c = 0; c < c_n; ++c)
            for (index_t k = 0; k < 9; ++k)
                wmax[std::size_t(o * c_n + c)] =
                    std::max(wmax[std::size_t(o * c_n + c)], std::fabs(wd[std::size_t((o * c_n + c) * 9 + k)]));
    scale.assign(ref.size(), 0.0);
    for (index_t n = 0; n < s.y[0]; ++n)
        for (index_t oh = 0; oh < oh_n; ++oh)
            for (index_t ow = 0; ow < ow_n; ++ow) {
                const index_t ih0 = oh / m * m - s.p.pad_top, iw0 = ow / m * m - s.p.pad_left;
                std::fill(patch.begin(), patch.end(), 0.0);
                for (index_t ih = std::max<index_t>(ih0, 0); ih < std::min(ih0 + m + 2, h); ++ih)
                    for (index_t iw = std::max<index_t>(iw0, 0); iw < std::min(iw0 + m + 2, wd_n); ++iw)
                        for (index_t c = 0; c < c_n; ++c)
                            patch[std::size_t(c)] += std::fabs(xd[std::size_t(((n * c_n + c) * h + ih) * wd_n + iw)]);
                for (index_t o = 0; o < o_n; ++o) {
                    double sum = 0;
                    for (index_t c = 0; c < c_n; ++c) sum += patch[std::size_t(c)] * wmax[std::size_t(o * c_n + c)];
                    scale[std::size_t(((n * oh_n + oh) * ow_n + ow) * o_n + o)] = sum;
                }
            }
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double b = bias.empty() ? 0.0 : double(bias[i % std::size_t(o_n)]);
        double v = ref[i] + b;
        if (act != kernels::activation::none && v < 0) v = 0;
        if (act == kernels::activation::relu6 && v > 6) v = 6;
        ref[i] = v, scale[i] += std::fabs(b);
    }
}

const kernels::activation activations[] = {kernels::activation::none, kernels::activation::relu,
                                           kernels::activation::relu6};

int mismatched_bits(const std::vector<float>& a, const std::vector<float>& b) {
    int bad = 0;
    for (std::size_t i = 0; i < a.size(); ++i) bad += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return bad;
}

struct run_result {
    status st;
    std::vector<float> y;
};

run_result run(const wcase& s, const std::vector<float>& xn, const kernels::packed_winograd& pw,
               const std::vector<float>& bias, kernels::activation act, int threads, std::size_t arena_bytes = 0) {
    const std::size_t bytes =
        arena_bytes ? arena_bytes : kernels::conv2d_nhwc_winograd_scratch_bytes(pw, s.y, threads) + 64;
    auto a = arena::with_capacity(bytes);
    REQUIRE(a.ok());
    context ctx;
    ctx.with_scratch(*a).with_threads(threads);
    run_result r;
    r.y.assign(std::size_t(count(s.y)), -7.0f);
    r.st = kernels::conv2d_nhwc_winograd(ctx, xn.data(), s.x, pw, s.p, bias, act, r.y.data(), s.y);
    return r;
}

}  // namespace

TEST_CASE("conv2d_nhwc_winograd: F(2x2) and F(4x4) match the double reference on random shapes") {
    std::mt19937 rng(2024);
    for (const index_t m : {2, 4}) {
        const double tol = m == 2 ? 1e-6 : 1e-5;
        double worst = 0;
        for (int trial = 0; trial < 60; ++trial) {
            const wcase s = random_case(rng);
            CAPTURE(m);
            CAPTURE(trial);
            const std::string shape = describe(s);
            CAPTURE(shape);
            std::normal_distribution<float> nd(0.0f, 1.0f);
            std::vector<float> x(std::size_t(count(s.x))), w(std::size_t(count(s.w))), bias;
            for (auto& v : x) v = nd(rng);
            for (auto& v : w) v = nd(rng) * std::sqrt(2.0f / float(s.x[1] * 9));
            if (trial % 2)
                for (index_t o = 0; o < s.y[1]; ++o) bias.push_back(nd(rng));
            const kernels::activation act = activations[(trial / 2) % 3];
            std::vector<double> ref, scale;
            reference(s, m, x, w, bias, act, ref, scale);
            auto pw = kernels::pack_winograd_weights(tensor_view<const float, 4>(w.data(), s.w), m);
            REQUIRE(pw.ok());
            const auto xn = to_nhwc(x, s.x);
            const run_result r = run(s, xn, *pw, bias, act, 1);
            REQUIRE(r.st.ok());
            int bad = 0;
            for (std::size_t i = 0; i < ref.size(); ++i) {
                const double err = std::fabs(double(r.y[i]) - ref[i]), lim = tol * scale[i] + 1e-30;
                bad += !(err <= lim);
                if (scale[i] > 0) worst = std::max(worst, err / scale[i]);
            }
            CHECK(bad == 0);
        }
        MESSAGE("F(" << m << "x" << m << ", 3x3): worst |error| / patch scale = " << worst);
    }
}

TEST_CASE("conv2d_nhwc_winograd: 1 and 3 threads and a tight arena give the same bits") {
    std::mt19937 rng(7);
    // several chunks of tiles (so that tasks split them), partial tiles, a bias and relu
    for (const index_t m : {2, 4}) {
        for (const wcase& s : {make_case(3, 64, 64, 27, 29, 1, 1, 1, 1), make_case(2, 17, 130, 15, 13, 2, 0, 1, 2)}) {
            CAPTURE(m);
            const std::string shape = describe(s);
            CAPTURE(shape);
            std::normal_distribution<float> nd(0.0f, 1.0f);
            std::vector<float> x(std::size_t(count(s.x))), w(std::size_t(count(s.w))), bias;
            for (auto& v : x) v = nd(rng);
            for (auto& v : w) v = nd(rng) * 0.1f;
            for (index_t o = 0; o < s.y[1]; ++o) bias.push_back(nd(rng));
            auto pw = kernels::pack_winograd_weights(tensor_view<const float, 4>(w.data(), s.w), m);
            REQUIRE(pw.ok());
            const auto xn = to_nhwc(x, s.x);
            const run_result one = run(s, xn, *pw, bias, kernels::activation::relu, 1);
            const run_result three = run(s, xn, *pw, bias, kernels::activation::relu, 3);
            // an arena with room for one task's buffers only, run on 3 threads
            const std::size_t tight = kernels::conv2d_nhwc_winograd_scratch_bytes(*pw, s.y, 1) + 63;
            const run_result squeezed = run(s, xn, *pw, bias, kernels::activation::relu, 3, tight);
            REQUIRE(one.st.ok());
            REQUIRE(three.st.ok());
            REQUIRE(squeezed.st.ok());
            CHECK(kernels::conv2d_nhwc_winograd_scratch_bytes(*pw, s.y, 3) >=
                  kernels::conv2d_nhwc_winograd_scratch_bytes(*pw, s.y, 1));
            CHECK(mismatched_bits(one.y, three.y) == 0);
            CHECK(mismatched_bits(one.y, squeezed.y) == 0);
            // too small for one task: a status, y untouched
            const run_result starved = run(s, xn, *pw, bias, kernels::activation::relu, 3, tight - 64);
            CHECK(starved.st.code() == errc::out_of_memory);
        }
    }
}

TEST_CASE("conv2d_nhwc_winograd: an output the reference makes non-finite is non-finite; the rest stay in their tile") {
    std::mt19937 rng(31);
    const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
    int non_finite = 0;
    for (const index_t m : {2, 4}) {
        for (int trial = 0; trial < 40; ++trial) {
            const wcase s = random_case(rng);
            CAPTURE(m);
            CAPTURE(trial);
            const std::string shape = describe(s);
            CAPTURE(shape);
            std::uniform_real_distribution<float> u(-2, 2);
            std::vector<float> x(std::size_t(count(s.x))), w(std::size_t(count(s.w))), bias;
            for (auto& v : x) v = rng() % 97 == 0 ? specials[rng() % 3] : u(rng);
            for (auto& v : w) v = trial % 5 == 4 && rng() % 101 == 0 ? specials[rng() % 3] : u(rng);
            if (trial % 3 == 1)
                for (index_t o = 0; o < s.y[1]; ++o)
                    bias.push_back(o == 0 ? std::numeric_limits<float>::infinity() : u(rng));
            const kernels::activation act = activations[trial % 3];
            // the float reference: the scalar loops (padding multiplied too: 0 * Inf is NaN), the stage
            std::vector<float> ref(std::size_t(count(s.y)));
            kernels::scalar::conv2d(tensor_view<const float, 4>(x.data(), s.x),
                                    tensor_view<const float, 4>(w.data(), s.w), s.p,
                                    tensor_view<float, 4>(ref.data(), s.y));
            ref = to_nhwc(ref, s.y);
            for (std::size_t i = 0; i < ref.size(); ++i)
                ref[i] = kernels::activate(ref[i] + (bias.empty() ? 0.0f : bias[i % std::size_t(s.y[1])]), act);
            auto pw = kernels::pack_winograd_weights(tensor_view<const float, 4>(w.data(), s.w), m);
            REQUIRE(pw.ok());
            const auto xn = to_nhwc(x, s.x);
            const run_result r = run(s, xn, *pw, bias, act, 1);
            REQUIRE(r.st.ok());
            bool bad_weight = false;
            for (float v : w) bad_weight |= !std::isfinite(v);
            int missed = 0, strays = 0;
            const index_t o_n = s.y[1], oh_n = s.y[2], ow_n = s.y[3], c_n = s.x[1];
            for (std::size_t i = 0; i < ref.size(); ++i) {
                non_finite += !std::isfinite(ref[i]);
                missed += !std::isfinite(ref[i]) && std::isfinite(r.y[i]);
                if (std::isfinite(ref[i]) && !std::isfinite(r.y[i]) && !bad_weight) {
                    // allowed only when the output's tile patch holds a non-finite input
                    const index_t pix = index_t(i) / o_n, n = pix / (oh_n * ow_n), oh = pix / ow_n % oh_n,
                                  ow = pix % ow_n;
                    const index_t ih0 = oh / m * m - s.p.pad_top, iw0 = ow / m * m - s.p.pad_left;
                    bool patch_bad = false;
                    for (index_t ih = std::max<index_t>(ih0, 0); ih < std::min(ih0 + m + 2, s.x[2]); ++ih)
                        for (index_t iw = std::max<index_t>(iw0, 0); iw < std::min(iw0 + m + 2, s.x[3]); ++iw)
                            for (index_t c = 0; c < c_n; ++c)
                                patch_bad |=
                                    !std::isfinite(xn[std::size_t(((n * s.x[2] + ih) * s.x[3] + iw) * c_n + c)]);
                    strays += !patch_bad;
                }
            }
            CHECK(missed == 0);
            CHECK(strays == 0);
        }
    }
    CHECK(non_finite > 0);
}

TEST_CASE("conv2d_nhwc_winograd: energy counted as the convolution, bad calls as statuses") {
    const wcase s = make_case(1, 3, 5, 6, 6, 1, 1, 1, 1);
    std::vector<float> x(std::size_t(count(s.x)), 0.5f), w(std::size_t(count(s.w)), 0.25f), y(std::size_t(count(s.y)));
    auto pw = kernels::pack_winograd_weights(tensor_view<const float, 4>(w.data(), s.w));
    REQUIRE(pw.ok());
    CHECK(pw->positions.size() == 16);
    auto a = arena::with_capacity(1 << 20);
    REQUIRE(a.ok());
    energy::counter wino, direct;
    context ctx;
    ctx.with_scratch(*a).with_energy(wino);
    REQUIRE(
        kernels::conv2d_nhwc_winograd(ctx, x.data(), s.x, *pw, s.p, {}, kernels::activation::none, y.data(), s.y).ok());
    CHECK(a->used() == 0);
    // an interior output: 3 channels x 9 taps x 0.125
    CHECK(y[std::size_t((2 * 6 + 2) * 5)] == doctest::Approx(3.375).epsilon(1e-6));
    auto pc = kernels::pack_conv_weights(tensor_view<const float, 4>(w.data(), s.w), 1, true);
    REQUIRE(pc.ok());
    context dctx;
    dctx.with_scratch(*a).with_energy(direct);
    REQUIRE(kernels::conv2d_nhwc(dctx, x.data(), s.x, *pc, s.p, {}, kernels::activation::none, y.data(), s.y).ok());
    bool same = wino.total_macs() == direct.total_macs() && wino.baseline_macs() == direct.baseline_macs() &&
                wino.macs(dtype::f32) == std::uint64_t(count(s.y) * 27);
    for (const auto k : {energy::traffic::weights, energy::traffic::activations})
        for (std::size_t c = 0; c < energy::footprint_classes; ++c)
            same = same && wino.bytes_in_class(k, c) == direct.bytes_in_class(k, c) &&
                   wino.fp32_bytes_in_class(k, c) == direct.fp32_bytes_in_class(k, c);
    CHECK(same);

    CHECK(kernels::winograd_applies(s.w, s.p));
    kernels::conv2d_params strided = s.p;
    strided.stride_h = 2;
    CHECK_FALSE(kernels::winograd_applies(s.w, strided));
    CHECK(kernels::conv2d_nhwc_winograd(ctx, x.data(), s.x, *pw, strided, {}, kernels::activation::none, y.data(), s.y)
              .code() == errc::invalid_argument);
    extents_t<4> wrong_y = s.y;
    wrong_y[2] += 1;
    CHECK(kernels::conv2d_nhwc_winograd(ctx, x.data(), s.x, *pw, s.p, {}, kernels::activation::none, y.data(), wrong_y)
              .code() == errc::shape_mismatch);
    CHECK(kernels::conv2d_nhwc_winograd(ctx, x.data(), s.x, *pw, s.p, {1.0f}, kernels::activation::none, y.data(), s.y)
              .code() == errc::shape_mismatch);
    context no_arena;
    CHECK_FALSE(
        kernels::conv2d_nhwc_winograd(no_arena, x.data(), s.x, *pw, s.p, {}, kernels::activation::none, y.data(), s.y)
            .ok());
    CHECK(kernels::pack_winograd_weights(tensor_view<const float, 4>(w.data(), s.w), 3).error().code() ==
          errc::invalid_argument);
    std::vector<float> w5(5 * 3 * 5 * 5);
    CHECK_FALSE(kernels::pack_winograd_weights(tensor_view<const float, 4>(w5.data(), {5, 3, 5, 5})).ok());
}
