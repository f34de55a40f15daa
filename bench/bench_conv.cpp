// conv_f32 / conv_s8 on ResNet-18's 3x3 convolutions (batch 1, stride 1, padding 1): sparq's
// im2col + packed GEMM, sparq's oneDNN backend, and oneDNN called directly (plain NCHW
// activations, weights in the layout the primitive picks), side by side.
// Shape names: NxCxHxW (the output channels equal C in these stages).
#include <benchmark/benchmark.h>

#include "energy_probe.hpp"
#include "resnet_stages.hpp"

#include <cstdint>
#include <type_traits>
#include <random>
#include <string>
#include <vector>

#include "sparq/energy/estimate.hpp"
#include "sparq/kernels/conv2d.hpp"

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>

#include "sparq/kernels/dnnl/conv2d.hpp"
#endif

namespace {

using stage = sparq_bench::resnet_stage;
using sparq_bench::set_conv_counters;
constexpr const auto& stages = sparq_bench::resnet_stages;

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
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        sparq::status st;
        if constexpr (std::is_same_v<T, float>) st = sparq::kernels::conv2d(ctx, x->cview(), *packed, p, y->view());
        else st = sparq::kernels::conv2d_s8(ctx, x->cview(), *packed, p, y->view());
        if (!st) return state.SkipWithError(st.message());
        benchmark::DoNotOptimize(y->data());
    }
    set_conv_counters(state, s, sparq::energy::estimate_energy(count).total_j() / double(state.iterations()), probe);
}

#if defined(SPARQ_WITH_DNNL)
template <class T, class Y>
void conv_onednn_direct(benchmark::State& state, stage s) {
    using namespace dnnl;
    using tag = memory::format_tag;
    constexpr auto dt_of = [](auto v) { return sparq::kernels::dnnl_backend::data_type_of<decltype(v)>(); };
    engine eng(engine::kind::cpu, 0);
    stream str(eng);
    // int8 convolutions need channels-last activations for oneDNN's JIT kernels (on NCHW it runs
    // its reference code): the anchor gets that layout for free, sparq's backend reorders.
    const tag act = std::is_same_v<T, float> ? tag::nchw : tag::nhwc;
    const memory::desc src_md({1, s.c, s.hw, s.hw}, dt_of(T{}), act), dst_md({1, s.c, s.hw, s.hw}, dt_of(Y{}), act);
    const memory::desc wei_any({s.c, s.c, 3, 3}, dt_of(T{}), tag::any), wei_plain({s.c, s.c, 3, 3}, dt_of(T{}), tag::oihw);
    convolution_forward::primitive_desc pd(
        convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, wei_any, dst_md,
                                  {1, 1}, {0, 0}, {1, 1}, {1, 1}), eng);
    memory src(src_md, eng), dst(dst_md, eng), wei_user(wei_plain, eng), wei(pd.weights_desc(), eng);
    std::mt19937 rng(5);
    auto* sp = static_cast<T*>(src.get_data_handle());
    for (long i = 0; i < s.c * s.hw * s.hw; ++i) sp[i] = T(int(rng() % 200) - 100);
    auto* wp = static_cast<T*>(wei_user.get_data_handle());
    for (long i = 0; i < s.c * s.c * 9; ++i) wp[i] = T(int(rng() % 200) - 100);
    reorder(wei_user, wei).execute(str, wei_user, wei);
    convolution_forward prim(pd);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        prim.execute(str, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
        str.wait();
    }
    set_conv_counters(state, s, 0, probe);
    state.SetLabel(pd.impl_info_str());
}

template <class T, class Y>
void conv_sparq_onednn(benchmark::State& state, stage s) {
    auto x = sparq::tensor<T, 4>::make({1, s.c, s.hw, s.hw});
    auto w = sparq::tensor<T, 4>::make({s.c, s.c, 3, 3});
    auto y = sparq::tensor<Y, 4>::make({1, s.c, s.hw, s.hw});
    if (!x || !w || !y) return state.SkipWithError("allocation failed");
    std::mt19937 rng(5);
    for (sparq::index_t i = 0; i < x->size(); ++i) x->data()[i] = T(int(rng() % 200) - 100);
    // int8: even weights within [-26, 24], which oneDNN multiplies exactly on every ISA for these
    // reductions up to 512 * 9 (kernels/dnnl/int8_exact.hpp); its speed does not depend on them.
    for (sparq::index_t i = 0; i < w->size(); ++i)
        w->data()[i] = std::is_same_v<T, float> ? T(int(rng() % 200) - 100) : T(((int(rng() % 200) - 100) / 4) & ~1);
    auto conv = sparq::kernels::dnnl_backend::conv2d<T, T, Y>::make(w->cview(), sparq::kernels::conv2d_params::same_padding(1));
    if (!conv) return state.SkipWithError(conv.error().message());
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_energy(count);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        if (!conv->run(ctx, x->cview(), y->view()).ok()) return state.SkipWithError("oneDNN conv2d failed");
        benchmark::DoNotOptimize(y->data());
    }
    set_conv_counters(state, s, sparq::energy::estimate_energy(count).total_j() / double(state.iterations()), probe);
    state.SetLabel(conv->implementation(x->extents()));
}
#endif

const bool registered = [] {
    for (const stage& s : stages) {
        const std::string shape = "1x" + std::to_string(s.c) + "x" + std::to_string(s.hw) + "x" + std::to_string(s.hw);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("conv_f32/onednn/" + shape).c_str(), conv_onednn_direct<float, float>, s);
        benchmark::RegisterBenchmark(("conv_f32/sparq_onednn/" + shape).c_str(), conv_sparq_onednn<float, float>, s);
#endif
        benchmark::RegisterBenchmark(("conv_f32/sparq_xsimd/" + shape).c_str(), conv<float, float>, s);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("conv_s8/onednn/" + shape).c_str(), conv_onednn_direct<std::int8_t, std::int32_t>, s);
        benchmark::RegisterBenchmark(("conv_s8/sparq_onednn/" + shape).c_str(), conv_sparq_onednn<std::int8_t, std::int32_t>, s);
#endif
        benchmark::RegisterBenchmark(("conv_s8/sparq_xsimd/" + shape).c_str(), conv<std::int8_t, std::int32_t>, s);
    }
    return true;
}();

}  // namespace
