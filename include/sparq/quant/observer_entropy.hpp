// Entropy observer: the symmetric clip threshold whose quantized distribution loses the least
// information, by KL divergence (the calibration TensorRT popularised; Migacz, "8-bit
// Inference with TensorRT", GTC 2017; this follows MXNet's _get_optimal_threshold). For each
// candidate threshold i (in histogram bins of |x|): P is the histogram cut at i with the mass
// beyond folded into the last bin; Q merges the same bins into 2^(bits-1) levels and spreads
// each level evenly over its non-empty bins; the threshold minimising KL(P || Q) wins.
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
            for (index_t j = 0; j < levels; ++j) {
                const index_t from = j * i / levels, to = (j + 1) * i / levels;
                double mass = 0;
                index_t nonzero = 0;
                for (index_t k = from; k < to; ++k) {
                    mass += double(c[std::size_t(k)]);
                    nonzero += p[std::size_t(k)] != 0.0;
                }
                for (index_t k = from; k < to; ++k)
                    q[std::size_t(k)] = p[std::size_t(k)] != 0.0 && nonzero ? mass / double(nonzero) : 0.0;
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
    // KL(P || Q) over the first n bins. As MXNet's _smooth_distribution: Q's empty bins get
    // eps counts, paid for by its non-empty bins, so the divergence stays finite where P has
    // mass that Q's levels put nowhere; then both are normalised.
    static double divergence(const double* p, const double* q, index_t n) {
        constexpr double eps = 1e-4;
        index_t q_zero = 0;
        for (index_t k = 0; k < n; ++k) q_zero += q[k] == 0;
        if (q_zero == n) return INFINITY;
        const double paid = eps * double(q_zero) / double(n - q_zero);
        double sp = 0, sq = 0;
        for (index_t k = 0; k < n; ++k) {
            sp += p[k];
            sq += q[k] == 0 ? eps : q[k] - paid;
        }
        double kl = 0;
        for (index_t k = 0; k < n; ++k) {
            if (p[k] == 0) continue;
            const double qk = q[k] == 0 ? eps : q[k] - paid;
            if (!(qk > 0)) return INFINITY;  // too little mass to smooth: not a usable candidate
            kl += p[k] / sp * std::log((p[k] / sp) / (qk / sq));
        }
        return kl;
    }

    qscheme scheme_;
    histogram hist_;
};

}  // namespace sparq::quant
