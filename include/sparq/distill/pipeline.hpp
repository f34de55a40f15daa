// Distillation as a library call: a student MLP (or any model graph) trained against a teacher's
// logits with the KD loss (distill/kd_loss.hpp) by the MLP trainer (nn/train/trainer.hpp) or the
// graph trainer (nn/train/graph.hpp). The student may be a
// smaller network, the teacher itself pruned (train_options::masks) or fake-quantized for
// int8 (train_options::qat). The teacher's logits are computed once, in fp32, for all rows.
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/distill/kd_loss.hpp"
#include "sparq/nn/train/graph.hpp"
#include "sparq/nn/train/trainer.hpp"

namespace sparq::distill {

struct distill_options {
    kd_options kd;                    // T and alpha
    nn::train::train_options train;   // epochs, batch, optimizer, seed, masks, QAT
};

namespace detail {

// The KD loss against teacher_logits[row] (and labels[row] where the loss needs them) for the
// rows of each batch, after checking both against x and the student's classes.
inline result<nn::train::loss_fn> kd_loss_on(const matrix_view<const float>& teacher_logits, const matrix_view<const float>& x,
                                             const std::vector<std::int64_t>& labels, index_t classes, const kd_options& kd) {
    SPARQ_TRY(check_kd_options(kd));
    if (teacher_logits.extent(0) != x.extent(0))
        return status(errc::shape_mismatch, "distill: %td teacher outputs for %td samples", teacher_logits.extent(0), x.extent(0));
    if (teacher_logits.extent(1) != classes)
        return status(errc::shape_mismatch, "distill: the teacher gives %td classes, the student %td", teacher_logits.extent(1), classes);
    SPARQ_TRY(nn::train::check_finite(teacher_logits, "distill: teacher logits"));
    const bool hard = kd.alpha < 1.0 || !labels.empty();
    if (hard) {
        if (index_t(labels.size()) != x.extent(0))
            return status(errc::shape_mismatch, "distill: %zu labels for %td samples", labels.size(), x.extent(0));
        SPARQ_TRY(nn::train::check_labels(vector_view<const std::int64_t>(labels.data(), {index_t(labels.size())}), x.extent(0), classes,
                                          "distill labels", true));
    }
    return nn::train::loss_fn([teacher_logits, &labels, kd, hard, classes, tb = std::vector<float>(), yb = std::vector<std::int64_t>()](
                                  const matrix_view<const float>& logits, const std::vector<index_t>& rows,
                                  const matrix_view<float>& grad) mutable -> result<double> {
        const index_t b = index_t(rows.size());
        tb.resize(std::size_t(b * classes));  // the batch's teacher logits, row-major
        yb.resize(hard ? rows.size() : 0);
        for (index_t r = 0; r < b; ++r) {
            const index_t row = rows[std::size_t(r)];
            for (index_t j = 0; j < classes; ++j) tb[std::size_t(r * classes + j)] = teacher_logits(row, j);
            if (hard) yb[std::size_t(r)] = labels[std::size_t(row)];
        }
        auto v = kd_loss(logits, matrix_view<const float>(tb.data(), {b, classes}), vector_view<const std::int64_t>(yb.data(), {index_t(yb.size())}), kd, grad);
        if (!v) return v.error();
        return v->loss;
    });
}

}  // namespace detail

// Trains student on x [N, in] against teacher_logits [N, classes] and labels (N of them; may be
// empty when kd.alpha = 1: soft targets only; rows labelled nn::train::unlabelled take the
// teacher's soft targets alone: a transfer set with a few labels).
inline result<nn::train::train_report> distill_from_logits(std::vector<nn::linear_layer>& student, const matrix_view<const float>& teacher_logits,
                                                           const matrix_view<const float>& x, const std::vector<std::int64_t>& labels,
                                                           const distill_options& o) {
    if (student.empty()) return status(errc::invalid_argument, "distill: the student has no layers");
    auto kd = detail::kd_loss_on(teacher_logits, x, labels, student.back().out_features(), o.kd);
    if (!kd) return kd.error();
    return nn::train::train(student, x, *kd, o.train);
}

// The same for a student of any shape (a model graph: nn/train/graph.hpp; keep_zeros for a
// pruned one).
inline result<nn::train::train_report> distill_model(nn::model& student, const matrix_view<const float>& teacher_logits,
                                                     const matrix_view<const float>& x, const std::vector<std::int64_t>& labels,
                                                     const distill_options& o) {
    if (student.nodes.empty()) return status(errc::invalid_argument, "distill: the student has no nodes");
    auto kd = detail::kd_loss_on(teacher_logits, x, labels, student.out_features(), o.kd);
    if (!kd) return kd.error();
    return nn::train::train_model(student, x, *kd, o.train);
}

// The same, with the teacher's logits computed from the teacher MLP (fp32) on x.
inline result<nn::train::train_report> distill(std::vector<nn::linear_layer>& student, const std::vector<nn::linear_layer>& teacher,
                                               const matrix_view<const float>& x, const std::vector<std::int64_t>& labels,
                                               const distill_options& o) {
    SPARQ_TRY(nn::train::check_inputs(teacher, x));
    auto t = nn::train::predict(teacher, x);
    if (!t) return t.error();
    return distill_from_logits(student, t->cview(), x, labels, o);
}

}  // namespace sparq::distill
