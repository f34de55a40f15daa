// Criteria: how important each weight (or each structure of weights) is. Patterns prune the
// lowest scores first; anything that produces a score per weight plugs in, so a user's own
// criterion (first-order Taylor |w * dL/dw|, a Hessian estimate, activations statistics)
// goes through the same patterns as magnitude.
//
// Ranking rule (ties documented, because torch's is not reproducible): weights are ordered by
// (score, flat index) ascending and pruned from the front, so among equal scores the lower
// index is pruned first. NaN scores rank above every number (pruned last).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "sparq/core/tensor_view.hpp"
#include "sparq/prune/mask.hpp"

namespace sparq::prune {

// A sparsity is a fraction of weights to prune in [0, 1): 1 would remove the layer.
inline status check_sparsity(double s, const char* op) noexcept {
    if (s >= 0.0 && s < 1.0) return status::success();  // false for NaN too
    return status(errc::invalid_argument, "%s: sparsity %g is outside [0, 1)", op, s);
}

// How many of n weights (or structures) a sparsity prunes: round(s * n), half to even, as
// torch.nn.utils.prune does with Python's round().
inline index_t prune_count(double s, index_t n) noexcept {
    return static_cast<index_t>(std::nearbyint(s * double(n)));
}

// |w|: magnitude (L1 of one weight), the criterion of torch's l1_unstructured.
template <std::size_t Rank>
status magnitude_scores(const tensor_view<const float, Rank>& w, const tensor_view<float, Rank>& out) noexcept {
    SPARQ_TRY(detail::check_mask_pair(w, out, "magnitude_scores"));
    for (index_t i = 0, n = w.size(); i < n; ++i) out.data()[i] = std::fabs(w.data()[i]);
    return status::success();
}

// |w * g|: the first-order Taylor estimate of the loss change when a weight is removed
// (Molchanov et al., 2017), from a gradient accumulated by the caller.
template <std::size_t Rank>
status taylor_scores(const tensor_view<const float, Rank>& w, const tensor_view<const float, Rank>& grad,
                     const tensor_view<float, Rank>& out) noexcept {
    SPARQ_TRY(detail::check_mask_pair(w, grad, "taylor_scores"));
    SPARQ_TRY(detail::check_mask_pair(w, out, "taylor_scores"));
    for (index_t i = 0, n = w.size(); i < n; ++i) out.data()[i] = std::fabs(w.data()[i] * grad.data()[i]);
    return status::success();
}

// The Ln norm (p > 0, or infinity for the max) of each slice of w along `dim` (all the other
// dimensions reduced): torch's ln_structured importance. Computed in double.
template <std::size_t Rank>
result<std::vector<double>> channel_norms(const tensor_view<const float, Rank>& w, double p, std::size_t dim) noexcept {
    if (dim >= Rank) return status(errc::invalid_argument, "channel_norms: dim %zu of a rank-%zu weight", dim, Rank);
    if (!(p > 0.0)) return status(errc::invalid_argument, "channel_norms: norm order %g must be > 0 (or infinity)", p);
    SPARQ_TRY(detail::check_contiguous(w, "the weight", "channel_norms"));
    std::vector<double> acc(std::size_t(w.extent(dim)), 0.0);
    index_t inner = 1;  // elements of one index of `dim` in a row-major block
    for (std::size_t d = dim + 1; d < Rank; ++d) inner *= w.extent(d);
    const index_t channels = w.extent(dim);
    const bool inf = std::isinf(p);
    for (index_t i = 0, n = w.size(); i < n; ++i) {
        const double a = std::fabs(double(w.data()[i]));
        double& s = acc[std::size_t((i / inner) % channels)];
        if (inf) s = std::max(s, a);
        else if (p == 1.0) s += a;
        else if (p == 2.0) s += a * a;
        else s += std::pow(a, p);
    }
    if (!inf && p != 1.0)
        for (double& s : acc) s = p == 2.0 ? std::sqrt(s) : std::pow(s, 1.0 / p);
    return acc;
}

namespace detail {

// Indices 0..n-1 in pruning order: by (score, index) ascending, NaN last.
template <class Score>
std::vector<index_t> pruning_order(index_t n, Score&& score) {
    std::vector<index_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), index_t(0));
    std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {
        const double sa = double(score(a)), sb = double(score(b));
        if (std::isnan(sa) || std::isnan(sb)) return !std::isnan(sa) && std::isnan(sb);
        return sa < sb;
    });
    return order;
}

}  // namespace detail

}  // namespace sparq::prune
