// Entropy observer: the symmetric clip threshold whose quantized distribution loses the least
// information, by KL divergence: TensorRT's calibration (Migacz, "8-bit Inference with
// TensorRT", GTC 2017). For each candidate i (in histogram bins of |x|): P is the histogram cut
// at i with the mass beyond folded into its last bin; Q is the same i bins quantized into
// 2^(bits-1) levels (bin k to level floor(k * levels / i)), each level's count spread evenly
// over the level's non-empty bins; the i of the least KL(P || Q) wins (the first, on a tie).
//
// As published, except (each moves the threshold by at most a bin; tests/quant/test_observers.cpp
// checks it against tools/gen/make_entropy_reference.py, the published algorithm in numpy):
// - i also takes the value bins (no clipping at all), as NVIDIA's pytorch-quantization does;
// - the threshold is the upper edge of the kept bins, i * width (pytorch-quantization, MXNet),
//   not TensorRT's (i + 0.5) * width, the middle of the first bin cut.
// Until 2026-12 this followed MXNet's _get_optimal_threshold in two ways that moved thresholds by
// up to 100 bins of 2048 (a unit Gaussian's from 3.93 to 4.13): Q counted the last bin as
// non-empty when only folded outliers were in it (letting every empty bin of a sparse tail be a
// cheap cut), with Q's empty bins smoothed by eps; and the levels were cut at floor(j * i / levels),
// which neither TensorRT's nor MXNet's grouping is. Both now follow the published algorithm: a
// candidate whose last bin holds only outliers has Q = 0 where P is not, an infinite divergence.
#pragma once

#include <cmath>
#include <vector>

#include "sparq/quant/histogram.hpp"
#include "sparq/quant/scheme.hpp"

namespace sparq::quant {

class entropy_observer {
public:
    explicit entropy_observer(const qscheme& s, nonfinite policy = nonfinite::error, index_t bins = 2048)
        : scheme_(s), hist_(bins, histogram::kind::magnitudes, policy) {}

    template <class T, std::size_t Rank>
    status observe(const tensor_view<T, Rank>& x) { return hist_.add(x); }

    result<float> threshold() const {
        if (hist_.total() == 0) return status(errc::invalid_argument, "entropy_observer: no finite data observed");
        const index_t bins = hist_.bins();
        const index_t levels = index_t(1) << (bits_of(scheme_.type) - 1);
        if (bins < levels) return hist_.hi();
        const auto& c = hist_.counts();
        std::vector<double> p(static_cast<std::size_t>(bins)), q(static_cast<std::size_t>(bins));
        double best_kl = INFINITY;
        index_t best = bins;
        double beyond = 0;
        for (index_t b = levels; b < bins; ++b) beyond += double(c[std::size_t(b)]);
        for (index_t i = levels; i <= bins; ++i) {
            if (i > levels) beyond -= double(c[std::size_t(i - 1)]);
            for (index_t k = 0; k < i; ++k) p[std::size_t(k)] = double(c[std::size_t(k)]);
            p[std::size_t(i - 1)] += beyond;
            // Level j holds the bins k with floor(k * levels / i) == j: k in [ceil(j i / levels),
            // ceil((j + 1) i / levels)); Q spreads the bins' own counts (not the folded outliers).
            for (index_t j = 0; j < levels; ++j) {
                const index_t from = (j * i + levels - 1) / levels, to = ((j + 1) * i + levels - 1) / levels;
                double mass = 0;
                index_t nonzero = 0;
                for (index_t k = from; k < to; ++k) {
                    mass += double(c[std::size_t(k)]);
                    nonzero += c[std::size_t(k)] != 0;
                }
                for (index_t k = from; k < to; ++k)
                    q[std::size_t(k)] = c[std::size_t(k)] != 0 ? mass / double(nonzero) : 0.0;
            }
            const double kl = divergence(p.data(), q.data(), i);
            if (kl < best_kl) best_kl = kl, best = i;
        }
        return float(double(hist_.lo()) + double(best) * hist_.bin_width());
    }

    result<qparams> compute() const {
        auto t = threshold();
        if (!t) return t.error();
        // The threshold is a magnitude: symmetric schemes clip to [-t, t]; an affine scheme on
        // data that is never negative (post-ReLU activations in uint8) gets [0, t] and zero
        // point qmin, so no code is wasted on negatives that never occur.
        const float lo = scheme_.symmetric || hist_.raw_min() < 0.0f ? -*t : 0.0f;
        qparams p = empty_qparams(scheme_, 1);
        SPARQ_TRY(choose_qparams(lo, *t, scheme_, p.scale[0], p.zero_point[0]));
        return p;
    }

    const histogram& hist() const noexcept { return hist_; }

private:
    // KL(P || Q) over the first n bins, each normalised; infinite where Q has no mass and P has
    // (only the last bin can be such: outliers folded into a bin of no counts of its own).
    static double divergence(const double* p, const double* q, index_t n) {
        double sp = 0, sq = 0;
        for (index_t k = 0; k < n; ++k) sp += p[k], sq += q[k];
        if (!(sp > 0) || !(sq > 0)) return INFINITY;
        double kl = 0;
        for (index_t k = 0; k < n; ++k) {
            if (p[k] == 0) continue;
            if (q[k] == 0) return INFINITY;
            kl += p[k] / sp * std::log((p[k] / sp) / (q[k] / sq));
        }
        return kl;
    }

    qscheme scheme_;
    histogram hist_;
};

}  // namespace sparq::quant
