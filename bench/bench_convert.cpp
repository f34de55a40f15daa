// convert_f16 / convert_bf16: float -> half throughput, sparq's bulk path (hardware
// instructions where compiled in) against the scalar reference and a memcpy of the same bytes.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "sparq/core/convert.hpp"

namespace {

std::vector<float> inputs(std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = 0.001f * float(i % 10007) - 3.0f;
    return v;
}

template <class H>
void convert_sparq(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto src = inputs(n);
    std::vector<H> dst(n);
    for (auto _ : state) {
        sparq::convert(src.data(), dst.data(), n);
        benchmark::DoNotOptimize(dst.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(float)));
}

template <class H>
void convert_scalar(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto src = inputs(n);
    std::vector<H> dst(n);
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) dst[i] = H(src[i]);
        benchmark::DoNotOptimize(dst.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(float)));
}

void memcpy_f32(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto src = inputs(n);
    std::vector<float> dst(n);
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), n * sizeof(float));
        benchmark::DoNotOptimize(dst.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(float)));
}

}  // namespace

// Names follow family/impl/shape (bench/README.md); the argument becomes the shape part.
BENCHMARK(convert_sparq<sparq::float16>)->Name("convert_f16/sparq")->Arg(65536);
BENCHMARK(convert_scalar<sparq::float16>)->Name("convert_f16/sparq_scalar")->Arg(65536);
BENCHMARK(convert_sparq<sparq::bfloat16>)->Name("convert_bf16/sparq")->Arg(65536);
BENCHMARK(convert_scalar<sparq::bfloat16>)->Name("convert_bf16/sparq_scalar")->Arg(65536);
BENCHMARK(memcpy_f32)->Name("memcpy/libc")->Arg(65536);
