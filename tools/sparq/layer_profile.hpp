// sparq bench --layers: where a call's time goes, layer by layer and by kind of layer (what
// TFLite's benchmark_model prints with --enable_op_profiling and onnxruntime_perf_test with -p).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sparq/energy/report.hpp"
#include "sparq/nn/compiled_model.hpp"

namespace sparq_cli {

struct layer_profile_row {
    std::string name, kind;
    double ms = 0.0;         // per call (the profiled calls' mean)
    std::uint64_t macs = 0;  // per call (the whole batch)
};

struct layer_profile {
    std::vector<layer_profile_row> layers;  // graph order
    std::vector<layer_profile_row> kinds;   // summed by kind, the most time first (name empty)
    std::uint64_t calls = 0;
    double call_ms = 0.0;    // a profiled call's mean wall time, layers and all
    double layers_ms = 0.0;  // the layers' sum; the rest: inputs and outputs converted, passes set up
};

// counts: what `calls` calls of run() with per-layer counters left (their work and seconds).
layer_profile make_layer_profile(const sparq::nn::compiled_model& c,
                                 const std::vector<sparq::energy::layer_counts>& counts, std::uint64_t calls,
                                 double total_seconds);

// The terminal tables: time by kind of layer, then the `top` layers that took the most.
void print_layer_profile(const layer_profile& p, std::size_t top);

// "layers": [...], "layer_kinds": [...], "profile_calls", "profile_call_ms" (no braces around them).
std::string layer_profile_json(const layer_profile& p);

}  // namespace sparq_cli
