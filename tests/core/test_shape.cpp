#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "sparq/core/shape.hpp"

using namespace sparq;

TEST_CASE("checked_element_count: counts, rejects negative extents and overflow") {
    CHECK(*checked_element_count<3>({2, 3, 4}) == 24);
    CHECK(*checked_element_count<2>({0, 1000}) == 0);
    CHECK(*checked_element_count<1>({1}) == 1);

    auto neg = checked_element_count<3>({2, -3, 4});
    REQUIRE_FALSE(neg.ok());
    CHECK(neg.error().code() == errc::invalid_argument);
    CHECK(std::string(neg.error().message()) == "extent 1 of shape [2, -3, 4] is negative");

    const index_t big = index_t(1) << 40;
    auto ovf = checked_element_count<2>({big, big});
    REQUIRE_FALSE(ovf.ok());
    CHECK(ovf.error().code() == errc::overflow);
    CHECK(!checked_element_count<3>({std::numeric_limits<index_t>::max(), 2, 1}).ok());
    // no elements, but strides that would not fit: still an overflow, not a wild layout
    CHECK(checked_element_count<3>({0, big, big}).error().code() == errc::overflow);
}

TEST_CASE("row_major_strides: last dimension contiguous") {
    CHECK(row_major_strides<3>({2, 3, 4}) == extents_t<3>{12, 4, 1});
    CHECK(row_major_strides<1>({7}) == extents_t<1>{1});
    CHECK(row_major_strides<2>({5, 0}) == extents_t<2>{1, 1});
}

TEST_CASE("checked_offset_span: negative strides reach backwards; overflow is caught") {
    index_t lo = 0, hi = 0;
    REQUIRE(checked_offset_span<2>({3, 4}, {4, 1}, lo, hi).ok());
    CHECK(lo == 0);
    CHECK(hi == 11);
    REQUIRE(checked_offset_span<2>({3, 4}, {-4, 1}, lo, hi).ok());
    CHECK(lo == -8);
    CHECK(hi == 3);
    REQUIRE(checked_offset_span<1>({0}, {1}, lo, hi).ok());
    CHECK(hi < lo);  // empty
    const index_t huge = std::numeric_limits<index_t>::max() / 2;
    CHECK(checked_offset_span<2>({3, 3}, {huge, huge}, lo, hi).code() == errc::overflow);
}

TEST_CASE("format_extents: fits or truncates safely") {
    char buf[64];
    CHECK(std::string(format_extents<3>({1, 22, 333}, buf, sizeof buf)) == "[1, 22, 333]");
    char small[5];
    CHECK(std::string(format_extents<3>({1, 22, 333}, small, sizeof small)).size() == 4);
}
