// calibrate_weights: qparams straight from a weight tensor's own values (weights need no
// calibration data): min-max per tensor or per channel, or per group of the last axis.
#pragma once

#include "sparq/quant/observer_minmax.hpp"

namespace sparq::quant {

template <class T, std::size_t Rank>
result<qparams> calibrate_weights(const tensor_view<T, Rank>& w, const qscheme& s) {
    if (w.empty()) return status(errc::invalid_argument, "calibrate_weights: the weight tensor is empty");
    if (s.gran != granularity::per_group) {
        minmax_observer o(s);
        SPARQ_TRY(o.observe(w));
        return o.compute();
    }
    if constexpr (Rank != 2) {
        return status(errc::invalid_argument, "calibrate_weights: per-group needs a [N, K] matrix, got rank %zu", Rank);
    } else {
        if (s.axis != 1 || s.group_size <= 0)
            return status(errc::invalid_argument, "calibrate_weights: per-group needs axis 1 and a group size > 0 (got %d, %td)",
                          s.axis, s.group_size);
        const index_t k = w.extent(1), groups = (k + s.group_size - 1) / s.group_size;
        qparams p = empty_qparams(s, w.extent(0) * groups);
        for (index_t n = 0; n < w.extent(0); ++n)
            for (index_t g = 0; g < groups; ++g) {
                const index_t from = g * s.group_size, to = from + s.group_size < k ? from + s.group_size : k;
                float lo = INFINITY, hi = -INFINITY;
                for (index_t i = from; i < to; ++i) {
                    const float v = float(w(n, i));
                    if (!std::isfinite(v))
                        return status(errc::invalid_argument, "calibrate_weights: weight [%td, %td] is %g", n, i, double(v));
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
                const std::size_t at = std::size_t(n * groups + g);
                SPARQ_TRY(choose_qparams(lo, hi, s, p.scale[at], p.zero_point[at]));
            }
        return p;
    }
}

}  // namespace sparq::quant
