// copy_short / fill_short: n values copied or set where n is usually a handful (im2col's taps of
// a 1- or 8-channel image: 1 to 24 bytes). std::copy_n of a run-time count is a call to memmove,
// whose dispatch costs more than such a copy (im2col and memmove were 41 % of the int8 digits
// CNN); up to 256 bytes it is whole and masked loads and stores on AVX-512BW, nothing past n touched
// (the ranges must not overlap).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "sparq/core/config.hpp"
#include "sparq/core/shape.hpp"

#if defined(__AVX512BW__)
#include <immintrin.h>
#endif

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::kernels::detail {

template <class X>
SPARQ_ALWAYS_INLINE void copy_short(const X* src, index_t n, X* dst) noexcept {
    static_assert(std::is_trivially_copyable_v<X>, "copy_short copies bytes");
#if defined(__AVX512BW__)
    std::size_t bytes = std::size_t(n) * sizeof(X);
    // up to 256 bytes (float taps of 8 channels, 3 wide: 96 bytes), whole vectors then a masked one
    if (bytes <= 256) {
        const auto* s = reinterpret_cast<const char*>(src);
        auto* d = reinterpret_cast<char*>(dst);
        for (; bytes > 64; bytes -= 64, s += 64, d += 64) _mm512_storeu_si512(d, _mm512_loadu_si512(s));
        const __mmask64 m = bytes == 64 ? ~__mmask64(0) : (__mmask64(1) << bytes) - 1;
        _mm512_mask_storeu_epi8(d, m, _mm512_maskz_loadu_epi8(m, s));
        return;
    }
#endif
    std::copy_n(src, n, dst);
}

template <class X>
SPARQ_ALWAYS_INLINE void fill_short(X* dst, index_t n, X v) noexcept {
#if defined(__AVX512BW__)
    if constexpr (sizeof(X) == 1) {
        if (n <= 64) {
            const __mmask64 m = n == 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1;
            _mm512_mask_storeu_epi8(dst, m, _mm512_set1_epi8(static_cast<char>(v)));
            return;
        }
    }
#endif
    std::fill_n(dst, n, v);
}

}  // namespace sparq::kernels::detail

SPARQ_INTRINSICS_END
