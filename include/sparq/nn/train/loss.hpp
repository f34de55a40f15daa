// Softmax cross-entropy for training: value (batch mean, as F.cross_entropy) and gradient with
// respect to the logits, computed in double through log-sum-exp (no overflow for any finite
// logits). The row helpers are shared with the distillation losses (distill/kd_loss.hpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq::nn::train {

// log softmax(x / T) of one row into out (n values), in double: x / T - max - log sum exp(. - max).
inline void log_softmax_row(const vector_view<const float>& x, double temperature, double* out) noexcept {
    const index_t n = x.extent(0);
    double hi = -INFINITY;
    for (index_t j = 0; j < n; ++j) {
        out[j] = double(x(j)) / temperature;
        hi = out[j] > hi ? out[j] : hi;
    }
    double sum = 0;
    for (index_t j = 0; j < n; ++j) sum += std::exp(out[j] - hi);
    const double lse = hi + std::log(sum);
    for (index_t j = 0; j < n; ++j) out[j] -= lse;
}

// Every value finite (logits from a diverging model are not); `what` names the matrix.
inline status check_finite(const matrix_view<const float>& m, const char* what) noexcept {
    for (index_t i = 0; i < m.extent(0); ++i)
        for (index_t j = 0; j < m.extent(1); ++j)
            if (!std::isfinite(m(i, j)))
                return status(errc::invalid_argument, "%s: value [%td, %td] is %g", what, i, j, double(m(i, j)));
    return status::success();
}

// The label of a row without one (distillation on a transfer set: the teacher's soft targets
// on every row, cross-entropy on the labelled rows only; PyTorch's ignore_index).
inline constexpr std::int64_t unlabelled = -1;

// One label per row, each in [0, classes) (or unlabelled, where allowed).
inline status check_labels(const vector_view<const std::int64_t>& labels, index_t rows, index_t classes,
                           const char* what, bool allow_unlabelled = false) noexcept {
    if (labels.extent(0) != rows)
        return status(errc::shape_mismatch, "%s: %td labels for a batch of %td", what, labels.extent(0), rows);
    for (index_t i = 0; i < rows; ++i)
        if ((labels(i) < 0 || labels(i) >= classes) && !(allow_unlabelled && labels(i) == unlabelled))
            return status(errc::out_of_range, "%s: label %td is %lld, outside [0, %td)", what, i, static_cast<long long>(labels(i)),
                          classes);
    return status::success();
}

// Gradient output: empty (not wanted) or the logits' shape.
inline status check_grad_shape(const matrix_view<const float>& logits, const matrix_view<float>& grad, const char* what) noexcept {
    if (grad.data() == nullptr && grad.empty()) return status::success();
    return check_same_shape(logits, grad.as_const(), what);
}

// F.cross_entropy(logits, labels) (mean over the batch); grad, if not empty, gets
// d loss / d logits = (softmax(logits) - onehot(label)) / batch.
inline result<double> softmax_cross_entropy(const matrix_view<const float>& logits, const vector_view<const std::int64_t>& labels,
                                            const matrix_view<float>& grad = {}) {
    const index_t n = logits.extent(0), c = logits.extent(1);
    if (n == 0 || c == 0) return status(errc::invalid_argument, "cross-entropy: empty logits [%td, %td]", n, c);
    SPARQ_TRY(check_labels(labels, n, c, "cross-entropy"));
    SPARQ_TRY(check_grad_shape(logits, grad, "cross-entropy gradient"));
    SPARQ_TRY(check_finite(logits, "cross-entropy logits"));
    std::vector<double> lp(static_cast<std::size_t>(c), 0.0);
    const bool want_grad = !grad.empty();
    double total = 0;
    for (index_t i = 0; i < n; ++i) {
        log_softmax_row(logits.row(i), 1.0, lp.data());
        const index_t y = index_t(labels(i));
        total -= lp[std::size_t(y)];
        if (want_grad)
            for (index_t j = 0; j < c; ++j) grad(i, j) = float((std::exp(lp[std::size_t(j)]) - (j == y ? 1.0 : 0.0)) / double(n));
    }
    return total / double(n);
}

}  // namespace sparq::nn::train
