// quantize_s8 / dequantize_s8 of 16M floats against a memcpy of the same float bytes: the
// memory-bound ops should run near the copy (issue 3 asks for within 2x), single thread. Beside
// them the NaN / Inf scan an int8 model runs over its input before quantizing it (core/finite.hpp).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "sparq/core/aligned_memory.hpp"
#include "sparq/core/finite.hpp"
#include "sparq/kernels/quantize.hpp"

namespace {

constexpr sparq::index_t n = sparq::index_t(1) << 24;  // 16M

struct buffers {
    std::vector<float> x, y;
    std::vector<std::int8_t> q;
    buffers() : x(std::size_t(n)), y(std::size_t(n)), q(std::size_t(n)) {
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.001f * float(int(i % 20011) - 10005);
    }
};
buffers& data() {
    static buffers b;
    return b;
}

sparq::context ctx_for(sparq::backend b) {
    sparq::context ctx;
    ctx.with_backend(b, false);
    return ctx;
}

void quantize_s8(benchmark::State& state, sparq::backend b) {
    auto& d = data();
    const auto p = sparq::quant::make_per_tensor(sparq::dtype::s8, 0.05f, 0);
    const auto ctx = ctx_for(b);
    for (auto _ : state) {
        if (!sparq::kernels::quantize(ctx, sparq::vector_view<const float>(d.x.data(), {n}), p,
                                      sparq::vector_view<std::int8_t>(d.q.data(), {n})).ok())
            return state.SkipWithError("quantize failed");
        benchmark::DoNotOptimize(d.q.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * n * int64_t(sizeof(float)));
}

void dequantize_s8(benchmark::State& state, sparq::backend b) {
    auto& d = data();
    const auto p = sparq::quant::make_per_tensor(sparq::dtype::s8, 0.05f, 0);
    const auto ctx = ctx_for(b);
    for (auto _ : state) {
        if (!sparq::kernels::dequantize(ctx, sparq::vector_view<const std::int8_t>(d.q.data(), {n}), p,
                                        sparq::vector_view<float>(d.y.data(), {n})).ok())
            return state.SkipWithError("dequantize failed");
        benchmark::DoNotOptimize(d.y.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * n * int64_t(sizeof(float)));
}

void find_nonfinite_f32(benchmark::State& state) {
    auto& d = data();
    for (auto _ : state) {
        const sparq::nonfinite_at at = sparq::find_nonfinite(sparq::matrix_view<const float>(d.x.data(), {n / 64, 64}));
        benchmark::DoNotOptimize(at);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * n * int64_t(sizeof(float)));
}

void memcpy_std(benchmark::State& state) {
    auto& d = data();
    for (auto _ : state) {
        std::memcpy(d.y.data(), d.x.data(), std::size_t(n) * sizeof(float));
        benchmark::DoNotOptimize(d.y.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * n * int64_t(sizeof(float)));
}

}  // namespace

BENCHMARK_CAPTURE(quantize_s8, xsimd, sparq::backend::xsimd)->Name("quantize_s8/sparq_xsimd/16M")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(quantize_s8, scalar, sparq::backend::scalar)->Name("quantize_s8/sparq_scalar/16M")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(dequantize_s8, xsimd, sparq::backend::xsimd)->Name("dequantize_s8/sparq_xsimd/16M")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(dequantize_s8, scalar, sparq::backend::scalar)->Name("dequantize_s8/sparq_scalar/16M")->Unit(benchmark::kMillisecond);
BENCHMARK(find_nonfinite_f32)->Name("find_nonfinite_f32/sparq/16M")->Unit(benchmark::kMillisecond);
BENCHMARK(memcpy_std)->Name("memcpy/std/16M")->Unit(benchmark::kMillisecond);
