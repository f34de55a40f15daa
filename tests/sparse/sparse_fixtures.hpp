// Random weights and masks shared by the sparse suites.
#pragma once

#include <cstdint>
#include <random>
#include <limits>
#include <type_traits>

#include <doctest/doctest.h>

#include "sparq/core/tensor.hpp"
#include "sparq/prune/mask.hpp"

namespace sparq::test_sparse {

// Floats in [-1, 1), or int8 over the whole range with -128 present (the extreme value).
template <class T>
tensor<T, 2> random_matrix(index_t r, index_t c, std::mt19937& rng) {
    auto t = tensor<T, 2>::make({r, c});
    REQUIRE(t.ok());
    for (index_t i = 0; i < t->size(); ++i) {
        if constexpr (std::is_floating_point_v<T>) t->data()[i] = std::uniform_real_distribution<T>(-1, 1)(rng);
        else t->data()[i] = static_cast<T>(i % 7 == 0 ? std::numeric_limits<T>::min() : T(int(rng() % 256) + std::numeric_limits<T>::min()));
    }
    return std::move(*t);
}

// Each position kept with probability 1 - s.
template <class T>
prune::mask<2> random_mask(const tensor<T, 2>& w, double s, unsigned seed = 9) {
    std::mt19937 rng(seed);
    auto m = prune::mask<2>::make(w.extents());
    REQUIRE(m.ok());
    std::uniform_real_distribution<double> d(0, 1);
    for (index_t i = 0; i < m->size(); ++i) m->data()[i] = std::uint8_t(d(rng) >= s);
    return std::move(*m);
}

}  // namespace sparq::test_sparse
