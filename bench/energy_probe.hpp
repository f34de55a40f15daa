// Energy beside time in sparq_bench: est_J, the estimated joules per iteration from sparq's
// counter (set by each benchmark; 0 for the anchors, which sparq does not count), and meas_J,
// the package energy per iteration measured by RAPL / perf over the timed loop where this
// machine has a readable meter. meas_J is the whole package (every core, uncore, idle power),
// not the kernel alone; on machines without a meter it is absent, never 0 (main.cpp prints why).
#pragma once

#include <benchmark/benchmark.h>

#include "sparq/energy/meter.hpp"

namespace sparq_bench {

inline sparq::energy::meter& package_meter() {
    static sparq::energy::meter m = sparq::energy::open_best_meter();
    return m;
}

// Made just before the timed loop; report() just after it.
class energy_probe {
public:
    energy_probe() : running_(package_meter().available() && package_meter().start().ok()) {}

    void report(benchmark::State& state, double estimated_joules_per_iteration) const {
        state.counters["est_J"] = estimated_joules_per_iteration;
        if (!running_ || state.iterations() == 0) return;
        auto joules = package_meter().joules_since_start();
        if (joules) state.counters["meas_J"] = *joules / double(state.iterations());
    }

private:
    bool running_;
};

}  // namespace sparq_bench
