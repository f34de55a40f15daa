// dwconv2d_f32 / dwconv2d_s8: the depthwise 3x3 convolutions of MobileNet v2 and 5x5 ones of
// EfficientNet-B0 (batch 1, "same" padding): sparq's direct NCHW row kernel (kernels/dwconv2d.hpp,
// what conv2d runs for them), the reference loops it replaced (kernels/scalar/conv2d.hpp), the
// channels-last kernel (kernels/dwconv2d_nhwc.hpp), and oneDNN's depthwise convolution called
// directly on NCHW and on NHWC, side by side. Rows:
//   sparq          NCHW dwconv2d: float out / int32 sums out
//   sparq_stage    s8: NCHW dwconv2d, then requant_planes to int8 codes (a compiled model's path)
//   nhwc           dwconv2d_nhwc: float, no bias / s8 with the requantization to int8 fused
//   nhwc_float_scale  s8 with the float_scale requantization (the compiled models' default)
//   nhwc_bias_relu6  float with bias + relu6 fused
//   onednn, onednn_nhwc   oneDNN (s8: int32 out)
// Shape names: NxCxHxW/kK/sS.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/kernels/dwconv2d.hpp"
#include "sparq/kernels/dwconv2d_nhwc.hpp"
#include "sparq/kernels/requant_planes.hpp"
#include "sparq/kernels/scalar/conv2d.hpp"

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>

#include "sparq/kernels/dnnl/data_type.hpp"
#endif

namespace {

struct dw_stage {
    long c, hw, stride, k = 3;
};
// MobileNet v2's depthwise layers (3x3), one per resolution (the first of each stride), and
// EfficientNet-B0's 5x5 ones
const dw_stage stages[] = {{32, 112, 1},    {96, 112, 2},    {144, 56, 1},    {192, 28, 1},
                           {384, 14, 1},    {576, 14, 1},    {960, 7, 1},     {144, 56, 2, 5},
                           {240, 28, 1, 5}, {480, 14, 1, 5}, {672, 14, 2, 5}, {1152, 7, 1, 5}};

sparq::kernels::conv2d_params params_of(dw_stage s) {
    auto p = sparq::kernels::conv2d_params::same_padding(s.k / 2, s.stride);
    p.groups = s.c;
    return p;
}

long out_hw(dw_stage s) {
    return (s.hw + 2 * (s.k / 2) - s.k) / s.stride + 1;
}

void set_counters(benchmark::State& state, dw_stage s) {
    const double ops = 2.0 * double(s.c) * double(s.k * s.k) * double(out_hw(s) * out_hw(s));
    state.counters["GOP"] = benchmark::Counter(ops * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

template <class T, class Y, bool reference>
void dwconv(benchmark::State& state, dw_stage s) {
    auto x = sparq::tensor<T, 4>::make({1, s.c, s.hw, s.hw});
    auto w = sparq::tensor<T, 4>::make({s.c, 1, s.k, s.k});
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

// A per-tensor int8 stage (what a compiled model prepares) for s.c depthwise channels of k x k taps.
sparq::kernels::requant_stage stage_of(
    dw_stage s, const std::vector<std::int8_t>& w,
    sparq::quant::requant_rounding r = sparq::quant::requant_rounding::double_rounding) {
    std::vector<std::int32_t> col_sums(std::size_t(s.c), 0);
    for (std::size_t i = 0; i < w.size(); ++i) col_sums[i / std::size_t(s.k * s.k)] += w[i];
    const auto q = sparq::quant::make_per_tensor(sparq::dtype::s8, 0.05f, 3);
    const auto wq = sparq::quant::make_per_tensor(sparq::dtype::s8, 0.002f, 0);
    std::vector<float> bias(std::size_t(s.c), 0.25f);
    return *sparq::kernels::make_requant_stage(q, wq, sparq::tensor_view<const std::int32_t, 1>(col_sums.data(), {s.c}),
                                               q, bias, sparq::kernels::activation::relu6, r);
}

// NCHW dwconv2d into int32 planes, then requant_planes to codes: the compiled model's int8 path.
void dwconv_s8_stage(benchmark::State& state, dw_stage s) {
    const sparq::extents_t<4> xe{1, s.c, s.hw, s.hw}, ye{1, s.c, out_hw(s), out_hw(s)};
    std::vector<std::int8_t> x(std::size_t(s.c * s.hw * s.hw)), w(std::size_t(s.c * s.k * s.k)),
        y(std::size_t(s.c * out_hw(s) * out_hw(s)));
    std::vector<std::int32_t> acc(y.size());
    std::mt19937 rng(5);
    for (auto& v : x) v = std::int8_t(int(rng() % 200) - 100);
    for (auto& v : w) v = std::int8_t(int(rng() % 200) - 100);
    const auto st = stage_of(s, w);
    const auto p = params_of(s);
    const sparq::context ctx;
    for (auto _ : state) {
        sparq::kernels::dwconv2d(sparq::tensor_view<const std::int8_t, 4>(x.data(), xe),
                                 sparq::tensor_view<const std::int8_t, 4>(w.data(), {s.c, 1, s.k, s.k}), p,
                                 sparq::tensor_view<std::int32_t, 4>(acc.data(), ye), std::int8_t(3));
        if (!sparq::kernels::requant_planes(ctx, st, acc.data(), s.c, out_hw(s) * out_hw(s), y.data()).ok())
            return state.SkipWithError("requant_planes failed");
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s);
}

// dwconv2d_nhwc / dwconv2d_nhwc_s8 (codes out, the stage fused) on channels-last data.
// bias_relu6: float with bias + relu6 / s8 with the float_scale requantization.
template <class T>
void dwconv_nhwc(benchmark::State& state, dw_stage s, bool bias_relu6) {
    const sparq::extents_t<4> xe{1, s.c, s.hw, s.hw}, ye{1, s.c, out_hw(s), out_hw(s)};
    std::vector<T> x(std::size_t(s.c * s.hw * s.hw)), w(std::size_t(s.c * s.k * s.k)), taps(w.size()),
        y(std::size_t(s.c * out_hw(s) * out_hw(s)));
    std::mt19937 rng(5);
    for (auto& v : x) v = T(int(rng() % 200) - 100);
    for (auto& v : w) v = T(int(rng() % 200) - 100);
    sparq::kernels::pack_dw_taps(sparq::tensor_view<const T, 4>(w.data(), {s.c, 1, s.k, s.k}), taps.data());
    const auto p = params_of(s);
    auto scratch = sparq::arena::with_capacity(sparq::kernels::dwconv2d_nhwc_scratch_bytes(ye));
    if (!scratch) return state.SkipWithError("allocation failed");
    sparq::context ctx;
    ctx.with_scratch(*scratch);
    const std::vector<float> bias(bias_relu6 ? std::size_t(s.c) : 0, 0.25f);
    const auto act = bias_relu6 ? sparq::kernels::activation::relu6 : sparq::kernels::activation::none;
    sparq::kernels::requant_stage st;
    if constexpr (std::is_same_v<T, std::int8_t>)
        st = stage_of(s, w,
                      bias_relu6 ? sparq::quant::requant_rounding::float_scale
                                 : sparq::quant::requant_rounding::double_rounding);
    for (auto _ : state) {
        sparq::status done;
        if constexpr (std::is_same_v<T, float>)
            done = sparq::kernels::dwconv2d_nhwc(ctx, x.data(), xe, taps.data(), s.k, s.k, p, bias, act, y.data(), ye);
        else
            done = sparq::kernels::dwconv2d_nhwc_s8(ctx, x.data(), xe, taps.data(), s.k, s.k, p, std::int8_t(3), st,
                                                    y.data(), ye);
        if (!done.ok()) return state.SkipWithError(done.message());
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s);
}

#if defined(SPARQ_WITH_DNNL)
template <class T, class Y>
void dwconv_onednn(benchmark::State& state, dw_stage s, bool nhwc) {
    using namespace dnnl;
    using tag = memory::format_tag;
    constexpr auto dt_of = [](auto v) { return sparq::kernels::dnnl_backend::data_type_of<decltype(v)>(); };
    engine eng(engine::kind::cpu, 0);
    stream str(eng);
    const tag layout = nhwc ? tag::nhwc : tag::nchw;
    const memory::desc src_md({1, s.c, s.hw, s.hw}, dt_of(T{}), layout),
        dst_md({1, s.c, out_hw(s), out_hw(s)}, dt_of(Y{}), layout);
    const memory::desc wei_any({s.c, 1, 1, s.k, s.k}, dt_of(T{}), tag::any),
        wei_plain({s.c, 1, 1, s.k, s.k}, dt_of(T{}), tag::goihw);
    convolution_forward::primitive_desc pd(
        convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, wei_any, dst_md,
                                  {s.stride, s.stride}, {s.k / 2, s.k / 2}, {s.k / 2, s.k / 2}),
        eng);
    memory src(src_md, eng), dst(dst_md, eng), wei_user(wei_plain, eng), wei(pd.weights_desc(), eng);
    std::mt19937 rng(5);
    auto* sp = static_cast<T*>(src.get_data_handle());
    for (long i = 0; i < s.c * s.hw * s.hw; ++i) sp[i] = T(int(rng() % 200) - 100);
    auto* wp = static_cast<T*>(wei_user.get_data_handle());
    for (long i = 0; i < s.c * s.k * s.k; ++i) wp[i] = T(int(rng() % 200) - 100);
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
    using benchmark::RegisterBenchmark;
    for (const dw_stage& s : stages) {
        const std::string shape = "1x" + std::to_string(s.c) + "x" + std::to_string(s.hw) + "x" + std::to_string(s.hw) +
                                  "/k" + std::to_string(s.k) + "/s" + std::to_string(s.stride);
#if defined(SPARQ_WITH_DNNL)
        RegisterBenchmark(("dwconv2d_f32/onednn/" + shape).c_str(), dwconv_onednn<float, float>, s, false);
        RegisterBenchmark(("dwconv2d_f32/onednn_nhwc/" + shape).c_str(), dwconv_onednn<float, float>, s, true);
#endif
        RegisterBenchmark(("dwconv2d_f32/sparq/" + shape).c_str(), dwconv<float, float, false>, s);
        RegisterBenchmark(("dwconv2d_f32/nhwc/" + shape).c_str(), dwconv_nhwc<float>, s, false);
        RegisterBenchmark(("dwconv2d_f32/nhwc_bias_relu6/" + shape).c_str(), dwconv_nhwc<float>, s, true);
        RegisterBenchmark(("dwconv2d_f32/scalar/" + shape).c_str(), dwconv<float, float, true>, s);
#if defined(SPARQ_WITH_DNNL)
        RegisterBenchmark(("dwconv2d_s8/onednn/" + shape).c_str(), dwconv_onednn<std::int8_t, std::int32_t>, s, false);
        RegisterBenchmark(("dwconv2d_s8/onednn_nhwc/" + shape).c_str(), dwconv_onednn<std::int8_t, std::int32_t>, s,
                          true);
#endif
        RegisterBenchmark(("dwconv2d_s8/sparq/" + shape).c_str(), dwconv<std::int8_t, std::int32_t, false>, s);
        RegisterBenchmark(("dwconv2d_s8/sparq_stage/" + shape).c_str(), dwconv_s8_stage, s);
        RegisterBenchmark(("dwconv2d_s8/nhwc/" + shape).c_str(), dwconv_nhwc<std::int8_t>, s, false);
        RegisterBenchmark(("dwconv2d_s8/nhwc_float_scale/" + shape).c_str(), dwconv_nhwc<std::int8_t>, s, true);
        RegisterBenchmark(("dwconv2d_s8/scalar/" + shape).c_str(), dwconv<std::int8_t, std::int32_t, true>, s);
    }
    return true;
}();

}  // namespace
