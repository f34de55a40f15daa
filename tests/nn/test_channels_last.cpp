// Channels-last compiled models (nn/channels_last.hpp) against the same models run on NCHW, on
// random convolution networks: 1x1 / 3x3 / 5x5 / 3x5 kernels, strides, asymmetric padding,
// dilation, groups, depthwise layers, residual adds, batch normalization, pooling, channel
// concats, squeeze-excitation gates (a [C, 1, 1] broadcast), a flatten into a linear layer, several outputs. fp32 within rounding (the sums run in
// another order); int8 bit for bit from the same parts (exact int32 sums, the same stages); the
// energy counted per layer identical; the layout plan itself (which values are converted); a CNN
// large enough that every op between the convolutions splits, on 1 and 3 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sparq/io/sparq_format.hpp"
#include "sparq/nn/compiled_model.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_channels_last_suite {

namespace {

std::mt19937& rng() {
    static std::mt19937 g(77);
    return g;
}
index_t pick(std::initializer_list<index_t> v) { return *(v.begin() + std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng())); }
float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng()); }

struct builder {
    nn::model m;
    std::vector<nn::sample_shape> shapes;

    explicit builder(nn::sample_shape in) {
        m.input = in;
        shapes.push_back(in);
    }
    int add(nn::node n) {
        n.name = std::string(nn::to_string(n.kind)) + std::to_string(m.nodes.size());
        m.nodes.push_back(std::move(n));
        auto s = nn::infer_shapes(m);
        REQUIRE_MESSAGE(s.ok(), s.error().message());
        shapes = *s;
        return int(m.nodes.size());
    }
    // A convolution of value v into `out` channels; kernel, stride, padding, dilation, groups random.
    int conv(int v, index_t out, bool allow_groups = true, bool pointwise = false) {
        const nn::sample_shape& s = shapes[std::size_t(v)];
        nn::node n;
        n.kind = nn::op::conv2d;
        n.inputs = {v};
        kernels::conv2d_params& p = n.conv.params;
        index_t kh = pick({1, 3, 3, 5}), kw = kh;
        if (kh == 3 && pick({0, 1, 2}) == 0) kw = 5;
        p.stride_h = pick({1, 1, 2}), p.stride_w = pick({1, 2});
        p.pad_top = pick({0, 1, 2}), p.pad_left = pick({0, 1}), p.pad_bottom = pick({0, 1}), p.pad_right = pick({0, 2});
        p.dilation_h = pick({1, 1, 2});
        if (pointwise) p = kernels::conv2d_params{}, kh = kw = 1;
        // the kernel must fit the padded input
        while (kh > 1 && p.dilation_h * (kh - 1) + 1 > s[1] + p.pad_top + p.pad_bottom) kh -= 2, p.dilation_h = 1;
        while (kw > 1 && kw > s[2] + p.pad_left + p.pad_right) kw -= 2;
        const index_t g = !allow_groups ? 1 : pick({1, 1, 1, 2, 0});  // 0: depthwise
        if (g == 0 && out >= s[0] && out % s[0] == 0) p.groups = s[0];
        else if (g == 2 && s[0] % 2 == 0 && out % 2 == 0) p.groups = 2;
        if (p.groups == s[0] && p.groups > 1) out = s[0];  // a depthwise layer keeps its channels
        auto w = tensor<float, 4>::make({out, s[0] / p.groups, kh, kw});
        REQUIRE(w.ok());
        const float bound = 1.5f / std::sqrt(float(s[0] / p.groups * kh * kw));
        for (index_t i = 0; i < w->size(); ++i) w->data()[i] = uniform(-bound, bound);
        n.conv.weight = std::move(*w);
        if (pick({0, 1, 1})) n.conv.bias.resize(std::size_t(out)), std::generate(n.conv.bias.begin(), n.conv.bias.end(), [] { return uniform(-0.5f, 0.5f); });
        n.conv.act = pick({0, 1, 2}) == 0 ? kernels::activation::none : pick({0, 1}) ? kernels::activation::relu : kernels::activation::relu6;
        return add(std::move(n));
    }
    int node(nn::op k, std::vector<int> in) {
        nn::node n;
        n.kind = k;
        n.inputs = std::move(in);
        if (k == nn::op::batch_norm) {
            const index_t c = shapes[std::size_t(n.inputs[0])][0];
            for (index_t i = 0; i < c; ++i) n.constant.push_back(uniform(0.5f, 1.5f));
            for (index_t i = 0; i < c; ++i) n.constant.push_back(uniform(-0.3f, 0.3f));
        }
        return add(std::move(n));
    }
    int pool(nn::op k, int v) {
        nn::node n;
        n.kind = k;
        n.inputs = {v};
        const nn::sample_shape& s = shapes[std::size_t(v)];
        n.pool.kh = std::min(s[1], pick({2, 3})), n.pool.kw = std::min(s[2], pick({2, 3}));
        n.pool.stride_h = pick({1, 2}), n.pool.stride_w = pick({1, 2});
        n.pool.pad_top = n.pool.pad_left = n.pool.kh > 2 && n.pool.kw > 2 ? pick({0, 1}) : 0;
        n.pool.count_include_pad = pick({0, 1});
        return add(std::move(n));
    }
    int linear(int v, index_t out) {
        nn::node n;
        n.kind = nn::op::linear;
        n.inputs = {v};
        const nn::sample_shape& s = shapes[std::size_t(v)];
        auto w = tensor<float, 2>::make({out, s[0] * s[1] * s[2]});
        REQUIRE(w.ok());
        for (index_t i = 0; i < w->size(); ++i) w->data()[i] = uniform(-0.2f, 0.2f);
        n.linear.weight = std::move(*w);
        return add(std::move(n));
    }
};

// A random convolution network: a stem, blocks (plain, residual, concat, pooling), then a head.
nn::model random_cnn(int blocks) {
    builder b({pick({1, 3, 4}), pick({7, 9, 12}), pick({8, 11})});
    int v = b.conv(0, pick({4, 8, 6}), false);
    for (int i = 0; i < blocks; ++i) {
        const index_t c = b.shapes[std::size_t(v)][0];
        switch (pick({0, 1, 2, 3, 4, 5})) {
            case 0: v = b.conv(v, pick({c, 2 * c, 5})); break;
            case 1: {  // residual: conv 3x3 same shape, batch norm, add, relu
                nn::node n;
                const int a = b.conv(v, c);
                if (b.shapes[std::size_t(a)] != b.shapes[std::size_t(v)]) { v = a; break; }
                const int bn = b.node(nn::op::batch_norm, {a});
                v = b.node(nn::op::relu, {b.node(nn::op::add, {bn, v})});
                break;
            }
            case 2: {  // two branches concatenated along channels
                const int a = b.conv(v, pick({2, 3}), false), d = b.conv(v, pick({3, 4}), false);
                if (b.shapes[std::size_t(a)][1] != b.shapes[std::size_t(d)][1] || b.shapes[std::size_t(a)][2] != b.shapes[std::size_t(d)][2]) { v = a; break; }
                nn::node n;
                n.kind = nn::op::concat;
                n.inputs = {a, d};
                v = b.add(std::move(n));
                break;
            }
            case 3:
                if (b.shapes[std::size_t(v)][1] >= 2 && b.shapes[std::size_t(v)][2] >= 2) v = b.pool(pick({0, 1}) ? nn::op::max_pool : nn::op::avg_pool, v);
                break;
            case 4: {  // squeeze-excitation: x * sigmoid(conv(global_pool(x))), a [C, 1, 1] broadcast
                const int pooled = b.node(nn::op::global_avg_pool, {v});
                const int gate = b.node(nn::op::sigmoid, {b.conv(pooled, c, false, true)});
                v = b.node(nn::op::mul, {v, gate});
                break;
            }
            default: v = b.node(pick({0, 1, 2}) == 0 ? nn::op::hard_swish : pick({0, 1}) ? nn::op::silu : nn::op::sigmoid, {v}); break;
        }
    }
    const int feature = v;
    if (pick({0, 1})) v = b.node(nn::op::global_avg_pool, {v});
    v = b.linear(b.node(nn::op::flatten, {v}), 5);
    b.m.outputs = {v, feature};  // the logits, and a feature map (converted back to NCHW)
    return std::move(b.m);
}

struct run_result {
    std::vector<std::vector<float>> outputs;
    std::vector<energy::layer_counts> layers;
};

// arena_threads: the thread count the arena is sized for (fewer than `threads`: layers run on
// fewer threads); b: the backend asked for (scalar: linear_s8's unfused path, its own scratch).
run_result run(const nn::compiled_model& c, const tensor<float, 2>& x, int threads = 1, int arena_threads = 0,
               backend b = backend::automatic) {
    auto scratch = arena::with_capacity(c.scratch_bytes(x.extent(0), arena_threads ? arena_threads : threads));
    REQUIRE(scratch.ok());
    context ctx;
    ctx.with_scratch(*scratch).with_threads(threads).with_backend(b);
    run_result r;
    r.layers = c.make_counters();
    std::vector<matrix_view<float>> ys;
    r.outputs.resize(c.output_count());
    for (std::size_t i = 0; i < c.output_count(); ++i) {
        r.outputs[i].resize(std::size_t(x.extent(0) * c.output_features(i)));
        ys.emplace_back(r.outputs[i].data(), extents_t<2>{x.extent(0), c.output_features(i)});
    }
    const status s = c.run(ctx, x.cview(), ys, &r.layers);
    REQUIRE_MESSAGE(s.ok(), s.message());
    return r;
}

tensor<float, 2> inputs(index_t rows, index_t features) {
    auto x = tensor<float, 2>::make({rows, features});
    REQUIRE(x.ok());
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = uniform(-2.0f, 2.0f);
    return std::move(*x);
}

void same_energy(const run_result& a, const run_result& b) {
    REQUIRE(a.layers.size() == b.layers.size());
    for (std::size_t i = 0; i < a.layers.size(); ++i) {
        CAPTURE(a.layers[i].name);
        const auto ea = energy::estimate_energy(a.layers[i].counts), eb = energy::estimate_energy(b.layers[i].counts);
        CHECK(ea.compute_j == eb.compute_j);
        CHECK(ea.memory_j == eb.memory_j);
        CHECK(a.layers[i].counts.total_macs() == b.layers[i].counts.total_macs());
    }
}

}  // namespace

TEST_CASE("channels-last models equal their NCHW selves on random CNNs: fp32 to rounding, int8 bit for bit, the same energy") {
    int converted_somewhere = 0;
    int on_codes[2] = {0, 0};  // unary ops through tables, gate scales
    std::size_t folded = 0;    // activations folded into layers
    double worst = 0;          // the largest relative L2 error of an int8 feature map
    for (int t = 0; t < 40; ++t) {
        CAPTURE(t);
        const nn::model m = random_cnn(2 + t % 5);
        REQUIRE(m.validate().ok());
        const index_t batch = pick({1, 2, 3});
        const tensor<float, 2> x = inputs(batch, m.in_features());
        nn::compile_options nchw;
        nchw.channels_last = false;
        auto ref = nn::compiled_model::compile(m, nchw);
        auto cl = nn::compiled_model::compile(m, {});
        REQUIRE_MESSAGE(ref.ok(), ref.error().message());
        REQUIRE(cl.ok());
        CHECK_FALSE(cl->parts().channels_last == ref->parts().channels_last);
        const run_result a = run(*ref, x), b = run(*cl, x);
        for (std::size_t o = 0; o < a.outputs.size(); ++o)
            for (std::size_t i = 0; i < a.outputs[o].size(); ++i) {
                const float want = a.outputs[o][i], got = b.outputs[o][i];
                if (!(std::fabs(got - want) <= 1e-5f * std::max(1.0f, std::fabs(want)))) {
                    FAIL_CHECK("fp32 output ", o, " element ", i, ": ", got, " vs ", want);
                    break;
                }
            }
        same_energy(a, b);
        // Winograd's 3x3 layers (compile_options::winograd) against im2col on the same layout;
        // parts() of a Winograd model rebuilds it bit for bit
        nn::compile_options direct;
        direct.winograd = false;
        auto cd = nn::compiled_model::compile(m, direct);
        auto again = nn::compiled_model::from_parts(cl->parts());
        REQUIRE(cd.ok());
        REQUIRE(again.ok());
        const run_result e = run(*cd, x), f = run(*again, x);
        for (std::size_t o = 0; o < e.outputs.size(); ++o) {
            CHECK(std::memcmp(e.outputs[o].data(), b.outputs[o].data(), e.outputs[o].size() * sizeof(float)) == 0);  // (no layer of 32 channels)
            CHECK(std::memcmp(f.outputs[o].data(), b.outputs[o].data(), f.outputs[o].size() * sizeof(float)) == 0);
        }
        same_energy(e, b);
        // SiLU / hard-swish folded into the layer before them (nn/fold_activations.hpp): fewer
        // nodes, the same function
        nn::compile_options unfolded;
        unfolded.fold_activations = false;
        auto cu = nn::compiled_model::compile(m, unfolded);
        REQUIRE(cu.ok());
        const run_result u = run(*cu, x);
        folded += cu->layer_count() - cl->layer_count();
        for (std::size_t o = 0; o < u.outputs.size(); ++o)
            for (std::size_t i = 0; i < u.outputs[o].size(); ++i) {
                const float want = u.outputs[o][i], got = b.outputs[o][i];
                if (!(std::fabs(got - want) <= 1e-5f * std::max(1.0f, std::fabs(want)))) {
                    FAIL_CHECK("folded output ", o, " element ", i, ": ", got, " vs ", want);
                    break;
                }
            }

        // int8: quantized once (on NCHW), then run both ways from the same parts
        const tensor<float, 2> calib = inputs(16, m.in_features());
        nn::compile_options q8 = nchw;
        q8.prec = nn::precision::int8;
        q8.calibration = calib.cview();
        auto q = nn::compiled_model::compile(m, q8);
        REQUIRE_MESSAGE(q.ok(), q.error().message());
        nn::compiled_parts parts = q->parts();
        {  // a ReLU on an add's codes folded into the add (ops::add_s8 clamps): the same codes
            nn::compile_options q8u = q8;
            q8u.fold_activations = false;
            auto qu = nn::compiled_model::compile(m, q8u);
            REQUIRE(qu.ok());
            const run_result fo = run(*q, x), un = run(*qu, x);
            for (std::size_t o = 0; o < fo.outputs.size(); ++o)
                CHECK(std::memcmp(fo.outputs[o].data(), un.outputs[o].data(), fo.outputs[o].size() * sizeof(float)) == 0);
            for (std::size_t i = 0; i < parts.steps.size(); ++i)  // a ReLU on an add of floats: refused
                if (parts.steps[i].kind == nn::op::add && !parts.s8[i + 1]) {
                    nn::compiled_parts bad = parts;
                    bad.steps[i].act = kernels::activation::relu;
                    CHECK(nn::compiled_model::from_parts(std::move(bad)).error().code() == errc::invalid_argument);
                    break;
                }
        }
        // the ops with codes of their own (tables, the gate's scale, adds) keep them between int8 layers
        for (std::size_t i = 0; i < parts.steps.size(); ++i) {
            const nn::op k = parts.steps[i].kind;
            if (parts.s8[i + 1] && (nn::ops::has_lut(k) || k == nn::op::mul)) ++on_codes[k == nn::op::mul ? 1 : 0];
        }
        // int8 against fp32 on the feature map: the quantization error only
        double err = 0, norm = 0;
        const run_result f8 = run(*q, x);
        for (std::size_t i = 0; i < a.outputs[1].size(); ++i)
            err += std::pow(double(f8.outputs[1][i]) - a.outputs[1][i], 2), norm += std::pow(double(a.outputs[1][i]), 2);
        worst = std::max(worst, std::sqrt(err / std::max(norm, 1e-30)));
        {  // an int8 layer cannot carry a SiLU (its stage only clamps codes): refused, as from a file
            nn::compiled_parts bad = parts;
            for (auto& st : bad.steps)
                if (!st.weight_s8.empty()) { st.act = kernels::activation::silu; break; }
            auto refused = nn::compiled_model::from_parts(std::move(bad));
            CHECK(refused.error().code() == errc::invalid_argument);
        }
        parts.channels_last = true;
        auto qcl = nn::compiled_model::from_parts(std::move(parts));
        REQUIRE(qcl.ok());
        const run_result c8 = run(*q, x), d8 = run(*qcl, x);
        for (std::size_t o = 0; o < c8.outputs.size(); ++o) {
            CAPTURE(o);
            CHECK(std::memcmp(c8.outputs[o].data(), d8.outputs[o].data(), c8.outputs[o].size() * sizeof(float)) == 0);
        }
        same_energy(c8, d8);
        // threads split rows and panels, never a sum: the same bits on 3 threads
        // (also with an arena sized for one thread, and int8 on the scalar backend: each task's
        // GEMM takes scratch from its own slice)
        const run_result b3 = run(*cl, x, 3), d3 = run(*qcl, x, 3), d3_tight = run(*qcl, x, 3, 1), d3_scalar = run(*qcl, x, 3, 0, backend::scalar);
        for (std::size_t o = 0; o < b.outputs.size(); ++o) {
            CHECK(std::memcmp(b.outputs[o].data(), b3.outputs[o].data(), b.outputs[o].size() * sizeof(float)) == 0);
            CHECK(std::memcmp(d8.outputs[o].data(), d3.outputs[o].data(), d8.outputs[o].size() * sizeof(float)) == 0);
            CHECK(std::memcmp(d8.outputs[o].data(), d3_tight.outputs[o].data(), d8.outputs[o].size() * sizeof(float)) == 0);
            CHECK(std::memcmp(d8.outputs[o].data(), d3_scalar.outputs[o].data(), d8.outputs[o].size() * sizeof(float)) == 0);
        }
        converted_somewhere += 1;
    }
    CHECK(converted_somewhere == 40);
    MESSAGE("values on codes: ", on_codes[0], " table lookups, ", on_codes[1], " gate scales; worst int8 relative error ", worst);
    CHECK(folded > 0);
    CHECK(on_codes[0] > 0);
    CHECK(on_codes[1] > 0);
    CHECK(worst < 0.4);  // (0.29 on these nets with those ops in float, as before they took codes)
}

TEST_CASE("int8: a ReLU / ReLU6 after a residual add on codes folds into the add, the same codes, through a .sparq file too") {
    for (const nn::op relu : {nn::op::relu, nn::op::relu6}) {
        CAPTURE(nn::to_string(relu));
        builder b({6, 7, 8});
        const auto conv3 = [&](int v) {  // 3x3, padding 1: the shape stays
            nn::node n;
            n.kind = nn::op::conv2d;
            n.inputs = {v};
            n.conv.params.pad_top = n.conv.params.pad_left = n.conv.params.pad_bottom = n.conv.params.pad_right = 1;
            auto w = tensor<float, 4>::make({6, 6, 3, 3});
            REQUIRE(w.ok());
            for (index_t i = 0; i < w->size(); ++i) w->data()[i] = uniform(-0.3f, 0.3f);
            n.conv.weight = std::move(*w);
            n.conv.bias.assign(6, 0.05f);
            return b.add(std::move(n));
        };
        const int a = conv3(0);
        const int r = b.node(relu, {b.node(nn::op::add, {conv3(a), a})});
        b.m.outputs = {conv3(r)};
        const tensor<float, 2> x = inputs(3, b.m.in_features()), calib = inputs(16, b.m.in_features());
        nn::compile_options o;
        o.prec = nn::precision::int8;
        o.calibration = calib.cview();
        nn::compile_options unfolded = o;
        unfolded.fold_activations = false;
        auto folded = nn::compiled_model::compile(b.m, o);
        auto plain = nn::compiled_model::compile(b.m, unfolded);
        REQUIRE(folded.ok());
        REQUIRE(plain.ok());
        CHECK(folded->layer_count() + 1 == plain->layer_count());
        const nn::compiled_parts parts = folded->parts();
        REQUIRE(parts.steps.size() == 4);
        CHECK(parts.steps[2].kind == nn::op::add);
        CHECK(parts.steps[2].act == (relu == nn::op::relu ? kernels::activation::relu : kernels::activation::relu6));
        const std::string bytes = io::encode_sparq(parts);
        auto reread = io::parse_sparq(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "folded.sparq");
        REQUIRE_MESSAGE(reread.ok(), reread.error().message());
        const run_result f = run(*folded, x), u = run(*plain, x), g = run(*reread, x);
        CHECK(std::memcmp(f.outputs[0].data(), u.outputs[0].data(), f.outputs[0].size() * sizeof(float)) == 0);
        CHECK(std::memcmp(g.outputs[0].data(), u.outputs[0].data(), g.outputs[0].size() * sizeof(float)) == 0);
        // the ReLU was not a no-op here: without it the codes differ
        nn::compiled_parts dropped = parts;
        dropped.steps[2].act = kernels::activation::none;
        auto no_relu = nn::compiled_model::from_parts(std::move(dropped));
        REQUIRE(no_relu.ok());
        const run_result d = run(*no_relu, x);
        CHECK(std::memcmp(d.outputs[0].data(), u.outputs[0].data(), d.outputs[0].size() * sizeof(float)) != 0);
    }
}

TEST_CASE("Winograd 3x3 layers (32 channels and more): within 1e-5 of im2col, and they ran") {
    for (int t = 0; t < 6; ++t) {
        CAPTURE(t);
        const index_t c = pick({32, 40}), side = t < 3 ? pick({5, 9, 12}) : 30;  // 30: F(4x4, 3x3), below 28: F(2x2, 3x3)
        builder b({c, side, side + 1});
        const auto conv3 = [&](int v, index_t out) {
            nn::node n;
            n.kind = nn::op::conv2d;
            n.inputs = {v};
            n.conv.params.pad_top = n.conv.params.pad_left = n.conv.params.pad_bottom = n.conv.params.pad_right = t % 2;
            const index_t in = b.shapes[std::size_t(v)][0];
            auto w = tensor<float, 4>::make({out, in, 3, 3});
            REQUIRE(w.ok());
            const float bound = 1.5f / std::sqrt(float(in * 9));
            for (index_t i = 0; i < w->size(); ++i) w->data()[i] = uniform(-bound, bound);
            n.conv.weight = std::move(*w);
            n.conv.bias.resize(std::size_t(out));
            std::generate(n.conv.bias.begin(), n.conv.bias.end(), [] { return uniform(-0.5f, 0.5f); });
            n.conv.act = t % 3 == 0 ? kernels::activation::relu : kernels::activation::none;
            return b.add(std::move(n));
        };
        int v = conv3(0, 48);
        v = b.node(nn::op::silu, {conv3(v, c)});  // (folded into the layer)
        b.m.outputs = {v};
        const tensor<float, 2> x = inputs(pick({1, 2}), b.m.in_features());
        nn::compile_options direct;
        direct.winograd = false;
        auto w = nn::compiled_model::compile(b.m, {});
        auto d = nn::compiled_model::compile(b.m, direct);
        REQUIRE(w.ok());
        REQUIRE(d.ok());
        const run_result a = run(*w, x), e = run(*d, x), a3 = run(*w, x, 3);
        CHECK(std::memcmp(a.outputs[0].data(), e.outputs[0].data(), a.outputs[0].size() * sizeof(float)) != 0);  // it ran
        CHECK(std::memcmp(a.outputs[0].data(), a3.outputs[0].data(), a.outputs[0].size() * sizeof(float)) == 0);
        float peak = 0;
        for (float y : e.outputs[0]) peak = std::max(peak, std::fabs(y));
        int off = 0;
        for (std::size_t i = 0; i < a.outputs[0].size(); ++i) off += !(std::fabs(a.outputs[0][i] - e.outputs[0][i]) <= 1e-5f * std::max(1.0f, peak));
        CHECK(off == 0);
        same_energy(a, e);
    }
}

TEST_CASE("the layout plan: convolutions and what follows them run channels-last, NCHW-only ops read converted values") {
    builder b({3, 8, 8});
    const int c1 = b.conv(0, 4, false);
    const int r = b.node(nn::op::relu, {c1});
    const int f = b.node(nn::op::flatten, {r});
    const int s = b.node(nn::op::relu, {f});  // after the flatten: NCHW again
    struct facts {
        nn::op kind;
        const std::vector<int>* inputs;
        const nn::op_params* params;
        std::size_t constant_size;
    };
    const auto cl = nn::plan_channels_last(b.shapes, b.m.nodes.size(), [&](std::size_t i) {
        return facts{b.m.nodes[i].kind, &b.m.nodes[i].inputs, &b.m.nodes[i].params, b.m.nodes[i].constant.size()};
    });
    CHECK(cl[0] == 0);
    CHECK(cl[std::size_t(c1)] == 1);
    CHECK(cl[std::size_t(r)] == 1);
    CHECK(cl[std::size_t(f)] == 0);
    CHECK(cl[std::size_t(s)] == 0);
    // a relu straight on the input stays NCHW: nothing channels-last feeds it
    builder e({3, 8, 8});
    e.node(nn::op::relu, {0});
    CHECK(nn::plan_channels_last(e.shapes, 1, [&](std::size_t i) {
              return facts{e.m.nodes[i].kind, &e.m.nodes[i].inputs, &e.m.nodes[i].params, 0};
          })[1] == 0);
    CHECK(nn::layout_free({1, 5, 5}));
    CHECK(nn::layout_free({7, 1, 1}));
    CHECK_FALSE(nn::layout_free({2, 1, 2}));
}

TEST_CASE("a CNN large enough that every op splits: 3 threads give the bits and the per-layer energy of one, fp32 and int8; a sample alone its bits in the batch") {
    // (the random CNNs above are too small for the ops between convolutions to split:
    // core/parallel.hpp keeps them on one thread below two grains of work)
    builder b({8, 72, 72});
    const auto conv = [&](int v, index_t out, index_t k, index_t groups, kernels::activation act) {
        const nn::sample_shape& s = b.shapes[std::size_t(v)];
        nn::node n;
        n.kind = nn::op::conv2d;
        n.inputs = {v};
        n.conv.params.pad_top = n.conv.params.pad_left = n.conv.params.pad_bottom = n.conv.params.pad_right = k / 2;
        n.conv.params.groups = groups;
        auto w = tensor<float, 4>::make({out, s[0] / groups, k, k});
        REQUIRE(w.ok());
        const float bound = 1.5f / std::sqrt(float(s[0] / groups * k * k));
        for (index_t i = 0; i < w->size(); ++i) w->data()[i] = uniform(-bound, bound);
        n.conv.weight = std::move(*w);
        n.conv.bias.resize(std::size_t(out));
        std::generate(n.conv.bias.begin(), n.conv.bias.end(), [] { return uniform(-0.5f, 0.5f); });
        n.conv.act = act;
        return b.add(std::move(n));
    };
    const int c1 = conv(0, 32, 3, 1, kernels::activation::relu);
    const int dw = conv(c1, 32, 3, 32, kernels::activation::none);  // depthwise
    const int h = b.node(nn::op::silu, {b.node(nn::op::batch_norm, {dw})});
    const int gate = b.node(nn::op::sigmoid, {conv(b.node(nn::op::global_avg_pool, {h}), 32, 1, 1, kernels::activation::none)});
    const int r = b.node(nn::op::relu, {b.node(nn::op::add, {b.node(nn::op::mul, {h, gate}), c1})});
    nn::node mp;
    mp.kind = nn::op::max_pool, mp.inputs = {r};
    mp.pool.kh = mp.pool.kw = 3, mp.pool.pad_top = mp.pool.pad_left = 1;
    nn::node ap;
    ap.kind = nn::op::avg_pool, ap.inputs = {b.add(std::move(mp))};
    const int pooled = b.node(nn::op::global_avg_pool, {b.add(std::move(ap))});
    const int logits = b.linear(b.node(nn::op::flatten, {pooled}), 5);
    b.m.outputs = {logits, r};  // r goes back to NCHW: a layout conversion that splits too
    REQUIRE(b.m.validate().ok());
    const tensor<float, 2> x = inputs(4, b.m.in_features());
    auto fp = nn::compiled_model::compile(b.m, {});
    REQUIRE(fp.ok());
    nn::compile_options q8;
    q8.prec = nn::precision::int8;
    const tensor<float, 2> calib = inputs(4, b.m.in_features());
    q8.calibration = calib.cview();
    auto q = nn::compiled_model::compile(b.m, q8);
    REQUIRE_MESSAGE(q.ok(), q.error().message());
    for (const nn::compiled_model* c : {&*fp, &*q}) {
        const run_result one = run(*c, x, 1), three = run(*c, x, 3), tight = run(*c, x, 3, 1);
        for (std::size_t o = 0; o < one.outputs.size(); ++o) {
            CAPTURE(o);
            CHECK(std::memcmp(one.outputs[o].data(), three.outputs[o].data(), one.outputs[o].size() * sizeof(float)) == 0);
            CHECK(std::memcmp(one.outputs[o].data(), tight.outputs[o].data(), one.outputs[o].size() * sizeof(float)) == 0);
        }
        same_energy(one, three);
        for (std::size_t i = 0; i < one.layers.size(); ++i) {
            CAPTURE(one.layers[i].name);
            CHECK(std::memcmp(&one.layers[i].counts, &three.layers[i].counts, sizeof one.layers[i].counts) == 0);
        }
        // each sample alone gives the bits it has in the batch (what lets run() take a batch in passes)
        for (index_t k = 0; k < x.extent(0); ++k) {
            auto row = tensor<float, 2>::make({1, x.extent(1)});
            REQUIRE(row.ok());
            std::copy(x.data() + k * x.extent(1), x.data() + (k + 1) * x.extent(1), row->data());
            const run_result alone = run(*c, *row, 1);
            for (std::size_t o = 0; o < one.outputs.size(); ++o) {
                const std::size_t n = alone.outputs[o].size();
                CHECK(std::memcmp(alone.outputs[o].data(), one.outputs[o].data() + std::size_t(k) * n, n * sizeof(float)) == 0);
            }
        }
    }
    // fp32: a sample's values (72 x 72 maps of 32 channels, ~6 MB) outweigh the weights and a
    // cache, so run() takes the batch a sample at a time, in one sample's scratch; int8's codes
    // (a quarter of the bytes) go as a batch
    CHECK(fp->samples_per_pass(4) == 1);
    CHECK(fp->scratch_bytes(4) == fp->scratch_bytes(1));
    CHECK(q->samples_per_pass(4) == 4);
    // and the whole batch in one pass gives the bits of the passes (and the other way for int8)
    for (nn::compiled_model* c : {&*fp, &*q}) {
        const run_result by_rule = run(*c, x, 1);
        c->set_max_pass(c == &*fp ? 4 : 1);
        CHECK(c->samples_per_pass(4) == (c == &*fp ? 4 : 1));
        const run_result forced = run(*c, x, 1);
        c->set_max_pass(0);
        for (std::size_t o = 0; o < by_rule.outputs.size(); ++o)
            CHECK(std::memcmp(by_rule.outputs[o].data(), forced.outputs[o].data(), by_rule.outputs[o].size() * sizeof(float)) == 0);
    }
}

}  // namespace test_channels_last_suite
