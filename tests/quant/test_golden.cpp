// The quantizer against PyTorch (tools/gen/make_quant_reference.py -> tests/data/quant_reference.inc):
// every integer code exactly (ties, extremes and signed zeros included), dequantized values and
// qparams to within 1 ulp where PyTorch computes in float.
#include <doctest/doctest.h>

#include <cfloat>
#include <cstdint>
#include <tuple>
#include <vector>

#include "sparq/kernels/quantize.hpp"
#include "sparq/quant/observer_minmax.hpp"
#include "sparq/quant/observer_histogram.hpp"
#include "support/bits.hpp"

namespace ref {
#include "data/quant_reference.inc"
}

using namespace sparq;
using namespace sparq_test;

namespace {

template <std::size_t N, class Q>
void check_per_tensor(const std::uint32_t (&xb)[N], std::uint32_t scale_bits, std::int32_t zp,
                      const std::int32_t (&q_ref)[N], const std::uint32_t (&dq_ref)[N], const std::uint32_t (&fq_ref)[N],
                      const std::int32_t (&mask_ref)[N], Q, backend b) {
    const dtype t = std::is_same_v<Q, std::int8_t> ? dtype::s8 : dtype::u8;
    const auto p = quant::make_per_tensor(t, f32(scale_bits), zp);
    auto x = floats(xb);
    std::vector<Q> q(N);
    std::vector<float> dq(N), fq(N);
    std::vector<std::uint8_t> mask(N);
    context ctx;
    ctx.with_backend(b, false);
    const index_t n = index_t(N);
    REQUIRE(kernels::quantize(ctx, vector_view<const float>(x.data(), {n}), p, vector_view<Q>(q.data(), {n})).ok());
    REQUIRE(kernels::dequantize(ctx, vector_view<const Q>(q.data(), {n}), p, vector_view<float>(dq.data(), {n})).ok());
    REQUIRE(kernels::fake_quant(ctx, vector_view<const float>(x.data(), {n}), p, vector_view<float>(fq.data(), {n}),
                                vector_view<std::uint8_t>(mask.data(), {n})).ok());
    int bad_q = 0, bad_dq = 0, bad_fq = 0, bad_mask = 0;
    for (std::size_t i = 0; i < N; ++i) {
        bad_q += int(q[i]) != q_ref[i];
        bad_dq += ulp_distance(dq[i], f32(dq_ref[i])) > 1;
        bad_fq += ulp_distance(fq[i], f32(fq_ref[i])) > 1;
        bad_mask += int(mask[i]) != mask_ref[i];
    }
    CHECK(bad_q == 0);
    CHECK(bad_dq == 0);
    CHECK(bad_fq == 0);
    CHECK(bad_mask == 0);
}

template <std::size_t N, std::size_t C, class Q, std::size_t Rank>
void check_per_channel(const std::uint32_t (&xb)[N], const extents_t<Rank>& e, int axis, const std::uint32_t (&sb)[C],
                       const std::int32_t (&zps)[C], const std::int32_t (&q_ref)[N], const std::uint32_t (&dq_ref)[N], Q) {
    quant::qparams p;
    p.type = std::is_same_v<Q, std::int8_t> ? dtype::s8 : dtype::u8;
    const auto r = quant::range_of(p.type);
    p.qmin = r.qmin, p.qmax = r.qmax;
    p.gran = quant::granularity::per_channel;
    p.axis = axis;
    p.scale = floats(sb);
    p.zero_point.assign(zps, zps + C);
    auto x = floats(xb);
    std::vector<Q> q(N);
    std::vector<float> dq(N);
    for (backend b : {backend::scalar, backend::automatic}) {
        context ctx;
        ctx.with_backend(b, false);
        REQUIRE(kernels::quantize(ctx, tensor_view<const float, Rank>(x.data(), e), p, tensor_view<Q, Rank>(q.data(), e)).ok());
        REQUIRE(kernels::dequantize(ctx, tensor_view<const Q, Rank>(q.data(), e), p, tensor_view<float, Rank>(dq.data(), e)).ok());
        int bad_q = 0, bad_dq = 0;
        for (std::size_t i = 0; i < N; ++i) {
            bad_q += int(q[i]) != q_ref[i];
            bad_dq += ulp_distance(dq[i], f32(dq_ref[i])) > 1;
        }
        CHECK(bad_q == 0);
        CHECK(bad_dq == 0);
    }
}

void check_qparams(const quant::qparams& p, const std::uint32_t* scale_ref, const std::int32_t* zp_ref, std::size_t n) {
    REQUIRE(p.scale.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(ulp_distance(p.scale[i], f32(scale_ref[i])) <= 1);
        CHECK(p.zero_point[i] == zp_ref[i]);
    }
}

}  // namespace

TEST_CASE("quantize_per_tensor, dequantize, fake_quant (+ gradient mask) match PyTorch") {
    for (backend b : {backend::scalar, backend::automatic}) {
        CAPTURE(to_string(b));
        check_per_tensor(ref::pt_u8_x, ref::pt_u8_scale, ref::pt_u8_zp, ref::pt_u8_q, ref::pt_u8_dq, ref::pt_u8_fq,
                         ref::pt_u8_mask, std::uint8_t{}, b);
        check_per_tensor(ref::pt_s8_x, ref::pt_s8_scale, ref::pt_s8_zp, ref::pt_s8_q, ref::pt_s8_dq, ref::pt_s8_fq,
                         ref::pt_s8_mask, std::int8_t{}, b);
        check_per_tensor(ref::pt_u8_odd_x, ref::pt_u8_odd_scale, ref::pt_u8_odd_zp, ref::pt_u8_odd_q, ref::pt_u8_odd_dq,
                         ref::pt_u8_odd_fq, ref::pt_u8_odd_mask, std::uint8_t{}, b);
        check_per_tensor(ref::pt_s8_odd_x, ref::pt_s8_odd_scale, ref::pt_s8_odd_zp, ref::pt_s8_odd_q, ref::pt_s8_odd_dq,
                         ref::pt_s8_odd_fq, ref::pt_s8_odd_mask, std::int8_t{}, b);
    }
}

TEST_CASE("quantize_per_channel matches PyTorch on axis 0, the last axis, and axis 1 of a 4-D tensor") {
    check_per_channel(ref::pc_axis0_x, extents_t<2>{6, 50}, 0, ref::pc_axis0_scales, ref::pc_axis0_zps, ref::pc_axis0_q,
                      ref::pc_axis0_dq, std::int8_t{});
    check_per_channel(ref::pc_axis1_x, extents_t<2>{40, 7}, 1, ref::pc_axis1_scales, ref::pc_axis1_zps, ref::pc_axis1_q,
                      ref::pc_axis1_dq, std::uint8_t{});
    check_per_channel(ref::pc_4d_axis1_x, extents_t<4>{2, 5, 3, 4}, 1, ref::pc_4d_axis1_scales, ref::pc_4d_axis1_zps,
                      ref::pc_4d_axis1_q, ref::pc_4d_axis1_dq, std::int8_t{});
}

TEST_CASE("MinMaxObserver and MovingAverageMinMaxObserver qparams match PyTorch") {
    const std::vector<float> batches[] = {floats(ref::obs_batch0), floats(ref::obs_batch1), floats(ref::obs_batch2)};
    struct named {
        const char* name;
        quant::qscheme s;
        float c;
        const std::uint32_t* scale;
        const std::int32_t* zp;
    };
    quant::qscheme u8_affine, s8_affine, s8_sym, s8_sym_narrow, u8_sym;
    s8_affine.type = dtype::s8;
    s8_sym.type = dtype::s8, s8_sym.symmetric = true;
    s8_sym_narrow = s8_sym, s8_sym_narrow.narrow = true;
    u8_sym.symmetric = true;
    const named cases[] = {
        {"minmax_u8_affine", u8_affine, 0.0f, ref::minmax_u8_affine_scale, ref::minmax_u8_affine_zp},
        {"minmax_s8_affine", s8_affine, 0.0f, ref::minmax_s8_affine_scale, ref::minmax_s8_affine_zp},
        {"minmax_s8_sym", s8_sym, 0.0f, ref::minmax_s8_sym_scale, ref::minmax_s8_sym_zp},
        {"minmax_s8_sym_narrow", s8_sym_narrow, 0.0f, ref::minmax_s8_sym_narrow_scale, ref::minmax_s8_sym_narrow_zp},
        {"minmax_u8_sym", u8_sym, 0.0f, ref::minmax_u8_sym_scale, ref::minmax_u8_sym_zp},
        {"movavg_u8_affine", u8_affine, 0.01f, ref::movavg_u8_affine_scale, ref::movavg_u8_affine_zp},
        {"movavg_s8_sym", s8_sym, 0.25f, ref::movavg_s8_sym_scale, ref::movavg_s8_sym_zp},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        quant::minmax_observer o(c.s, quant::nonfinite::error, c.c);
        for (const auto& b : batches) REQUIRE(o.observe(vector_view<const float>(b.data(), {index_t(b.size())})).ok());
        auto p = o.compute();
        REQUIRE(p.ok());
        check_qparams(*p, c.scale, c.zp, 1);
    }
}

TEST_CASE("PerChannelMinMaxObserver matches PyTorch, all-zero channel included (scale eps)") {
    auto w = floats(ref::pcobs_w);
    matrix_view<const float> v(w.data(), {8, 64});
    quant::qscheme sym = quant::qscheme::weights_s8_per_channel(0);
    quant::qscheme affine;
    affine.gran = quant::granularity::per_channel, affine.axis = 0;
    for (auto [s, scale, zp] : {std::tuple{sym, ref::pcobs_s8_sym_narrow_scale, ref::pcobs_s8_sym_narrow_zp},
                                std::tuple{affine, ref::pcobs_u8_affine_scale, ref::pcobs_u8_affine_zp}}) {
        quant::minmax_observer o(s);
        REQUIRE(o.observe(v).ok());
        auto p = o.compute();
        REQUIRE(p.ok());
        check_qparams(*p, scale, zp, 8);
        CHECK(p->scale[3] == FLT_EPSILON);
        CHECK(p->validate().ok());
    }
}

TEST_CASE("HistogramObserver: same histogram, same MSE clip range, same qparams as PyTorch") {
    auto x = floats(ref::hist_x);
    vector_view<const float> v(x.data(), {index_t(x.size())});
    quant::qscheme u8_affine, s8_sym;
    s8_sym.type = dtype::s8, s8_sym.symmetric = true;
    struct named {
        quant::qscheme s;
        const std::int64_t* hist;
        const std::uint32_t* range;
        const std::uint32_t* scale;
        const std::int32_t* zp;
    };
    for (const auto& c : {named{u8_affine, ref::hist_u8_affine_histogram, ref::hist_u8_affine_range,
                                ref::hist_u8_affine_scale, ref::hist_u8_affine_zp},
                          named{s8_sym, ref::hist_s8_sym_histogram, ref::hist_s8_sym_range, ref::hist_s8_sym_scale,
                                ref::hist_s8_sym_zp}}) {
        quant::histogram_observer o(c.s);
        REQUIRE(o.observe(v).ok());
        int bad_bins = 0;
        for (std::size_t i = 0; i < 2048; ++i) bad_bins += std::int64_t(o.hist().counts()[i]) != c.hist[i];
        CHECK(bad_bins == 0);
        auto r = o.clip_range();
        REQUIRE(r.ok());
        CHECK(ulp_distance(r->first, f32(c.range[0])) <= 1);
        CHECK(ulp_distance(r->second, f32(c.range[1])) <= 1);
        auto p = o.compute();
        REQUIRE(p.ok());
        check_qparams(*p, c.scale, c.zp, 1);
    }
}

TEST_CASE("TFLite arithmetic (x / scale, half away from zero) is bit-exact with its reference formula") {
    auto x = floats(ref::tfl_x);
    const index_t n = index_t(x.size());
    auto p = quant::make_per_tensor(dtype::s8, f32(ref::tfl_scale), 3);
    quant::use_tflite_arithmetic(p);
    auto pytorch = quant::make_per_tensor(dtype::s8, f32(ref::tfl_scale), 3);
    std::vector<std::int8_t> q(x.size()), q_pt(x.size());
    for (backend b : {backend::scalar, backend::automatic}) {
        context ctx;
        ctx.with_backend(b, false);
        REQUIRE(kernels::quantize(ctx, vector_view<const float>(x.data(), {n}), p, vector_view<std::int8_t>(q.data(), {n})).ok());
        REQUIRE(kernels::quantize(ctx, vector_view<const float>(x.data(), {n}), pytorch,
                                  vector_view<std::int8_t>(q_pt.data(), {n})).ok());
        int bad = 0, differ = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            bad += int(q[i]) != ref::tfl_q[i];
            differ += q[i] != q_pt[i];
        }
        CHECK(bad == 0);
        CHECK(differ > 0);  // the conventions really differ on this data: the choice matters
    }
}
