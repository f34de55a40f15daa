#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "sparq/core/status.hpp"

using namespace sparq;

namespace {
result<int> parse_positive(int v) {
    if (v <= 0) return status(errc::invalid_argument, "value %d at offset %d is not positive", v, 12);
    return v;
}
status twice(int v, int& out) {
    auto r = parse_positive(v);
    if (!r) return r.error();
    out = 2 * *r;
    return status::success();
}
status chained(int v) {
    int out = 0;
    SPARQ_TRY(twice(v, out));
    return out > 10 ? status::success() : status(errc::out_of_range, "%d is too small", out);
}
}  // namespace

TEST_CASE("status: ok by default, errors carry code and formatted message") {
    status ok;
    CHECK(ok.ok());
    CHECK(bool(ok));
    CHECK(ok.code() == errc::ok);
    CHECK(std::string(ok.message()).empty());

    status bad(errc::shape_mismatch, "shapes [%d, %d] and [%d]", 2, 3, 4);
    CHECK_FALSE(bad.ok());
    CHECK(bad.code() == errc::shape_mismatch);
    CHECK(std::string(bad.message()) == "shapes [2, 3] and [4]");
    char buf[96];
    CHECK(std::string(bad.what(buf, sizeof buf)) == "shape mismatch: shapes [2, 3] and [4]");
}

TEST_CASE("status: an over-long message is cut, never overflows") {
    std::string big(1000, 'x');
    status s(errc::parse_error, "%s", big.c_str());
    CHECK(std::strlen(s.message()) == status::max_message - 1);
    char tiny[8];
    CHECK(std::strlen(s.what(tiny, sizeof tiny)) == 7);
}

TEST_CASE("result: value or error, and SPARQ_TRY propagates") {
    auto good = parse_positive(5);
    REQUIRE(good.ok());
    CHECK(*good == 5);
    CHECK(good.value_or(-1) == 5);

    auto bad = parse_positive(-3);
    CHECK_FALSE(bad.ok());
    CHECK(bad.value_or(-1) == -1);
    CHECK(bad.error().code() == errc::invalid_argument);
    CHECK(std::string(bad.error().message()) == "value -3 at offset 12 is not positive");

    CHECK(chained(7).ok());
    CHECK(chained(2).code() == errc::out_of_range);
    CHECK(chained(-1).code() == errc::invalid_argument);
}

TEST_CASE("errc names are distinct") {
    for (int a = 0; a <= int(errc::dtype_mismatch); ++a)
        for (int b = a + 1; b <= int(errc::dtype_mismatch); ++b)
            CHECK(std::string(to_string(errc(a))) != to_string(errc(b)));
}
