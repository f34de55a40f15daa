// The ops int8 models run on codes with parameters of their own: unary ops through a table
// (ops/lut_s8.hpp), and squeeze-excitation's pooling and per-channel scale
// (ops/squeeze_excite_s8.hpp). Each against the float arithmetic it stands for, its NCHW and
// NHWC forms against each other, its vector path against its scalar one.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sparq/kernels/scalar/quantize.hpp"
#include "sparq/nn/ops.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_ops_s8_suite {

namespace {

std::mt19937 rng(2024);

kernels::scalar::quant_step random_step() {
    const float scale = std::uniform_real_distribution<float>(0.005f, 0.2f)(rng);
    const auto zero = std::int32_t(rng() % 200) - 100;
    return kernels::scalar::quant_step::make(scale, zero, -128, 127, quant::rounding::half_to_even);
}

std::vector<std::int8_t> random_codes(std::size_t n) {
    std::vector<std::int8_t> v(n);
    for (auto& c : v) c = std::int8_t(int(rng() % 256) - 128);
    if (n > 2) v[0] = -128, v[1] = 127;
    return v;
}

}  // namespace

TEST_CASE("unary tables: each code is quantize(f(dequantize(code))); the vector lookup equals the scalar one at every length") {
    const nn::op ops_with_table[] = {nn::op::sigmoid, nn::op::tanh, nn::op::gelu, nn::op::silu, nn::op::hard_sigmoid, nn::op::hard_swish,
                                     nn::op::leaky_relu, nn::op::clip, nn::op::erf, nn::op::neg};
    for (nn::op k : ops_with_table) {
        CAPTURE(nn::to_string(k));
        CHECK(nn::ops::has_lut(k));
        nn::op_params p;
        p.alpha = k == nn::op::clip ? -1.5f : 0.2f;
        p.beta = k == nn::op::clip ? 2.0f : 0.5f;
        const auto in = random_step(), out = random_step();
        const nn::ops::lut_s8 t = nn::ops::make_lut_s8(k, p, in, out);
        int off = 0;
        for (int c = -128; c <= 127; ++c) {
            const float want = nn::ops::unary_value(k, p, kernels::scalar::dequantize_value(c, in));
            const float got = kernels::scalar::dequantize_value(t.codes[std::uint8_t(c)], out);
            // within half a step of the output's grid, or clamped at its ends
            const bool clamped = t.codes[std::uint8_t(c)] == -128 || t.codes[std::uint8_t(c)] == 127;
            off += !(std::fabs(got - want) <= 0.5001f * out.scale || clamped);
        }
        CHECK(off == 0);
        context vec, scalar;
        scalar.with_backend(backend::scalar);
        for (index_t n : {0, 1, 5, 63, 64, 65, 127, 200, 1031}) {
            const std::vector<std::int8_t> x = random_codes(std::size_t(n));
            std::vector<std::int8_t> a(std::size_t(n) + 64, 7), b(std::size_t(n) + 64, 7), in_place = x;
            nn::ops::apply_lut_s8(vec, t, x.data(), a.data(), n);
            nn::ops::apply_lut_s8(scalar, t, x.data(), b.data(), n);
            nn::ops::apply_lut_s8(vec, t, in_place.data(), in_place.data(), n);
            CHECK(a == b);  // (the 64 bytes past n untouched by both)
            CHECK(std::equal(in_place.begin(), in_place.end(), a.begin()));
            for (index_t i = 0; i < n; ++i) CHECK(a[std::size_t(i)] == t.codes[std::uint8_t(x[std::size_t(i)])]);
        }
    }
    CHECK_FALSE(nn::ops::has_lut(nn::op::exp));
    CHECK_FALSE(nn::ops::has_lut(nn::op::sqrt));
    CHECK_FALSE(nn::ops::has_lut(nn::op::relu));  // a clamp of the codes, no table
}

TEST_CASE("squeeze-excitation on codes: pooling and the per-channel scale match float arithmetic, NCHW and NHWC alike") {
    const context ctx;
    for (int trial = 0; trial < 30; ++trial) {
        CAPTURE(trial);
        const index_t batch = 1 + trial % 3, channels = std::array<index_t, 5>{1, 3, 17, 64, 130}[std::size_t(trial % 5)];
        const index_t plane = std::array<index_t, 4>{2, 7, 49, 196}[std::size_t(trial % 4)];
        const auto xs = random_step(), ys = random_step();
        std::vector<std::int8_t> nchw = random_codes(std::size_t(batch * channels * plane)), nhwc(nchw.size());
        for (index_t b = 0; b < batch; ++b)
            for (index_t c = 0; c < channels; ++c)
                for (index_t i = 0; i < plane; ++i)
                    nhwc[std::size_t((b * plane + i) * channels + c)] = nchw[std::size_t((b * channels + c) * plane + i)];

        // pooling: the mean of the dequantized values
        std::vector<float> p1(std::size_t(batch * channels)), p2(p1.size());
        nn::ops::global_avg_pool_s8(ctx, nchw.data(), xs.scale, xs.zero_point, batch, channels, plane, false, p1.data());
        nn::ops::global_avg_pool_s8(ctx, nhwc.data(), xs.scale, xs.zero_point, batch, channels, plane, true, p2.data());
        CHECK(p1 == p2);
        int bad = 0;
        for (index_t b = 0; b < batch; ++b)
            for (index_t c = 0; c < channels; ++c) {
                double sum = 0;
                for (index_t i = 0; i < plane; ++i) sum += kernels::scalar::dequantize_value(nchw[std::size_t((b * channels + c) * plane + i)], xs);
                const double want = sum / double(plane);
                bad += !(std::fabs(p1[std::size_t(b * channels + c)] - want) <= 1e-6 * (1.0 + std::fabs(want)));
            }
        CHECK(bad == 0);

        // x * gate: within one code of quantize(dequantize(x) * gate)
        std::vector<float> gate(std::size_t(batch * channels));
        for (auto& g : gate) g = std::uniform_real_distribution<float>(0.0f, 1.0f)(rng);
        std::vector<std::int8_t> y1(nchw.size()), y2(nchw.size());
        nn::ops::channel_scale_s8(ctx, nchw.data(), xs.scale, xs.zero_point, gate.data(), batch, channels, plane, false, y1.data(), ys.scale,
                                  ys.zero_point);
        nn::ops::channel_scale_s8(ctx, nhwc.data(), xs.scale, xs.zero_point, gate.data(), batch, channels, plane, true, y2.data(), ys.scale,
                                  ys.zero_point);
        bad = 0;
        for (index_t b = 0; b < batch; ++b)
            for (index_t c = 0; c < channels; ++c)
                for (index_t i = 0; i < plane; ++i) {
                    const std::size_t at = std::size_t((b * channels + c) * plane + i), at_hwc = std::size_t((b * plane + i) * channels + c);
                    const float v = kernels::scalar::dequantize_value(nchw[at], xs) * gate[std::size_t(b * channels + c)];
                    const int want = kernels::scalar::quantize_value(v, ys);
                    bad += std::abs(int(y1[at]) - want) > 1 || y1[at] != y2[at_hwc];
                }
        CHECK(bad == 0);
    }
    // a NaN gate (absurd parameters from a file) gives the low code, never undefined behaviour
    const std::int8_t x[2] = {5, -7};
    const float nan_gate = std::nanf("");
    std::int8_t y[2];
    nn::ops::channel_scale_s8(ctx, x, 0.1f, 0, &nan_gate, 1, 1, 2, false, y, 0.1f, 3);
    CHECK(y[0] == -128);
    CHECK(y[1] == -128);
}

}  // namespace test_ops_s8_suite
