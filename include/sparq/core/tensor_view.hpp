// tensor_view<T, Rank>: a non-owning pointer + extents + strides, in elements (mdspan-like).
// A cheap value type (trivially copyable): pass it by value, slice it, transpose it; it never
// allocates. Kernels take views; whoever owns the memory (a tensor, an arena, a static array
// on a microcontroller) hands them out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "sparq/core/config.hpp"
#include "sparq/core/shape.hpp"
#include "sparq/core/status.hpp"

namespace sparq {

// A path that needs aligned data (an aligned SIMD load, a oneDNN buffer) checks it with this.
inline status check_aligned(const void* p, std::size_t alignment, const char* what) noexcept {
    if (alignment == 0 || (reinterpret_cast<std::uintptr_t>(p) % alignment) == 0) return status::success();
    return status(errc::misaligned, "%s: address %p is not %zu-byte aligned (off by %zu)", what, p,
                  alignment, static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(p) % alignment));
}

template <class T, std::size_t Rank>
class tensor_view {
    static_assert(Rank >= 1, "tensor_view needs rank >= 1; use T& for a scalar");

public:
    using element_type = T;
    using value_type = std::remove_cv_t<T>;
    using extents_type = extents_t<Rank>;
    static constexpr std::size_t rank = Rank;

    constexpr tensor_view() noexcept = default;  // empty: null data, all extents 0

    // Trusted constructors for callers that built the layout themselves (row-major when no
    // strides are given). Preconditions (checked in debug builds): extents >= 0, and data
    // non-null unless the view is empty. Untrusted shapes go through make().
    constexpr tensor_view(T* data, const extents_type& extents) noexcept
        : data_(data), extents_(extents), strides_(row_major_strides(extents)) {
        check_invariants();
    }
    constexpr tensor_view(T* data, const extents_type& extents, const extents_type& strides) noexcept
        : data_(data), extents_(extents), strides_(strides) {
        check_invariants();
    }

    // A view of `buffer_elements` elements at `data`, checked: extents >= 0, no overflow, and
    // every element the view can reach lies inside the buffer. Row-major unless strides given.
    static result<tensor_view> make(T* data, index_t buffer_elements, const extents_type& extents) noexcept {
        auto count = checked_element_count(extents);  // before the strides: they multiply extents
        if (!count) return count.error();
        return make(data, buffer_elements, extents, row_major_strides(extents));
    }
    static result<tensor_view> make(T* data, index_t buffer_elements, const extents_type& extents,
                                    const extents_type& strides) noexcept {
        auto count = checked_element_count(extents);
        if (!count) return count.error();
        index_t lo = 0, hi = 0;
        if (status s = checked_offset_span(extents, strides, lo, hi); !s) return s;
        if (*count == 0) return tensor_view(data, extents, strides);
        char shape[128];
        if (data == nullptr)
            return status(errc::invalid_argument, "null data for a view of shape %s",
                          format_extents(extents, shape, sizeof shape));
        if (status s = check_aligned(data, alignof(T), "tensor_view::make"); !s) return s;
        if (lo < 0 || hi >= buffer_elements)
            return status(errc::out_of_range,
                          "view of shape %s reaches elements [%td, %td] of a buffer of %td elements",
                          format_extents(extents, shape, sizeof shape), lo, hi, buffer_elements);
        return tensor_view(data, extents, strides);
    }

    // A view over the same elements as const: implicit, like T* -> const T*.
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_const_v<U>>>
    constexpr tensor_view(const tensor_view<U, Rank>& other) noexcept
        : data_(other.data()), extents_(other.extents()), strides_(other.strides()) {}

    constexpr T* data() const noexcept { return data_; }
    constexpr const extents_type& extents() const noexcept { return extents_; }
    constexpr const extents_type& strides() const noexcept { return strides_; }
    constexpr index_t extent(std::size_t dim) const noexcept { return extents_[dim]; }
    constexpr index_t stride(std::size_t dim) const noexcept { return strides_[dim]; }

    constexpr index_t size() const noexcept {
        index_t n = 1;
        for (index_t e : extents_) n *= e;
        return n;
    }
    constexpr bool empty() const noexcept { return size() == 0; }

    // Dense row-major: elements are data()[0 .. size()-1] in order. Strides of extent-1
    // dimensions do not matter (as in mdspan's layout_right mapping check).
    constexpr bool is_contiguous() const noexcept {
        index_t expect = 1;
        for (std::size_t i = Rank; i-- > 0;) {
            if (extents_[i] != 1 && strides_[i] != expect) return empty();
            expect *= extents_[i];
        }
        return true;
    }

    template <class... I>
    constexpr T& operator()(I... idx) const noexcept {
        static_assert(sizeof...(I) == Rank, "one index per dimension");
        const index_t ix[Rank] = {static_cast<index_t>(idx)...};
        index_t off = 0;
        for (std::size_t d = 0; d < Rank; ++d) {
            SPARQ_CHECK(ix[d] >= 0 && ix[d] < extents_[d], "tensor_view index out of bounds");
            off += ix[d] * strides_[d];
        }
        return data_[off];
    }
    constexpr T& operator[](const extents_type& ix) const noexcept {
        index_t off = 0;
        for (std::size_t d = 0; d < Rank; ++d) {
            SPARQ_CHECK(ix[d] >= 0 && ix[d] < extents_[d], "tensor_view index out of bounds");
            off += ix[d] * strides_[d];
        }
        return data_[off];
    }

    // Elements [begin, end) of dimension `dim`, every `step`-th: the same rank, a new view.
    constexpr tensor_view slice(std::size_t dim, index_t begin, index_t end, index_t step = 1) const noexcept {
        SPARQ_CHECK(dim < Rank, "slice: no such dimension");
        SPARQ_CHECK(0 <= begin && begin <= end && end <= extents_[dim], "slice: range out of bounds");
        SPARQ_CHECK(step >= 1, "slice: step must be >= 1");
        tensor_view v = *this;
        v.extents_[dim] = end > begin ? (end - begin - 1) / step + 1 : 0;
        index_t stride = 0;
        const bool fits = checked_mul(strides_[dim], step, stride);
        SPARQ_CHECK(fits, "slice: step times stride overflows");
        v.strides_[dim] = fits ? stride : strides_[dim];
        v.data_ = v.empty() ? data_ : data_ + begin * strides_[dim];  // no arithmetic on an empty view's pointer
        return v;
    }

    // Fix dimension `dim` at `index`: one rank less (torch.select, Eigen's chip).
    template <std::size_t R = Rank, class = std::enable_if_t<(R > 1)>>
    constexpr tensor_view<T, Rank - 1> select(std::size_t dim, index_t index) const noexcept {
        SPARQ_CHECK(dim < Rank, "select: no such dimension");
        SPARQ_CHECK(index >= 0 && index < extents_[dim], "select: index out of bounds");
        extents_t<Rank - 1> e{}, s{};
        for (std::size_t i = 0, j = 0; i < Rank; ++i) {
            if (i == dim) continue;
            e[j] = extents_[i];
            s[j] = strides_[i];
            ++j;
        }
        return tensor_view<T, Rank - 1>(empty() ? data_ : data_ + index * strides_[dim], e, s);
    }
    template <std::size_t R = Rank, class = std::enable_if_t<(R > 1)>>
    constexpr tensor_view<T, Rank - 1> row(index_t i) const noexcept { return select(0, i); }

    // Swap two dimensions (no data moves): a 2-D transpose is transpose(0, 1).
    constexpr tensor_view transpose(std::size_t a, std::size_t b) const noexcept {
        SPARQ_CHECK(a < Rank && b < Rank, "transpose: no such dimension");
        tensor_view v = *this;
        std::swap(v.extents_[a], v.extents_[b]);
        std::swap(v.strides_[a], v.strides_[b]);
        return v;
    }

    // The same elements under a new row-major shape with the same element count; only a
    // contiguous view can be reshaped without copying.
    template <std::size_t R2>
    result<tensor_view<T, R2>> reshape(const extents_t<R2>& extents) const noexcept {
        auto count = checked_element_count(extents);
        if (!count) return count.error();
        char a[128], b[128];
        if (*count != size())
            return status(errc::shape_mismatch, "cannot reshape %s (%td elements) to %s (%td elements)",
                          format_extents(extents_, a, sizeof a), size(),
                          format_extents(extents, b, sizeof b), *count);
        if (!is_contiguous())
            return status(errc::invalid_argument, "cannot reshape a non-contiguous view of shape %s",
                          format_extents(extents_, a, sizeof a));
        return tensor_view<T, R2>(data_, extents);
    }

    constexpr tensor_view<const T, Rank> as_const() const noexcept { return *this; }

private:
    constexpr void check_invariants() const noexcept {
        bool non_empty = true;
        for (index_t e : extents_) {
            SPARQ_CHECK(e >= 0, "tensor_view: negative extent");
            non_empty = non_empty && e > 0;
        }
        SPARQ_CHECK(!non_empty || data_ != nullptr, "tensor_view: null data for a non-empty view");
        (void)non_empty;
    }

    T* data_ = nullptr;
    extents_type extents_{};
    extents_type strides_{};
};

template <class T> using vector_view = tensor_view<T, 1>;
template <class T> using matrix_view = tensor_view<T, 2>;

// Two views have the same extents (messages name both shapes).
template <class T, class U, std::size_t Rank>
status check_same_shape(const tensor_view<T, Rank>& a, const tensor_view<U, Rank>& b, const char* what) noexcept {
    if (a.extents() == b.extents()) return status::success();
    char sa[128], sb[128];
    return status(errc::shape_mismatch, "%s: shapes %s and %s differ", what,
                  format_extents(a.extents(), sa, sizeof sa), format_extents(b.extents(), sb, sizeof sb));
}

}  // namespace sparq
