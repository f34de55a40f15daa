// The linear runner: a GEMM of each sample's rows of K by the layer's packed weights, in the
// form nn/pack_layer.hpp chose (fp32 / fp16 / bf16 / int4 with fp32 arithmetic; int8 codes to
// the output's codes or to float through the requantization stage; a pruned int8 layer's CSR).
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "sparq/kernels/int4.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/spmm.hpp"
#include "sparq/nn/layer_weights.hpp"
#include "sparq/nn/runners/run_state.hpp"

namespace sparq::nn::runners {

inline status run_linear(const run_state& io) {
    const detail::compiled_step& s = io.s;
    const context& c = io.c;
    // rows: each sample's rows of K (one, or a sequence's tokens: shape_rules.hpp)
    const index_t k_in = linear_k(s.weights);
    const index_t per = io.in_n / k_in, rows = io.batch * per, n_out = io.out_n / per;
    if (s.int8) {
        const std::int8_t* in = io.as_s8(io.in_v);
        if (!in) return io.oom();
        const matrix_view<const std::int8_t> xq(in, {rows, k_in});
        // the requantization's integer offset add, one per output
        if (c.energy) c.energy->add_adds(dtype::s32, std::uint64_t(io.batch * io.out_n));
        if (const auto* sp = std::get_if<s8_csr>(&s.weights)) {  // the CSR's int32 sums, then the same output stage
            auto* acc = static_cast<std::int32_t*>(io.alloc(std::size_t(io.batch * io.out_n) * 4));
            if (!acc) return io.oom();
            const matrix_view<std::int32_t> sums(acc, {rows, n_out});
            SPARQ_TRY(kernels::spmm(c, xq, sp->csr, sums));
            if (io.out_s8)
                SPARQ_TRY(kernels::apply_requant(sp->stage, sums.as_const(),
                                                 matrix_view<std::int8_t>(io.out<std::int8_t>(), {rows, n_out})));
            else
                SPARQ_TRY(kernels::apply_dequant(sp->stage, sums.as_const(),
                                                 matrix_view<float>(io.out<float>(), {rows, n_out})));
            return status::success();
        }
        const s8_gemm& g = *std::get_if<s8_gemm>(&s.weights);
        if (io.out_s8)
            SPARQ_TRY(kernels::linear_s8(c, xq, g.w, g.stage,
                                         matrix_view<std::int8_t>(io.out<std::int8_t>(), {rows, n_out})));
        else
            SPARQ_TRY(kernels::linear_s8(c, xq, g.w, g.stage, matrix_view<float>(io.out<float>(), {rows, n_out})));
        return status::success();
    }
    const float* in = io.as_float(io.in_v);
    if (!in) return io.oom();
    const matrix_view<const float> xf(in, {rows, k_in});
    const matrix_view<float> yf(io.out<float>(), {rows, n_out});
    // bias and activation fused into the GEMM's tiles (kernels/matmul.hpp)
    if (const auto* q4 = std::get_if<int4_gemm>(&s.weights)) {
        SPARQ_TRY(kernels::matmul_int4(c, xf, q4->codes.cview(), q4->q, yf));
        for (index_t r = 0; r < rows; ++r)
            for (index_t n = 0; n < n_out; ++n)
                yf(r, n) = kernels::activate(yf(r, n) + (s.bias.empty() ? 0.0f : s.bias[std::size_t(n)]), s.act);
    } else if (const auto* h = std::get_if<kernels::packed_f16>(&s.weights))
        SPARQ_TRY(kernels::matmul(c, xf, *h, s.bias, s.act, yf));
    else if (const auto* b = std::get_if<kernels::packed_bf16>(&s.weights))
        SPARQ_TRY(kernels::matmul(c, xf, *b, s.bias, s.act, yf));
    else
        SPARQ_TRY(kernels::matmul(c, xf, *std::get_if<kernels::packed_f32>(&s.weights), s.bias, s.act, yf));
    if (c.energy && !s.bias.empty()) c.energy->add_adds(dtype::f32, std::uint64_t(io.batch * io.out_n));
    return status::success();
}

}  // namespace sparq::nn::runners
