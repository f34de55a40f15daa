// Whether sample inputs [samples, features] can set int8 activation ranges. Refused only where
// the ranges would certainly be useless:
//   - a NaN or an infinity, named by row and feature: no range holds it (the observers would
//     fail later without saying where, or, skipping it, calibrate on the rest silently);
//   - every value of every row zero (+0 or -0): the input's range is [0, 0], whose scale is
//     eps (quant/scheme.hpp), so any real input value saturates to the end codes, +-127 x eps,
//     and every later range was set by a blank image (measured: the digits MLP falls to 10.8 %
//     and the CNN to 8.3 %, chance).
// Accepted, because calibration can still work:
//   - a feature that is the same (zero, say) in every row, as a padding pixel: activations are
//     quantized per tensor and the other features set the range;
//   - every row identical, one sample repeated: that is calibrating on one sample (as a one-row
//     set is), which gives narrower ranges but real ones (measured: one digit repeated 16 times
//     calibrates the digits MLP to 96.9 % and the CNN to 98.9 %, as the whole training set
//     does). There is no warning channel to say "weak" without refusing.
#pragma once

#include <cstdint>
#include <cstring>

#include "sparq/core/finite.hpp"
#include "sparq/core/status.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq::quant {

namespace detail {
// Whether every value of x is +0 or -0 (an OR of the magnitude bits, which vectorises).
inline bool all_zero(const matrix_view<const float>& x) noexcept {
    for (index_t r = 0; r < x.extent(0); ++r) {
        std::uint32_t any = 0;
        for (index_t c = 0; c < x.extent(1); ++c) {
            std::uint32_t b;
            const float v = x(r, c);
            std::memcpy(&b, &v, sizeof b);
            any |= b & 0x7fffffffu;
        }
        if (any != 0) return false;
    }
    return true;
}
}  // namespace detail

// Success, or why x cannot calibrate: "calibration row R, feature C is NaN: calibration needs
// finite inputs", or "the calibration inputs are all zero (N rows of F): ...".
inline status check_calibration_inputs(const matrix_view<const float>& x) noexcept {
    SPARQ_TRY(check_finite(x, "calibration", "calibration needs finite inputs"));
    if (x.extent(0) > 0 && detail::all_zero(x))
        return status(
            errc::invalid_argument,
            "the calibration inputs are all zero (%td rows of %td): activation ranges need real sample inputs",
            x.extent(0), x.extent(1));
    return status::success();
}

}  // namespace sparq::quant
