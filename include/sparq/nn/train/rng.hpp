// The random numbers of training (initialisation, shuffles): splitmix64 with its own uniform,
// bounded-integer and shuffle draws, so that a seed gives the same model on every compiler and
// standard library (std::uniform_real_distribution and std::shuffle are implementation-defined).
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/core/shape.hpp"

namespace sparq::nn::train {

class rng {
public:
    explicit rng(std::uint64_t seed = 0) noexcept : state_(seed) {}

    std::uint64_t next() noexcept {  // splitmix64 (Steele, Lea, Flood 2014)
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() noexcept { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
    // Uniform in [lo, hi).
    double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
    // Uniform in [0, n), n >= 1, without modulo bias (rejection of the short last interval).
    std::uint64_t below(std::uint64_t n) noexcept {
        const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
        std::uint64_t v = next();
        while (v >= limit) v = next();
        return v % n;
    }
    // Fisher-Yates, from the last element down.
    void shuffle(std::vector<index_t>& v) noexcept {
        for (std::size_t i = v.size(); i > 1; --i) {
            const std::size_t j = std::size_t(below(i));
            const index_t t = v[i - 1];
            v[i - 1] = v[j];
            v[j] = t;
        }
    }

private:
    std::uint64_t state_;
};

}  // namespace sparq::nn::train
