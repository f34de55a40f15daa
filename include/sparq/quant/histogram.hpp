// histogram: the distribution of calibration data in fixed-width bins, for the observers that
// choose a clip range (MSE, entropy, percentile). Either over [min, max] of the values, or over
// [0, max |x|] of their magnitudes (for symmetric schemes).
//
// The first batch fixes the range from its own min and max and bins like torch.histc (float
// arithmetic, the top edge in the last bin). A later batch outside the range widens it by an
// integer factor aligned on the old edges, so old bins merge whole into new ones: exact, and
// the same data in the same batches always gives the same histogram.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/core/rows.hpp"
#include "sparq/quant/observer_minmax.hpp"  // nonfinite

namespace sparq::quant {

class histogram {
public:
    enum class kind : std::uint8_t { values, magnitudes };

    explicit histogram(index_t bins = 2048, kind k = kind::values, nonfinite policy = nonfinite::error)
        : counts_(std::size_t(bins > 0 ? bins : 1), 0), kind_(k), policy_(policy) {}

    template <std::size_t Rank>
    status add(const tensor_view<const float, Rank>& x) {
        float lo = INFINITY, hi = -INFINITY;
        std::uint64_t bad = 0;
        float bad_value = 0;
        for_each_row(x, [&](const vector_view<const float>& row, const extents_t<Rank>&) {
            for (index_t i = 0; i < row.extent(0); ++i) {
                float v = row(i);
                if (!std::isfinite(v)) {
                    if (!bad++) bad_value = v;
                    continue;
                }
                if (kind_ == kind::magnitudes) v = std::fabs(v);
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        });
        if (bad && policy_ == nonfinite::error)
            return status(errc::invalid_argument,
                          "calibration data holds %llu non-finite values (first: %g); clean it or observe with nonfinite::skip",
                          static_cast<unsigned long long>(bad), double(bad_value));
        skipped_ += bad;
        if (lo > hi) return status::success();  // nothing finite in this batch
        if (kind_ == kind::magnitudes) {
            for_each_row(x, [&](const vector_view<const float>& row, const extents_t<Rank>&) {
                for (index_t i = 0; i < row.extent(0); ++i)
                    if (std::isfinite(row(i))) raw_min_ = row(i) < raw_min_ ? row(i) : raw_min_;
            });
        }
        if (kind_ == kind::magnitudes) lo = 0.0f;
        if (total_ == 0) {
            lo_ = lo;
            hi_ = hi;
        } else if (lo < lo_ || hi > hi_) {
            widen(lo, hi);
        }
        const index_t bins = this->bins();
        const float lo_edge = lo_, span = hi_ - lo_;
        for_each_row(x, [&](const vector_view<const float>& row, const extents_t<Rank>&) {
            for (index_t i = 0; i < row.extent(0); ++i) {
                float v = row(i);
                if (!std::isfinite(v)) continue;
                if (kind_ == kind::magnitudes) v = std::fabs(v);
                ++counts_[std::size_t(bin_of(v, lo_edge, span, bins))];
            }
        });
        total_ = 0;
        for (auto c : counts_) total_ += c;
        return status::success();
    }
    template <class T, std::size_t Rank>
    status add(const tensor_view<T, Rank>& x) { return add(x.as_const()); }

    index_t bins() const noexcept { return index_t(counts_.size()); }
    float lo() const noexcept { return lo_; }
    float hi() const noexcept { return hi_; }
    double bin_width() const noexcept { return (double(hi_) - double(lo_)) / double(bins()); }
    const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }
    std::uint64_t total() const noexcept { return total_; }
    std::uint64_t skipped() const noexcept { return skipped_; }
    kind what() const noexcept { return kind_; }
    // The smallest value seen (magnitude histograms keep it: is the data ever negative?).
    float raw_min() const noexcept { return kind_ == kind::magnitudes ? raw_min_ : lo_; }

private:
    // torch.histc's bin: (v - lo) * bins / span in float. When that product overflows float
    // (spans beyond ~1e35) it is redone in double; either way clamped before the cast.
    static index_t bin_of(float v, float lo, float span, index_t bins) noexcept {
        if (!(span > 0.0f)) return 0;
        float pos = (v - lo) * float(bins) / span;
        if (!std::isfinite(pos)) pos = float((double(v) - double(lo)) * double(bins) / double(span));
        return pos < 0.0f ? 0 : (pos >= float(bins) ? bins - 1 : static_cast<index_t>(pos));
    }

    // Grow [lo_, hi_] to cover [lo, hi]: new width = factor * old width, new lower edge on an
    // old edge, so old bin i goes whole to new bin (i + shift) / factor.
    void widen(float lo, float hi) {
        const index_t bins = this->bins();
        const double w = bin_width();
        if (!(w > 0.0)) {  // everything so far was one value: restart from the combined range
            const std::uint64_t kept = total_;
            const float old = lo_;
            lo_ = lo < lo_ ? lo : lo_;
            hi_ = hi > hi_ ? hi : hi_;
            std::fill(counts_.begin(), counts_.end(), 0);
            counts_[std::size_t(bin_of(old, lo_, hi_ - lo_, bins))] = kept;
            return;
        }
        // Bins to add below and above; capped (a batch far outside the range would otherwise ask
        // for more bins than an integer holds): the factor then merges everything into few bins.
        const double cap = 1e15;
        const double need_below = lo < lo_ ? std::ceil((double(lo_) - double(lo)) / w) : 0.0;
        const double need_above = hi > hi_ ? std::ceil((double(hi) - double(hi_)) / w) : 0.0;
        const index_t below = static_cast<index_t>(need_below < cap ? need_below : cap);
        const index_t above = static_cast<index_t>(need_above < cap ? need_above : cap);
        const index_t factor = (bins + below + above + bins - 1) / bins;
        std::vector<std::uint64_t> merged(counts_.size(), 0);
        for (index_t i = 0; i < bins; ++i) merged[std::size_t((i + below) / factor)] += counts_[std::size_t(i)];
        counts_.swap(merged);
        lo_ = float(double(lo_) - double(below) * w);
        hi_ = float(double(lo_) + double(bins) * double(factor) * w);
        if (hi_ < hi) hi_ = hi;  // float rounding of the new edge must still cover the data
    }

    std::vector<std::uint64_t> counts_;
    kind kind_;
    nonfinite policy_;
    float lo_ = 0.0f, hi_ = 0.0f;
    float raw_min_ = INFINITY;
    std::uint64_t total_ = 0;
    std::uint64_t skipped_ = 0;
};

}  // namespace sparq::quant
