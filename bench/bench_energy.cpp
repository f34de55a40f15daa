// What counting energy costs, two ways: the xsimd kernels on the listed layer shapes with no
// counter in the context (impl sparq_xsimd_nocount), beside the sparq_xsimd rows of the same
// family and shape, which count every call (a difference VM noise can hide); and the cost of one
// count itself (energy_count/count_gemm), which table.py divides by each row's time per call.
// The target is < 2 %.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/matmul.hpp"

namespace {

struct gemm_shape {
    long m, n, k;
};
const gemm_shape gemms[] = {{64, 128, 64},  {16, 1024, 1024}, {128, 768, 768}, {128, 3072, 768},
                            {128, 768, 3072}, {256, 256, 256}, {1, 1024, 1024}, {1, 4096, 4096}};

std::string gemm_name(const char* family, const gemm_shape& s) {
    const bool matvec = s.m == 1;
    std::string shape = matvec ? std::to_string(s.n) + "x" + std::to_string(s.k)
                               : std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
    return std::string(matvec ? "matvec_" : "matmul_") + family + "/sparq_xsimd_nocount/" + shape;
}

template <class T>
std::vector<T> values(long count, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<T> v(static_cast<std::size_t>(count));
    for (auto& x : v) x = static_cast<T>(int(rng() % 15) - 7);
    return v;
}

void gops(benchmark::State& state, double ops_per_iter) {
    state.counters["GOP"] = benchmark::Counter(ops_per_iter * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

void f32_nocount(benchmark::State& state, gemm_shape s) {
    auto x = values<float>(s.m * s.k, 1), w = values<float>(s.n * s.k, 2);
    std::vector<float> y(static_cast<std::size_t>(s.m * s.n));
    auto packed = sparq::kernels::pack_weights(sparq::matrix_view<const float>(w.data(), {s.n, s.k}));
    if (!packed) return state.SkipWithError(packed.error().message());
    sparq::context ctx;  // no energy counter
    ctx.with_backend(sparq::backend::xsimd, false);
    for (auto _ : state) {
        if (!sparq::kernels::matmul(ctx, sparq::matrix_view<const float>(x.data(), {s.m, s.k}), *packed,
                                    sparq::matrix_view<float>(y.data(), {s.m, s.n})).ok())
            return state.SkipWithError("matmul failed");
        benchmark::DoNotOptimize(y.data());
    }
    gops(state, 2.0 * double(s.m) * double(s.n) * double(s.k));
}

void s8_nocount(benchmark::State& state, gemm_shape s) {
    auto x = values<std::int8_t>(s.m * s.k, 3), w = values<std::int8_t>(s.n * s.k, 4);
    std::vector<std::int32_t> y(static_cast<std::size_t>(s.m * s.n));
    auto packed = sparq::kernels::pack_weights(sparq::matrix_view<const std::int8_t>(w.data(), {s.n, s.k}));
    if (!packed) return state.SkipWithError(packed.error().message());
    sparq::context ctx;
    ctx.with_backend(sparq::backend::xsimd, false);
    for (auto _ : state) {
        if (!sparq::kernels::matmul_s8(ctx, sparq::matrix_view<const std::int8_t>(x.data(), {s.m, s.k}), *packed,
                                       sparq::matrix_view<std::int32_t>(y.data(), {s.m, s.n})).ok())
            return state.SkipWithError("matmul_s8 failed");
        benchmark::DoNotOptimize(y.data());
    }
    gops(state, 2.0 * double(s.m) * double(s.n) * double(s.k));
}

// One kernel call's counting: what a counted product adds over an uncounted one.
void count_gemm_cost(benchmark::State& state) {
    sparq::energy::counter c;
    std::uint64_t m = 1;
    for (auto _ : state) {
        sparq::energy::count_gemm(&c, sparq::dtype::s8, sparq::dtype::s8, sparq::dtype::s8, sparq::dtype::s32, m, 768, 768);
        benchmark::DoNotOptimize(&c);
        m = m % 512 + 1;  // shapes vary, as they would between layers
    }
}

const bool registered = [] {
    benchmark::RegisterBenchmark("energy_count/count_gemm/1", count_gemm_cost);
    for (const gemm_shape& s : gemms) {
        benchmark::RegisterBenchmark(gemm_name("f32", s).c_str(), f32_nocount, s);
        benchmark::RegisterBenchmark(gemm_name("s8", s).c_str(), s8_nocount, s);
    }
    return true;
}();

}  // namespace
