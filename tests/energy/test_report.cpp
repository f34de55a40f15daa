// The report: totals, savings, carbon, and the table / JSON / SVG forms of it.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sparq/energy/carbon.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/energy/report_svg.hpp"

using namespace sparq;
using namespace sparq::energy;

namespace {

// Two layers of an int8 MLP, counted over `inferences` runs.
std::vector<layer_counts> int8_mlp(std::uint64_t inferences) {
    std::vector<layer_counts> layers(2);
    layers[0].name = "fc1";
    layers[1].name = "fc2 \"out\"";
    for (std::uint64_t i = 0; i < inferences; ++i) {
        count_gemm(&layers[0].counts, dtype::s8, dtype::s8, dtype::s8, dtype::s32, 1, 128, 64);
        count_gemm(&layers[1].counts, dtype::s8, dtype::s8, dtype::s8, dtype::s32, 1, 10, 128);
    }
    return layers;
}

}  // namespace

TEST_CASE("carbon: 1 kWh at 475 g/kWh and PUE 1.58 is 750.5 g") {
    CHECK(grams_co2e(3.6e6, grid{475.0, 1.58}) == doctest::Approx(750.5).epsilon(1e-12));
    CHECK(grams_co2e(3.6e6) == doctest::Approx(475.0));  // the defaults: world average, PUE 1
    CHECK(grid{}.pue == 1.0);
}

TEST_CASE("a report adds up its layers and prices the fp32 dense baseline") {
    const auto layers = int8_mlp(4);
    const report r = make_report("int8", layers, 4, horowitz_45nm, memory_mode::compute_only);
    CHECK(r.macs == 4 * (128 * 64 + 10 * 128));
    REQUIRE(r.layers.size() == 2);
    CHECK(r.layers[0].macs == 4 * 128 * 64);
    CHECK(r.total.compute_j == doctest::Approx(double(r.macs) * 0.3e-12));
    CHECK(r.fp32_total.compute_j == doctest::Approx(double(r.macs) * 4.6e-12));
    CHECK(r.ratio() == doctest::Approx(4.6 / 0.3));
    CHECK(r.saved_j() == doctest::Approx(double(r.macs) * 4.3e-12));
    CHECK(r.joules_per_inference() == doctest::Approx(r.total.total_j() / 4));
    CHECK(r.inferences_per_joule() == doctest::Approx(4 / r.total.total_j()));

    // With memory: int8 moves fewer and cheaper bytes than the fp32 baseline.
    const report rm = make_report("int8", layers, 4);
    CHECK(rm.total.memory_j > 0);
    CHECK(rm.fp32_total.memory_j > rm.total.memory_j);
    double level_sum = 0;
    for (double j : rm.total.level_j) level_sum += j;
    CHECK(level_sum == doctest::Approx(rm.total.memory_j));
}

TEST_CASE("JSON carries the fields tools read, with names escaped") {
    const report r = make_report("int8", int8_mlp(2), 2, horowitz_45nm, memory_mode::working_set, grid{475, 1.58});
    const std::string j = to_json(r);
    for (const char* key : {"\"total\": {", "\"joules\": ", "\"fp32_joules\": ", "\"saved_joules\": ", "\"macs\": ", "\"inferences\": 2",
                            "\"layers\": [", "\"name\": \"fc1\"", "\"estimate\": true", "\"grams_co2e\": ", "\"pue\": 1.58"})
        CHECK_MESSAGE(j.find(key) != std::string::npos, key);
    CHECK(j.find("\"name\": \"fc2 \\\"out\\\"\"") != std::string::npos);
    // balanced braces and brackets (a cheap well-formedness check; the CLI test parses it with Python)
    int depth = 0, low = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < j.size(); ++i) {
        if (in_string) {
            if (j[i] == '\\') ++i;
            else if (j[i] == '"') in_string = false;
            continue;
        }
        if (j[i] == '"') in_string = true;
        else if (j[i] == '{' || j[i] == '[') ++depth;
        else if (j[i] == '}' || j[i] == ']') low = --depth < low ? depth : low;
    }
    CHECK(depth == 0);
    CHECK(low == 0);
    CHECK_FALSE(in_string);
}

TEST_CASE("the table names the cost model and the estimate; the SVG draws every variant") {
    const report r = make_report("int8", int8_mlp(1), 1);
    const std::string t = to_table(r);
    CHECK(t.find("estimated energy per inference") != std::string::npos);
    CHECK(t.find("horowitz_45nm") != std::string::npos);
    CHECK(t.find("fc1") != std::string::npos);
    CHECK(t.find("total") != std::string::npos);

    std::vector<layer_counts> f32(1);
    f32[0].name = "fc1";
    count_gemm(&f32[0].counts, dtype::f32, dtype::f32, dtype::f32, dtype::f32, 1, 128, 64);
    const std::string svg = to_svg({make_report("fp32", f32, 1), r}, "digits <MLP>");
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
    CHECK(svg.find("digits &lt;MLP&gt;") != std::string::npos);
    CHECK(svg.find("fp32 dense (baseline)") != std::string::npos);
    CHECK(svg.find(">int8<") != std::string::npos);
    CHECK(svg.find("x less") != std::string::npos);
}

TEST_CASE("joules format with SI prefixes") {
    CHECK(energy::detail::format_joules(4.6e-12) == "4.60 pJ");
    CHECK(energy::detail::format_joules(1.5e-6) == "1.50 uJ");
    CHECK(energy::detail::format_joules(123.4e-3) == "123 mJ");
    CHECK(energy::detail::format_joules(0) == "0.00 pJ");
}

TEST_CASE("JSON strings: bytes that are not UTF-8 become U+FFFD, well-formed text passes (issue 19)") {
    using energy::detail::json_string;
    CHECK(json_string("chip") == "\"chip\"");
    CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");  // 2, 3, 4 bytes
    CHECK(json_string("a\xff" "b") == "\"a\\ufffdb\"");                  // never a UTF-8 byte
    CHECK(json_string("\xc0\xaf") == "\"\\ufffd\\ufffd\"");             // overlong '/'
    CHECK(json_string("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
    CHECK(json_string("\xf4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // past U+10FFFF
    CHECK(json_string("\xe2\x82") == "\"\\ufffd\\ufffd\"");             // cut short
    CHECK(json_string("q\"\\\n\x7f") == "\"q\\\"\\\\\\u000a\\u007f\"");
}
