// Percentile observer: clip at the p-th percentile instead of the extreme, so rare outliers do
// not stretch the scale. Symmetric schemes clip |x| at its p-th percentile; affine schemes clip
// x to its (100 - p)-th and p-th percentiles. Read off a histogram (linear inside a bin), so
// the result is within one bin width of the exact percentile.
#pragma once

#include "sparq/quant/histogram.hpp"
#include "sparq/quant/scheme.hpp"

namespace sparq::quant {

class percentile_observer {
public:
    percentile_observer(const qscheme& s, double percentile = 99.99, nonfinite policy = nonfinite::error,
                        index_t bins = 2048)
        : scheme_(s),
          percentile_(percentile),
          hist_(bins, s.symmetric ? histogram::kind::magnitudes : histogram::kind::values, policy) {}

    template <class T, std::size_t Rank>
    status observe(const tensor_view<T, Rank>& x) { return hist_.add(x); }

    // The value below which `p` percent of the observed values (or magnitudes) lie.
    result<float> value_at(double p) const {
        if (!(p >= 0.0 && p <= 100.0)) return status(errc::invalid_argument, "percentile %g is outside [0, 100]", p);
        if (hist_.total() == 0) return status(errc::invalid_argument, "percentile_observer: no finite data observed");
        const double rank = p / 100.0 * double(hist_.total());
        double below = 0;
        const auto& c = hist_.counts();
        for (index_t b = 0; b < hist_.bins(); ++b) {
            const double n = double(c[std::size_t(b)]);
            if (n > 0 && below + n >= rank) {
                const double frac = (rank - below) / n;
                return float(double(hist_.lo()) + (double(b) + frac) * hist_.bin_width());
            }
            below += n;
        }
        return hist_.hi();
    }

    result<qparams> compute() const {
        if (!(percentile_ > 50.0 && percentile_ <= 100.0))
            return status(errc::invalid_argument, "percentile_observer: percentile %g is outside (50, 100]", percentile_);
        auto hi = value_at(percentile_);
        if (!hi) return hi.error();
        float lo = -*hi;
        if (!scheme_.symmetric) {
            auto l = value_at(100.0 - percentile_);
            if (!l) return l.error();
            lo = *l;
        }
        qparams p = empty_qparams(scheme_, 1);
        SPARQ_TRY(choose_qparams(lo, *hi, scheme_, p.scale[0], p.zero_point[0]));
        return p;
    }

    const histogram& hist() const noexcept { return hist_; }

private:
    qscheme scheme_;
    double percentile_;
    histogram hist_;
};

}  // namespace sparq::quant
