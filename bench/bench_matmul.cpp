// matmul_f32 / matmul_s8 on layer shapes from real networks: the anchors (Eigen, oneDNN called
// directly) beside sparq's kernels, in one process. Counters: GOP (2*M*N*K per second) and
// est_J (estimated joules per iteration from sparq's energy counter; 0 for the anchors, which
// sparq does not count). Single thread: run with OMP_NUM_THREADS=1 (bench/run.sh does).
#include <benchmark/benchmark.h>

#include "bench_data.hpp"
#include "energy_probe.hpp"

#include <Eigen/Core>
#include <array>
#include <type_traits>
#include <unordered_map>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/energy/estimate.hpp"
#include "sparq/kernels/int4.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/quant/calibrate.hpp"

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>

#include "sparq/kernels/dnnl/matmul.hpp"
#endif

namespace {

struct shape {
    long m, n, k;
    const char* what;
};
// MLP layers, BERT-base linears (128 tokens), a square pair, resnet18's convolutions as GEMMs,
// and a 4096 x 4096 matvec.
const shape shapes[] = {{64, 128, 64, "digits MLP"},      {16, 1024, 1024, "MLP batch 16"},
                        {128, 768, 768, "BERT qkv/out"},  {128, 3072, 768, "BERT FFN up"},
                        {128, 768, 3072, "BERT FFN down"}, {256, 256, 256, "square"},
                        {512, 512, 512, "square"},
                        // resnet18's 3x3 convolutions at batch 1 as channels-last im2col GEMMs
                        // (M = pixels, N = output channels, K = 9 x input channels)
                        {3136, 64, 576, "resnet18 conv2_x"}, {784, 128, 1152, "resnet18 conv3_x"},
                        {196, 256, 2304, "resnet18 conv4_x"}, {49, 512, 4608, "resnet18 conv5_x"}};
// matvec (M = 1): N x K weights; 4096 x 4096 fp32 (64 MB) streams from DRAM, its int8 form
// (16 MB) fits the last-level cache.
const shape matvecs[] = {{1, 1024, 1024, "matvec"}, {1, 4096, 4096, "matvec"}};

void set_counters(benchmark::State& state, const shape& s, double joules_per_iter, const sparq_bench::energy_probe& probe) {
    state.counters["GOP"] = benchmark::Counter(2.0 * double(s.m) * double(s.n) * double(s.k) * double(state.iterations()) * 1e-9,
                                               benchmark::Counter::kIsRate);
    probe.report(state, joules_per_iter);
}

using sparq_bench::random_values;

void f32_eigen(benchmark::State& state, shape s) {
    Eigen::MatrixXf x = Eigen::MatrixXf::Random(s.m, s.k), w = Eigen::MatrixXf::Random(s.n, s.k), y(s.m, s.n);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        y.noalias() = x * w.transpose();
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s, 0, probe);
}

template <bool Scalar, class W = float>
void f32_sparq(benchmark::State& state, shape s) {
    auto x = random_values<float>(s.m * s.k, 1), w = random_values<float>(s.n * s.k, 2);
    std::vector<float> y(static_cast<std::size_t>(s.m * s.n));
    auto packed = sparq::kernels::pack_weights_as<W>(sparq::matrix_view<const float>(w.data(), {s.n, s.k}));
    if (!packed) return state.SkipWithError(packed.error().message());
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_energy(count).with_backend(Scalar ? sparq::backend::scalar : sparq::backend::xsimd, false);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        if (!sparq::kernels::matmul(ctx, sparq::matrix_view<const float>(x.data(), {s.m, s.k}), *packed,
                                    sparq::matrix_view<float>(y.data(), {s.m, s.n})).ok())
            return state.SkipWithError("matmul failed");
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s, sparq::energy::estimate_energy(count).total_j() / double(state.iterations()), probe);
}

void s8_sparq(benchmark::State& state, shape s) {
    auto x = random_values<std::int8_t>(s.m * s.k, 3), w = random_values<std::int8_t>(s.n * s.k, 4);
    std::vector<std::int32_t> y(static_cast<std::size_t>(s.m * s.n));
    auto packed = sparq::kernels::pack_weights(sparq::matrix_view<const std::int8_t>(w.data(), {s.n, s.k}));
    if (!packed) return state.SkipWithError(packed.error().message());
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_energy(count).with_backend(sparq::backend::xsimd, false);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        if (!sparq::kernels::matmul_s8(ctx, sparq::matrix_view<const std::int8_t>(x.data(), {s.m, s.k}), *packed,
                                       sparq::matrix_view<std::int32_t>(y.data(), {s.m, s.n})).ok())
            return state.SkipWithError("matmul_s8 failed");
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s, sparq::energy::estimate_energy(count).total_j() / double(state.iterations()), probe);
}

// An int8 linear layer: int8 activations, per-channel int8 weights, bias, ReLU, requantized int8
// outputs. Fused: the output stage runs on each tile inside the xsimd GEMM; two-pass: the xsimd
// int32 GEMM into an [M, N] buffer, then the scalar stage over it (the form before fusion).
// Symmetric activations and outputs (zero points 0), the op oneDNN's rows below compute.
template <bool Fused>
void linear_s8_sparq(benchmark::State& state, shape s) {
    auto x = random_values<std::int8_t>(s.m * s.k, 3), w = random_values<std::int8_t>(s.n * s.k, 4);
    auto bias = random_values<float>(s.n, 5);
    std::vector<std::int8_t> y(static_cast<std::size_t>(s.m * s.n));
    std::vector<std::int32_t> acc(y.size());
    auto packed = sparq::kernels::pack_weights(sparq::matrix_view<const std::int8_t>(w.data(), {s.n, s.k}));
    if (!packed) return state.SkipWithError(packed.error().message());
    auto wq = sparq::quant::make_per_tensor(sparq::dtype::s8, 1.0f, 0);
    wq.gran = sparq::quant::granularity::per_channel, wq.axis = 0;
    wq.scale.assign(static_cast<std::size_t>(s.n), 0.0f), wq.zero_point.assign(static_cast<std::size_t>(s.n), 0);
    for (long j = 0; j < s.n; ++j) wq.scale[static_cast<std::size_t>(j)] = 0.001f * float(1 + j % 7);
    const auto xq = sparq::quant::make_per_tensor(sparq::dtype::s8, 0.05f, 0), yq = sparq::quant::make_per_tensor(sparq::dtype::s8, 0.5f, 0);
    auto st = sparq::kernels::make_requant_stage(xq, wq, *packed, yq, bias, sparq::kernels::activation::relu);
    if (!st) return state.SkipWithError(st.error().message());
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_energy(count).with_backend(sparq::backend::xsimd, false);
    const sparq::matrix_view<const std::int8_t> xv(x.data(), {s.m, s.k});
    const sparq::matrix_view<std::int8_t> yv(y.data(), {s.m, s.n});
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        if constexpr (Fused) {
            if (!sparq::kernels::linear_s8(ctx, xv, *packed, *st, yv).ok()) return state.SkipWithError("linear_s8 failed");
        } else {
            const sparq::matrix_view<std::int32_t> av(acc.data(), {s.m, s.n});
            if (!sparq::kernels::matmul_s8(ctx, xv, *packed, av).ok() || !sparq::kernels::apply_requant(*st, av.as_const(), yv).ok())
                return state.SkipWithError("matmul_s8 + apply_requant failed");
        }
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s, sparq::energy::estimate_energy(count).total_j() / double(state.iterations()), probe);
}

// int4 weight-only (groups of 32 along K), float activations: the xsimd path or the reference.
template <bool Scalar>
void s4_sparq(benchmark::State& state, shape s) {
    auto x = random_values<float>(s.m * s.k, 1), w = random_values<float>(s.n * s.k, 2);
    std::vector<float> y(static_cast<std::size_t>(s.m * s.n));
    std::vector<std::uint8_t> packed(static_cast<std::size_t>(s.n * ((s.k + 1) / 2)));
    const sparq::matrix_view<const float> wv(w.data(), {s.n, s.k});
    auto p = sparq::quant::calibrate_weights(wv, sparq::quant::qscheme::weights_s4_per_group(32));
    if (!p) return state.SkipWithError(p.error().message());
    const sparq::matrix_view<std::uint8_t> pv(packed.data(), {s.n, (s.k + 1) / 2});
    if (!sparq::kernels::quantize_int4(wv, *p, pv).ok()) return state.SkipWithError("quantize_int4 failed");
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_energy(count).with_backend(Scalar ? sparq::backend::scalar : sparq::backend::xsimd, false);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        if (!sparq::kernels::matmul_int4(ctx, sparq::matrix_view<const float>(x.data(), {s.m, s.k}), pv.as_const(), *p,
                                         sparq::matrix_view<float>(y.data(), {s.m, s.n})).ok())
            return state.SkipWithError("matmul_int4 failed");
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s, sparq::energy::estimate_energy(count).total_j() / double(state.iterations()), probe);
}

#if defined(SPARQ_WITH_DNNL)
// oneDNN called directly, the way its own examples do: weights in the layout the primitive
// asks for (format_tag::any), reordered once outside the timed loop; f32, or s8 x s8 -> s32
// (the same operation sparq's int8 rows compute; oneDNN is a little faster still with u8
// activations, which sparq's signed int8 activations would need a shift and a bias to use).
// Layer: linear_s8_sparq's int8 layer, s8 x s8 -> s8 with constant per-channel output scales
// (the brgemm path; runtime scales would send it to gemm:jit), an f32 bias and a ReLU post-op;
// oneDNN scales and rounds in float, sparq in fixed point: the same layer up to rounding.
template <bool Int8, bool Layer = false>
void onednn(benchmark::State& state, shape s) {
    static_assert(Int8 || !Layer, "the layer is int8");
    using namespace dnnl;
    using dt = memory::data_type;
    using tag = memory::format_tag;
    engine eng(engine::kind::cpu, 0);
    stream str(eng);
    const dt src_t = Int8 ? dt::s8 : dt::f32, wei_t = Int8 ? dt::s8 : dt::f32;
    const dt dst_t = Layer ? dt::s8 : Int8 ? dt::s32 : dt::f32;
    memory::desc src_md({s.m, s.k}, src_t, tag::ab), dst_md({s.m, s.n}, dst_t, tag::ab), bias_md({1, s.n}, dt::f32, tag::ab);
    memory::desc wei_any({s.k, s.n}, wei_t, tag::any), wei_plain({s.k, s.n}, wei_t, tag::ba);  // W^T of [N, K]
    primitive_attr attr;
    if constexpr (Layer) {
        std::vector<float> scales(static_cast<std::size_t>(s.n));
        for (long j = 0; j < s.n; ++j) scales[static_cast<std::size_t>(j)] = 0.05f * 0.001f * float(1 + j % 7) / 0.5f;
        attr.set_output_scales(1 << 1, scales);
        post_ops po;
        po.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(po);
    }
    matmul::primitive_desc pd(Layer ? matmul::desc(src_md, wei_any, bias_md, dst_md) : matmul::desc(src_md, wei_any, dst_md),
                              attr, eng);
    memory src(src_md, eng), dst(dst_md, eng), bias(bias_md, eng), wei_user(wei_plain, eng), wei(pd.weights_desc(), eng);
    if constexpr (Int8) {
        auto xs = random_values<std::int8_t>(s.m * s.k, 3), ws = random_values<std::int8_t>(s.n * s.k, 4);
        auto bs = random_values<float>(s.n, 5);
        std::copy(xs.begin(), xs.end(), static_cast<std::int8_t*>(src.get_data_handle()));
        std::copy(ws.begin(), ws.end(), static_cast<std::int8_t*>(wei_user.get_data_handle()));
        std::copy(bs.begin(), bs.end(), static_cast<float*>(bias.get_data_handle()));
    } else {
        auto xs = random_values<float>(s.m * s.k, 1), ws = random_values<float>(s.n * s.k, 2);
        std::copy(xs.begin(), xs.end(), static_cast<float*>(src.get_data_handle()));
        std::copy(ws.begin(), ws.end(), static_cast<float*>(wei_user.get_data_handle()));
    }
    reorder(wei_user, wei).execute(str, wei_user, wei);
    matmul prim(pd);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    if (Layer) args.emplace(DNNL_ARG_BIAS, bias);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        prim.execute(str, args);
        str.wait();
    }
    set_counters(state, s, 0, probe);
    state.SetLabel(pd.impl_info_str());
}
#endif

#if defined(SPARQ_WITH_DNNL)
// sparq's oneDNN backend: the same library through sparq's cached primitive.
template <bool Int8>
void sparq_onednn(benchmark::State& state, shape s) {
    using X = std::conditional_t<Int8, std::int8_t, float>;
    using Y = std::conditional_t<Int8, std::int32_t, float>;
    auto x = random_values<X>(s.m * s.k, 3), w = random_values<X>(s.n * s.k, 4);
    // int8: weights small and even, which oneDNN multiplies exactly on every ISA and up to K = 4096
    // (kernels/dnnl/int8_exact.hpp: make() refuses full-range ones without VNNI or for long
    // reductions); its speed does not depend on the values.
    if constexpr (Int8)
        for (auto& v : w) v = X((v / 4) & ~1);
    std::vector<Y> y(static_cast<std::size_t>(s.m * s.n));
    auto mm = sparq::kernels::dnnl_backend::matmul<X, X, Y>::make(sparq::matrix_view<const X>(w.data(), {s.n, s.k}));
    if (!mm) return state.SkipWithError(mm.error().message());
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_energy(count);
    const sparq_bench::energy_probe probe;
    for (auto _ : state) {
        if (!mm->run(ctx, sparq::matrix_view<const X>(x.data(), {s.m, s.k}), sparq::matrix_view<Y>(y.data(), {s.m, s.n})).ok())
            return state.SkipWithError("oneDNN matmul failed");
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s, sparq::energy::estimate_energy(count).total_j() / double(state.iterations()), probe);
    state.SetLabel(mm->implementation(s.m));
}
#endif

const bool registered = [] {
    for (const shape& s : shapes) {
        const std::string mnk = std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
        benchmark::RegisterBenchmark(("matmul_f32/eigen/" + mnk).c_str(), f32_eigen, s);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("matmul_f32/onednn/" + mnk).c_str(), onednn<false>, s);
#endif
        benchmark::RegisterBenchmark(("matmul_f32/sparq_xsimd/" + mnk).c_str(), f32_sparq<false>, s);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("matmul_f32/sparq_onednn/" + mnk).c_str(), sparq_onednn<false>, s);
#endif
        if (s.m * s.n * s.k <= 256L * 256 * 256)  // the reference is slow: small shapes only
            benchmark::RegisterBenchmark(("matmul_f32/sparq_scalar/" + mnk).c_str(), f32_sparq<true>, s);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("matmul_s8/onednn/" + mnk).c_str(), onednn<true>, s);
#endif
        benchmark::RegisterBenchmark(("matmul_s8/sparq_xsimd/" + mnk).c_str(), s8_sparq, s);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("matmul_s8/sparq_onednn/" + mnk).c_str(), sparq_onednn<true>, s);
        benchmark::RegisterBenchmark(("linear_s8/onednn/" + mnk).c_str(), onednn<true, true>, s);
#endif
        benchmark::RegisterBenchmark(("linear_s8/sparq_xsimd/" + mnk).c_str(), linear_s8_sparq<true>, s);
        benchmark::RegisterBenchmark(("linear_s8/sparq_xsimd_2pass/" + mnk).c_str(), linear_s8_sparq<false>, s);
    }
    for (const shape& s : matvecs) {
        const std::string nk = std::to_string(s.n) + "x" + std::to_string(s.k);
        benchmark::RegisterBenchmark(("matvec_f32/eigen/" + nk).c_str(), f32_eigen, s);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("matvec_f32/onednn/" + nk).c_str(), onednn<false>, s);
#endif
        benchmark::RegisterBenchmark(("matvec_f32/sparq_xsimd/" + nk).c_str(), f32_sparq<false, float>, s);
        benchmark::RegisterBenchmark(("matvec_f16/sparq_xsimd/" + nk).c_str(), f32_sparq<false, sparq::float16>, s);
        benchmark::RegisterBenchmark(("matvec_bf16/sparq_xsimd/" + nk).c_str(), f32_sparq<false, sparq::bfloat16>, s);
#if defined(SPARQ_WITH_DNNL)
        benchmark::RegisterBenchmark(("matvec_s8/onednn/" + nk).c_str(), onednn<true>, s);
#endif
        benchmark::RegisterBenchmark(("matvec_s8/sparq_xsimd/" + nk).c_str(), s8_sparq, s);
        benchmark::RegisterBenchmark(("matvec_s4/sparq_xsimd/" + nk).c_str(), s4_sparq<false>, s);
        benchmark::RegisterBenchmark(("matvec_s4/sparq_scalar/" + nk).c_str(), s4_sparq<true>, s);
    }
    return true;
}();

}  // namespace
