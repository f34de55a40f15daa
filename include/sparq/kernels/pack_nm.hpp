// N:M weights packed for the kernels, made once from a sparse::nm_matrix (like pack_weights
// for dense weights), in one of two layouts chosen for the batch the layer runs at:
//
// - nm_layout::panels (few activation rows, e.g. a matvec): panels of `nr` output rows (the
//   SIMD kernel's width); in each panel, per group of m along K and per kept slot, the nr rows'
//   values and their positions in the group, side by side. The kernel gives each output row a
//   lane and picks its activation with a lane permutation. Rows past N are zero.
// - nm_layout::rows (16 activation rows or more, e.g. a matmul over tokens or pixels): K in
//   blocks of `block_groups()` groups (64 values of K for m <= 16 dividing 64); per block and
//   output row, its kept values in order and each one's k inside the block (a byte), padded to
//   a multiple of 8 with zeros at k = nm_pad_k (a zero row the kernel keeps). The kernel gives
//   each activation row a lane and picks activations by address (xsimd/spmm_nm.hpp).
//
// Storage: values (4 bytes) and one index byte per kept weight, plus the padding: N K n / m * 5
// bytes (0.625x dense fp32 for 2:4) when the block's value count is a multiple of 8.
#pragma once

#include <cstdint>

#include "sparq/core/tensor.hpp"
#include "sparq/sparse/nm.hpp"

namespace sparq::kernels {

enum class nm_layout : std::uint8_t { panels, rows };

inline constexpr index_t nm_block_k = 64;  // rows layout: values of K per block (at most)
inline constexpr index_t nm_pad_k = 64;    // rows layout: the k of padding values (a zero row)

struct nm_packed {
    index_t rows = 0, cols = 0, n = 0, m = 0, nr = 0;  // nr: panel width (panels layout)
    nm_layout layout = nm_layout::panels;
    tensor<float, 1> values;            // panels: [panels, groups, n, nr]; rows: [blocks, rows, block_values()]
    tensor<std::uint8_t, 1> position;   // the same shape: position in the group (panels), k in the block (rows)

    index_t groups() const noexcept { return m > 0 ? cols / m : 0; }
    index_t panels() const noexcept { return nr > 0 ? (rows + nr - 1) / nr : 0; }
    index_t nnz() const noexcept { return rows * groups() * n; }  // padding not counted
    // panels: a byte per kept weight (the padding rows' bytes are not counted); rows: every byte
    // stored, the padding values' included (the kernel reads them all)
    std::size_t index_bytes() const noexcept { return layout == nm_layout::rows ? std::size_t(position.size()) : std::size_t(nnz()); }
    const float* panel_values(index_t p) const noexcept { return values.data() + p * groups() * n * nr; }
    const std::uint8_t* panel_position(index_t p) const noexcept { return position.data() + p * groups() * n * nr; }

    // rows layout
    index_t block_groups() const noexcept { return m > 0 ? nm_block_k / m : 0; }
    index_t blocks() const noexcept { return m > 0 ? (groups() + block_groups() - 1) / block_groups() : 0; }
    index_t block_values() const noexcept { return (block_groups() * n + 7) / 8 * 8; }  // per row, padded
    const float* row_values(index_t kb, index_t r) const noexcept { return values.data() + (kb * rows + r) * block_values(); }
    const std::uint8_t* row_position(index_t kb, index_t r) const noexcept { return position.data() + (kb * rows + r) * block_values(); }
    // Whether the tensors have the sizes of the layout (a packed weight made by pack_nm).
    bool well_formed() const noexcept {
        if (m < 1 || m > 16 || n < 1 || n > m || cols % m != 0 || position.size() != values.size()) return false;
        if (layout == nm_layout::panels) return nr >= 1 && values.size() == panels() * groups() * n * nr;
        return values.size() == blocks() * rows * block_values();
    }
};

// The panels layout with panels of `nr` rows.
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

// The rows layout.
inline result<nm_packed> pack_nm_rows(const sparse::nm_matrix<float>& w) noexcept {
    if (w.m < 1 || w.m > 16 || w.n < 1 || w.n > w.m)
        return status(errc::invalid_argument, "pack_nm: %td:%td is not an N:M pattern the rows layout holds (m <= 16)", w.n, w.m);
    nm_packed p;
    p.rows = w.rows;
    p.cols = w.cols;
    p.n = w.n;
    p.m = w.m;
    p.layout = nm_layout::rows;
    const index_t per = p.block_values(), bg = p.block_groups();
    auto va = tensor<float, 1>::make({p.blocks() * p.rows * per});
    auto po = tensor<std::uint8_t, 1>::make({p.blocks() * p.rows * per});
    if (!va) return va.error();
    if (!po) return po.error();
    va->fill(0.0f);
    for (index_t i = 0; i < po->size(); ++i) (*po)(i) = std::uint8_t(nm_pad_k);
    for (index_t r = 0; r < w.rows; ++r)
        for (index_t g = 0; g < w.groups(); ++g)
            for (index_t s = 0; s < w.n; ++s) {
                const index_t from = (r * w.groups() + g) * w.n + s, kb = g / bg;
                const index_t to = (kb * p.rows + r) * per + (g % bg) * w.n + s;
                (*va)(to) = w.values(from);
                (*po)(to) = std::uint8_t((g % bg) * w.m + w.position(from));
            }
    p.values = std::move(*va);
    p.position = std::move(*po);
    return p;
}

}  // namespace sparq::kernels
