// The oneDNN data type of a C++ element type, for the backend's memory descriptors.
#pragma once

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>

#include <cstdint>
#include <type_traits>

namespace sparq::kernels::dnnl_backend {

template <class T>
constexpr ::dnnl::memory::data_type data_type_of() noexcept {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t> ||
                      std::is_same_v<T, std::int32_t>,
                  "f32, s8, u8 or s32");
    if constexpr (std::is_same_v<T, float>) return ::dnnl::memory::data_type::f32;
    else if constexpr (std::is_same_v<T, std::int8_t>) return ::dnnl::memory::data_type::s8;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return ::dnnl::memory::data_type::u8;
    else return ::dnnl::memory::data_type::s32;
}

}  // namespace sparq::kernels::dnnl_backend
#endif
