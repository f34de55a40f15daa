// dtype: the element types sparq stores, as a run-time tag (for files, messages and the
// energy counter) tied to the C++ types at compile time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparq/core/bfloat16.hpp"
#include "sparq/core/float16.hpp"

namespace sparq {

enum class dtype : std::uint8_t { f32, f16, bf16, s32, s8, u8, s4 };

constexpr const char* to_string(dtype t) noexcept {
    switch (t) {
        case dtype::f32: return "f32";
        case dtype::f16: return "f16";
        case dtype::bf16: return "bf16";
        case dtype::s32: return "s32";
        case dtype::s8: return "s8";
        case dtype::u8: return "u8";
        case dtype::s4: return "s4";
    }
    return "?";
}

// Storage bits per element (s4 packs two per byte).
constexpr std::size_t bits_of(dtype t) noexcept {
    switch (t) {
        case dtype::f32: case dtype::s32: return 32;
        case dtype::f16: case dtype::bf16: return 16;
        case dtype::s8: case dtype::u8: return 8;
        case dtype::s4: return 4;
    }
    return 0;
}

constexpr bool is_floating(dtype t) noexcept { return t == dtype::f32 || t == dtype::f16 || t == dtype::bf16; }

template <class T> struct dtype_of;  // undefined for types sparq does not store
template <> struct dtype_of<float> { static constexpr dtype value = dtype::f32; };
template <> struct dtype_of<float16> { static constexpr dtype value = dtype::f16; };
template <> struct dtype_of<bfloat16> { static constexpr dtype value = dtype::bf16; };
template <> struct dtype_of<std::int32_t> { static constexpr dtype value = dtype::s32; };
template <> struct dtype_of<std::int8_t> { static constexpr dtype value = dtype::s8; };
template <> struct dtype_of<std::uint8_t> { static constexpr dtype value = dtype::u8; };
template <class T> inline constexpr dtype dtype_of_v = dtype_of<T>::value;

}  // namespace sparq
