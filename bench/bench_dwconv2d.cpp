// dwconv2d_f32 / dwconv2d_s8: the depthwise 3x3 convolutions of MobileNet v2 (batch 1, padding 1,
// NCHW): sparq's direct row kernel (kernels/dwconv2d.hpp, what conv2d runs for them), the
// reference loops it replaced (kernels/scalar/conv2d.hpp), and oneDNN's depthwise convolution
// called directly on the same NCHW layout, side by side. Shape names: NxCxHxW/sS.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <type_traits>

#include "sparq/core/tensor.hpp"
#include "sparq/kernels/dwconv2d.hpp"
#include "sparq/kernels/scalar/conv2d.hpp"

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>

#include "sparq/kernels/dnnl/data_type.hpp"
#endif

namespace {

struct dw_stage {
    long c, hw, stride;
};
// MobileNet v2's depthwise layers, one per resolution (the first of each stride)
const dw_stage stages[] = {{32, 112, 1}, {96, 112, 2}, {144, 56, 1}, {192, 28, 1}, {576, 14, 1}, {960, 7, 1}};

sparq::kernels::conv2d_params params_of(dw_stage s) {
    auto p = sparq::kernels::conv2d_params::same_padding(1, s.stride);
    p.groups = s.c;
    return p;
}

long out_hw(dw_stage s) {
    return (s.hw + 2 - 3) / s.stride + 1;
}

void set_counters(benchmark::State& state, dw_stage s) {
    const double ops = 2.0 * double(s.c) * 9.0 * double(out_hw(s) * out_hw(s));
    state.counters["GOP"] = benchmark::Counter(ops * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

template <class T, class Y, bool reference>
void dwconv(benchmark::State& state, dw_stage s) {
    auto x = sparq::tensor<T, 4>::make({1, s.c, s.hw, s.hw});
    auto w = sparq::tensor<T, 4>::make({s.c, 1, 3, 3});
    auto y = sparq::tensor<Y, 4>::make({1, s.c, out_hw(s), out_hw(s)});
    if (!x || !w || !y) return state.SkipWithError("allocation failed");
    std::mt19937 rng(5);
    for (sparq::index_t i = 0; i < x->size(); ++i) x->data()[i] = T(int(rng() % 200) - 100);
    for (sparq::index_t i = 0; i < w->size(); ++i) w->data()[i] = T(int(rng() % 200) - 100);
    const auto p = params_of(s);
    for (auto _ : state) {
        if constexpr (reference)
            sparq::kernels::scalar::conv2d(x->cview(), w->cview(), p, y->view());
        else
            sparq::kernels::dwconv2d(x->cview(), w->cview(), p, y->view());
        benchmark::DoNotOptimize(y->data());
    }
    set_counters(state, s);
}

#if defined(SPARQ_WITH_DNNL)
template <class T, class Y>
void dwconv_onednn(benchmark::State& state, dw_stage s) {
    using namespace dnnl;
    using tag = memory::format_tag;
    constexpr auto dt_of = [](auto v) { return sparq::kernels::dnnl_backend::data_type_of<decltype(v)>(); };
    engine eng(engine::kind::cpu, 0);
    stream str(eng);
    const memory::desc src_md({1, s.c, s.hw, s.hw}, dt_of(T{}), tag::nchw),
        dst_md({1, s.c, out_hw(s), out_hw(s)}, dt_of(Y{}), tag::nchw);
    const memory::desc wei_any({s.c, 1, 1, 3, 3}, dt_of(T{}), tag::any),
        wei_plain({s.c, 1, 1, 3, 3}, dt_of(T{}), tag::goihw);
    convolution_forward::primitive_desc pd(
        convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, wei_any, dst_md,
                                  {s.stride, s.stride}, {1, 1}, {1, 1}),
        eng);
    memory src(src_md, eng), dst(dst_md, eng), wei_user(wei_plain, eng), wei(pd.weights_desc(), eng);
    std::mt19937 rng(5);
    auto* sp = static_cast<T*>(src.get_data_handle());
    for (long i = 0; i < s.c * s.hw * s.hw; ++i) sp[i] = T(int(rng() % 200) - 100);
    auto* wp = static_cast<T*>(wei_user.get_data_handle());
    for (long i = 0; i < s.c * 9; ++i) wp[i] = T(int(rng() % 200) - 100);
    reorder(wei_user, wei).execute(str, wei_user, wei);
    convolution_forward prim(pd);
    for (auto _ : state) {
        prim.execute(str, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
        str.wait();
    }
    set_counters(state, s);
    state.SetLabel(pd.impl_info_str());
}
#endif

const bool registered = [] {
    for (const dw_stage& s : stages) {
        const std::string shape = "1x" + std::to_string(s.c) + "x" + std::to_string(s.hw) + "x" + std::to_string(s.hw) +
                                  "/s" + std::to_string(s.stride);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("dwconv2d_f32/onednn/" + shape).c_str(), dwconv_onednn<float, float>, s);
#endif
        benchmark::RegisterBenchmark(("dwconv2d_f32/sparq/" + shape).c_str(), dwconv<float, float, false>, s);
        benchmark::RegisterBenchmark(("dwconv2d_f32/scalar/" + shape).c_str(), dwconv<float, float, true>, s);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("dwconv2d_s8/onednn/" + shape).c_str(), dwconv_onednn<std::int8_t, std::int32_t>,
                                     s);
#endif
        benchmark::RegisterBenchmark(("dwconv2d_s8/sparq/" + shape).c_str(), dwconv<std::int8_t, std::int32_t, false>,
                                     s);
        benchmark::RegisterBenchmark(("dwconv2d_s8/scalar/" + shape).c_str(), dwconv<std::int8_t, std::int32_t, true>,
                                     s);
    }
    return true;
}();

}  // namespace
