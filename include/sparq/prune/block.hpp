// Block pruning: an [N, K] weight cut into br x bc blocks (br output rows by bc consecutive
// weights along K), pruned whole by the Ln norm of their scores (p = 1 by default: the sum of
// magnitudes). Blocks of a register's width along K (1 x 16 or 4 x 16 with AVX-512) are what
// the block-sparse kernels run fastest (docs/sparsity.md).
#pragma once

#include <cmath>
#include <vector>

#include "sparq/prune/criteria.hpp"
#include "sparq/prune/mask.hpp"

namespace sparq::prune {

struct block_shape {
    index_t rows = 1;  // output rows per block
    index_t cols = 1;  // consecutive weights along K per block
};

inline status check_block(block_shape b, index_t n, index_t k, const char* op) noexcept {
    if (b.rows < 1 || b.cols < 1) return status(errc::invalid_argument, "%s: block %td x %td must be at least 1 x 1", op, b.rows, b.cols);
    if (n % b.rows != 0 || k % b.cols != 0)
        return status(errc::shape_mismatch, "%s: a %td x %td block does not divide the [%td, %td] weight", op, b.rows, b.cols, n, k);
    return status::success();
}

// out = the mask pruning the round(s * blocks) blocks whose Ln norm of `scores` is smallest
// (ties: the block first in row-major block order is pruned first).
inline status block(const matrix_view<const float>& scores, block_shape b, double s, const matrix_view<std::uint8_t>& out,
                    double p = 1.0) {
    SPARQ_TRY(check_sparsity(s, "block"));
    SPARQ_TRY(check_block(b, scores.extent(0), scores.extent(1), "block"));
    SPARQ_TRY(detail::check_mask_pair(scores, out, "block"));
    if (!(p > 0.0)) return status(errc::invalid_argument, "block: norm order %g must be > 0 (or infinity)", p);
    const index_t brs = scores.extent(0) / b.rows, bcs = scores.extent(1) / b.cols, k = scores.extent(1);
    std::vector<double> norm(std::size_t(brs * bcs), 0.0);
    for (index_t r = 0; r < scores.extent(0); ++r)
        for (index_t c = 0; c < k; ++c) {
            const double a = std::fabs(double(scores.data()[r * k + c]));
            double& acc = norm[std::size_t((r / b.rows) * bcs + c / b.cols)];
            acc = std::isinf(p) ? std::max(acc, a) : acc + (p == 1.0 ? a : std::pow(a, p));
        }
    const auto order = detail::pruning_order(brs * bcs, [&](index_t i) { return norm[std::size_t(i)]; });
    std::vector<std::uint8_t> keep(norm.size(), 1);
    const index_t pruned = prune_count(s, brs * bcs);
    for (index_t i = 0; i < pruned; ++i) keep[std::size_t(order[std::size_t(i)])] = 0;
    for (index_t r = 0; r < scores.extent(0); ++r)
        for (index_t c = 0; c < k; ++c) out.data()[r * k + c] = keep[std::size_t((r / b.rows) * bcs + c / b.cols)];
    return status::success();
}

// Magnitude blocks: the block's L1 norm of |w|.
inline status l1_block(const matrix_view<const float>& w, block_shape b, double s, const matrix_view<std::uint8_t>& out) {
    return block(w, b, s, out, 1.0);  // |w| summed: the L1 norm of the block
}

}  // namespace sparq::prune
