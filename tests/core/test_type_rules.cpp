// Compile-time rules of the core types: a wrong change fails the build, not a run.
#include <type_traits>

#include "sparq/core.hpp"

using namespace sparq;

// Views are cheap values: copied in registers, usable in firmware and across C-like APIs.
static_assert(std::is_trivially_copyable_v<tensor_view<float, 2>>);
static_assert(std::is_trivially_destructible_v<tensor_view<const int, 4>>);
static_assert(sizeof(tensor_view<float, 1>) == 3 * sizeof(void*));

// Mutable -> const converts implicitly; const -> mutable never does.
static_assert(std::is_convertible_v<tensor_view<float, 2>, tensor_view<const float, 2>>);
static_assert(!std::is_convertible_v<tensor_view<const float, 2>, tensor_view<float, 2>>);
static_assert(!std::is_constructible_v<tensor_view<float, 2>, tensor_view<const float, 2>>);
static_assert(!std::is_convertible_v<tensor_view<float, 2>, tensor_view<double, 2>>);
static_assert(!std::is_convertible_v<tensor_view<float, 2>, tensor_view<const float, 3>>);

// Tensors own memory: move-only.
static_assert(!std::is_copy_constructible_v<tensor<float, 2>>);
static_assert(std::is_nothrow_move_constructible_v<tensor<float, 2>>);
static_assert(!std::is_copy_constructible_v<arena>);
static_assert(std::is_nothrow_move_constructible_v<arena>);

// Half types are two bytes of plain data, convertible from float only on purpose.
static_assert(sizeof(float16) == 2 && sizeof(bfloat16) == 2);
static_assert(std::is_trivially_copyable_v<float16> && std::is_standard_layout_v<float16>);
static_assert(std::is_trivially_copyable_v<bfloat16> && std::is_standard_layout_v<bfloat16>);
static_assert(!std::is_convertible_v<float, float16>);
static_assert(std::is_convertible_v<float16, float>);
static_assert(!std::is_convertible_v<float, bfloat16>);
// From double a conversion would round twice: not constructible; from float and int it is.
static_assert(!std::is_constructible_v<float16, double> && !std::is_constructible_v<bfloat16, double>);
static_assert(std::is_constructible_v<float16, float> && std::is_constructible_v<float16, int>);

// dtype tags follow the C++ types.
static_assert(dtype_of_v<float> == dtype::f32 && dtype_of_v<float16> == dtype::f16);
static_assert(dtype_of_v<bfloat16> == dtype::bf16 && dtype_of_v<std::int8_t> == dtype::s8);
static_assert(bits_of(dtype::s4) == 4 && bits_of(dtype::bf16) == 16);

// The scalar conversions are usable in constant expressions (tables for firmware).
static_assert(detail::f32_bits_to_f16_bits(0x3F800000u) == 0x3C00);
static_assert(detail::f16_bits_to_f32_bits(0x0001) == 0x33800000u);
static_assert(detail::f32_bits_to_bf16_bits(0x3F818000u) == 0x3F82);

// status is small enough to return by value and carries no heap.
static_assert(std::is_trivially_copyable_v<status>);
static_assert(backend_compiled(backend::scalar));
