#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "sparq/core/tensor.hpp"

using namespace sparq;

TEST_CASE("tensor: zero-filled, 64-byte aligned, row-major view") {
    auto t = tensor<float, 2>::make({3, 5});
    REQUIRE(t.ok());
    CHECK(t->size() == 15);
    CHECK(reinterpret_cast<std::uintptr_t>(t->data()) % 64 == 0);
    for (index_t i = 0; i < 15; ++i) CHECK(t->data()[i] == 0.0f);
    (*t)(2, 4) = 7.0f;
    CHECK(t->view()(2, 4) == 7.0f);
    CHECK(t->data()[14] == 7.0f);
    CHECK(t->view().is_contiguous());
}

TEST_CASE("tensor::make rejects bad shapes with a status") {
    auto neg = tensor<float, 2>::make({-2, 3});
    CHECK(neg.error().code() == errc::invalid_argument);

    const index_t big = index_t(1) << 62;
    auto ovf = tensor<float, 2>::make({big, 4});  // count fits, bytes do not
    CHECK(ovf.error().code() == errc::overflow);
    CHECK(tensor<float, 3>::make({0, index_t(1) << 40, index_t(1) << 40}).error().code() == errc::overflow);

    auto limited = tensor<float, 1>::make({1000}, 100);
    REQUIRE_FALSE(limited.ok());
    CHECK(limited.error().code() == errc::out_of_memory);
    CHECK(std::string(limited.error().message()) ==
          "tensor of shape [1000] needs 4000 bytes, more than the limit of 100");

    auto empty = tensor<float, 2>::make({0, 7});
    REQUIRE(empty.ok());
    CHECK(empty->empty());
    CHECK(empty->data() == nullptr);
}

TEST_CASE("tensor: move-only, clone and copy_of strided views") {
    auto t = tensor<int, 2>::make({2, 3});
    REQUIRE(t.ok());
    for (index_t i = 0; i < 6; ++i) t->data()[i] = int(i);
    tensor<int, 2> moved = std::move(*t);
    CHECK(moved(1, 2) == 5);
    CHECK(t->empty());  // the moved-from tensor is empty, not a shape without memory
    CHECK(t->extents() == extents_t<2>{0, 0});
    t->fill(1);         // and safe to use

    auto c = moved.clone();
    REQUIRE(c.ok());
    CHECK(c->data() != moved.data());
    CHECK((*c)(1, 1) == 4);

    auto tr = tensor<int, 2>::copy_of(moved.view().transpose(0, 1));
    REQUIRE(tr.ok());
    CHECK(tr->extents() == extents_t<2>{3, 2});
    CHECK((*tr)(2, 1) == 5);
    CHECK((*tr)(0, 1) == 3);

    auto widened = tensor<double, 1>::copy_of(moved.view().row(1));
    REQUIRE(widened.ok());
    CHECK((*widened)(2) == 5.0);
}
