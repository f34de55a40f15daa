// core/finite.hpp: the first NaN or infinity of a matrix, by row and column, whatever its layout,
// and the one-line status that names it.
#include <doctest/doctest.h>

#include <cfloat>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "sparq/core/finite.hpp"

using namespace sparq;

namespace {
constexpr float nan_v = std::numeric_limits<float>::quiet_NaN();
constexpr float inf_v = std::numeric_limits<float>::infinity();
}  // namespace

TEST_CASE("find_nonfinite: every finite extreme passes; NaN, +Inf, -Inf are found at their row and column") {
    std::vector<float> a = {0.0f,          -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN, FLT_TRUE_MIN,
                            -FLT_TRUE_MIN, 1.0f,  2.0f,    3.0f,     4.0f,    5.0f};
    const matrix_view<const float> x(a.data(), {3, 4});
    CHECK_FALSE(find_nonfinite(x).found());
    CHECK(check_finite(x, "x", "why").ok());
    for (float bad : {nan_v, -nan_v, inf_v, -inf_v}) {
        for (index_t at : {index_t(0), index_t(6), index_t(11)}) {
            std::vector<float> b = a;
            b[std::size_t(at)] = bad;
            const nonfinite_at f = find_nonfinite(matrix_view<const float>(b.data(), {3, 4}));
            REQUIRE(f.found());
            CHECK(f.row == at / 4);
            CHECK(f.col == at % 4);
            CHECK(std::memcmp(&f.value, &bad, sizeof bad) == 0);
        }
    }
    CHECK(std::string(nonfinite_name(nan_v)) == "NaN");
    CHECK(std::string(nonfinite_name(-nan_v)) == "NaN");
    CHECK(std::string(nonfinite_name(inf_v)) == "+Inf");
    CHECK(std::string(nonfinite_name(-inf_v)) == "-Inf");
    CHECK(std::string(nonfinite_name(FLT_MAX)) == "finite");
}

TEST_CASE("find_nonfinite: the first in row-major order, across blocks and with padded or strided rows") {
    // 3 rows of 3000 back to back: the blocks of 4096 straddle rows
    std::vector<float> a(9000, 1.5f);
    a[8999] = -inf_v;
    a[4100] = nan_v;  // row 1, column 1100: the first
    nonfinite_at f = find_nonfinite(matrix_view<const float>(a.data(), {3, 3000}));
    CHECK(f.row == 1);
    CHECK(f.col == 1100);
    CHECK(f.value != f.value);
    const status s = check_finite(matrix_view<const float>(a.data(), {3, 3000}), "model run: input",
                                  "an int8 model needs finite inputs");
    CHECK(s.code() == errc::invalid_argument);
    CHECK(std::string(s.message()) == "model run: input row 1, feature 1100 is NaN: an int8 model needs finite inputs");

    // rows of 3 inside rows of 5: the padding is not looked at
    std::vector<float> p(20, 0.0f);
    for (index_t r = 0; r < 4; ++r) p[std::size_t(r * 5 + 3)] = p[std::size_t(r * 5 + 4)] = nan_v;
    CHECK_FALSE(find_nonfinite(matrix_view<const float>(p.data(), {4, 3}, {5, 1})).found());
    p[std::size_t(2 * 5 + 2)] = inf_v;
    f = find_nonfinite(matrix_view<const float>(p.data(), {4, 3}, {5, 1}));
    CHECK(f.row == 2);
    CHECK(f.col == 2);

    // a transposed view: column-strided rows
    std::vector<float> t = {1, 2, 3, 4, 5, 6};  // [2, 3] stored; viewed as [3, 2]
    t[4] = -inf_v;                              // stored (1, 1): viewed (1, 1)
    t[2] = nan_v;                               // stored (0, 2): viewed (2, 0)
    f = find_nonfinite(matrix_view<const float>(t.data(), {3, 2}, {1, 3}));
    CHECK(f.row == 1);
    CHECK(f.col == 1);
    CHECK(std::string(nonfinite_name(f.value)) == "-Inf");

    CHECK_FALSE(find_nonfinite(matrix_view<const float>()).found());
}
