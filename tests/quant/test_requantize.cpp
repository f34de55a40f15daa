// Requantization: bit-exact with gemmlowp's fixed-point primitives (what TFLite's reference
// MultiplyByQuantizedMultiplier is built from), the single-rounding form equal to its 64-bit
// definition (TFLite TFLITE_SINGLE_ROUNDING / CMSIS-NN), and both within 1 LSB of float64.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "sparq/quant/requantize.hpp"

#if defined(SPARQ_TEST_HAVE_GEMMLOWP)
#include <gemmlowp/fixedpoint/fixedpoint.h>
#endif

using namespace sparq::quant;

namespace {

constexpr std::int32_t i32_min = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t i32_max = std::numeric_limits<std::int32_t>::max();

double real_multiplier(quantized_multiplier m) { return std::ldexp(double(m.multiplier), m.shift - 31); }

// Inputs where double rounding cannot overflow (TFLite's contract: x * 2^shift fits int32).
std::int32_t fitting(std::int32_t x, int shift) {
    if (shift <= 0) return x;
    const std::int64_t limit = (std::int64_t(1) << (31 - shift)) - 1;
    return std::int32_t(x > limit ? limit : (x < -limit ? -limit : x));
}

}  // namespace

TEST_CASE("quantize_multiplier: TFLite's QuantizeMultiplier, mantissa in [2^30, 2^31)") {
    auto one = quantize_multiplier(1.0);
    REQUIRE(one.ok());
    CHECK(one->multiplier == (1 << 30));
    CHECK(one->shift == 1);
    auto half = quantize_multiplier(0.5);
    CHECK(half->multiplier == (1 << 30));
    CHECK(half->shift == 0);
    // 1 - 2^-40 rounds up to 2^31 and is renormalised.
    auto near_one = quantize_multiplier(1.0 - std::ldexp(1.0, -40));
    CHECK(near_one->multiplier == (1 << 30));
    CHECK(near_one->shift == 1);
    CHECK(quantize_multiplier(0.0)->multiplier == 0);
    CHECK(quantize_multiplier(std::ldexp(1.0, -40))->multiplier == 0);  // below 2^-32: every result is 0
    CHECK(quantize_multiplier(-1.0).error().code() == sparq::errc::invalid_argument);
    CHECK(quantize_multiplier(NAN).error().code() == sparq::errc::invalid_argument);
    CHECK(quantize_multiplier(std::ldexp(1.0, 31)).error().code() == sparq::errc::out_of_range);

    std::mt19937_64 rng(42);
    for (int i = 0; i < 20000; ++i) {
        const double m = std::ldexp(std::uniform_real_distribution<double>(0.5, 1.0)(rng), int(rng() % 60) - 31);
        auto q = quantize_multiplier(m);
        REQUIRE(q.ok());
        REQUIRE(q->multiplier >= (1 << 30));
        CHECK(std::fabs(real_multiplier(*q) - m) <= std::ldexp(1.0, q->shift - 32));  // half a Q31 step
    }
}

TEST_CASE("double rounding: within 1 LSB of float64, extremes and bounds included") {
    std::mt19937_64 rng(7);
    const std::int32_t xs[] = {0, 1, -1, 2, -2, 127, -128, 1 << 20, -(1 << 20), i32_max, i32_min, i32_min + 1};
    const double ms[] = {std::ldexp(1.0, -31), std::ldexp(1.0, -32) * 1.5, 1e-9, 0.001, 0.25, 0.5, 0.75,
                         1.0 - 1e-12, 1.0, 1.5, 1000.0, std::ldexp(1.0, 30) * 0.99};
    int checked = 0;
    for (double m : ms) {
        auto q = quantize_multiplier(m);
        REQUIRE(q.ok());
        for (int i = 0; i < 2000; ++i) {
            std::int32_t x = i < 12 ? xs[i] : std::int32_t(rng());
            x = fitting(x, q->shift);
            for (auto r : {requant_rounding::double_rounding, requant_rounding::single_rounding}) {
                const std::int32_t got = multiply_by_quantized_multiplier(x, *q, r);
                const double exact = double(x) * real_multiplier(*q);
                if (std::fabs(exact) < 2147483647.0) {
                    CHECK(std::fabs(double(got) - exact) <= 1.0);
                    ++checked;
                }
            }
        }
    }
    CHECK(checked > 40000);
}

TEST_CASE("single rounding is the 64-bit round-half-up shift (TFLite single rounding, CMSIS-NN)") {
    std::mt19937_64 rng(9);
    for (int i = 0; i < 200000; ++i) {
        quantized_multiplier m{std::int32_t((1u << 30) + (rng() % (1u << 30))), int(rng() % 62) - 31};
        const std::int32_t x = std::int32_t(rng());
        const std::int64_t total = 31 - m.shift;
        // CMSIS-NN's formulation: shift by total - 1, add one, shift by one more.
        const std::int64_t product = std::int64_t(x) * m.multiplier;
        const std::int64_t cmsis = ((product >> (total - 1)) + 1) >> 1;
        if (cmsis < i32_min || cmsis > i32_max) continue;  // outside both runtimes' contract
        REQUIRE(multiply_by_quantized_multiplier(x, m, requant_rounding::single_rounding) == cmsis);
    }
}

#if defined(SPARQ_TEST_HAVE_GEMMLOWP)
TEST_CASE("double rounding is bit-exact with gemmlowp's SaturatingRoundingDoublingHighMul + RoundingDivideByPOT") {
    std::mt19937_64 rng(11);
    for (int i = 0; i < 500000; ++i) {
        const std::int32_t a = i < 4 ? (i % 2 ? i32_min : i32_max) : std::int32_t(rng());
        const std::int32_t b = i < 4 ? (i < 2 ? i32_min : i32_max) : std::int32_t(rng());
        REQUIRE(detail::saturating_rounding_doubling_high_mul(a, b) == gemmlowp::SaturatingRoundingDoublingHighMul(a, b));
        const int e = int(rng() % 32);
        REQUIRE(detail::rounding_divide_by_pot(a, e) == gemmlowp::RoundingDivideByPOT(a, e));
    }
    for (int i = 0; i < 200000; ++i) {
        quantized_multiplier m{std::int32_t((1u << 30) + (rng() % (1u << 30))), int(rng() % 62) - 31};
        const std::int32_t x = fitting(std::int32_t(rng()), m.shift);
        const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
        const std::int32_t tflite = gemmlowp::RoundingDivideByPOT(
            gemmlowp::SaturatingRoundingDoublingHighMul(std::int32_t(std::int64_t(x) * (std::int64_t(1) << left)), m.multiplier),
            right);
        REQUIRE(multiply_by_quantized_multiplier(x, m) == tflite);
    }
}
#endif

TEST_CASE("requantize: zero point and clamping of the output stage") {
    auto m = quantize_multiplier(0.01);
    REQUIRE(m.ok());
    CHECK(requantize(1000, *m, 3, -128, 127) == 13);
    CHECK(requantize(-1000, *m, 3, -128, 127) == -7);
    CHECK(requantize(i32_max, *m, 0, -128, 127) == 127);
    CHECK(requantize(i32_min, *m, 0, -128, 127) == -128);
    CHECK(requantize(100000, *m, 128, 0, 255) == 255);
    static_assert(requantize(250, quantized_multiplier{1 << 30, 0}, 0, -128, 127) == 125, "usable at compile time");
    // Multipliers >= 1 on large accumulators saturate, never wrap (both roundings).
    for (double mult : {1.0, 1.5, 4.0, 1000.0}) {
        auto q = quantize_multiplier(mult);
        REQUIRE(q.ok());
        for (auto r : {requant_rounding::double_rounding, requant_rounding::single_rounding, requant_rounding::float_scale}) {
            CHECK(requantize(i32_max, *q, 0, -128, 127, r) == 127);
            CHECK(requantize(1 << 30, *q, 0, -128, 127, r) == 127);
            CHECK(requantize(i32_min, *q, 0, -128, 127, r) == -128);
            CHECK(requantize(-(1 << 30), *q, 5, 0, 255, r) == 0);
        }
    }
}

TEST_CASE("float_scale: float(acc) times the pair's float multiplier, clamped, rounded half to even (XNNPACK's fp32 requantization)") {
    std::mt19937_64 rng(13);
    for (double mult : {1e-6, 0.0007, 0.013, 0.25, 0.9999, 1.0, 3.5}) {
        auto q = quantize_multiplier(mult);
        REQUIRE(q.ok());
        const float fm = float_multiplier(*q);
        CHECK(std::fabs(double(fm) - mult) <= mult * 1e-7);  // the pair, rounded to float
        for (int i = 0; i < 20000; ++i) {
            const std::int32_t acc = std::int32_t(rng()) >> (rng() % 31);
            const std::int32_t zp = std::int32_t(rng() % 256) - 128;
            const std::int32_t got = requantize(acc, *q, zp, -128, 127, requant_rounding::float_scale);
            // the definition, in double where float's own products are exact enough to compare
            const double exact = std::clamp(double(float(acc) * fm), double(-128 - zp), double(127 - zp));
            CHECK(got == std::int32_t(std::nearbyint(exact)) + zp);
            CHECK(std::fabs(double(got - zp) - std::clamp(double(acc) * mult, double(-128 - zp), double(127 - zp))) <= 1.0);
        }
    }
    // ties go to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0 (multiplier 0.5)
    const quantized_multiplier half{1 << 30, 0};
    CHECK(requantize(1, half, 0, -128, 127, requant_rounding::float_scale) == 0);
    CHECK(requantize(3, half, 0, -128, 127, requant_rounding::float_scale) == 2);
    CHECK(requantize(5, half, 0, -128, 127, requant_rounding::float_scale) == 2);
    CHECK(requantize(-1, half, 0, -128, 127, requant_rounding::float_scale) == 0);
    CHECK(std::string(to_string(requant_rounding::float_scale)) == "float_scale");
}
