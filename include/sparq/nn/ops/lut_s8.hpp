// A unary op on int8 codes through a 256-entry table (XNNPACK's and TFLite's int8 sigmoid,
// tanh, SiLU, hard-swish...): with one code in and one code out there are only 256 possible
// results, so each is worked out once, at compile time, by the scalar reference
//   code_out = quantize(f(dequantize(code_in)))      (kernels/scalar/quantize.hpp, ops::unary_value)
// and a run only looks them up. The table is the definition, so every path (the scalar loop
// here, the AVX-512 VBMI byte permutes) gives the same codes in every build; what it cannot do
// is differ from the reference by more than the input's and output's rounding, which the
// int8 model's tolerance already covers.
#pragma once

#include <array>
#include <cstdint>

#include "sparq/core/config.hpp"
#include "sparq/core/context.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/scalar/quantize.hpp"
#include "sparq/nn/op.hpp"
#include "sparq/nn/ops/elementwise.hpp"

#if defined(__AVX512VBMI__) && defined(__AVX512BW__)
#include <immintrin.h>
#endif

SPARQ_INTRINSICS_BEGIN  // GCC 12's AVX-512 false positives (config.hpp)

namespace sparq::nn::ops {

// The unary ops a table can stand for: a function of one value, finite for finite input
// (exp and sqrt are not: a table of theirs would hold the saturated ends of overflow and NaN).
constexpr bool has_lut(op k) noexcept {
    return k == op::sigmoid || k == op::tanh || k == op::gelu || k == op::silu || k == op::hard_sigmoid || k == op::hard_swish ||
           k == op::leaky_relu || k == op::clip || k == op::erf || k == op::neg;
}

// codes[std::uint8_t(c)]: the output code of input code c.
struct lut_s8 {
    std::array<std::int8_t, 256> codes{};
};

// The table of f = `kind` (with its parameters) from the input's codes to the output's, each
// value's quantization step as its qparams give it (kernels::step_of, fw::step_of).
inline lut_s8 make_lut_s8(op kind, const op_params& p, const kernels::scalar::quant_step& in, const kernels::scalar::quant_step& out) noexcept {
    lut_s8 t;
    for (int c = -128; c <= 127; ++c)
        t.codes[std::uint8_t(c)] = std::int8_t(kernels::scalar::quantize_value(unary_value(kind, p, kernels::scalar::dequantize_value(c, in)), out));
    return t;
}

namespace detail {

inline void lut_scalar(const lut_s8& t, const std::int8_t* x, std::int8_t* y, index_t n) noexcept {
    for (index_t i = 0; i < n; ++i) y[i] = t.codes[std::uint8_t(x[i])];
}

#if defined(__AVX512VBMI__) && defined(__AVX512BW__)
// 64 codes an instruction pair: vpermi2b looks up 128 entries by an index's low 7 bits, so
// the table's halves are looked up separately and the index's top bit picks between them.
inline void lut_avx512vbmi(const lut_s8& t, const std::int8_t* x, std::int8_t* y, index_t n) noexcept {
    const __m512i t0 = _mm512_loadu_si512(t.codes.data()), t1 = _mm512_loadu_si512(t.codes.data() + 64);
    const __m512i t2 = _mm512_loadu_si512(t.codes.data() + 128), t3 = _mm512_loadu_si512(t.codes.data() + 192);
    const auto look = [&](__m512i idx) {
        const __m512i low = _mm512_permutex2var_epi8(t0, idx, t1), high = _mm512_permutex2var_epi8(t2, idx, t3);
        return _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), low, high);
    };
    index_t i = 0;
    for (; i + 64 <= n; i += 64) _mm512_storeu_si512(y + i, look(_mm512_loadu_si512(x + i)));
    if (i < n) {
        const __mmask64 m = (~__mmask64(0)) >> (64 - (n - i));
        _mm512_mask_storeu_epi8(y + i, m, look(_mm512_maskz_loadu_epi8(m, x + i)));
    }
}
#endif

}  // namespace detail

// y[i] = t.codes[x[i]] for n codes (x and y may be the same array).
inline void apply_lut_s8(const context& ctx, const lut_s8& t, const std::int8_t* x, std::int8_t* y, index_t n) noexcept {
#if defined(__AVX512VBMI__) && defined(__AVX512BW__)
    if (ctx.preferred != backend::scalar) detail::lut_avx512vbmi(t, x, y, n);
    else detail::lut_scalar(t, x, y, n);
#else
    detail::lut_scalar(t, x, y, n);
#endif
    energy::count_elementwise(ctx.energy, dtype::s8, dtype::s8, std::uint64_t(n));
}

}  // namespace sparq::nn::ops

SPARQ_INTRINSICS_END
