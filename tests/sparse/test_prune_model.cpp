// Pruning a whole model from a spec (prune/model.hpp, what `sparq compress --prune` runs):
// parsing, each pattern's count per layer, conv weights seen as [O, C*KH*KW], and a refused spec
// leaving the model as it was.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "sparq/prune/model.hpp"

using namespace sparq;

namespace {

// conv 1 -> 4 channels (3x3), flatten, linear 4*8*8 -> 16 -> 8: random weights, no zeros.
nn::model small_model() {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> d(0.01f, 1.0f);
    auto fill = [&](float* p, index_t n) {
        for (index_t i = 0; i < n; ++i) p[i] = (rng() % 2 ? 1.0f : -1.0f) * d(rng);
    };
    nn::model m;
    m.input = {1, 8, 8};
    nn::node c;
    c.name = "conv", c.kind = nn::op::conv2d, c.inputs = {0};
    c.conv.weight = tensor<float, 4>::make({4, 1, 3, 3}).value();
    c.conv.params.pad_top = c.conv.params.pad_left = c.conv.params.pad_bottom = c.conv.params.pad_right = 1;
    fill(c.conv.weight.data(), c.conv.weight.size());
    nn::node f;
    f.name = "flatten", f.kind = nn::op::flatten, f.inputs = {1};
    nn::node l1;
    l1.name = "fc1", l1.kind = nn::op::linear, l1.inputs = {2};
    l1.linear.weight = tensor<float, 2>::make({16, 256}).value();
    fill(l1.linear.weight.data(), l1.linear.weight.size());
    nn::node l2;
    l2.name = "fc2", l2.kind = nn::op::linear, l2.inputs = {3};
    l2.linear.weight = tensor<float, 2>::make({8, 16}).value();
    fill(l2.linear.weight.data(), l2.linear.weight.size());
    m.nodes.push_back(std::move(c));
    m.nodes.push_back(std::move(f));
    m.nodes.push_back(std::move(l1));
    m.nodes.push_back(std::move(l2));
    return m;
}

index_t zeros(const float* w, index_t n) {
    index_t z = 0;
    for (index_t i = 0; i < n; ++i) z += w[i] == 0.0f;
    return z;
}

}  // namespace

TEST_CASE("prune specs parse, and bad ones name the problem") {
    auto s = prune::parse_model_spec("0.75");
    REQUIRE(s.ok());
    CHECK(s->kind == prune::pattern::unstructured);
    CHECK(s->sparsity == 0.75);
    CHECK(prune::parse_model_spec("l1:0.5")->kind == prune::pattern::unstructured);
    CHECK(prune::parse_model_spec("global:0.9")->kind == prune::pattern::global);
    CHECK(prune::parse_model_spec("channel:0.25")->kind == prune::pattern::channel);
    auto nm = prune::parse_model_spec("1:4");
    REQUIRE(nm.ok());
    CHECK((nm->kind == prune::pattern::nm && nm->n == 1 && nm->m == 4));
    auto b = prune::parse_model_spec("block:4x8:0.9");
    REQUIRE(b.ok());
    CHECK((b->kind == prune::pattern::block && b->block.rows == 4 && b->block.cols == 8 && b->sparsity == 0.9));
    for (const char* bad : {"", "1", "1.0", "-0.1", "50%", "abc", "3:2", "2:0", "0:4", "2:32", "block:4:0.5", "block:0x4:0.5", "block:4x4",
                            "tiles:0.5", "global:", "channel:x"}) {
        CAPTURE(bad);
        auto r = prune::parse_model_spec(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(std::strstr(r.error().message(), "prune spec") != nullptr);
    }
}

TEST_CASE("each pattern prunes what it says in every linear and conv layer") {
    SUBCASE("unstructured: round(s * n) of each layer") {
        nn::model m = small_model();
        REQUIRE(prune::prune_model(m, *prune::parse_model_spec("0.5")).ok());
        CHECK(zeros(m.nodes[0].conv.weight.data(), 36) == 18);
        CHECK(zeros(m.nodes[2].linear.weight.data(), 4096) == 2048);
        CHECK(zeros(m.nodes[3].linear.weight.data(), 128) == 64);
    }
    SUBCASE("N:M keeps exactly N of every M along K, conv included (K = C*KH*KW = 9 is not a multiple of 4: refused)") {
        nn::model m = small_model();
        const nn::model before = small_model();
        auto s = prune::prune_model(m, *prune::parse_model_spec("2:4"));
        REQUIRE_FALSE(s.ok());
        CHECK(std::strstr(s.message(), "layer 'conv'") != nullptr);
        CHECK(std::memcmp(m.nodes[2].linear.weight.data(), before.nodes[2].linear.weight.data(), 4096 * sizeof(float)) == 0);
        m.nodes.erase(m.nodes.begin());  // the MLP part alone
        m.nodes[0].inputs = {0};
        REQUIRE(prune::prune_model(m, *prune::parse_model_spec("1:4")).ok());
        for (const nn::node* d : {&m.nodes[1], &m.nodes[2]}) {
            const tensor<float, 2>& w = d->linear.weight;
            for (index_t r = 0; r < w.extent(0); ++r)
                for (index_t g = 0; g < w.extent(1); g += 4) CHECK(4 - zeros(&w.data()[r * w.extent(1) + g], 4) == 1);
        }
    }
    SUBCASE("channel: whole output rows") {
        nn::model m = small_model();
        REQUIRE(prune::prune_model(m, *prune::parse_model_spec("channel:0.25")).ok());
        const tensor<float, 2>& w = m.nodes[2].linear.weight;
        index_t empty = 0;
        for (index_t r = 0; r < 16; ++r) {
            const index_t z = zeros(&w.data()[r * 256], 256);
            CHECK((z == 0 || z == 256));
            empty += z == 256;
        }
        CHECK(empty == 4);
        CHECK(zeros(m.nodes[0].conv.weight.data(), 36) == 9);  // one of 4 filters
    }
    SUBCASE("global: the share over all layers together") {
        nn::model m = small_model();
        REQUIRE(prune::prune_model(m, *prune::parse_model_spec("global:0.6")).ok());
        const index_t total = 36 + 4096 + 128;
        const index_t z = zeros(m.nodes[0].conv.weight.data(), 36) + zeros(m.nodes[2].linear.weight.data(), 4096) +
                          zeros(m.nodes[3].linear.weight.data(), 128);
        CHECK(z == index_t(0.6 * double(total) + 0.5));
        CHECK(prune::weight_sparsity(m) == doctest::Approx(double(z) / double(total)));
    }
    SUBCASE("blocks: a block shape that does not divide a layer is refused, nothing pruned") {
        nn::model m = small_model();
        auto s = prune::prune_model(m, *prune::parse_model_spec("block:3x4:0.5"));
        REQUIRE_FALSE(s.ok());
        CHECK(std::strstr(s.message(), "does not divide") != nullptr);
        CHECK(prune::weight_sparsity(m) == 0.0);
        m.nodes.erase(m.nodes.begin());
        m.nodes[0].inputs = {0};
        REQUIRE(prune::prune_model(m, *prune::parse_model_spec("block:4x4:0.5")).ok());
        CHECK(zeros(m.nodes[1].linear.weight.data(), 4096) == 2048);
        CHECK(zeros(m.nodes[2].linear.weight.data(), 128) == 64);
    }
}
