// 64-byte aligned heap blocks: one cache line, one AVX-512 register. Allocation failure is a
// null pointer (never an exception), so it works under -fno-exceptions.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

#include "sparq/core/config.hpp"

namespace sparq {

inline void* aligned_allocate(std::size_t bytes, std::size_t alignment = default_alignment) noexcept {
    if (bytes == 0) return nullptr;
    return ::operator new(bytes, std::align_val_t(alignment), std::nothrow);
}

inline void aligned_free(void* p, std::size_t alignment = default_alignment) noexcept {
    if (p) ::operator delete(p, std::align_val_t(alignment));
}

struct aligned_deleter {
    void operator()(void* p) const noexcept { aligned_free(p); }
};

using aligned_block = std::unique_ptr<std::byte, aligned_deleter>;

}  // namespace sparq
