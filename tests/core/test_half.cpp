// float16 / bfloat16: the scalar reference against numpy / PyTorch vectors, every 16-bit
// pattern widened, the CPU's own instructions where the build has them, and the bulk paths on
// odd lengths and strided views. (All 2^32 narrowings: test_half_exhaustive.cpp.)
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "sparq/core/convert.hpp"
#include "sparq/core/tensor.hpp"
#include "support/half_reference.hpp"

#if defined(SPARQ_ARCH_F16C)
#include <immintrin.h>
#endif

using namespace sparq;
using namespace sparq_test;

namespace {
std::uint16_t f16_bits(float f) { return float16(f).bits; }
std::uint16_t bf16_bits(float f) { return bfloat16(f).bits; }
float from_bits(std::uint32_t u) { return detail::bits_float(u); }
}  // namespace

TEST_CASE("float16: the values that define the format") {
    CHECK(f16_bits(1.0f) == 0x3C00);
    CHECK(f16_bits(-2.0f) == 0xC000);
    CHECK(f16_bits(65504.0f) == 0x7BFF);                 // largest finite
    CHECK(f16_bits(65519.99f) == 0x7BFF);                // below the halfway point
    CHECK(f16_bits(65520.0f) == 0x7C00);                 // halfway to 2^16 rounds to infinity
    CHECK(f16_bits(std::ldexp(1.0f, -14)) == 0x0400);    // smallest normal
    CHECK(f16_bits(std::ldexp(1.0f, -24)) == 0x0001);    // smallest subnormal
    CHECK(f16_bits(std::ldexp(1.0f, -25)) == 0x0000);    // tie between 0 and 2^-24: even is 0
    CHECK(f16_bits(std::ldexp(1.5f, -25)) == 0x0001);
    CHECK(f16_bits(std::ldexp(3.0f, -25)) == 0x0002);    // tie 1.5 units: to even 2
    CHECK(f16_bits(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);  // tie: to even
    CHECK(f16_bits(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
    CHECK(f16_bits(-0.0f) == 0x8000);
    CHECK(f16_bits(std::numeric_limits<float>::infinity()) == 0x7C00);
    CHECK(f16_bits(std::numeric_limits<float>::denorm_min()) == 0x0000);
    CHECK(float16(std::numeric_limits<float>::quiet_NaN()).is_nan());
    CHECK(float16(-std::numeric_limits<float>::signaling_NaN()).is_nan());
    CHECK(float(float16::from_bits(0x0001)) == std::ldexp(1.0f, -24));
    CHECK(float(float16::from_bits(0x7BFF)) == 65504.0f);
    CHECK(std::isnan(float(float16::from_bits(0x7C01))));
    CHECK(float16(0.0f) == float16(-0.0f));
    CHECK(float16::from_bits(0x7E00) != float16::from_bits(0x7E00));  // NaN != NaN
}

TEST_CASE("bfloat16: the values that define the format") {
    CHECK(bf16_bits(1.0f) == 0x3F80);
    CHECK(bf16_bits(from_bits(0x3F808000)) == 0x3F80);  // tie: to even
    CHECK(bf16_bits(from_bits(0x3F818000)) == 0x3F82);  // tie: to even (up)
    CHECK(bf16_bits(from_bits(0x3F808001)) == 0x3F81);
    CHECK(bf16_bits(from_bits(0x7F7FFFFF)) == 0x7F80);  // overflow to infinity
    CHECK(bf16_bits(from_bits(0x00400000)) == 0x0040);  // subnormal kept (the instruction flushes it)
    CHECK(bf16_bits(from_bits(0x80000001)) == 0x8000);
    CHECK(bfloat16(std::numeric_limits<float>::signaling_NaN()).is_nan());
    CHECK(float(bfloat16::from_bits(0x4049)) == 3.140625f);
}

TEST_CASE("scalar conversions match numpy (float16) and PyTorch (bfloat16) on edge cases") {
    int checked = 0;
    for (const auto& c : half_ref_cases) {
        CAPTURE(c.f32);
        const std::uint16_t h = detail::f32_bits_to_f16_bits(c.f32);
        const std::uint16_t b = detail::f32_bits_to_bf16_bits(c.f32);
        CHECK(canon_f16(h) == canon_f16(c.f16));
        CHECK(canon_bf16(b) == canon_bf16(c.bf16));
        ++checked;
    }
    CHECK(checked > 200);
}

TEST_CASE("every float16 and bfloat16 pattern widens as numpy / PyTorch widen it") {
    std::uint64_t d16 = 0, dbf = 0;
    for (std::uint32_t i = 0; i < 65536; ++i) {
        const auto u = static_cast<std::uint16_t>(i);
        d16 += digest_term(canon_f32(detail::f16_bits_to_f32_bits(u)), i);
        dbf += digest_term(canon_f32(detail::bf16_bits_to_f32_bits(u)), i);
        // narrowing what was widened gives the pattern back (NaNs come back quiet)
        const std::uint16_t back = detail::f32_bits_to_f16_bits(detail::f16_bits_to_f32_bits(u));
        if ((u & 0x7FFF) <= 0x7C00) REQUIRE(back == u);
        else REQUIRE(back == (u | 0x0200));
    }
    CHECK(d16 == half_ref_widen_f16_digest);
    CHECK(dbf == half_ref_widen_bf16_digest);
}

#if defined(SPARQ_ARCH_F16C)
TEST_CASE("float16 widening is bit-identical to vcvtph2ps for all 65536 patterns") {
    for (std::uint32_t i = 0; i < 65536; i += 8) {
        std::uint16_t in[8];
        for (std::uint32_t k = 0; k < 8; ++k) in[k] = static_cast<std::uint16_t>(i + k);
        float out[8];
        _mm256_storeu_ps(out, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))));
        for (int k = 0; k < 8; ++k) REQUIRE(detail::float_bits(out[k]) == detail::f16_bits_to_f32_bits(in[k]));
    }
}
#endif

TEST_CASE("bulk convert equals the scalar reference on every length and edge value") {
    std::mt19937 rng(7);
    const std::uint32_t specials[] = {0x7F800001u, 0xFFC00000u, 0x7F800000u, 0x00000001u, 0x80400000u,
                                      0x477FF000u, 0x33000000u, 0x3F808000u, 0x387FE000u};
    for (std::size_t n : {0, 1, 2, 7, 8, 15, 16, 17, 31, 97, 1021, 4099}) {
        CAPTURE(n);
        std::vector<float> src(n);
        for (std::size_t i = 0; i < n; ++i)
            src[i] = i % 5 == 4 ? from_bits(specials[rng() % 9]) : from_bits(static_cast<std::uint32_t>(rng()));
        std::vector<float16> h(n);
        std::vector<bfloat16> b(n);
        std::vector<float> wh(n), wb(n);
        convert(src.data(), h.data(), n);
        convert(src.data(), b.data(), n);
        convert(h.data(), wh.data(), n);
        convert(b.data(), wb.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t x = detail::float_bits(src[i]);
            REQUIRE(h[i].bits == detail::f32_bits_to_f16_bits(x));
            REQUIRE(b[i].bits == detail::f32_bits_to_bf16_bits(x));
            REQUIRE(detail::float_bits(wh[i]) == detail::f16_bits_to_f32_bits(h[i].bits));
            REQUIRE(detail::float_bits(wb[i]) == detail::bf16_bits_to_f32_bits(b[i].bits));
        }
    }
}

TEST_CASE("convert over views: strided layouts and shape checks") {
    auto src = tensor<float, 2>::make({5, 7});
    auto dst = tensor<float16, 2>::make({7, 5});
    REQUIRE(src.ok());
    REQUIRE(dst.ok());
    for (index_t i = 0; i < 35; ++i) src->data()[i] = 0.1f * float(i) - 1.7f;
    auto t = src->view().transpose(0, 1);  // non-contiguous source
    REQUIRE(convert(t, dst->view()).ok());
    for (index_t i = 0; i < 7; ++i)
        for (index_t j = 0; j < 5; ++j) CHECK((*dst)(i, j).bits == float16((*src)(j, i)).bits);

    auto wrong = tensor<bfloat16, 2>::make({5, 6});
    REQUIRE(wrong.ok());
    auto s = convert(src->cview(), wrong->view());
    CHECK(s.code() == errc::shape_mismatch);
}
