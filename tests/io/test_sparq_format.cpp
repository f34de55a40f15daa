// .sparq files: compiled models saved and loaded bit for bit (fp32, fp16, bf16, int8; the
// digits MLP and CNN), and every kind of damage refused with a message naming it.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/io/sparq_format.hpp"
#include "support/digits.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_sparq_format_suite {

namespace {
using digits_test::data_path;
using digits_test::run;
using digits_test::same_bits;
const auto load_x = digits_test::load_f32;

nn::compiled_model compiled(const char* file, nn::precision p) {
    auto m = io::load_model_safetensors(data_path(file).c_str());
    REQUIRE(m.ok());
    static const tensor<float, 2> calib = load_x("train_x.npy");
    nn::compile_options o;
    o.prec = p;
    o.observer = nn::observer_kind::histogram;
    if (p == nn::precision::int8) o.calibration = calib.cview();
    auto c = nn::compiled_model::compile(*m, o);
    REQUIRE(c.ok());
    return std::move(*c);
}

const unsigned char* bytes_of(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string message_of(const std::string& file) {
    auto r = io::parse_sparq(bytes_of(file), file.size(), "m.sparq");
    REQUIRE_FALSE(r.ok());
    return r.error().message();
}

void put_u32(std::string& s, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + std::size_t(i)] = char(std::uint8_t(v >> (8 * i)));
}
// Header and payload CRCs recomputed, so a test reaches the checks after them.
void reseal(std::string& s) {
    put_u32(s, 24, io::crc32(bytes_of(s) + 32, s.size() - 32));
    put_u32(s, 28, io::crc32(bytes_of(s), 28));
}
}  // namespace

TEST_CASE("crc32 is zlib's") {
    const char* t = "123456789";
    CHECK(io::crc32(reinterpret_cast<const unsigned char*>(t), 9) == 0xCBF43926u);
    CHECK(io::crc32(nullptr, 0) == 0u);
}

TEST_CASE(".sparq round trip: parts, bytes and outputs identical (MLP and CNN; fp32, fp16, bf16, int8)") {
    const auto x = load_x("test_x.npy");
    for (const char* file : {"mlp.safetensors", "cnn.safetensors"})
        for (auto p : {nn::precision::f32, nn::precision::f16, nn::precision::bf16, nn::precision::int8}) {
            CAPTURE(file);
            CAPTURE(nn::to_string(p));
            const nn::compiled_model c = compiled(file, p);
            const std::string bytes = io::encode_sparq(c.parts());
            auto back = io::parse_sparq(bytes_of(bytes), bytes.size(), "mem.sparq");
            REQUIRE(back.ok());
            CHECK(back->prec() == p);
            CHECK(back->stored_bytes() == c.stored_bytes());
            CHECK(back->layer_count() == c.layer_count());
            CHECK(io::encode_sparq(back->parts()) == bytes);  // the same file again
            CHECK(same_bits(run(*back, x), run(c, x)));
            // the file is about what the model stores, plus the graph
            CHECK(bytes.size() < c.stored_bytes() + 1024);
        }
}

TEST_CASE(".sparq files are written atomically and read back") {
    const nn::compiled_model c = compiled("mlp.safetensors", nn::precision::int8);
    const std::string path = "test_sparq_format_mlp.sparq";
    REQUIRE(io::save_sparq(path.c_str(), c).ok());
    auto back = io::load_sparq(path.c_str());
    REQUIRE(back.ok());
    const auto x = load_x("test_x.npy");
    CHECK(same_bits(run(*back, x), run(c, x)));
    std::remove(path.c_str());
    auto missing = io::load_sparq("/nonexistent/m.sparq");
    REQUIRE_FALSE(missing.ok());
    CHECK(std::string(missing.error().message()).find("cannot open") != std::string::npos);
}

TEST_CASE(".sparq: truncation at every offset, every flipped byte, wrong versions and absurd counts are refused") {
    const nn::compiled_model c = compiled("cnn.safetensors", nn::precision::int8);
    const std::string good = io::encode_sparq(c.parts());
    for (std::size_t n = 0; n < good.size(); ++n) {
        auto r = io::decode_sparq(bytes_of(good), n, "t.sparq");
        CHECK_FALSE(r.ok());
    }
    CHECK(message_of(good.substr(0, 20)).find("truncated") != std::string::npos);
    CHECK(message_of(good.substr(0, good.size() - 1)).find("truncated or extended") != std::string::npos);
    CHECK(message_of("hello").find("not a .sparq file") != std::string::npos);
    // every byte flipped somewhere: caught by a checksum (or the magic), never loaded
    for (std::size_t i = 0; i < good.size(); i += 7) {
        std::string bad = good;
        bad[i] = char(bad[i] ^ 0x5A);
        auto r = io::decode_sparq(bytes_of(bad), bad.size(), "t.sparq");
        CHECK_FALSE(r.ok());
    }
    std::string flipped = good;
    flipped[good.size() / 2] = char(flipped[good.size() / 2] ^ 1);
    CHECK(message_of(flipped).find("payload checksum mismatch") != std::string::npos);
    flipped = good;
    flipped[17] = char(flipped[17] ^ 1);
    CHECK(message_of(flipped).find("header checksum mismatch") != std::string::npos);

    std::string v2 = good;
    v2[8] = 2;  // major version 2 (minor 0)
    v2[10] = 0;
    reseal(v2);
    CHECK(message_of(v2).find("format version 2.0; this sparq reads version 1.x") != std::string::npos);

    // MODL's body starts at 32 + 12: precision, 3 reserved bytes, value count, node count
    std::string absurd = good;
    put_u32(absurd, 48, 0x7FFFFFFFu);
    put_u32(absurd, 52, 0x7FFFFFFEu);
    reseal(absurd);
    CHECK(message_of(absurd).find("offset 56: value and node counts do not fit the file") != std::string::npos);
    std::string prec = good;
    prec[44] = 9;
    reseal(prec);
    CHECK(message_of(prec).find("unknown precision code") != std::string::npos);
    // a section length past the end of the file
    std::string len = good;
    put_u32(len, 36, 0xFFFFFFF0u);
    reseal(len);
    CHECK(message_of(len).find("section 'MODL' of 4294967280 bytes") != std::string::npos);
    // a value's extent beyond any model (VALS starts at 32 + 12 + 12 + 12 = 68)
    std::string dim = good;
    put_u32(dim, 68, 0x40000000u);
    reseal(dim);
    CHECK(message_of(dim).find("value extent is 1073741824") != std::string::npos);
    // a consistent file whose shapes disagree with its weights: refused by from_parts
    std::string shape = good;
    put_u32(shape, 68, 2);  // the input has 2 channels, the first convolution takes 1
    reseal(shape);
    CHECK(message_of(shape).find("m.sparq: model parts: conv2d") != std::string::npos);
}

TEST_CASE("compiled_parts: from_parts refuses parts that do not describe a model") {
    const nn::compiled_model c = compiled("mlp.safetensors", nn::precision::int8);
    auto bad = [&](auto&& edit, const char* says) {
        nn::compiled_parts p = c.parts();
        edit(p);
        auto r = nn::compiled_model::from_parts(std::move(p));
        REQUIRE_FALSE(r.ok());
        CAPTURE(r.error().message());
        CHECK(std::string(r.error().message()).find(says) != std::string::npos);
    };
    CHECK(nn::compiled_model::from_parts(c.parts()).ok());
    bad([](nn::compiled_parts& p) { p.steps[0].weight_s8.pop_back(); }, "s8 weights");
    bad([](nn::compiled_parts& p) { p.steps[0].weight_scale.clear(); }, "0 scales");
    bad([](nn::compiled_parts& p) { p.steps[1].inputs = {2}; }, "reads value 2, not yet made");
    bad([](nn::compiled_parts& p) { p.shapes[1][0] += 1; }, "value 1 is");
    bad([](nn::compiled_parts& p) { p.q[1].scale[0] = -1.0f; }, "scales must be finite, > 0");
    bad([](nn::compiled_parts& p) { p.q.pop_back(); }, "qparams for 3 values");
    bad([](nn::compiled_parts& p) { p.s8[0] = 1; }, "value 0 cannot be held as int8 codes");
    bad([](nn::compiled_parts& p) { p.shapes[0] = {1 << 20, 1 << 20, 1}; }, "each sample at most");
    bad([](nn::compiled_parts& p) { p.steps.clear(); }, "3 values for 0 nodes");
    bad([](nn::compiled_parts& p) { p.steps[0].bias[3] = std::numeric_limits<float>::quiet_NaN(); }, "column 3 does not fit int32");
    // fp16 weights keep their bits through from_parts, signalling NaN payloads included
    const nn::compiled_model h = compiled("mlp.safetensors", nn::precision::f16);
    nn::compiled_parts p = h.parts();
    p.steps[1].weight_f16[7] = float16::from_bits(0x7C01);
    auto back = nn::compiled_model::from_parts(p);
    REQUIRE(back.ok());
    CHECK(back->parts().steps[1].weight_f16[7].bits == 0x7C01);
}

TEST_CASE(".sparq: a model whose one sample costs more than the caller's limits is refused (issue 19)") {
    const nn::compiled_model cnn = compiled("cnn.safetensors", nn::precision::int8);
    // 8 x 64 x 9 + 16 x 16 x 8 x 9 + 64 x 10 multiply-adds, pooling taps and values moved
    CHECK(cnn.work_per_sample() > std::uint64_t(8 * 64 * 9 + 16 * 16 * 8 * 9 + 64 * 10));
    CHECK(cnn.work_per_sample() < 100000);
    const std::string file = io::encode_sparq(cnn.parts());
    CHECK(io::parse_sparq(bytes_of(file), file.size(), "m.sparq").ok());
    nn::load_limits lim;
    lim.max_work = cnn.work_per_sample();
    lim.max_memory = cnn.scratch_bytes(1);
    CHECK(io::parse_sparq(bytes_of(file), file.size(), "m.sparq", lim).ok());
    lim.max_work -= 1;
    auto r = io::parse_sparq(bytes_of(file), file.size(), "m.sparq", lim);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("m.sparq: one sample costs") != std::string::npos);
    lim.max_work += 1;
    lim.max_memory -= 1;
    r = io::parse_sparq(bytes_of(file), file.size(), "m.sparq", lim);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("m.sparq: one sample needs") != std::string::npos);
}

}  // namespace test_sparq_format_suite
