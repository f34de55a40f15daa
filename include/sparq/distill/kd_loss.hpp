// The knowledge-distillation loss of Hinton, Vinyals and Dean (2015), "Distilling the Knowledge
// in a Neural Network", as PyTorch users write it:
//
//   loss = alpha * T^2 * KL(softmax(t / T) || softmax(s / T))   (batch mean: kl_div 'batchmean')
//        + (1 - alpha) * CE(s, y)                                (batch mean: F.cross_entropy)
//
// s: the student's logits [N, C], t: the teacher's [N, C], y: N labels. The T^2 keeps the soft
// term's gradient on the scale of the hard one. alpha = 1 is soft targets only (no labels
// needed), alpha = 0 is plain cross-entropy (no teacher needed). Computed in double through
// log-sum-exp: any finite logits, teacher probabilities that underflow to 0 count 0 (x log x).
//
// Rows labelled nn::train::unlabelled (-1) take no cross-entropy: CE is the mean over the
// labelled rows (F.cross_entropy with ignore_index), so a student can learn from the teacher on
// a transfer set of which only some rows have labels.
//
// Gradient with respect to s (what the student's backward pass starts from):
//   d loss / d s = alpha * T / N * (softmax(s / T) - softmax(t / T)) + (1 - alpha) / L * (softmax(s) - onehot(y))
//   (L: the labelled rows, N when all are; unlabelled rows get no second term)
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/nn/train/loss.hpp"

namespace sparq::distill {

struct kd_options {
    double temperature = 4.0;  // T > 0: the softness of both distributions in the KL term
    double alpha = 0.9;        // in [0, 1]: the weight of the soft (teacher) term
};

struct kd_value {
    double loss = 0;  // the total above
    double kl = 0;    // KL(softmax(t/T) || softmax(s/T)), batch mean (before alpha T^2); 0 when alpha = 0
    double ce = 0;    // cross-entropy with the labels, mean over labelled rows; 0 when there are none
};

inline status check_kd_options(const kd_options& o) noexcept {
    if (!(o.temperature > 0.0) || !std::isfinite(o.temperature))
        return status(errc::invalid_argument, "kd loss: temperature %g must be finite and > 0", o.temperature);
    if (!(o.alpha >= 0.0 && o.alpha <= 1.0))
        return status(errc::invalid_argument, "kd loss: alpha %g must be in [0, 1]", o.alpha);
    return status::success();
}

// The loss, and its gradient into grad ([N, C], or an empty view when not wanted). teacher may
// be empty when alpha = 0; labels may be empty when alpha = 1.
inline result<kd_value> kd_loss(const matrix_view<const float>& student, const matrix_view<const float>& teacher,
                                const vector_view<const std::int64_t>& labels, const kd_options& o,
                                const matrix_view<float>& grad = {}) {
    SPARQ_TRY(check_kd_options(o));
    const index_t n = student.extent(0), c = student.extent(1);
    if (n == 0 || c == 0) return status(errc::invalid_argument, "kd loss: empty student logits [%td, %td]", n, c);
    const bool soft = o.alpha > 0.0, hard = o.alpha < 1.0 || labels.extent(0) != 0;
    if (soft) SPARQ_TRY(check_same_shape(student, teacher, "kd loss: student and teacher logits"));
    if (hard) SPARQ_TRY(nn::train::check_labels(labels, n, c, "kd loss", true));
    SPARQ_TRY(nn::train::check_grad_shape(student, grad, "kd loss gradient"));
    SPARQ_TRY(nn::train::check_finite(student, "kd loss: student logits"));
    if (soft) SPARQ_TRY(nn::train::check_finite(teacher, "kd loss: teacher logits"));

    const double T = o.temperature, a = o.alpha, inv_n = 1.0 / double(n);
    const std::size_t width = static_cast<std::size_t>(c);
    std::vector<double> ls_t(width), lt_t(width), ls(width);
    const bool want_grad = !grad.empty();
    index_t labelled = 0;
    if (hard)
        for (index_t i = 0; i < n; ++i) labelled += labels(i) != nn::train::unlabelled;
    const double inv_l = labelled ? 1.0 / double(labelled) : 0.0;
    kd_value v;
    for (index_t i = 0; i < n; ++i) {
        const bool has_label = hard && labels(i) != nn::train::unlabelled;
        if (soft) {
            nn::train::log_softmax_row(student.row(i), T, ls_t.data());
            nn::train::log_softmax_row(teacher.row(i), T, lt_t.data());
            for (index_t j = 0; j < c; ++j) {
                const double pt = std::exp(lt_t[std::size_t(j)]);
                v.kl += pt * (lt_t[std::size_t(j)] - ls_t[std::size_t(j)]);  // 0 when pt underflows: x log x -> 0
            }
        }
        if (has_label) {
            nn::train::log_softmax_row(student.row(i), 1.0, ls.data());
            v.ce -= ls[std::size_t(labels(i))];
        }
        if (want_grad)
            for (index_t j = 0; j < c; ++j) {
                const std::size_t k = std::size_t(j);
                double g = 0;
                if (soft) g += a * T * inv_n * (std::exp(ls_t[k]) - std::exp(lt_t[k]));
                if (has_label && a < 1.0) g += (1.0 - a) * inv_l * (std::exp(ls[k]) - (labels(i) == j ? 1.0 : 0.0));
                grad(i, j) = float(g);
            }
    }
    v.kl *= inv_n;
    v.ce *= inv_l;
    v.loss = a * T * T * v.kl + (1.0 - a) * v.ce;
    return v;
}

}  // namespace sparq::distill
