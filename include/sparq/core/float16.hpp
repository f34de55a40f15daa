// float16 (IEEE 754 binary16) and the exact conversions to and from float.
// Narrowing rounds to nearest, ties to even; overflow goes to infinity; subnormals are kept;
// a NaN stays a NaN (quieted, top payload bits kept: what F16C's vcvtps2ph and Arm's FCVT do).
// Widening is exact; a signalling NaN comes back quiet, as vcvtph2ps does. These scalar
// functions are the reference; bulk conversions with hardware paths are in convert.hpp.
#pragma once

#include <cstdint>
#include <type_traits>
#include <cstring>

namespace sparq {

namespace detail {

inline std::uint32_t float_bits(float f) noexcept {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}
inline float bits_float(std::uint32_t u) noexcept {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

constexpr std::uint16_t f32_bits_to_f16_bits(std::uint32_t x) noexcept {
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u)  // NaN: quiet it, keep the top 9 payload bits
        return static_cast<std::uint16_t>(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));
    if (ax >= 0x38800000u) {  // |x| >= 2^-14: a normal half, or overflow to infinity
        std::uint32_t r = ax - 0x38000000u;  // rebias the exponent: 127 - 15 = 112
        r = (r + 0xFFFu + ((r >> 13) & 1u)) >> 13;  // round the 13 dropped bits, ties to even
        return static_cast<std::uint16_t>(sign | (r < 0x7C00u ? r : 0x7C00u));
    }
    if (ax <= 0x33000000u) return static_cast<std::uint16_t>(sign);  // |x| <= 2^-25: ties to 0
    // A half subnormal: value = m * 2^(e - 150) in units of 2^-24 is m >> (126 - e).
    const std::uint32_t e = ax >> 23;
    const std::uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t shift = 126u - e;  // 14 .. 24
    std::uint32_t q = m >> shift;
    const std::uint32_t rem = m & ((1u << shift) - 1u);
    const std::uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) ++q;  // may carry into the smallest normal: right
    return static_cast<std::uint16_t>(sign | q);
}

constexpr std::uint32_t f16_bits_to_f32_bits(std::uint16_t h) noexcept {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t e = (h >> 10) & 0x1Fu;
    std::uint32_t m = h & 0x3FFu;
    if (e == 0x1F) return sign | 0x7F800000u | (m ? 0x400000u | (m << 13) : 0u);
    if (e != 0) return sign | ((e + 112u) << 23) | (m << 13);
    if (m == 0) return sign;
    std::uint32_t exp = 113;  // normalise the subnormal: value = m * 2^-24
    while (!(m & 0x400u)) {
        m <<= 1;
        --exp;
    }
    return sign | (exp << 23) | ((m & 0x3FFu) << 13);
}

}  // namespace detail

struct float16 {
    std::uint16_t bits = 0;

    constexpr float16() noexcept = default;
    explicit float16(float f) noexcept : bits(detail::f32_bits_to_f16_bits(detail::float_bits(f))) {}
    // From double it would round twice (double -> float -> half): say 0.5f, or convert the
    // double to float on purpose.
    template <class D, class = std::enable_if_t<std::is_floating_point_v<D> && !std::is_same_v<D, float>>>
    explicit float16(D) = delete;
    static constexpr float16 from_bits(std::uint16_t b) noexcept {
        float16 h;
        h.bits = b;
        return h;
    }
    // Widening is exact, so it is implicit (like Eigen::half).
    operator float() const noexcept { return detail::bits_float(detail::f16_bits_to_f32_bits(bits)); }

    constexpr bool is_nan() const noexcept { return (bits & 0x7FFFu) > 0x7C00u; }
    constexpr bool is_inf() const noexcept { return (bits & 0x7FFFu) == 0x7C00u; }
};

// IEEE equality (NaN != NaN, +0 == -0), like float's.
inline bool operator==(float16 a, float16 b) noexcept { return float(a) == float(b); }
inline bool operator!=(float16 a, float16 b) noexcept { return !(a == b); }

}  // namespace sparq
