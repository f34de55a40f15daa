// The small ops of a compiled model on 1 and on 3 threads (core/parallel.hpp splits their values,
// rows, planes or pixels over the pool): the same bits and the same energy counts, and the
// 3-thread call did hand its chunks to the pool (a counting runner wraps the pool's). Unary ops
// of every kind, add_s8, activation_s8, add, binary ops in each broadcast case, batch norm,
// max / average pooling and global average pooling in both layouts, concat along channels,
// quantize / dequantize (per tensor and per channel), and layout conversion; shapes large enough
// to split, odd sizes so chunks end mid-vector, NaN / Inf among the inputs. The ThreadSanitizer
// build runs these (scripts/test.sh tsan).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "sparq/core/thread_pool.hpp"  // the pool parallel_range runs its chunks on
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/nn/channels_last.hpp"
#include "sparq/nn/ops.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_ops_threads_suite {

namespace {

std::mt19937& rng() {
    static std::mt19937 g(31337);
    return g;
}

std::vector<float> floats(index_t n, bool specials = true) {
    std::uniform_real_distribution<float> u(-6.0f, 6.0f);
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = u(rng());
    if (specials)
        for (std::size_t i = 7; i < v.size(); i += 997)
            v[i] = i % 3 == 0 ? std::numeric_limits<float>::quiet_NaN() : i % 3 == 1 ? std::numeric_limits<float>::infinity() : -0.0f;
    return v;
}

std::vector<std::int8_t> codes(index_t n) {
    std::vector<std::int8_t> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = std::int8_t(int(rng()() % 256) - 128);
    return v;
}

template <class T>
std::vector<unsigned char> bytes_of(const std::vector<T>& v) {
    std::vector<unsigned char> b(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
}

// Counts the calls parallel_range hands to the runner, then runs them on the shared pool.
std::atomic<int> split_calls{0};
parallel_runner pool_runner = nullptr;

void counting_runner(const context& ctx, index_t tasks, void (*call)(void*, index_t), void* fn) {
    split_calls.fetch_add(1);
    pool_runner(ctx, tasks, call, fn);
}

struct count_splits {
    count_splits() {
        pool_runner = detail::installed_parallel_runner();
        if (pool_runner) detail::installed_parallel_runner() = &counting_runner;
    }
    ~count_splits() {
        if (pool_runner) detail::installed_parallel_runner() = pool_runner;
    }
};

// run(ctx) runs the op into a fresh output and returns its bytes: on 1 and 3 threads the same
// bytes and the same energy counter, some counted, and (where there are threads) a split.
template <class F>
void same_on_threads(F run) {
    const count_splits counting;
    energy::counter c1, c3;
    context one, three;
    one.with_energy(c1);
    three.with_energy(c3).with_threads(3);
    const std::vector<unsigned char> a = run(one);
    const int before = split_calls.load();
    const std::vector<unsigned char> b = run(three);
#if SPARQ_HAS_THREADS
    CHECK(split_calls.load() > before);
#else
    (void)before;
#endif
    CHECK(a.size() == b.size());
    CHECK(a == b);
    CHECK(std::memcmp(&c1, &c3, sizeof c1) == 0);  // (only std::uint64_t fields: no padding)
    CHECK(c1.bytes(energy::traffic::activations) > 0);
}

}  // namespace

TEST_CASE("threads: unary ops of every kind, activation_s8, add_s8 and add give the same bits and counts") {
    const index_t n = 600001;
    const std::vector<float> x = floats(n);
    nn::op_params p;
    p.alpha = 0.1f, p.beta = 0.6f;
    for (nn::op k : {nn::op::relu, nn::op::relu6, nn::op::sigmoid, nn::op::tanh, nn::op::gelu, nn::op::silu,
                     nn::op::hard_sigmoid, nn::op::hard_swish, nn::op::leaky_relu, nn::op::clip, nn::op::exp,
                     nn::op::sqrt, nn::op::neg, nn::op::erf}) {
        CAPTURE(nn::to_string(k));
        if (k == nn::op::clip) p.alpha = -1.0f, p.beta = 2.5f;
        same_on_threads([&](const context& ctx) {
            std::vector<float> y(x.size(), 7.0f);
            nn::ops::unary(ctx, k, p, x.data(), y.data(), n);
            return bytes_of(y);
        });
    }
    const index_t m = 600001;
    const std::vector<std::int8_t> qa = codes(m), qb = codes(m);
    for (nn::op k : {nn::op::relu, nn::op::relu6})
        same_on_threads([&](const context& ctx) {
            std::vector<std::int8_t> y(qa.size(), 99);
            nn::ops::activation_s8(ctx, k, qa.data(), y.data(), m, -5, 0.05f);
            return bytes_of(y);
        });
    same_on_threads([&](const context& ctx) {
        std::vector<std::int8_t> y(qa.size(), 99);
        nn::ops::add_s8(ctx, qa.data(), 0.02f, 3, qb.data(), 0.07f, -9, y.data(), 0.05f, 1, m);
        return bytes_of(y);
    });
    const std::vector<float> fa = floats(m), fb = floats(m);
    same_on_threads([&](const context& ctx) {
        std::vector<float> y(fa.size(), 7.0f);
        nn::ops::add(ctx, fa.data(), fb.data(), y.data(), m);
        return bytes_of(y);
    });
}

TEST_CASE("threads: binary ops in each broadcast case (equal shapes, per channel either side, zero strides)") {
    const nn::sample_shape ys{64, 57, 59};
    const index_t batch = 3, n = ys[0] * ys[1] * ys[2];
    const std::vector<float> full = floats(batch * n), full2 = floats(batch * n), chan = floats(ys[0], false),
                             col = floats(ys[0] * ys[1]), row = floats(ys[2]);
    struct pair_case {
        nn::ops::operand a, b;
    };
    const pair_case cases[] = {
        {{full.data(), ys, true}, {full2.data(), ys, true}},                  // equal shapes
        {{full.data(), ys, true}, {full2.data(), ys, false}},                 // equal shapes, b one sample
        {{full.data(), ys, true}, {chan.data(), {ys[0], 1, 1}, false}},       // x op per-channel
        {{chan.data(), {ys[0], 1, 1}, false}, {full.data(), ys, true}},       // per-channel op x
        {{col.data(), {ys[0], ys[1], 1}, false}, {row.data(), {1, 1, ys[2]}, false}},  // zero strides
        {{full.data(), ys, true}, {row.data(), {1, 1, ys[2]}, false}},        // zero strides
    };
    for (const pair_case& c : cases)
        for (nn::op k : {nn::op::add, nn::op::sub, nn::op::mul, nn::op::div, nn::op::pow}) {
            CAPTURE(nn::to_string(k));
            same_on_threads([&](const context& ctx) {
                std::vector<float> y(std::size_t(batch * n), 7.0f);
                nn::ops::binary(ctx, k, c.a, c.b, y.data(), ys, batch);
                return bytes_of(y);
            });
        }
}

TEST_CASE("threads: batch norm, pooling, global average pooling and concat, NCHW and channels-last") {
    const index_t batch = 3;
    const nn::sample_shape in{64, 57, 55};
    const index_t n = in[0] * in[1] * in[2];
    const std::vector<float> x = floats(batch * n);
    const std::vector<std::int8_t> xq = codes(batch * n);
    std::vector<float> affine = floats(2 * in[0], false);
    same_on_threads([&](const context& ctx) {
        std::vector<float> y(x.size(), 7.0f);
        nn::ops::batch_norm(ctx, x.data(), affine.data(), y.data(), batch, in[0], in[1] * in[2]);
        return bytes_of(y);
    });
    same_on_threads([&](const context& ctx) {
        std::vector<float> y(x.size(), 7.0f);
        nn::ops::batch_norm_nhwc(ctx, x.data(), affine.data(), y.data(), batch, in[0], in[1] * in[2]);
        return bytes_of(y);
    });
    for (int variant = 0; variant < 3; ++variant) {
        nn::pool_params p;
        p.kh = p.kw = 3, p.stride_h = p.stride_w = 2, p.pad_top = p.pad_left = 1;
        if (variant == 1) p.kh = 2, p.kw = 5, p.stride_w = 1, p.pad_top = 0, p.count_include_pad = true;
        if (variant == 2) p.kh = 7, p.kw = 7, p.stride_h = p.stride_w = 1, p.pad_top = p.pad_left = 3;
        const nn::sample_shape out{in[0], (in[1] + p.pad_top - p.kh) / p.stride_h + 1 + (variant == 2 ? 3 : 0),
                                   (in[2] + p.pad_left - p.kw) / p.stride_w + 1};
        const index_t m = batch * out[0] * out[1] * out[2];
        CAPTURE(variant);
        for (nn::op k : {nn::op::max_pool, nn::op::avg_pool}) {
            CAPTURE(nn::to_string(k));
            same_on_threads([&](const context& ctx) {
                std::vector<float> y(std::size_t(m), 7.0f);
                nn::ops::pool(ctx, k, p, x.data(), in, y.data(), out, batch);
                return bytes_of(y);
            });
            same_on_threads([&](const context& ctx) {
                std::vector<float> y(std::size_t(m), 7.0f);
                nn::ops::pool_nhwc(ctx, k, p, x.data(), in, y.data(), out, batch);
                return bytes_of(y);
            });
        }
        same_on_threads([&](const context& ctx) {
            std::vector<std::int8_t> y(std::size_t(m), 99);
            nn::ops::pool(ctx, nn::op::max_pool, p, xq.data(), in, y.data(), out, batch);
            return bytes_of(y);
        });
        same_on_threads([&](const context& ctx) {
            std::vector<std::int8_t> y(std::size_t(m), 99);
            nn::ops::pool_nhwc(ctx, nn::op::max_pool, p, xq.data(), in, y.data(), out, batch);
            return bytes_of(y);
        });
    }
    const nn::sample_shape wide{200, 37, 41};  // 4 blocks of channels, the last 8 wide
    const std::vector<float> xw = floats(3 * wide[0] * wide[1] * wide[2]);
    same_on_threads([&](const context& ctx) {
        std::vector<float> y(std::size_t(3 * wide[0]), 7.0f);
        nn::ops::global_avg_pool(ctx, xw.data(), wide, y.data(), 3);
        return bytes_of(y);
    });
    same_on_threads([&](const context& ctx) {
        std::vector<float> y(std::size_t(3 * wide[0]), 7.0f);
        nn::ops::global_avg_pool_nhwc(ctx, xw.data(), wide, y.data(), 3);
        return bytes_of(y);
    });
    const nn::sample_shape s1{24, 57, 59}, s2{41, 57, 59}, sy{65, 57, 59};
    const std::vector<float> part1 = floats(batch * s1[0] * s1[1] * s1[2]), part2 = floats(batch * s2[0] * s2[1] * s2[2]);
    const float* parts[] = {part1.data(), part2.data()};
    const nn::sample_shape shapes[] = {s1, s2};
    same_on_threads([&](const context& ctx) {
        std::vector<float> y(std::size_t(batch * sy[0] * sy[1] * sy[2]), 7.0f);
        nn::ops::concat_channels_nhwc(ctx, parts, shapes, 2, y.data(), sy, batch);
        return bytes_of(y);
    });
}

TEST_CASE("threads: quantize and dequantize per tensor and per channel; layout conversion both ways") {
    const index_t rows = 5, cols = 150001;
    const std::vector<float> x = floats(rows * cols);
    const matrix_view<const float> xv(x.data(), {rows, cols});
    const quant::qparams per_tensor = quant::make_per_tensor(dtype::s8, 0.03f, -7);
    quant::qparams per_row_q = per_tensor;  // axis 0: a step per row
    per_row_q.gran = quant::granularity::per_channel, per_row_q.axis = 0;
    per_row_q.scale = {0.01f, 0.02f, 0.05f, 0.1f, 0.2f}, per_row_q.zero_point = {0, 3, -3, 9, -128};
    const quant::qparams& per_row = per_row_q;
    for (const quant::qparams* q : {&per_tensor, &per_row}) {
        std::vector<std::int8_t> codes_1(x.size());
        same_on_threads([&](const context& ctx) {
            std::vector<std::int8_t> y(x.size(), 99);
            REQUIRE(kernels::quantize(ctx, xv, *q, matrix_view<std::int8_t>(y.data(), {rows, cols})).ok());
            codes_1 = y;
            return bytes_of(y);
        });
        same_on_threads([&](const context& ctx) {
            std::vector<float> y(x.size(), 7.0f);
            REQUIRE(kernels::dequantize(ctx, matrix_view<const std::int8_t>(codes_1.data(), {rows, cols}), *q,
                                        matrix_view<float>(y.data(), {rows, cols}))
                        .ok());
            return bytes_of(y);
        });
    }
    const nn::sample_shape s{67, 33, 35};
    const index_t batch = 3, n = s[0] * s[1] * s[2];
    const std::vector<float> f = floats(batch * n);
    const std::vector<std::int8_t> q = codes(batch * n);
    for (bool to_channels_last : {true, false}) {
        CAPTURE(to_channels_last);
        // (convert_layout counts nothing: a value is converted as part of the node that reads it)
        energy::counter c1, c3;
        context one, three;
        three.with_threads(3);
        std::vector<float> y1(f.size()), y3(f.size());
        std::vector<std::int8_t> q1(q.size()), q3(q.size());
        nn::convert_layout(one, f.data(), s, batch, to_channels_last, y1.data());
        nn::convert_layout(three, f.data(), s, batch, to_channels_last, y3.data());
        nn::convert_layout(one, q.data(), s, batch, to_channels_last, q1.data());
        nn::convert_layout(three, q.data(), s, batch, to_channels_last, q3.data());
        CHECK(bytes_of(y1) == bytes_of(y3));
        CHECK(q1 == q3);
        // and it is the transpose
        const index_t hw = s[1] * s[2];
        bool transposed = true;
        for (index_t b = 0; b < batch; ++b)
            for (index_t c = 0; c < s[0]; ++c)
                for (index_t i = 0; i < hw; i += 13) {
                    const index_t nchw = (b * s[0] + c) * hw + i, nhwc = (b * hw + i) * s[0] + c;
                    transposed = transposed && (to_channels_last ? q3[std::size_t(nhwc)] == q[std::size_t(nchw)]
                                                                 : q3[std::size_t(nchw)] == q[std::size_t(nhwc)]);
                }
        CHECK(transposed);
    }
}

}  // namespace test_ops_threads_suite
