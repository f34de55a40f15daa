// Latency figures from timed calls: median, 90th percentile and minimum, the figures
// onnxruntime_perf_test and TFLite's benchmark_model report.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cli.hpp"  // sample_rng

namespace sparq_cli {

struct latency_stats {
    double median = 0, p90 = 0, min = 0;  // in the unit of the samples
    std::uint64_t calls = 0;              // calls timed
    std::size_t kept = 0;                 // of which median and p90 were taken
};

// Records every timed call's latency in bounded memory: the minimum exactly, and a uniform
// sample of at most `capacity` calls (reservoir sampling, Vitter's algorithm R) for the median
// and p90. A microsecond model run for --min-time makes millions of calls; keeping them all
// would put megabytes of timings into the peak RSS the benchmark reports.
class latency_recorder {
public:
    explicit latency_recorder(std::size_t capacity, std::size_t expected) : capacity_(capacity ? capacity : 1) {
        kept_.reserve(std::min(capacity_, expected));
    }

    void add(float v) {
        min_ = seen_ == 0 ? v : std::min(min_, v);
        ++seen_;
        if (kept_.size() < capacity_) {
            kept_.push_back(v);
        } else if (const std::uint64_t j = rng_.next() % seen_; j < capacity_) {
            kept_[std::size_t(j)] = v;
        }
    }
    std::uint64_t calls() const noexcept { return seen_; }

    // The median of an even count is the mean of the middle two; p90 is the nearest rank (the
    // smallest sample with at least 90 % of them at or below it): min <= median <= p90.
    latency_stats summarize() {
        latency_stats s;
        s.calls = seen_;
        s.kept = kept_.size();
        if (kept_.empty()) return s;
        std::sort(kept_.begin(), kept_.end());
        const std::size_t n = kept_.size();
        s.min = min_;
        s.median = n % 2 ? kept_[n / 2] : 0.5 * (double(kept_[n / 2 - 1]) + double(kept_[n / 2]));
        s.p90 = kept_[(9 * n + 9) / 10 - 1];  // rank ceil(0.9 n), at least 1
        return s;
    }

private:
    std::size_t capacity_;
    std::vector<float> kept_;
    std::uint64_t seen_ = 0;
    float min_ = 0;
    sample_rng rng_{0x5eed};
};

}  // namespace sparq_cli
