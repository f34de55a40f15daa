// Rounding float to integer the two ways the ecosystem does it. Explicit arithmetic, not
// std::nearbyint, so the result never depends on the floating-point environment (a firmware
// start-up or another library may have changed the rounding mode).
#pragma once

#include <cmath>
#include <cstdint>

namespace sparq::quant {

enum class rounding : std::uint8_t {
    half_to_even,         // PyTorch, numpy, oneDNN: 2.5 -> 2, 3.5 -> 4 (the default)
    half_away_from_zero,  // TFLite reference kernels, ncnn, llama.cpp: 2.5 -> 3, -2.5 -> -3
};

// How x reaches the integer grid before rounding. PyTorch, FBGEMM, ncnn and llama.cpp
// multiply by a precomputed 1 / scale; TFLite's reference kernels divide by scale. The two
// differ in the last bit for some x, and then on a tie: bit-exact ports need the right one.
enum class scaling : std::uint8_t {
    multiply_inverse,  // x * (1 / scale) (the default)
    divide,            // x / scale (TFLite, with rounding::half_away_from_zero)
};

// x rounded to an integral float. Exact for every float: on |x|, floor and the fraction are
// exact (|x| - floor(|x|) is, x - floor(x) is not for small negative x); values >= 2^23 are
// integral already; the sign is put back last (so -0.3 rounds to -0).
inline float round_integral(float x, rounding mode = rounding::half_to_even) noexcept {
    const float a = std::fabs(x);
    if (!(a < 8388608.0f)) return x;  // integral already, or NaN / Inf
    const float f = std::floor(a);
    const float d = a - f;
    float r = f;
    if (d > 0.5f) r = f + 1.0f;
    else if (d == 0.5f) r = mode == rounding::half_away_from_zero || std::fmod(f, 2.0f) != 0.0f ? f + 1.0f : f;
    return std::copysign(r, x);
}

}  // namespace sparq::quant
