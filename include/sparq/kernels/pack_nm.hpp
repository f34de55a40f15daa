// N:M weights packed for the kernels: panels of `nr` output rows (the SIMD kernel's width),
// and in each panel, per group of m along K and per kept slot, the nr rows' values and their
// positions in the group, side by side, in the order the micro-kernel reads them. Made once
// from a sparse::nm_matrix (like pack_weights for dense weights); rows past N are zero.
#pragma once

#include <cstdint>

#include "sparq/core/tensor.hpp"
#include "sparq/sparse/nm.hpp"

namespace sparq::kernels {

struct nm_packed {
    index_t rows = 0, cols = 0, n = 0, m = 0, nr = 0;
    tensor<float, 1> values;              // [panels, groups, n, nr]
    tensor<std::uint8_t, 1> position;     // the same shape

    index_t groups() const noexcept { return m > 0 ? cols / m : 0; }
    index_t panels() const noexcept { return nr > 0 ? (rows + nr - 1) / nr : 0; }
    index_t nnz() const noexcept { return rows * groups() * n; }  // padding rows not counted
    std::size_t index_bytes() const noexcept { return std::size_t(nnz()); }
    const float* panel_values(index_t p) const noexcept { return values.data() + p * groups() * n * nr; }
    const std::uint8_t* panel_position(index_t p) const noexcept { return position.data() + p * groups() * n * nr; }
};

inline result<nm_packed> pack_nm(const sparse::nm_matrix<float>& w, index_t nr) noexcept {
    if (nr < 1) return status(errc::invalid_argument, "pack_nm: panel width %td must be >= 1", nr);
    nm_packed p;
    p.rows = w.rows;
    p.cols = w.cols;
    p.n = w.n;
    p.m = w.m;
    p.nr = nr;
    const index_t count = p.panels() * p.groups() * p.n * nr;
    auto va = tensor<float, 1>::make({count});
    auto po = tensor<std::uint8_t, 1>::make({count});
    if (!va) return va.error();
    if (!po) return po.error();
    for (index_t r = 0; r < w.rows; ++r)
        for (index_t g = 0; g < p.groups(); ++g)
            for (index_t s = 0; s < p.n; ++s) {
                const index_t from = (r * p.groups() + g) * p.n + s;
                const index_t to = (((r / nr) * p.groups() + g) * p.n + s) * nr + r % nr;
                (*va)(to) = w.values(from);
                (*po)(to) = w.position(from);
            }
    p.values = std::move(*va);
    p.position = std::move(*po);
    return p;
}

}  // namespace sparq::kernels
