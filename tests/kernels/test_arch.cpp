// The SIMD path is the one the target flags select: on an aarch64 build (the aarch64 preset,
// run under qemu-aarch64) xsimd's NEON kernels, on x86 the widest instruction set the flags
// enable. A build that silently fell back to the scalar kernels would pass every other test.
#include <doctest/doctest.h>

#include <string>

#include "sparq/kernels/matmul.hpp"

using namespace sparq;

TEST_CASE("the kernels' SIMD path is the one the target flags allow") {
#if defined(SPARQ_WITH_XSIMD)
#if !defined(SPARQ_MATMUL_XSIMD)
    FAIL("xsimd is on, but the xsimd matmul kernels are not compiled in");
#else
    const std::string arch = ::xsimd::default_arch::name();
    MESSAGE("xsimd architecture: " << arch);
#if defined(__aarch64__)
    CHECK(arch.find("neon") != std::string::npos);  // xsimd 8.1 names neon64 "arm64+neon"
    CHECK(SPARQ_ARCH_NEON == 1);
#elif defined(__AVX512F__) && defined(__AVX512BW__)
    CHECK(arch.rfind("avx512", 0) == 0);
#elif defined(__AVX2__)
    CHECK(arch.find("avx2") != std::string::npos);
#endif
    // The packed layouts follow the xsimd kernels, not the scalar fallback's fixed widths.
    CHECK(kernels::panel_width_f32() == kernels::xsimd::gemm_f32_shape<::xsimd::default_arch>::nr);
#endif
#else
    MESSAGE("no xsimd in this build: the scalar kernels run");
    CHECK(kernels::panel_width_f32() == 16);
#endif
}
