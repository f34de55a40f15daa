// All 2^32 float32 bit patterns narrowed to float16 and bfloat16 by every path: the scalar
// reference, the bulk convert() of this build, the CPU's own instructions where the build
// has them; and digests of the results compared with numpy's and PyTorch's
// (tools/gen/make_half_reference.py). Takes tens of seconds: built optimised, labelled
// "exhaustive".
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/core/convert.hpp"
#include "support/half_reference.hpp"

#if defined(SPARQ_ARCH_F16C) || defined(SPARQ_ARCH_AVX512BF16)
#include <immintrin.h>
#endif

using namespace sparq;
using namespace sparq_test;

TEST_CASE("all 2^32 float32 patterns: every path, bit for bit, against numpy and PyTorch") {
    constexpr std::uint32_t block = 4096;
    constexpr std::uint64_t chunk = std::uint64_t(1) << half_ref_chunk_bits;
    std::vector<float> in(block);
    std::vector<float16> bulk16(block);
    std::vector<bfloat16> bulkbf(block);
    std::uint64_t bad_bulk16 = 0, bad_bulkbf = 0, bad_hw16 = 0, bad_hwbf = 0, hwbf_flushed = 0;
    std::uint64_t bad_digest16 = 0, bad_digestbf = 0;

    for (std::uint64_t c = 0; c < (std::uint64_t(1) << 32) / chunk; ++c) {
        std::uint64_t d16 = 0, dbf = 0;
        for (std::uint64_t start = c * chunk; start < (c + 1) * chunk; start += block) {
            for (std::uint32_t k = 0; k < block; ++k) in[k] = detail::bits_float(static_cast<std::uint32_t>(start + k));
            convert(in.data(), bulk16.data(), block);
            convert(in.data(), bulkbf.data(), block);
#if defined(SPARQ_ARCH_F16C)
            std::uint16_t hw16[block];
            for (std::uint32_t k = 0; k < block; k += 8)
                _mm_storeu_si128(reinterpret_cast<__m128i*>(hw16 + k),
                                 _mm256_cvtps_ph(_mm256_loadu_ps(&in[k]), _MM_FROUND_TO_NEAREST_INT));
#endif
#if defined(SPARQ_ARCH_AVX512BF16)
            std::uint16_t hwbf[block];
            for (std::uint32_t k = 0; k < block; k += 16) {
                const __m256bh r = _mm512_cvtneps_pbh(_mm512_loadu_ps(&in[k]));
                std::memcpy(hwbf + k, &r, sizeof r);
            }
#endif
            for (std::uint32_t k = 0; k < block; ++k) {
                const auto x = static_cast<std::uint32_t>(start + k);
                const std::uint16_t h = detail::f32_bits_to_f16_bits(x);
                const std::uint16_t b = detail::f32_bits_to_bf16_bits(x);
                bad_bulk16 += bulk16[k].bits != h;
                bad_bulkbf += bulkbf[k].bits != b;
#if defined(SPARQ_ARCH_F16C)
                bad_hw16 += hw16[k] != h;
#endif
#if defined(SPARQ_ARCH_AVX512BF16)
                if (hwbf[k] != b) {
                    // The instruction treats subnormal inputs as zero: the only allowed difference.
                    const bool subnormal = (x & 0x7F800000u) == 0 && (x & 0x007FFFFFu) != 0;
                    if (subnormal && hwbf[k] == ((x >> 16) & 0x8000u)) ++hwbf_flushed;
                    else ++bad_hwbf;
                }
#endif
                const std::uint64_t i = start + k;
                d16 += digest_term(canon_f16(h), i);
                dbf += digest_term(canon_bf16(b), i);
            }
        }
        if (d16 != half_ref_narrow_f16_digest[c]) {
            ++bad_digest16;
            std::printf("float16 digest differs from numpy in chunk %llu: %016llx\n",
                        static_cast<unsigned long long>(c), static_cast<unsigned long long>(d16));
        }
        if (dbf != half_ref_narrow_bf16_digest[c]) {
            ++bad_digestbf;
            std::printf("bfloat16 digest differs from PyTorch in chunk %llu: %016llx\n",
                        static_cast<unsigned long long>(c), static_cast<unsigned long long>(dbf));
        }
    }
    CHECK(bad_digest16 == 0);
    CHECK(bad_digestbf == 0);
    CHECK(bad_bulk16 == 0);
    CHECK(bad_bulkbf == 0);
    CHECK(bad_hw16 == 0);
    CHECK(bad_hwbf == 0);
    MESSAGE("float16 path: " << std::string(float16_convert_path()) << ", bfloat16 path: "
                             << std::string(bfloat16_convert_path()));
#if defined(SPARQ_ARCH_AVX512BF16)
    // Every subnormal input whose exact result is not zero: 2 * (2^23 - 1 - 2^15).
    CHECK(hwbf_flushed == 2 * ((std::uint64_t(1) << 23) - 1 - (1 << 15)));
#endif
    (void)hwbf_flushed;
}
