// tensor<T, Rank>: owns a 64-byte aligned, row-major block and hands out views. Move-only
// (copies are explicit: clone()); made through make(), which checks the shape and the
// allocation and says what went wrong instead of throwing.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "sparq/core/aligned_memory.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq {

template <class T, std::size_t Rank>
class tensor {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                  "tensor holds plain numeric elements");

public:
    using value_type = T;
    using extents_type = extents_t<Rank>;
    static constexpr std::size_t rank = Rank;

    tensor() noexcept = default;  // empty, no memory
    // A moved-from tensor is empty (no memory, all extents 0), never a shape without data.
    tensor(tensor&& o) noexcept : block_(std::move(o.block_)), extents_(std::exchange(o.extents_, extents_type{})) {}
    tensor& operator=(tensor&& o) noexcept {
        block_ = std::move(o.block_);
        extents_ = std::exchange(o.extents_, extents_type{});
        return *this;
    }
    tensor(const tensor&) = delete;
    tensor& operator=(const tensor&) = delete;

    // A zero-filled tensor of the given shape; the shape is validated (negative extents, element
    // or byte counts that overflow) and so is the allocation. `max_bytes` bounds what untrusted
    // shapes (from a file) may allocate.
    static result<tensor> make(const extents_type& extents,
                               std::size_t max_bytes = static_cast<std::size_t>(-1) / 2) noexcept {
        auto count = checked_element_count(extents);
        if (!count) return count.error();
        char shape[128];
        index_t bytes = 0;
        if (!checked_mul(*count, static_cast<index_t>(sizeof(T)), bytes))
            return status(errc::overflow, "tensor of shape %s: its byte count overflows",
                          format_extents(extents, shape, sizeof shape));
        if (static_cast<std::size_t>(bytes) > max_bytes)
            return status(errc::out_of_memory, "tensor of shape %s needs %td bytes, more than the limit of %zu",
                          format_extents(extents, shape, sizeof shape), bytes, max_bytes);
        tensor t;
        t.extents_ = extents;
        if (bytes > 0) {
            t.block_.reset(static_cast<std::byte*>(aligned_allocate(static_cast<std::size_t>(bytes))));
            if (!t.block_)
                return status(errc::out_of_memory, "could not allocate %td bytes for a tensor of shape %s",
                              bytes, format_extents(extents, shape, sizeof shape));
            std::memset(t.block_.get(), 0, static_cast<std::size_t>(bytes));
        }
        return t;
    }

    // A tensor holding a copy of the view's elements (any strides), row-major. Only conversions
    // that are defined for every value: the same type, or into a floating-point type (a float
    // to an integer would be undefined for NaN and out-of-range values: quantize instead).
    template <class U>
    static result<tensor> copy_of(const tensor_view<U, Rank>& v) noexcept {
        static_assert(std::is_same_v<std::remove_cv_t<U>, T> || std::is_floating_point_v<T>,
                      "copy_of converts only to the same type or to a floating-point type");
        auto t = make(v.extents());
        if (!t) return t;
        copy_elements(v, t->view());
        return t;
    }

    result<tensor> clone() const noexcept { return copy_of(view()); }

    T* data() noexcept { return reinterpret_cast<T*>(block_.get()); }
    const T* data() const noexcept { return reinterpret_cast<const T*>(block_.get()); }
    const extents_type& extents() const noexcept { return extents_; }
    index_t extent(std::size_t dim) const noexcept { return extents_[dim]; }
    index_t size() const noexcept {
        index_t n = 1;
        for (index_t e : extents_) n *= e;
        return n;
    }
    bool empty() const noexcept { return size() == 0; }

    tensor_view<T, Rank> view() noexcept { return {data(), extents_}; }
    tensor_view<const T, Rank> view() const noexcept { return {data(), extents_}; }
    tensor_view<const T, Rank> cview() const noexcept { return view(); }

    template <class... I>
    T& operator()(I... idx) noexcept { return view()(idx...); }
    template <class... I>
    const T& operator()(I... idx) const noexcept { return view()(idx...); }

    void fill(const T& value) noexcept {
        T* p = data();
        for (index_t i = 0, n = size(); i < n; ++i) p[i] = value;
    }

private:
    template <class U>
    static void copy_elements(const tensor_view<U, Rank>& from, const tensor_view<T, Rank>& to) noexcept {
        if (from.empty()) return;
        if constexpr (Rank == 1) {
            for (index_t i = 0; i < from.extent(0); ++i) to(i) = static_cast<T>(from(i));
        } else {
            for (index_t i = 0; i < from.extent(0); ++i) tensor<T, Rank - 1>::copy_rows(from.row(i), to.row(i));
        }
    }
    template <class, std::size_t> friend class tensor;
    template <class U>
    static void copy_rows(const tensor_view<U, Rank>& from, const tensor_view<T, Rank>& to) noexcept {
        copy_elements(from, to);
    }

    aligned_block block_;
    extents_type extents_{};
};

}  // namespace sparq
