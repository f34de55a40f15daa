// CSR (compressed sparse row) weights: for an [N, K] weight, the kept values of each output
// row in column order, their column indices, and where each row starts. Built from a dense
// weight and a mask (every kept position is stored, even a kept zero), or from the nonzeros.
//
// Storage, in bytes: nnz * sizeof(V) (values) + nnz * sizeof(I) (column indices)
//                    + (N + 1) * 4 (row starts)                    -- storage_bytes()
// With 16-bit column indices (K <= 65536) a 90%-sparse int8 layer takes 0.1 + 0.2 bytes per
// dense weight (+ the row starts): 0.075x its fp32 dense bytes.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "sparq/core/tensor.hpp"
#include "sparq/prune/mask.hpp"

namespace sparq::sparse {

template <class V, class I = std::uint16_t>
struct csr {
    static_assert(std::is_same_v<I, std::uint16_t> || std::is_same_v<I, std::uint32_t>, "column indices are 16 or 32 bits");
    using value_type = V;
    using index_type = I;

    index_t rows = 0, cols = 0;
    tensor<std::uint32_t, 1> row_start;  // rows + 1 entries; row r is [row_start[r], row_start[r + 1])
    tensor<I, 1> col;
    tensor<V, 1> values;

    index_t nnz() const noexcept { return values.size(); }
    std::size_t index_bytes() const noexcept { return std::size_t(nnz()) * sizeof(I) + std::size_t(rows + 1) * sizeof(std::uint32_t); }
    std::size_t storage_bytes() const noexcept { return std::size_t(nnz()) * sizeof(V) + index_bytes(); }
    static std::size_t storage_formula(index_t rows, index_t nnz) noexcept {
        return std::size_t(nnz) * (sizeof(V) + sizeof(I)) + std::size_t(rows + 1) * sizeof(std::uint32_t);
    }

    // The dense weight back (pruned positions 0).
    status to_dense(const matrix_view<V>& out) const noexcept {
        if (out.extent(0) != rows || out.extent(1) != cols)
            return status(errc::shape_mismatch, "csr::to_dense: output [%td, %td] for a [%td, %td] weight", out.extent(0),
                          out.extent(1), rows, cols);
        for (index_t r = 0; r < rows; ++r) {
            for (index_t c = 0; c < cols; ++c) out(r, c) = V(0);
            for (std::uint32_t j = row_start(r); j < row_start(r + 1); ++j) out(r, index_t(col(j))) = values(j);
        }
        return status::success();
    }
};

namespace detail {

template <class I>
status check_index_range(index_t cols, const char* op) noexcept {
    if (cols - 1 <= index_t(std::numeric_limits<I>::max())) return status::success();
    return status(errc::overflow, "%s: %td columns do not fit %zu-bit indices (use 32-bit indices)", op, cols, sizeof(I) * 8);
}

// A CSR from whichever positions keep(r, c) says.
template <class V, class I, class Keep>
result<csr<V, I>> build_csr(const matrix_view<const V>& w, Keep&& keep) noexcept {
    SPARQ_TRY(check_index_range<I>(w.extent(1), "make_csr"));
    index_t nnz = 0;
    for (index_t r = 0; r < w.extent(0); ++r)
        for (index_t c = 0; c < w.extent(1); ++c) nnz += keep(r, c) ? 1 : 0;
    if (nnz > index_t(std::numeric_limits<std::uint32_t>::max()))
        return status(errc::overflow, "make_csr: %td nonzeros do not fit 32-bit row starts", nnz);
    csr<V, I> s;
    s.rows = w.extent(0);
    s.cols = w.extent(1);
    auto rs = tensor<std::uint32_t, 1>::make({s.rows + 1});
    auto ci = tensor<I, 1>::make({nnz});
    auto va = tensor<V, 1>::make({nnz});
    if (!rs) return rs.error();
    if (!ci) return ci.error();
    if (!va) return va.error();
    index_t j = 0;
    for (index_t r = 0; r < s.rows; ++r) {
        (*rs)(r) = std::uint32_t(j);
        for (index_t c = 0; c < s.cols; ++c)
            if (keep(r, c)) {
                (*ci)(j) = I(c);
                (*va)(j) = w(r, c);
                ++j;
            }
    }
    (*rs)(s.rows) = std::uint32_t(j);
    s.row_start = std::move(*rs);
    s.col = std::move(*ci);
    s.values = std::move(*va);
    return s;
}

}  // namespace detail

// The positions the mask keeps.
template <class V, class I = std::uint16_t>
result<csr<V, I>> make_csr(const matrix_view<const V>& w, const prune::mask_view<2>& m) noexcept {
    SPARQ_TRY(check_same_shape(w, m, "make_csr"));
    return detail::build_csr<V, I>(w, [&m](index_t r, index_t c) { return m(r, c) != 0; });
}
// The nonzeros (a weight already masked).
template <class V, class I = std::uint16_t>
result<csr<V, I>> make_csr(const matrix_view<const V>& w) noexcept {
    return detail::build_csr<V, I>(w, [&w](index_t r, index_t c) { return w(r, c) != V(0); });
}

}  // namespace sparq::sparse
