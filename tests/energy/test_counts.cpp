// Every kernel's counts against the analytic formula, on random shapes and on every backend
// compiled in: dense M*N*K MACs, conv via its GEMM shape, bytes by dtype, and the fp32 dense
// baseline next to them.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/int4.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/prepared.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/quant/calibrate.hpp"
#include "sparq/quant/qparams.hpp"

using namespace sparq;
using energy::traffic;

namespace {

using u64 = std::uint64_t;

// The counts one product Y[m, n] = X[m, k] W[n, k]^T must leave: wb/xb/yb bytes per element.
void check_gemm(const energy::counter& c, dtype mac, u64 m, u64 n, u64 k, u64 wb, u64 xb, u64 yb) {
    CHECK(c.macs(mac) == m * n * k);
    CHECK(c.total_macs() == m * n * k);
    CHECK(c.baseline_macs() == m * n * k);
    CHECK(c.bytes(traffic::weights) == n * k * wb);
    CHECK(c.bytes(traffic::activations) == m * k * xb + m * n * yb);
    CHECK(c.fp32_bytes(traffic::weights) == n * k * 4);
    CHECK(c.fp32_bytes(traffic::activations) == (m * k + m * n) * 4);
    CHECK(c.bytes(traffic::indices) == 0);
}

template <class T>
tensor<T, 2> filled(index_t r, index_t c, std::mt19937& rng) {
    auto t = tensor<T, 2>::make({r, c});
    REQUIRE(t.ok());
    for (index_t i = 0; i < t->size(); ++i) t->data()[i] = T(int(rng() % 7) - 3);
    return std::move(*t);
}

const backend every_backend[] = {backend::scalar, backend::xsimd, backend::dnnl};

}  // namespace

TEST_CASE("dense matmul counts are exactly M*N*K MACs and each tensor's bytes, on every backend") {
    std::mt19937 rng(7);
    const index_t sizes[] = {1, 2, 3, 7, 13, 31, 64, 97};
    for (int trial = 0; trial < 12; ++trial) {
        const index_t m = sizes[rng() % 8], n = sizes[rng() % 8], k = sizes[rng() % 8];
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(k);
        auto x = filled<float>(m, k, rng);
        auto w = filled<float>(n, k, rng);
        auto x8 = filled<std::int8_t>(m, k, rng);
        auto w8 = filled<std::int8_t>(n, k, rng);
        auto y = tensor<float, 2>::make({m, n});
        auto y32 = tensor<std::int32_t, 2>::make({m, n});
        REQUIRE((y.ok() && y32.ok()));
        auto w32p = kernels::pack_weights(w.cview());
        auto w16p = kernels::pack_weights_as<float16>(w.cview());
        auto wbfp = kernels::pack_weights_as<bfloat16>(w.cview());
        auto w8p = kernels::pack_weights(w8.cview());
        REQUIRE((w32p.ok() && w16p.ok() && wbfp.ok() && w8p.ok()));
        for (backend b : every_backend) {
            if (!backend_compiled(b) || b == backend::dnnl) continue;  // oneDNN: the prepared case below
            const std::string name = to_string(b);
            CAPTURE(name);
            context ctx;
            ctx.with_backend(b, false);
            energy::counter c;
            ctx.with_energy(c);
            REQUIRE(kernels::matmul(ctx, x.cview(), *w32p, y->view()).ok());
            check_gemm(c, dtype::f32, u64(m), u64(n), u64(k), 4, 4, 4);
            c.reset();
            REQUIRE(kernels::matmul(ctx, x.cview(), *w16p, y->view()).ok());
            check_gemm(c, dtype::f32, u64(m), u64(n), u64(k), 2, 4, 4);  // fp16 storage, f32 multiplies
            c.reset();
            REQUIRE(kernels::matmul(ctx, x.cview(), *wbfp, y->view()).ok());
            check_gemm(c, dtype::f32, u64(m), u64(n), u64(k), 2, 4, 4);
            c.reset();
            REQUIRE(kernels::matmul_s8(ctx, x8.cview(), *w8p, y32->view()).ok());
            check_gemm(c, dtype::s8, u64(m), u64(n), u64(k), 1, 1, 4);
            c.reset();
            // uint8 activations: s8 MACs too, one byte each
            auto xu = tensor<std::uint8_t, 2>::make({m, k});
            REQUIRE(xu.ok());
            for (index_t i = 0; i < xu->size(); ++i) xu->data()[i] = std::uint8_t(rng());
            REQUIRE(kernels::matmul_s8(ctx, xu->cview(), *w8p, y32->view()).ok());
            check_gemm(c, dtype::s8, u64(m), u64(n), u64(k), 1, 1, 4);
            c.reset();
            // the unpacked entry on views (the scalar backend's only)
            if (b != backend::scalar) continue;
            REQUIRE(kernels::matmul<float>(ctx, x.cview(), w.cview(), y->view()).ok());
            check_gemm(c, dtype::f32, u64(m), u64(n), u64(k), 4, 4, 4);
        }
        // Through the context-chosen prepared layer (oneDNN when compiled in).
        for (backend b : every_backend) {
            if (!backend_compiled(b)) continue;
            const std::string name = to_string(b);
            CAPTURE(name);
            context ctx;
            ctx.with_backend(b, false);
            auto prep = kernels::prepared_matmul<float>::make(ctx, w.cview());
            REQUIRE(prep.ok());
            energy::counter c;
            ctx.with_energy(c);
            REQUIRE(prep->run(ctx, x.cview(), y->view()).ok());
            check_gemm(c, dtype::f32, u64(m), u64(n), u64(k), 4, 4, 4);
        }
    }
}

#if defined(SPARQ_WITH_DNNL)
TEST_CASE("the oneDNN int8 matmul counts s8 MACs") {
    std::mt19937 rng(3);
    auto x8 = filled<std::int8_t>(5, 33, rng);
    auto w8 = filled<std::int8_t>(17, 33, rng);
    auto y32 = tensor<std::int32_t, 2>::make({5, 17});
    REQUIRE(y32.ok());
    auto mm = kernels::dnnl_backend::matmul_s8::make(w8.cview());
    REQUIRE(mm.ok());
    energy::counter c;
    context ctx;
    ctx.with_energy(c);
    REQUIRE(mm->run(ctx, x8.cview(), y32->view()).ok());
    check_gemm(c, dtype::s8, 5, 17, 33, 1, 1, 4);
}
#endif

TEST_CASE("conv2d counts its GEMM shape: N*O*OH*OW * C/groups*KH*KW MACs") {
    std::mt19937 rng(11);
    static std::byte scratch[1 << 20];
    arena a(scratch, sizeof scratch);
    for (int trial = 0; trial < 10; ++trial) {
        const index_t groups = trial % 3 == 2 ? 2 : 1;
        const index_t n = 1 + index_t(rng() % 2), c = groups * (1 + index_t(rng() % 5)), o = groups * (1 + index_t(rng() % 4));
        const index_t h = 3 + index_t(rng() % 9), w = 3 + index_t(rng() % 9), kh = 1 + index_t(rng() % 3), kw = 1 + index_t(rng() % 3);
        kernels::conv2d_params p;
        p.groups = groups;
        p.stride_h = 1 + index_t(rng() % 2);
        p.pad_left = p.pad_top = index_t(rng() % 2);
        const extents_t<4> in{n, c, h, w}, wx{o, c / groups, kh, kw};
        auto out = kernels::conv2d_output(in, wx, p);
        REQUIRE(out.ok());
        CAPTURE(trial);
        auto xf = tensor<float, 4>::make(in);
        auto wf = tensor<float, 4>::make(wx);
        auto yf = tensor<float, 4>::make(*out);
        auto x8 = tensor<std::int8_t, 4>::make(in);
        auto w8 = tensor<std::int8_t, 4>::make(wx);
        auto y32 = tensor<std::int32_t, 4>::make(*out);
        REQUIRE((xf.ok() && wf.ok() && yf.ok() && x8.ok() && w8.ok() && y32.ok()));
        for (index_t i = 0; i < xf->size(); ++i) xf->data()[i] = float(int(rng() % 5) - 2), x8->data()[i] = std::int8_t(rng());
        for (index_t i = 0; i < wf->size(); ++i) wf->data()[i] = float(int(rng() % 5) - 2), w8->data()[i] = std::int8_t(rng());
        const u64 kg = u64(c / groups * kh * kw), ys = u64(yf->size()), xs = u64(xf->size());
        const u64 macs = u64((*out)[0] * (*out)[1] * (*out)[2] * (*out)[3]) * kg;
        auto pf = kernels::pack_conv_weights(wf->cview(), groups);
        auto p8 = kernels::pack_conv_weights(w8->cview(), groups);
        REQUIRE((pf.ok() && p8.ok()));
        energy::counter cf, c8;
        context ctx;
        ctx.with_scratch(a);
        REQUIRE(kernels::conv2d(context(ctx).with_energy(cf), xf->cview(), *pf, p, yf->view()).ok());
        REQUIRE(kernels::conv2d_s8(context(ctx).with_energy(c8), x8->cview(), *p8, p, y32->view()).ok());
        CHECK(cf.macs(dtype::f32) == macs);
        CHECK(c8.macs(dtype::s8) == macs);
        CHECK(cf.bytes(traffic::weights) == u64(o) * kg * 4);
        CHECK(c8.bytes(traffic::weights) == u64(o) * kg);
        CHECK(cf.bytes(traffic::activations) == (xs + ys) * 4);
        CHECK(c8.bytes(traffic::activations) == xs + ys * 4);
        CHECK(c8.fp32_bytes(traffic::activations) == (xs + ys) * 4);
        CHECK(c8.baseline_macs() == macs);
    }
}

TEST_CASE("int4 weight-only matmul: f32 MACs, half a byte a weight plus a scale per group") {
    std::mt19937 rng(5);
    const index_t m = 3, n = 9, k = 37, group = 8;
    auto x = filled<float>(m, k, rng);
    auto w = filled<float>(n, k, rng);
    auto p = quant::calibrate_weights(w.cview(), quant::qscheme::weights_s4_per_group(group));
    REQUIRE(p.ok());
    auto packed = tensor<std::uint8_t, 2>::make({n, (k + 1) / 2});
    auto y = tensor<float, 2>::make({m, n});
    REQUIRE((packed.ok() && y.ok()));
    REQUIRE(kernels::quantize_int4(w.cview(), *p, packed->view()).ok());
    energy::counter c;
    context ctx;
    ctx.with_energy(c);
    REQUIRE(kernels::matmul_int4(ctx, x.cview(), packed->cview(), *p, y->view()).ok());
    CHECK(c.macs(dtype::f32) == u64(m * n * k));
    CHECK(c.bytes(traffic::weights) == u64(n * ((k + 1) / 2)) + u64(p->count()) * 4);
    CHECK(c.fp32_bytes(traffic::weights) == u64(n * k * 4));
}

TEST_CASE("quantize and dequantize count their traffic by dtype") {
    auto x = tensor<float, 2>::make({7, 11});
    auto q = tensor<std::uint8_t, 2>::make({7, 11});
    REQUIRE((x.ok() && q.ok()));
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = float(i) / 10.0f;
    const auto p = quant::make_per_tensor(dtype::u8, 0.05f, 3);
    energy::counter c;
    context ctx;
    ctx.with_energy(c);
    REQUIRE(kernels::quantize(ctx, x->cview(), p, q->view()).ok());
    CHECK(c.bytes(traffic::activations) == 77 * 4 + 77);
    CHECK(c.fp32_bytes(traffic::activations) == 77 * 8);
    CHECK(c.total_macs() == 0);
}

TEST_CASE("no counter, no counting; counters merge exactly") {
    context ctx;  // no counter: kernels must still run
    auto x = tensor<float, 2>::make({2, 3});
    auto w = tensor<float, 2>::make({4, 3});
    auto y = tensor<float, 2>::make({2, 4});
    REQUIRE((x.ok() && w.ok() && y.ok()));
    CHECK(kernels::matmul<float>(ctx, x->cview(), w->cview(), y->view()).ok());

    // Per-thread counters merged at the end equal one counter that saw everything.
    energy::counter a, b, all;
    a.add_macs(dtype::f32, 10), all.add_macs(dtype::f32, 10);
    b.add_macs(dtype::s8, 7), all.add_macs(dtype::s8, 7);
    b.add_sparse_macs(dtype::s8, 3, 12), all.add_sparse_macs(dtype::s8, 3, 12);
    a.add_weights(dtype::s4, 5), all.add_weights(dtype::s4, 5);
    b.add_sparse_weights(dtype::f32, 4, 16, 64), all.add_sparse_weights(dtype::f32, 4, 16, 64);
    a.add_adds(dtype::s32, 9), all.add_adds(dtype::s32, 9);
    a += b;
    CHECK(a.total_macs() == all.total_macs());
    CHECK(a.total_macs() == 20);
    CHECK(a.baseline_macs() == 10 + 7 + 12);
    CHECK(a.sparse_macs(dtype::s8) == 3);
    CHECK(a.adds(dtype::s32) == 9);
    CHECK(a.bytes(traffic::weights) == all.bytes(traffic::weights));
    CHECK(a.bytes(traffic::weights) == 3 + 16);  // 5 nibbles round up to 3 bytes; 4 f32 values
    CHECK(a.bytes(traffic::indices) == 16);
    CHECK(a.fp32_bytes(traffic::weights) == 5 * 4 + 64 * 4);
    for (std::size_t cls = 0; cls < energy::footprint_classes; ++cls)
        CHECK(a.bytes_in_class(traffic::weights, cls) == all.bytes_in_class(traffic::weights, cls));
}

TEST_CASE("footprint classes round a tensor's size up to a power of two") {
    CHECK(energy::footprint_class(0) == 0);
    CHECK(energy::footprint_class(1) == 0);
    CHECK(energy::footprint_class(2) == 1);
    CHECK(energy::footprint_class(3) == 2);
    CHECK(energy::footprint_class(32768) == 15);
    CHECK(energy::footprint_class(32769) == 16);
    CHECK(energy::footprint_class(~std::uint64_t(0)) == 63);
    energy::counter c;
    c.add_weights(dtype::f32, 8192);  // 32 KiB
    CHECK(c.bytes_in_class(traffic::weights, 15) == 32768);
    CHECK(c.fp32_bytes_in_class(traffic::weights, 15) == 32768);
    c.add_weights(dtype::s8, 8192);   // 8 KiB, 32 KiB at fp32
    CHECK(c.bytes_in_class(traffic::weights, 13) == 8192);
    CHECK(c.fp32_bytes_in_class(traffic::weights, 15) == 65536);
}
