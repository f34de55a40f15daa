// safetensors: the digits model as Python wrote it; our writer read back; malformed headers
// refused with the reason; a model round-trips through load / save.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/safetensors.hpp"
#include "support/temp_dir.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_safetensors_suite {

namespace {
std::string data_path(const char* name) { return std::string(SPARQ_TEST_DATA_DIR) + "/digits/" + name; }

std::vector<unsigned char> file_of(const std::string& header, std::size_t data_bytes) {
    std::vector<unsigned char> b(8);
    for (int i = 0; i < 8; ++i) b[std::size_t(i)] = static_cast<unsigned char>((header.size() >> (8 * i)) & 0xff);
    b.insert(b.end(), header.begin(), header.end());
    b.resize(b.size() + data_bytes, 0);
    return b;
}

std::string error_of(const std::string& header, std::size_t data_bytes) {
    const auto b = file_of(header, data_bytes);
    auto f = io::safetensors_file::parse(b.data(), b.size(), "m.st");
    REQUIRE_FALSE(f.ok());
    return f.error().message();
}
}  // namespace

TEST_CASE("safetensors: the digits MLP written by Python") {
    auto f = io::safetensors_file::read(data_path("mlp.safetensors").c_str());
    REQUIRE(f.ok());
    CHECK(f->entries().size() == 4);
    REQUIRE(f->metadata("sparq.graph") != nullptr);
    CHECK(*f->metadata("sparq.graph") == "fc1 relu fc2");
    auto w = f->f32<2>("fc1.weight");
    REQUIRE(w.ok());
    CHECK(w->extent(0) == 128);
    CHECK(w->extent(1) == 64);
    // the same trained weights as docs/data/digits_mlp_fc1_128x64.f32 (same script, same seed)
    std::FILE* raw = std::fopen((std::string(SPARQ_TEST_DATA_DIR) + "/../docs/data/digits_mlp_fc1_128x64.f32").c_str(), "rb");
    REQUIRE(raw != nullptr);
    std::vector<float> ref(128 * 64);
    CHECK(std::fread(ref.data(), 4, ref.size(), raw) == ref.size());
    std::fclose(raw);
    CHECK(std::memcmp(ref.data(), w->data(), ref.size() * 4) == 0);
    CHECK_FALSE(f->f32<1>("fc1.weight").ok());  // rank checked
    CHECK_FALSE(f->f32<2>("fc9.weight").ok());  // name checked
}

TEST_CASE("safetensors: a model saved and loaded is the same model") {
    auto m = io::load_model_safetensors(data_path("mlp.safetensors").c_str());
    REQUIRE(m.ok());
    REQUIRE(m->nodes.size() == 2);
    CHECK(m->nodes[0].kind == nn::op::linear);
    CHECK(m->nodes[0].linear.act == kernels::activation::relu);
    CHECK(m->nodes[1].linear.act == kernels::activation::none);
    CHECK(m->input == nn::sample_shape{64, 1, 1});
    CHECK(m->parameters() == 128 * 64 + 128 + 10 * 128 + 10);
    const sparq_test::temp_dir dir;
    const std::string path = dir / "model.safetensors";
    REQUIRE(io::save_model_safetensors(path.c_str(), *m).ok());
    auto back = io::load_model_safetensors(path.c_str());
    REQUIRE(back.ok());
    REQUIRE(back->nodes.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        const nn::linear_layer &a = back->nodes[i].linear, &b = m->nodes[i].linear;
        CHECK(back->nodes[i].name == m->nodes[i].name);
        CHECK(a.act == b.act);
        CHECK(a.bias == b.bias);
        CHECK(std::memcmp(a.weight.data(), b.weight.data(), std::size_t(b.weight.size()) * 4) == 0);
    }
    std::remove(path.c_str());
}

TEST_CASE("safetensors: malformed headers are refused with the reason") {
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 8).find("[4, 12] in 8 bytes of data") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 7).find("larger than the file") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8).find("data_offsets [0, 4]") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],"
                   "\"data_offsets\":[4,8]}}", 8).find("overlap") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                   "\"data_offsets\":[4,8]}}", 8).find("appears twice") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1).find("unknown dtype 'Q7'") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999,99999999999],\"data_offsets\":[0,4]}}", 4)
              .find("larger than the file") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4).find("lacks dtype, shape or data_offsets") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4).find("expected ',' or '}'") != std::string::npos);
    CHECK(error_of("{\"a\":[1]}", 0).find("expected '{' for a tensor") != std::string::npos);
    CHECK(error_of("{} x", 0).find("text after") != std::string::npos);
    CHECK(error_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4).find("non-negative integer") != std::string::npos);
    std::vector<unsigned char> lying = file_of("{}", 0);
    lying[7] = 0x7f;  // a header length of ~9e18
    auto f = io::safetensors_file::parse(lying.data(), lying.size(), "m.st");
    REQUIRE_FALSE(f.ok());
    CHECK(std::string(f.error().message()).find("does not fit the file") != std::string::npos);
    const unsigned char tiny[3] = {1, 2, 3};
    CHECK_FALSE(io::safetensors_file::parse(tiny, 3, "m.st").ok());
}

TEST_CASE("safetensors models: a graph must say the layer order, and shapes must chain") {
    auto write = [](const char* path, const std::vector<std::pair<std::string, std::string>>& meta, index_t second_in) {
        std::vector<float> w1(6, 1.0f), w2(std::size_t(2 * second_in), 1.0f);
        return io::write_safetensors(path, {{"a.weight", {3, 2}, w1.data()}, {"b.weight", {2, second_in}, w2.data()}}, meta);
    };
    const sparq_test::temp_dir dir;
    const std::string file = dir / "graph.safetensors";
    const char* path = file.c_str();
    REQUIRE(write(path, {}, 3).ok());
    auto m = io::load_model_safetensors(path);
    REQUIRE_FALSE(m.ok());
    CHECK(std::string(m.error().message()).find("no \"sparq.graph\"") != std::string::npos);
    REQUIRE(write(path, {{"sparq.graph", "a relu b"}}, 4).ok());
    m = io::load_model_safetensors(path);
    REQUIRE_FALSE(m.ok());
    CHECK(std::string(m.error().message()).find("linear 'b' takes 4 features, its input has 3") != std::string::npos);
    REQUIRE(write(path, {{"sparq.graph", "relu a b"}}, 3).ok());
    CHECK_FALSE(io::load_model_safetensors(path).ok());
    REQUIRE(write(path, {{"sparq.graph", "a relu b"}}, 3).ok());
    m = io::load_model_safetensors(path);
    REQUIRE(m.ok());
    CHECK(m->nodes.size() == 2);
    CHECK(m->nodes[0].linear.bias.empty());
    std::remove(path);
}

TEST_CASE("safetensors models: a tensor named many times is copied within 4 x the file; work is bounded (issue 19)") {
    std::vector<float> w(64 * 64, 0.5f);
    const sparq_test::temp_dir dir;
    const std::string file = dir / "repeats.safetensors";
    const char* path = file.c_str();
    auto graph_of = [](int uses) {
        std::string g;
        for (int k = 0; k < uses; ++k) g += (k ? " a" : "a");
        return g;
    };
    REQUIRE(io::write_safetensors(path, {{"a.weight", {64, 64}, w.data()}}, {{"sparq.graph", graph_of(4)}}).ok());
    auto m = io::load_model_safetensors(path);
    REQUIRE(m.ok());
    CHECK(m->nodes.size() == 4);
    // its work: 4 layers of 64 x 64 multiply-adds
    CHECK(m->cost_per_sample()->work == 4 * 64 * 64);
    nn::load_limits lim;
    lim.max_work = 4 * 64 * 64;
    CHECK(io::load_model_safetensors(path, lim).ok());
    lim.max_work = 4 * 64 * 64 - 1;
    auto limited = io::load_model_safetensors(path, lim);
    REQUIRE_FALSE(limited.ok());
    CHECK(std::string(limited.error().message()).find("one sample costs 1.64e+04 operations") != std::string::npos);
    // the original: 1000 uses of one tensor (the 16 MB file of the issue reached 4 GB)
    REQUIRE(io::write_safetensors(path, {{"a.weight", {64, 64}, w.data()}}, {{"sparq.graph", graph_of(1000)}}).ok());
    auto refused = io::load_model_safetensors(path);
    REQUIRE_FALSE(refused.ok());
    CHECK(std::string(refused.error().message()).find("'a.weight' named too often") != std::string::npos);
    std::remove(path);
}

}  // namespace test_safetensors_suite
