// matmul_f32: the anchor (Eigen) beside sparq's kernels, with GOP/s and estimated joules per
// iteration as counters. (Only the scalar reference exists yet; the SIMD and oneDNN backends
// join these rows as they land.)
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <array>
#include <string>

#include "sparq/core/tensor.hpp"
#include "sparq/energy/cost_model.hpp"
#include "sparq/kernels/matmul.hpp"

namespace {

void set_counters(benchmark::State& state, double m, double n, double k, double joules_per_iter) {
    state.counters["GOP"] = benchmark::Counter(2 * m * n * k * double(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
    state.counters["est_J"] = joules_per_iter;
}

void matmul_f32_eigen(benchmark::State& state, long m, long n, long k) {
    Eigen::MatrixXf x = Eigen::MatrixXf::Random(m, k), w = Eigen::MatrixXf::Random(n, k), y(m, n);
    for (auto _ : state) {
        y.noalias() = x * w.transpose();
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, double(m), double(n), double(k), 0);
}

void matmul_f32_sparq_scalar(benchmark::State& state, long m, long n, long k) {
    auto x = sparq::tensor<float, 2>::make({m, k});
    auto w = sparq::tensor<float, 2>::make({n, k});
    auto y = sparq::tensor<float, 2>::make({m, n});
    if (!x || !w || !y) return state.SkipWithError("allocation failed");
    x->fill(0.5f);
    w->fill(0.25f);
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_energy(count);
    for (auto _ : state) {
        if (!sparq::kernels::matmul<float>(ctx, x->cview(), w->cview(), y->view()).ok())
            return state.SkipWithError("matmul failed");
        benchmark::DoNotOptimize(y->data());
    }
    set_counters(state, double(m), double(n), double(k),
                 sparq::energy::estimate_energy(count).total_j() / double(state.iterations()));
}

}  // namespace

// family/impl/MxNxK names (bench/README.md), registered with the shape in the name.
const bool registered = [] {
    for (auto [m, n, k] : {std::array<long, 3>{256, 256, 256}}) {
        const std::string shape = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
        benchmark::RegisterBenchmark(("matmul_f32/eigen/" + shape).c_str(), matmul_f32_eigen, m, n, k);
        benchmark::RegisterBenchmark(("matmul_f32/sparq_scalar/" + shape).c_str(), matmul_f32_sparq_scalar, m, n, k);
    }
    return true;
}();
