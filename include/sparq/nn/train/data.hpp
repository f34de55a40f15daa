// Picking training rows: a fixed, documented subset (the first k rows of each class, in file
// order: what the digits distillation experiment trains its students on), and gathering rows.
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"

namespace sparq::nn::train {

// The indices of the first `per_class` rows of each class 0..classes-1, in row order. A class
// with fewer rows is an error (the subset would not be what it says).
inline result<std::vector<index_t>> first_per_class(const std::vector<std::int64_t>& labels, index_t classes, index_t per_class) {
    if (classes < 1 || per_class < 1) return status(errc::invalid_argument, "first_per_class: %td classes, %td per class", classes, per_class);
    std::vector<index_t> taken(static_cast<std::size_t>(classes), 0), rows;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::int64_t c = labels[i];
        if (c < 0 || c >= classes)
            return status(errc::out_of_range, "first_per_class: label %zu is %lld, outside [0, %td)", i, static_cast<long long>(c), classes);
        if (taken[std::size_t(c)] < per_class) {
            ++taken[std::size_t(c)];
            rows.push_back(index_t(i));
        }
    }
    for (index_t c = 0; c < classes; ++c)
        if (taken[std::size_t(c)] < per_class)
            return status(errc::out_of_range, "first_per_class: class %td has %td rows, fewer than %td", c, taken[std::size_t(c)], per_class);
    return rows;
}

// x's rows `rows`, in that order.
inline result<tensor<float, 2>> gather_rows(const matrix_view<const float>& x, const std::vector<index_t>& rows) {
    auto out = tensor<float, 2>::make({index_t(rows.size()), x.extent(1)});
    if (!out) return out.error();
    for (std::size_t r = 0; r < rows.size(); ++r) {
        if (rows[r] < 0 || rows[r] >= x.extent(0))
            return status(errc::out_of_range, "gather_rows: row %td of a matrix of %td rows", rows[r], x.extent(0));
        for (index_t k = 0; k < x.extent(1); ++k) (*out)(index_t(r), k) = x(rows[r], k);
    }
    return out;
}

inline std::vector<std::int64_t> gather_labels(const std::vector<std::int64_t>& labels, const std::vector<index_t>& rows) {
    std::vector<std::int64_t> out;
    out.reserve(rows.size());
    for (index_t r : rows) out.push_back(labels[std::size_t(r)]);
    return out;
}

}  // namespace sparq::nn::train
