// The ops of ONNX import in compiled models: each against a plain double-precision reference
// written here (loops over coordinates, nothing shared with nn/ops), on random shapes with
// extents of 1 and odd sizes; broadcasting, NaN, every transpose permutation, every softmax and
// concat axis, every reduce_mean mask; models returning several values; .sparq 1.1 round trips
// and a 1.0 file; int8 models with reshape and mul; bad parameters refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sparq/io/export_c.hpp"
#include "sparq/io/sparq_format.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "sparq/nn/train/graph.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_ops_suite {

namespace {

using vec = std::vector<double>;

// One sample of a value: data in row-major [C, H, W].
struct sample {
    nn::sample_shape s;
    vec v;
    double at(index_t c, index_t h, index_t w) const { return v[std::size_t((c * s[1] + h) * s[2] + w)]; }
};

double ref_unary(nn::op k, const nn::op_params& p, double x) {
    const double a = p.alpha, b = p.beta;
    switch (k) {
        case nn::op::relu: return std::isnan(x) ? x : x > 0 ? x : 0;
        case nn::op::relu6: return std::isnan(x) ? x : x > 0 ? std::min(x, 6.0) : 0;
        case nn::op::sigmoid: return 1 / (1 + std::exp(-x));
        case nn::op::tanh: return std::tanh(x);
        case nn::op::gelu: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        case nn::op::silu: return x / (1 + std::exp(-x));
        case nn::op::hard_sigmoid: return std::isnan(x) ? x : std::clamp(a * x + b, 0.0, 1.0);
        case nn::op::hard_swish: return std::isnan(x) ? x : x * std::clamp(x + 3, 0.0, 6.0) / 6;
        case nn::op::leaky_relu: return std::isnan(x) ? x : x < 0 ? a * x : x;
        case nn::op::clip: return std::isnan(x) ? x : std::min(std::max(x, a), b);
        case nn::op::exp: return std::exp(x);
        case nn::op::sqrt: return std::sqrt(x);
        case nn::op::neg: return -x;
        case nn::op::erf: return std::erf(x);
        default: FAIL("not unary"); return 0;
    }
}

double ref_binary(nn::op k, double a, double b) {
    switch (k) {
        case nn::op::add: return a + b;
        case nn::op::sub: return a - b;
        case nn::op::mul: return a * b;
        case nn::op::div: return a / b;
        case nn::op::pow: return std::pow(a, b);
        default: FAIL("not binary"); return 0;
    }
}

// The reference interpreter: every value of one sample through the graph (no linear / conv).
std::vector<sample> ref_run(const nn::model& m, const vec& x) {
    std::vector<sample> v{{m.input, x}};
    for (const nn::node& d : m.nodes) {
        const sample& a = v[std::size_t(d.inputs[0])];
        const nn::op_params& p = d.params;
        sample y{a.s, {}};
        auto fill = [&](auto&& f) {  // y.v from f(c, h, w) over y.s
            y.v.clear();
            for (index_t c = 0; c < y.s[0]; ++c)
                for (index_t h = 0; h < y.s[1]; ++h)
                    for (index_t w = 0; w < y.s[2]; ++w) y.v.push_back(f(c, h, w));
        };
        if (nn::is_unary_elementwise(d.kind)) {
            for (double e : a.v) y.v.push_back(ref_unary(d.kind, p, e));
        } else if (nn::is_binary(d.kind)) {
            sample b;
            if (d.inputs.size() == 2) b = v[std::size_t(d.inputs[1])];
            else b = {p.shape, vec(d.constant.begin(), d.constant.end())};
            const sample& l = d.inputs.size() == 1 && p.constant_first ? b : a;
            const sample& r = d.inputs.size() == 1 && p.constant_first ? a : b;
            for (int k = 0; k < 3; ++k) y.s[k] = std::max(l.s[k], r.s[k]);
            fill([&](index_t c, index_t h, index_t w) {
                auto pick = [&](const sample& o) { return o.at(o.s[0] == 1 ? 0 : c, o.s[1] == 1 ? 0 : h, o.s[2] == 1 ? 0 : w); };
                return ref_binary(d.kind, pick(l), pick(r));
            });
        } else {
            switch (d.kind) {
                case nn::op::batch_norm:
                    fill([&](index_t c, index_t h, index_t w) {
                        return a.at(c, h, w) * d.constant[std::size_t(c)] + d.constant[std::size_t(a.s[0] + c)];
                    });
                    break;
                case nn::op::pad:
                    for (int k = 0; k < 3; ++k) y.s[k] = a.s[k] + p.pads[k] + p.pads[k + 3];
                    fill([&](index_t c, index_t h, index_t w) {
                        const index_t ic = c - p.pads[0], ih = h - p.pads[1], iw = w - p.pads[2];
                        const bool in = ic >= 0 && ih >= 0 && iw >= 0 && ic < a.s[0] && ih < a.s[1] && iw < a.s[2];
                        return in ? a.at(ic, ih, iw) : double(p.alpha);
                    });
                    break;
                case nn::op::transpose: {
                    // output element j: its 4 output coordinates, read at the input coordinates they name
                    const auto& e = p.dims;
                    const index_t od[4] = {e[p.perm[0]], e[p.perm[1]], e[p.perm[2]], e[p.perm[3]]};
                    y.s = {od[0], od[1], od[2] * od[3]};
                    for (std::size_t j = 0; j < a.v.size(); ++j) {
                        index_t rest = index_t(j), oc[4], ic[4];
                        for (int k = 3; k >= 0; --k) oc[k] = rest % od[k], rest /= od[k];
                        for (int k = 0; k < 4; ++k) ic[p.perm[k]] = oc[k];
                        y.v.push_back(a.v[std::size_t(((ic[0] * e[1] + ic[1]) * e[2] + ic[2]) * e[3] + ic[3])]);
                    }
                    break;
                }
                case nn::op::reshape: y.s = p.shape, y.v = a.v; break;
                case nn::op::flatten: y.s = {index_t(a.v.size()), 1, 1}, y.v = a.v; break;
                case nn::op::reduce_mean: {
                    for (int k = 0; k < 3; ++k)
                        if (p.axes & (1u << k)) y.s[k] = 1;
                    fill([&](index_t c, index_t h, index_t w) {
                        double sum = 0, n = 0;
                        for (index_t i = 0; i < a.s[0]; ++i)
                            for (index_t j = 0; j < a.s[1]; ++j)
                                for (index_t k = 0; k < a.s[2]; ++k)
                                    if ((p.axes & 1u || i == c) && (p.axes & 2u || j == h) && (p.axes & 4u || k == w)) sum += a.at(i, j, k), ++n;
                        return sum / n;
                    });
                    break;
                }
                case nn::op::softmax:
                    fill([&](index_t c, index_t h, index_t w) {
                        index_t at[3] = {c, h, w};
                        const double mine = a.at(c, h, w);
                        double sum = 0;
                        for (index_t i = 0; i < a.s[std::size_t(p.axis)]; ++i) {
                            at[p.axis] = i;
                            sum += std::exp(a.at(at[0], at[1], at[2]) - mine);
                        }
                        return 1 / sum;
                    });
                    break;
                case nn::op::concat: {
                    const int ax = p.axis;
                    y.s[std::size_t(ax)] = 0;
                    for (int in : d.inputs) y.s[std::size_t(ax)] += v[std::size_t(in)].s[std::size_t(ax)];
                    fill([&](index_t c, index_t h, index_t w) {
                        index_t at[3] = {c, h, w};
                        for (int in : d.inputs) {
                            const sample& part = v[std::size_t(in)];
                            if (at[ax] < part.s[std::size_t(ax)]) return part.at(at[0], at[1], at[2]);
                            at[ax] -= part.s[std::size_t(ax)];
                        }
                        FAIL("concat");
                        return 0.0;
                    });
                    break;
                }
                case nn::op::global_avg_pool: {
                    y.s = {a.s[0], 1, 1};
                    fill([&](index_t c, index_t, index_t) {
                        double sum = 0;
                        for (index_t h = 0; h < a.s[1]; ++h)
                            for (index_t w = 0; w < a.s[2]; ++w) sum += a.at(c, h, w);
                        return sum / double(a.s[1] * a.s[2]);
                    });
                    break;
                }
                default: FAIL("no reference for ", nn::to_string(d.kind));
            }
        }
        REQUIRE(index_t(y.v.size()) == y.s[0] * y.s[1] * y.s[2]);
        v.push_back(std::move(y));
    }
    return v;
}

std::mt19937& rng() {
    static std::mt19937 g(20261207);
    return g;
}
float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng()); }
index_t extent(index_t hi) { return std::uniform_int_distribution<index_t>(1, hi)(rng()); }
std::vector<float> randoms(std::size_t n, float lo, float hi) {
    std::vector<float> v(n);
    for (float& e : v) e = uniform(lo, hi);
    return v;
}

nn::node make(nn::op k, std::vector<int> inputs, const nn::op_params& p = {}, std::vector<float> constant = {}) {
    nn::node n;
    n.name = std::string(nn::to_string(k)) + "_node";
    n.kind = k;
    n.inputs = std::move(inputs);
    n.params = p;
    n.constant = std::move(constant);
    return n;
}

struct runner {
    tensor<float, 2> x;
    index_t batch;
    // every output of compiled model c on x
    std::vector<std::vector<float>> run(const nn::compiled_model& c) const {
        auto scratch = arena::with_capacity(c.scratch_bytes(batch));
        REQUIRE(scratch.ok());
        context ctx;
        ctx.with_scratch(*scratch);
        std::vector<std::vector<float>> out(c.output_count());
        std::vector<matrix_view<float>> ys;
        for (std::size_t i = 0; i < out.size(); ++i) {
            out[i].resize(std::size_t(batch * c.output_features(i)));
            ys.emplace_back(out[i].data(), extents_t<2>{batch, c.output_features(i)});
        }
        const status s = c.run(ctx, x.cview(), ys);
        REQUIRE_MESSAGE(s.ok(), s.message());
        return out;
    }
};

runner inputs_for(const nn::model& m, index_t batch, float lo, float hi) {
    auto x = tensor<float, 2>::make({batch, m.in_features()});
    REQUIRE(x.ok());
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = uniform(lo, hi);
    return {std::move(*x), batch};
}

// The model compiled in fp32 against the reference on every output, each sample.
void check_against_reference(const nn::model& m, float lo = -3.0f, float hi = 3.0f, double tol = 2e-5) {
    const status valid = m.validate();
    REQUIRE_MESSAGE(valid.ok(), valid.message());
    auto c = nn::compiled_model::compile(m, {});
    REQUIRE_MESSAGE(c.ok(), c.error().message());
    const index_t batch = 3;
    const runner r = inputs_for(m, batch, lo, hi);
    const auto got = r.run(*c);
    std::vector<int> outs = m.outputs;
    if (outs.empty()) outs = {int(m.nodes.size())};
    REQUIRE(got.size() == outs.size());
    for (index_t b = 0; b < batch; ++b) {
        const vec x(r.x.data() + b * m.in_features(), r.x.data() + (b + 1) * m.in_features());
        const auto ref = ref_run(m, x);
        for (std::size_t o = 0; o < outs.size(); ++o) {
            const vec& want = ref[std::size_t(outs[o])].v;
            REQUIRE(index_t(want.size()) == c->output_features(o));
            for (std::size_t i = 0; i < want.size(); ++i) {
                const double g = got[o][std::size_t(b) * want.size() + i];
                if (std::isnan(want[i])) {
                    CHECK_MESSAGE(std::isnan(g), "output ", o, " element ", i);
                    continue;
                }
                if (!(std::fabs(g - want[i]) <= tol * std::max(1.0, std::fabs(want[i])))) {
                    FAIL_CHECK("output ", o, " sample ", b, " element ", i, ": ", g, " vs ", want[i]);
                    return;
                }
            }
        }
    }
}

nn::sample_shape random_shape(index_t hi = 7) { return {extent(hi), extent(hi), extent(hi)}; }

}  // namespace

TEST_CASE("unary ops match the reference on random shapes; NaN goes through as in PyTorch") {
    const nn::op kinds[] = {nn::op::relu, nn::op::relu6, nn::op::sigmoid, nn::op::tanh, nn::op::gelu, nn::op::silu, nn::op::hard_sigmoid,
                            nn::op::hard_swish, nn::op::leaky_relu, nn::op::clip, nn::op::exp, nn::op::sqrt, nn::op::neg, nn::op::erf};
    for (nn::op k : kinds) {
        CAPTURE(nn::to_string(k));
        for (int t = 0; t < 4; ++t) {
            nn::model m;
            m.input = random_shape();
            nn::op_params p;
            if (k == nn::op::hard_sigmoid) p.alpha = 1.0f / 6.0f, p.beta = 0.5f;
            if (k == nn::op::leaky_relu) p.alpha = uniform(0.01f, 0.3f);
            if (k == nn::op::clip) p.alpha = uniform(-2.0f, 0.0f), p.beta = uniform(0.0f, 2.0f);
            m.nodes.push_back(make(k, {0}, p));
            const bool positive = k == nn::op::sqrt;
            check_against_reference(m, positive ? 0.0f : -8.0f, 8.0f);
        }
        // NaN in, NaN out
        nn::model m;
        m.input = {3, 1, 1};
        nn::op_params p;
        p.alpha = 0.1f, p.beta = 0.5f;
        if (k == nn::op::clip) p.alpha = -1.0f, p.beta = 1.0f;
        m.nodes.push_back(make(k, {0}, p));
        auto c = nn::compiled_model::compile(m, {});
        REQUIRE(c.ok());
        tensor<float, 2> x = std::move(*tensor<float, 2>::make({1, 3}));
        x.data()[0] = std::numeric_limits<float>::quiet_NaN(), x.data()[1] = -5.0f, x.data()[2] = 5.0f;
        const auto y = runner{std::move(x), 1}.run(*c);
        CHECK(std::isnan(y[0][0]));
    }
}

TEST_CASE("binary ops broadcast as numpy does: value op value, value op constant, constant op value") {
    const nn::op kinds[] = {nn::op::add, nn::op::sub, nn::op::mul, nn::op::div, nn::op::pow};
    for (nn::op k : kinds) {
        CAPTURE(nn::to_string(k));
        for (int t = 0; t < 3; ++t) {
            const nn::sample_shape s = random_shape();
            // two values: [C,H,W] op [C,H,W], [C,H,W] op [C,1,1], [1,H,W] op [C,H,W], [C,1,1] op [1,H,W]
            {
                nn::op_params hw, ch;
                hw.axes = 6;  // mean over H, W: [C, 1, 1]
                ch.axes = 1;  // mean over C: [1, H, W]
                nn::model m;
                m.input = s;
                m.nodes.push_back(make(nn::op::reduce_mean, {0}, hw));  // 1
                m.nodes.push_back(make(nn::op::reduce_mean, {0}, ch));  // 2
                m.nodes.push_back(make(k, {0, 0}));                     // 3
                m.nodes.push_back(make(k, {0, 1}));                     // 4
                m.nodes.push_back(make(k, {2, 0}));                     // 5
                m.nodes.push_back(make(k, {1, 2}));                     // 6
                m.outputs = {3, 4, 5, 6};
                check_against_reference(m, 0.5f, 2.0f);
            }
            // value op constant and constant op value, the constant [C,H,W], [C,1,1], [1,H,W], [1,1,1], [1,1,W]
            for (const nn::sample_shape cs : {s, nn::sample_shape{s[0], 1, 1}, nn::sample_shape{1, s[1], s[2]}, nn::sample_shape{1, 1, 1},
                                               nn::sample_shape{1, 1, s[2]}})
                for (bool first : {false, true}) {
                    nn::model m;
                    m.input = s;
                    nn::op_params p;
                    p.shape = cs;
                    p.constant_first = first;
                    m.nodes.push_back(make(k, {0}, p, randoms(std::size_t(cs[0] * cs[1] * cs[2]), 0.5f, 2.0f)));
                    check_against_reference(m, 0.5f, 2.0f);
                }
        }
        // a vector op a constant vector
        nn::model m;
        m.input = {11, 1, 1};
        nn::op_params p;
        p.shape = {11, 1, 1};
        m.nodes.push_back(make(k, {0}, p, randoms(11, 0.5f, 2.0f)));
        check_against_reference(m, 0.5f, 2.0f);
    }
}

TEST_CASE("batch_norm, pad, reshape, reduce_mean on random shapes") {
    for (int t = 0; t < 6; ++t) {
        const nn::sample_shape s = random_shape();
        nn::model m;
        m.input = s;
        m.nodes.push_back(make(nn::op::batch_norm, {0}, {}, randoms(std::size_t(2 * s[0]), -2.0f, 2.0f)));
        nn::op_params pad;
        for (auto& e : pad.pads) e = std::uniform_int_distribution<index_t>(-1, 2)(rng());  // -1: a crop (Slice)
        for (std::size_t k = 0; k < 3; ++k)
            if (s[k] + pad.pads[k] + pad.pads[k + 3] < 1) pad.pads[k] = pad.pads[k + 3] = 0;
        pad.alpha = uniform(-1.0f, 1.0f);
        m.nodes.push_back(make(nn::op::pad, {1}, pad));
        nn::op_params r;
        r.shape = {1, s[0] * s[1], s[2]};
        m.nodes.push_back(make(nn::op::reshape, {0}, r));
        m.outputs = {2, 3};
        for (std::uint32_t axes = 1; axes < 8; ++axes) {
            nn::op_params p;
            p.axes = axes;
            m.nodes.push_back(make(nn::op::reduce_mean, {1}, p));
            m.outputs.push_back(int(m.nodes.size()));
        }
        check_against_reference(m);
    }
}

TEST_CASE("transpose: every permutation of 4 dims, extents of 1 and odd") {
    for (int t = 0; t < 4; ++t) {
        nn::op_params p;
        for (auto& e : p.dims) e = extent(5);
        if (t == 0) p.dims = {3, 1, 5, 2};
        std::array<index_t, 4> perm{0, 1, 2, 3};
        nn::model m;
        m.input = {p.dims[0], p.dims[1], p.dims[2] * p.dims[3]};
        do {
            p.perm = perm;
            m.nodes.push_back(make(nn::op::transpose, {0}, p));
            m.outputs.push_back(int(m.nodes.size()));
        } while (std::next_permutation(perm.begin(), perm.end()));
        REQUIRE(m.outputs.size() == 24);
        check_against_reference(m, -3.0f, 3.0f, 0.0);  // moves only: exact
    }
}

TEST_CASE("softmax along each axis; concat along each axis") {
    for (int t = 0; t < 5; ++t) {
        const nn::sample_shape s = random_shape();
        nn::model m;
        m.input = s;
        for (int axis = 0; axis < 3; ++axis) {
            nn::op_params p;
            p.axis = axis;
            m.nodes.push_back(make(nn::op::softmax, {0}, p));
            m.outputs.push_back(int(m.nodes.size()));
        }
        for (int axis = 0; axis < 3; ++axis) {
            nn::op_params r, p;
            r.axes = 1u << axis;  // the input with extent 1 along the axis
            m.nodes.push_back(make(nn::op::reduce_mean, {0}, r));
            const int reduced = int(m.nodes.size());
            p.axis = axis;
            m.nodes.push_back(make(nn::op::concat, {0, reduced, 1, 0}, p));
            m.outputs.push_back(int(m.nodes.size()));
        }
        check_against_reference(m, -5.0f, 5.0f);
    }
    // the old behaviour: a vector's softmax over the whole sample, equal values even
    nn::model v;
    v.input = {7, 1, 1};
    v.nodes.push_back(make(nn::op::softmax, {0}));
    check_against_reference(v);
}

TEST_CASE("several outputs: an intermediate value and the last, in fp32 and int8") {
    nn::model m;
    m.input = {6, 1, 1};
    nn::node fc;
    fc.name = "h";
    fc.kind = nn::op::linear;
    fc.inputs = {0};
    fc.linear.weight = std::move(*tensor<float, 2>::make({5, 6}));
    for (index_t i = 0; i < 30; ++i) fc.linear.weight.data()[i] = uniform(-1.0f, 1.0f);
    fc.linear.bias = randoms(5, -0.5f, 0.5f);
    m.nodes.push_back(std::move(fc));
    m.nodes.push_back(make(nn::op::relu, {1}));
    nn::node fc2 = make(nn::op::linear, {2});
    fc2.linear.weight = std::move(*tensor<float, 2>::make({3, 5}));
    for (index_t i = 0; i < 15; ++i) fc2.linear.weight.data()[i] = uniform(-1.0f, 1.0f);
    m.nodes.push_back(std::move(fc2));
    m.outputs = {1, 3, 2};
    CHECK(m.out_features() == 5);
    const runner r = inputs_for(m, 4, -2.0f, 2.0f);

    auto c = nn::compiled_model::compile(m, {});
    REQUIRE(c.ok());
    REQUIRE(c->output_count() == 3);
    CHECK(c->output_features(0) == 5);
    CHECK(c->output_features(1) == 3);
    CHECK(c->output_features(2) == 5);
    CHECK(c->out_features() == 5);
    const auto y = r.run(*c);
    for (std::size_t i = 0; i < y[0].size(); ++i) CHECK(y[2][i] == std::max(y[0][i], 0.0f));  // relu(h) and h
    // the single-output run writes output 0 alone
    std::vector<float> y0(y[0].size());
    auto scratch = arena::with_capacity(c->scratch_bytes(4));
    REQUIRE(scratch.ok());
    context ctx;
    ctx.with_scratch(*scratch);
    REQUIRE(c->run(ctx, r.x.cview(), matrix_view<float>(y0.data(), {4, 5})).ok());
    CHECK(y0 == y[0]);
    // the same model returning only its last value: h's producer is not affected by being an output
    nn::model last;
    last.input = m.input;
    for (const auto& n : m.nodes) {
        nn::node copy = make(n.kind, n.inputs);
        copy.linear.bias = n.linear.bias;
        if (n.kind == nn::op::linear) copy.linear.weight = std::move(*n.linear.weight.clone());
        last.nodes.push_back(std::move(copy));
    }
    auto cl = nn::compiled_model::compile(last, {});
    REQUIRE(cl.ok());
    CHECK(r.run(*cl)[0] == y[1]);
    // wrong lists refused
    std::vector<matrix_view<float>> one{matrix_view<float>(y0.data(), {4, 5})};
    CHECK(c->run(ctx, r.x.cview(), one).code() == errc::invalid_argument);

    // int8: h and relu(h) are outputs, so h is dequantized floats, never left as codes
    auto calib = tensor<float, 2>::make({64, 6});
    REQUIRE(calib.ok());
    for (index_t i = 0; i < calib->size(); ++i) calib->data()[i] = uniform(-2.0f, 2.0f);
    nn::compile_options o;
    o.prec = nn::precision::int8;
    o.calibration = calib->cview();
    auto q = nn::compiled_model::compile(m, o);
    REQUIRE(q.ok());
    const auto parts = q->parts();
    CHECK(parts.s8[1] == 0);
    CHECK(parts.outputs == m.outputs);
    const auto yq = r.run(*q);
    for (std::size_t o2 = 0; o2 < 3; ++o2)
        for (std::size_t i = 0; i < y[o2].size(); ++i) CHECK(yq[o2][i] == doctest::Approx(y[o2][i]).epsilon(0.1).scale(0.2));
    // outputs out of range
    m.outputs = {4};
    CHECK(std::string(m.validate().message()).find("output value 4 does not exist") != std::string::npos);
}

namespace {

// A model using every op of ONNX import (and the old small ops), with two outputs.
nn::model every_op_model() {
    nn::model m;
    m.input = {4, 3, 5};
    auto add = [&](nn::node n) {
        m.nodes.push_back(std::move(n));
        return int(m.nodes.size());
    };
    nn::op_params p;
    p.alpha = 0.2f, p.beta = 0.6f;
    int v = add(make(nn::op::hard_sigmoid, {0}, p));
    v = add(make(nn::op::silu, {v}));
    v = add(make(nn::op::hard_swish, {v}));
    p.alpha = 0.05f;
    v = add(make(nn::op::leaky_relu, {v}, p));
    p.alpha = -1.0f, p.beta = 1.5f;
    v = add(make(nn::op::clip, {v}, p));
    v = add(make(nn::op::exp, {v}));
    v = add(make(nn::op::sqrt, {v}));
    v = add(make(nn::op::erf, {v}));
    const int e = add(make(nn::op::neg, {v}));
    nn::op_params c;
    c.shape = {4, 1, 1};
    v = add(make(nn::op::mul, {e}, c, {0.5f, -1.0f, 2.0f, 0.25f}));
    c.constant_first = true;
    v = add(make(nn::op::sub, {v}, c, {1.0f, 2.0f, 3.0f, 4.0f}));
    v = add(make(nn::op::div, {v}, c, {1.0f, 2.0f, 3.0f, 4.0f}));
    c.constant_first = false;
    c.shape = {1, 1, 1};
    const int pw = add(make(nn::op::pow, {0}, c, {2.0f}));
    v = add(make(nn::op::add, {v, pw}));
    v = add(make(nn::op::batch_norm, {v}, {}, {1, 2, 3, 4, 0.5f, 0.25f, 0, -1}));
    nn::op_params pad;
    pad.pads = {0, 1, 2, 1, 0, 1};
    pad.alpha = -0.5f;
    v = add(make(nn::op::pad, {v}, pad));  // [5, 4, 8]
    nn::op_params t;
    t.dims = {5, 4, 2, 4};
    t.perm = {2, 0, 3, 1};
    v = add(make(nn::op::transpose, {v}, t));  // [2, 5, 16]
    nn::op_params r;
    r.shape = {10, 4, 4};
    v = add(make(nn::op::reshape, {v}, r));
    nn::op_params s;
    s.axis = 1;
    const int sm = add(make(nn::op::softmax, {v}, s));
    nn::op_params k;
    k.axis = 2;
    v = add(make(nn::op::concat, {v, sm}, k));  // [10, 4, 8]
    nn::op_params mean;
    mean.axes = 5;
    v = add(make(nn::op::reduce_mean, {v}, mean));  // [1, 4, 1]
    m.outputs = {v, e};
    return m;
}

}  // namespace

TEST_CASE("every new op: the reference, and a .sparq 1.1 round trip that runs bit for bit") {
    const nn::model m = every_op_model();
    check_against_reference(m, -1.0f, 1.0f, 1e-5);
    auto c = nn::compiled_model::compile(m, {});
    REQUIRE(c.ok());
    const std::string bytes = io::encode_sparq(c->parts());
    CHECK(bytes.find("OUTS") != std::string::npos);
    auto p = io::decode_sparq(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "every.sparq");
    REQUIRE_MESSAGE(p.ok(), p.error().message());
    CHECK(p->outputs == m.outputs);
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        CHECK(p->steps[i].constant == m.nodes[i].constant);
        CHECK(std::memcmp(&p->steps[i].params.alpha, &m.nodes[i].params.alpha, 4) == 0);
        CHECK(p->steps[i].params.perm == m.nodes[i].params.perm);
        CHECK(p->steps[i].params.pads == m.nodes[i].params.pads);
        CHECK(p->steps[i].params.shape == m.nodes[i].params.shape);
        CHECK(p->steps[i].params.axis == m.nodes[i].params.axis);
        CHECK(p->steps[i].params.axes == m.nodes[i].params.axes);
        CHECK(p->steps[i].params.constant_first == m.nodes[i].params.constant_first);
    }
    CHECK(io::encode_sparq(*p) == bytes);
    auto back = nn::compiled_model::from_parts(std::move(*p));
    REQUIRE_MESSAGE(back.ok(), back.error().message());
    const runner r = inputs_for(m, 2, -1.0f, 1.0f);
    const auto a = r.run(*c), b = r.run(*back);
    REQUIRE(a.size() == 2);
    for (std::size_t o = 0; o < 2; ++o) {
        REQUIRE(a[o].size() == b[o].size());
        CHECK(std::memcmp(a[o].data(), b[o].data(), a[o].size() * 4) == 0);
    }
    // truncated anywhere: refused, never crashes (the counts are bounded by the bytes left)
    for (std::size_t n = 0; n < bytes.size(); n += 3)
        CHECK_FALSE(io::decode_sparq(reinterpret_cast<const unsigned char*>(bytes.data()), n, "t.sparq").ok());
    // export-c and training refuse what they do not run, naming the op
    auto h = io::export_c(c->parts(), "net", "every.sparq");
    REQUIRE_FALSE(h.ok());
    nn::compiled_parts one = c->parts();
    one.outputs.clear();
    h = io::export_c(one, "net", "every.sparq");
    REQUIRE_FALSE(h.ok());
    CHECK(std::string(h.error().message()).find("op 'hard_sigmoid' is not supported by the firmware runtime") != std::string::npos);
    nn::model single = every_op_model();
    single.outputs.clear();
    nn::train::graph_cache cache;
    const status s = nn::train::graph_forward(single, r.x.cview(), cache);
    CHECK(s.code() == errc::unsupported);
    CHECK(std::string(s.message()).find("hard_sigmoid") != std::string::npos);
}

namespace {
// Written by sparq at format 1.0 (before op parameters): conv2d 3x3 (2 -> 3 channels, padding 1),
// relu, max_pool 2x2, flatten, linear 12 -> 5, softmax; fp32; its weights as tiny_v10() makes them.
const unsigned char sparq_v10[] = {
    0x73, 0x70, 0x61, 0x72, 0x71, 0x00, 0x0d, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x82, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x0b, 0x48, 0xde, 0x37, 0xcf, 0x34, 0xbc,
    0x4d, 0x4f, 0x44, 0x4c, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x07, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x56, 0x41, 0x4c, 0x53, 0x5b, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00,
    0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x4e,
    0x4f, 0x44, 0x45, 0x30, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x63,
    0x6f, 0x6e, 0x76, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xbf, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0xbe, 0x00,
    0x00, 0x20, 0x3f, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0xc0, 0xbe, 0x00, 0x00, 0x00, 0x3f, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0xc0, 0x3e, 0x00, 0x00, 0x00, 0xbe, 0x00,
    0x00, 0x20, 0xbf, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0xbe, 0x00, 0x00, 0x20, 0x3f, 0x00,
    0x00, 0x00, 0x3e, 0x00, 0x00, 0xc0, 0xbe, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xbf, 0x00, 0x00, 0xc0, 0x3e, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x20, 0xbf, 0x00,
    0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0xbe, 0x00, 0x00, 0x20, 0x3f, 0x00, 0x00, 0x00, 0x3e, 0x00,
    0x00, 0xc0, 0xbe, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0x00,
    0x00, 0xc0, 0x3e, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x20, 0xbf, 0x00, 0x00, 0x80, 0x3e, 0x00,
    0x00, 0x80, 0xbe, 0x00, 0x00, 0x20, 0x3f, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0xc0, 0xbe, 0x00,
    0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0xc0, 0x3e, 0x00,
    0x00, 0x00, 0xbe, 0x00, 0x00, 0x20, 0xbf, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0xbe, 0x00,
    0x00, 0x20, 0x3f, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0xc0, 0xbe, 0x00, 0x00, 0x00, 0x3f, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0xc0, 0x3e, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x80, 0x3e, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x3e, 0x4e, 0x4f, 0x44, 0x45, 0x10,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x72, 0x65, 0x6c, 0x75, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x4e, 0x4f, 0x44, 0x45, 0x31, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x07, 0x00, 0x04, 0x00, 0x70, 0x6f, 0x6f, 0x6c, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x4e, 0x4f, 0x44, 0x45, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0a, 0x00, 0x04, 0x00, 0x66, 0x6c, 0x61, 0x74, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x4e, 0x4f, 0x44, 0x45, 0x2a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x66, 0x63, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00,
    0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xc0, 0xbe, 0x00, 0x00, 0x80, 0xbd, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0xbe, 0x00, 0x00,
    0x80, 0x3d, 0x00, 0x00, 0xc0, 0x3e, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x40, 0x3e, 0x00, 0x00,
    0xa0, 0xbe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x3e, 0x00, 0x00, 0x40, 0xbe, 0x00, 0x00,
    0x00, 0x3e, 0x00, 0x00, 0xc0, 0xbe, 0x00, 0x00, 0x80, 0xbd, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00,
    0x80, 0xbe, 0x00, 0x00, 0x80, 0x3d, 0x00, 0x00, 0xc0, 0x3e, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00,
    0x40, 0x3e, 0x00, 0x00, 0xa0, 0xbe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x3e, 0x00, 0x00,
    0x40, 0xbe, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0xc0, 0xbe, 0x00, 0x00, 0x80, 0xbd, 0x00, 0x00,
    0x80, 0x3e, 0x00, 0x00, 0x80, 0xbe, 0x00, 0x00, 0x80, 0x3d, 0x00, 0x00, 0xc0, 0x3e, 0x00, 0x00,
    0x00, 0xbe, 0x00, 0x00, 0x40, 0x3e, 0x00, 0x00, 0xa0, 0xbe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x3e, 0x00, 0x00, 0x40, 0xbe, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0xc0, 0xbe, 0x00, 0x00,
    0x80, 0xbd, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0xbe, 0x00, 0x00, 0x80, 0x3d, 0x00, 0x00,
    0xc0, 0x3e, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x40, 0x3e, 0x00, 0x00, 0xa0, 0xbe, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xa0, 0x3e, 0x00, 0x00, 0x40, 0xbe, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00,
    0xc0, 0xbe, 0x00, 0x00, 0x80, 0xbd, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0xbe, 0x00, 0x00,
    0x80, 0x3d, 0x00, 0x00, 0xc0, 0x3e, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x40, 0x3e, 0x05, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xbe, 0x00, 0x00,
    0x80, 0x3f, 0x00, 0x00, 0x40, 0x3f, 0x4e, 0x4f, 0x44, 0x45, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0d, 0x00, 0x04, 0x00, 0x73, 0x6f, 0x66, 0x74, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00,
    0x00, 0x00
};

nn::model tiny_v10() {
    nn::model m;
    m.input = {2, 4, 4};
    nn::node c = make(nn::op::conv2d, {0});
    c.name = "conv";
    c.conv.weight = std::move(*tensor<float, 4>::make({3, 2, 3, 3}));
    for (index_t i = 0; i < c.conv.weight.size(); ++i) c.conv.weight.data()[i] = float((i * 7) % 11 - 5) / 8.0f;
    c.conv.bias = {0.25f, -0.5f, 0.125f};
    c.conv.params = kernels::conv2d_params::same_padding(1);
    m.nodes.push_back(std::move(c));
    m.nodes.push_back(make(nn::op::relu, {1}));
    m.nodes.push_back(make(nn::op::max_pool, {2}));
    m.nodes.push_back(make(nn::op::flatten, {3}));
    nn::node l = make(nn::op::linear, {4});
    l.linear.weight = std::move(*tensor<float, 2>::make({5, 12}));
    for (index_t i = 0; i < l.linear.weight.size(); ++i) l.linear.weight.data()[i] = float((i * 5) % 13 - 6) / 16.0f;
    l.linear.bias = {0.5f, 0.0f, -0.25f, 1.0f, 0.75f};
    m.nodes.push_back(std::move(l));
    m.nodes.push_back(make(nn::op::softmax, {5}));
    return m;
}
}  // namespace

TEST_CASE("a .sparq 1.0 file still loads and runs as the model it was written from") {
    CHECK(sparq_v10[10] == 0);  // minor version 0
    auto loaded = io::parse_sparq(sparq_v10, sizeof sparq_v10, "v10.sparq");
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message());
    CHECK(loaded->output_count() == 1);
    auto fresh = nn::compiled_model::compile(tiny_v10(), {});
    REQUIRE(fresh.ok());
    auto x = tensor<float, 2>::make({1, 32});
    REQUIRE(x.ok());
    for (index_t i = 0; i < 32; ++i) x->data()[i] = float(i) / 8.0f - 1.0f;
    const runner r{std::move(*x), 1};
    const auto a = r.run(*loaded), b = r.run(*fresh);
    CHECK(std::memcmp(a[0].data(), b[0].data(), a[0].size() * 4) == 0);
    // what sparq 1.0 computed on this input (its own run, then)
    const float then[5] = {0x1.2604b6p-4f, 0x1.07ab16p-2f, 0x1.85588ap-6f, 0x1.3c6da8p-3f, 0x1.f8476p-2f};
    for (int i = 0; i < 5; ++i) CHECK(a[0][std::size_t(i)] == doctest::Approx(then[i]).epsilon(1e-5));
    // written again: the current minor version (1.2), without OUTS (one output), still the same model
    const std::string again = io::encode_sparq(loaded->parts());
    CHECK(again[10] == 2);
    CHECK(again.find("OUTS") == std::string::npos);
}

TEST_CASE("int8: a small conv model with a reshape and a mul compiles and runs; codes flow through reshape") {
    nn::model m;
    m.input = {2, 6, 6};
    nn::node c = make(nn::op::conv2d, {0});
    c.conv.weight = std::move(*tensor<float, 4>::make({4, 2, 3, 3}));
    for (index_t i = 0; i < c.conv.weight.size(); ++i) c.conv.weight.data()[i] = uniform(-0.5f, 0.5f);
    c.conv.bias = randoms(4, -0.1f, 0.1f);
    c.conv.act = kernels::activation::relu;
    m.nodes.push_back(std::move(c));  // 1: [4, 4, 4]
    nn::op_params r;
    r.shape = {64, 1, 1};
    m.nodes.push_back(make(nn::op::reshape, {1}, r));  // 2
    nn::node l = make(nn::op::linear, {2});
    l.linear.weight = std::move(*tensor<float, 2>::make({8, 64}));
    for (index_t i = 0; i < l.linear.weight.size(); ++i) l.linear.weight.data()[i] = uniform(-0.3f, 0.3f);
    m.nodes.push_back(std::move(l));  // 3
    nn::op_params k;
    k.shape = {8, 1, 1};
    m.nodes.push_back(make(nn::op::mul, {3}, k, randoms(8, 0.5f, 1.5f)));  // 4
    auto calib = tensor<float, 2>::make({32, 72});
    REQUIRE(calib.ok());
    for (index_t i = 0; i < calib->size(); ++i) calib->data()[i] = uniform(-1.0f, 1.0f);
    nn::compile_options o;
    o.prec = nn::precision::int8;
    o.calibration = calib->cview();
    auto q = nn::compiled_model::compile(m, o);
    REQUIRE_MESSAGE(q.ok(), q.error().message());
    auto f = nn::compiled_model::compile(m, {});
    REQUIRE(f.ok());
    const auto parts = q->parts();
    CHECK(parts.s8[1] == 1);  // conv -> reshape -> linear: codes all the way
    CHECK(parts.s8[2] == 1);
    CHECK(parts.s8[3] == 0);  // mul takes floats
    const runner in = inputs_for(m, 5, -1.0f, 1.0f);
    const auto yq = in.run(*q), yf = in.run(*f);
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < yf[0].size(); ++i) worst = std::max(worst, std::fabs(double(yq[0][i]) - yf[0][i])), scale = std::max(scale, std::fabs(double(yf[0][i])));
    CHECK(worst < 0.05 * scale + 1e-3);
    // and through a file
    const std::string bytes = io::encode_sparq(parts);
    auto back = io::parse_sparq(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "q.sparq");
    REQUIRE(back.ok());
    CHECK(in.run(*back)[0] == yq[0]);
}

TEST_CASE("bad op parameters are refused by the model check and by from_parts, naming the node") {
    auto base = [] {
        nn::model m;
        m.input = {2, 3, 4};
        return m;
    };
    auto refused = [](const nn::model& m, const char* says) {
        const status s = m.validate();
        REQUIRE_FALSE(s.ok());
        CAPTURE(s.message());
        CHECK(std::string(s.message()).find(says) != std::string::npos);
    };
    nn::op_params p;
    p.dims = {2, 3, 2, 2};
    p.perm = {0, 1, 1, 3};
    nn::model m = base();
    m.nodes.push_back(make(nn::op::transpose, {0}, p));
    refused(m, "not a permutation of 0..3");
    m.nodes[0].params.perm = {0, 1, 2, 4};
    refused(m, "not a permutation");
    m.nodes[0].params.perm = {3, 2, 1, 0};
    m.nodes[0].params.dims = {2, 3, 2, 3};
    refused(m, "transpose 'transpose_node' sees its input of 24 values as (2, 3, 2, 3)");
    m = base();
    nn::op_params pad;
    pad.pads = {0, 0, -(nn::max_dimension + 1), 0, 0, 0};
    m.nodes.push_back(make(nn::op::pad, {0}, pad));
    refused(m, "pad 'pad_node' pads dim 2 by -");
    m.nodes[0].params.pads = {0, 0, -1000, 0, 0, 0};  // a crop of more than the extent
    refused(m, "pad 'pad_node' makes dim 2 of extent");
    m.nodes[0].params.pads = {0, 0, 0, 0, nn::max_dimension + 1, 0};
    refused(m, "pad 'pad_node' pads dim 1 by");
    for (std::uint32_t axes : {0u, 8u, 9u}) {
        m = base();
        nn::op_params r;
        r.axes = axes;
        m.nodes.push_back(make(nn::op::reduce_mean, {0}, r));
        refused(m, "reduce_mean 'reduce_mean_node' has axes mask");
    }
    m = base();
    nn::op_params c;
    c.shape = {2, 1, 1};
    m.nodes.push_back(make(nn::op::mul, {0}, c, {1.0f, 2.0f, 3.0f}));
    refused(m, "mul 'mul_node' has 3 constant values for the shape (2, 1, 1)");
    m.nodes[0].constant.clear();
    refused(m, "has 1 inputs and no constant");
    m.nodes[0].params.shape = {3, 1, 1};
    m.nodes[0].constant = {1.0f, 2.0f, 3.0f};
    refused(m, "do not broadcast");
    m = base();
    m.nodes.push_back(make(nn::op::batch_norm, {0}, {}, {1.0f, 2.0f, 3.0f}));
    refused(m, "batch_norm 'batch_norm_node' has 3 constant values for 2 channels");
    m = base();
    m.nodes.push_back(make(nn::op::relu, {0}, {}, {1.0f}));
    refused(m, "relu 'relu_node' has a constant");
    m = base();
    nn::op_params s;
    s.axis = 3;
    m.nodes.push_back(make(nn::op::softmax, {0}, s));
    refused(m, "softmax 'softmax_node' over sample dim 3");
    m = base();
    nn::op_params k;
    k.axis = 1;
    nn::op_params r;
    r.axes = 4;
    m.nodes.push_back(make(nn::op::reduce_mean, {0}, r));  // [2, 3, 1]
    m.nodes.push_back(make(nn::op::concat, {0, 1}, k));
    refused(m, "concat 'concat_node' along dim 1");
    m = base();
    nn::op_params bad_shape;
    bad_shape.shape = {5, 5, 1};
    m.nodes.push_back(make(nn::op::reshape, {0}, bad_shape));
    refused(m, "reshape 'reshape_node' of 24 values into (5, 5, 1)");

    // the same rules on parts (as a file gives them)
    m = base();
    m.nodes.push_back(make(nn::op::pad, {0}, pad));
    m.nodes[0].params.pads = {1, 0, 0, 0, 1, 0};  // [3, 4, 4]
    nn::op_params t;
    t.dims = {3, 4, 2, 2};
    m.nodes.push_back(make(nn::op::transpose, {1}, t));  // [3, 4, 4]
    auto cm = nn::compiled_model::compile(m, {});
    REQUIRE(cm.ok());
    auto bad = [&](auto&& edit, const char* says) {
        nn::compiled_parts parts = cm->parts();
        edit(parts);
        auto r2 = nn::compiled_model::from_parts(std::move(parts));
        REQUIRE_FALSE(r2.ok());
        const std::string message = r2.error().message();
        CAPTURE(message);
        CHECK(std::string(r2.error().message()).find(says) != std::string::npos);
    };
    CHECK(nn::compiled_model::from_parts(cm->parts()).ok());
    bad([](nn::compiled_parts& q) { q.steps[1].params.perm = {0, 0, 1, 2}; }, "model parts: transpose 'transpose_node' has perm");
    bad([](nn::compiled_parts& q) { q.steps[0].params.pads[0] = -3; }, "model parts: pad 'pad_node' makes dim 0 of extent -1");
    bad([](nn::compiled_parts& q) { q.steps[0].params.pads[0] = 2; }, "value 1 is");
    bad([](nn::compiled_parts& q) { q.steps[0].constant = {1.0f}; }, "has a constant");
    bad([](nn::compiled_parts& q) { q.outputs = {3}; }, "output value 3 does not exist");
    bad([](nn::compiled_parts& q) { q.steps[1].kind = nn::op(200); }, "unknown op");
}

TEST_CASE("add_s8: codes added with their own scales land within one code of dequantize, add, quantize; saturates; rounds half to even") {
    std::mt19937 g(5);
    std::uniform_int_distribution<int> code(-128, 127);
    for (int t = 0; t < 50; ++t) {
        const float sa = uniform(0.001f, 0.2f), sb = uniform(0.001f, 0.2f), sy = uniform(0.002f, 0.3f);
        const std::int32_t za = code(g), zb = code(g), zy = code(g) / 2;
        std::vector<std::int8_t> a(97), b(97), y(97);
        for (auto& v : a) v = std::int8_t(code(g));
        for (auto& v : b) v = std::int8_t(code(g));
        a[0] = -128, b[0] = -128, a[1] = 127, b[1] = 127;
        nn::ops::add_s8(context(), a.data(), sa, za, b.data(), sb, zb, y.data(), sy, zy, 97);
        for (std::size_t i = 0; i < a.size(); ++i) {
            const double real = double(sa) * (a[i] - za) + double(sb) * (b[i] - zb);
            const double want = std::clamp(std::nearbyint(real / sy) + zy, -128.0, 127.0);
            CHECK(std::fabs(double(y[i]) - want) <= 1.0);
        }
    }
    // exact halves round to even: 0.5 -> 0, 1.5 -> 2, -0.5 -> 0, -2.5 -> -2 (scales 0.5 / 1)
    const std::int8_t a[] = {1, 3, -1, -5}, b[] = {0, 0, 0, 0};
    std::int8_t y[4];
    nn::ops::add_s8(context(), a, 0.5f, 0, b, 1.0f, 0, y, 1.0f, 0, 4);
    CHECK(y[0] == 0);
    CHECK(y[1] == 2);
    CHECK(y[2] == 0);
    CHECK(y[3] == -2);
    // saturation at both ends
    const std::int8_t big[] = {127, -128};
    nn::ops::add_s8(context(), big, 1.0f, 0, big, 1.0f, 0, y, 1.0f, 0, 2);
    CHECK(y[0] == 127);
    CHECK(y[1] == -128);
}

}  // namespace test_ops_suite
