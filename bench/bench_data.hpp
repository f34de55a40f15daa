// Reproducible benchmark inputs shared by the sparq_bench sources: uniform in [-1, 1) for
// floats; for integers, every code of the type, or [-127, 127] (`narrow`, symmetric int8 weights).
#pragma once

#include <cstddef>
#include <random>
#include <type_traits>
#include <vector>

namespace sparq_bench {

template <class T>
std::vector<T> random_values(long count, unsigned seed, bool narrow = false) {
    std::mt19937 rng(seed);
    std::vector<T> v(static_cast<std::size_t>(count));
    for (auto& x : v) {
        if constexpr (std::is_floating_point_v<T>) x = std::uniform_real_distribution<T>(-1, 1)(rng);
        else x = static_cast<T>(narrow ? int(rng() % 255) - 127 : int(rng() % 256) - 128);
    }
    return v;
}

}  // namespace sparq_bench
