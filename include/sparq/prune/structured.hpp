// Structured pruning by channel: whole slices along one dimension (output channels / filters
// with dim 0, input channels with dim 1) go together, so the layer can be rebuilt smaller and
// dense (select_channels) instead of masked. Removing output channel c of one layer also
// removes input channel c of the next: select_channels on the next weight with dim 1 (and on
// the bias with dim 0). ln_structured matches torch.nn.utils.prune.ln_structured on inputs
// whose channel norms are distinct; ties go to the lower channel index (criteria.hpp).
#pragma once

#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/prune/criteria.hpp"
#include "sparq/prune/mask.hpp"

namespace sparq::prune {

// out = the mask that prunes the round(s * C) channels (slices along `dim`) with the lowest
// `channel_scores` (one per channel: a norm, or a user's criterion).
template <std::size_t Rank>
status structured(const std::vector<double>& channel_scores, double s, std::size_t dim,
                  const tensor_view<std::uint8_t, Rank>& out) {
    SPARQ_TRY(check_sparsity(s, "structured"));
    if (dim >= Rank) return status(errc::invalid_argument, "structured: dim %zu of a rank-%zu mask", dim, Rank);
    if (index_t(channel_scores.size()) != out.extent(dim))
        return status(errc::shape_mismatch, "structured: %zu channel scores for %td channels along dim %zu",
                      channel_scores.size(), out.extent(dim), dim);
    SPARQ_TRY(detail::check_contiguous(out, "the mask", "structured"));
    const index_t channels = out.extent(dim);
    const auto order = detail::pruning_order(channels, [&](index_t c) { return channel_scores[std::size_t(c)]; });
    std::vector<std::uint8_t> keep(std::size_t(channels), 1);
    const index_t pruned = prune_count(s, channels);
    for (index_t i = 0; i < pruned; ++i) keep[std::size_t(order[std::size_t(i)])] = 0;
    index_t inner = 1;
    for (std::size_t d = dim + 1; d < Rank; ++d) inner *= out.extent(d);
    for (index_t i = 0, n = out.size(); i < n; ++i) out.data()[i] = keep[std::size_t((i / inner) % channels)];
    return status::success();
}

// Prune the channels whose Ln norm (p = 1, 2, ..., or infinity) is smallest.
template <std::size_t Rank>
status ln_structured(const tensor_view<const float, Rank>& w, double s, double p, std::size_t dim,
                     const tensor_view<std::uint8_t, Rank>& out) {
    SPARQ_TRY(check_sparsity(s, "ln_structured"));
    SPARQ_TRY(detail::check_mask_pair(w, out, "ln_structured"));
    auto norms = channel_norms(w, p, dim);
    if (!norms) return norms.error();
    return structured(*norms, s, dim, out);
}

// The channels along `dim` that keep at least one weight, in order.
template <std::size_t Rank>
result<std::vector<index_t>> kept_channels(const mask_view<Rank>& m, std::size_t dim) {
    if (dim >= Rank) return status(errc::invalid_argument, "kept_channels: dim %zu of a rank-%zu mask", dim, Rank);
    SPARQ_TRY(detail::check_contiguous(m, "the mask", "kept_channels"));
    std::vector<std::uint8_t> any(std::size_t(m.extent(dim)), 0);
    index_t inner = 1;
    for (std::size_t d = dim + 1; d < Rank; ++d) inner *= m.extent(d);
    for (index_t i = 0, n = m.size(); i < n; ++i)
        if (m.data()[i]) any[std::size_t((i / inner) % m.extent(dim))] = 1;
    std::vector<index_t> kept;
    for (std::size_t c = 0; c < any.size(); ++c)
        if (any[c]) kept.push_back(index_t(c));
    return kept;
}

// A new dense tensor with only the listed channels along `dim` (strictly increasing indices):
// a pruned layer's weight (dim 0), the next layer's weight (dim 1), a bias (rank 1, dim 0).
template <class T, std::size_t Rank>
result<tensor<std::remove_const_t<T>, Rank>> select_channels(const tensor_view<T, Rank>& w, std::size_t dim,
                                                             const std::vector<index_t>& channels) noexcept {
    using V = std::remove_const_t<T>;
    if (dim >= Rank) return status(errc::invalid_argument, "select_channels: dim %zu of a rank-%zu weight", dim, Rank);
    SPARQ_TRY(detail::check_contiguous(w, "the weight", "select_channels"));
    for (std::size_t i = 0; i < channels.size(); ++i)
        if (channels[i] < 0 || channels[i] >= w.extent(dim) || (i > 0 && channels[i] <= channels[i - 1]))
            return status(errc::out_of_range, "select_channels: channel list entry %zu (%td) is not an increasing index below %td",
                          i, channels[i], w.extent(dim));
    auto e = w.extents();
    e[dim] = index_t(channels.size());
    auto out = tensor<V, Rank>::make(e);
    if (!out) return out.error();
    index_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < dim; ++d) outer *= w.extent(d);
    for (std::size_t d = dim + 1; d < Rank; ++d) inner *= w.extent(d);
    V* dst = out->data();
    for (index_t o = 0; o < outer; ++o)
        for (index_t c : channels) {
            const T* src = w.data() + (o * w.extent(dim) + c) * inner;
            for (index_t i = 0; i < inner; ++i) *dst++ = src[i];
        }
    return out;
}

}  // namespace sparq::prune
