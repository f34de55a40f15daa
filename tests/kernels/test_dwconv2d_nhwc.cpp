// dwconv2d_nhwc (the channels-last depthwise convolution with its output stage fused) against the
// NCHW path on the same data transposed: float as kernels::dwconv2d then apply_bias_activation
// (bit for bit on the scalar backend, within 1e-5 of |x| * |w| where the vector kernels fuse
// multiply-adds; NaN / Inf / subnormal inputs and weights, every activation), int8 bit for bit as
// scalar::conv2d then apply_requant / apply_dequant (codes -128 and 127, zero points -128, 0, 5),
// on random shapes (channel counts around vector widths, 1-wide maps, padding wider than the
// kernel, strides, dilation, batches); the energy counts conv2d gives; scratch and bad shapes;
// rows split over 3 threads give the same bits and counts, with a row buffer per task (fewer
// tasks when the arena holds fewer).
#include <doctest/doctest.h>

#include "support/layout.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/thread_pool.hpp"  // the pool parallel_range runs its chunks on
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/dwconv2d.hpp"
#include "sparq/kernels/dwconv2d_nhwc.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/scalar/conv2d.hpp"

using namespace sparq;

namespace {

struct case_shape {
    extents_t<4> x, w, y;  // NCHW extents
    kernels::conv2d_params p;
};

case_shape random_case(std::mt19937& rng) {
    auto pick = [&](std::initializer_list<index_t> v) { return v.begin()[rng() % v.size()]; };
    for (;;) {
        case_shape s;
        const index_t c = pick({1, 3, 15, 16, 17, 31, 33, 64, 67, 96, 144});
        const index_t k = pick({3, 5, 1, 0});  // 0: 3x5
        const index_t kh = k == 0 ? 3 : k, kw = k == 0 ? 5 : k;
        s.p.stride_h = pick({1, 2}), s.p.stride_w = rng() % 3 == 0 ? pick({1, 2}) : s.p.stride_h;
        s.p.dilation_h = s.p.dilation_w = rng() % 4 == 0 ? 2 : 1;
        // asymmetric, up to past the kernel's half (whole output rows of padding)
        s.p.pad_top = index_t(rng() % 5), s.p.pad_bottom = index_t(rng() % 5);
        s.p.pad_left = index_t(rng() % 5), s.p.pad_right = index_t(rng() % 5);
        s.p.groups = c;
        s.x = {pick({1, 3}), c, pick({1, 2, 7, 13, 28}), pick({1, 2, 7, 13, 28})};
        s.w = {c, 1, kh, kw};
        auto y = kernels::conv2d_output(s.x, s.w, s.p);
        if (!y) continue;  // the dilated kernel does not fit the padded map
        s.y = *y;
        return s;
    }
}

// For failure messages: "x [N, C, H, W] k KHxKW s SHxSW d D pad t,l,b,r".
std::string describe(const case_shape& s) {
    char x[64], buf[160];
    std::snprintf(buf, sizeof buf, "x %s k %tdx%td s %tdx%td d %td pad %td,%td,%td,%td",
                  format_extents(s.x, x, sizeof x), s.w[2], s.w[3], s.p.stride_h, s.p.stride_w, s.p.dilation_h,
                  s.p.pad_top, s.p.pad_left, s.p.pad_bottom, s.p.pad_right);
    return buf;
}

index_t count(const extents_t<4>& e) {
    return e[0] * e[1] * e[2] * e[3];
}

using sparq_test::to_nhwc;

float special(std::mt19937& rng) {
    constexpr float values[] = {std::numeric_limits<float>::quiet_NaN(),
                                std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::denorm_min(),
                                -3e-39f,
                                1e-38f,
                                -0.0f,
                                3e30f,
                                -3e30f};
    return values[rng() % (sizeof values / sizeof values[0])];
}

// Bits equal, any NaN matching any NaN (the payload is the compiler's choice of operand order).
int mismatches(const std::vector<float>& a, const std::vector<float>& b) {
    int bad = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        bad += std::isnan(b[i]) ? !std::isnan(a[i]) : std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return bad;
}

// The vector kernels fuse multiply-adds (the GEMMs' rule for float): within 1e-5 of the bound
// (the convolution of |x| and |w|, + |bias|) where that is finite; where it is not (an infinite
// or NaN input, weight or bias), as mismatches() (the tests keep products below FLT_MAX: a fused
// multiply-add does not round an overflowing product to infinity before adding it).
int far_from(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& bound) {
    int bad = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isfinite(bound[i]))
            bad += !(std::fabs(a[i] - b[i]) <= 1e-5f * bound[i]);
        else
            bad += std::isnan(b[i]) ? !std::isnan(a[i]) : std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
    }
    return bad;
}

const kernels::activation activations[] = {kernels::activation::none, kernels::activation::relu,
                                           kernels::activation::relu6};

}  // namespace

TEST_CASE("dwconv2d_nhwc: float as the NCHW kernel + bias + activation (fused multiply-adds within 1e-5, the scalar backend bit for bit), specials included") {
    std::mt19937 rng(4242);
    context ctx, exact;  // no arena: the float kernel needs none
    exact.with_backend(backend::scalar, false);  // the reference's own arithmetic, bit for bit
    int nan_outputs = 0;
    for (int trial = 0; trial < 240; ++trial) {
        const case_shape s = random_case(rng);
        CAPTURE(trial);
        const std::string shape = describe(s);
        CAPTURE(shape);
        std::vector<float> x(std::size_t(count(s.x))), w(std::size_t(count(s.w))), ref(std::size_t(count(s.y)));
        std::uniform_real_distribution<float> u(-2, 2);
        for (auto& v : x) v = rng() % 61 == 0 ? special(rng) : u(rng);
        for (auto& v : w) {  // 0 * Inf in the padding is NaN; no +-3e30 weights (x can be 3e30)
            v = trial % 4 == 3 && rng() % 23 == 0 ? special(rng) : u(rng);
            if (std::fabs(v) == 3e30f) v = std::numeric_limits<float>::infinity();
        }
        std::vector<float> bias;
        if (trial % 3) {
            for (index_t c = 0; c < s.x[1]; ++c) bias.push_back(c % 5 == 0 ? -0.0f : u(rng));
            if (trial % 7 == 1) bias[0] = std::numeric_limits<float>::infinity();
        }
        const kernels::activation act = activations[(trial / 3) % 3];  // each with and without a bias
        // the NCHW path: dwconv2d, then the stage on each image's [pixels, C] (column stride 1)
        kernels::dwconv2d(tensor_view<const float, 4>(x.data(), s.x), tensor_view<const float, 4>(w.data(), s.w), s.p,
                          tensor_view<float, 4>(ref.data(), s.y));
        const index_t plane = s.y[2] * s.y[3], c_n = s.y[1];
        for (index_t n = 0; n < s.y[0]; ++n)
            REQUIRE(kernels::apply_bias_activation(
                        matrix_view<float>(ref.data() + n * c_n * plane, {plane, c_n}, {1, plane}), bias, act)
                        .ok());
        // each output's error bound: the same convolution of |x| and |w|, plus |bias|
        std::vector<float> ax(x), aw(w), mag(ref.size());
        for (auto& v : ax) v = std::fabs(v);
        for (auto& v : aw) v = std::fabs(v);
        kernels::dwconv2d(tensor_view<const float, 4>(ax.data(), s.x), tensor_view<const float, 4>(aw.data(), s.w), s.p,
                          tensor_view<float, 4>(mag.data(), s.y));
        for (index_t n = 0; n < s.y[0]; ++n)
            for (index_t c = 0; c < c_n; ++c)
                for (index_t i = 0; i < plane; ++i)
                    mag[std::size_t((n * c_n + c) * plane + i)] += bias.empty() ? 0.0f : std::fabs(bias[std::size_t(c)]);
        std::vector<float> taps(w.size());
        kernels::pack_dw_taps(tensor_view<const float, 4>(w.data(), s.w), taps.data());
        const auto xn = to_nhwc(x, s.x);
        const auto want = to_nhwc(ref, s.y), bound = to_nhwc(mag, s.y);
        for (const context* c : {&ctx, &exact}) {
            std::vector<float> y(ref.size(), -7.0f);
            REQUIRE(kernels::dwconv2d_nhwc(*c, xn.data(), s.x, taps.data(), s.w[2], s.w[3], s.p, bias, act, y.data(), s.y)
                        .ok());
            const bool reference = c == &exact;
            CHECK((reference ? mismatches(y, want) : far_from(y, want, bound)) == 0);
        }
        for (float v : want) nan_outputs += std::isnan(v);
    }
    CHECK(nan_outputs > 0);  // the specials reached the outputs
}

namespace {
// (below: one case's reference and comparison, shared with the VNNI row kernel's cases)
template <class Code>
void check_s8_case(const case_shape& s, std::int8_t zx, quant::requant_rounding rounding, kernels::activation act,
                   bool with_bias, bool huge_offsets, std::mt19937& rng, Code&& code, const context& simd,
                   const context& scalar);
}  // namespace

TEST_CASE("dwconv2d_nhwc_s8: bit for bit scalar::conv2d + the requant stage, to int8 codes and to float") {
    std::mt19937 rng(99);
    static std::byte buffer[1 << 16];
    arena a(buffer, sizeof buffer);
    context simd, scalar;
    simd.with_scratch(a);
    scalar.with_scratch(a).with_backend(backend::scalar, false);  // apply_requant / apply_dequant rows
    for (int trial = 0; trial < 240; ++trial) {
        const case_shape s = random_case(rng);
        CAPTURE(trial);
        const std::string shape = describe(s);
        CAPTURE(shape);
        const std::int8_t zx = std::int8_t(trial % 3 == 0 ? -128 : trial % 3 == 1 ? 0 : 5);
        const auto code = [&](bool) {
            return std::int8_t(rng() % 5 == 0 ? (rng() % 2 ? 127 : -128) : int(rng() % 256) - 128);
        };
        const quant::requant_rounding rounding = trial % 5 == 0   ? quant::requant_rounding::single_rounding
                                                 : trial % 5 == 1 ? quant::requant_rounding::float_scale
                                                                  : quant::requant_rounding::double_rounding;
        check_s8_case(s, zx, rounding, activations[trial % 3], trial % 2 == 1, false, rng, code, simd, scalar);
        CHECK(a.used() == 0);
    }
}

namespace {

// One int8 case against scalar::conv2d + apply_requant / apply_dequant, codes and floats, on the
// simd and scalar contexts: x and w codes from `code` (x gets the even draws), zero point zx.
// huge_offsets: some channels' offsets within a sum of INT32_MAX / INT32_MIN (a stage built by
// hand: make_requant_stage keeps them far enough), so sum + offset saturates.
template <class Code>
void check_s8_case(const case_shape& s, std::int8_t zx, quant::requant_rounding rounding, kernels::activation act,
                   bool with_bias, bool huge_offsets, std::mt19937& rng, Code&& code, const context& simd,
                   const context& scalar) {
    const index_t c_n = s.x[1], taps_n = s.w[2] * s.w[3], plane = s.y[2] * s.y[3];
    std::vector<std::int8_t> x(std::size_t(count(s.x))), w(std::size_t(count(s.w)));
    for (auto& v : x) v = code(true);
    for (auto& v : w) v = code(false);
    std::vector<std::int32_t> col_sums(std::size_t(c_n), 0);
    for (index_t c = 0; c < c_n; ++c)
        for (index_t t = 0; t < taps_n; ++t) col_sums[std::size_t(c)] += w[std::size_t(c * taps_n + t)];
    const quant::qparams xq = quant::make_per_tensor(dtype::s8, 0.02f, zx),
                         yq = quant::make_per_tensor(dtype::s8, 0.05f + 0.3f * float(rng() % 4), int(rng() % 21) - 10);
    quant::qparams wq = quant::make_per_tensor(dtype::s8, 1.0f, 0);
    wq.gran = quant::granularity::per_channel, wq.axis = 0, wq.scale.clear(), wq.zero_point.assign(std::size_t(c_n), 0);
    for (index_t c = 0; c < c_n; ++c) wq.scale.push_back(0.001f + 0.004f * float(rng() % 100) / 100.0f);
    std::vector<float> bias;
    if (with_bias)
        for (index_t c = 0; c < c_n; ++c) bias.push_back(float(int(rng() % 200) - 100) * 0.05f);
    auto stage = kernels::make_requant_stage(xq, wq, tensor_view<const std::int32_t, 1>(col_sums.data(), {c_n}), yq,
                                             bias, act, rounding);
    REQUIRE(stage.ok());
    if (huge_offsets)
        for (std::size_t c = 0; c < stage->offset.size(); c += 2)
            stage->offset[c] =
                c % 4 ? INT32_MAX - std::int32_t(rng() % 50000) : INT32_MIN + std::int32_t(rng() % 50000);
    std::vector<std::int32_t> sums(std::size_t(count(s.y)));
    kernels::scalar::conv2d(tensor_view<const std::int8_t, 4>(x.data(), s.x),
                            tensor_view<const std::int8_t, 4>(w.data(), s.w), s.p,
                            tensor_view<std::int32_t, 4>(sums.data(), s.y), zx);
    std::vector<std::int8_t> rq(sums.size());
    std::vector<float> rf(sums.size());
    for (index_t n = 0; n < s.y[0]; ++n) {
        const matrix_view<const std::int32_t> acc(sums.data() + n * c_n * plane, {plane, c_n}, {1, plane});
        REQUIRE(kernels::apply_requant(*stage, acc,
                                       matrix_view<std::int8_t>(rq.data() + n * c_n * plane, {plane, c_n}, {1, plane}))
                    .ok());
        REQUIRE(kernels::apply_dequant(*stage, acc,
                                       matrix_view<float>(rf.data() + n * c_n * plane, {plane, c_n}, {1, plane}))
                    .ok());
    }
    const auto want_q = to_nhwc(rq, s.y);
    const auto want_f = to_nhwc(rf, s.y);
    std::vector<std::int8_t> taps(w.size());
    kernels::pack_dw_taps(tensor_view<const std::int8_t, 4>(w.data(), s.w), taps.data());
    const auto xn = to_nhwc(x, s.x);
    for (const context* ctx : {&simd, &scalar}) {
        std::vector<std::int8_t> yq8(sums.size(), 99);
        std::vector<float> yf(sums.size(), -7.0f);
        REQUIRE(kernels::dwconv2d_nhwc_s8(*ctx, xn.data(), s.x, taps.data(), s.w[2], s.w[3], s.p, zx, *stage,
                                          yq8.data(), s.y)
                    .ok());
        REQUIRE(kernels::dwconv2d_nhwc_s8(*ctx, xn.data(), s.x, taps.data(), s.w[2], s.w[3], s.p, zx, *stage, yf.data(),
                                          s.y)
                    .ok());
        CHECK(yq8 == want_q);
        CHECK(std::memcmp(yf.data(), want_f.data(), yf.size() * sizeof(float)) == 0);
    }
}

}  // namespace

// The shapes the AVX512-VNNI row kernel specialises (3x3 and 5x5, strides 1 and 2 along W, its
// groups of 8 / 4 pixels and their remainders on rows up to 37 wide) and those it does not
// (dilation, other strides), on every channel count around its 16-lane blocks, every rounding,
// with codes at both ends (-128 * -128 sums, the vpdpwssd high halves of negative inputs).
TEST_CASE("dwconv2d_nhwc_s8: 3x3 / 5x5 kernels on every channel tail and rounding, bit for bit the reference") {
    std::mt19937 rng(2026);
    static std::byte buffer[1 << 17];
    arena a(buffer, sizeof buffer);
    context simd, scalar;
    simd.with_scratch(a);
    scalar.with_scratch(a).with_backend(backend::scalar, false);
    const index_t channels[] = {1, 3, 15, 16, 17, 31, 33, 64, 67, 96, 144};
    const quant::requant_rounding roundings[] = {quant::requant_rounding::float_scale,
                                                 quant::requant_rounding::double_rounding,
                                                 quant::requant_rounding::single_rounding};
    const std::int8_t zero_points[] = {-128, 0, 5};
    int trial = 0;
    for (const index_t c : channels)
        for (const index_t k : {3, 5})
            for (const index_t stride : {1, 2})
                for (int rep = 0; rep < 3; ++rep, ++trial) {
                    case_shape s;
                    s.p.stride_h = rng() % 4 == 0 ? 3 - stride : stride, s.p.stride_w = stride;
                    if (rep == 2 && rng() % 2) s.p.stride_w = 3;  // a stride the kernel runs pixel by pixel
                    s.p.dilation_h = rng() % 5 == 0 ? 2 : 1, s.p.dilation_w = rng() % 5 == 0 ? 2 : 1;
                    s.p.pad_top = index_t(rng() % 4), s.p.pad_bottom = index_t(rng() % 4);
                    s.p.pad_left = rep == 0 ? k / 2 : index_t(rng() % 4);
                    s.p.pad_right = rep == 0 ? k / 2 : index_t(rng() % 4);
                    s.p.groups = c;
                    const index_t widths[] = {37, 19, 12, 6, 2};
                    s.x = {index_t(1 + rng() % 2), c, index_t(3 + rng() % 9), widths[(trial + rep) % 5]};
                    s.w = {c, 1, k, k};
                    auto y = kernels::conv2d_output(s.x, s.w, s.p);
                    if (!y) continue;
                    s.y = *y;
                    CAPTURE(trial);
                    const std::string shape = describe(s);
                    CAPTURE(shape);
                    const std::int8_t zx = zero_points[trial % 3];
                    CAPTURE(int(zx));
                    const int extreme = trial % 7;  // 0: all -128, 1: x 127 w -128, else random with the ends
                    const auto code = [&](bool is_x) {
                        if (extreme == 0) return std::int8_t(-128);
                        if (extreme == 1) return std::int8_t(is_x ? 127 : -128);
                        return std::int8_t(rng() % 5 == 0 ? (rng() % 2 ? 127 : -128) : int(rng() % 256) - 128);
                    };
                    check_s8_case(s, zx, roundings[(trial / 3) % 3], activations[trial % 3], trial % 2 == 1,
                                  trial % 5 == 4, rng, code, simd, scalar);
                    CHECK(a.used() == 0);
                }
    CHECK(trial == 11 * 2 * 2 * 3);
}

TEST_CASE("dwconv2d_nhwc: 25 taps of -128 x -128 with the zero point -128 in the padding sum exactly") {
    const extents_t<4> xe{1, 67, 7, 9}, we{67, 1, 5, 5};
    kernels::conv2d_params p = kernels::conv2d_params::same_padding(4);  // wider than the kernel's half
    p.groups = 67;
    auto ye = kernels::conv2d_output(xe, we, p);
    REQUIRE(ye.ok());
    std::vector<std::int8_t> x(std::size_t(count(xe)), -128), taps(std::size_t(count(we)), -128);
    // a stage that gives the sums back as floats: scale 1, no bias, zero point 0
    const std::vector<std::int32_t> col_sums(67, -128 * 25);
    quant::qparams xq = quant::make_per_tensor(dtype::s8, 1.0f, 0), wq = xq, yq = xq;
    auto stage = kernels::make_requant_stage(xq, wq, tensor_view<const std::int32_t, 1>(col_sums.data(), {67}), yq, {},
                                             kernels::activation::none);
    REQUIRE(stage.ok());
    static std::byte buffer[1 << 14];
    arena a(buffer, sizeof buffer);
    context ctx;
    ctx.with_scratch(a);
    std::vector<float> y(std::size_t(count(*ye)));
    REQUIRE(kernels::dwconv2d_nhwc_s8(ctx, x.data(), xe, taps.data(), 5, 5, p, std::int8_t(-128), *stage, y.data(), *ye)
                .ok());
    for (float v : y) REQUIRE(v == 25.0f * 16384.0f);
}

TEST_CASE("dwconv2d_nhwc: the energy counts conv2d gives the same layer, the scratch it names, bad calls as statuses") {
    const extents_t<4> xe{2, 17, 13, 7}, we{17, 1, 3, 3};
    kernels::conv2d_params p = kernels::conv2d_params::same_padding(1, 2);
    p.groups = 17;
    const extents_t<4> ye = *kernels::conv2d_output(xe, we, p);
    std::vector<float> x(std::size_t(count(xe)), 0.5f), w(std::size_t(count(we)), 0.25f), taps(w.size()),
        y(std::size_t(count(ye)));
    std::vector<float> y_nchw(y.size());
    kernels::pack_dw_taps(tensor_view<const float, 4>(w.data(), we), taps.data());
    auto packed = kernels::pack_conv_weights(tensor_view<const float, 4>(w.data(), we), 17);
    REQUIRE(packed.ok());
    const auto same_counts = [](const energy::counter& u, const energy::counter& v) {
        bool same = u.total_macs() == v.total_macs() && u.baseline_macs() == v.baseline_macs();
        for (const dtype t : {dtype::f32, dtype::s8, dtype::s32}) same = same && u.macs(t) == v.macs(t);
        for (const auto k : {energy::traffic::weights, energy::traffic::activations})
            for (std::size_t c = 0; c < energy::footprint_classes; ++c)
                same = same && u.bytes_in_class(k, c) == v.bytes_in_class(k, c) &&
                       u.fp32_bytes_in_class(k, c) == v.fp32_bytes_in_class(k, c);
        return same;
    };
    energy::counter mine, theirs;
    context ctx, ref;
    ctx.with_energy(mine);
    ref.with_energy(theirs);
    REQUIRE(kernels::dwconv2d_nhwc(ctx, x.data(), xe, taps.data(), 3, 3, p, std::vector<float>(17, 1.0f),
                                   kernels::activation::relu, y.data(), ye)
                .ok());
    REQUIRE(kernels::conv2d(ref, tensor_view<const float, 4>(x.data(), xe), *packed, p,
                            tensor_view<float, 4>(y_nchw.data(), ye))
                .ok());
    CHECK(mine.total_macs() == std::uint64_t(count(ye) * 9));
    CHECK(same_counts(mine, theirs));

    // int8: the counts of conv2d_s8 (int32 sums out), with exactly the scratch it names
    std::vector<std::int8_t> xq(x.size(), 3), wq8(w.size(), -2), tq(w.size()), yq(y.size());
    std::vector<std::int32_t> sums(y.size()), col_sums(17, -18);
    kernels::pack_dw_taps(tensor_view<const std::int8_t, 4>(wq8.data(), we), tq.data());
    auto packed8 = kernels::pack_conv_weights(tensor_view<const std::int8_t, 4>(wq8.data(), we), 17);
    const quant::qparams q = quant::make_per_tensor(dtype::s8, 0.1f, 0);
    auto stage = kernels::make_requant_stage(q, q, tensor_view<const std::int32_t, 1>(col_sums.data(), {17}), q, {},
                                             kernels::activation::none);
    REQUIRE((packed8.ok() && stage.ok()));
    std::vector<std::byte> buffer(kernels::dwconv2d_nhwc_scratch_bytes(ye));
    CHECK(buffer.size() == std::size_t((ye[3] * 17 * 4 + 63) / 64 * 64 + 64));  // a row of sums, whole cache lines
    arena a(buffer.data(), buffer.size());
    energy::counter mine8, theirs8;
    context c8, r8;
    c8.with_energy(mine8);
    r8.with_energy(theirs8);
    CHECK(kernels::dwconv2d_nhwc_s8(c8, xq.data(), xe, tq.data(), 3, 3, p, std::int8_t(0), *stage, yq.data(), ye)
              .code() == errc::invalid_argument);  // no arena: says how much it needs
    c8.with_scratch(a);
    const status run8 =
        kernels::dwconv2d_nhwc_s8(c8, xq.data(), xe, tq.data(), 3, 3, p, std::int8_t(0), *stage, yq.data(), ye);
    const std::string why = run8.message();
    CAPTURE(why);
    REQUIRE(run8.ok());
    REQUIRE(kernels::conv2d_s8(r8, tensor_view<const std::int8_t, 4>(xq.data(), xe), *packed8, p,
                               tensor_view<std::int32_t, 4>(sums.data(), ye))
                .ok());
    CHECK(same_counts(mine8, theirs8));
    CHECK(a.used() == 0);

    // bad shapes: y, groups, bias, stage
    extents_t<4> wrong = ye;
    wrong[3] += 1;
    CHECK(
        kernels::dwconv2d_nhwc(ctx, x.data(), xe, taps.data(), 3, 3, p, {}, kernels::activation::none, y.data(), wrong)
            .code() == errc::shape_mismatch);
    kernels::conv2d_params dense = p;
    dense.groups = 1;
    CHECK(!kernels::dwconv2d_nhwc(ctx, x.data(), xe, taps.data(), 3, 3, dense, {}, kernels::activation::none, y.data(),
                                  ye)
               .ok());
    CHECK(
        kernels::dwconv2d_nhwc(ctx, x.data(), xe, taps.data(), 3, 3, p, {1.0f}, kernels::activation::none, y.data(), ye)
            .code() == errc::shape_mismatch);
    kernels::requant_stage short_stage = *stage;
    short_stage.offset.pop_back();
    CHECK(kernels::dwconv2d_nhwc_s8(c8, xq.data(), xe, tq.data(), 3, 3, p, std::int8_t(0), short_stage, yq.data(), ye)
              .code() == errc::shape_mismatch);
}

TEST_CASE("dwconv2d_nhwc: rows split over 3 threads give the same bits and counts, float and int8, any arena") {
    std::mt19937 rng(555);
    const case_shape shapes[] = {
        {{2, 96, 56, 56}, {96, 1, 3, 3}, {}, {}},  // mobilenet's stride-1 layer, a batch of 2
        {{1, 144, 57, 55}, {144, 1, 5, 5}, {}, {}},
        {{3, 67, 41, 29}, {67, 1, 3, 3}, {}, {}},
    };
    int split = 0;
    for (int i = 0; i < 6; ++i) {
        case_shape s = shapes[i % 3];
        s.p.groups = s.x[1];
        s.p.stride_h = s.p.stride_w = i < 3 ? 1 : 2;
        s.p.pad_top = s.p.pad_left = s.p.pad_bottom = s.p.pad_right = s.w[2] / 2;
        auto y = kernels::conv2d_output(s.x, s.w, s.p);
        REQUIRE(y.ok());
        s.y = *y;
        CAPTURE(i);
        const std::string shape = describe(s);
        CAPTURE(shape);
        const index_t c_n = s.x[1];
        std::uniform_real_distribution<float> u(-2, 2);
        std::vector<float> x(std::size_t(count(s.x))), taps(std::size_t(count(s.w))), bias(static_cast<std::size_t>(c_n));
        for (auto& v : x) v = rng() % 1009 == 0 ? special(rng) : u(rng);
        for (auto& v : taps) v = u(rng);
        for (auto& v : bias) v = u(rng);
        std::vector<std::int8_t> xq(x.size()), tq(taps.size());
        for (auto& v : xq) v = std::int8_t(int(rng() % 256) - 128);
        for (auto& v : tq) v = std::int8_t(int(rng() % 256) - 128);
        const quant::qparams q = quant::make_per_tensor(dtype::s8, 0.01f, 3);
        std::vector<std::int32_t> col_sums(std::size_t(c_n), 0);
        for (index_t t = 0; t < s.w[2] * s.w[3]; ++t)
            for (index_t c = 0; c < c_n; ++c) col_sums[std::size_t(c)] += tq[std::size_t(t * c_n + c)];
        auto stage = kernels::make_requant_stage(q, quant::make_per_tensor(dtype::s8, 0.02f, 0),
                                                 tensor_view<const std::int32_t, 1>(col_sums.data(), {c_n}),
                                                 quant::make_per_tensor(dtype::s8, 0.5f, -4), {},
                                                 kernels::activation::relu);
        REQUIRE(stage.ok());
        split += kernels::dwconv2d_nhwc_scratch_bytes(s.y, 3, s.w[2], s.w[3]) > kernels::dwconv2d_nhwc_scratch_bytes(s.y);
        struct outputs {
            std::vector<float> f;
            std::vector<std::int8_t> q;
            std::vector<float> qf;
            energy::counter counts;
        };
        // threads: 1 or 3; rows: task buffers the arena holds (0: as many as scratch_bytes names)
        const auto run = [&](int threads, index_t rows) {
            outputs o;
            o.f.assign(std::size_t(count(s.y)), -7.0f), o.q.assign(o.f.size(), 99), o.qf.assign(o.f.size(), -7.0f);
            const std::size_t bytes = rows ? std::size_t(rows) * kernels::dwconv2d_nhwc_scratch_bytes(s.y) - std::size_t(rows - 1) * 64
                                           : kernels::dwconv2d_nhwc_scratch_bytes(s.y, threads, s.w[2], s.w[3]);
            std::vector<std::byte> buffer(bytes + 64);
            arena a(buffer.data() + 64 - reinterpret_cast<std::uintptr_t>(buffer.data()) % 64, bytes);  // aligned, exactly `bytes`
            context ctx;
            ctx.with_threads(threads).with_scratch(a).with_energy(o.counts);
            REQUIRE(kernels::dwconv2d_nhwc(ctx, x.data(), s.x, taps.data(), s.w[2], s.w[3], s.p, bias,
                                           kernels::activation::relu6, o.f.data(), s.y)
                        .ok());
            REQUIRE(kernels::dwconv2d_nhwc_s8(ctx, xq.data(), s.x, tq.data(), s.w[2], s.w[3], s.p, std::int8_t(3), *stage,
                                              o.q.data(), s.y)
                        .ok());
            REQUIRE(kernels::dwconv2d_nhwc_s8(ctx, xq.data(), s.x, tq.data(), s.w[2], s.w[3], s.p, std::int8_t(3), *stage,
                                              o.qf.data(), s.y)
                        .ok());
            CHECK(a.used() == 0);
            return o;
        };
        const outputs one = run(1, 0);
        for (index_t rows : {0, 1, 2}) {
            CAPTURE(rows);
            const outputs three = run(3, rows);
            CHECK(std::memcmp(three.f.data(), one.f.data(), one.f.size() * sizeof(float)) == 0);
            CHECK(three.q == one.q);
            CHECK(std::memcmp(three.qf.data(), one.qf.data(), one.qf.size() * sizeof(float)) == 0);
            CHECK(std::memcmp(&three.counts, &one.counts, sizeof one.counts) == 0);
        }
    }
#if SPARQ_HAS_THREADS
    CHECK(split == 6);  // each shape takes a row buffer per thread: it splits
#endif
}
