// The channels-last ops (nn/ops/channels_last.hpp) against their NCHW ops run on the same data
// transposed: bit for bit (max pooling, batch norm, concat compared with memcmp; the sums of
// average pooling too, except that two NaNs are equal whatever their payloads), and the energy
// counters equal in every field. Random shapes with channels 1, 3, 16, 67 (a full block of
// accumulators and a tail), planes 1 to 56, kernels 1 to 7, strides 1 to 3, pads up to the
// kernel (windows wholly in padding), extra output rows and columns (windows past the input);
// NaN / Inf / -0 inputs, large values that cancel (so a double sum's order shows), int8 codes
// at -128 and 127; a huge window; and checks that fail on untransposed data or a flipped bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "sparq/energy/counter.hpp"
#include "sparq/nn/ops.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_ops_channels_last_suite {

namespace {

std::mt19937& rng() {
    static std::mt19937 g(20261208);
    return g;
}
index_t any_of(std::initializer_list<index_t> v) {
    return *(v.begin() + std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng()));
}
index_t between(index_t lo, index_t hi) {
    return std::uniform_int_distribution<index_t>(lo, hi)(rng());
}
index_t volume(const nn::sample_shape& s) {
    return s[0] * s[1] * s[2];
}

// [batch, C, H, W] <-> [batch, H, W, C]
template <class T>
std::vector<T> to_nhwc(const std::vector<T>& x, const nn::sample_shape& s, index_t batch) {
    std::vector<T> y(x.size());
    const index_t hw = s[1] * s[2];
    for (index_t b = 0; b < batch; ++b)
        for (index_t c = 0; c < s[0]; ++c)
            for (index_t i = 0; i < hw; ++i)
                y[std::size_t((b * hw + i) * s[0] + c)] = x[std::size_t((b * s[0] + c) * hw + i)];
    return y;
}

// What values() makes: uniform in [-4, 4]; with a few NaN (two payloads, both signs), +-Inf,
// -0 and +0; or half of them +-2^30 and +-2^60, which cancel in a double sum after it lost the
// small ones, so that the sum depends on its order.
enum class fill { plain, specials, cancelling };

std::vector<float> values(index_t n, fill kind) {
    std::vector<float> v(std::size_t(n), 0.0f);
    std::uniform_real_distribution<float> u(-4.0f, 4.0f);
    const float nan_a = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    float nan_b;
    const std::uint32_t payload = 0xffc00123u;  // a negative NaN with its own payload
    std::memcpy(&nan_b, &payload, 4);
    const float odd[] = {nan_a, nan_b, -nan_a, inf, -inf, -0.0f, 0.0f};
    for (float& e : v) {
        e = u(rng());
        if (kind == fill::specials && between(0, 19) == 0) e = odd[between(0, 6)];
        if (kind == fill::cancelling && between(0, 1) == 0)
            e = std::ldexp(e < 0 ? -1.0f : 1.0f, between(0, 1) ? 30 : 60);
    }
    return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}
// Bit for bit, except that any two NaNs are equal: which NaN an addition of two NaNs returns
// depends on its operand order, which C++ leaves to the compiler.
bool same_or_both_nan(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(std::isnan(a[i]) && std::isnan(b[i])) && std::memcmp(&a[i], &b[i], 4) != 0) return false;
    return true;
}

void check_same_counts(const energy::counter& a, const energy::counter& b) {
    for (std::size_t t = 0; t < energy::counter::dtypes; ++t) {
        CHECK(a.adds(dtype(t)) == b.adds(dtype(t)));
        CHECK(a.macs(dtype(t)) == b.macs(dtype(t)));
    }
    CHECK(a.baseline_adds() == b.baseline_adds());
    CHECK(a.baseline_macs() == b.baseline_macs());
    for (std::size_t k = 0; k < energy::traffic_kinds; ++k)
        for (std::size_t c = 0; c < energy::footprint_classes; ++c) {
            CHECK(a.bytes_in_class(energy::traffic(k), c) == b.bytes_in_class(energy::traffic(k), c));
            CHECK(a.fp32_bytes_in_class(energy::traffic(k), c) == b.fp32_bytes_in_class(energy::traffic(k), c));
        }
}

// A pooling window, its output shape the floor-mode one plus 0 to 2 extra rows / columns
// (outputs whose window starts past the input, as ceil mode makes them).
struct pool_case {
    nn::pool_params p;
    nn::sample_shape in, out;
    index_t batch;
};
pool_case random_pool_case() {
    pool_case k;
    k.in = {any_of({1, 3, 16, 67}), any_of({1, 2, 7, 9, 56}), any_of({1, 2, 7, 9, 56})};
    k.batch = any_of({1, 3});
    nn::pool_params& p = k.p;
    p.kh = any_of({1, 2, 3, 7}), p.kw = any_of({1, 2, 3, 7});
    p.stride_h = any_of({1, 2, 3}), p.stride_w = any_of({1, 2, 3});
    p.pad_top = between(0, p.kh), p.pad_bottom = between(0, p.kh);  // pad == kernel: a window wholly in padding
    p.pad_left = between(0, p.kw), p.pad_right = between(0, p.kw);
    p.count_include_pad = between(0, 1) == 1;
    auto extent = [](index_t n, index_t pads, index_t kernel, index_t stride) {
        return (n + pads >= kernel ? (n + pads - kernel) / stride + 1 : 1) + between(0, 2);
    };
    k.out = {k.in[0], extent(k.in[1], p.pad_top + p.pad_bottom, p.kh, p.stride_h),
             extent(k.in[2], p.pad_left + p.pad_right, p.kw, p.stride_w)};
    return k;
}

// ops::pool on x (NCHW) against pool_nhwc on x transposed: outputs and counts.
template <class T>
void check_pool(nn::op kind, const pool_case& k, const std::vector<T>& x) {
    INFO("C ", k.in[0], " in ", k.in[1], "x", k.in[2], " out ", k.out[1], "x", k.out[2], " batch ", k.batch, " kernel ",
         k.p.kh, "x", k.p.kw, " stride ", k.p.stride_h, "x", k.p.stride_w, " pad ", k.p.pad_top, ",", k.p.pad_left, ",",
         k.p.pad_bottom, ",", k.p.pad_right, " include_pad ", k.p.count_include_pad);
    const std::size_t n_out = std::size_t(k.batch * volume(k.out));
    std::vector<T> want(n_out), got(n_out);
    energy::counter cw, cg;
    context a, b;
    a.energy = &cw, b.energy = &cg;
    nn::ops::pool(a, kind, k.p, x.data(), k.in, want.data(), k.out, k.batch);
    nn::ops::pool_nhwc(b, kind, k.p, to_nhwc(x, k.in, k.batch).data(), k.in, got.data(), k.out, k.batch);
    want = to_nhwc(want, k.out, k.batch);
    if constexpr (std::is_same_v<T, float>) {
        if (kind == nn::op::max_pool)
            CHECK(same_bits(got, want));
        else
            CHECK(same_or_both_nan(got, want));
    } else {
        CHECK(same_bits(got, want));
    }
    check_same_counts(cg, cw);
}

}  // namespace

TEST_CASE("pool_nhwc: max and average pooling are ops::pool's on transposed data, bit for bit, same counts") {
    for (int trial = 0; trial < 120; ++trial) {
        const pool_case k = random_pool_case();
        const std::vector<float> x = values(k.batch * volume(k.in), fill(trial % 3));
        check_pool(nn::op::max_pool, k, x);
        check_pool(nn::op::avg_pool, k, x);
    }
}

TEST_CASE("pool_nhwc: int8 max pooling, codes at -128 and 127, windows wholly outside the input give -128") {
    for (int trial = 0; trial < 80; ++trial) {
        const pool_case k = random_pool_case();
        std::vector<std::int8_t> x(std::size_t(k.batch * volume(k.in)));
        for (std::int8_t& e : x) {
            const index_t r = between(0, 9);
            e = std::int8_t(r == 0 ? -128 : r == 1 ? 127 : between(-128, 127));
        }
        check_pool(nn::op::max_pool, k, x);
    }
    // all codes -128 and a window past the input: both -128, from the data or from lowest()
    pool_case k{{2, 2, 2, 2}, {16, 3, 3}, {16, 3, 3}, 1};
    check_pool(nn::op::max_pool, k, std::vector<std::int8_t>(std::size_t(volume(k.in)), std::int8_t(-128)));
}

TEST_CASE("pool_nhwc: int8 windows 2 wide at stride 2 (whole rows by byte permutations) on 1 to 32 channels") {
    // the row-pair path's shapes: rows of one and of several vectors, odd widths (a last column
    // no window reads), windows cut by the padding above and below or wholly in it
    int trial = 0;
    for (index_t c : {1, 2, 4, 8, 16, 32})
        for (index_t iw : {2, 3, 8, 9, 33, 70})
            for (index_t kh : {1, 2, 3}) {
                pool_case k;
                k.batch = 1 + trial % 3;
                k.p.kh = kh, k.p.kw = 2, k.p.stride_h = 1 + trial % 2, k.p.stride_w = 2;
                k.p.pad_top = trial % 4 == 1 ? kh : trial % 2, k.p.pad_bottom = trial % 3 == 0 ? kh : 0;
                const index_t ih = 1 + trial % 5;
                k.in = {c, ih, iw};
                k.out = {c, (ih + k.p.pad_top + k.p.pad_bottom >= kh ? (ih + k.p.pad_top + k.p.pad_bottom - kh) / k.p.stride_h + 1 : 1),
                         iw / 2};
                std::vector<std::int8_t> x(std::size_t(k.batch * volume(k.in)));
                for (std::int8_t& e : x) {
                    const index_t r = between(0, 9);
                    e = std::int8_t(r == 0 ? -128 : r == 1 ? 127 : between(-128, 127));
                }
                check_pool(nn::op::max_pool, k, x);
                ++trial;
            }
}

TEST_CASE("pool_nhwc: NaN wins and stays in max pooling; the later NaN of a window replaces the earlier") {
    // one 2x2 window over 3 channels: channel 0 NaN then larger values, channel 1 two NaNs of
    // different payloads, channel 2 -Inf only (ops::pool gives lowest() there, not -Inf as
    // PyTorch does: its max starts at lowest(); the twin keeps that)
    float nan_b;
    const std::uint32_t payload = 0xffc00123u;
    std::memcpy(&nan_b, &payload, 4);
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const std::vector<float> x = {nan, 1, 2, 3, nan, 0, 0, nan_b, -inf, -inf, -inf, -inf};  // NCHW
    pool_case k{{2, 2, 2, 2}, {3, 2, 2}, {3, 1, 1}, 1};
    check_pool(nn::op::max_pool, k, x);
    std::vector<float> y(3);
    nn::ops::pool_nhwc(context{}, nn::op::max_pool, k.p, to_nhwc(x, k.in, 1).data(), k.in, y.data(), k.out, 1);
    CHECK(std::isnan(y[0]));
    CHECK(std::memcmp(&y[1], &nan_b, 4) == 0);
    CHECK(y[2] == std::numeric_limits<float>::lowest());  // as ops::pool: the max starts there, -Inf never beats it
}

TEST_CASE("pool_nhwc: a huge window costs only its taps on the input; its padding counts in the divisor") {
    nn::pool_params p;
    p.kh = index_t(1) << 40, p.kw = index_t(1) << 20, p.stride_h = p.stride_w = 1;  // kh * kw = 2^60: still an index_t
    p.pad_top = index_t(1) << 39, p.pad_left = index_t(1) << 19;
    for (bool include : {false, true}) {
        p.count_include_pad = include;
        const pool_case k{p, {67, 9, 7}, {67, 3, 2}, 3};
        const std::vector<float> x = values(k.batch * volume(k.in), fill::cancelling);
        check_pool(nn::op::max_pool, k, x);
        check_pool(nn::op::avg_pool, k, x);
    }
}

TEST_CASE("global_avg_pool_nhwc, batch_norm_nhwc: the NCHW ops on transposed data, same counts") {
    for (int trial = 0; trial < 60; ++trial) {
        const nn::sample_shape s{any_of({1, 3, 16, 67, 512}), any_of({1, 2, 7, 9, 56}), any_of({1, 2, 7, 9, 56})};
        const index_t batch = any_of({1, 3});
        INFO("shape ", s[0], "x", s[1], "x", s[2], " batch ", batch);
        const std::vector<float> x = values(batch * volume(s), fill(trial % 3)), xt = to_nhwc(x, s, batch);
        {
            std::vector<float> want(std::size_t(batch * s[0])), got(want.size());
            energy::counter cw, cg;
            context a, b;
            a.energy = &cw, b.energy = &cg;
            nn::ops::global_avg_pool(a, x.data(), s, want.data(), batch);
            nn::ops::global_avg_pool_nhwc(b, xt.data(), s, got.data(), batch);
            CHECK(same_or_both_nan(got, want));  // [batch, C] either way
            check_same_counts(cg, cw);
        }
        {
            std::vector<float> affine = values(2 * s[0], fill::plain), want(x.size()), got(x.size());
            affine[0] = 0;  // Inf * 0: a NaN made here
            if (s[0] > 1) affine[1] = std::numeric_limits<float>::infinity();
            energy::counter cw, cg;
            context a, b;
            a.energy = &cw, b.energy = &cg;
            nn::ops::batch_norm(a, x.data(), affine.data(), want.data(), batch, s[0], s[1] * s[2]);
            nn::ops::batch_norm_nhwc(b, xt.data(), affine.data(), got.data(), batch, s[0], s[1] * s[2]);
            CHECK(same_bits(got, to_nhwc(want, s, batch)));
            check_same_counts(cg, cw);
        }
    }
}

TEST_CASE("concat_channels_nhwc: ops::concat_axis along channels on transposed data; int8 codes alike") {
    for (int trial = 0; trial < 60; ++trial) {
        const index_t h = any_of({1, 2, 7, 9, 56}), w = any_of({1, 2, 7, 9, 56}), batch = any_of({1, 3});
        const std::size_t count = std::size_t(between(1, 4));
        std::vector<nn::sample_shape> shapes;
        std::vector<std::vector<float>> nchw, nhwc;
        std::vector<const float*> pn, pt;
        nn::sample_shape ys{0, h, w};
        for (std::size_t i = 0; i < count; ++i) {
            shapes.push_back({any_of({1, 3, 16, 67}), h, w});
            ys[0] += shapes.back()[0];
            nchw.push_back(values(batch * volume(shapes.back()), fill::specials));
            nhwc.push_back(to_nhwc(nchw.back(), shapes.back(), batch));
        }
        for (std::size_t i = 0; i < count; ++i) pn.push_back(nchw[i].data()), pt.push_back(nhwc[i].data());
        INFO("C ", ys[0], " in ", count, " parts, ", h, "x", w, " batch ", batch);
        std::vector<float> want(std::size_t(batch * volume(ys))), got(want.size());
        energy::counter cw, cg;
        context a, b;
        a.energy = &cw, b.energy = &cg;
        nn::ops::concat_axis(a, pn.data(), shapes.data(), count, 0, want.data(), ys, batch);
        nn::ops::concat_channels_nhwc(b, pt.data(), shapes.data(), count, got.data(), ys, batch);
        CHECK(same_bits(got, to_nhwc(want, ys, batch)));
        check_same_counts(cg, cw);

        // int8 codes: the same moves (the codes: each float's low byte)
        auto low_byte = [](float v) {
            std::uint32_t u;
            std::memcpy(&u, &v, 4);
            return std::int8_t(std::uint8_t(u));
        };
        std::vector<std::vector<std::int8_t>> codes(count);
        std::vector<const std::int8_t*> pc;
        for (std::size_t i = 0; i < count; ++i) {
            for (float v : nhwc[i]) codes[i].push_back(low_byte(v));
            pc.push_back(codes[i].data());
        }
        std::vector<std::int8_t> yc(got.size()), want_codes;
        for (float v : got) want_codes.push_back(low_byte(v));
        energy::counter c8;
        context e;
        e.energy = &c8;
        nn::ops::concat_channels_nhwc(e, pc.data(), shapes.data(), count, yc.data(), ys, batch);
        CHECK(same_bits(yc, want_codes));
        CHECK(c8.bytes(energy::traffic::activations) == 2 * std::uint64_t(batch * volume(ys)));
    }
}

TEST_CASE("the comparisons can fail: untransposed data, one flipped bit") {
    const pool_case k{{3, 3, 2, 2, 1, 1, 1, 1, false}, {3, 9, 7}, {3, 4, 3}, 1};
    const std::vector<float> x = values(volume(k.in), fill::plain);
    std::vector<float> want(std::size_t(volume(k.out))), got(want.size());
    nn::ops::pool(context{}, nn::op::max_pool, k.p, x.data(), k.in, want.data(), k.out, 1);
    // NCHW data read as NHWC
    nn::ops::pool_nhwc(context{}, nn::op::max_pool, k.p, x.data(), k.in, got.data(), k.out, 1);
    CHECK_FALSE(same_bits(got, to_nhwc(want, k.out, 1)));
    got = to_nhwc(want, k.out, 1);
    CHECK(same_or_both_nan(got, to_nhwc(want, k.out, 1)));
    std::uint32_t u;
    std::memcpy(&u, &got[5], 4);
    u ^= 1u;
    std::memcpy(&got[5], &u, 4);
    CHECK_FALSE(same_bits(got, to_nhwc(want, k.out, 1)));
    CHECK_FALSE(same_or_both_nan(got, to_nhwc(want, k.out, 1)));
}

}  // namespace test_ops_channels_last_suite
