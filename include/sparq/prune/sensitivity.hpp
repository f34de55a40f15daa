// Sensitivity analysis (as Distiller's): prune one layer at a time to each sparsity of a sweep,
// measure the model with the caller's evaluation function, restore the layer, and return the
// table. Users then pick per-layer sparsities from data instead of one global guess.
#pragma once

#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/prune/unstructured.hpp"

namespace sparq::prune {

struct sensitivity_row {
    std::size_t layer;
    double sparsity;
    double metric;  // what eval() returned with only this layer pruned to this sparsity
};

// layers: each layer's weight as a flat view into the memory the model runs from (reshape a
// contiguous weight to rank 1); eval(): evaluates the model as it is now (accuracy, loss...).
// prune_layer(w, s) -> status prunes one weight in place (default: magnitude, unstructured).
// Every layer is back to its original values when this returns, on success or error.
template <class Eval, class Prune>
result<std::vector<sensitivity_row>> sensitivity_analysis(const std::vector<tensor_view<float, 1>>& layers,
                                                          const std::vector<double>& sparsities, Eval&& eval,
                                                          Prune&& prune_layer) {
    for (double s : sparsities) SPARQ_TRY(check_sparsity(s, "sensitivity_analysis"));
    std::vector<sensitivity_row> table;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const auto& w = layers[l];
        auto saved = tensor<float, 1>::copy_of(w);
        if (!saved) return saved.error();
        for (double s : sparsities) {
            status st = prune_layer(w, s);
            if (st.ok()) table.push_back({l, s, double(eval())});
            for (index_t i = 0; i < w.extent(0); ++i) w(i) = (*saved)(i);
            if (!st.ok()) return st;
        }
    }
    return table;
}

template <class Eval>
result<std::vector<sensitivity_row>> sensitivity_analysis(const std::vector<tensor_view<float, 1>>& layers,
                                                          const std::vector<double>& sparsities, Eval&& eval) {
    return sensitivity_analysis(layers, sparsities, eval, [](const tensor_view<float, 1>& w, double s) -> status {
        auto m = mask<1>::make(w.extents());
        if (!m) return m.error();
        SPARQ_TRY(l1_unstructured(w.as_const(), s, m->view()));
        return apply_mask(m->cview(), w);
    });
}

}  // namespace sparq::prune
