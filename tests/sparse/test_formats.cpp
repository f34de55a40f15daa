// Sparse formats: built from a masked dense weight, back to dense exactly, storage sizes that
// match their formulas, and bad input refused with nothing modified.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/prune.hpp"
#include "sparq/sparse.hpp"
#include "sparse/sparse_fixtures.hpp"

using namespace sparq;
using namespace sparq::test_sparse;

namespace {

template <class V, class F>
void check_round_trip(const tensor<V, 2>& w, const prune::mask<2>& m, F&& make) {
    auto s = make();
    REQUIRE(s.ok());
    auto back = tensor<V, 2>::make(w.extents());
    REQUIRE(back.ok());
    back->fill(V(7));
    REQUIRE(s->to_dense(back->view()).ok());
    for (index_t i = 0; i < w.size(); ++i) REQUIRE(back->data()[i] == (m.data()[i] ? w.data()[i] : V(0)));
}

}  // namespace

TEST_CASE("CSR round-trips (fp32 and int8 values, 16- and 32-bit indices) and its size is the formula") {
    std::mt19937 rng(1);
    for (auto shape : {std::pair<index_t, index_t>{1, 1}, {3, 7}, {13, 17}, {64, 96}, {5, 1}}) {
        const index_t n = shape.first, k = shape.second;
        CAPTURE(n);
        CAPTURE(k);
        for (double s : {0.0, 0.5, 0.9}) {
            auto w = random_matrix<float>(n, k, rng);
            auto w8 = random_matrix<std::int8_t>(n, k, rng);
            auto m = random_mask(w, s);
            check_round_trip(w, m, [&] { return sparse::make_csr<float>(w.cview(), m.cview()); });
            check_round_trip(w, m, [&] { return sparse::make_csr<float, std::uint32_t>(w.cview(), m.cview()); });
            check_round_trip(w8, m, [&] { return sparse::make_csr<std::int8_t>(w8.cview(), m.cview()); });
            auto c = sparse::make_csr<std::int8_t>(w8.cview(), m.cview());
            REQUIRE(c.ok());
            const index_t kept = prune::count_kept(m.cview());
            CHECK(c->nnz() == kept);
            CHECK(c->storage_bytes() == std::size_t(kept * 3 + (n + 1) * 4));
            CHECK(c->storage_bytes() == sparse::csr<std::int8_t>::storage_formula(n, kept));
        }
    }
    // From the nonzeros of an already-masked weight.
    const float dense[6] = {0, 1, 0, 0, 2, 3};
    auto c = sparse::make_csr<float>(matrix_view<const float>(dense, {2, 3}));
    REQUIRE(c.ok());
    CHECK(c->nnz() == 3);
    CHECK(c->col(0) == 1);
    CHECK(c->row_start(1) == 1);
}

TEST_CASE("a 90%-sparse int8 CSR layer takes at most 0.2x the dense fp32 bytes") {
    std::mt19937 rng(2);
    const index_t n = 768, k = 3072;
    auto w = random_matrix<float>(n, k, rng);
    auto m = prune::mask<2>::make({n, k});
    REQUIRE(m.ok());
    REQUIRE(prune::l1_unstructured(w.cview(), 0.9, m->view()).ok());
    auto w8 = random_matrix<std::int8_t>(n, k, rng);
    auto c = sparse::make_csr<std::int8_t>(w8.cview(), m->cview());
    REQUIRE(c.ok());
    const double ratio = double(c->storage_bytes()) / double(n * k * 4);
    CHECK(ratio <= 0.2);
    CHECK(ratio == doctest::Approx((0.1 * 3 * double(n * k) + 4.0 * double(n + 1)) / double(n * k * 4)).epsilon(0.01));
}

TEST_CASE("block-sparse round-trips for block shapes that divide the weight") {
    std::mt19937 rng(3);
    for (auto b : {prune::block_shape{1, 1}, {2, 3}, {4, 16}, {1, 8}, {8, 1}}) {
        const index_t n = b.rows * 5, k = b.cols * 7;
        CAPTURE(b.rows);
        CAPTURE(b.cols);
        auto w = random_matrix<float>(n, k, rng);
        auto w8 = random_matrix<std::int8_t>(n, k, rng);
        auto m = prune::mask<2>::make({n, k});
        REQUIRE(m.ok());
        REQUIRE(prune::l1_block(w.cview(), b, 0.6, m->view()).ok());
        check_round_trip(w, *m, [&] { return sparse::make_bsr<float>(w.cview(), m->cview(), b); });
        check_round_trip(w8, *m, [&] { return sparse::make_bsr<std::int8_t>(w8.cview(), m->cview(), b); });
        auto s = sparse::make_bsr<float>(w.cview(), m->cview(), b);
        REQUIRE(s.ok());
        CHECK(s->blocks() == 35 - prune::prune_count(0.6, 35));
        CHECK(s->storage_bytes() == std::size_t(s->blocks() * (b.rows * b.cols * 4 + 2) + (5 + 1) * 4));
        CHECK(s->storage_bytes() == sparse::bsr<float>::storage_formula(n, b, s->blocks()));
    }
    // An unstructured mask still works: partial blocks are stored with zeros.
    auto w = random_matrix<float>(8, 8, rng);
    auto m = random_mask(w, 0.7);
    check_round_trip(w, m, [&] { return sparse::make_bsr<float>(w.cview(), m.cview(), {2, 4}); });
}

TEST_CASE("N:M packed round-trips (2:4, 1:4, 4:8) and its size is values + one byte per value") {
    std::mt19937 rng(4);
    for (auto nm : {std::pair<index_t, index_t>{2, 4}, {1, 4}, {4, 8}, {3, 3}}) {
        const index_t n = 11, k = nm.second * 9;
        auto w = random_matrix<float>(n, k, rng);
        auto w8 = random_matrix<std::int8_t>(n, k, rng);
        auto m = prune::mask<2>::make({n, k});
        REQUIRE(m.ok());
        REQUIRE(prune::l1_nm(w.cview(), nm.first, nm.second, m->view()).ok());
        check_round_trip(w, *m, [&] { return sparse::make_nm<float>(w.cview(), m->cview(), nm.first, nm.second); });
        check_round_trip(w8, *m, [&] { return sparse::make_nm<std::int8_t>(w8.cview(), m->cview(), nm.first, nm.second); });
        auto s = sparse::make_nm<float>(w.cview(), m->cview(), nm.first, nm.second);
        REQUIRE(s.ok());
        CHECK(s->storage_bytes() == std::size_t(n * k / nm.second * nm.first * 5));
        CHECK(s->storage_bytes() == sparse::nm_matrix<float>::storage_formula(n, k, nm.first, nm.second));
    }
}

TEST_CASE("formats: bad input gives a status") {
    std::mt19937 rng(5);
    auto w = random_matrix<float>(4, 8, rng);
    auto m = random_mask(w, 0.5);
    auto wrong = prune::mask<2>::make({8, 4});
    REQUIRE(wrong.ok());
    CHECK(sparse::make_csr<float>(w.cview(), wrong->cview()).error().code() == errc::shape_mismatch);
    CHECK(sparse::make_bsr<float>(w.cview(), m.cview(), {3, 2}).error().code() == errc::shape_mismatch);
    CHECK(sparse::make_bsr<float>(w.cview(), m.cview(), {0, 2}).error().code() == errc::invalid_argument);
    CHECK(sparse::make_nm<float>(w.cview(), m.cview(), 3, 2).error().code() == errc::invalid_argument);  // N > M
    CHECK(sparse::make_nm<float>(w.cview(), m.cview(), 2, 3).error().code() == errc::shape_mismatch);    // 8 % 3
    auto m24 = prune::mask<2>::make({4, 8});
    REQUIRE(m24.ok());
    m24->fill(1);  // keeps 4 of 4: not 2:4
    CHECK(sparse::make_nm<float>(w.cview(), m24->cview(), 2, 4).error().code() == errc::invalid_argument);
    std::vector<float> wide(std::size_t(70000), 1.0f);
    CHECK(sparse::make_csr<float>(matrix_view<const float>(wide.data(), {1, 70000})).error().code() == errc::overflow);
    CHECK(sparse::make_csr<float, std::uint32_t>(matrix_view<const float>(wide.data(), {1, 70000})).ok());
    auto c = sparse::make_csr<float>(w.cview(), m.cview());
    REQUIRE(c.ok());
    auto small = tensor<float, 2>::make({3, 8});
    REQUIRE(small.ok());
    small->fill(7);
    CHECK(c->to_dense(small->view()).code() == errc::shape_mismatch);
    for (index_t i = 0; i < small->size(); ++i) CHECK(small->data()[i] == 7.0f);
}
