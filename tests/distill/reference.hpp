// The PyTorch golden vectors of the distillation tests and a helper to read them.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>

#include "sparq/core/tensor.hpp"

namespace distill_test {
#include "data/distill_reference.inc"

// A [rows, cols] float tensor holding the given float32 bit patterns.
inline sparq::tensor<float, 2> from_bits(const std::uint32_t* bits, sparq::index_t rows, sparq::index_t cols) {
    auto t = sparq::tensor<float, 2>::make({rows, cols});
    REQUIRE(t.ok());
    std::memcpy(t->data(), bits, std::size_t(rows * cols) * 4);
    return std::move(*t);
}
}  // namespace distill_test
