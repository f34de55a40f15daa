// Training a model graph (nn/train/graph.hpp): the gradients of every op against PyTorch's
// autograd (tools/gen/make_graph_grad_reference.py) and finite differences, a digits CNN that
// learns, a pruned one that stays pruned, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/nn/train/graph.hpp"
#include "sparq/prune/model.hpp"

using namespace sparq;
namespace tr = sparq::nn::train;

namespace {
#include "data/graph_grad_reference.inc"

template <std::size_t R>
tensor<float, R> from_bits(const std::uint32_t* bits, const extents_t<R>& e) {
    auto t = tensor<float, R>::make(e);
    REQUIRE(t.ok());
    std::memcpy(t->data(), bits, std::size_t(t->size()) * 4);
    return std::move(*t);
}
std::vector<float> vec(const std::uint32_t* bits, std::size_t n) {
    std::vector<float> v(n);
    std::memcpy(v.data(), bits, n * 4);
    return v;
}

nn::node make(const char* name, nn::op kind, std::vector<int> inputs) {
    nn::node d;
    d.name = name, d.kind = kind, d.inputs = std::move(inputs);
    return d;
}
nn::node conv(const char* name, int in, const std::uint32_t* w, const extents_t<4>& ws, const std::uint32_t* b, kernels::conv2d_params p,
              kernels::activation act) {
    nn::node d = make(name, nn::op::conv2d, {in});
    d.conv.weight = from_bits<4>(w, ws);
    d.conv.bias = vec(b, std::size_t(ws[0]));
    d.conv.params = p;
    d.conv.act = act;
    return d;
}
nn::node linear(const char* name, int in, const std::uint32_t* w, index_t out, index_t k, const std::uint32_t* b) {
    nn::node d = make(name, nn::op::linear, {in});
    d.linear.weight = from_bits<2>(w, {out, k});
    d.linear.bias = vec(b, std::size_t(out));
    return d;
}
nn::node pool(const char* name, nn::op kind, int in, index_t k, index_t s, index_t pad) {
    nn::node d = make(name, kind, {in});
    d.pool.kh = d.pool.kw = k, d.pool.stride_h = d.pool.stride_w = s;
    d.pool.pad_top = d.pool.pad_left = d.pool.pad_bottom = d.pool.pad_right = pad;
    return d;
}

// The generator's graph (see its docstring), node i writing value i + 1.
nn::model reference_graph() {
    nn::model m;
    m.input = {2, 6, 6};
    kernels::conv2d_params p0;
    p0.pad_top = p0.pad_left = p0.pad_bottom = p0.pad_right = 1, p0.groups = 2;
    kernels::conv2d_params p1;
    p1.pad_top = p1.pad_left = p1.pad_bottom = p1.pad_right = 1;
    kernels::conv2d_params p7;
    p7.dilation_h = p7.dilation_w = 2;
    m.nodes.push_back(conv("c0", 0, graph_w0, {4, 1, 3, 3}, graph_b0, p0, kernels::activation::relu));
    m.nodes.push_back(conv("c1", 1, graph_w1, {4, 4, 3, 3}, graph_b1, p1, kernels::activation::none));
    m.nodes.push_back(make("add", nn::op::add, {1, 2}));
    m.nodes.push_back(make("tanh", nn::op::tanh, {3}));
    m.nodes.push_back(pool("max", nn::op::max_pool, 4, 2, 2, 0));
    m.nodes.push_back(pool("avg", nn::op::avg_pool, 4, 3, 2, 1));
    m.nodes.push_back(make("cat", nn::op::concat, {5, 6}));
    m.nodes.push_back(conv("c7", 7, graph_w7, {6, 8, 2, 2}, graph_b7, p7, kernels::activation::relu6));
    m.nodes.push_back(make("gelu", nn::op::gelu, {8}));
    m.nodes.push_back(make("flat", nn::op::flatten, {9}));
    m.nodes.push_back(linear("fc10", 10, graph_w10, 5, 6, graph_b10));
    m.nodes.push_back(make("sigmoid", nn::op::sigmoid, {11}));
    m.nodes.push_back(make("gap", nn::op::global_avg_pool, {7}));
    m.nodes.push_back(make("flat2", nn::op::flatten, {13}));
    m.nodes.push_back(linear("fc14", 14, graph_w14, 5, 8, graph_b14));
    m.nodes.push_back(make("add2", nn::op::add, {12, 15}));
    m.nodes.push_back(make("softmax", nn::op::softmax, {16}));
    return m;
}

// loss = sum(logits * R) and its gradients.
double loss_and_grads(const nn::model& m, const matrix_view<const float>& x, tr::graph_cache& c, std::vector<tr::node_grad>* g) {
    REQUIRE(tr::graph_forward(m, x, c).ok());
    const auto r = from_bits<2>(graph_r, {2, 5});
    double loss = 0;
    for (index_t i = 0; i < 2; ++i)
        for (index_t j = 0; j < 5; ++j) loss += double(c.logits()(i, j)) * double(r(i, j));
    if (g) REQUIRE(tr::graph_backward(m, c, r.cview(), *g).ok());
    return loss;
}

void check_grad(const float* got, const double* want, std::size_t n, const char* what) {
    for (std::size_t i = 0; i < n; ++i) {
        INFO(what << "[" << i << "]: sparq " << got[i] << ", PyTorch " << want[i]);
        CHECK(std::fabs(double(got[i]) - want[i]) <= 2e-5 * std::fmax(1.0, std::fabs(want[i])));
    }
}

std::string data_path(const char* name) { return std::string(SPARQ_TEST_DATA_DIR) + "/digits/" + name; }

}  // namespace

TEST_CASE("model graphs: every op's gradient equals PyTorch's autograd and finite differences") {
    nn::model m = reference_graph();
    const auto x = from_bits<2>(graph_x, {2, 72});
    tr::graph_cache c;
    std::vector<tr::node_grad> g = tr::make_graph_grads(m);
    const double loss = loss_and_grads(m, x.cview(), c, &g);
    CHECK(loss == doctest::Approx(graph_loss).epsilon(1e-5));
    check_grad(g[0].weight.data(), graph_dw0, g[0].weight.size(), "d conv0 weight");
    check_grad(g[0].bias.data(), graph_db0, 4, "d conv0 bias");
    check_grad(g[1].weight.data(), graph_dw1, g[1].weight.size(), "d conv1 weight");
    check_grad(g[1].bias.data(), graph_db1, 4, "d conv1 bias");
    check_grad(g[7].weight.data(), graph_dw7, g[7].weight.size(), "d conv7 weight");
    check_grad(g[7].bias.data(), graph_db7, 6, "d conv7 bias");
    check_grad(g[10].weight.data(), graph_dw10, 30, "d fc10 weight");
    check_grad(g[10].bias.data(), graph_db10, 5, "d fc10 bias");
    check_grad(g[14].weight.data(), graph_dw14, 40, "d fc14 weight");
    check_grad(g[14].bias.data(), graph_db14, 5, "d fc14 bias");
    check_grad(c.grads[0].data(), graph_dx, 144, "d x");

    // Finite differences on a sample of weights of each parameterised node (central, float64 loss).
    for (int node : {0, 1, 7, 10, 14}) {
        float* w = m.nodes[std::size_t(node)].kind == nn::op::conv2d ? m.nodes[std::size_t(node)].conv.weight.data()
                                                                    : m.nodes[std::size_t(node)].linear.weight.data();
        for (std::size_t k = 0; k < g[std::size_t(node)].weight.size(); k += 7) {
            const float keep = w[k], h = 1e-2f;
            w[k] = keep + h;
            const double up = loss_and_grads(m, x.cview(), c, nullptr);
            w[k] = keep - h;
            const double down = loss_and_grads(m, x.cview(), c, nullptr);
            w[k] = keep;
            INFO("node " << node << " weight " << k);
            CHECK((up - down) / (2.0 * double(h)) == doctest::Approx(double(g[std::size_t(node)].weight[k])).epsilon(2e-2).scale(1e-3));
        }
    }
}

TEST_CASE("model graphs: the digits CNN trains, and a pruned one stays pruned") {
    auto xa = io::read_npy(data_path("train_x.npy").c_str());
    auto ya = io::read_npy(data_path("train_y.npy").c_str());
    auto ta = io::read_npy(data_path("test_x.npy").c_str());
    auto tya = io::read_npy(data_path("test_y.npy").c_str());
    REQUIRE((xa.ok() && ya.ok() && ta.ok() && tya.ok()));
    auto x = xa->to_f32<2>("train_x");
    auto tx = ta->to_f32<2>("test_x");
    auto y = ya->to_labels("train_y");
    auto ty = tya->to_labels("test_y");
    REQUIRE((x.ok() && tx.ok() && y.ok() && ty.ok()));
    auto loaded = io::load_model_safetensors(data_path("cnn.safetensors").c_str());
    REQUIRE(loaded.ok());
    auto accuracy = [&](const nn::model& m) {
        auto logits = tr::predict(m, tx->cview());
        REQUIRE(logits.ok());
        return tr::accuracy(logits->cview(), *ty).value();
    };
    const double trained = accuracy(*loaded);

    SUBCASE("from its trained weights pruned 60 %: fine-tuning wins accuracy back, zeros stay zero") {
        nn::model m = std::move(*loaded);
        REQUIRE(prune::prune_model(m, *prune::parse_model_spec("0.6")).ok());
        const double sparsity = prune::weight_sparsity(m), pruned = accuracy(m);
        tr::train_options o;
        o.epochs = 6;
        o.keep_zeros = true;
        o.seed = 4;
        auto r = tr::train_model_classifier(m, x->cview(), *y, o);
        REQUIRE(r.ok());
        CHECK(r->epoch_loss.back() < r->epoch_loss.front());
        CHECK(prune::weight_sparsity(m) == doctest::Approx(sparsity));
        const double tuned = accuracy(m);
        MESSAGE("digits CNN: trained " << trained << ", pruned 60% " << pruned << ", fine-tuned 6 epochs " << tuned);
        CHECK(tuned > pruned);
        CHECK(tuned >= trained - 0.03);
    }
    SUBCASE("the same seed gives the same weights") {
        nn::model a = std::move(*loaded);
        auto again = io::load_model_safetensors(data_path("cnn.safetensors").c_str());
        REQUIRE(again.ok());
        nn::model b = std::move(*again);
        tr::train_options o;
        o.epochs = 1;
        o.seed = 9;
        REQUIRE(tr::train_model_classifier(a, x->cview(), *y, o).ok());
        REQUIRE(tr::train_model_classifier(b, x->cview(), *y, o).ok());
        CHECK(std::memcmp(a.nodes[0].conv.weight.data(), b.nodes[0].conv.weight.data(), std::size_t(a.nodes[0].conv.weight.size()) * 4) == 0);
    }
}

TEST_CASE("model graphs: bad data stops training with a message") {
    nn::model m = reference_graph();
    auto x = from_bits<2>(graph_x, {2, 72});
    std::vector<std::int64_t> labels{1, 7};
    auto r = tr::train_model_classifier(m, x.cview(), labels, {});
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("label") != std::string::npos);
    labels = {1};
    CHECK_FALSE(tr::train_model_classifier(m, x.cview(), labels, {}).ok());
    labels = {1, 2};
    x(1, 3) = std::nanf("");
    r = tr::train_model_classifier(m, x.cview(), labels, {});
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("input [1, 3]") != std::string::npos);
    tr::train_options qat;
    qat.qat = true;
    CHECK(tr::train_model_classifier(m, from_bits<2>(graph_x, {2, 72}).cview(), labels, qat).error().code() == errc::unsupported);
}
