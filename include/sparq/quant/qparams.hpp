// qparams: how real numbers map to integers. x ~= scale * (q - zero_point), q in [qmin, qmax].
// One (scale, zero point) pair per tensor, per channel (any axis), or per group of
// `group_size` consecutive elements along the last (reduction) axis of a weight matrix.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparq/core/dtype.hpp"
#include "sparq/core/shape.hpp"
#include "sparq/core/status.hpp"
#include "sparq/quant/rounding.hpp"

namespace sparq::quant {

enum class granularity : std::uint8_t { per_tensor, per_channel, per_group };

constexpr const char* to_string(granularity g) noexcept {
    switch (g) {
        case granularity::per_tensor: return "per-tensor";
        case granularity::per_channel: return "per-channel";
        case granularity::per_group: return "per-group";
    }
    return "?";
}

// The integer range of a quantized type. `narrow` drops the most negative value of a signed
// type so the range is symmetric: [-127, 127] for int8 (TFLite / oneDNN weights), [-7, 7] for
// int4; the full ranges are [-128, 127] and [-8, 7] (PyTorch's default).
struct qrange {
    std::int32_t qmin;
    std::int32_t qmax;
};

constexpr qrange range_of(dtype t, bool narrow = false) noexcept {
    switch (t) {
        case dtype::s8: return {narrow ? -127 : -128, 127};
        case dtype::u8: return {0, 255};
        case dtype::s4: return {narrow ? -7 : -8, 7};
        default: return {0, 0};
    }
}

constexpr bool is_quantized(dtype t) noexcept { return t == dtype::s8 || t == dtype::u8 || t == dtype::s4; }

struct qparams {
    dtype type = dtype::s8;
    granularity gran = granularity::per_tensor;
    int axis = -1;            // per_channel: the channel axis; per_group: the grouped (last) axis
    index_t group_size = 0;   // per_group: elements per group along `axis`
    std::int32_t qmin = -128;
    std::int32_t qmax = 127;
    rounding round = rounding::half_to_even;
    scaling scale_by = scaling::multiply_inverse;
    std::vector<float> scale;              // one per tensor / channel / group, row-major over groups
    std::vector<std::int32_t> zero_point;  // same count as scale

    index_t count() const noexcept { return static_cast<index_t>(scale.size()); }

    // Internal consistency: a range inside the dtype, one zero point per scale, every scale
    // finite and > 0, every zero point inside [qmin, qmax].
    status validate() const noexcept {
        if (!is_quantized(type))
            return status(errc::dtype_mismatch, "qparams: dtype %s is not a quantized type (s8, u8, s4)", to_string(type));
        const qrange full = range_of(type);
        if (qmin < full.qmin || qmax > full.qmax || qmin >= qmax)
            return status(errc::invalid_argument, "qparams: range [%d, %d] is empty or outside %s's [%d, %d]", qmin,
                          qmax, to_string(type), full.qmin, full.qmax);
        if (scale.empty()) return status(errc::invalid_argument, "qparams: no scale");
        if (zero_point.size() != scale.size())
            return status(errc::shape_mismatch, "qparams: %zu scales but %zu zero points", scale.size(),
                          zero_point.size());
        for (std::size_t i = 0; i < scale.size(); ++i) {
            if (!(scale[i] > 0.0f) || !std::isfinite(scale[i]) || !std::isfinite(1.0f / scale[i]))
                return status(errc::invalid_argument,
                              "qparams: scale %zu is %g; scales must be finite, > 0, with a finite reciprocal", i,
                              double(scale[i]));
            if (zero_point[i] < qmin || zero_point[i] > qmax)
                return status(errc::invalid_argument, "qparams: zero point %zu is %d, outside [%d, %d]", i,
                              zero_point[i], qmin, qmax);
        }
        if (gran == granularity::per_tensor && scale.size() != 1)
            return status(errc::shape_mismatch, "qparams: per-tensor with %zu scales", scale.size());
        if (gran == granularity::per_group && group_size <= 0)
            return status(errc::invalid_argument, "qparams: per-group with group size %td", group_size);
        return status::success();
    }

    // Whether these qparams fit a tensor of the given extents (and are valid at all).
    template <std::size_t Rank>
    status check_for(const extents_t<Rank>& e) const noexcept {
        SPARQ_TRY(validate());
        char shape[128];
        switch (gran) {
            case granularity::per_tensor: return status::success();
            case granularity::per_channel:
                if (axis < 0 || axis >= int(Rank))
                    return status(errc::invalid_argument, "qparams: channel axis %d for a tensor of shape %s", axis,
                                  format_extents(e, shape, sizeof shape));
                if (count() != e[std::size_t(axis)])
                    return status(errc::shape_mismatch, "qparams: %td scales for %td channels on axis %d of %s",
                                  count(), e[std::size_t(axis)], axis, format_extents(e, shape, sizeof shape));
                return status::success();
            case granularity::per_group: {
                if (Rank != 2 || axis != 1)
                    return status(errc::invalid_argument,
                                  "qparams: per-group needs a [N, K] matrix grouped along axis 1 (got axis %d, shape %s)",
                                  axis, format_extents(e, shape, sizeof shape));
                const index_t groups = e[0] * groups_per_row(e[Rank - 1]);
                if (count() != groups)
                    return status(errc::shape_mismatch, "qparams: %td scales for %td groups of %td in %s", count(),
                                  groups, group_size, format_extents(e, shape, sizeof shape));
                return status::success();
            }
        }
        return status::success();
    }

    // Groups in a row of `k` elements (the last one may be partial).
    index_t groups_per_row(index_t k) const noexcept { return group_size > 0 ? (k + group_size - 1) / group_size : 0; }
};

// Builders for the common cases; scales and zero points filled by the caller or an observer.
inline qparams make_per_tensor(dtype t, float scale, std::int32_t zero_point, bool narrow = false,
                               rounding r = rounding::half_to_even) {
    const qrange q = range_of(t, narrow);
    return qparams{t, granularity::per_tensor, -1, 0, q.qmin, q.qmax, r, scaling::multiply_inverse, {scale}, {zero_point}};
}

// TFLite's reference arithmetic (x / scale, rounded half away from zero), for bit-exact ports
// of TFLite models; PyTorch's (x * (1 / scale), half to even) is the default.
inline qparams& use_tflite_arithmetic(qparams& p) noexcept {
    p.round = rounding::half_away_from_zero;
    p.scale_by = scaling::divide;
    return p;
}

}  // namespace sparq::quant
