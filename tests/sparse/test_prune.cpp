// Masks and pruning patterns: torch.nn.utils.prune's masks on golden vectors, sparq's tie
// rule, N:M exactness, blocks, global scope, schedules, sensitivity, and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/prune.hpp"

using namespace sparq;

namespace {
#include "data/prune_reference.inc"

std::vector<float> weights_of(const prune_case& c, index_t n) {
    std::vector<float> w(static_cast<std::size_t>(n));
    std::memcpy(w.data(), c.weights, w.size() * sizeof(float));
    return w;
}

// A golden case as a rank-R view over w, with its mask computed by f(view, mask view).
template <std::size_t R, class F>
void check_case(const prune_case& c, F&& f) {
    extents_t<R> e{};
    index_t n = 1;
    for (std::size_t d = 0; d < R; ++d) n *= (e[d] = c.shape[d]);
    auto w = weights_of(c, n);
    auto m = prune::mask<R>::make(e);
    REQUIRE(m.ok());
    REQUIRE(f(tensor_view<const float, R>(w.data(), e), m->view()).ok());
    for (index_t i = 0; i < n; ++i) REQUIRE(int(m->data()[i]) == int(c.mask[i]));
}

std::vector<float> random_floats(index_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d;
    std::vector<float> v(std::size_t(n), 0.0f);
    for (auto& x : v) x = d(rng);
    return v;
}
}  // namespace

TEST_CASE("l1_unstructured equals torch.nn.utils.prune.l1_unstructured") {
    for (const prune_case& c : l1_cases) {
        CAPTURE(c.name);
        auto f = [&](auto w, auto m) { return prune::l1_unstructured(w, c.amount, m); };
        if (c.rank == 2) check_case<2>(c, f);
        else check_case<4>(c, f);
    }
}

TEST_CASE("ln_structured equals torch.nn.utils.prune.ln_structured (n = 1, 2; dim 0, 1)") {
    for (const prune_case& c : ln_cases) {
        CAPTURE(c.name);
        auto f = [&](auto w, auto m) { return prune::ln_structured(w, c.amount, double(c.n), std::size_t(c.dim), m); };
        if (c.rank == 2) check_case<2>(c, f);
        else check_case<4>(c, f);
    }
}

TEST_CASE("ties: the lower index is pruned first (unstructured, structured, N:M, blocks)") {
    const float w[8] = {1, 2, 1, 2, 1, 3, 1, 0.5f};
    std::uint8_t m[8];
    REQUIRE(prune::l1_unstructured(vector_view<const float>(w, {8}), 0.5, vector_view<std::uint8_t>(m, {8})).ok());
    const std::uint8_t expect[8] = {0, 1, 0, 1, 0, 1, 1, 0};  // 0.5, then the first three 1s
    for (int i = 0; i < 8; ++i) CHECK(int(m[i]) == int(expect[i]));

    const float rows[4 * 2] = {1, 1, -1, 1, 1, -1, 2, 0};  // L1 norms 2, 2, 2, 2
    std::uint8_t rm[8];
    REQUIRE(prune::ln_structured(matrix_view<const float>(rows, {4, 2}), 0.5, 1.0, 0, matrix_view<std::uint8_t>(rm, {4, 2})).ok());
    const std::uint8_t rexpect[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    for (int i = 0; i < 8; ++i) CHECK(int(rm[i]) == int(rexpect[i]));

    const float g[8] = {1, 1, 1, 1, 2, 2, 2, 2};  // 2:4 keeps the later two of equal scores
    std::uint8_t gm[8];
    REQUIRE(prune::nm(matrix_view<const float>(g, {1, 8}), 2, 4, matrix_view<std::uint8_t>(gm, {1, 8})).ok());
    const std::uint8_t gexpect[8] = {0, 0, 1, 1, 0, 0, 1, 1};
    for (int i = 0; i < 8; ++i) CHECK(int(gm[i]) == int(gexpect[i]));
}

TEST_CASE("N:M masks keep exactly N of every M (2:4, 1:4, 4:8)") {
    for (auto nm : {std::pair<index_t, index_t>{2, 4}, {1, 4}, {4, 8}, {1, 1}, {3, 16}}) {
        const index_t rows = 7, k = nm.second * 5;
        auto w = random_floats(rows * k, 3);
        w[5] = 0.0f;
        w[6] = 0.0f;  // zeros and equal values do not change the count
        auto m = prune::mask<2>::make({rows, k});
        REQUIRE(m.ok());
        REQUIRE(prune::l1_nm(matrix_view<const float>(w.data(), {rows, k}), nm.first, nm.second, m->view()).ok());
        CHECK(prune::is_nm(m->cview(), nm.first, nm.second));
        CHECK(prune::count_kept(m->cview()) == rows * k / nm.second * nm.first);
        // The kept ones are the largest of their group.
        for (index_t g = 0; g < rows * k; g += nm.second) {
            float min_kept = 1e30f, max_pruned = -1.0f;
            for (index_t i = g; i < g + nm.second; ++i) {
                const float a = std::fabs(w[std::size_t(i)]);
                if (m->data()[i]) min_kept = std::min(min_kept, a);
                else max_pruned = std::max(max_pruned, a);
            }
            CHECK(min_kept >= max_pruned);
        }
    }
}

TEST_CASE("block masks prune whole blocks by their L1 norm") {
    const index_t n = 8, k = 32;
    auto w = random_floats(n * k, 5);
    auto m = prune::mask<2>::make({n, k});
    REQUIRE(m.ok());
    REQUIRE(prune::l1_block(matrix_view<const float>(w.data(), {n, k}), {4, 8}, 0.5, m->view()).ok());
    CHECK(prune::sparsity(m->cview()) == doctest::Approx(0.5));
    for (index_t br = 0; br < n; br += 4)
        for (index_t bc = 0; bc < k; bc += 8) {
            const std::uint8_t first = m->data()[br * k + bc];
            for (index_t r = br; r < br + 4; ++r)
                for (index_t c = bc; c < bc + 8; ++c) CHECK(m->data()[r * k + c] == first);
        }
}

TEST_CASE("masks: apply, gradient masking, combine, count") {
    float w[6] = {1, 2, 3, 4, 5, 6}, g[6] = {1, 1, 1, 1, 1, 1};
    const std::uint8_t a[6] = {1, 0, 1, 0, 1, 1}, b[6] = {1, 1, 0, 0, 1, 1};
    std::uint8_t c[6];
    REQUIRE(prune::apply_mask(prune::mask_view<2>(a, {2, 3}), matrix_view<float>(w, {2, 3})).ok());
    REQUIRE(prune::mask_gradient(prune::mask_view<2>(a, {2, 3}), matrix_view<float>(g, {2, 3})).ok());
    CHECK(w[1] == 0.0f);
    CHECK(w[3] == 0.0f);
    CHECK(w[0] == 1.0f);
    CHECK(g[1] == 0.0f);
    REQUIRE(prune::combine_masks(prune::mask_view<2>(a, {2, 3}), prune::mask_view<2>(b, {2, 3}), matrix_view<std::uint8_t>(c, {2, 3})).ok());
    CHECK(prune::count_kept(prune::mask_view<2>(c, {2, 3})) == 3);
    CHECK(prune::sparsity(prune::mask_view<2>(c, {2, 3})) == doctest::Approx(0.5));
    CHECK(prune::zero_fraction(matrix_view<const float>(w, {2, 3})) == doctest::Approx(2.0 / 6.0));
    auto all = prune::make_mask<2>({3, 3});
    REQUIRE(all.ok());
    CHECK(prune::count_kept(all->cview()) == 9);
}

TEST_CASE("structured pruning removes channels: a smaller dense layer and the next layer's inputs") {
    const index_t o = 6, c = 4, next_o = 3;
    auto w = random_floats(o * c, 7), next = random_floats(next_o * o, 8), bias = random_floats(o, 9);
    auto m = prune::mask<2>::make({o, c});
    REQUIRE(m.ok());
    REQUIRE(prune::ln_structured(matrix_view<const float>(w.data(), {o, c}), 0.5, 2.0, 0, m->view()).ok());
    auto kept = prune::kept_channels(m->cview(), 0);
    REQUIRE(kept.ok());
    REQUIRE(kept->size() == 3);
    auto small = prune::select_channels(matrix_view<const float>(w.data(), {o, c}), 0, *kept);
    auto next_small = prune::select_channels(matrix_view<const float>(next.data(), {next_o, o}), 1, *kept);
    auto bias_small = prune::select_channels(vector_view<const float>(bias.data(), {o}), 0, *kept);
    REQUIRE((small.ok() && next_small.ok() && bias_small.ok()));
    CHECK(small->extent(0) == 3);
    CHECK(next_small->extent(1) == 3);
    for (std::size_t i = 0; i < kept->size(); ++i) {
        const index_t ch = (*kept)[i];
        for (index_t j = 0; j < c; ++j) CHECK((*small)(index_t(i), j) == w[std::size_t(ch * c + j)]);
        for (index_t r = 0; r < next_o; ++r) CHECK((*next_small)(r, index_t(i)) == next[std::size_t(r * o + ch)]);
        CHECK((*bias_small)(index_t(i)) == bias[std::size_t(ch)]);
    }
}

TEST_CASE("global scope: lowest scores across layers, within floors and ceilings") {
    std::vector<float> a = {0.1f, 0.2f, 0.3f, 0.4f}, b = {5, 6, 7, 8, 0.05f, 0.15f};
    std::vector<std::uint8_t> ma(4), mb(6);
    std::vector<prune::global_layer> layers = {
        {vector_view<const float>(a.data(), {4}), vector_view<std::uint8_t>(ma.data(), {4})},
        {vector_view<const float>(b.data(), {6}), vector_view<std::uint8_t>(mb.data(), {6})}};
    REQUIRE(prune::global_unstructured(layers, 0.4).ok());  // 4 of 10: 0.05, 0.1, 0.15, 0.2
    CHECK(ma == std::vector<std::uint8_t>{0, 0, 1, 1});
    CHECK(mb == std::vector<std::uint8_t>{1, 1, 1, 1, 0, 0});
    layers[0].ceiling = 0.25;  // layer 0 may lose one weight: the next lowest is in layer 1 (5)
    REQUIRE(prune::global_unstructured(layers, 0.4).ok());
    CHECK(ma == std::vector<std::uint8_t>{0, 1, 1, 1});
    CHECK(mb == std::vector<std::uint8_t>{0, 1, 1, 1, 0, 0});
    layers[0].ceiling = 1.0;
    layers[1].floor = 0.5;  // layer 1 prunes at least 3: 0.05, 0.15, 5
    REQUIRE(prune::global_unstructured(layers, 0.4).ok());
    CHECK(ma == std::vector<std::uint8_t>{0, 1, 1, 1});
    CHECK(mb == std::vector<std::uint8_t>{0, 1, 1, 1, 0, 0});
    // Floors that need more than the target: an error, masks untouched.
    layers[1].floor = 1.0;
    const auto before_a = ma, before_b = mb;
    CHECK(prune::global_unstructured(layers, 0.4).code() == errc::invalid_argument);
    CHECK(ma == before_a);
    CHECK(mb == before_b);
}

TEST_CASE("AGP schedule: Zhu & Gupta's cubic from s_i to s_f") {
    CHECK(prune::one_shot{0.9}.at(123) == 0.9);
    auto s = prune::agp_schedule::make(0.0, 0.9, 100, 10, 50);
    REQUIRE(s.ok());
    CHECK(s->at(0) == 0.0);
    CHECK(s->at(100) == 0.0);
    CHECK(s->at(600) == doctest::Approx(0.9));
    CHECK(s->at(10000) == doctest::Approx(0.9));
    CHECK(s->at(350) == doctest::Approx(0.9 + (0.0 - 0.9) * 0.125));  // halfway: (1 - 1/2)^3
    CHECK(s->at(150) == doctest::Approx(0.9 - 0.9 * 0.729));         // one step of ten: 0.9^3
    CHECK(s->is_pruning_step(150));
    CHECK(!s->is_pruning_step(151));
    CHECK(!s->is_pruning_step(650));
    for (long t = 100; t < 600; t += 50) CHECK(s->at(t + 50) >= s->at(t));
    CHECK(prune::agp_schedule::make(0.5, 0.2, 0, 10, 1).error().code() == errc::invalid_argument);
    CHECK(prune::agp_schedule::make(0.0, 1.0, 0, 10, 1).error().code() == errc::invalid_argument);
    CHECK(prune::agp_schedule::make(0.0, 0.5, 0, 0, 1).error().code() == errc::invalid_argument);
}

TEST_CASE("sensitivity analysis: one layer at a time, restored afterwards") {
    std::vector<float> a = {1, -2, 3, -4}, b = {0.5f, 0.25f};
    const auto a0 = a, b0 = b;
    std::vector<tensor_view<float, 1>> layers = {vector_view<float>(a.data(), {4}), vector_view<float>(b.data(), {2})};
    // The "model": the sum of squares of every weight.
    auto eval = [&] {
        double s = 0;
        for (float x : a) s += double(x) * x;
        for (float x : b) s += double(x) * x;
        return s;
    };
    auto table = prune::sensitivity_analysis(layers, {0.0, 0.5}, eval);
    REQUIRE(table.ok());
    REQUIRE(table->size() == 4);
    CHECK((*table)[0].metric == doctest::Approx(30 + 0.3125));
    CHECK((*table)[1].layer == 0);
    CHECK((*table)[1].metric == doctest::Approx(25 + 0.3125));  // 1 and -2 pruned
    CHECK((*table)[3].metric == doctest::Approx(30 + 0.25));    // 0.25 pruned
    CHECK(a == a0);
    CHECK(b == b0);
    CHECK(prune::sensitivity_analysis(layers, {1.0}, eval).error().code() == errc::invalid_argument);
}

TEST_CASE("bad input: a clear status, nothing modified") {
    float w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    std::uint8_t m[8] = {7, 7, 7, 7, 7, 7, 7, 7};
    const matrix_view<const float> wv(w, {2, 4});
    const matrix_view<std::uint8_t> mv(m, {2, 4});
    auto untouched = [&] {
        for (auto v : m) REQUIRE(v == 7);
    };
    CHECK(prune::l1_unstructured(wv, 1.0, mv).code() == errc::invalid_argument);
    CHECK(prune::l1_unstructured(wv, -0.1, mv).code() == errc::invalid_argument);
    CHECK(prune::l1_unstructured(wv, std::nan(""), mv).code() == errc::invalid_argument);
    CHECK(prune::l1_unstructured(wv, 0.5, matrix_view<std::uint8_t>(m, {4, 2})).code() == errc::shape_mismatch);
    CHECK(prune::l1_nm(wv, 3, 2, mv).code() == errc::invalid_argument);  // N > M
    CHECK(prune::l1_nm(wv, 2, 3, mv).code() == errc::shape_mismatch);    // 4 is not a multiple of 3
    CHECK(prune::l1_block(wv, {1, 3}, 0.5, mv).code() == errc::shape_mismatch);
    CHECK(prune::l1_block(wv, {0, 2}, 0.5, mv).code() == errc::invalid_argument);
    CHECK(prune::ln_structured(wv, 0.5, 2.0, 2, mv).code() == errc::invalid_argument);
    CHECK(prune::ln_structured(wv, 0.5, 0.0, 0, mv).code() == errc::invalid_argument);
    untouched();
    const std::uint8_t small[4] = {0, 0, 0, 0};
    CHECK(prune::apply_mask(prune::mask_view<2>(small, {2, 2}), matrix_view<float>(w, {2, 4})).code() == errc::shape_mismatch);
    for (int i = 0; i < 8; ++i) CHECK(w[i] == float(i + 1));
}
