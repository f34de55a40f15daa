// Extents and strides: the integer arithmetic every view and tensor relies on, with the
// overflow and sign checks that turn a bad shape into a status instead of a wild pointer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "sparq/core/status.hpp"

namespace sparq {

// Signed, like mdspan's default and Eigen's Index: strides may be negative and differences of
// indices are natural. Extents must be >= 0.
using index_t = std::ptrdiff_t;

template <std::size_t Rank>
using extents_t = std::array<index_t, Rank>;

// a * b, or false when it overflows index_t.
constexpr bool checked_mul(index_t a, index_t b, index_t& out) noexcept {
    return !__builtin_mul_overflow(a, b, &out);
}
constexpr bool checked_add(index_t a, index_t b, index_t& out) noexcept {
    return !__builtin_add_overflow(a, b, &out);
}

// Writes "[2, 3, 4]" into buf; used by messages that name a shape.
template <std::size_t Rank>
const char* format_extents(const extents_t<Rank>& e, char* buf, std::size_t size) noexcept {
    std::size_t used = 0;
    auto put = [&](const char* s, long long v, bool with_value) {
        if (used >= size) return;
        int n = with_value ? std::snprintf(buf + used, size - used, "%s%lld", s, v)
                           : std::snprintf(buf + used, size - used, "%s", s);
        if (n > 0) used += static_cast<std::size_t>(n);
    };
    put("[", 0, false);
    for (std::size_t i = 0; i < Rank; ++i) put(i ? ", " : "", static_cast<long long>(e[i]), true);
    put("]", 0, false);
    return buf;
}

// Number of elements, or a status when an extent is negative or a product overflows. The
// product of the non-zero extents is checked too: it is the row-major strides' range, and a
// shape like [0, 2^40, 2^40] has no elements but strides that do not fit.
template <std::size_t Rank>
result<index_t> checked_element_count(const extents_t<Rank>& e) noexcept {
    index_t n = 1, span = 1;
    for (std::size_t i = 0; i < Rank; ++i) {
        if (e[i] < 0) {
            char s[128];
            return status(errc::invalid_argument, "extent %zu of shape %s is negative", i,
                          format_extents(e, s, sizeof s));
        }
        if (!checked_mul(span, e[i] > 0 ? e[i] : 1, span)) {
            char s[128];
            return status(errc::overflow, "shape %s has more elements than index_t can count",
                          format_extents(e, s, sizeof s));
        }
        n *= e[i];  // <= span: cannot overflow
    }
    return n;
}

// Row-major (C order) strides for the extents: the last dimension is contiguous.
// Callers validate the extents first (checked_element_count bounds every product used here).
template <std::size_t Rank>
constexpr extents_t<Rank> row_major_strides(const extents_t<Rank>& e) noexcept {
    extents_t<Rank> s{};
    index_t step = 1;
    for (std::size_t i = Rank; i-- > 0;) {
        s[i] = step;
        step *= e[i] > 0 ? e[i] : 1;
    }
    return s;
}

// The smallest and largest element offsets a (non-empty) strided layout touches, checked
// for overflow: what a buffer must cover for the view to be safe.
template <std::size_t Rank>
status checked_offset_span(const extents_t<Rank>& e, const extents_t<Rank>& s, index_t& lo,
                           index_t& hi) noexcept {
    lo = 0;
    hi = 0;
    for (std::size_t i = 0; i < Rank; ++i) {
        if (e[i] == 0) {
            hi = -1;  // empty: touches nothing
            return status::success();
        }
    }
    for (std::size_t i = 0; i < Rank; ++i) {
        index_t reach = 0;
        if (!checked_mul(e[i] - 1, s[i], reach))
            return status(errc::overflow, "extent %zu (%td) times stride %td overflows", i, e[i], s[i]);
        if (!checked_add(reach < 0 ? lo : hi, reach, reach < 0 ? lo : hi))
            return status(errc::overflow, "offset of the last element in dimension %zu overflows", i);
    }
    return status::success();
}

}  // namespace sparq
