// Min-max observers: the range of everything seen (per tensor or per channel), or its
// exponential moving average across batches (PyTorch's MinMaxObserver, PerChannelMinMaxObserver
// and MovingAverageMinMaxObserver, with the same float32 arithmetic). Non-finite values are an
// error, or are skipped and counted when the caller asks.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sparq/core/rows.hpp"
#include "sparq/quant/scheme.hpp"

namespace sparq::quant {

enum class nonfinite : std::uint8_t {
    error,  // a NaN or Inf in calibration data fails the observation (the default)
    skip,   // ignore it, count it (skipped())
};

class minmax_observer {
public:
    // averaging_constant 0: plain min-max over all batches; c in (0, 1]: each batch after the
    // first moves the range by c toward the batch's own (PyTorch's default for that is 0.01).
    explicit minmax_observer(const qscheme& s, nonfinite policy = nonfinite::error, float averaging_constant = 0.0f)
        : scheme_(s), policy_(policy), c_(averaging_constant) {}

    template <std::size_t Rank>
    status observe(const tensor_view<const float, Rank>& x) {
        if (scheme_.gran == granularity::per_group)
            return status(errc::unsupported, "minmax_observer: per-group ranges come from the weights themselves "
                                             "(use calibrate_weights)");
        if (!(c_ >= 0.0f && c_ <= 1.0f))
            return status(errc::invalid_argument, "minmax_observer: averaging constant %g is outside [0, 1]", double(c_));
        index_t channels = 1;
        if (scheme_.gran == granularity::per_channel) {
            if (scheme_.axis < 0 || scheme_.axis >= int(Rank)) {
                char shape[128];
                return status(errc::invalid_argument, "minmax_observer: channel axis %d for a tensor of shape %s",
                              scheme_.axis, format_extents(x.extents(), shape, sizeof shape));
            }
            channels = x.extent(std::size_t(scheme_.axis));
        }
        if (x.empty()) return status::success();  // nothing seen, nothing changes (as PyTorch)
        if (seen_ && index_t(min_.size()) != channels)
            return status(errc::shape_mismatch, "minmax_observer: %td channels now, %zu before", channels, min_.size());

        std::vector<float> lo(std::size_t(channels), std::numeric_limits<float>::infinity());
        std::vector<float> hi(std::size_t(channels), -std::numeric_limits<float>::infinity());
        std::uint64_t skipped = 0;
        index_t bad_at = -1;
        float bad_value = 0;
        const bool last_axis = scheme_.gran == granularity::per_channel && scheme_.axis == int(Rank) - 1;
        for_each_row(x, [&](const vector_view<const float>& row, const extents_t<Rank>& idx) {
            const index_t fixed = scheme_.gran == granularity::per_channel ? row_index_along(idx, scheme_.axis) : 0;
            for (index_t i = 0; i < row.extent(0); ++i) {
                const float v = row(i);
                if (!std::isfinite(v)) {
                    ++skipped;
                    if (bad_at < 0) bad_at = i, bad_value = v;
                    continue;
                }
                const std::size_t c = std::size_t(last_axis ? i : fixed);
                lo[c] = v < lo[c] ? v : lo[c];
                hi[c] = v > hi[c] ? v : hi[c];
            }
        });
        if (skipped && policy_ == nonfinite::error)
            return status(errc::invalid_argument,
                          "calibration data holds %llu non-finite values (first: %g); clean it or observe with nonfinite::skip",
                          static_cast<unsigned long long>(skipped), double(bad_value));
        skipped_ += skipped;
        if (!seen_) {
            min_ = lo;
            max_ = hi;
            seen_ = true;
            return status::success();
        }
        for (std::size_t c = 0; c < lo.size(); ++c) {
            if (lo[c] > hi[c]) continue;  // this channel saw only skipped values
            if (c_ > 0.0f && std::isfinite(min_[c])) {
                const float dmin = lo[c] - min_[c];
                const float dmax = hi[c] - max_[c];
                min_[c] = min_[c] + c_ * dmin;
                max_[c] = max_[c] + c_ * dmax;
            } else {
                min_[c] = lo[c] < min_[c] ? lo[c] : min_[c];
                max_[c] = hi[c] > max_[c] ? hi[c] : max_[c];
            }
        }
        return status::success();
    }
    template <class T, std::size_t Rank>
    status observe(const tensor_view<T, Rank>& x) { return observe(x.as_const()); }

    // The qparams for everything observed. A channel that saw no finite value gets the
    // all-zero range (scale eps); observing nothing at all is an error.
    result<qparams> compute() const {
        if (!seen_) return status(errc::invalid_argument, "minmax_observer: no data observed");
        qparams p = empty_qparams(scheme_, index_t(min_.size()));
        for (std::size_t c = 0; c < min_.size(); ++c) {
            const bool empty = min_[c] > max_[c];
            SPARQ_TRY(choose_qparams(empty ? 0.0f : min_[c], empty ? 0.0f : max_[c], scheme_, p.scale[c], p.zero_point[c]));
        }
        return p;
    }

    const std::vector<float>& min() const noexcept { return min_; }
    const std::vector<float>& max() const noexcept { return max_; }
    std::uint64_t skipped() const noexcept { return skipped_; }

private:
    qscheme scheme_;
    nonfinite policy_;
    float c_;
    bool seen_ = false;
    std::vector<float> min_, max_;
    std::uint64_t skipped_ = 0;
};

}  // namespace sparq::quant
