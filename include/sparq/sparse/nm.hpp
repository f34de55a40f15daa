// N:M packed weights: an [N_out, K] weight whose mask keeps exactly n of every m consecutive
// weights along K (prune/nm.hpp), stored as the n kept values of each group and, per value,
// its position inside the group (one byte; 2 bits would do for m = 4, but a byte is what the
// kernels load and widen in one instruction).
//
// Storage, in bytes: N_out * K / m * n * (sizeof(V) + 1)             -- storage_bytes()
// 2:4 fp32: 0.625x the dense bytes; 2:4 int8: 0.5 bytes per weight.
#pragma once

#include <cstdint>

#include "sparq/core/tensor.hpp"
#include "sparq/prune/mask.hpp"
#include "sparq/prune/nm.hpp"

namespace sparq::sparse {

template <class V>
struct nm_matrix {
    using value_type = V;

    index_t rows = 0, cols = 0, n = 0, m = 0;
    tensor<V, 1> values;              // [rows, cols / m, n], row-major
    tensor<std::uint8_t, 1> position;  // the same shape: 0 .. m-1, increasing inside a group

    index_t groups() const noexcept { return m > 0 ? cols / m : 0; }
    index_t nnz() const noexcept { return values.size(); }
    std::size_t index_bytes() const noexcept { return std::size_t(position.size()); }
    std::size_t storage_bytes() const noexcept { return std::size_t(nnz()) * sizeof(V) + index_bytes(); }
    static std::size_t storage_formula(index_t rows, index_t cols, index_t n, index_t m) noexcept {
        return std::size_t(rows * (cols / m) * n) * (sizeof(V) + 1);
    }

    status to_dense(const matrix_view<V>& out) const noexcept {
        if (out.extent(0) != rows || out.extent(1) != cols)
            return status(errc::shape_mismatch, "nm_matrix::to_dense: output [%td, %td] for a [%td, %td] weight",
                          out.extent(0), out.extent(1), rows, cols);
        for (index_t r = 0; r < rows; ++r) {
            for (index_t c = 0; c < cols; ++c) out(r, c) = V(0);
            for (index_t g = 0; g < groups(); ++g)
                for (index_t s = 0; s < n; ++s) {
                    const index_t j = (r * groups() + g) * n + s;
                    out(r, g * m + position(j)) = values(j);
                }
        }
        return status::success();
    }
};

// From a dense weight and an n:m mask (exactly n kept in every group, else invalid_argument).
template <class V>
result<nm_matrix<V>> make_nm(const matrix_view<const V>& w, const prune::mask_view<2>& mk, index_t n, index_t m) noexcept {
    SPARQ_TRY(check_same_shape(w, mk, "make_nm"));
    SPARQ_TRY(prune::check_nm(n, m, w.extent(1), "make_nm"));
    SPARQ_TRY(prune::detail::check_contiguous(mk, "the mask", "make_nm"));
    if (!prune::is_nm(mk, n, m))
        return status(errc::invalid_argument, "make_nm: the mask does not keep exactly %td of every %td weights along K", n, m);
    nm_matrix<V> s;
    s.rows = w.extent(0);
    s.cols = w.extent(1);
    s.n = n;
    s.m = m;
    const index_t count = s.rows * s.groups() * n;
    auto va = tensor<V, 1>::make({count});
    auto po = tensor<std::uint8_t, 1>::make({count});
    if (!va) return va.error();
    if (!po) return po.error();
    index_t j = 0;
    for (index_t r = 0; r < s.rows; ++r)
        for (index_t c = 0; c < s.cols; ++c)
            if (mk(r, c)) {
                (*va)(j) = w(r, c);
                (*po)(j) = std::uint8_t(c % m);
                ++j;
            }
    s.values = std::move(*va);
    s.position = std::move(*po);
    return s;
}

}  // namespace sparq::sparse
