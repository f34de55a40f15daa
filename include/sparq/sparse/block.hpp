// Block-sparse (BSR) weights: an [N, K] weight cut into br x bc blocks (block.hpp's
// block_shape); only blocks the mask keeps any weight of are stored, each block's br * bc
// values row-major (positions the mask prunes inside a stored block are stored as 0), with
// its block-column index and, per block row, where its blocks start.
//
// Storage, in bytes: blocks * br * bc * sizeof(V) (values) + blocks * sizeof(I) (block
// columns) + (N / br + 1) * 4 (block-row starts)                 -- storage_bytes()
// Blocks of bc consecutive weights along K make the kernels' loads contiguous vectors:
// 4 x 16 fp32 is four AVX-512 registers, 4 x 16 int8 one VNNI dot product.
#pragma once

#include <cstdint>
#include <limits>

#include "sparq/core/tensor.hpp"
#include "sparq/prune/block.hpp"
#include "sparq/prune/mask.hpp"
#include "sparq/sparse/csr.hpp"

namespace sparq::sparse {

template <class V, class I = std::uint16_t>
struct bsr {
    using value_type = V;
    using index_type = I;

    index_t rows = 0, cols = 0;
    prune::block_shape block;
    tensor<std::uint32_t, 1> row_start;  // N / br + 1 entries, in blocks
    tensor<I, 1> col;                    // block column of each stored block (its first k is col * bc)
    tensor<V, 1> values;                 // blocks * br * bc

    index_t block_rows() const noexcept { return block.rows > 0 ? rows / block.rows : 0; }
    index_t blocks() const noexcept { return col.size(); }
    index_t nnz() const noexcept { return values.size(); }  // stored values, zeros inside blocks included
    std::size_t index_bytes() const noexcept {
        return std::size_t(blocks()) * sizeof(I) + std::size_t(block_rows() + 1) * sizeof(std::uint32_t);
    }
    std::size_t storage_bytes() const noexcept { return std::size_t(nnz()) * sizeof(V) + index_bytes(); }
    static std::size_t storage_formula(index_t rows, prune::block_shape b, index_t blocks) noexcept {
        return std::size_t(blocks) * (std::size_t(b.rows * b.cols) * sizeof(V) + sizeof(I)) +
               std::size_t(rows / b.rows + 1) * sizeof(std::uint32_t);
    }

    status to_dense(const matrix_view<V>& out) const noexcept {
        if (out.extent(0) != rows || out.extent(1) != cols)
            return status(errc::shape_mismatch, "bsr::to_dense: output [%td, %td] for a [%td, %td] weight", out.extent(0),
                          out.extent(1), rows, cols);
        for (index_t r = 0; r < rows; ++r)
            for (index_t c = 0; c < cols; ++c) out(r, c) = V(0);
        const index_t bsize = block.rows * block.cols;
        for (index_t br = 0; br < block_rows(); ++br)
            for (std::uint32_t b = row_start(br); b < row_start(br + 1); ++b)
                for (index_t i = 0; i < block.rows; ++i)
                    for (index_t j = 0; j < block.cols; ++j)
                        out(br * block.rows + i, index_t(col(b)) * block.cols + j) = values(index_t(b) * bsize + i * block.cols + j);
        return status::success();
    }
};

// Every block holding a position the mask keeps is stored.
template <class V, class I = std::uint16_t>
result<bsr<V, I>> make_bsr(const matrix_view<const V>& w, const prune::mask_view<2>& m, prune::block_shape b) noexcept {
    SPARQ_TRY(check_same_shape(w, m, "make_bsr"));
    SPARQ_TRY(prune::check_block(b, w.extent(0), w.extent(1), "make_bsr"));
    SPARQ_TRY(detail::check_index_range<I>(w.extent(1) / b.cols, "make_bsr"));
    const index_t brs = w.extent(0) / b.rows, bcs = w.extent(1) / b.cols;
    auto kept = [&](index_t br, index_t bc) {
        for (index_t i = 0; i < b.rows; ++i)
            for (index_t j = 0; j < b.cols; ++j)
                if (m(br * b.rows + i, bc * b.cols + j)) return true;
        return false;
    };
    index_t blocks = 0;
    for (index_t br = 0; br < brs; ++br)
        for (index_t bc = 0; bc < bcs; ++bc) blocks += kept(br, bc) ? 1 : 0;
    index_t nvalues = 0;
    if (!checked_mul(blocks, b.rows * b.cols, nvalues)) return status(errc::overflow, "make_bsr: too many values");
    bsr<V, I> s;
    s.rows = w.extent(0);
    s.cols = w.extent(1);
    s.block = b;
    auto rs = tensor<std::uint32_t, 1>::make({brs + 1});
    auto ci = tensor<I, 1>::make({blocks});
    auto va = tensor<V, 1>::make({nvalues});
    if (!rs) return rs.error();
    if (!ci) return ci.error();
    if (!va) return va.error();
    index_t n = 0;
    for (index_t br = 0; br < brs; ++br) {
        (*rs)(br) = std::uint32_t(n);
        for (index_t bc = 0; bc < bcs; ++bc) {
            if (!kept(br, bc)) continue;
            (*ci)(n) = I(bc);
            V* dst = va->data() + n * b.rows * b.cols;
            for (index_t i = 0; i < b.rows; ++i)
                for (index_t j = 0; j < b.cols; ++j) {
                    const index_t r = br * b.rows + i, c = bc * b.cols + j;
                    dst[i * b.cols + j] = m(r, c) ? w(r, c) : V(0);
                }
            ++n;
        }
    }
    (*rs)(brs) = std::uint32_t(n);
    s.row_start = std::move(*rs);
    s.col = std::move(*ci);
    s.values = std::move(*va);
    return s;
}

}  // namespace sparq::sparse
