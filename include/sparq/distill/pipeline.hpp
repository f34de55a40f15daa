// Distillation as a library call: a student MLP trained against a teacher's logits with the KD
// loss (distill/kd_loss.hpp) by the MLP trainer (nn/train/trainer.hpp). The student may be a
// smaller network, the teacher itself pruned (train_options::masks) or fake-quantized for
// int8 (train_options::qat). The teacher's logits are computed once, in fp32, for all rows.
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/distill/kd_loss.hpp"
#include "sparq/nn/train/trainer.hpp"

namespace sparq::distill {

struct distill_options {
    kd_options kd;                    // T and alpha
    nn::train::train_options train;   // epochs, batch, optimizer, seed, masks, QAT
};

// Trains student on x [N, in] against teacher_logits [N, classes] and labels (N of them; may be
// empty when kd.alpha = 1: soft targets only; rows labelled nn::train::unlabelled take the
// teacher's soft targets alone: a transfer set with a few labels).
inline result<nn::train::train_report> distill_from_logits(std::vector<nn::linear_layer>& student, const matrix_view<const float>& teacher_logits,
                                                           const matrix_view<const float>& x, const std::vector<std::int64_t>& labels,
                                                           const distill_options& o) {
    SPARQ_TRY(check_kd_options(o.kd));
    if (student.empty()) return status(errc::invalid_argument, "distill: the student has no layers");
    if (teacher_logits.extent(0) != x.extent(0))
        return status(errc::shape_mismatch, "distill: %td teacher outputs for %td samples", teacher_logits.extent(0), x.extent(0));
    if (teacher_logits.extent(1) != student.back().out_features())
        return status(errc::shape_mismatch, "distill: the teacher gives %td classes, the student %td", teacher_logits.extent(1),
                      student.back().out_features());
    SPARQ_TRY(nn::train::check_finite(teacher_logits, "distill: teacher logits"));
    const bool hard = o.kd.alpha < 1.0 || !labels.empty();
    if (hard) {
        if (index_t(labels.size()) != x.extent(0))
            return status(errc::shape_mismatch, "distill: %zu labels for %td samples", labels.size(), x.extent(0));
        SPARQ_TRY(nn::train::check_labels(vector_view<const std::int64_t>(labels.data(), {index_t(labels.size())}), x.extent(0),
                                          student.back().out_features(), "distill labels", true));
    }
    const index_t classes = teacher_logits.extent(1);
    tensor<float, 2> tb;
    std::vector<std::int64_t> yb;
    nn::train::loss_fn kd = [&](const matrix_view<const float>& logits, const std::vector<index_t>& rows,
                                const matrix_view<float>& grad) -> result<double> {
        const index_t b = index_t(rows.size());
        SPARQ_TRY(nn::train::detail::ensure(tb, b, classes));
        yb.resize(hard ? rows.size() : 0);
        for (index_t r = 0; r < b; ++r) {
            const index_t row = rows[std::size_t(r)];
            for (index_t j = 0; j < classes; ++j) tb(r, j) = teacher_logits(row, j);
            if (hard) yb[std::size_t(r)] = labels[std::size_t(row)];
        }
        auto v = kd_loss(logits, tb.cview(), vector_view<const std::int64_t>(yb.data(), {index_t(yb.size())}), o.kd, grad);
        if (!v) return v.error();
        return v->loss;
    };
    return nn::train::train(student, x, kd, o.train);
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
