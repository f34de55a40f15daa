// Histogram observer: PyTorch's HistogramObserver, reproduced for bit-compatible calibration
// (caffe2's NormMinimization: shrink the range from whichever side holds less mass, 1e-5 of the
// total at a time, while an L2 error estimate falls). Greedy: once it starts shrinking one side
// it rarely moves the other, so with outliers on both sides a symmetric scale may not shrink at
// all; mse_observer searches properly. Per tensor. Matches PyTorch on a single batch; across
// batches sparq merges histograms exactly where PyTorch interpolates, and results differ.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/quant/histogram.hpp"
#include "sparq/quant/scheme.hpp"

namespace sparq::quant {

class histogram_observer {
public:
    explicit histogram_observer(const qscheme& s, nonfinite policy = nonfinite::error, index_t bins = 2048)
        : scheme_(s), hist_(bins, histogram::kind::values, policy) {}

    template <class T, std::size_t Rank>
    status observe(const tensor_view<T, Rank>& x) { return hist_.add(x); }

    // The chosen clip range [lo, hi] (before it is widened to include 0).
    result<std::pair<float, float>> clip_range() const {
        if (hist_.total() == 0) return status(errc::invalid_argument, "histogram_observer: no finite data observed");
        const index_t bins = hist_.bins();
        const double total = double(hist_.total());
        std::vector<double> csum(static_cast<std::size_t>(bins));
        double run = 0;
        for (index_t i = 0; i < bins; ++i) csum[std::size_t(i)] = run += double(hist_.counts()[std::size_t(i)]);

        double alpha = 0.0, beta = 1.0, norm_min = INFINITY;
        index_t start = 0, end = bins - 1;
        while (alpha < beta) {
            const double next_alpha = alpha + 1e-5, next_beta = beta - 1e-5;
            // PyTorch compares a float32 cumulative sum with the threshold cast to float32.
            const float lo_mass = float(next_alpha * total), hi_mass = float(next_beta * total);
            index_t l = start, r = end;
            while (l < end && float(csum[std::size_t(l)]) < lo_mass) ++l;
            while (r > start && float(csum[std::size_t(r)]) > hi_mass) --r;
            index_t next_start = start, next_end = end;
            if (l - start > end - r) {
                next_start = l;
                alpha = next_alpha;
            } else {
                next_end = r;
                beta = next_beta;
            }
            if (next_start == start && next_end == end) continue;
            const double norm = error(next_start, next_end);
            if (norm > norm_min) break;
            norm_min = norm;
            start = next_start;
            end = next_end;
        }
        // float32, as PyTorch computes the new bounds from its float32 min, max and bin width.
        const float width = (hist_.hi() - hist_.lo()) / float(bins);
        const float lo = hist_.lo() + width * float(start);
        const float hi = hist_.lo() + width * float(end + 1);
        return std::pair<float, float>{lo, hi};
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
    // Estimated L2 error of quantizing the histogram's mass with [start, end] mapped onto the
    // type's 2^bits levels: each source bin's mass is spread evenly, each level's error is the
    // integral of x^2 around its centre (PyTorch's _compute_quantization_error, in double).
    double error(index_t start, index_t end) const {
        const index_t bins = hist_.bins();
        const double bw = (double(hist_.hi()) - double(hist_.lo())) / double(bins);
        const double levels = std::ldexp(1.0, int(bits_of(scheme_.type)));
        const double dst_w = bw * double(end - start + 1) / levels;
        if (dst_w == 0.0) return 0.0;
        auto cube_norm = [](double a, double b) { return (b * b * b - a * a * a) / 3.0; };
        double norm = 0.0;
        for (index_t i = 0; i < bins; ++i) {
            const double count = double(hist_.counts()[std::size_t(i)]);
            if (count == 0.0) continue;
            const double density = count / bw;
            const double begin = double(i - start) * bw, finish = begin + bw;
            const double dst_begin = std::fmin(std::fmax(std::floor(begin / dst_w), 0.0), levels - 1);
            const double dst_end = std::fmin(std::fmax(std::floor(finish / dst_w), 0.0), levels - 1);
            norm += density * cube_norm(begin - (dst_begin + 0.5) * dst_w, dst_w / 2);
            norm += (dst_end - dst_begin - 1) * density * cube_norm(-dst_w / 2, dst_w / 2);
            norm += density * cube_norm(-dst_w / 2, finish - (dst_end * dst_w + dst_w / 2));
        }
        return norm;
    }

    qscheme scheme_;
    histogram hist_;
};

}  // namespace sparq::quant
