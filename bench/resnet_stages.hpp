// ResNet-18's 3x3 stride-1 convolution stages at batch 1 (C in = C out, H = W), shared by the
// convolution benchmarks, and their throughput counter: GOP/s of the direct convolution's
// 2 C^2 9 HW operations, whatever algorithm ran (so Winograd's row reads as the speed a direct
// kernel would need to match it).
#pragma once

#include <benchmark/benchmark.h>

#include "energy_probe.hpp"

namespace sparq_bench {

struct resnet_stage {
    long c, hw;
};
inline constexpr resnet_stage resnet_stages[] = {{64, 56}, {128, 28}, {256, 14}, {512, 7}};

inline void set_conv_counters(benchmark::State& state, resnet_stage s, double joules, const energy_probe& probe) {
    const double ops = 2.0 * double(s.c) * double(s.c) * 9.0 * double(s.hw * s.hw);
    state.counters["GOP"] = benchmark::Counter(ops * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
    probe.report(state, joules);
}

}  // namespace sparq_bench
