// requant_planes: the output stage of a convolution whose int32 sums are NCHW planes ([C, H * W]
// of one image): each channel's plane requantized to codes (or dequantized to floats) with that
// channel's parameters. The requantization runs along the plane in SIMD batches where the build
// has xsimd (xsimd/epilogue.hpp's requant_column, bit for bit the scalar stage); elsewhere, and for
// floats, the scalar stage walks the planes in memory order (output_stage.hpp).
#pragma once

#include <cstdint>
#include <type_traits>

#include "sparq/core/context.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"

namespace sparq::kernels {

// acc: channels planes of `plane` sums; y: the same layout in Out (int8_t / uint8_t codes, or float).
template <class Out>
status requant_planes(const context& ctx, const requant_stage& st, const std::int32_t* acc, index_t channels, index_t plane,
                      Out* y) noexcept {
    SPARQ_TRY(detail::check_stage(st, channels, "requant_planes"));
#if defined(SPARQ_MATMUL_XSIMD)
    if constexpr (!std::is_same_v<Out, float>) {
        if (detail::use_simd(ctx) && ctx.preferred != backend::scalar) {
            for (index_t c = 0; c < channels; ++c) xsimd::requant_column<::xsimd::default_arch, Out>(st, c, acc + c * plane, plane, y + c * plane);
            return status::success();
        }
    }
#endif
    (void)ctx;
    // [pixels, channels] with column stride 1: the scalar stages walk it column by column
    const matrix_view<const std::int32_t> sums(acc, {plane, channels}, {1, plane});
    const matrix_view<Out> out(y, {plane, channels}, {1, plane});
    if constexpr (std::is_same_v<Out, float>) return apply_dequant(st, sums, out);
    else return apply_requant(st, sums, out);
}

}  // namespace sparq::kernels
