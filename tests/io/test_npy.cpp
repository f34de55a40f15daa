// .npy: NumPy's own files read exactly; written files read back; every malformed header or
// size a status naming the file and the problem, never a crash or an unbounded allocation.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sparq/io/npy.hpp"
#include "support/temp_dir.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_npy_suite {

namespace {
std::string data_path(const char* name) { return std::string(SPARQ_TEST_DATA_DIR) + "/digits/" + name; }

std::vector<unsigned char> npy_bytes(const std::string& header, std::size_t data_bytes, unsigned char version = 1) {
    std::vector<unsigned char> b = {0x93, 'N', 'U', 'M', 'P', 'Y', version, 0};
    const std::size_t n = header.size();
    b.push_back(static_cast<unsigned char>(n & 0xff));
    b.push_back(static_cast<unsigned char>(n >> 8));
    if (version > 1) b.push_back(0), b.push_back(0);
    b.insert(b.end(), header.begin(), header.end());
    b.resize(b.size() + data_bytes, 0);
    return b;
}

std::string parse_error(const std::vector<unsigned char>& b) {
    auto a = io::parse_npy(b.data(), b.size(), "t.npy", 1 << 20);
    REQUIRE_FALSE(a.ok());
    return a.error().message();
}
}  // namespace

TEST_CASE("npy: NumPy's files, as NumPy wrote them") {
    auto x = io::read_npy(data_path("test_x.npy").c_str());
    REQUIRE(x.ok());
    CHECK(x->type == io::npy_type::f32);
    REQUIRE(x->shape == std::vector<index_t>{360, 64});
    auto t = x->to_f32<2>("test_x");
    REQUIRE(t.ok());
    float lo = 1, hi = 0;
    for (index_t i = 0; i < t->size(); ++i) lo = std::min(lo, t->data()[i]), hi = std::max(hi, t->data()[i]);
    CHECK(lo == 0.0f);
    CHECK(hi == 1.0f);  // pixel values 0..16 scaled by 1/16

    auto y = io::read_npy(data_path("test_y.npy").c_str());
    REQUIRE(y.ok());
    CHECK(y->type == io::npy_type::i64);
    auto labels = y->to_labels("test_y");
    REQUIRE(labels.ok());
    REQUIRE(labels->size() == 360);
    for (auto l : *labels) CHECK((l >= 0 && l <= 9));
    CHECK_FALSE(y->to_f32<1>("test_y").ok());    // labels are not floats
    CHECK_FALSE(x->to_labels("test_x").ok());    // and floats are not labels
    CHECK_FALSE(x->to_f32<3>("test_x").ok());    // rank checked
}

TEST_CASE("npy: write, then read back bit for bit") {
    const std::vector<float> v = {1.5f, -0.0f, 3.25e-40f, 1e30f, 7, 8};
    const sparq_test::temp_dir dir;
    const std::string path = dir / "back.npy";
    REQUIRE(io::write_npy(path.c_str(), v.data(), {2, 3}).ok());
    auto a = io::read_npy(path.c_str());
    REQUIRE(a.ok());
    REQUIRE(a->shape == std::vector<index_t>{2, 3});
    auto t = a->to_f32<2>("back");
    REQUIRE(t.ok());
    CHECK(std::memcmp(t->data(), v.data(), v.size() * 4) == 0);
    std::remove(path.c_str());
}

TEST_CASE("npy: versions 2 and 3, one-byte types with any byte-order mark, 0-d and empty arrays") {
    auto v2 = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8, 2);
    CHECK(io::parse_npy(v2.data(), v2.size(), "v2").ok());
    auto u1 = npy_bytes("{'descr': '<u1', 'fortran_order': False, 'shape': (3,), }", 3);
    auto a = io::parse_npy(u1.data(), u1.size(), "u1");
    REQUIRE(a.ok());
    CHECK(a->type == io::npy_type::u8);
    auto scalar = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4);
    auto s = io::parse_npy(scalar.data(), scalar.size(), "scalar");
    REQUIRE(s.ok());
    CHECK(s->count() == 1);
    auto empty = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", 0);
    CHECK(io::parse_npy(empty.data(), empty.size(), "empty").ok());
}

TEST_CASE("npy: malformed files are refused with the reason") {
    const std::string ok_header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    CHECK(parse_error({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}).find("t.npy: not a .npy file") == 0);
    CHECK(parse_error(npy_bytes(ok_header, 23)).find("needs 24 bytes of data") != std::string::npos);   // truncated
    CHECK(parse_error(npy_bytes(ok_header, 25)).find("the file has 25") != std::string::npos);        // trailing bytes
    CHECK(parse_error(npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24)).find("big-endian") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24)).find("Fortran") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16)).find("dtype '|O'") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", 24)).find("lacks 'fortran_order'") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (999999999, 999999999), }", 0))
              .find("over the limit") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1234567890123456789012, 3), }", 0))
              .find("more than 18 digits") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 0)).find("t.npy: bad .npy header at byte") == 0);
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 24)).find("unexpected key") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '<f4", 0)).find("unterminated") != std::string::npos);
    auto huge = npy_bytes(ok_header, 24);
    huge[8] = 0xff, huge[9] = 0xff;  // a header length past the end
    CHECK(parse_error(huge).find("does not fit the file") != std::string::npos);
    auto v9 = npy_bytes(ok_header, 24, 9);
    CHECK(parse_error(v9).find("version 9.0") != std::string::npos);
    // Cut off inside the preamble: named as truncated, not as a file without the magic.
    CHECK(parse_error({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}) == "t.npy: truncated: 8 bytes, a .npy header needs at least 10");
    CHECK(parse_error({0x93, 'N', 'U'}) == "t.npy: truncated: 3 bytes, a .npy header needs at least 10");
    CHECK(parse_error({}) == "t.npy: truncated: 0 bytes, a .npy header needs at least 10");
    CHECK(parse_error({'P', 'K', 3}).find("t.npy: not a .npy file") == 0);
    // A key given twice is refused, not merged: the second 'shape' used to extend the first.
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (3,), }", 24))
              .find("duplicate key 'shape'") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", 24))
              .find("duplicate key 'descr'") != std::string::npos);
    CHECK(parse_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'fortran_order': False, 'shape': (6,), }", 24))
              .find("duplicate key 'fortran_order'") != std::string::npos);
    auto missing = io::read_npy("/nonexistent/x.npy");
    REQUIRE_FALSE(missing.ok());
    CHECK(std::string(missing.error().message()).find("/nonexistent/x.npy: cannot open") == 0);
}

}  // namespace test_npy_suite
