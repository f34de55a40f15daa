// conv_f32 / conv_s8 on ResNet-18's 3x3 convolutions (batch 1, stride 1, padding 1): sparq's
// im2col + packed GEMM. Shape names: NxCxHxW (the output channels equal C in these stages).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sparq/energy/cost_model.hpp"
#include "sparq/kernels/conv2d.hpp"

namespace {

struct stage {
    long c, hw;
};
const stage stages[] = {{64, 56}, {128, 28}, {256, 14}, {512, 7}};

template <class T, class Y>
void conv(benchmark::State& state, stage s) {
    const sparq::extents_t<4> in{1, s.c, s.hw, s.hw}, wx{s.c, s.c, 3, 3};
    const auto p = sparq::kernels::conv2d_params::same_padding(1);
    auto x = sparq::tensor<T, 4>::make(in);
    auto w = sparq::tensor<T, 4>::make(wx);
    auto y = sparq::tensor<Y, 4>::make({1, s.c, s.hw, s.hw});
    if (!x || !w || !y) return state.SkipWithError("allocation failed");
    std::mt19937 rng(5);
    for (sparq::index_t i = 0; i < x->size(); ++i) x->data()[i] = T(int(rng() % 200) - 100);
    for (sparq::index_t i = 0; i < w->size(); ++i) w->data()[i] = T(int(rng() % 200) - 100);
    auto packed = sparq::kernels::pack_conv_weights(w->cview(), 1);
    auto scratch = sparq::arena::with_capacity(std::size_t(s.hw * s.hw) * std::size_t(s.c * 9 + s.c) * 4 + 4096);
    if (!packed || !scratch) return state.SkipWithError("packing or scratch failed");
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_scratch(*scratch).with_energy(count);
    for (auto _ : state) {
        sparq::status st;
        if constexpr (std::is_same_v<T, float>) st = sparq::kernels::conv2d(ctx, x->cview(), *packed, p, y->view());
        else st = sparq::kernels::conv2d_s8(ctx, x->cview(), *packed, p, y->view());
        if (!st) return state.SkipWithError(st.message());
        benchmark::DoNotOptimize(y->data());
    }
    const double ops = 2.0 * double(s.c) * double(s.c) * 9.0 * double(s.hw * s.hw);
    state.counters["GOP"] = benchmark::Counter(ops * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
    state.counters["est_J"] = sparq::energy::estimate_energy(count).total_j() / double(state.iterations());
}

const bool registered = [] {
    for (const stage& s : stages) {
        const std::string shape = "1x" + std::to_string(s.c) + "x" + std::to_string(s.hw) + "x" + std::to_string(s.hw);
        benchmark::RegisterBenchmark(("conv_f32/sparq_xsimd/" + shape).c_str(), conv<float, float>, s);
        benchmark::RegisterBenchmark(("conv_s8/sparq_xsimd/" + shape).c_str(), conv<std::int8_t, std::int32_t>, s);
    }
    return true;
}();

}  // namespace
