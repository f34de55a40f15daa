// Fused output stages against the two-pass reference (GEMM, then kernels/output_stage.hpp):
// the float stage (bias + ReLU / ReLU6) and the int8 layer (requantization to int8 / uint8 with
// both roundings, dequantization to float) must give the same bits, on shapes 1, odd, prime and
// large, both packed int8 layouts, int8 and uint8 activations, extreme values and saturation.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/matmul.hpp"

using namespace sparq;

namespace {

struct mnk {
    index_t m, n, k;
};

std::vector<float> uniform(index_t count, std::mt19937& rng, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(static_cast<std::size_t>(count));
    for (auto& x : v) x = d(rng);
    return v;
}

bool same_bits(const float* a, const float* b, index_t n) { return std::memcmp(a, b, std::size_t(n) * sizeof(float)) == 0; }

const kernels::activation activations[] = {kernels::activation::none, kernels::activation::relu, kernels::activation::relu6};

}  // namespace

TEST_CASE("fused f32 bias + activation: the bits of the GEMM followed by apply_bias_activation") {
    std::mt19937 rng(71);
    for (const mnk& s : {mnk{1, 1, 1}, mnk{1, 3, 7}, mnk{3, 7, 13}, mnk{13, 31, 97}, mnk{12, 32, 256}, mnk{31, 97, 257},
                         mnk{100, 70, 600}, mnk{2, 33, 4099}}) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        const auto x = uniform(s.m * s.k, rng, -1, 1), w = uniform(s.n * s.k, rng, -1, 1), b = uniform(s.n, rng, -3, 3);
        const matrix_view<const float> xv(x.data(), {s.m, s.k});
        auto packed = kernels::pack_weights(matrix_view<const float>(w.data(), {s.n, s.k}));
        auto p16 = kernels::pack_weights_as<float16>(matrix_view<const float>(w.data(), {s.n, s.k}));
        REQUIRE((packed.ok() && p16.ok()));
        for (auto act : activations)
            for (const std::vector<float>& bias : {b, std::vector<float>{}}) {
                std::vector<float> fused(std::size_t(s.m * s.n)), two(fused.size()), ref(fused.size());
                const matrix_view<float> fv(fused.data(), {s.m, s.n}), tv(two.data(), {s.m, s.n}), rv(ref.data(), {s.m, s.n});
                context ctx, scalar_ctx;
                scalar_ctx.with_backend(backend::scalar, false);
                REQUIRE(kernels::matmul(ctx, xv, *packed, bias, act, fv).ok());
                REQUIRE(kernels::matmul(ctx, xv, *packed, tv).ok());
                REQUIRE(kernels::apply_bias_activation(tv, bias, act).ok());
                CHECK(same_bits(fused.data(), two.data(), s.m * s.n));
                // the scalar backend: its own two passes; within the summation-order bound of the xsimd sums
                REQUIRE(kernels::matmul(scalar_ctx, xv, *packed, bias, act, rv).ok());
                int bad = 0;
                for (index_t i = 0; i < s.m; ++i)
                    for (index_t j = 0; j < s.n; ++j) {
                        double bound = 0;
                        for (index_t k = 0; k < s.k; ++k) bound += std::fabs(double(x[std::size_t(i * s.k + k)] * w[std::size_t(j * s.k + k)]));
                        bad += std::fabs(double(fv(i, j)) - double(rv(i, j))) > bound * double(s.k) * 1.2e-7 + 1e-30;
                        if (act == kernels::activation::relu6) bad += !(fv(i, j) >= 0.0f && fv(i, j) <= 6.0f);
                        if (act == kernels::activation::relu) bad += !(fv(i, j) >= 0.0f);
                    }
                CHECK(bad == 0);
                // float16 weights take the same fused stage
                REQUIRE(kernels::matmul(ctx, xv, *p16, bias, act, fv).ok());
                REQUIRE(kernels::matmul(ctx, xv, *p16, tv).ok());
                REQUIRE(kernels::apply_bias_activation(tv, bias, act).ok());
                CHECK(same_bits(fused.data(), two.data(), s.m * s.n));
            }
    }
}

TEST_CASE("fused f32 stage: ReLU6 clamps, strided outputs, bad bias, energy counts as the plain matmul") {
    std::mt19937 rng(72);
    const index_t m = 13, n = 37, k = 97;
    const auto x = uniform(m * k, rng, -1, 1), w = uniform(n * k, rng, -1, 1), bias = uniform(n, rng, -1, 1);
    auto packed = kernels::pack_weights(matrix_view<const float>(w.data(), {n, k}));
    REQUIRE(packed.ok());
    const matrix_view<const float> xv(x.data(), {m, k});
    std::vector<float> plain(std::size_t(m * n));
    context ctx;
    REQUIRE(kernels::matmul(ctx, xv, *packed, bias, kernels::activation::relu6, matrix_view<float>(plain.data(), {m, n})).ok());
    int sixes = 0, zeros = 0;
    for (float v : plain) sixes += v == 6.0f, zeros += v == 0.0f;
    CHECK(sixes > 0);  // sums of 97 products in [-1, 1] reach past 6 and below 0: both clamps are exercised
    CHECK(zeros > 0);
    // rows 5 apart in a wider buffer (the xsimd path), and a transposed output (the scalar path)
    std::vector<float> wide(std::size_t(m * (n + 5)), -1.0f), tr(std::size_t(n * m));
    REQUIRE(kernels::matmul(ctx, xv, *packed, bias, kernels::activation::relu6,
                            matrix_view<float>(wide.data(), {m, n}, {n + 5, 1})).ok());
    REQUIRE(kernels::matmul(ctx, xv, *packed, bias, kernels::activation::relu6,
                            matrix_view<float>(tr.data(), {n, m}).transpose(0, 1)).ok());
    int bad = 0;
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) {
            bad += wide[std::size_t(i * (n + 5) + j)] != plain[std::size_t(i * n + j)];
            bad += std::fabs(tr[std::size_t(j * m + i)] - plain[std::size_t(i * n + j)]) > 1e-4f;
        }
    for (index_t i = 0; i < m; ++i)
        for (index_t j = n; j < n + 5; ++j) bad += wide[std::size_t(i * (n + 5) + j)] != -1.0f;  // untouched
    CHECK(bad == 0);
    CHECK(kernels::matmul(ctx, xv, *packed, std::vector<float>(3), kernels::activation::none,
                          matrix_view<float>(plain.data(), {m, n})).code() == errc::shape_mismatch);
    energy::counter a, b;
    context ca, cb;
    ca.with_energy(a), cb.with_energy(b);
    REQUIRE(kernels::matmul(ca, xv, *packed, bias, kernels::activation::relu, matrix_view<float>(plain.data(), {m, n})).ok());
    REQUIRE(kernels::matmul(cb, xv, *packed, matrix_view<float>(plain.data(), {m, n})).ok());
    CHECK(a.macs(dtype::f32) == b.macs(dtype::f32));
    CHECK(a.bytes(energy::traffic::weights) == b.bytes(energy::traffic::weights));
    CHECK(a.bytes(energy::traffic::activations) == b.bytes(energy::traffic::activations));
}

namespace {

// Per-channel int8 weights with scales spanning six orders of magnitude, so the requantization
// multipliers take right shifts up to ~20 and left shifts up to 4, and outputs saturate.
struct int8_layer {
    index_t n, k;
    std::vector<std::int8_t> w;
    quant::qparams wq;
    std::vector<float> bias;
};

int8_layer make_layer(index_t n, index_t k, std::mt19937& rng) {
    int8_layer l{n, k, std::vector<std::int8_t>(std::size_t(n * k)), {}, std::vector<float>(std::size_t(n))};
    for (std::size_t i = 0; i < l.w.size(); ++i) l.w[i] = std::int8_t(i % 7 == 0 ? -128 : int(rng() % 256) - 128);
    l.wq = quant::make_per_tensor(dtype::s8, 1.0f, 0);
    l.wq.gran = quant::granularity::per_channel, l.wq.axis = 0;
    l.wq.scale.resize(std::size_t(n)), l.wq.zero_point.assign(std::size_t(n), 0);
    std::uniform_real_distribution<float> e(-5.0f, 2.0f), b(-20.0f, 20.0f);
    for (index_t j = 0; j < n; ++j) l.wq.scale[std::size_t(j)] = std::pow(10.0f, e(rng)), l.bias[std::size_t(j)] = b(rng);
    return l;
}

template <class X>
std::vector<X> activations_of(index_t count, std::mt19937& rng) {
    std::vector<X> v(static_cast<std::size_t>(count));
    const int lo = std::numeric_limits<X>::min(), hi = std::numeric_limits<X>::max();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = X(i % 5 == 0 ? (std::is_signed_v<X> ? lo : hi) : lo + int(rng() % unsigned(hi - lo + 1)));
    return v;
}

template <class X, class Out>
void check_linear(const int8_layer& l, index_t m, std::mt19937& rng, int threads, index_t gap = 0) {
    const auto x = activations_of<X>(m * (l.k + gap), rng);  // rows l.k + gap apart
    const matrix_view<const X> xv(x.data(), {m, l.k}, {l.k + gap, 1});
    const auto xq = quant::make_per_tensor(std::is_signed_v<X> ? dtype::s8 : dtype::u8, 0.05f, std::is_signed_v<X> ? 3 : 131);
    const auto yq = quant::make_per_tensor(std::is_signed_v<Out> ? dtype::s8 : dtype::u8, 0.5f, std::is_signed_v<Out> ? -5 : 100);
    std::vector<kernels::packed_s8> layouts;
    layouts.push_back(*kernels::pack_weights(matrix_view<const std::int8_t>(l.w.data(), {l.n, l.k})));
#if defined(SPARQ_MATMUL_XSIMD)
    layouts.push_back(*kernels::pack_s8(matrix_view<const std::int8_t>(l.w.data(), {l.n, l.k}),
                                        kernels::xsimd::gemm_s8_widen_shape<::xsimd::default_arch>::nr, 1));
#endif
    std::vector<std::byte> scratch(std::size_t(m * l.n) * 4 + 256);
    arena a(scratch.data(), scratch.size());
    for (const auto& packed : layouts)
        for (auto r : {quant::requant_rounding::double_rounding, quant::requant_rounding::single_rounding, quant::requant_rounding::float_scale})
            for (auto act : activations) {
                auto st = kernels::make_requant_stage(xq, l.wq, packed, yq, l.bias, act, r);
                REQUIRE(st.ok());
                std::vector<Out> fused(std::size_t(m * l.n)), two(fused.size());
                context ctx, ref_ctx;
                ctx.with_threads(threads);
#if !defined(SPARQ_MATMUL_XSIMD)
                ctx.with_scratch(a);  // no SIMD kernels: linear_s8 is the two-pass form everywhere
#endif
                ref_ctx.with_backend(backend::scalar, false).with_scratch(a);
                energy::counter cf, ct;
                ctx.with_energy(cf), ref_ctx.with_energy(ct);
                REQUIRE(kernels::linear_s8(ctx, xv, packed, *st, matrix_view<Out>(fused.data(), {m, l.n})).ok());
                REQUIRE(kernels::linear_s8(ref_ctx, xv, packed, *st, matrix_view<Out>(two.data(), {m, l.n})).ok());
                int differ = 0;
                for (std::size_t i = 0; i < fused.size(); ++i)
                    differ += std::memcmp(&fused[i], &two[i], sizeof(Out)) != 0;
                CHECK(differ == 0);
                CHECK(cf.macs(dtype::s8) == ct.macs(dtype::s8));
                // the fused path writes the stage's output, the two-pass one int32 sums first
                CHECK(cf.bytes(energy::traffic::weights) == ct.bytes(energy::traffic::weights));
                CHECK(cf.bytes(energy::traffic::activations) <= ct.bytes(energy::traffic::activations));
                if constexpr (!std::is_same_v<Out, float>) {
                    // the clamps are reached (for long rows the -128 / 255 extremes give every sum one sign)
                    if (m * l.n >= 64 && l.k <= 600 && act == kernels::activation::none) {
                        int lo = 0, hi = 0;
                        for (Out v : fused) lo += v == Out(st->qmin), hi += v == Out(st->qmax);
                        CHECK(lo > 0);
                        CHECK(hi > 0);
                    }
                }
            }
}

}  // namespace

namespace {

// check_linear on each shape, every pairing of activations and outputs (the mixed ones up to
// k = 600), then a layer big enough for its panels to split over two threads, at big_m rows.
void check_shapes(std::initializer_list<mnk> shapes, index_t big_m, std::mt19937& rng) {
    for (const mnk& s : shapes) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        const auto l = make_layer(s.n, s.k, rng);
        check_linear<std::int8_t, std::int8_t>(l, s.m, rng, 1);
        check_linear<std::uint8_t, std::uint8_t>(l, s.m, rng, 1);
        check_linear<std::int8_t, float>(l, s.m, rng, 1);
        if (s.k <= 600) {
            check_linear<std::uint8_t, std::int8_t>(l, s.m, rng, 1);
            check_linear<std::int8_t, std::uint8_t>(l, s.m, rng, 1);
            check_linear<std::uint8_t, float>(l, s.m, rng, 1);
        }
    }
    const auto big = make_layer(300, 500, rng);  // above the threading threshold
    check_linear<std::int8_t, std::int8_t>(big, big_m, rng, 2);
}

}  // namespace

TEST_CASE("linear_s8 fused into the int8 GEMMs: the bits of the two-pass reference") {
    std::mt19937 rng(73);
    check_shapes({mnk{1, 1, 1}, mnk{1, 3, 7}, mnk{3, 7, 13}, mnk{7, 13, 31}, mnk{13, 31, 97}, mnk{12, 32, 256},
                  mnk{31, 97, 257}, mnk{100, 70, 600}, mnk{13, 40, 4500}, mnk{1, 5, 50000}},
                 40, rng);
}

#if defined(SPARQ_HAS_AMX_GEMM)
TEST_CASE("linear_s8 on AMX tiles: the bits of the two-pass reference around the 32-row blocks and 64-k steps") {
    std::mt19937 rng(75);
    const std::string amx_note = std::string("AMX usable here: ") + (kernels::xsimd::amx_usable() ? "yes" : "no (the VNNI kernel ran twice)");
    MESSAGE(amx_note);
    struct restore {  // whatever the checks do, the next tests see the setting they had
        bool allowed = kernels::xsimd::detail::amx_allowed().load();
        ~restore() { kernels::xsimd::set_amx(allowed); }
    } keep;
    for (bool amx : {true, false}) {
        CAPTURE(amx);
        kernels::xsimd::set_amx(amx);
        // each thread of the big layer configures its own tiles
        check_shapes({mnk{32, 32, 64}, mnk{33, 31, 65}, mnk{64, 33, 127}, mnk{31, 64, 128}, mnk{97, 70, 200},
                      mnk{40, 96, 576}, mnk{64, 16, 63}, mnk{50, 64, 1000},
                      // k tails read as whole tiles (past K into the next row) but for the last blocks
                      mnk{64, 16, 16}, mnk{200, 24, 16}, mnk{97, 40, 24}, mnk{128, 32, 27}, mnk{300, 64, 147}},
                     70, rng);
        for (const mnk& s : {mnk{96, 32, 16}, mnk{130, 20, 147}}) {  // rows apart by more than K
            CAPTURE(s.k);
            check_linear<std::int8_t, std::int8_t>(make_layer(s.n, s.k, rng), s.m, rng, 1, 7);
        }
    }
}
#endif

TEST_CASE("linear_s8: strided views, the arena only on the two-pass path, stages that do not fit") {
    std::mt19937 rng(74);
    const index_t m = 9, n = 21, k = 45;
    const auto l = make_layer(n, k, rng);
    auto packed = kernels::pack_weights(matrix_view<const std::int8_t>(l.w.data(), {n, k}));
    REQUIRE(packed.ok());
    const auto xq = quant::make_per_tensor(dtype::s8, 0.05f, 3), yq = quant::make_per_tensor(dtype::s8, 0.5f, -5);
    auto st = kernels::make_requant_stage(xq, l.wq, *packed, yq, l.bias, kernels::activation::relu);
    REQUIRE(st.ok());
    const auto x = activations_of<std::int8_t>(m * (k + 3), rng);
    const matrix_view<const std::int8_t> xv(x.data(), {m, k}, {k + 3, 1});  // rows 3 apart
    std::vector<std::byte> scratch(4096);
    arena a(scratch.data(), scratch.size());
    context ctx, ref_ctx;
    ref_ctx.with_backend(backend::scalar, false).with_scratch(a);
#if !defined(SPARQ_MATMUL_XSIMD)
    ctx.with_scratch(a);
#endif
    std::vector<std::int8_t> ref(std::size_t(m * n)), wide(std::size_t(m * (n + 4)), 77), tr(std::size_t(n * m));
    REQUIRE(kernels::linear_s8(ref_ctx, xv, *packed, *st, matrix_view<std::int8_t>(ref.data(), {m, n})).ok());
    REQUIRE(kernels::linear_s8(ctx, xv, *packed, *st, matrix_view<std::int8_t>(wide.data(), {m, n}, {n + 4, 1})).ok());
    ctx.with_scratch(a);  // a transposed output takes the two-pass path, which needs the arena
    REQUIRE(kernels::linear_s8(ctx, xv, *packed, *st, matrix_view<std::int8_t>(tr.data(), {n, m}).transpose(0, 1)).ok());
    int bad = 0;
    for (index_t i = 0; i < m; ++i) {
        for (index_t j = 0; j < n; ++j) {
            bad += wide[std::size_t(i * (n + 4) + j)] != ref[std::size_t(i * n + j)];
            bad += tr[std::size_t(j * m + i)] != ref[std::size_t(i * n + j)];
        }
        for (index_t j = n; j < n + 4; ++j) bad += wide[std::size_t(i * (n + 4) + j)] != 77;
    }
    CHECK(bad == 0);
    context no_arena;
#if defined(SPARQ_MATMUL_XSIMD)
    CHECK(kernels::linear_s8(no_arena, xv, *packed, *st, matrix_view<std::int8_t>(ref.data(), {m, n})).ok());
#endif
    no_arena.with_backend(backend::scalar, false);
    CHECK(kernels::linear_s8(no_arena, xv, *packed, *st, matrix_view<std::int8_t>(ref.data(), {m, n})).code() ==
          errc::invalid_argument);
    kernels::requant_stage empty;
    CHECK(kernels::linear_s8(ctx, xv, *packed, empty, matrix_view<std::int8_t>(ref.data(), {m, n})).code() ==
          errc::shape_mismatch);
}

#if defined(SPARQ_MATMUL_XSIMD)
TEST_CASE("linear_s8 on a column slice of the stage (a grouped convolution's group): the columns of the whole layer") {
    std::mt19937 rng(76);
    const index_t m = 70, n = 40, k = 147, first = 24;  // the slice: output columns [24, 40)
    const auto l = make_layer(n, k, rng);
    const auto whole = kernels::pack_weights(matrix_view<const std::int8_t>(l.w.data(), {n, k}));
    const auto part = kernels::pack_weights(matrix_view<const std::int8_t>(l.w.data() + first * k, {n - first, k}));
    REQUIRE(whole.ok());
    REQUIRE(part.ok());
    const auto xq = quant::make_per_tensor(dtype::s8, 0.05f, 3), yq = quant::make_per_tensor(dtype::s8, 0.5f, -5);
    auto st = kernels::make_requant_stage(xq, l.wq, *whole, yq, l.bias, kernels::activation::relu6);
    REQUIRE(st.ok());
    const auto x = activations_of<std::int8_t>(m * k, rng);
    const matrix_view<const std::int8_t> xv(x.data(), {m, k});
    context ctx;
    if (!kernels::detail::linear_s8_fuses(ctx, k, *part, 1, 1)) {
        MESSAGE("no fused int8 GEMM in this build: a stage slice is refused");
        std::vector<std::int8_t> y(std::size_t(m * n));
        CHECK(kernels::linear_s8(ctx, xv, *part, *st, matrix_view<std::int8_t>(y.data(), {m, n - first}), first).code() ==
              errc::invalid_argument);
        return;
    }
    std::vector<std::int8_t> ref(std::size_t(m * n)), sliced(std::size_t(m * n), 99);
    REQUIRE(kernels::linear_s8(ctx, xv, *whole, *st, matrix_view<std::int8_t>(ref.data(), {m, n})).ok());
    // written into its columns of the whole output, rows n apart
    REQUIRE(kernels::linear_s8(ctx, xv, *part, *st, matrix_view<std::int8_t>(sliced.data() + first, {m, n - first}, {n, 1}), first).ok());
    int bad = 0;
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j)
            bad += sliced[std::size_t(i * n + j)] != (j < first ? std::int8_t(99) : ref[std::size_t(i * n + j)]);
    CHECK(bad == 0);
    // a slice past the stage's columns, or a negative one
    CHECK(kernels::linear_s8(ctx, xv, *part, *st, matrix_view<std::int8_t>(sliced.data(), {m, n - first}), first + 1).code() ==
          errc::shape_mismatch);
    CHECK(kernels::linear_s8(ctx, xv, *part, *st, matrix_view<std::int8_t>(sliced.data(), {m, n - first}), -1).code() ==
          errc::invalid_argument);
}

TEST_CASE("xsimd requantization of a tile: quant::requantize's bits on extreme sums, offsets and shifts") {
    using arch = ::xsimd::default_arch;
    std::mt19937 rng(75);
    const index_t cols = 37, rows = 64;  // a batch tail too
    const std::int32_t specials[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30), -65536, -129, -1, 0, 1, 127, 65535, 1 << 30, INT32_MAX - 1, INT32_MAX};
    for (auto r : {quant::requant_rounding::double_rounding, quant::requant_rounding::single_rounding, quant::requant_rounding::float_scale})
        for (int trial = 0; trial < 40; ++trial) {
            kernels::requant_stage st;
            st.rounding = r;
            st.zero_point = int(rng() % 256) - 128;
            st.qmin = -128, st.qmax = 127;
            if (trial % 3 == 0) st.zero_point = int(rng() % 256), st.qmin = 0, st.qmax = 255;
            for (index_t j = 0; j < cols; ++j) {
                quant::quantized_multiplier qm;
                qm.shift = int(rng() % 62) - 31;  // every shift from -31 to 30
                qm.multiplier = j % 11 == 0 ? 0 : std::int32_t((1u << 30) + (rng() % (1u << 30)));
                if (j % 13 == 1) qm.multiplier = INT32_MAX;
                st.multiplier.push_back(qm), st.fixed.push_back(qm.multiplier), st.shift.push_back(qm.shift);
                const std::int32_t big = std::int32_t(rng());
                st.offset.push_back(j % 4 == 0 ? big : int(rng() % 20001) - 10000);
            }
            std::vector<std::int32_t> tile(std::size_t(rows * cols));
            for (std::size_t i = 0; i < tile.size(); ++i)
                tile[i] = i % 3 == 0 ? specials[rng() % (sizeof specials / sizeof specials[0])]
                                     : std::int32_t(rng()) >> (rng() % 32);
            // (64 bytes past the last row: the last columns' partial stores must not touch them)
            std::vector<std::int8_t> got(tile.size() + 64, std::int8_t(0x5A));
            std::vector<std::uint8_t> got_u(tile.size() + 64, 0x5A);
            int bad = 0;
            if (st.qmin < 0) {
                kernels::xsimd::requant_tile<arch, std::int8_t>(st, tile.data(), cols, rows, 0, cols, got.data(), cols);
                for (std::size_t i = 0; i < tile.size(); ++i)
                    bad += got[i] != kernels::detail::requantize_sum(st, tile[i], index_t(i % std::size_t(cols)));
            } else {
                kernels::xsimd::requant_tile<arch, std::uint8_t>(st, tile.data(), cols, rows, 0, cols, got_u.data(), cols);
                for (std::size_t i = 0; i < tile.size(); ++i)
                    bad += got_u[i] != kernels::detail::requantize_sum(st, tile[i], index_t(i % std::size_t(cols)));
            }
            for (std::size_t i = tile.size(); i < got.size(); ++i) bad += got[i] != 0x5A || got_u[i] != 0x5A;
            CHECK(bad == 0);
        }
}

TEST_CASE("xsimd requantization of a tile whose sums fit (stage_sums_fit): the saturating stage's bits") {
    using arch = ::xsimd::default_arch;
    std::mt19937 rng(76);
    const index_t cols = 45, rows = 17, k = 300;  // sums of k products: |sum| <= k * 255 * 128
    const std::int32_t most = std::int32_t(k * 255 * 128);
    for (int trial = 0; trial < 30; ++trial) {
        kernels::requant_stage st;
        st.rounding = quant::requant_rounding::float_scale;
        st.zero_point = int(rng() % 256) - 128;
        for (index_t j = 0; j < cols; ++j) {
            quant::quantized_multiplier qm;
            qm.shift = -int(rng() % 24);
            qm.multiplier = std::int32_t((1u << 30) + (rng() % (1u << 30)));
            st.multiplier.push_back(qm), st.fixed.push_back(qm.multiplier), st.shift.push_back(qm.shift);
            // offsets up to the bound's edge: INT32_MAX - most is the largest that fits
            st.offset.push_back(j % 7 == 0 ? INT32_MAX - most : j % 7 == 1 ? INT32_MIN + most : int(rng() % 2000001) - 1000000);
        }
        REQUIRE(kernels::stage_sums_fit(st, k));
        std::vector<std::int32_t> tile(std::size_t(rows * cols));
        for (std::size_t i = 0; i < tile.size(); ++i)
            tile[i] = i % 5 == 0 ? (i % 2 ? most : -most) : std::int32_t(rng() % std::uint32_t(2 * most + 1)) - most;
        std::vector<std::int8_t> got(tile.size());
        kernels::xsimd::requant_tile<arch, std::int8_t>(st, tile.data(), cols, rows, 0, cols, got.data(), cols, true);
        int bad = 0;
        for (std::size_t i = 0; i < tile.size(); ++i)
            bad += got[i] != kernels::detail::requantize_sum(st, tile[i], index_t(i % std::size_t(cols)));
        CHECK(bad == 0);
        st.offset[3] = INT32_MAX - most + 1;  // one past: a sum could overflow
        CHECK_FALSE(kernels::stage_sums_fit(st, k));
    }
}

TEST_CASE("xsimd dequantization of a tile: sums whose centred value leaves int32 take the 64-bit difference") {
    using arch = ::xsimd::default_arch;
    kernels::requant_stage st;
    const index_t cols = 40;
    for (index_t j = 0; j < cols; ++j) {
        st.zx_colsum.push_back(j % 2 ? 2000000000 : -2000000000);
        st.real_scale.push_back(1e-6f * float(j + 1));
        st.bias.push_back(0.25f * float(j) - 3.0f);
    }
    st.act = kernels::activation::relu6;
    std::vector<std::int32_t> tile(std::size_t(2 * cols));
    for (index_t j = 0; j < cols; ++j) tile[std::size_t(j)] = j % 2 ? INT32_MIN + 5 : INT32_MAX - 7, tile[std::size_t(cols + j)] = int(j) * 1000 - 20000;
    std::vector<float> y(tile.size());
    for (auto act : activations) {
        st.act = act;
        kernels::xsimd::dequant_tile<arch>(st, tile.data(), cols, 2, 0, cols, y.data(), cols);
        int bad = 0;
        for (std::size_t i = 0; i < tile.size(); ++i) {
            const float want = kernels::detail::dequantize_sum(st, tile[i], index_t(i % std::size_t(cols)));
            bad += std::memcmp(&want, &y[i], sizeof(float)) != 0;
        }
        CHECK(bad == 0);
    }
}
#endif
