// core/parallel.hpp's grain: a ReLU over n floats (one work unit a value) run whole on one
// thread, and cut in two chunks on two threads through parallel_range (forced, whatever the
// grain says), so the size where two threads start to pay shows; and the cost of handing two
// empty tasks to the pool. parallel_grain is chosen from these rows (docs/performance.md).
#include <benchmark/benchmark.h>

#include <vector>

#include "sparq/core/thread_pool.hpp"
#include "sparq/nn/ops/elementwise.hpp"

namespace {

void relu_split(benchmark::State& state) {
    const auto n = static_cast<sparq::index_t>(state.range(0));
    const int threads = static_cast<int>(state.range(1));
    std::vector<float> x(static_cast<std::size_t>(n)), y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 97) - 48);
    sparq::context ctx;
    ctx.with_threads(threads);
    const sparq::index_t half = (n / 2 + 15) / 16 * 16;
    const sparq::range_split split = threads > 1 ? sparq::range_split{n, half, 2, 2} : sparq::range_split{n, n, 1, 1};
    for (auto _ : state) {
        sparq::parallel_range(ctx, split, [&](sparq::index_t, sparq::index_t b, sparq::index_t e) {
            sparq::nn::ops::detail::unary_values(sparq::nn::op::relu, {}, x.data() + b, y.data() + b, e - b);
        });
        benchmark::DoNotOptimize(y.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n * static_cast<int64_t>(sizeof(float)));
}

void pool_dispatch(benchmark::State& state) {
    sparq::context ctx;
    ctx.with_threads(2);
    for (auto _ : state) sparq::parallel_for(ctx, 2, [](sparq::index_t t) { benchmark::DoNotOptimize(t); });
}

}  // namespace

// relu_f32/sparq_split/<values>/<threads>
BENCHMARK(relu_split)->Name("relu_f32/sparq_split")->ArgsProduct({{16384, 65536, 131072, 262144, 524288, 1048576}, {1, 2}})->UseRealTime();
BENCHMARK(pool_dispatch)->Name("parallel_for/pool/2")->UseRealTime();
