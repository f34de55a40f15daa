// bfloat16: the top 16 bits of a float. Narrowing rounds to nearest, ties to even (as PyTorch's
// c10::BFloat16 and AVX512-BF16's vcvtneps2bf16 do) with subnormals kept exactly (the
// instruction flushes them to zero; convert.hpp mends that); a NaN stays a NaN, quieted with its
// top payload bits kept. Widening is exact (a shift).
#pragma once

#include <cstdint>
#include <type_traits>

#include "sparq/core/float16.hpp"  // detail::float_bits / bits_float

namespace sparq {

namespace detail {

constexpr std::uint16_t f32_bits_to_bf16_bits(std::uint32_t x) noexcept {
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((x >> 16) | 0x0040u);
    return static_cast<std::uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

constexpr std::uint32_t bf16_bits_to_f32_bits(std::uint16_t b) noexcept {
    return static_cast<std::uint32_t>(b) << 16;
}

}  // namespace detail

struct bfloat16 {
    std::uint16_t bits = 0;

    constexpr bfloat16() noexcept = default;
    explicit bfloat16(float f) noexcept : bits(detail::f32_bits_to_bf16_bits(detail::float_bits(f))) {}
    // From double it would round twice (double -> float -> half): say 0.5f, or convert the
    // double to float on purpose.
    template <class D, class = std::enable_if_t<std::is_floating_point_v<D> && !std::is_same_v<D, float>>>
    explicit bfloat16(D) = delete;
    static constexpr bfloat16 from_bits(std::uint16_t b) noexcept {
        bfloat16 h;
        h.bits = b;
        return h;
    }
    operator float() const noexcept { return detail::bits_float(detail::bf16_bits_to_f32_bits(bits)); }

    constexpr bool is_nan() const noexcept { return (bits & 0x7FFFu) > 0x7F80u; }
    constexpr bool is_inf() const noexcept { return (bits & 0x7FFFu) == 0x7F80u; }
};

inline bool operator==(bfloat16 a, bfloat16 b) noexcept { return float(a) == float(b); }
inline bool operator!=(bfloat16 a, bfloat16 b) noexcept { return !(a == b); }

}  // namespace sparq
