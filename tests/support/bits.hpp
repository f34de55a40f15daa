// Small helpers for tests that read committed reference data.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace sparq_test {

inline float f32(std::uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

template <std::size_t N>
std::vector<float> floats(const std::uint32_t (&bits)[N]) {
    std::vector<float> v(N);
    for (std::size_t i = 0; i < N; ++i) v[i] = f32(bits[i]);
    return v;
}

// Distance in units in the last place between two finite floats of the same sign region.
inline std::int64_t ulp_distance(float a, float b) {
    auto key = [](float f) {
        std::int32_t i;
        std::memcpy(&i, &f, sizeof i);
        return i < 0 ? std::int64_t(INT32_MIN) - i : std::int64_t(i);
    };
    const std::int64_t d = key(a) - key(b);
    return d < 0 ? -d : d;
}

}  // namespace sparq_test
