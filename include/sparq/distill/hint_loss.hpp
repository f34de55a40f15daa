// Feature (hint) loss of FitNets (Romero et al. 2015): the mean squared error between a student
// layer's output and a teacher layer's, through an optional linear adapter that maps the
// student's width to the teacher's (trained with the student):
//
//   loss = mean over all [N, Dt] elements of (adapter(s) - t)^2    (F.mse_loss, reduction 'mean')
//   adapter(s) = s W^T + b, W [Dt, Ds]; without an adapter Ds = Dt and adapter(s) = s.
//
// Gradients: d loss / d s, and d loss / d (W, b) of the adapter. Accumulated in double.
#pragma once

#include <cmath>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/train/backward.hpp"
#include "sparq/nn/train/loss.hpp"

namespace sparq::distill {

// student [N, Ds], teacher [N, Dt]; adapter: a linear layer [Dt, Ds] (its activation is
// ignored) or null; grad_student: [N, Ds] or empty; grad_adapter: set (not accumulated) when
// given with an adapter.
inline result<double> hint_loss(const matrix_view<const float>& student, const matrix_view<const float>& teacher,
                                const nn::linear_layer* adapter = nullptr, const matrix_view<float>& grad_student = {},
                                nn::train::linear_grad* grad_adapter = nullptr) {
    const index_t n = student.extent(0), dt = teacher.extent(1);
    if (n == 0 || dt == 0 || student.extent(1) == 0)
        return status(errc::invalid_argument, "hint loss: empty features (student [%td, %td], teacher [%td, %td])", n,
                      student.extent(1), teacher.extent(0), dt);
    if (teacher.extent(0) != n)
        return status(errc::shape_mismatch, "hint loss: %td student rows, %td teacher rows", n, teacher.extent(0));
    SPARQ_TRY(nn::train::check_grad_shape(student, grad_student, "hint loss: student gradient"));
    SPARQ_TRY(nn::train::check_finite(student, "hint loss: student features"));
    SPARQ_TRY(nn::train::check_finite(teacher, "hint loss: teacher features"));
    if (adapter) {
        if (adapter->in_features() != student.extent(1) || adapter->out_features() != dt)
            return status(errc::shape_mismatch, "hint loss: the adapter maps %td -> %td features, the student has %td and the teacher %td",
                          adapter->in_features(), adapter->out_features(), student.extent(1), dt);
        if (!adapter->bias.empty() && index_t(adapter->bias.size()) != dt)
            return status(errc::shape_mismatch, "hint loss: the adapter has %zu biases for %td outputs", adapter->bias.size(), dt);
        if (grad_adapter && (grad_adapter->weight.extents() != adapter->weight.extents() || grad_adapter->bias.size() != adapter->bias.size()))
            return status(errc::shape_mismatch, "hint loss: the adapter's gradient is not shaped as the adapter");
    } else if (student.extent(1) != dt) {
        return status(errc::shape_mismatch, "hint loss: student features %td wide, teacher's %td: give an adapter", student.extent(1), dt);
    }

    // In double throughout: r = adapter(s), d = r - t, loss = sum d^2 / (N Dt), dr = 2 d / (N Dt).
    const index_t ds = student.extent(1);
    const double inv = 1.0 / (double(n) * double(dt));
    const bool want_student = !grad_student.empty();
    if (grad_adapter) nn::train::zero(*grad_adapter);
    std::vector<double> dr(static_cast<std::size_t>(dt)), dsr(static_cast<std::size_t>(ds));
    double sum = 0;
    for (index_t i = 0; i < n; ++i) {
        for (index_t j = 0; j < dt; ++j) {
            double r = double(student(i, adapter ? 0 : j));
            if (adapter) {
                r = adapter->bias.empty() ? 0.0 : double(adapter->bias[std::size_t(j)]);
                for (index_t k = 0; k < ds; ++k) r += double(adapter->weight(j, k)) * double(student(i, k));
            }
            const double d = r - double(teacher(i, j));
            sum += d * d;
            dr[std::size_t(j)] = 2.0 * d * inv;
        }
        if (!adapter) {
            if (want_student)
                for (index_t j = 0; j < dt; ++j) grad_student(i, j) = float(dr[std::size_t(j)]);
            continue;
        }
        for (double& v : dsr) v = 0.0;
        for (index_t j = 0; j < dt; ++j) {
            const double d = dr[std::size_t(j)];
            for (index_t k = 0; k < ds; ++k) dsr[std::size_t(k)] += d * double(adapter->weight(j, k));
        }
        if (want_student)
            for (index_t k = 0; k < ds; ++k) grad_student(i, k) = float(dsr[std::size_t(k)]);
    }
    // The adapter's gradients, summed over rows in double: dW = dr^T s, db = sum_rows dr.
    if (adapter && grad_adapter) {
        std::vector<double> gw(static_cast<std::size_t>(dt * ds), 0.0), gb(static_cast<std::size_t>(dt), 0.0);
        for (index_t i = 0; i < n; ++i)
            for (index_t j = 0; j < dt; ++j) {
                double r = adapter->bias.empty() ? 0.0 : double(adapter->bias[std::size_t(j)]);
                for (index_t k = 0; k < ds; ++k) r += double(adapter->weight(j, k)) * double(student(i, k));
                const double d = 2.0 * (r - double(teacher(i, j))) * inv;
                gb[std::size_t(j)] += d;
                for (index_t k = 0; k < ds; ++k) gw[std::size_t(j * ds + k)] += d * double(student(i, k));
            }
        for (index_t j = 0; j < dt; ++j) {
            if (!grad_adapter->bias.empty()) grad_adapter->bias[std::size_t(j)] = float(gb[std::size_t(j)]);
            for (index_t k = 0; k < ds; ++k) grad_adapter->weight(j, k) = float(gw[std::size_t(j * ds + k)]);
        }
    }
    return sum * inv;
}

}  // namespace sparq::distill
