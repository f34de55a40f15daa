// Schedules: how sparse a layer should be at training step t. One-shot prunes once to the
// final sparsity; AGP (Zhu & Gupta, 2017, "To prune, or not to prune") raises it gradually,
// fast at first and slowly at the end:
//     s_t = s_f + (s_i - s_f) * (1 - (t - t0) / (n * dt))^3   for t0 <= t <= t0 + n * dt,
// s_i before t0 and s_f after. Pruning happens at t0, t0 + dt, ..., t0 + n * dt
// (is_pruning_step); between those steps the masks stay as they are and the weights train.
#pragma once

#include "sparq/prune/criteria.hpp"

namespace sparq::prune {

struct one_shot {
    double sparsity = 0.0;
    double at(long) const noexcept { return sparsity; }
};

class agp_schedule {
public:
    static result<agp_schedule> make(double initial, double final_sparsity, long t0, long n, long dt) noexcept {
        SPARQ_TRY(check_sparsity(initial, "agp_schedule"));
        SPARQ_TRY(check_sparsity(final_sparsity, "agp_schedule"));
        if (initial > final_sparsity)
            return status(errc::invalid_argument, "agp_schedule: initial sparsity %g is above the final %g", initial, final_sparsity);
        if (n < 1 || dt < 1 || t0 < 0)
            return status(errc::invalid_argument, "agp_schedule: needs n >= 1 pruning steps, dt >= 1 and t0 >= 0 (got n %ld, dt %ld, t0 %ld)",
                          n, dt, t0);
        agp_schedule a;
        a.s_i_ = initial;
        a.s_f_ = final_sparsity;
        a.t0_ = t0;
        a.n_ = n;
        a.dt_ = dt;
        return a;
    }

    double at(long t) const noexcept {
        if (t <= t0_) return s_i_;
        const long span = n_ * dt_;
        if (t >= t0_ + span) return s_f_;
        const double r = 1.0 - double(t - t0_) / double(span);
        return s_f_ + (s_i_ - s_f_) * r * r * r;
    }
    bool is_pruning_step(long t) const noexcept { return t >= t0_ && t <= t0_ + n_ * dt_ && (t - t0_) % dt_ == 0; }
    long end() const noexcept { return t0_ + n_ * dt_; }

private:
    agp_schedule() = default;
    double s_i_ = 0, s_f_ = 0;
    long t0_ = 0, n_ = 1, dt_ = 1;
};

}  // namespace sparq::prune
