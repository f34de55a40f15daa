// Whether sample inputs [samples, features] can set int8 activation ranges. Refused:
//   - a NaN or an infinity, named by row and feature: no range holds it (the observers would
//     fail later without saying where, or, skipping it, calibrate on the rest silently).
#pragma once

#include "sparq/core/finite.hpp"
#include "sparq/core/status.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq::quant {

// Success, or why x cannot calibrate: "calibration row R, feature C is NaN: calibration needs
// finite inputs".
inline status check_calibration_inputs(const matrix_view<const float>& x) noexcept {
    SPARQ_TRY(check_finite(x, "calibration", "calibration needs finite inputs"));
    return status::success();
}

}  // namespace sparq::quant
