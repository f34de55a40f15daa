// Mixed precision (compile_options::float_layers) and the sensitivity pass (nn/sensitivity.hpp):
// an int8 model with every layer in float is the fp32 model bit for bit; a partly float model
// sits between int8 and fp32, round-trips through parts and .sparq; the greedy choice follows
// the table and stops at the budget; bad names and precisions are refused.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/io/sparq_format.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "sparq/nn/sensitivity.hpp"
#include "support/digits.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_mixed_precision_suite {

namespace {
using namespace digits_test;

double max_abs_diff(const tensor<float, 2>& a, const tensor<float, 2>& b) {
    double worst = 0;
    for (index_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a.data()[i]) - double(b.data()[i])));
    return worst;
}

nn::compiled_model compile(const nn::model& m, nn::precision p, const tensor<float, 2>& calib, std::vector<std::string> keep = {}) {
    nn::compile_options o;
    o.prec = p;
    o.calibration = calib.cview();
    o.float_layers = std::move(keep);
    auto c = nn::compiled_model::compile(m, o);
    REQUIRE(c.ok());
    return std::move(*c);
}
}  // namespace

TEST_CASE("mixed precision: float layers inside an int8 model") {
    const auto calib = load_f32("train_x.npy");
    const auto x = load_f32("test_x.npy");
    for (const char* file : {"mlp.safetensors", "cnn.safetensors"}) {
        CAPTURE(file);
        auto m = io::load_model_safetensors(data_path(file).c_str());
        REQUIRE(m.ok());
        std::vector<std::string> weighted;
        for (std::size_t i = 0; i < m->nodes.size(); ++i)
            if (m->nodes[i].kind == nn::op::linear || m->nodes[i].kind == nn::op::conv2d) weighted.push_back(nn::detail::node_name(m->nodes[i], i));
        const auto y32 = run(compile(*m, nn::precision::f32, calib), x);
        const auto y8 = run(compile(*m, nn::precision::int8, calib), x);

        // Every layer in float: no value holds codes, and the outputs are fp32's, bit for bit.
        const nn::compiled_model all = compile(*m, nn::precision::int8, calib, weighted);
        for (std::uint8_t s8 : all.parts().s8) CHECK(s8 == 0);
        CHECK(same_bits(run(all, x), y32));

        // The first layer in float: its weights stay fp32, the rest int8; between the two.
        const nn::compiled_model mixed = compile(*m, nn::precision::int8, calib, {weighted.front()});
        const nn::compiled_parts p = mixed.parts();
        CHECK(p.steps.front().weight_s8.empty());
        CHECK(p.steps.front().weight_f32.size() == std::size_t(m->nodes.front().kind == nn::op::conv2d ? m->nodes.front().conv.weight.size()
                                                                                                          : m->nodes.front().linear.weight.size()));
        CHECK(p.s8[1] == 0);  // a float layer makes floats
        CHECK_FALSE(p.steps.back().weight_s8.empty());
        const auto ym = run(mixed, x);
        // (the largest difference of one logit: bias correction of the int8 layers moves it by ~1e-3 either way)
        CHECK(max_abs_diff(ym, y32) <= max_abs_diff(y8, y32) + 5e-3);
        CHECK(mixed.stored_bytes() > compile(*m, nn::precision::int8, calib).stored_bytes());

        // Round trips: parts and the .sparq file give the same bits.
        auto back = nn::compiled_model::from_parts(mixed.parts());
        REQUIRE(back.ok());
        CHECK(same_bits(run(*back, x), ym));
        const std::string bytes = io::encode_sparq(mixed.parts());
        auto loaded = io::parse_sparq(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "mixed.sparq");
        REQUIRE(loaded.ok());
        CHECK(same_bits(run(*loaded, x), ym));
        CHECK(io::encode_sparq(loaded->parts()) == bytes);

        // A float layer claiming to make codes is refused.
        nn::compiled_parts bad = mixed.parts();
        bad.s8[1] = 1;
        CHECK_FALSE(nn::compiled_model::from_parts(std::move(bad)).ok());
    }
}

TEST_CASE("mixed precision: unknown layers and non-int8 models are refused") {
    const auto calib = load_f32("train_x.npy");
    auto m = io::load_model_safetensors(data_path("cnn.safetensors").c_str());
    REQUIRE(m.ok());
    nn::compile_options o;
    o.prec = nn::precision::int8;
    o.calibration = calib.cview();
    for (const char* name : {"fc9", "flatten", ""}) {
        o.float_layers = {name};
        auto c = nn::compiled_model::compile(*m, o);
        REQUIRE_FALSE(c.ok());
        CHECK(std::string(c.error().message()).find("no linear or conv2d node named") != std::string::npos);
    }
    o.prec = nn::precision::f16;
    o.float_layers = {"fc"};
    CHECK_FALSE(nn::compiled_model::compile(*m, o).ok());
}

TEST_CASE("sensitivity: one row per weighted layer, and the greedy choice stops at the budget") {
    const auto calib = load_f32("train_x.npy");
    auto m = io::load_model_safetensors(data_path("cnn.safetensors").c_str());
    REQUIRE(m.ok());
    // A score that knows which layers run in float: conv1 is worth 3 points, fc 1, conv2 none.
    auto eval = [](const nn::compiled_model& c) -> result<double> {
        const nn::compiled_parts p = c.parts();
        double s = 90;
        for (std::size_t i = 0; i < p.steps.size(); ++i) {
            const bool flt = p.steps[i].weight_s8.empty();
            if (flt && p.steps[i].name == "conv1") s += 3;
            if (flt && p.steps[i].name == "fc") s += 1;
        }
        return s;
    };
    nn::compile_options o;
    o.prec = nn::precision::int8;
    o.calibration = calib.cview();
    std::size_t calls = 0;
    auto t = nn::int8_sensitivity(*m, o, eval, [](void* n, std::size_t, std::size_t) { ++*static_cast<std::size_t*>(n); }, &calls);
    REQUIRE(t.ok());
    CHECK(calls == 5);  // fp32, int8, one per layer
    CHECK(t->fp32 == 94);
    CHECK(t->int8 == 90);
    REQUIRE(t->layers.size() == 3);
    CHECK(t->layers[0].name == "conv1");
    CHECK(t->layers[0].gain == 3);
    CHECK(t->layers[1].gain == 0);
    CHECK(t->layers[2].gain == 1);
    auto loose = nn::choose_float_layers(*m, o, *t, 1.5, eval);
    REQUIRE(loose.ok());
    CHECK(loose->float_layers == std::vector<std::string>{"conv1"});
    CHECK(loose->score == 93);
    auto tight = nn::choose_float_layers(*m, o, *t, 0.0, eval);
    REQUIRE(tight.ok());
    CHECK(tight->float_layers == std::vector<std::string>{"conv1", "fc"});
    CHECK(tight->score == 94);
    CHECK_FALSE(nn::choose_float_layers(*m, o, *t, -1.0, eval).ok());
    o.prec = nn::precision::f32;
    CHECK_FALSE(nn::int8_sensitivity(*m, o, eval).ok());
}

TEST_CASE("int4 models: weight-only linear layers, conv layers fp32; round trips; refused damage") {
    const auto calib = load_f32("train_x.npy");
    const auto x = load_f32("test_x.npy");
    const auto labels = load_labels("test_y.npy");
    for (const char* file : {"mlp.safetensors", "cnn.safetensors"}) {
        CAPTURE(file);
        auto m = io::load_model_safetensors(data_path(file).c_str());
        REQUIRE(m.ok());
        const nn::compiled_model c = compile(*m, nn::precision::int4, calib);
        const nn::compiled_parts p = c.parts();
        for (std::size_t i = 0; i < p.steps.size(); ++i) {
            const nn::compiled_step_parts& d = p.steps[i];
            if (d.kind == nn::op::linear) {
                const index_t n = d.weight_shape[0], k = d.weight_shape[1];
                CHECK(d.weight_s4.size() == std::size_t(n * ((k + 1) / 2)));
                CHECK(d.weight_scale.size() == std::size_t(n * ((k + nn::int4_group - 1) / nn::int4_group)));
                CHECK(d.weight_f32.empty());
                // the stored codes and scales are quantize_int4's of the fp32 weights
                const tensor<float, 2>& w = m->nodes[i].linear.weight;
                auto q = quant::calibrate_weights(w.cview(), quant::qscheme::weights_s4_per_group(nn::int4_group));
                REQUIRE(q.ok());
                CHECK(q->scale == d.weight_scale);
                std::vector<std::uint8_t> codes(d.weight_s4.size());
                REQUIRE(kernels::quantize_int4(w.cview(), *q, matrix_view<std::uint8_t>(codes.data(), {n, (k + 1) / 2})).ok());
                CHECK(codes == d.weight_s4);
            } else if (d.kind == nn::op::conv2d) {
                CHECK(d.weight_s4.empty());
                CHECK_FALSE(d.weight_f32.empty());
            }
        }
        // y = x . dequantize(w)^T + b: the fp32 model on the dequantized weights, within rounding
        for (std::size_t i = 0; i < p.steps.size(); ++i)
            if (p.steps[i].kind == nn::op::linear) {
                tensor<float, 2>& w = m->nodes[i].linear.weight;
                const quant::qparams q = nn::detail::int4_qparams(p.steps[i].weight_scale);
                REQUIRE(kernels::dequantize_int4(matrix_view<const std::uint8_t>(p.steps[i].weight_s4.data(), {w.extent(0), (w.extent(1) + 1) / 2}), q,
                                                 w.view()).ok());
            }
        const auto y4 = run(c, x);
        const auto yref = run(compile(*m, nn::precision::f32, calib), x);
        CHECK(max_abs_diff(y4, yref) < 1e-3);
        std::size_t right = 0;
        for (index_t r = 0; r < y4.extent(0); ++r) {
            index_t top = 0;
            for (index_t j = 1; j < y4.extent(1); ++j)
                if (y4(r, j) > y4(r, top)) top = j;
            right += top == labels[std::size_t(r)];
        }
        MESSAGE(std::string(file) << " int4: accuracy " << double(right) / double(x.extent(0)) << ", " << c.stored_bytes() << " bytes stored");
        CHECK(double(right) / double(x.extent(0)) > 0.95);
        // parts and .sparq round trips
        auto back = nn::compiled_model::from_parts(c.parts());
        REQUIRE(back.ok());
        CHECK(same_bits(run(*back, x), y4));
        const std::string bytes = io::encode_sparq(c.parts());
        auto loaded = io::parse_sparq(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "m4.sparq");
        REQUIRE(loaded.ok());
        CHECK(loaded->prec() == nn::precision::int4);
        CHECK(same_bits(run(*loaded, x), y4));
        CHECK(io::encode_sparq(loaded->parts()) == bytes);
        // a wrong number of scales is refused
        nn::compiled_parts bad = c.parts();
        for (auto& d : bad.steps)
            if (!d.weight_s4.empty()) d.weight_scale.pop_back();
        CHECK_FALSE(nn::compiled_model::from_parts(std::move(bad)).ok());
    }
}

}  // namespace test_mixed_precision_suite
