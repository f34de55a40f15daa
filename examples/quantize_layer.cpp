// The smallest useful sparq program: quantize a layer's weights to int8 and float16, run it,
// and see how far each output is from fp32. The tensors are views over stack arrays (as on a
// microcontroller); only the qparams keep their scales in a small std::vector. Copy it, replace
// the weights with yours.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <sparq/core.hpp>
#include <sparq/kernels/matmul.hpp>
#include <sparq/kernels/quantize.hpp>
#include <sparq/quant/scheme.hpp>

int main() {
    using namespace sparq;
    constexpr index_t in = 8, out = 4;
    float weights[out * in], input[in];
    for (int i = 0; i < out * in; ++i) weights[i] = std::sin(0.37f * float(i));
    for (int i = 0; i < in; ++i) input[i] = 0.25f * float(i % 5);

    // Views over the caller's memory: no copies, no allocation.
    matrix_view<const float> w(weights, {out, in});
    matrix_view<const float> x(input, {1, in});

    float y32[out], y16[out];
    float16 w16[out * in];
    std::int8_t w8[out * in], x8[in];
    std::int32_t acc[out];

    context ctx;
    if (status s = kernels::matmul<float>(ctx, x, w, {y32, {1, out}}); !s) return std::printf("%s\n", s.message()), 1;

    convert(weights, w16, out * in);
    if (status s = kernels::matmul<float16>(ctx, x, {w16, {out, in}}, {y16, {1, out}}); !s) return 1;

    // int8: weights symmetric per output channel, the input symmetric per tensor; scales from
    // each one's largest magnitude (choose_qparams does the arithmetic PyTorch does).
    quant::qparams wq = quant::make_per_tensor(dtype::s8, 1.0f, 0, /*narrow=*/true);
    wq.gran = quant::granularity::per_channel, wq.axis = 0;
    wq.scale.assign(out, 1.0f), wq.zero_point.assign(out, 0);
    quant::qscheme sym = quant::qscheme::weights_s8_per_channel(0);
    for (index_t n = 0; n < out; ++n) {
        float lo = 0, hi = 0;
        for (index_t k = 0; k < in; ++k) lo = std::fmin(lo, w(n, k)), hi = std::fmax(hi, w(n, k));
        if (!quant::choose_qparams(lo, hi, sym, wq.scale[std::size_t(n)], wq.zero_point[std::size_t(n)])) return 1;
    }
    float xmax = 0;
    for (index_t k = 0; k < in; ++k) xmax = std::fmax(xmax, std::fabs(input[k]));
    quant::qparams xq = quant::make_per_tensor(dtype::s8, 1.0f, 0, /*narrow=*/true);
    if (!quant::choose_qparams(-xmax, xmax, sym, xq.scale[0], xq.zero_point[0])) return 1;
    if (status s = kernels::quantize(ctx, w, wq, matrix_view<std::int8_t>(w8, {out, in})); !s)
        return std::printf("%s\n", s.message()), 1;
    if (status s = kernels::quantize(ctx, x, xq, matrix_view<std::int8_t>(x8, {1, in})); !s) return 1;
    if (status s = kernels::matmul_s8(ctx, {x8, {1, in}}, {w8, {out, in}}, {acc, {1, out}}); !s) return 1;
    const float sx = xq.scale[0];

    int bad = 0;
    for (index_t n = 0; n < out; ++n) {
        const float y8 = float(acc[n]) * sx * wq.scale[std::size_t(n)];
        std::printf("output %td: fp32 %+.5f  fp16 %+.5f  int8 %+.5f\n", n, y32[n], y16[n], y8);
        bad += std::fabs(y8 - y32[n]) > 0.05f || std::fabs(y16[n] - y32[n]) > 2e-3f;
    }
    return bad;  // non-zero if the compressed outputs drifted: the example doubles as a test
}
