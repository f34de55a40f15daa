// Classification metrics over a batch of logits (one row per sample).
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/core/tensor_view.hpp"

namespace sparq::nn {

// How many rows' largest logit is at their label; ties go to the first (lowest) index, as
// torch.argmax does. The caller guarantees labels.size() >= logits.extent(0).
inline index_t count_correct(const matrix_view<const float>& logits, const std::vector<std::int64_t>& labels) {
    index_t right = 0;
    for (index_t i = 0; i < logits.extent(0); ++i) {
        index_t top = 0;
        for (index_t j = 1; j < logits.extent(1); ++j)
            if (logits(i, j) > logits(i, top)) top = j;
        right += top == labels[std::size_t(i)];
    }
    return right;
}

}  // namespace sparq::nn
