#include <doctest/doctest.h>

#include <numeric>
#include <string>
#include <vector>

#include "sparq/core/tensor_view.hpp"

using namespace sparq;

namespace {
std::vector<int> iota(int n) {
    std::vector<int> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}
}  // namespace

TEST_CASE("tensor_view: row-major default, element access, const conversion") {
    auto buf = iota(24);
    tensor_view<int, 3> v(buf.data(), {2, 3, 4});
    CHECK(v.size() == 24);
    CHECK(v.strides() == extents_t<3>{12, 4, 1});
    CHECK(v(1, 2, 3) == 23);
    CHECK(v(0, 1, 2) == 6);
    CHECK(v[{1, 0, 1}] == 13);
    CHECK(v.is_contiguous());
    v(0, 0, 0) = 100;
    CHECK(buf[0] == 100);

    tensor_view<const int, 3> c = v;  // implicit, like int* -> const int*
    CHECK(c(1, 2, 3) == 23);
    CHECK(c.data() == v.data());
}

TEST_CASE("tensor_view::make checks the buffer, extents and strides") {
    auto buf = iota(12);
    auto ok = tensor_view<int, 2>::make(buf.data(), 12, {3, 4});
    REQUIRE(ok.ok());
    CHECK((*ok)(2, 3) == 11);

    auto too_big = tensor_view<int, 2>::make(buf.data(), 12, {4, 4});
    REQUIRE_FALSE(too_big.ok());
    CHECK(too_big.error().code() == errc::out_of_range);
    CHECK(std::string(too_big.error().message()) ==
          "view of shape [4, 4] reaches elements [0, 15] of a buffer of 12 elements");

    auto negative = tensor_view<int, 2>::make(buf.data(), 12, {-1, 4});
    CHECK(negative.error().code() == errc::invalid_argument);

    auto null = tensor_view<int, 1>::make(nullptr, 12, {3});
    CHECK(null.error().code() == errc::invalid_argument);
    CHECK(tensor_view<int, 1>::make(nullptr, 0, {0}).ok());  // empty view needs no data

    auto backwards = tensor_view<int, 1>::make(buf.data(), 12, {3}, {-1});
    CHECK(backwards.error().code() == errc::out_of_range);  // would read before the buffer

    alignas(4) unsigned char raw[64] = {};
    auto misaligned = tensor_view<int, 1>::make(reinterpret_cast<int*>(raw + 1), 8, {8});  // pointer only, never read
    CHECK(misaligned.error().code() == errc::misaligned);
    CHECK(std::string(misaligned.error().message()).find("not 4-byte aligned (off by 1)") != std::string::npos);

    const index_t big = index_t(1) << 32;
    CHECK(tensor_view<float, 3>::make(reinterpret_cast<float*>(buf.data()), 4, {2, big, big}).error().code() == errc::overflow);
    CHECK(tensor_view<float, 3>::make(reinterpret_cast<float*>(buf.data()), 4, {0, big << 8, big << 8}).error().code() ==
          errc::overflow);

    const index_t huge = index_t(1) << 62;
    auto overflow = tensor_view<int, 2>::make(buf.data(), 12, {4, 4}, {huge, huge});
    CHECK(overflow.error().code() == errc::overflow);
}

TEST_CASE("slice, select, row, transpose: views of the same memory") {
    auto buf = iota(24);
    tensor_view<int, 3> v(buf.data(), {2, 3, 4});

    auto s = v.slice(2, 1, 3);  // columns 1..2
    CHECK(s.extents() == extents_t<3>{2, 3, 2});
    CHECK(s(1, 2, 0) == 21);
    CHECK_FALSE(s.is_contiguous());

    auto stepped = v.slice(2, 0, 4, 3);  // columns 0 and 3
    CHECK(stepped.extent(2) == 2);
    CHECK(stepped(0, 0, 1) == 3);

    auto odd = v.slice(2, 1, 4, 2);  // columns 1 and 3
    CHECK(odd.extent(2) == 2);
    CHECK(odd(1, 1, 1) == 19);

    auto m = v.select(0, 1);  // the second 3x4 matrix
    CHECK(m.extents() == extents_t<2>{3, 4});
    CHECK(m(0, 0) == 12);
    CHECK(m.is_contiguous());
    auto col = m.select(1, 2);  // column 2 of it
    CHECK(col.extent(0) == 3);
    CHECK(col.stride(0) == 4);
    CHECK(col(2) == 22);
    CHECK(m.row(2)(3) == 23);

    auto t = m.transpose(0, 1);
    CHECK(t.extents() == extents_t<2>{4, 3});
    CHECK(t(3, 2) == m(2, 3));
    CHECK_FALSE(t.is_contiguous());

    auto empty = v.slice(1, 2, 2);
    CHECK(empty.empty());
    CHECK(empty.is_contiguous());
    CHECK(empty.select(0, 1).empty());  // selecting in an empty view moves no pointer

    auto one = v.slice(2, 0, 4, index_t(1) << 40);  // a huge step: one element, no overflow
    CHECK(one.extent(2) == 1);
    CHECK(one(1, 2, 0) == 20);
}

TEST_CASE("is_contiguous ignores strides of extent-1 dimensions") {
    int x[4] = {1, 2, 3, 4};
    tensor_view<int, 2> v(x, {1, 4}, {999, 1});
    CHECK(v.is_contiguous());
    tensor_view<int, 2> gap(x, {2, 1}, {2, 1});
    CHECK_FALSE(gap.is_contiguous());
}

TEST_CASE("reshape: only contiguous views, same element count") {
    auto buf = iota(24);
    tensor_view<int, 3> v(buf.data(), {2, 3, 4});
    auto r = v.reshape<2>({6, 4});
    REQUIRE(r.ok());
    CHECK((*r)(5, 3) == 23);
    auto wrong = v.reshape<2>({5, 5});
    REQUIRE_FALSE(wrong.ok());
    CHECK(std::string(wrong.error().message()) == "cannot reshape [2, 3, 4] (24 elements) to [5, 5] (25 elements)");
    CHECK(v.transpose(0, 2).reshape<1>({24}).error().code() == errc::invalid_argument);
}

TEST_CASE("check_same_shape and check_aligned name the problem") {
    int a[6] = {}, b[6] = {};
    tensor_view<int, 2> x(a, {2, 3}), y(b, {3, 2});
    auto s = check_same_shape(x, y, "add");
    CHECK(s.code() == errc::shape_mismatch);
    CHECK(std::string(s.message()) == "add: shapes [2, 3] and [3, 2] differ");
    CHECK(check_same_shape(x, x, "add").ok());

    alignas(64) unsigned char bytes[128];
    CHECK(check_aligned(bytes, 64, "load").ok());
    auto mis = check_aligned(bytes + 4, 64, "aligned load");
    CHECK(mis.code() == errc::misaligned);
    CHECK(std::string(mis.message()).find("not 64-byte aligned (off by 4)") != std::string::npos);
}
