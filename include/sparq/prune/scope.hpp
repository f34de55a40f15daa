// Global scope: one sparsity for a whole model, spent where the scores are lowest across all
// layers, with per-layer floors and ceilings (a first layer that must stay dense, a layer
// that must reach a memory budget). Per-layer scope is simply a pattern called per layer.
#pragma once

#include <algorithm>
#include <vector>

#include "sparq/prune/criteria.hpp"
#include "sparq/prune/mask.hpp"

namespace sparq::prune {

// One layer in a global pruning: its scores and mask as flat views (reshape a contiguous
// weight to rank 1), and the range its own sparsity must stay in.
struct global_layer {
    tensor_view<const float, 1> scores;
    tensor_view<std::uint8_t, 1> mask;
    double floor = 0.0;    // at least this fraction of the layer is pruned
    double ceiling = 1.0;  // at most this fraction (1: the layer may be emptied)
};

// Prunes round(s * total) weights over all layers: each layer first prunes round(floor * n) of
// its lowest scores; the rest go to the lowest scores left anywhere, never past a layer's
// round(ceiling * n). Ties: lower layer index first, then lower flat index. Fails (writing
// nothing) when the floors ask for more than s, or the ceilings allow less.
inline status global_unstructured(const std::vector<global_layer>& layers, double s) {
    SPARQ_TRY(check_sparsity(s, "global_unstructured"));
    index_t total = 0, floors = 0, ceilings = 0;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const global_layer& g = layers[l];
        SPARQ_TRY(check_same_shape(g.scores, g.mask, "global_unstructured"));
        if (!(g.floor >= 0.0 && g.floor <= g.ceiling && g.ceiling <= 1.0))
            return status(errc::invalid_argument, "global_unstructured: layer %zu: floor %g and ceiling %g must satisfy 0 <= floor <= ceiling <= 1",
                          l, g.floor, g.ceiling);
        total += g.scores.extent(0);
        floors += prune_count(g.floor, g.scores.extent(0));
        ceilings += prune_count(g.ceiling, g.scores.extent(0));
    }
    const index_t target = prune_count(s, total);
    if (target < floors || target > ceilings)
        return status(errc::invalid_argument,
                      "global_unstructured: sparsity %g prunes %td of %td weights; the floors need at least %td and the ceilings allow at most %td",
                      s, target, total, floors, ceilings);
    struct candidate {
        float score;
        std::size_t layer;
        index_t index;
    };
    std::vector<std::vector<index_t>> orders(layers.size());
    std::vector<candidate> pool;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const auto& v = layers[l].scores;
        orders[l] = detail::pruning_order(v.extent(0), [&v](index_t i) { return v(i); });
        const index_t lo = prune_count(layers[l].floor, v.extent(0)), hi = prune_count(layers[l].ceiling, v.extent(0));
        for (index_t r = lo; r < hi; ++r) pool.push_back({v(orders[l][std::size_t(r)]), l, r});
    }
    std::stable_sort(pool.begin(), pool.end(), [](const candidate& a, const candidate& b) {
        if (std::isnan(a.score) || std::isnan(b.score)) return !std::isnan(a.score) && std::isnan(b.score);
        return a.score < b.score;  // stable: equal scores stay in (layer, rank) order
    });
    // A layer's pruned count: its floor plus its candidates among the first (target - floors).
    std::vector<index_t> count(layers.size());
    for (std::size_t l = 0; l < layers.size(); ++l) count[l] = prune_count(layers[l].floor, layers[l].scores.extent(0));
    for (index_t i = 0; i < target - floors; ++i) ++count[pool[std::size_t(i)].layer];
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const auto& m = layers[l].mask;
        for (index_t r = 0; r < m.extent(0); ++r) m(orders[l][std::size_t(r)]) = std::uint8_t(r >= count[l]);
    }
    return status::success();
}

}  // namespace sparq::prune
