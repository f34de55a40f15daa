// The digest scheme of tools/gen/make_half_reference.py, and its committed data.
#pragma once

#include <cstdint>

namespace sparq_test {

#include "data/half_reference.inc"

constexpr std::uint64_t splitmix64(std::uint64_t z) noexcept {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// NaN payloads differ between implementations (numpy keeps signalling NaNs, PyTorch makes
// 0x7FC0, the CPU quiets): the digests compare "is a NaN", everything else bit for bit.
constexpr std::uint64_t canon_f16(std::uint16_t h) noexcept { return (h & 0x7FFFu) > 0x7C00u ? 0x7FFFu : h; }
constexpr std::uint64_t canon_bf16(std::uint16_t h) noexcept { return (h & 0x7FFFu) > 0x7F80u ? 0x7FFFu : h; }
constexpr std::uint64_t canon_f32(std::uint32_t f) noexcept {
    return (f & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FFFFFFFu : f;
}

constexpr std::uint64_t digest_term(std::uint64_t canon_value, std::uint64_t index) noexcept {
    return (canon_value + 1) * splitmix64(index);
}

}  // namespace sparq_test
