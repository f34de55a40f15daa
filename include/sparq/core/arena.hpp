// arena: scratch memory for kernels, handed out by bumping a pointer. The caller owns it:
// heap-backed on a PC (one allocation, up front), or over a static buffer on a microcontroller
// (no heap at all). It never grows: a request that does not fit gets a status, so a kernel's
// memory use is bounded by what the caller decided.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "sparq/core/aligned_memory.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq {

class arena {
public:
    arena() noexcept = default;  // no memory: every request fails cleanly

    // Over a caller's buffer (e.g. `static std::byte buf[32768];`); sparq never frees it.
    arena(void* buffer, std::size_t bytes) noexcept
        : base_(static_cast<std::byte*>(buffer)), capacity_(buffer ? bytes : 0) {}

    // Heap-backed, one aligned block of `bytes`.
    static result<arena> with_capacity(std::size_t bytes) noexcept {
        arena a;
        if (bytes == 0) return a;
        a.owned_.reset(static_cast<std::byte*>(aligned_allocate(bytes)));
        if (!a.owned_) return status(errc::out_of_memory, "arena: could not allocate %zu bytes", bytes);
        a.base_ = a.owned_.get();
        a.capacity_ = bytes;
        return a;
    }

    arena(arena&& o) noexcept { *this = std::move(o); }
    arena& operator=(arena&& o) noexcept {
        owned_ = std::move(o.owned_);
        base_ = std::exchange(o.base_, nullptr);
        capacity_ = std::exchange(o.capacity_, 0);
        used_ = std::exchange(o.used_, 0);
        peak_ = std::exchange(o.peak_, 0);
        return *this;
    }
    arena(const arena&) = delete;
    arena& operator=(const arena&) = delete;

    // `bytes` at `alignment` (a power of two), or nullptr when they do not fit or the alignment
    // is not a power of two.
    void* allocate(std::size_t bytes, std::size_t alignment = default_alignment) noexcept {
        if (!can_allocate(bytes, alignment)) return nullptr;
        const std::size_t pad = padding(alignment);
        void* p = base_ + used_ + pad;
        used_ += pad + bytes;
        if (used_ > peak_) peak_ = used_;
        return p;
    }

    // Whether allocate(bytes, alignment) would succeed, padding included.
    bool can_allocate(std::size_t bytes, std::size_t alignment = default_alignment) const noexcept {
        if (base_ == nullptr || alignment == 0 || (alignment & (alignment - 1)) != 0) return false;
        const std::size_t pad = padding(alignment);
        return pad <= capacity_ - used_ && bytes <= capacity_ - used_ - pad;
    }

    // A row-major view of fresh (uninitialised) elements, or a status naming the shortfall. The
    // alignment is at least alignof(T).
    template <class T, std::size_t Rank>
    result<tensor_view<T, Rank>> allocate_view(const extents_t<Rank>& extents,
                                               std::size_t alignment = default_alignment) noexcept {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            return status(errc::invalid_argument, "arena: alignment %zu is not a power of two", alignment);
        if (alignment < alignof(T)) alignment = alignof(T);
        auto count = checked_element_count(extents);
        if (!count) return count.error();
        index_t bytes = 0;
        char shape[128];
        if (!checked_mul(*count, static_cast<index_t>(sizeof(T)), bytes))
            return status(errc::overflow, "arena: byte count of shape %s overflows",
                          format_extents(extents, shape, sizeof shape));
        void* p = allocate(static_cast<std::size_t>(bytes), alignment);
        if (p == nullptr && bytes > 0)
            return status(errc::out_of_memory, "arena: %td bytes for shape %s do not fit (%zu of %zu bytes free)",
                          bytes, format_extents(extents, shape, sizeof shape), capacity_ - used_, capacity_);
        return tensor_view<T, Rank>(static_cast<T*>(p), extents);
    }

    // Stack discipline: mark, allocate, release back to the mark.
    using marker = std::size_t;
    marker mark() const noexcept { return used_; }
    void release(marker m) noexcept {
        SPARQ_CHECK(m <= used_, "arena: release to a marker above the current top");
        used_ = m;
    }
    void reset() noexcept { used_ = 0; }

    // Releases everything allocated in its lifetime when it goes out of scope.
    class scope {
    public:
        explicit scope(arena& a) noexcept : arena_(a), mark_(a.mark()) {}
        ~scope() { arena_.release(mark_); }
        scope(const scope&) = delete;
        scope& operator=(const scope&) = delete;

    private:
        arena& arena_;
        marker mark_;
    };

    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t used() const noexcept { return used_; }
    std::size_t available() const noexcept { return capacity_ - used_; }
    std::size_t peak() const noexcept { return peak_; }  // high-water mark: size your static buffer from it

private:
    std::size_t padding(std::size_t alignment) const noexcept {
        const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(base_) + used_;
        return static_cast<std::size_t>((alignment - start % alignment) % alignment);
    }

    aligned_block owned_;
    std::byte* base_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t used_ = 0;
    std::size_t peak_ = 0;
};

inline status context::require_scratch(std::size_t bytes, const char* what, std::size_t alignment) const noexcept {
    if (scratch == nullptr)
        return status(errc::invalid_argument, "%s needs %zu bytes of scratch memory: give the context an arena",
                      what, bytes);
    if (!scratch->can_allocate(bytes, alignment))
        return status(errc::out_of_memory, "%s needs %zu bytes of scratch memory at %zu-byte alignment; the arena has %zu of %zu free",
                      what, bytes, alignment, scratch->available(), scratch->capacity());
    return status::success();
}

}  // namespace sparq
