// conv_f32 on channels-last activations, ResNet-18's 3x3 stride-1 layers at batch 1 (padding 1,
// O = C): sparq's Winograd F(2x2, 3x3) and F(4x4, 3x3) (kernels/conv2d_winograd_nhwc.hpp) against
// sparq's im2col + packed GEMM (kernels/conv2d_nhwc.hpp, what compiled models run today) and
// oneDNN called directly on NHWC (its direct convolution, and its own Winograd where this CPU
// has it). GOP counts the direct convolution's 2 * MACs for every row, so GOP/s compare times.
// Shape names: NxCxHxW.
#include <benchmark/benchmark.h>

#include "energy_probe.hpp"
#include "resnet_stages.hpp"

#include <random>
#include <string>
#include <vector>

#include "sparq/energy/estimate.hpp"
#include "sparq/kernels/conv2d_nhwc.hpp"
#include "sparq/kernels/conv2d_winograd_nhwc.hpp"

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>
#endif

namespace {

using layer = sparq_bench::resnet_stage;
constexpr const auto& layers = sparq_bench::resnet_stages;

struct data {
    sparq::extents_t<4> xe, we, ye;
    std::vector<float> x, w, y, bias;
};

data make_data(layer s) {
    data d;
    d.xe = {1, s.c, s.hw, s.hw}, d.we = {s.c, s.c, 3, 3}, d.ye = {1, s.c, s.hw, s.hw};
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    d.x.resize(std::size_t(s.c * s.hw * s.hw)), d.y.resize(d.x.size()), d.w.resize(std::size_t(s.c * s.c * 9));
    for (float& v : d.x) v = nd(rng);
    for (float& v : d.w) v = nd(rng) * 0.05f;
    for (long o = 0; o < s.c; ++o) d.bias.push_back(nd(rng));
    return d;
}

// sparq: m = 0 runs conv2d_nhwc (im2col + GEMM), 2 or 4 Winograd F(m x m, 3 x 3); bias + ReLU fused.
void conv_nhwc(benchmark::State& state, layer s, int m) {
    data d = make_data(s);
    const auto p = sparq::kernels::conv2d_params::same_padding(1);
    const sparq::tensor_view<const float, 4> wv(d.w.data(), d.we);
    auto direct = sparq::kernels::pack_conv_weights(wv, 1, true);
    auto wino = sparq::kernels::pack_winograd_weights(wv, m ? m : 2);
    if (!direct || !wino) return state.SkipWithError("packing failed");
    const std::size_t bytes = m ? sparq::kernels::conv2d_nhwc_winograd_scratch_bytes(*wino, d.ye)
                                : sparq::kernels::conv2d_nhwc_scratch_bytes(*direct, p, d.ye);
    auto scratch = sparq::arena::with_capacity(bytes + 4096);
    if (!scratch) return state.SkipWithError("scratch failed");
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_scratch(*scratch).with_energy(count);
    const auto act = sparq::kernels::activation::relu;
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        const sparq::status st =
            m ? sparq::kernels::conv2d_nhwc_winograd(ctx, d.x.data(), d.xe, *wino, p, d.bias, act, d.y.data(), d.ye)
              : sparq::kernels::conv2d_nhwc(ctx, d.x.data(), d.xe, *direct, p, d.bias, act, d.y.data(), d.ye);
        if (!st) return state.SkipWithError(st.message());
        benchmark::DoNotOptimize(d.y.data());
    }
    sparq_bench::set_conv_counters(state, s, sparq::energy::estimate_energy(count).total_j() / double(state.iterations()), probe);
    if (m) state.counters["scratch_MB"] = double(bytes) / 1e6;
}

#if defined(SPARQ_WITH_DNNL)
// oneDNN on NHWC with bias and a fused ReLU: `algo` its direct convolution or its Winograd.
void conv_onednn_nhwc(benchmark::State& state, layer s, dnnl::algorithm algo) {
    using namespace dnnl;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    engine eng(engine::kind::cpu, 0);
    stream str(eng);
    const memory::desc src_md({1, s.c, s.hw, s.hw}, dt::f32, tag::nhwc),
        dst_md({1, s.c, s.hw, s.hw}, dt::f32, tag::nhwc);
    const memory::desc wei_any({s.c, s.c, 3, 3}, dt::f32, tag::any), wei_plain({s.c, s.c, 3, 3}, dt::f32, tag::oihw);
    const memory::desc bias_md({s.c}, dt::f32, tag::x);
    post_ops ops;
    ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
    primitive_attr attr;
    attr.set_post_ops(ops);
    convolution_forward::primitive_desc pd;
    try {
        pd = convolution_forward::primitive_desc(
            convolution_forward::desc(prop_kind::forward_inference, algo, src_md, wei_any, bias_md, dst_md, {1, 1},
                                      {1, 1}, {1, 1}),
            attr, eng);
    } catch (const dnnl::error&) {
        return state.SkipWithError("oneDNN has no such implementation on this CPU");
    }
    data d = make_data(s);
    memory src(src_md, eng, d.x.data()), dst(dst_md, eng, d.y.data()), wei_user(wei_plain, eng, d.w.data()),
        wei(pd.weights_desc(), eng), bias(bias_md, eng, d.bias.data());
    reorder(wei_user, wei).execute(str, wei_user, wei);
    convolution_forward prim(pd);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        prim.execute(str, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
        str.wait();
    }
    sparq_bench::set_conv_counters(state, s, 0, probe);
    state.SetLabel(pd.impl_info_str());
}
#endif

const bool registered = [] {
    for (const layer& s : layers) {
        const std::string shape = "1x" + std::to_string(s.c) + "x" + std::to_string(s.hw) + "x" + std::to_string(s.hw);
        benchmark::RegisterBenchmark(("conv_f32_nhwc/sparq_im2col/" + shape).c_str(), conv_nhwc, s, 0);
        benchmark::RegisterBenchmark(("conv_f32_nhwc/sparq_winograd_f2/" + shape).c_str(), conv_nhwc, s, 2);
        benchmark::RegisterBenchmark(("conv_f32_nhwc/sparq_winograd_f4/" + shape).c_str(), conv_nhwc, s, 4);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("conv_f32_nhwc/onednn_direct/" + shape).c_str(), conv_onednn_nhwc, s,
                                     dnnl::algorithm::convolution_direct);
        benchmark::RegisterBenchmark(("conv_f32_nhwc/onednn_winograd/" + shape).c_str(), conv_onednn_nhwc, s,
                                     dnnl::algorithm::convolution_winograd);
#endif
    }
    return true;
}();

}  // namespace
