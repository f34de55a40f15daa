// for_each_row: visit a view of any rank as its 1-D rows (the last dimension), with the leading
// indices of each row. Element-wise operations are written once over a row (contiguous rows
// take the SIMD path) and work on every rank and stride pattern through this.
#pragma once

#include <cstddef>

#include "sparq/core/tensor_view.hpp"

namespace sparq {

namespace detail {
template <std::size_t Rank>
index_t leading_rows(const extents_t<Rank>& e) noexcept {
    index_t rows = 1;
    for (std::size_t d = 0; d + 1 < Rank; ++d) rows *= e[d];
    return rows;
}
// The leading indices of row r (row-major over dimensions 0 .. Rank-2).
template <std::size_t Rank>
extents_t<Rank> row_index(const extents_t<Rank>& e, index_t r) noexcept {
    extents_t<Rank> idx{};
    for (std::size_t d = Rank - 1; d-- > 0;) {
        idx[d] = r % e[d];
        r /= e[d];
    }
    return idx;
}
}  // namespace detail

// The row of v at the leading indices idx (idx[Rank-1] is ignored).
template <class T, std::size_t Rank>
vector_view<T> row_at(const tensor_view<T, Rank>& v, const extents_t<Rank>& idx) noexcept {
    index_t off = 0;
    for (std::size_t d = 0; d + 1 < Rank; ++d) off += idx[d] * v.stride(d);
    return vector_view<T>(v.data() + off, {v.extent(Rank - 1)}, {v.stride(Rank - 1)});
}

// A row's index along `axis`, for a leading axis (0 <= axis < Rank - 1); 0 otherwise (the last
// axis varies inside the row).
template <std::size_t Rank>
index_t row_index_along(const extents_t<Rank>& idx, int axis) noexcept {
    if constexpr (Rank == 1) {
        (void)idx, (void)axis;
        return 0;
    } else {
        return axis >= 0 && axis < int(Rank) - 1 ? idx[std::size_t(axis)] : 0;
    }
}

// f(vector_view<T> row, const extents_t<Rank>& index) for each row; index[Rank-1] is 0.
template <class T, std::size_t Rank, class F>
void for_each_row(const tensor_view<T, Rank>& v, F&& f) {
    if (v.empty()) return;
    const index_t rows = detail::leading_rows(v.extents());
    for (index_t r = 0; r < rows; ++r) {
        const auto idx = detail::row_index(v.extents(), r);
        f(row_at(v, idx), idx);
    }
}

// The same over two views of equal extents (the caller checks): f(row_a, row_b, index).
template <class A, class B, std::size_t Rank, class F>
void for_each_row(const tensor_view<A, Rank>& a, const tensor_view<B, Rank>& b, F&& f) {
    if (a.empty()) return;
    const index_t rows = detail::leading_rows(a.extents());
    for (index_t r = 0; r < rows; ++r) {
        const auto idx = detail::row_index(a.extents(), r);
        f(row_at(a, idx), row_at(b, idx), idx);
    }
}

}  // namespace sparq
