// Unstructured pruning: any single weight may go. The round(s * n) lowest scores are pruned
// (criteria.hpp's ranking: ties to the lower index). l1_unstructured matches
// torch.nn.utils.prune.l1_unstructured on inputs whose magnitudes at the cut are distinct.
#pragma once

#include "sparq/prune/criteria.hpp"
#include "sparq/prune/mask.hpp"

namespace sparq::prune {

// out = the mask that prunes the round(s * n) lowest `scores` (a score per weight, any
// criterion). Nothing is written on a bad call.
template <std::size_t Rank>
status unstructured(const tensor_view<const float, Rank>& scores, double s, const tensor_view<std::uint8_t, Rank>& out) {
    SPARQ_TRY(check_sparsity(s, "unstructured"));
    SPARQ_TRY(detail::check_mask_pair(scores, out, "unstructured"));
    const float* sc = scores.data();
    const auto order = detail::pruning_order(scores.size(), [sc](index_t i) { return sc[i]; });
    const index_t pruned = prune_count(s, scores.size());
    for (index_t i = 0, n = scores.size(); i < n; ++i) out.data()[order[std::size_t(i)]] = std::uint8_t(i >= pruned);
    return status::success();
}

// Magnitude: prune the smallest |w|.
template <std::size_t Rank>
status l1_unstructured(const tensor_view<const float, Rank>& w, double s, const tensor_view<std::uint8_t, Rank>& out) {
    SPARQ_TRY(check_sparsity(s, "l1_unstructured"));
    SPARQ_TRY(detail::check_mask_pair(w, out, "l1_unstructured"));
    const float* wp = w.data();
    const auto order = detail::pruning_order(w.size(), [wp](index_t i) { return std::fabs(wp[i]); });
    const index_t pruned = prune_count(s, w.size());
    for (index_t i = 0, n = w.size(); i < n; ++i) out.data()[order[std::size_t(i)]] = std::uint8_t(i >= pruned);
    return status::success();
}

}  // namespace sparq::prune
