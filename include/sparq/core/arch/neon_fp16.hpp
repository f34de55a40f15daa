// float <-> float16 with AArch64's FCVTN / FCVTL, 4 lanes at a time. Rounds by FPCR, which is
// round-to-nearest-even with flush-to-zero off on Linux and in a default firmware start-up.
#pragma once

#include "sparq/core/config.hpp"

#if defined(SPARQ_ARCH_NEON_FP16_CONVERT)
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "sparq/core/float16.hpp"

namespace sparq::arch::neon {

inline void f32_to_f16(const float* src, std::uint16_t* dst, std::size_t n) noexcept {
    const std::size_t whole = n - n % 4;  // a bound GCC can see: the tail starts at or below n
    std::size_t i = 0;
    for (; i < whole; i += 4) vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
    for (; i < n; ++i) dst[i] = detail::f32_bits_to_f16_bits(detail::float_bits(src[i]));
}

inline void f16_to_f32(const std::uint16_t* src, float* dst, std::size_t n) noexcept {
    const std::size_t whole = n - n % 4;  // a bound GCC can see: the tail starts at or below n
    std::size_t i = 0;
    for (; i < whole; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
    for (; i < n; ++i) dst[i] = detail::bits_float(detail::f16_bits_to_f32_bits(src[i]));
}

}  // namespace sparq::arch::neon
#endif
