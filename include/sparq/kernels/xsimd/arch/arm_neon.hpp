// int32 <-> 8-bit codes with NEON: narrow 4 lanes through int16 (xtn), widen with sxtl / uxtl.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>
#include "sparq/core/xsimd.hpp"

#include "sparq/kernels/xsimd/arch/generic.hpp"

#if defined(__ARM_NEON)
#include <arm_neon.h>

namespace sparq::kernels::xsimd::detail {

template <class Q, class A>
void store_narrow(::xsimd::batch<std::int32_t, A> v, Q* out, ::xsimd::kernel::requires_arch<::xsimd::neon>) noexcept {
    const int16x4_t words = vmovn_s32(v);
    const int8x8_t bytes = vmovn_s16(vcombine_s16(words, words));
    std::memcpy(out, &bytes, 4);
}

template <class A, class Q>
::xsimd::batch<std::int32_t, A> load_widen(const Q* in, ::xsimd::kernel::requires_arch<::xsimd::neon>) noexcept {
    std::uint32_t four;
    std::memcpy(&four, in, 4);
    const uint8x8_t bytes = vreinterpret_u8_u32(vdup_n_u32(four));
    if constexpr (std::is_signed_v<Q>) return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(bytes))));
    else return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(bytes))));
}

#if defined(__aarch64__)
// xsimd 8.1 divides float batches on AArch64 with a reciprocal estimate and Newton steps (its
// 32-bit NEON code), which is not correctly rounded; FDIV is.
template <class A>
::xsimd::batch<float, A> divide(::xsimd::batch<float, A> a, ::xsimd::batch<float, A> b,
                                ::xsimd::kernel::requires_arch<::xsimd::neon64>) noexcept {
    return vdivq_f32(a, b);
}
#endif

}  // namespace sparq::kernels::xsimd::detail
#endif
