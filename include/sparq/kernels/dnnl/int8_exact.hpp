// When oneDNN 2.6's int8 (s8 x s8 -> s32) gives the exact sums: decided once per weight set,
// at make() time, from the ISA oneDNN dispatches to and the weights alone (the activations can
// be any s8). Measured against the scalar reference on every ISA oneDNN can be capped to
// (ONEDNN_MAX_CPU_ISA; docs/kernels.md has the numbers):
//  - Without VNNI / AMX (sse41, avx, avx2, avx512_core) products go through vpmaddubsw, which
//    adds two u8 x s8 products in saturating int16. The matmul (gemm:jit) shifts the s8
//    activations to u8 (0..255), so |w| <= 64 keeps a pair within 2 * 255 * 64 = 32640 <= 32767;
//    the convolutions halve the weights when they reorder them (and double the sums in float),
//    so an odd weight loses its low bit: exact for even weights only (any even s8 halves into
//    [-64, 63]).
//  - avx512_core without VNNI: the matmul with a single output column (N = 1) gives wrong sums
//    for any weights once M >= 2 (a oneDNN 2.6 defect: 16256 came out 510).
//  - On every ISA, most paths (ref_int8, brg:avx512_core_vnni, jit_int8, brgconv_1x1) take the
//    int32 sums through float in their output stage: exact only while |sum| <= 2^24. With s8
//    activations |sum| <= 128 * sum_k |w_k|, so each output's weights must keep that <= 2^24.
// Weights outside these rules are refused with a status naming the rule: the caller runs
// sparq's own int8 kernel instead (kernels/prepared.hpp does so when fallback is allowed).
// Compiled only with SPARQ_WITH_DNNL.
#pragma once

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>

#include <cstdint>
#include <cstdlib>

#include "sparq/core/shape.hpp"
#include "sparq/core/status.hpp"

namespace sparq::kernels::dnnl_backend {

enum class int8_op : std::uint8_t { matmul, conv2d };

// What the rules need to know of a weight set: one pass over it at make() time.
struct s8_weight_facts {
    index_t outputs = 0;           // output columns (a matmul's N) or channels (a conv's O)
    std::int64_t max_abs_sum = 0;  // the largest sum of |w| over one output's weights
    int min = 0, max = 0;          // the smallest and the largest weight, or 0 (inside every range checked)
    int first_odd = 0;             // an odd weight, or 0 when all are even

    // Adds one output's weights, as a callable visiting each of them.
    template <class Visit>
    void add_output(Visit&& visit_weights) noexcept {
        std::int64_t sum = 0;
        visit_weights([&](std::int8_t w) {
            const int v = w;
            sum += std::abs(v);
            if (v < min) min = v;
            if (v > max) max = v;
            if ((v & 1) && first_odd == 0) first_odd = v;
        });
        if (sum > max_abs_sum) max_abs_sum = sum;
        ++outputs;
    }
};

// The largest |sum| a float holds exactly, and the bound on each output's sum of |w| that keeps
// every s8 activation vector within it (|x| <= 128).
constexpr std::int64_t max_exact_float_sum = std::int64_t(1) << 24;
constexpr std::int64_t max_weight_abs_sum = max_exact_float_sum / 128;

// oneDNN's name for an ISA, as it prints them in impl_info_str().
inline const char* isa_name(::dnnl::cpu_isa isa) noexcept {
    switch (isa) {
        case ::dnnl::cpu_isa::all:
            return "all";
        case ::dnnl::cpu_isa::sse41:
            return "sse41";
        case ::dnnl::cpu_isa::avx:
            return "avx";
        case ::dnnl::cpu_isa::avx2:
            return "avx2";
        case ::dnnl::cpu_isa::avx2_vnni:
            return "avx2_vnni";
        case ::dnnl::cpu_isa::avx512_mic:
            return "avx512_mic";
        case ::dnnl::cpu_isa::avx512_mic_4ops:
            return "avx512_mic_4ops";
        case ::dnnl::cpu_isa::avx512_core:
            return "avx512_core";
        case ::dnnl::cpu_isa::avx512_core_vnni:
            return "avx512_core_vnni";
        case ::dnnl::cpu_isa::avx512_core_bf16:
            return "avx512_core_bf16";
        case ::dnnl::cpu_isa::avx512_core_amx:
            return "avx512_core_amx";
    }
    return "unknown";
}

// Whether oneDNN's int8 kernels on this ISA multiply with VNNI (vpdpbusd) or AMX, whose
// products accumulate in int32 with no 16-bit intermediate. Any other value (including
// `all`, which a non-x86 oneDNN reports) is treated as not: its rules are the safe ones.
constexpr bool has_vnni(::dnnl::cpu_isa isa) noexcept {
    return isa == ::dnnl::cpu_isa::avx2_vnni || isa == ::dnnl::cpu_isa::avx512_core_vnni ||
           isa == ::dnnl::cpu_isa::avx512_core_bf16 || isa == ::dnnl::cpu_isa::avx512_core_amx;
}

// Success when oneDNN's int8 `op` on `isa` gives the exact sums for these weights and every s8
// activation; otherwise the rule they break, in one line.
inline status int8_exact(int8_op op, const s8_weight_facts& w, ::dnnl::cpu_isa isa) noexcept {
    const char* what = op == int8_op::matmul ? "matmul" : "conv2d";
    if (w.max_abs_sum > max_weight_abs_sum)
        return status(errc::unsupported,
                      "oneDNN int8 %s: an output's weights have sum |w| = %lld > %lld, so its sums may pass 2^24, "
                      "which oneDNN's float output stage rounds: use sparq's kernel",
                      what, static_cast<long long>(w.max_abs_sum), static_cast<long long>(max_weight_abs_sum));
    if (has_vnni(isa)) return status::success();
    if (op == int8_op::matmul) {
        if (w.min < -64 || w.max > 64)
            return status(errc::unsupported,
                          "oneDNN int8 matmul on %s (no VNNI) saturates 16-bit pair sums for weights outside [-64, 64] "
                          "(found %d): use sparq's kernel",
                          isa_name(isa), w.min < -64 ? w.min : w.max);
        if (isa == ::dnnl::cpu_isa::avx512_core && w.outputs == 1)
            return status(errc::unsupported,
                          "oneDNN int8 matmul on avx512_core (no VNNI) gives wrong sums for a single output column: "
                          "use sparq's kernel");
        return status::success();
    }
    if (w.first_odd != 0)
        return status(errc::unsupported,
                      "oneDNN int8 conv2d on %s (no VNNI) halves the weights to fit 16-bit pair sums, losing the low "
                      "bit of odd ones (found %d): use sparq's kernel",
                      isa_name(isa), w.first_odd);
    return status::success();
}

}  // namespace sparq::kernels::dnnl_backend
#endif
