// The smallest useful sparq program: quantize a layer's weights to int8 and float16, run it,
// and see how far each output is from fp32. Copy it, replace the weights with yours.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <sparq/core.hpp>
#include <sparq/kernels/matmul.hpp>
#include <sparq/quant/symmetric.hpp>

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
    float scales[out];
    std::int32_t acc[out];

    context ctx;
    if (status s = kernels::matmul<float>(ctx, x, w, {y32, {1, out}}); !s) return std::printf("%s\n", s.message()), 1;

    convert(weights, w16, out * in);
    if (status s = kernels::matmul<float16>(ctx, x, {w16, {out, in}}, {y16, {1, out}}); !s) return 1;

    if (status s = quant::quantize_per_channel(w, {w8, {out, in}}, {scales, {out}}); !s)
        return std::printf("%s\n", s.message()), 1;
    const float sx = quant::symmetric_scale(*quant::max_abs(x));
    quant::quantize_per_tensor(x.row(0), sx, {x8, {in}});
    if (status s = kernels::matmul_s8(ctx, {x8, {1, in}}, {w8, {out, in}}, {acc, {1, out}}); !s) return 1;

    int bad = 0;
    for (index_t n = 0; n < out; ++n) {
        const float y8 = float(acc[n]) * sx * scales[n];
        std::printf("output %td: fp32 %+.5f  fp16 %+.5f  int8 %+.5f\n", n, y32[n], y16[n], y8);
        bad += std::fabs(y8 - y32[n]) > 0.05f || std::fabs(y16[n] - y32[n]) > 2e-3f;
    }
    return bad;  // non-zero if the compressed outputs drifted: the example doubles as a test
}
