// The int4 weight-only matmul's two inner loops with xsimd: decoding a run of int4 codes that
// share one (scale, zero point) into floats (nibbles unpacked to int32 lanes by the per-arch
// load_nibbles, then (code - zero point) * scale: the scalar formula, so the same floats), and
// the float dot product of an activation row with the decoded weights (4 batches of FMA
// accumulators, reduced once). Only the dot product's summation order differs from the scalar
// reference's.
#pragma once

#include "sparq/core/config.hpp"

#include <cstdint>
#include "sparq/core/xsimd.hpp"

#include "sparq/core/shape.hpp"
#include "sparq/kernels/xsimd/arch/generic.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx2.hpp"
#include "sparq/kernels/xsimd/arch/x86_avx512.hpp"

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::xsimd {

// out[j] = (code(k + j) - zero_point) * scale for j in [0, len); codes two per byte of `row`,
// element 2i in the low nibble of byte i. Reads only the bytes holding k .. k + len - 1.
template <class A>
void decode_int4(const std::uint8_t* row, index_t k, index_t len, float scale, float zero_point, float* out) noexcept {
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t L = index_t(fb::size);  // even on every architecture
    const auto code = [row](index_t i) {
        const int nibble = (i % 2 ? row[i / 2] >> 4 : row[i / 2]) & 0xF;
        return nibble >= 8 ? nibble - 16 : nibble;
    };
    index_t j = 0;
    if (k % 2 != 0 && len > 0) {  // start on a byte boundary
        out[0] = (float(code(k)) - zero_point) * scale;
        j = 1;
    }
    const fb zp(zero_point), s(scale);
    for (; j + L <= len; j += L) {
        const fb codes = ::xsimd::batch_cast<float>(detail::load_nibbles<A>(row + (k + j) / 2, A{}));
        ((codes - zp) * s).store_unaligned(out + j);
    }
    for (; j < len; ++j) out[j] = (float(code(k + j)) - zero_point) * scale;
}

// sum_j x[j] * w[j]: lane-wise FMA into 4 batches, the batches added, one horizontal sum, then
// the scalar tail (len % L) in order.
template <class A>
float dot(const float* x, const float* w, index_t len) noexcept {
    using fb = ::xsimd::batch<float, A>;
    constexpr index_t L = index_t(fb::size);
    fb acc0(0.0f), acc1(0.0f), acc2(0.0f), acc3(0.0f);
    index_t j = 0;
    for (; j + 4 * L <= len; j += 4 * L) {
        acc0 = detail::fmadd<A>(fb::load_unaligned(x + j), fb::load_unaligned(w + j), acc0, A{});
        acc1 = detail::fmadd<A>(fb::load_unaligned(x + j + L), fb::load_unaligned(w + j + L), acc1, A{});
        acc2 = detail::fmadd<A>(fb::load_unaligned(x + j + 2 * L), fb::load_unaligned(w + j + 2 * L), acc2, A{});
        acc3 = detail::fmadd<A>(fb::load_unaligned(x + j + 3 * L), fb::load_unaligned(w + j + 3 * L), acc3, A{});
    }
    for (; j + L <= len; j += L) acc0 = detail::fmadd<A>(fb::load_unaligned(x + j), fb::load_unaligned(w + j), acc0, A{});
    float sum = ::xsimd::hadd((acc0 + acc1) + (acc2 + acc3));
    for (; j < len; ++j) sum += x[j] * w[j];
    return sum;
}

}  // namespace sparq::kernels::xsimd

SPARQ_INTRINSICS_END
