// qscheme: what a calibration should produce (type, symmetric or affine, range, granularity),
// and choose_qparams: the (scale, zero point) for an observed [min, max], with PyTorch's
// arithmetic (torch.ao.quantization's _calculate_qparams, float32) so results agree exactly.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "sparq/core/status.hpp"
#include "sparq/quant/qparams.hpp"
#include "sparq/quant/rounding.hpp"

namespace sparq::quant {

struct qscheme {
    dtype type = dtype::u8;
    bool symmetric = false;  // zero point fixed (0 for signed types, the middle for u8)
    bool narrow = false;     // signed types without their most negative value ([-127, 127])
    rounding round = rounding::half_to_even;
    scaling scale_by = scaling::multiply_inverse;
    granularity gran = granularity::per_tensor;
    int axis = -1;            // channel axis (per_channel) or grouped axis (per_group: 1)
    index_t group_size = 0;   // per_group
    float eps = FLT_EPSILON;  // smallest scale: an all-zero range gets this, never 0 or infinity

    qrange range() const noexcept { return range_of(type, narrow); }

    // The common schemes, by name.
    static qscheme weights_s8_per_channel(int axis = 0) noexcept {
        qscheme s;
        s.type = dtype::s8, s.symmetric = true, s.narrow = true, s.gran = granularity::per_channel, s.axis = axis;
        return s;
    }
    static qscheme activations_u8() noexcept { return qscheme{}; }
    static qscheme activations_s8() noexcept {
        qscheme s;
        s.type = dtype::s8;
        return s;
    }
    static qscheme weights_s4_per_group(index_t group_size) noexcept {
        qscheme s;
        s.type = dtype::s4, s.symmetric = true, s.gran = granularity::per_group, s.axis = 1, s.group_size = group_size;
        return s;
    }
};

// Scale and zero point for the range [min_v, max_v] (widened to include 0, as every runtime
// does so that 0.0 is exact). Symmetric: scale = max|.| / ((qmax - qmin) / 2); affine:
// scale = (max - min) / (qmax - qmin), zero point = qmin - round(min / scale), clamped. A scale
// below eps becomes eps (an all-zero channel quantizes to its zero point; ncnn's infinite
// scales there are the failure this avoids). Non-finite bounds are an error.
inline status choose_qparams(float min_v, float max_v, const qscheme& s, float& scale, std::int32_t& zero_point) noexcept {
    if (!std::isfinite(min_v) || !std::isfinite(max_v))
        return status(errc::invalid_argument, "choose_qparams: range [%g, %g] is not finite", double(min_v), double(max_v));
    if (min_v > max_v)
        return status(errc::invalid_argument, "choose_qparams: min %g > max %g", double(min_v), double(max_v));
    const qrange r = s.range();
    const float min_neg = min_v < 0.0f ? min_v : 0.0f;
    const float max_pos = max_v > 0.0f ? max_v : 0.0f;
    if (s.symmetric) {
        const float amax = -min_neg > max_pos ? -min_neg : max_pos;
        scale = amax / (float(r.qmax - r.qmin) / 2.0f);
        if (!(scale >= s.eps)) scale = s.eps;
        const bool full_u8 = s.type == dtype::u8 && r.qmin == 0 && r.qmax == 255;
        zero_point = s.type == dtype::u8 ? (full_u8 ? 128 : (r.qmin + r.qmax) / 2) : 0;
    } else {
        scale = (max_pos - min_neg) / float(r.qmax - r.qmin);
        if (!(scale >= s.eps)) scale = s.eps;
        const float z = float(r.qmin) - round_integral(min_neg / scale, rounding::half_to_even);
        zero_point = z < float(r.qmin) ? r.qmin : (z > float(r.qmax) ? r.qmax : std::int32_t(z));
    }
    if (!std::isfinite(scale))
        return status(errc::overflow, "choose_qparams: range [%g, %g] gives a non-finite scale", double(min_v),
                      double(max_v));
    return status::success();
}

// qparams of the scheme's shape with room for `count` scales (filled by an observer).
inline qparams empty_qparams(const qscheme& s, index_t count) {
    const qrange r = s.range();
    qparams p;
    p.type = s.type, p.gran = s.gran, p.axis = s.axis, p.group_size = s.group_size;
    p.qmin = r.qmin, p.qmax = r.qmax, p.round = s.round, p.scale_by = s.scale_by;
    p.scale.assign(static_cast<std::size_t>(count), 1.0f);
    p.zero_point.assign(static_cast<std::size_t>(count), 0);
    return p;
}

}  // namespace sparq::quant
