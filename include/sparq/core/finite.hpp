// Finding the first NaN or infinity in a matrix of rows (samples x features), and a status that
// names it by row and column. int8 quantization has no code for NaN (it becomes the zero point,
// i.e. 0.0) and clamps infinities to the end codes: plausible numbers from bad data. Whoever
// quantizes data a user gave checks it with this first (nn/compiled_model.hpp,
// quant/calibration_inputs.hpp).
//
// The scan is one pass of integer max over the bit patterns (|x| as bits >= 0x7f800000 exactly
// for NaN and +-Inf), which compilers vectorise (no float compare, no early exit in the hot
// loop); only a block that holds a bad value is scanned again to find the first one.
#pragma once

#include <cstdint>
#include <cstring>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq {

// Where a matrix's first non-finite value is (row-major order), and what it is.
struct nonfinite_at {
    index_t row = -1;  // -1: every value is finite
    index_t col = -1;
    float value = 0.0f;
    constexpr bool found() const noexcept { return row >= 0; }
};

namespace detail {
// The largest |x| bit pattern of n contiguous floats: >= 0x7f800000 iff one is NaN or +-Inf.
inline std::uint32_t max_magnitude_bits(const float* p, index_t n) noexcept {
    std::uint32_t worst = 0;
    for (index_t i = 0; i < n; ++i) {
        std::uint32_t b;
        std::memcpy(&b, p + i, sizeof b);
        b &= 0x7fffffffu;
        worst = b > worst ? b : worst;
    }
    return worst;
}
inline bool is_nonfinite(float v) noexcept {
    std::uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    return (b & 0x7fffffffu) >= 0x7f800000u;
}
}  // namespace detail

// "NaN", "+Inf" or "-Inf" (for messages; a finite value gives "finite").
inline const char* nonfinite_name(float v) noexcept {
    if (!detail::is_nonfinite(v)) return "finite";
    return v != v ? "NaN" : v > 0.0f ? "+Inf" : "-Inf";
}

inline nonfinite_at find_nonfinite(const matrix_view<const float>& x) noexcept {
    const index_t rows = x.extent(0), cols = x.extent(1);
    if (rows == 0 || cols == 0) return {};
    if (x.stride(1) != 1) {  // strided columns (no model input is): element by element
        for (index_t r = 0; r < rows; ++r)
            for (index_t c = 0; c < cols; ++c)
                if (detail::is_nonfinite(x(r, c))) return {r, c, x(r, c)};
        return {};
    }
    // Rows back to back are scanned as one run, in blocks: short rows (a digit is 64 pixels)
    // would spend more on a reduction per row than on the row.
    const bool flat = x.stride(0) == cols;
    const index_t runs = flat ? 1 : rows, length = flat ? rows * cols : cols;
    constexpr index_t block = 4096;
    for (index_t r = 0; r < runs; ++r) {
        const float* p = x.data() + r * x.stride(0);
        for (index_t b = 0; b < length; b += block) {
            const index_t n = length - b < block ? length - b : block;
            if (detail::max_magnitude_bits(p + b, n) < 0x7f800000u) continue;
            for (index_t i = b; i < b + n; ++i)
                if (detail::is_nonfinite(p[i]))
                    return flat ? nonfinite_at{i / cols, i % cols, p[i]} : nonfinite_at{r, i, p[i]};
        }
    }
    return {};
}

// Success, or "WHAT row R, feature C is NaN: WHY" (invalid_argument) for x's first NaN or Inf.
inline status check_finite(const matrix_view<const float>& x, const char* what, const char* why) noexcept {
    const nonfinite_at at = find_nonfinite(x);
    if (!at.found()) return status::success();
    return status(errc::invalid_argument, "%s row %td, feature %td is %s: %s", what, at.row, at.col,
                  nonfinite_name(at.value), why);
}

}  // namespace sparq
