// MSE observer: the clip range that minimises the expected squared quantization error of the
// observed distribution, by search. For each candidate range the error is estimated from a
// 2048-bin histogram: values inside pay the rounding noise of the scheme's own grid (step^2 / 12),
// values outside pay their squared distance to the clip. Symmetric schemes search the threshold
// t in 256 steps of max |x|; affine schemes search both ends, 64 steps each. Deterministic.
#pragma once

#include <cmath>
#include <vector>

#include "sparq/quant/histogram.hpp"
#include "sparq/quant/scheme.hpp"

namespace sparq::quant {

class mse_observer {
public:
    explicit mse_observer(const qscheme& s, nonfinite policy = nonfinite::error, index_t bins = 2048)
        : scheme_(s), hist_(bins, histogram::kind::values, policy) {}

    template <class T, std::size_t Rank>
    status observe(const tensor_view<T, Rank>& x) { return hist_.add(x); }

    // The estimated mean squared error of quantizing the observed data with clip range [a, b].
    double expected_error(double a, double b) const {
        const qrange r = scheme_.range();
        const double step = (b - a) / double(r.qmax - r.qmin);
        const double w = hist_.bin_width(), lo = hist_.lo();
        double err = 0;
        for (index_t i = 0; i < hist_.bins(); ++i) {
            const double n = double(hist_.counts()[std::size_t(i)]);
            if (n == 0) continue;
            const double c = lo + (double(i) + 0.5) * w;
            const double d = c < a ? a - c : (c > b ? c - b : 0.0);
            err += n * (d > 0 ? d * d : step * step / 12.0);
        }
        return err / double(hist_.total());
    }

    result<std::pair<float, float>> clip_range() const {
        if (hist_.total() == 0) return status(errc::invalid_argument, "mse_observer: no finite data observed");
        const double lo = std::fmin(hist_.lo(), 0.0f), hi = std::fmax(hist_.hi(), 0.0f);
        double best = INFINITY, best_a = lo, best_b = hi;
        if (scheme_.symmetric) {
            const double amax = std::fmax(-lo, hi);
            for (int j = 1; j <= 256; ++j) {
                const double t = amax * j / 256.0;
                const double e = expected_error(-t, t);
                if (e < best) best = e, best_a = -t, best_b = t;
            }
        } else {
            for (int i = 0; i < 64; ++i)
                for (int j = 0; j < 64; ++j) {
                    const double a = lo * (64 - i) / 64.0, b = hi * (64 - j) / 64.0;
                    if (!(b > a)) continue;
                    const double e = expected_error(a, b);
                    if (e < best) best = e, best_a = a, best_b = b;
                }
        }
        return std::pair<float, float>{float(best_a), float(best_b)};
    }

    result<qparams> compute() const {
        auto r = clip_range();
        if (!r) return r.error();
        qparams p = empty_qparams(scheme_, 1);
        SPARQ_TRY(choose_qparams(r->first, r->second, scheme_, p.scale[0], p.zero_point[0]));
        return p;
    }

    const histogram& hist() const noexcept { return hist_; }

private:
    qscheme scheme_;
    histogram hist_;
};

}  // namespace sparq::quant
