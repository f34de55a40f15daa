// Sparse kernels beside dense ones of the same shape, in one process (issue 4): 90%-sparse CSR
// and 4 x 16 block-sparse matvecs (fp32, int8), 2:4 matmuls, 50% channel-pruned layers, and a
// sparsity sweep for the break-even points (docs/sparsity.md). Weights are pruned by magnitude
// with sparq's own patterns. Counter GOP is the *dense-equivalent* rate, 2*M*N*K per second for
// every row, so the ratio of two rows of a shape is their speed ratio; est_J is sparq's
// energy estimate per call. Single thread: OMP_NUM_THREADS=1.
#include <benchmark/benchmark.h>

#include "bench_data.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/energy/estimate.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/spmm.hpp"
#include "sparq/prune.hpp"
#include "sparq/sparse.hpp"

namespace {

using sparq::index_t;

struct shape {
    long m, n, k;
};
// Matvecs (N x K): BERT-base FFN down / up, a 4096 square, ResNet-50 3x3 convolutions of stages
// 2-4 as GEMM (C_out x C_in*9). bench_matmul.cpp already has the dense 4096x4096 rows.
const shape matvecs[] = {{1, 768, 3072}, {1, 3072, 768}, {1, 4096, 4096}, {1, 128, 1152}, {1, 256, 2304}, {1, 512, 4608}};
bool dense_elsewhere(const shape& s) { return s.n == 4096 && s.k == 4096 && s.m == 1; }
// Matmuls (M x N x K): BERT-base linears on 128 tokens (dense rows in bench_matmul.cpp), and a
// ResNet-50 stage-3 3x3 convolution on its 14x14 output as GEMM (dense row registered here).
const shape matmuls[] = {{128, 768, 768}, {128, 3072, 768}, {128, 768, 3072}, {196, 256, 2304}};
bool matmul_dense_elsewhere(const shape& s) { return s.n != 256; }
const double sweep[] = {0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95};

std::string mv_name(const shape& s) { return std::to_string(s.n) + "x" + std::to_string(s.k); }
std::string mm_name(const shape& s) { return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k); }

// sparse weights: symmetric int8 codes, [-127, 127]
template <class T>
std::vector<T> random_values(long count, unsigned seed) { return sparq_bench::random_values<T>(count, seed, true); }

void set_counters(benchmark::State& state, const shape& s, const sparq::energy::counter& count) {
    state.counters["GOP"] = benchmark::Counter(2.0 * double(s.m) * double(s.n) * double(s.k) * double(state.iterations()) * 1e-9,
                                               benchmark::Counter::kIsRate);
    state.counters["est_J"] = sparq::energy::estimate_energy(count).total_j() / double(state.iterations());
}

// Magnitude masks are sorted over millions of weights: made once per (shape, pattern) and kept
// for the repetitions.
enum class pattern { unstructured, block4x16, nm24 };
const sparq::prune::mask<2>& cached_mask(const shape& s, pattern p, double sparsity) {
    static std::map<std::string, std::unique_ptr<sparq::prune::mask<2>>> cache;
    const std::string key = mv_name(s) + "/" + std::to_string(int(p)) + "/" + std::to_string(sparsity);
    auto& slot = cache[key];
    if (!slot) {
        auto w = random_values<float>(s.n * s.k, 2);
        const sparq::matrix_view<const float> wv(w.data(), {s.n, s.k});
        auto m = sparq::prune::mask<2>::make({s.n, s.k});
        sparq::status st = m.error();
        if (m) {
            if (p == pattern::unstructured) st = sparq::prune::l1_unstructured(wv, sparsity, m->view());
            else if (p == pattern::block4x16) st = sparq::prune::l1_block(wv, {4, 16}, sparsity, m->view());
            else st = sparq::prune::l1_nm(wv, 2, 4, m->view());
        }
        SPARQ_ALWAYS_CHECK(st.ok(), st.message());
        slot = std::make_unique<sparq::prune::mask<2>>(std::move(*m));
    }
    return *slot;
}

// One sparse product, timed: make(w, mask) builds the format from a pruned weight.
template <class X, class V, class Make>
void sparse_run(benchmark::State& state, const shape& s, pattern p, double sparsity, sparq::backend b, Make&& make) {
    using Y = std::conditional_t<std::is_same_v<V, float>, float, std::int32_t>;
    auto x = random_values<X>(s.m * s.k, 1);
    auto w = random_values<V>(s.n * s.k, 2);
    std::vector<Y> y(static_cast<std::size_t>(s.m * s.n));
    const auto& m = cached_mask(s, p, sparsity);
    auto weights = make(sparq::matrix_view<const V>(w.data(), {s.n, s.k}), m.cview());
    if (!weights) return state.SkipWithError(weights.error().message());
    sparq::energy::counter count;
    sparq::context ctx;
    // scratch for the kernels that take it (the N:M rows layout: the activations transposed once)
    std::vector<std::byte> scratch(std::size_t(8) << 20);
    sparq::arena a(scratch.data(), scratch.size());
    ctx.with_energy(count).with_backend(b, false).with_scratch(a);
    const sparq::matrix_view<const X> xv(x.data(), {s.m, s.k});
    const sparq::matrix_view<Y> yv(y.data(), {s.m, s.n});
    for (auto _ : state) {
        if (!sparq::kernels::spmm(ctx, xv, *weights, yv).ok()) return state.SkipWithError("spmm failed");
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s, count);
    state.counters["storage_MB"] = double(weights->values.size() * sizeof(V) + weights->index_bytes()) * 1e-6;  // as run
}

// The plain CSR (gathers on AVX-512, four scalar sums elsewhere; the reference loop with
// backend::scalar) and the CSR repacked for the SIMD kernel (pack_csr).
void csr_f32(benchmark::State& state, shape s, double sparsity, sparq::backend b) {
    sparse_run<float, float>(state, s, pattern::unstructured, sparsity, b,
                             [](auto w, auto m) { return sparq::sparse::make_csr<float>(w, m); });
}
void csr_packed_f32(benchmark::State& state, shape s, double sparsity) {
    sparse_run<float, float>(state, s, pattern::unstructured, sparsity, sparq::backend::xsimd, [](auto w, auto m) {
        auto c = sparq::sparse::make_csr<float>(w, m);
        return c ? sparq::kernels::pack_csr(*c) : sparq::result<sparq::kernels::csr_packed>(c.error());
    });
}
// The 90% CSR row: the faster CSR form of this build. With AVX-512 the repacked layout
// (one vpermt2ps a step); with AVX2 alone its selection takes four vpermps and three blends and
// trails the plain CSR's scalar loads (docs/sparsity.md).
void csr_best_f32(benchmark::State& state, shape s, double sparsity) {
#if defined(SPARQ_HAS_AVX512_SPARSE)
    csr_packed_f32(state, s, sparsity);
#else
    csr_f32(state, s, sparsity, sparq::backend::xsimd);
#endif
}
void csr_s8(benchmark::State& state, shape s, double sparsity) {
    sparse_run<std::int8_t, std::int8_t>(state, s, pattern::unstructured, sparsity, sparq::backend::xsimd,
                                         [](auto w, auto m) { return sparq::sparse::make_csr<std::int8_t>(w, m); });
}
void block_f32(benchmark::State& state, shape s, double sparsity) {
    sparse_run<float, float>(state, s, pattern::block4x16, sparsity, sparq::backend::xsimd,
                             [](auto w, auto m) { return sparq::sparse::make_bsr<float>(w, m, {4, 16}); });
}
void block_s8(benchmark::State& state, shape s, double sparsity) {
    sparse_run<std::int8_t, std::int8_t>(state, s, pattern::block4x16, sparsity, sparq::backend::xsimd,
                                         [](auto w, auto m) { return sparq::sparse::make_bsr<std::int8_t>(w, m, {4, 16}); });
}
// 2:4 in the rows layout (the one for batches of 16 rows and more), and in the panels layout.
void nm_f32(benchmark::State& state, shape s, sparq::kernels::nm_layout layout) {
    sparse_run<float, float>(state, s, pattern::nm24, 0.5, sparq::backend::xsimd, [layout](auto w, auto m) {
        auto f = sparq::sparse::make_nm<float>(w, m, 2, 4);
        return f ? sparq::kernels::pack_nm(*f, layout) : sparq::result<sparq::kernels::nm_packed>(f.error());
    });
}

// Dense xsimd rows of the same shapes (fp32 or int8); `n_kept` output rows for a channel-pruned
// layer, counted as the unpruned layer's operations so the ratio of the rows is the speed-up.
template <class T>
void dense(benchmark::State& state, shape s, long n_kept) {
    using Y = std::conditional_t<std::is_same_v<T, float>, float, std::int32_t>;
    auto x = random_values<T>(s.m * s.k, 1), w = random_values<T>(n_kept * s.k, 2);
    std::vector<Y> y(static_cast<std::size_t>(s.m * n_kept));
    auto packed = sparq::kernels::pack_weights(sparq::matrix_view<const T>(w.data(), {n_kept, s.k}));
    if (!packed) return state.SkipWithError(packed.error().message());
    sparq::energy::counter count;
    sparq::context ctx;
    ctx.with_energy(count).with_backend(sparq::backend::xsimd, false);
    const sparq::matrix_view<const T> xv(x.data(), {s.m, s.k});
    const sparq::matrix_view<Y> yv(y.data(), {s.m, n_kept});
    for (auto _ : state) {
        sparq::status st;
        if constexpr (std::is_same_v<T, float>) st = sparq::kernels::matmul(ctx, xv, *packed, yv);
        else st = sparq::kernels::matmul_s8(ctx, xv, *packed, yv);
        if (!st.ok()) return state.SkipWithError(st.message());
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(state, s, count);
}

const bool registered = [] {
    using sparq::backend;
    for (const shape& s : matvecs) {
        const std::string nk = mv_name(s);
        if (!dense_elsewhere(s)) {
            benchmark::RegisterBenchmark(("matvec_f32/sparq_xsimd/" + nk).c_str(), dense<float>, s, s.n);
            benchmark::RegisterBenchmark(("matvec_s8/sparq_xsimd/" + nk).c_str(), dense<std::int8_t>, s, s.n);
        }
        benchmark::RegisterBenchmark(("spmv_f32/sparq_xsimd/" + nk).c_str(), csr_best_f32, s, 0.9);
        benchmark::RegisterBenchmark(("spmv_f32/sparq_xsimd_packed/" + nk).c_str(), csr_packed_f32, s, 0.9);
        benchmark::RegisterBenchmark(("spmv_f32/sparq_xsimd_plain/" + nk).c_str(), csr_f32, s, 0.9, backend::xsimd);
        benchmark::RegisterBenchmark(("spmv_f32/sparq_scalar/" + nk).c_str(), csr_f32, s, 0.9, backend::scalar);
        benchmark::RegisterBenchmark(("spmv_f32_block/sparq_xsimd/" + nk).c_str(), block_f32, s, 0.9);
        benchmark::RegisterBenchmark(("spmv_s8/sparq_xsimd/" + nk).c_str(), csr_s8, s, 0.9);
        benchmark::RegisterBenchmark(("spmv_s8_block/sparq_xsimd/" + nk).c_str(), block_s8, s, 0.9);
        benchmark::RegisterBenchmark(("matvec_f32_chan50/sparq_xsimd/" + nk).c_str(), dense<float>, s, s.n / 2);
    }
    for (const shape& s : matmuls) {
        const std::string mnk = mm_name(s);
        if (!matmul_dense_elsewhere(s)) benchmark::RegisterBenchmark(("matmul_f32/sparq_xsimd/" + mnk).c_str(), dense<float>, s, s.n);
        benchmark::RegisterBenchmark(("spmm_f32_nm/sparq_xsimd/" + mnk).c_str(), nm_f32, s, sparq::kernels::nm_layout::rows);
        benchmark::RegisterBenchmark(("spmm_f32_nm_panels/sparq_xsimd/" + mnk).c_str(), nm_f32, s, sparq::kernels::nm_layout::panels);
        benchmark::RegisterBenchmark(("matmul_f32_chan50/sparq_xsimd/" + mnk).c_str(), dense<float>, s, s.n / 2);
    }
    // Break-even sweep: family spmv_<format>_s<percent>, two shapes (one in L2, one from DRAM).
    for (const shape& s : {matvecs[3], matvecs[2]}) {
        for (double sp : sweep) {
            const std::string pct = std::to_string(int(sp * 100 + 0.5)), nk = mv_name(s);
            benchmark::RegisterBenchmark(("spmv_f32_s" + pct + "/sparq_xsimd/" + nk).c_str(), csr_best_f32, s, sp);
            benchmark::RegisterBenchmark(("spmv_f32_block_s" + pct + "/sparq_xsimd/" + nk).c_str(), block_f32, s, sp);
            benchmark::RegisterBenchmark(("spmv_s8_s" + pct + "/sparq_xsimd/" + nk).c_str(), csr_s8, s, sp);
            benchmark::RegisterBenchmark(("spmv_s8_block_s" + pct + "/sparq_xsimd/" + nk).c_str(), block_s8, s, sp);
        }
    }
    return true;
}();

}  // namespace
