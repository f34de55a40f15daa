// conv2d_nhwc_s8 on images of 128 bytes at most (conv2d_nhwc_s8_gather: whole-image byte gathers
// and vpdpbusd) against scalar::conv2d + apply_requant, bit for bit, on random shapes: 1, odd and
// prime channel counts in and out (those O that do not divide 16 nor are multiples of it take the
// im2col path, compared too), maps 1x1 to 13x13, padding wider than the kernel, strides,
// dilation, batches, codes -128 / 127, zero points -128 / 0 / 5, every rounding and clamp; on one
// thread and on three. A third of the cases at least must take the gather kernel (where this
// build has it).
#include <doctest/doctest.h>

#include "support/layout.hpp"

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/thread_pool.hpp"  // the pool parallel_range runs its chunks on
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/conv2d_nhwc.hpp"
#include "sparq/kernels/conv2d_nhwc_s8_gather.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/scalar/conv2d.hpp"

using namespace sparq;
using sparq_test::to_nhwc;

namespace {

index_t volume(const extents_t<4>& e) {
    return e[0] * e[1] * e[2] * e[3];
}

struct gather_case {
    extents_t<4> x, w, y;
    kernels::conv2d_params p;
};

// A random convolution whose image is mostly within 128 bytes (one in eight may be larger).
gather_case random_gather_case(std::mt19937& rng) {
    static const index_t channels_in[] = {1, 1, 2, 3, 4, 5, 7, 8, 8, 11, 13};
    static const index_t channels_out[] = {1, 2, 4, 8, 8, 16, 16, 32, 48, 3, 5, 7, 10, 17};
    for (;;) {
        gather_case s;
        const index_t c = channels_in[rng() % std::size(channels_in)];
        const index_t h = 1 + index_t(rng() % 13), w = 1 + index_t(rng() % 13);
        if (c * h * w > 128 && rng() % 8 != 0) continue;
        const index_t kh = 1 + index_t(rng() % 3), kw = 1 + index_t(rng() % 3);
        s.p.stride_h = 1 + index_t(rng() % 2), s.p.stride_w = 1 + index_t(rng() % 2);
        s.p.dilation_h = 1 + index_t(rng() % 4 == 0), s.p.dilation_w = 1 + index_t(rng() % 4 == 0);
        s.p.pad_top = index_t(rng() % 4), s.p.pad_bottom = index_t(rng() % 3);
        s.p.pad_left = index_t(rng() % 4), s.p.pad_right = index_t(rng() % 3);
        s.x = {rng() % 5 == 0 ? 1 : 4 + index_t(rng() % 4), c, h, w};  // the kernel takes 4 images and more
        s.w = {channels_out[rng() % std::size(channels_out)], c, kh, kw};
        auto out = kernels::conv2d_output(s.x, s.w, s.p);
        if (!out) continue;
        s.y = *out;
        return s;
    }
}

std::string describe(const gather_case& s) {
    char b[256];
    std::snprintf(b, sizeof b, "x %tdx%tdx%tdx%td w %tdx%tdx%tdx%td stride %td,%td pad %td,%td,%td,%td dil %td,%td",
                  s.x[0], s.x[1], s.x[2], s.x[3], s.w[0], s.w[1], s.w[2], s.w[3], s.p.stride_h, s.p.stride_w,
                  s.p.pad_top, s.p.pad_left, s.p.pad_bottom, s.p.pad_right, s.p.dilation_h, s.p.dilation_w);
    return b;
}

}  // namespace

TEST_CASE("conv2d_nhwc_s8 on small images (the gather kernel): bit for bit scalar::conv2d + the requant stage") {
    std::mt19937 rng(2026);
    static std::byte buffer[1 << 20];
    arena a(buffer, sizeof buffer);
    context one, three;
    one.with_scratch(a);
    three.with_scratch(a).with_threads(3);
    const kernels::activation acts[] = {kernels::activation::none, kernels::activation::relu,
                                        kernels::activation::relu6};
    const quant::requant_rounding roundings[] = {quant::requant_rounding::float_scale,
                                                 quant::requant_rounding::double_rounding,
                                                 quant::requant_rounding::single_rounding};
    int gathered = 0;
    const int trials = 400;
    for (int trial = 0; trial < trials; ++trial) {
        const gather_case s = random_gather_case(rng);
        CAPTURE(trial);
        const std::string shape = describe(s);
        CAPTURE(shape);
        const index_t o_n = s.w[0], plane = s.y[2] * s.y[3];
        const std::int8_t zx = std::int8_t(trial % 3 == 0 ? -128 : trial % 3 == 1 ? 0 : 5);
        std::vector<std::int8_t> x(std::size_t(volume(s.x))), w(std::size_t(volume(s.w)));
        const auto code = [&] {
            return std::int8_t(rng() % 5 == 0 ? (rng() % 2 ? 127 : -128) : int(rng() % 256) - 128);
        };
        for (auto& v : x) v = code();
        for (auto& v : w) v = code();
        const tensor_view<const std::int8_t, 4> wv(w.data(), s.w);
        auto packed = kernels::pack_conv_weights(wv, 1, true);
        REQUIRE(packed.ok());
        const index_t per = s.w[1] * s.w[2] * s.w[3];
        std::vector<std::int32_t> col_sums(std::size_t(o_n), 0);
        for (index_t o = 0; o < o_n; ++o)
            for (index_t i = 0; i < per; ++i) col_sums[std::size_t(o)] += w[std::size_t(o * per + i)];
        const quant::qparams xq = quant::make_per_tensor(dtype::s8, 0.02f, zx),
                             yq = quant::make_per_tensor(dtype::s8, 0.05f + 0.1f * float(trial % 4),
                                                         int(rng() % 21) - 10);
        quant::qparams wq = quant::make_per_tensor(dtype::s8, 1.0f, 0);
        wq.gran = quant::granularity::per_channel, wq.axis = 0, wq.scale.clear(),
        wq.zero_point.assign(std::size_t(o_n), 0);
        for (index_t o = 0; o < o_n; ++o) wq.scale.push_back(0.0005f + 0.002f * float(rng() % 100) / 100.0f);
        std::vector<float> bias;
        if (trial % 2)
            for (index_t o = 0; o < o_n; ++o) bias.push_back(float(int(rng() % 200) - 100) * 0.01f);
        auto stage =
            kernels::make_requant_stage(xq, wq, tensor_view<const std::int32_t, 1>(col_sums.data(), {o_n}), yq, bias,
                                        acts[trial % 3], roundings[trial % 3 == 0 ? 0 : (trial / 3) % 3]);
        REQUIRE(stage.ok());
        // the reference: NCHW int32 sums padded with the zero point, the stage per image
        std::vector<std::int32_t> sums(std::size_t(volume(s.y)));
        kernels::scalar::conv2d(tensor_view<const std::int8_t, 4>(x.data(), s.x), wv, s.p,
                                tensor_view<std::int32_t, 4>(sums.data(), s.y), zx);
        std::vector<std::int8_t> want(sums.size());
        for (index_t n = 0; n < s.y[0]; ++n) {
            const matrix_view<const std::int32_t> acc(sums.data() + n * o_n * plane, {plane, o_n}, {1, plane});
            REQUIRE(kernels::apply_requant(
                        *stage, acc, matrix_view<std::int8_t>(want.data() + n * o_n * plane, {plane, o_n}, {1, plane}))
                        .ok());
        }
        want = to_nhwc(want, s.y);
        const auto xn = to_nhwc(x, s.x);
        if (kernels::conv2d_nhwc_s8_gather_applies(*packed, s.p, s.x, s.y)) ++gathered;
        for (const context* ctx : {&one, &three}) {
            std::vector<std::int8_t> got(want.size(), 99);
            REQUIRE(kernels::conv2d_nhwc_s8(*ctx, xn.data(), s.x, *packed, s.p, zx, *stage, got.data(), s.y).ok());
            CHECK(got == want);
        }
        CHECK(a.used() == 0);
    }
#if defined(SPARQ_HAS_CONV_GATHER_S8)
    CHECK(gathered > trials / 3);
#endif
    MESSAGE(gathered << " of " << trials << " cases through the gather kernel");
}
