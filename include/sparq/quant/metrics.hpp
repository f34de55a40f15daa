// How close a compressed result is to its reference: SQNR in dB, max and mean absolute error,
// cosine similarity. Accumulated in double, over views of any shape (equal extents).
#pragma once

#include <cmath>

#include "sparq/core/rows.hpp"

namespace sparq::quant {

struct error_metrics {
    double sqnr_db = INFINITY;  // 10 log10(sum ref^2 / sum (ref - x)^2); +inf when identical
    double max_abs = 0;
    double mean_abs = 0;
    double cosine = 1;  // <ref, x> / (|ref| |x|); 1 when both are zero
    index_t count = 0;
};

template <std::size_t Rank>
result<error_metrics> compare(const tensor_view<const float, Rank>& reference, const tensor_view<const float, Rank>& x) {
    SPARQ_TRY(check_same_shape(reference, x, "compare"));
    double signal = 0, noise = 0, abs_sum = 0, max_abs = 0, dot = 0, xx = 0;
    index_t n = 0;
    bool finite = true;
    for_each_row(reference, x, [&](const vector_view<const float>& r, const vector_view<const float>& y, const extents_t<Rank>&) {
        for (index_t i = 0; i < r.extent(0); ++i) {
            const double a = r(i), b = y(i), d = a - b;
            finite = finite && std::isfinite(a) && std::isfinite(b);
            signal += a * a;
            noise += d * d;
            abs_sum += std::fabs(d);
            max_abs = std::fabs(d) > max_abs ? std::fabs(d) : max_abs;
            dot += a * b;
            xx += b * b;
        }
        n += r.extent(0);
    });
    if (!finite) return status(errc::invalid_argument, "compare: the inputs hold NaN or Inf");
    error_metrics m;
    m.count = n;
    m.max_abs = max_abs;
    m.mean_abs = n ? abs_sum / double(n) : 0.0;
    m.sqnr_db = noise > 0 ? 10.0 * std::log10(signal / noise) : INFINITY;
    m.cosine = signal > 0 && xx > 0 ? dot / std::sqrt(signal * xx) : (signal == xx ? 1.0 : 0.0);
    return m;
}

template <class A, class B, std::size_t Rank>
result<error_metrics> compare(const tensor_view<A, Rank>& reference, const tensor_view<B, Rank>& x) {
    return compare(reference.as_const(), x.as_const());
}

}  // namespace sparq::quant
