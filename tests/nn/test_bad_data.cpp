// Bad data into int8 models (issue 19): NaN and infinities in calibration sets and in inputs are
// refused with the row and feature named (int8 has no code for them: they used to become
// plausible numbers), unless the caller opts out, and then they quantize as documented; an
// all-zero calibration set is refused; a constant feature or a repeated sample is not.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/sparq_format.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "support/digits.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_bad_data_suite {

namespace {
using namespace digits_test;

constexpr float nan_v = std::numeric_limits<float>::quiet_NaN();
constexpr float inf_v = std::numeric_limits<float>::infinity();

nn::model load(const char* file) {
    auto m = io::load_model_safetensors(data_path(file).c_str());
    REQUIRE(m.ok());
    return std::move(*m);
}

result<nn::compiled_model> compile_int8(const nn::model& m, const tensor<float, 2>& calib, bool check = true,
                                        std::vector<std::string> keep = {}) {
    nn::compile_options o;
    o.prec = nn::precision::int8;
    o.calibration = calib.cview();
    o.check_finite = check;
    o.float_layers = std::move(keep);
    return nn::compiled_model::compile(m, o);
}

tensor<float, 2> rows_of(const tensor<float, 2>& all, index_t rows) {
    auto t = tensor<float, 2>::make({rows, all.extent(1)});
    REQUIRE(t.ok());
    for (index_t r = 0; r < rows; ++r)
        for (index_t k = 0; k < all.extent(1); ++k) (*t)(r, k) = all(r, k);
    return std::move(*t);
}

status try_run(const nn::compiled_model& c, const tensor<float, 2>& x) {
    auto scratch = arena::with_capacity(c.scratch_bytes(x.extent(0)));
    auto y = tensor<float, 2>::make({x.extent(0), c.out_features()});
    REQUIRE((scratch.ok() && y.ok()));
    context ctx;
    return c.run(ctx.with_scratch(*scratch), x.cview(), y->view());
}

std::string name_of(float v) {
    return std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
}
}  // namespace

TEST_CASE("compile int8 refuses NaN and Inf in calibration inputs, naming the row and feature") {
    const nn::model m = load("mlp.safetensors");
    for (float bad : {nan_v, inf_v, -inf_v}) {
        CAPTURE(name_of(bad));
        auto calib = load_f32("train_x.npy");
        calib(3, 17) = bad;
        calib(200, 5) = bad;  // only the first is named
        auto c = compile_int8(m, calib);
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().code() == errc::invalid_argument);
        CHECK(std::string(c.error().message()) ==
              "compile int8: calibration row 3, feature 17 is " + name_of(bad) + ": calibration needs finite inputs");
        // the opt-out is for run(): calibration is checked whatever it says
        CHECK_FALSE(compile_int8(m, calib, false).ok());
    }
}

TEST_CASE("compile int8 names the layer whose fp32 output overflows on a calibration input") {
    nn::model m;
    m.input = {2, 1, 1};
    nn::node d;
    d.name = "fc";
    d.kind = nn::op::linear;
    d.inputs = {0};
    auto w = tensor<float, 2>::make({2, 2});
    REQUIRE(w.ok());
    (*w)(0, 0) = 1.0f, (*w)(0, 1) = 0.0f;
    (*w)(1, 0) = 3e38f, (*w)(1, 1) = 3e38f;  // 2 x 3e38 overflows
    d.linear.weight = std::move(*w);
    m.nodes.push_back(std::move(d));
    auto calib = tensor<float, 2>::make({3, 2});
    REQUIRE(calib.ok());
    const float rows[3][2] = {{0.5f, -0.5f}, {0.25f, 0.5f}, {1.0f, 1.0f}};
    for (index_t r = 0; r < 3; ++r) (*calib)(r, 0) = rows[r][0], (*calib)(r, 1) = rows[r][1];
    auto c = compile_int8(m, *calib);
    REQUIRE_FALSE(c.ok());
    CHECK(std::string(c.error().message()) ==
          "compile int8: the fp32 output of 'fc' for calibration row 2, feature 1 is +Inf: int8 ranges need finite "
          "values");
}

TEST_CASE("compile int8 refuses all-zero calibration inputs; a constant feature or one sample repeated is accepted") {
    const nn::model m = load("mlp.safetensors");
    const auto x = load_f32("test_x.npy");
    const auto labels = load_labels("test_y.npy");
    auto zeros = tensor<float, 2>::make({16, 64});
    REQUIRE(zeros.ok());
    std::fill(zeros->data(), zeros->data() + zeros->size(), 0.0f);
    (*zeros)(7, 9) = -0.0f;  // still zero
    auto c = compile_int8(m, *zeros);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code() == errc::invalid_argument);
    CHECK(
        std::string(c.error().message()) ==
        "compile int8: the calibration inputs are all zero (16 rows of 64): activation ranges need real sample inputs");

    auto accuracy = [&](const nn::compiled_model& model) {
        const auto y = run(model, x);
        index_t right = 0;
        for (index_t r = 0; r < y.extent(0); ++r) {
            index_t best = 0;
            for (index_t j = 1; j < y.extent(1); ++j) best = y(r, j) > y(r, best) ? j : best;
            right += best == labels[std::size_t(r)];
        }
        return double(right) / double(y.extent(0));
    };
    auto calib = load_f32("train_x.npy");
    // Features held constant: one at 0 (a padding pixel), one at 5 in every row.
    for (index_t r = 0; r < calib.extent(0); ++r) calib(r, 0) = 0.0f, calib(r, 63) = 5.0f;
    auto constant = compile_int8(m, calib);
    REQUIRE(constant.ok());
    CHECK(accuracy(*constant) > 0.9);
    // One sample repeated (as a single row is): narrow ranges, but a model; not refused.
    auto one = rows_of(calib, 1);
    auto repeated = tensor<float, 2>::make({8, 64});
    REQUIRE(repeated.ok());
    for (index_t r = 0; r < 8; ++r)
        for (index_t k = 0; k < 64; ++k) (*repeated)(r, k) = one(0, k);
    auto from_one = compile_int8(m, *repeated);
    REQUIRE(from_one.ok());
    CHECK(accuracy(*from_one) > 0.9);  // (measured 0.969: one digit is enough here)
    CHECK(compile_int8(m, one).ok());
}

TEST_CASE("int8 run refuses NaN and Inf inputs, naming the row and feature, for the MLP and the CNN") {
    const auto calib = load_f32("train_x.npy");
    const auto all = load_f32("test_x.npy");
    for (const char* file : {"mlp.safetensors", "cnn.safetensors"}) {
        CAPTURE(file);
        const nn::model m = load(file);
        auto c = compile_int8(m, calib);
        REQUIRE(c.ok());
        CHECK(c->checks_finite());
        auto x = rows_of(all, 5);
        REQUIRE(try_run(*c, x).ok());
        for (float bad : {nan_v, inf_v, -inf_v}) {
            CAPTURE(name_of(bad));
            auto xb = rows_of(all, 5);
            xb(2, 17) = bad;
            xb(4, 0) = nan_v;
            const status s = try_run(*c, xb);
            CHECK(s.code() == errc::invalid_argument);
            CHECK(std::string(s.message()) ==
                  "model run: input row 2, feature 17 is " + name_of(bad) + ": an int8 model needs finite inputs");
        }
        // a model loaded from a .sparq file checks as well (the choice is how to run, not stored)
        const std::string bytes = io::encode_sparq(c->parts());
        auto loaded = io::parse_sparq(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "m.sparq");
        REQUIRE(loaded.ok());
        CHECK(loaded->checks_finite());
        x(1, 3) = nan_v;
        CHECK(std::string(try_run(*loaded, x).message()).find("input row 1, feature 3 is NaN") != std::string::npos);
        // fp32 models take NaN and propagate it (test_model.cpp), and do not check
        auto f32 = nn::compiled_model::compile(m, {});
        REQUIRE(f32.ok());
        CHECK_FALSE(f32->checks_finite());
        CHECK(try_run(*f32, x).ok());
    }
}

TEST_CASE("int8 with check_finite off: NaN runs as 0.0, +Inf and -Inf as the end codes") {
    const nn::model m = load("mlp.safetensors");
    const auto calib = load_f32("train_x.npy");
    auto c = compile_int8(m, calib, false);
    REQUIRE(c.ok());
    CHECK_FALSE(c->checks_finite());
    auto parts = c->parts();
    CHECK_FALSE(parts.check_finite);
    const quant::qparams& q = parts.q[0];  // the input's codes
    REQUIRE((q.qmin == -128 && q.qmax == 127));
    const float top = float(q.qmax - q.zero_point[0]) * q.scale[0],
                bottom = float(q.qmin - q.zero_point[0]) * q.scale[0];
    const auto all = load_f32("test_x.npy");
    auto x = rows_of(all, 4);
    x(2, 17) = nan_v;
    x(1, 5) = inf_v;
    x(3, 40) = -inf_v;
    auto same = rows_of(all, 4);
    same(2, 17) = 0.0f;  // the code of NaN: the zero point
    same(1, 5) = top;    // saturated
    same(3, 40) = bottom;
    const auto y = run(*c, x);
    CHECK(same_bits(y, run(*c, same)));
    for (index_t i = 0; i < y.size(); ++i)
        CHECK(std::isfinite(y.data()[i]));  // plausible numbers: why the check is on by default
    // the choice survives parts
    auto back = nn::compiled_model::from_parts(std::move(parts));
    REQUIRE(back.ok());
    CHECK_FALSE(back->checks_finite());
    CHECK(same_bits(run(*back, x), y));
}

TEST_CASE("mixed precision: the input is checked when the first layer is kept in float; not when every layer is") {
    const nn::model m = load("mlp.safetensors");
    const auto calib = load_f32("train_x.npy");
    auto x = rows_of(load_f32("test_x.npy"), 3);
    x(1, 60) = nan_v;
    // fc1 in float, fc2 int8: the NaN would cross fc1 in fp32 and become a code at fc2's input
    auto first_float = compile_int8(m, calib, true, {"fc1"});
    REQUIRE(first_float.ok());
    CHECK(first_float->checks_finite());
    CHECK(std::string(try_run(*first_float, x).message()) ==
          "model run: input row 1, feature 60 is NaN: an int8 model needs finite inputs");
    // every layer in float: fp32 bit for bit, NaN propagates to every output of its row
    auto all_float = compile_int8(m, calib, true, {"fc1", "fc2"});
    REQUIRE(all_float.ok());
    CHECK_FALSE(all_float->checks_finite());
    const auto y = run(*all_float, x);
    for (index_t j = 0; j < y.extent(1); ++j) {
        CHECK(std::isnan(y(1, j)));
        CHECK(std::isfinite(y(0, j)));
    }
}

}  // namespace test_bad_data_suite
