// dwconv2d (the direct depthwise convolution) against the reference loops, bit for bit: random
// shapes (1, odd, prime and wide maps; kernels 1 to 7; strides 1 to 3; dilation; asymmetric and
// oversized padding), int8 extremes and zero points, NaN / Inf in float inputs; and through
// conv2d, which sends depthwise layers there.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/dwconv2d.hpp"
#include "sparq/kernels/scalar/conv2d.hpp"
#include "sparq/kernels/transpose.hpp"

using namespace sparq;

namespace {

struct dw_shape {
    extents_t<4> in, w;
    kernels::conv2d_params p;
};

dw_shape random_shape(std::mt19937& rng) {
    auto pick = [&](std::initializer_list<index_t> v) { return v.begin()[rng() % v.size()]; };
    dw_shape s;
    const index_t c = pick({1, 3, 8, 17});
    const index_t kh = pick({1, 3, 5, 7}), kw = rng() % 4 == 0 ? pick({1, 2, 3, 5}) : kh;
    s.p.stride_h = pick({1, 1, 2, 3}), s.p.stride_w = rng() % 3 == 0 ? pick({1, 2, 3}) : s.p.stride_h;
    s.p.dilation_h = pick({1, 1, 2}), s.p.dilation_w = pick({1, 1, 2});
    s.p.pad_top = index_t(rng() % 4), s.p.pad_bottom = index_t(rng() % 4);
    s.p.pad_left = index_t(rng() % 4), s.p.pad_right = index_t(rng() % 4);
    s.p.groups = c;
    const index_t min_h = s.p.dilation_h * (kh - 1) + 1, min_w = s.p.dilation_w * (kw - 1) + 1;
    const index_t h = std::max(min_h, pick({1, 2, 5, 13, 31})), w = std::max(min_w, pick({1, 3, 7, 29, 67}));
    s.in = {index_t(1 + rng() % 2), c, h, w};
    s.w = {c, 1, kh, kw};
    return s;
}

template <class T>
void fill(tensor<T, 4>& t, std::mt19937& rng) {
    for (index_t i = 0; i < t.size(); ++i) {
        if constexpr (std::is_same_v<T, float>)
            t.data()[i] = std::uniform_real_distribution<float>(-2, 2)(rng);
        else
            t.data()[i] = T(i % 7 == 0 ? -128 : i % 11 == 0 ? 127 : int(rng() % 256) - 128);
    }
}

// Float results identical (NaN where the reference has NaN), int32 identical.
template <class Y>
int mismatches(const tensor<Y, 4>& a, const tensor<Y, 4>& b) {
    int bad = 0;
    for (index_t i = 0; i < a.size(); ++i) {
        if constexpr (std::is_same_v<Y, float>) {
            const float u = a.data()[i], v = b.data()[i];
            bad += std::isnan(v) ? !std::isnan(u) : std::memcmp(&u, &v, sizeof u) != 0;
        } else {
            bad += a.data()[i] != b.data()[i];
        }
    }
    return bad;
}

}  // namespace

TEST_CASE("dwconv2d: bit for bit the reference on random shapes, f32 and int8 with zero points") {
    std::mt19937 rng(2027);
    for (int trial = 0; trial < 300; ++trial) {
        const dw_shape s = random_shape(rng);
        auto out = kernels::conv2d_output(s.in, s.w, s.p);
        REQUIRE(out.ok());
        CAPTURE(trial);
        {
            auto x = tensor<float, 4>::make(s.in);
            auto w = tensor<float, 4>::make(s.w);
            auto y = tensor<float, 4>::make(*out), r = tensor<float, 4>::make(*out);
            REQUIRE((x.ok() && w.ok() && y.ok() && r.ok()));
            fill(*x, rng);
            fill(*w, rng);
            if (trial % 10 == 0) x->data()[rng() % std::uint32_t(x->size())] = std::numeric_limits<float>::quiet_NaN();
            if (trial % 10 == 5) x->data()[rng() % std::uint32_t(x->size())] = -std::numeric_limits<float>::infinity();
            kernels::dwconv2d(x->cview(), w->cview(), s.p, y->view());
            kernels::scalar::conv2d(x->cview(), w->cview(), s.p, r->view());
            CHECK(mismatches(*y, *r) == 0);
        }
        {
            auto x = tensor<std::int8_t, 4>::make(s.in);
            auto w = tensor<std::int8_t, 4>::make(s.w);
            auto y = tensor<std::int32_t, 4>::make(*out), r = tensor<std::int32_t, 4>::make(*out);
            REQUIRE((x.ok() && w.ok() && y.ok() && r.ok()));
            fill(*x, rng);
            fill(*w, rng);
            for (const std::int8_t zp : {std::int8_t(0), std::int8_t(-128), std::int8_t(127), std::int8_t(-37)}) {
                kernels::dwconv2d(x->cview(), w->cview(), s.p, y->view(), zp);
                kernels::scalar::conv2d(x->cview(), w->cview(), s.p, r->view(), zp);
                CHECK(mismatches(*y, *r) == 0);
            }
        }
    }
}

TEST_CASE("dwconv2d: a long row and the widest taps at -128 x -128 sum exactly") {
    const extents_t<4> in{1, 2, 3, 1031};  // a prime width past any vector length
    kernels::conv2d_params p;
    p.pad_left = p.pad_right = 3, p.pad_top = p.pad_bottom = 3, p.groups = 2;
    auto x = tensor<std::int8_t, 4>::make(in);
    auto w = tensor<std::int8_t, 4>::make({2, 1, 7, 7});
    REQUIRE((x.ok() && w.ok()));
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = -128;
    for (index_t i = 0; i < w->size(); ++i) w->data()[i] = -128;
    auto out = kernels::conv2d_output(in, w->extents(), p);
    REQUIRE(out.ok());
    auto y = tensor<std::int32_t, 4>::make(*out);
    REQUIRE(y.ok());
    kernels::dwconv2d(x->cview(), w->cview(), p, y->view(), std::int8_t(-128));
    // with the zero point -128 in the padding too, every output sums 49 taps of 16384
    for (index_t i = 0; i < y->size(); ++i) REQUIRE(y->data()[i] == 49 * 16384);
}

TEST_CASE("conv2d sends depthwise layers to dwconv2d and keeps the reference's results") {
    static std::byte scratch[1 << 16];
    arena a(scratch, sizeof scratch);
    context ctx;
    ctx.with_scratch(a);
    std::mt19937 rng(7);
    kernels::conv2d_params p;
    p.stride_h = p.stride_w = 2, p.pad_top = p.pad_left = 1, p.pad_bottom = p.pad_right = 1, p.groups = 32;
    auto x = tensor<float, 4>::make({2, 32, 28, 28});
    auto w = tensor<float, 4>::make({32, 1, 3, 3});
    REQUIRE((x.ok() && w.ok()));
    fill(*x, rng);
    fill(*w, rng);
    auto out = kernels::conv2d_output(x->extents(), w->extents(), p);
    auto y = tensor<float, 4>::make(*out), r = tensor<float, 4>::make(*out);
    auto packed = kernels::pack_conv_weights(w->cview(), p.groups);
    REQUIRE((y.ok() && r.ok() && packed.ok()));
    REQUIRE(kernels::conv2d(ctx, x->cview(), *packed, p, y->view()).ok());
    kernels::scalar::conv2d(x->cview(), w->cview(), p, r->view());
    CHECK(mismatches(*y, *r) == 0);
    CHECK(a.used() == 0);  // no im2col buffer for a depthwise layer
}

TEST_CASE("transpose: every element lands, across tile edges, with row strides and 1-4 channels") {
    // packed rows (gap 0) with 1 to 4 rows or columns take the interleaving loops; the others the tiles
    for (const index_t gap : {0, 2})
        for (const index_t rows : {1, 2, 3, 4, 15, 16, 17, 40}) {
            for (const index_t cols : {1, 2, 3, 4, 16, 33}) {
                CAPTURE(gap);
                CAPTURE(rows);
                CAPTURE(cols);
                const index_t lds = cols + gap, ldd = rows + gap / 2;
                std::vector<std::int8_t> src(std::size_t(rows * lds)), dst(std::size_t(cols * ldd + 1), -1);
                for (std::size_t i = 0; i < src.size(); ++i) src[i] = std::int8_t(i % 100);
                std::vector<float> fsrc(src.begin(), src.end()), fdst(dst.begin(), dst.end());
                kernels::transpose(src.data(), rows, cols, lds, dst.data(), ldd);
                kernels::transpose(fsrc.data(), rows, cols, lds, fdst.data(), ldd);
                int bad = 0;
                for (index_t i = 0; i < rows; ++i)
                    for (index_t j = 0; j < cols; ++j) {
                        bad += dst[std::size_t(j * ldd + i)] != src[std::size_t(i * lds + j)];
                        bad += fdst[std::size_t(j * ldd + i)] != fsrc[std::size_t(i * lds + j)];
                    }
                for (index_t j = 0; j < cols; ++j)  // the gaps between rows, and past the end, stay
                    for (index_t i = rows; i < ldd; ++i) bad += dst[std::size_t(j * ldd + i)] != -1;
                bad += dst.back() != -1;
                CHECK(bad == 0);
            }
        }
}
