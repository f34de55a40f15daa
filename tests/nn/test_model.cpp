// The digits MLP end to end: sparq's fp32 run against PyTorch's outputs, and the accuracy of
// each compressed form against fp32; per-layer energy counts exact.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "sparq/nn/train/trainer.hpp"
#include "support/digits.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_model_suite {

namespace {
using digits_test::data_path;
using digits_test::load_f32;
using digits_test::load_labels;

double accuracy(const tensor<float, 2>& logits, const std::vector<std::int64_t>& labels) {
    auto a = nn::train::accuracy(logits.cview(), labels);  // the trainer's: top-1 against the labels
    REQUIRE(a.ok());
    return *a;
}
}  // namespace

TEST_CASE("digits MLP: fp32 matches PyTorch; fp16, bf16 and int8 keep the accuracy") {
    auto m = io::load_model_safetensors(data_path("mlp.safetensors").c_str());
    REQUIRE(m.ok());
    const auto x = load_f32("test_x.npy");
    const auto ref = load_f32("mlp_test_logits.npy");
    const auto calib = load_f32("train_x.npy");
    const auto labels = load_labels("test_y.npy");
    auto scratch = arena::with_capacity(1 << 22);
    REQUIRE(scratch.ok());
    context ctx;
    ctx.with_scratch(*scratch);

    auto run = [&](const nn::compile_options& o, std::vector<energy::layer_counts>* counts = nullptr) {
        auto c = nn::compiled_model::compile(*m, o);
        REQUIRE(c.ok());
        auto y = tensor<float, 2>::make({x.extent(0), 10});
        REQUIRE(y.ok());
        REQUIRE(c->run(ctx, x.cview(), y->view(), counts).ok());
        return std::move(*y);
    };
    nn::compile_options o;
    const auto y32 = run(o);
    double worst = 0;
    for (index_t i = 0; i < y32.size(); ++i)
        worst = std::max(worst, std::fabs(double(y32.data()[i]) - ref.data()[i]) / std::max(1.0, std::fabs(double(ref.data()[i]))));
    CHECK(worst < 1e-4);
    const double acc32 = accuracy(y32, labels);
    CHECK(acc32 == doctest::Approx(0.966667).epsilon(1e-4));  // data/digits/reference.json: PyTorch's fp32

    o.prec = nn::precision::f16;
    CHECK(accuracy(run(o), labels) >= acc32 - 0.003);
    o.prec = nn::precision::bf16;
    CHECK(accuracy(run(o), labels) >= acc32 - 0.01);
    o.prec = nn::precision::int8;
    o.calibration = calib.cview();
    for (auto obs : {nn::observer_kind::minmax, nn::observer_kind::histogram, nn::observer_kind::percentile}) {
        o.observer = obs;
        CAPTURE(nn::to_string(obs));
        CHECK(accuracy(run(o), labels) >= acc32 - 0.01);  // the bound: <= 1 point lost
    }
}

TEST_CASE("compiled models count each layer's work exactly and report their stored size") {
    auto m = io::load_model_safetensors(data_path("mlp.safetensors").c_str());
    REQUIRE(m.ok());
    const auto x = load_f32("test_x.npy");
    auto scratch = arena::with_capacity(1 << 22);
    REQUIRE(scratch.ok());
    context ctx;
    ctx.with_scratch(*scratch);
    const auto calib = load_f32("train_x.npy");
    const std::uint64_t batch = std::uint64_t(x.extent(0));
    for (auto p : {nn::precision::f32, nn::precision::f16, nn::precision::int8}) {
        CAPTURE(nn::to_string(p));
        nn::compile_options o;
        o.prec = p;
        o.calibration = calib.cview();
        auto c = nn::compiled_model::compile(*m, o);
        REQUIRE(c.ok());
        auto counts = c->make_counters();
        REQUIRE(counts.size() == 2);
        CHECK(counts[0].name == "fc1");
        auto y = tensor<float, 2>::make({x.extent(0), 10});
        REQUIRE(y.ok());
        REQUIRE(c->run(ctx, x.cview(), y->view(), &counts).ok());
        const dtype mac = p == nn::precision::int8 ? dtype::s8 : dtype::f32;
        CHECK(counts[0].counts.macs(mac) == batch * 128 * 64);
        CHECK(counts[1].counts.macs(mac) == batch * 10 * 128);
        CHECK(counts[0].counts.fp32_bytes(energy::traffic::weights) == 128 * 64 * 4);
        const std::uint64_t wbytes = p == nn::precision::int8 ? 1 : p == nn::precision::f16 ? 2 : 4;
        CHECK(counts[0].counts.bytes(energy::traffic::weights) == 128 * 64 * wbytes);
        const std::size_t biases = (128 + 10) * 4;
        const std::size_t expect = p == nn::precision::int8 ? (128 * 64 + 10 * 128) + (128 + 10) * 4 + biases + 3 * 8
                                                             : (128 * 64 + 10 * 128) * wbytes + biases;
        CHECK(c->stored_bytes() == expect);
        const auto r = energy::make_report(nn::to_string(p), counts, batch);
        CHECK(r.macs == batch * (128 * 64 + 10 * 128));
        if (p == nn::precision::f32) CHECK(r.ratio() == doctest::Approx(1.0));
        else CHECK(r.ratio() > 1.0);
    }
}

TEST_CASE("compile and run refuse what does not fit") {
    auto m = io::load_model_safetensors(data_path("mlp.safetensors").c_str());
    REQUIRE(m.ok());
    nn::compile_options o;
    o.prec = nn::precision::int8;
    auto c = nn::compiled_model::compile(*m, o);
    REQUIRE_FALSE(c.ok());
    CHECK(std::string(c.error().message()).find("calibration inputs are needed") != std::string::npos);
    auto c32 = nn::compiled_model::compile(*m, nn::compile_options{});
    REQUIRE(c32.ok());
    auto x = tensor<float, 2>::make({2, 63});
    auto y = tensor<float, 2>::make({2, 10});
    REQUIRE((x.ok() && y.ok()));
    auto scratch = arena::with_capacity(1 << 16);
    REQUIRE(scratch.ok());
    context ctx;
    CHECK(c32->run(ctx, x->cview(), y->view()).code() == errc::shape_mismatch);
    auto x64 = tensor<float, 2>::make({2, 64});
    REQUIRE(x64.ok());
    auto s = c32->run(ctx, x64->cview(), y->view());
    CHECK(s.code() == errc::invalid_argument);  // no arena on the context
    CHECK(c32->run(ctx.with_scratch(*scratch), x64->cview(), y->view()).ok());
}

TEST_CASE("digits CNN: convolutions, pooling and flatten match PyTorch; int8 keeps the accuracy") {
    auto m = io::load_model_safetensors(data_path("cnn.safetensors").c_str());
    REQUIRE(m.ok());
    CHECK(m->input == nn::sample_shape{1, 8, 8});
    REQUIRE(m->nodes.size() == 6);
    CHECK(m->nodes[0].kind == nn::op::conv2d);
    CHECK(m->nodes[0].conv.act == kernels::activation::relu);
    auto macs = m->macs_per_sample();
    REQUIRE(macs.ok());
    CHECK(*macs == 8 * 64 * 9 + 16 * 16 * 8 * 9 + 64 * 10);
    const auto x = load_f32("test_x.npy");
    const auto ref = load_f32("cnn_test_logits.npy");
    const auto calib = load_f32("train_x.npy");
    const auto labels = load_labels("test_y.npy");
    for (auto p : {nn::precision::f32, nn::precision::int8}) {
        CAPTURE(nn::to_string(p));
        nn::compile_options o;
        o.prec = p;
        o.calibration = calib.cview();
        auto c = nn::compiled_model::compile(*m, o);
        REQUIRE(c.ok());
        auto scratch = arena::with_capacity(c->scratch_bytes(x.extent(0)));
        REQUIRE(scratch.ok());
        context ctx;
        ctx.with_scratch(*scratch);
        auto y = tensor<float, 2>::make({x.extent(0), 10});
        REQUIRE(y.ok());
        auto counts = c->make_counters();
        REQUIRE(c->run(ctx, x.cview(), y->view(), &counts).ok());
        if (p == nn::precision::f32) {
            double worst = 0;
            for (index_t i = 0; i < y->size(); ++i)
                worst = std::max(worst, std::fabs(double(y->data()[i]) - ref.data()[i]) / std::max(1.0, std::fabs(double(ref.data()[i]))));
            CHECK(worst < 1e-4);
            CHECK(accuracy(*y, labels) == doctest::Approx(0.988889).epsilon(1e-4));  // reference.json
        } else {
            CHECK(accuracy(*y, labels) >= 0.988889 - 0.01);
            CHECK(counts[0].counts.macs(dtype::s8) == std::uint64_t(x.extent(0)) * 8 * 64 * 9);
        }
        std::uint64_t total = 0;
        for (const auto& l : counts) total += l.counts.total_macs();
        CHECK(total == std::uint64_t(x.extent(0)) * std::uint64_t(*macs));
    }
}

TEST_CASE("graphs: shape inference refuses what does not fit, naming the node") {
    nn::model m;
    m.input = {1, 8, 8};
    nn::node conv;
    conv.name = "c";
    conv.kind = nn::op::conv2d;
    conv.inputs = {0};
    auto w = tensor<float, 4>::make({4, 2, 3, 3});  // takes 2 channels; the input has 1
    REQUIRE(w.ok());
    conv.conv.weight = std::move(*w);
    m.nodes.push_back(std::move(conv));
    auto s = m.validate();
    REQUIRE_FALSE(s.ok());
    CHECK(std::string(s.message()).find("conv2d 'c'") != std::string::npos);

    nn::model a;
    a.input = {4, 1, 1};
    nn::node add;
    add.name = "sum";
    add.kind = nn::op::add;
    add.inputs = {0, 2};  // reads a value made later
    a.nodes.push_back(std::move(add));
    CHECK(std::string(a.validate().message()).find("reads value 2, not yet made") != std::string::npos);
    a.nodes[0].inputs = {0, 0};  // x + x
    nn::node soft;
    soft.kind = nn::op::softmax;
    soft.inputs = {1};
    a.nodes.push_back(std::move(soft));
    REQUIRE(a.validate().ok());
    auto c = nn::compiled_model::compile(a, {});
    REQUIRE(c.ok());
    float xin[8] = {1, 2, 3, 4, 0, 0, 0, 0}, yout[8];
    auto scratch = arena::with_capacity(c->scratch_bytes(2));
    REQUIRE(scratch.ok());
    context ctx;
    ctx.with_scratch(*scratch);
    REQUIRE(c->run(ctx, matrix_view<const float>(xin, {2, 4}), matrix_view<float>(yout, {2, 4})).ok());
    double sum = 0;
    for (int i = 0; i < 4; ++i) sum += yout[i];
    CHECK(sum == doctest::Approx(1.0));
    CHECK(yout[3] > yout[2]);
    CHECK(yout[4] == doctest::Approx(0.25));  // softmax of equal values
}

// Bias correction (quant/bias_correction.hpp): a depthwise-like layer (9 weights a channel) on
// positive inputs, the case where weight rounding shifts each channel's mean. With the
// correction, the mean int8 error per channel over the calibration data is the activations'
// rounding alone; without it, the weights' shift is added.
TEST_CASE("int8 bias correction removes the mean shift weight rounding causes") {
    nn::model m;
    m.input = {9, 1, 1};
    nn::node d;
    d.name = "fc";
    d.kind = nn::op::linear;
    d.inputs = {0};
    auto w = tensor<float, 2>::make({16, 9});
    REQUIRE(w.ok());
    std::uint32_t seed = 12345;
    auto next = [&] { return float((seed = seed * 1664525u + 1013904223u) >> 8) / float(1u << 24); };
    for (index_t i = 0; i < w->size(); ++i) w->data()[i] = 2.0f * next() - 1.0f;
    d.linear.weight = std::move(*w);
    d.linear.name = "fc";
    m.nodes.push_back(std::move(d));
    auto x = tensor<float, 2>::make({256, 9});
    REQUIRE(x.ok());
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = 4.0f + next();  // mean 4.5: the shift is 4.5 x the weights' error
    auto f32 = nn::compiled_model::compile(m, {});
    REQUIRE(f32.ok());
    auto mean_error = [&](bool correct) {
        nn::compile_options o;
        o.prec = nn::precision::int8;
        o.calibration = x->cview();
        o.bias_correction = correct;
        auto q = nn::compiled_model::compile(m, o);
        REQUIRE(q.ok());
        auto y32 = tensor<float, 2>::make({256, 16}), y8 = tensor<float, 2>::make({256, 16});
        auto scratch = arena::with_capacity(f32->scratch_bytes(256) + q->scratch_bytes(256));
        REQUIRE((y32.ok() && y8.ok() && scratch.ok()));
        context ctx;
        ctx.with_scratch(*scratch);
        REQUIRE(f32->run(ctx, x->cview(), y32->view()).ok());
        REQUIRE(q->run(ctx, x->cview(), y8->view()).ok());
        double worst = 0;
        for (index_t c = 0; c < 16; ++c) {
            double e = 0;
            for (index_t r = 0; r < 256; ++r) e += double((*y8)(r, c)) - double((*y32)(r, c));
            worst = std::max(worst, std::fabs(e / 256));
        }
        return worst;
    };
    const double with = mean_error(true), without = mean_error(false);
    CAPTURE(with);
    CAPTURE(without);
    MESSAGE("mean int8 error per channel, worst: " << with << " with bias correction, " << without << " without");
    CHECK(with < 0.5 * without);
}

// NaN goes through as in PyTorch (issue 19: ReLU(NaN) was 0, so a NaN row gave fc2's bias): one
// NaN input reaches every output through the dense layers, ReLU and max pooling.
TEST_CASE("fp32 models propagate NaN through ReLU and max pooling") {
    for (const char* file : {"mlp.safetensors", "cnn.safetensors"}) {
        CAPTURE(file);
        auto m = io::load_model_safetensors(data_path(file).c_str());
        REQUIRE(m.ok());
        auto c = nn::compiled_model::compile(*m, {});
        REQUIRE(c.ok());
        const auto all = load_f32("test_x.npy");
        auto x = tensor<float, 2>::make({3, all.extent(1)});
        auto y = tensor<float, 2>::make({3, c->out_features()});
        auto scratch = arena::with_capacity(c->scratch_bytes(3));
        REQUIRE((x.ok() && y.ok() && scratch.ok()));
        for (index_t r = 0; r < 3; ++r)
            for (index_t k = 0; k < all.extent(1); ++k) (*x)(r, k) = all(r, k);
        for (index_t k = 0; k < all.extent(1); ++k) (*x)(0, k) = std::numeric_limits<float>::quiet_NaN();
        (*x)(1, 27) = std::numeric_limits<float>::quiet_NaN();  // one pixel
        context ctx;
        REQUIRE(c->run(ctx.with_scratch(*scratch), x->cview(), y->view()).ok());
        for (index_t j = 0; j < y->extent(1); ++j) {
            CHECK(std::isnan((*y)(0, j)));
            CHECK(std::isnan((*y)(1, j)));
            CHECK(std::isfinite((*y)(2, j)));
        }
    }
}

// Issue 19: a 2^24 x 2^24 pooling window over a 1 x 1 input (the padding nearly all of it) ran
// for hours: pooling visits only the taps on the input, so it is one tap; padding as large as
// the window is refused (a window wholly in padding).
TEST_CASE("pooling costs the taps on the input") {
    nn::model m;
    m.input = {1, 1, 1};
    nn::node d;
    d.name = "pool";
    d.kind = nn::op::max_pool;
    d.inputs = {0};
    d.pool.kh = d.pool.kw = index_t(1) << 24;
    d.pool.stride_h = d.pool.stride_w = 1;
    d.pool.pad_bottom = d.pool.pad_right = (index_t(1) << 24) - 1;
    m.nodes.push_back(std::move(d));
    {
        REQUIRE(m.validate().ok());
        auto c = nn::compiled_model::compile(m, {});
        REQUIRE(c.ok());
        auto scratch = arena::with_capacity(c->scratch_bytes(1));
        REQUIRE(scratch.ok());
        const float x[1] = {-3.5f};
        float y[1] = {0.0f};
        context ctx;
        REQUIRE(c->run(ctx.with_scratch(*scratch), matrix_view<const float>(x, {1, 1}), matrix_view<float>(y, {1, 1})).ok());
        CHECK(y[0] == -3.5f);  // (in a blink: the old loop visited 2^48 taps)
        m.nodes[0].pool.pad_bottom = index_t(1) << 24;  // as large as the window
        CHECK_FALSE(m.validate().ok());
        m.nodes[0].pool.pad_bottom = (index_t(1) << 24) - 1;
    }
    // the largest window the rule allows over a 2 x 2 input: 2 + 2 + 2 rows, one output, 4 taps
    m.input = {1, 2, 2};
    m.nodes[0].pool.kh = m.nodes[0].pool.kw = 6;
    m.nodes[0].pool.pad_top = m.nodes[0].pool.pad_left = m.nodes[0].pool.pad_bottom = m.nodes[0].pool.pad_right = 2;
    REQUIRE(m.validate().ok());
    auto c = nn::compiled_model::compile(m, {});
    REQUIRE(c.ok());
    auto scratch = arena::with_capacity(c->scratch_bytes(1));
    REQUIRE(scratch.ok());
    const float x[4] = {1.0f, -2.0f, 7.0f, 3.0f};
    float y[1] = {0.0f};
    context ctx;
    REQUIRE(c->run(ctx.with_scratch(*scratch), matrix_view<const float>(x, {1, 4}), matrix_view<float>(y, {1, 1})).ok());
    CHECK(y[0] == 7.0f);
}

}  // namespace test_model_suite
