// CSR weights repacked for the SIMD kernel (like pack_weights for dense ones). A CSR matvec
// must read x at scattered columns; gathers do that at under one value per cycle on the CPUs
// measured here (docs/sparsity.md), no better than scalar loads. Instead the rows are cut
// into slices of 16 (one output per SIMD lane) and the columns into tiles of 32, whose
// activations fit two registers: within a tile, lane i's next kept weight of row i picks its
// activation with one two-register permutation (vpermt2ps), no memory access. Each
// (slice, tile) takes as many steps as its fullest row there; lanes with fewer weights
// carry zeros (about half the lanes at 90% sparsity: the price of never gathering). For
// layers that fit the caches the permutation is the limit (about two cycles a step on this Zen 5
// in isolation); for larger ones, memory (the layout is ~1.7x the plain CSR's bytes).
//
// Layout: per slice, per tile, its steps (a byte); then, in the same order, per step 16 values
// and 16 column offsets in the tile (bytes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/sparse/csr.hpp"

namespace sparq::kernels {

struct csr_packed {
    static constexpr index_t slice = 16;  // output rows per slice: one per fp32 lane of AVX-512
    static constexpr index_t tile = 32;   // columns per tile: two registers of activations

    index_t rows = 0, cols = 0, nnz = 0;  // nnz: the weights the CSR holds (padding excluded)
    tensor<std::uint8_t, 1> steps;        // [slices, tiles]
    tensor<float, 1> values;              // [sum of steps, 16]; padding lanes are 0
    tensor<std::uint8_t, 1> column;       // the same shape: column - tile start, 0 .. 31

    index_t slices() const noexcept { return (rows + slice - 1) / slice; }
    index_t tiles() const noexcept { return (cols + tile - 1) / tile; }
    index_t stored() const noexcept { return values.size(); }  // values the kernel multiplies
    std::size_t index_bytes() const noexcept { return std::size_t(column.size() + steps.size()); }
    std::size_t storage_bytes() const noexcept { return std::size_t(stored()) * sizeof(float) + index_bytes(); }
};

template <class I>
result<csr_packed> pack_csr(const sparse::csr<float, I>& w) {
    csr_packed p;
    p.rows = w.rows;
    p.cols = w.cols;
    p.nnz = w.nnz();
    const index_t slices = p.slices(), tiles = p.tiles(), lanes = csr_packed::slice;
    auto steps = tensor<std::uint8_t, 1>::make({slices * tiles});
    if (!steps) return steps.error();
    // Steps of (slice, tile): the fullest row's count there (at most 32).
    std::vector<std::uint8_t> row(static_cast<std::size_t>(tiles), 0);
    for (index_t r = 0; r < w.rows; ++r) {
        std::fill(row.begin(), row.end(), std::uint8_t(0));
        for (std::uint32_t j = w.row_start(r); j < w.row_start(r + 1); ++j) ++row[std::size_t(index_t(w.col(j)) / csr_packed::tile)];
        for (index_t t = 0; t < tiles; ++t) {
            std::uint8_t& c = (*steps)((r / lanes) * tiles + t);
            c = std::max(c, row[std::size_t(t)]);
        }
    }
    index_t total = 0;
    for (index_t i = 0; i < steps->size(); ++i) total += (*steps)(i);
    auto values = tensor<float, 1>::make({total * lanes});
    auto column = tensor<std::uint8_t, 1>::make({total * lanes});
    if (!values) return values.error();
    if (!column) return column.error();
    // Row i's k-th weight in tile t goes to step k of (slice, t), lane i.
    std::vector<index_t> first(static_cast<std::size_t>(tiles));  // first step of each tile in the slice
    index_t base = 0;
    for (index_t s = 0; s < slices; ++s) {
        for (index_t t = 0; t < tiles; ++t) {
            first[std::size_t(t)] = base;
            base += (*steps)(s * tiles + t);
        }
        for (index_t i = 0; i < lanes && s * lanes + i < w.rows; ++i) {
            const index_t r = s * lanes + i;
            index_t t_prev = -1, k = 0;
            for (std::uint32_t j = w.row_start(r); j < w.row_start(r + 1); ++j) {
                const index_t t = index_t(w.col(j)) / csr_packed::tile;
                k = t == t_prev ? k + 1 : 0;
                t_prev = t;
                const index_t at = (first[std::size_t(t)] + k) * lanes + i;
                (*values)(at) = w.values(j);
                (*column)(at) = std::uint8_t(index_t(w.col(j)) - t * csr_packed::tile);
            }
        }
    }
    p.steps = std::move(*steps);
    p.values = std::move(*values);
    p.column = std::move(*column);
    return p;
}

}  // namespace sparq::kernels
