// Bulk float <-> float16 / bfloat16 conversion, through the CPU's own conversion instructions
// where the target flags enable them (F16C, AVX512-BF16, AArch64 FCVT) and the scalar
// reference otherwise. Every path gives the same bits as the scalar functions in float16.hpp
// and bfloat16.hpp (tested over all 2^32 floats).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "sparq/core/arch/neon_fp16.hpp"
#include "sparq/core/arch/x86_avx512bf16.hpp"
#include "sparq/core/arch/x86_f16c.hpp"
#include "sparq/core/bfloat16.hpp"
#include "sparq/core/float16.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq {

// The bulk paths read and write float16 / bfloat16 arrays as arrays of uint16_t.
static_assert(sizeof(float16) == 2 && std::is_standard_layout_v<float16> && std::is_trivially_copyable_v<float16>);
static_assert(sizeof(bfloat16) == 2 && std::is_standard_layout_v<bfloat16> && std::is_trivially_copyable_v<bfloat16>);

// Which instructions the bulk conversions use in this translation unit.
constexpr const char* float16_convert_path() noexcept {
#if defined(SPARQ_ARCH_F16C)
    return "f16c";
#elif defined(SPARQ_ARCH_NEON_FP16_CONVERT)
    return "neon";
#else
    return "scalar";
#endif
}
constexpr const char* bfloat16_convert_path() noexcept {
#if defined(SPARQ_ARCH_AVX512BF16)
    return "avx512bf16";
#else
    return "scalar";
#endif
}

inline void convert(const float* src, float16* dst, std::size_t n) noexcept {
    auto* out = reinterpret_cast<std::uint16_t*>(dst);  // float16 is standard-layout over uint16_t
#if defined(SPARQ_ARCH_F16C)
    arch::f16c::f32_to_f16(src, out, n);
#elif defined(SPARQ_ARCH_NEON_FP16_CONVERT)
    arch::neon::f32_to_f16(src, out, n);
#else
    for (std::size_t i = 0; i < n; ++i) out[i] = detail::f32_bits_to_f16_bits(detail::float_bits(src[i]));
#endif
}

inline void convert(const float16* src, float* dst, std::size_t n) noexcept {
    const auto* in = reinterpret_cast<const std::uint16_t*>(src);
#if defined(SPARQ_ARCH_F16C)
    arch::f16c::f16_to_f32(in, dst, n);
#elif defined(SPARQ_ARCH_NEON_FP16_CONVERT)
    arch::neon::f16_to_f32(in, dst, n);
#else
    for (std::size_t i = 0; i < n; ++i) dst[i] = detail::bits_float(detail::f16_bits_to_f32_bits(in[i]));
#endif
}

inline void convert(const float* src, bfloat16* dst, std::size_t n) noexcept {
    auto* out = reinterpret_cast<std::uint16_t*>(dst);
#if defined(SPARQ_ARCH_AVX512BF16)
    arch::avx512bf16::f32_to_bf16(src, out, n);
#else
    for (std::size_t i = 0; i < n; ++i) out[i] = detail::f32_bits_to_bf16_bits(detail::float_bits(src[i]));
#endif
}

inline void convert(const bfloat16* src, float* dst, std::size_t n) noexcept {
    // A shift per element: compilers vectorise this loop on every target.
    const auto* in = reinterpret_cast<const std::uint16_t*>(src);
    for (std::size_t i = 0; i < n; ++i) dst[i] = detail::bits_float(detail::bf16_bits_to_f32_bits(in[i]));
}

// Whole-view conversion between views of the same shape; any strides (a contiguous pair takes
// the bulk path, other layouts go row by row).
template <class From, class To, std::size_t Rank>
status convert(const tensor_view<const From, Rank>& src, const tensor_view<To, Rank>& dst) noexcept {
    SPARQ_TRY(check_same_shape(src, dst, "convert"));
    if (src.empty()) return status::success();
    if (src.is_contiguous() && dst.is_contiguous()) {
        convert(src.data(), dst.data(), static_cast<std::size_t>(src.size()));
        return status::success();
    }
    if constexpr (Rank == 1) {
        for (index_t i = 0; i < src.extent(0); ++i) convert(&src(i), &dst(i), 1);
    } else {
        for (index_t i = 0; i < src.extent(0); ++i) SPARQ_TRY(convert(src.row(i), dst.row(i)));
    }
    return status::success();
}

template <class From, class To, std::size_t Rank>
status convert(const tensor_view<From, Rank>& src, const tensor_view<To, Rank>& dst) noexcept {
    return convert(src.as_const(), dst);
}

}  // namespace sparq
