// Sparse kernels: every format and backend against the scalar reference and against the dense
// product of the masked weight (fp32 within the summation-order bound, int8 exactly), exact
// energy counts, and bad input refused with the output untouched.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "sparq/core/tensor.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/spmm.hpp"
#include "sparq/prune.hpp"
#include "sparq/sparse.hpp"
#include "sparse/sparse_fixtures.hpp"

using namespace sparq;
using namespace sparq::test_sparse;

namespace {

struct mnk {
    index_t m, n, k;
};

// The dense truth: Y = X * (W masked)^T in double (float) or int64 (int8).
template <class X, class V>
void dense_reference(const tensor<X, 2>& x, const tensor<V, 2>& w, const prune::mask<2>& mk, std::vector<double>& y,
                     std::vector<double>& bound) {
    const index_t m = x.extent(0), n = w.extent(0), k = w.extent(1);
    y.assign(std::size_t(m * n), 0.0);
    bound.assign(std::size_t(m * n), 0.0);
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) {
            double acc = 0, mag = 0;
            for (index_t c = 0; c < k; ++c) {
                if (!mk(j, c)) continue;
                const double p = double(x(i, c)) * double(w(j, c));
                acc += p;
                mag += std::fabs(p);
            }
            y[std::size_t(i * n + j)] = acc;
            bound[std::size_t(i * n + j)] = mag * double(k) * 1.2e-7 + 1e-30;
        }
}

template <class Y>
void check_against(const tensor<Y, 2>& y, const std::vector<double>& ref, const std::vector<double>& bound) {
    for (index_t i = 0; i < y.size(); ++i) {
        if constexpr (std::is_same_v<Y, float>) REQUIRE(std::fabs(double(y.data()[i]) - ref[std::size_t(i)]) <= bound[std::size_t(i)]);
        else REQUIRE(double(y.data()[i]) == ref[std::size_t(i)]);
    }
}

// Runs `run(ctx, y)` on the scalar and the automatic backend and checks both against the dense
// truth; returns the automatic backend's counter.
template <class X, class V, class Run>
energy::counter check_backends(const tensor<X, 2>& x, const tensor<V, 2>& w, const prune::mask<2>& mk, Run&& run) {
    using Y = std::conditional_t<std::is_same_v<V, float>, float, std::int32_t>;
    std::vector<double> ref, bound;
    dense_reference(x, w, mk, ref, bound);
    energy::counter count;
    for (backend b : {backend::scalar, backend::automatic}) {
        CAPTURE(to_string(b));
        auto y = tensor<Y, 2>::make({x.extent(0), w.extent(0)});
        REQUIRE(y.ok());
        y->fill(Y(123));
        context ctx;
        ctx.with_backend(b);
        energy::counter c;
        ctx.with_energy(c);
        REQUIRE(run(ctx, y->view()).ok());
        check_against(*y, ref, bound);
        count = c;
    }
    return count;
}

// int8 values with int8 and with uint8 activations, against the dense truth on both backends.
template <class Make>
void check_int8(const mnk& s, const prune::mask<2>& mk, std::mt19937& rng, Make&& make) {
    auto x8 = random_matrix<std::int8_t>(s.m, s.k, rng);
    auto xu = random_matrix<std::uint8_t>(s.m, s.k, rng);
    auto w8 = random_matrix<std::int8_t>(s.n, s.k, rng);
    auto f = make(w8);
    REQUIRE(f.ok());
    check_backends(x8, w8, mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, x8.cview(), *f, y); });
    check_backends(xu, w8, mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, xu.cview(), *f, y); });
}

// Random activations and weights of a shape, and the mask `prune_with(w, mask)` gives.
struct masked_case {
    tensor<float, 2> x, w;
    prune::mask<2> mk;
};
template <class Prune>
masked_case make_case(const mnk& s, std::mt19937& rng, Prune&& prune_with) {
    CAPTURE(s.m);
    CAPTURE(s.n);
    CAPTURE(s.k);
    masked_case c{random_matrix<float>(s.m, s.k, rng), random_matrix<float>(s.n, s.k, rng), {}};
    auto mk = prune::mask<2>::make({s.n, s.k});
    REQUIRE(mk.ok());
    c.mk = std::move(*mk);
    REQUIRE(prune_with(c.w, c.mk).ok());
    return c;
}

const mnk shapes[] = {{1, 1, 1}, {1, 7, 13}, {3, 17, 31}, {1, 64, 96}, {5, 33, 160}, {13, 40, 64}, {1, 96, 4099}, {2, 16, 32}};

}  // namespace

TEST_CASE("spmm / spmv CSR fp32 and int8 (int8 and uint8 activations) against the dense masked product") {
    std::mt19937 rng(21);
    for (const mnk& s : shapes) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        for (double sp : {0.0, 0.5, 0.9}) {
            auto x = random_matrix<float>(s.m, s.k, rng);
            auto w = random_matrix<float>(s.n, s.k, rng);
            auto mk = random_mask(w, sp, unsigned(s.k));
            auto c = sparse::make_csr<float>(w.cview(), mk.cview());
            REQUIRE(c.ok());
            auto count = check_backends(x, w, mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, x.cview(), *c, y); });
            const auto nnz = std::uint64_t(prune::count_kept(mk.cview()));
            auto packed = kernels::pack_csr(*c);
            REQUIRE(packed.ok());
            CHECK(packed->nnz == index_t(nnz));
            CHECK(packed->stored() >= index_t(nnz));
            auto pcount = check_backends(x, w, mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, x.cview(), *packed, y); });
            CHECK(pcount.sparse_macs(dtype::f32) == std::uint64_t(packed->stored() * s.m));
            CHECK(pcount.bytes(energy::traffic::indices) == packed->index_bytes());
            CHECK(count.sparse_macs(dtype::f32) == nnz * std::uint64_t(s.m));
            CHECK(count.baseline_macs() == std::uint64_t(s.m * s.n * s.k));
            CHECK(count.bytes(energy::traffic::weights) == nnz * 4);
            CHECK(count.bytes(energy::traffic::indices) == c->index_bytes());
            CHECK(count.bytes(energy::traffic::activations) == std::uint64_t(s.m * s.k + s.m * s.n) * 4);

            check_int8(s, mk, rng, [&](const auto& w8) { return sparse::make_csr<std::int8_t, std::uint32_t>(w8.cview(), mk.cview()); });
            auto w8 = random_matrix<std::int8_t>(s.n, s.k, rng);
            auto x8 = random_matrix<std::int8_t>(s.m, s.k, rng);
            auto c8 = sparse::make_csr<std::int8_t>(w8.cview(), mk.cview());
            REQUIRE(c8.ok());
            auto count8 = check_backends(x8, w8, mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, x8.cview(), *c8, y); });
            CHECK(count8.sparse_macs(dtype::s8) == nnz * std::uint64_t(s.m));
            CHECK(count8.bytes(energy::traffic::weights) == nnz);
        }
    }
}

TEST_CASE("spmm block-sparse fp32 and int8 (SIMD block shapes and others) against the dense masked product") {
    std::mt19937 rng(22);
    for (auto b : {prune::block_shape{4, 16}, {1, 16}, {2, 32}, {8, 16}, {1, 8}, {4, 4}, {3, 5}}) {
        for (auto s : {mnk{1, 8, 32}, mnk{3, 24, 160}, mnk{1, 40, 480}, mnk{7, 16, 96}}) {
            if (s.n % b.rows || s.k % b.cols) continue;
            CAPTURE(b.rows);
            CAPTURE(b.cols);
            auto c = make_case(s, rng, [&](auto& wt, auto& m) { return prune::l1_block(wt.cview(), b, 0.75, m.view()); });
            const auto &x = c.x, &w = c.w;
            const auto* mk = &c.mk;
            auto bs = sparse::make_bsr<float>(w.cview(), mk->cview(), b);
            REQUIRE(bs.ok());
            auto count = check_backends(x, w, *mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, x.cview(), *bs, y); });
            CHECK(count.sparse_macs(dtype::f32) == std::uint64_t(bs->nnz() * s.m));
            CHECK(count.bytes(energy::traffic::indices) == bs->index_bytes());

            check_int8(s, *mk, rng, [&](const auto& w8) { return sparse::make_bsr<std::int8_t>(w8.cview(), mk->cview(), b); });
        }
    }
}

TEST_CASE("spmm N:M fp32 (packed SIMD and canonical) and int8 against the dense masked product") {
    std::mt19937 rng(23);
    for (auto nm : {std::pair<index_t, index_t>{2, 4}, {1, 4}, {4, 8}, {3, 16}, {2, 3}}) {
        // M of 1 .. 196 (the SIMD kernel's row blocks of 8 and their remainders), N not a multiple
        // of its 32-row panels, K not a multiple of its 64-group blocks; the larger shapes for 2:4
        // and 1:4 only, which keeps the suite fast.
        const bool simd_pattern = nm.second == 4 && nm.first <= 2;
        for (auto s : {mnk{1, 1, 48}, mnk{3, 17, 96}, mnk{9, 33, 144}, mnk{20, 70, 48}, mnk{1, 32, 4800}, mnk{16, 32, 528},
                       mnk{45, 40, 1056}, mnk{8, 16, 96}, mnk{24, 50, 240}, mnk{130, 37, 144}, mnk{196, 70, 432}}) {
            const bool large = s.m >= 24 && s.k >= 144 && s.n >= 37;
            if (large && !simd_pattern) continue;
            CAPTURE(nm.first);
            CAPTURE(nm.second);
            auto c = make_case(s, rng, [&](auto& wt, auto& m) { return prune::l1_nm(wt.cview(), nm.first, nm.second, m.view()); });
            const auto &x = c.x, &w = c.w;
            const auto* mk = &c.mk;
            auto f = sparse::make_nm<float>(w.cview(), mk->cview(), nm.first, nm.second);
            REQUIRE(f.ok());
            auto packed = kernels::pack_nm(*f);
            REQUIRE(packed.ok());
            check_backends(x, w, *mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, x.cview(), *f, y); });
            auto count = check_backends(x, w, *mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, x.cview(), *packed, y); });
            const auto nnz = std::uint64_t(s.n * s.k / nm.second * nm.first);
            CHECK(count.sparse_macs(dtype::f32) == nnz * std::uint64_t(s.m));
            CHECK(count.bytes(energy::traffic::indices) == nnz);
            CHECK(count.bytes(energy::traffic::weights) == nnz * 4);

            // the rows layout: blocks of 64 / m groups, each row's values padded to a multiple of 8
            auto by_rows = kernels::pack_nm(*f, kernels::nm_layout::rows);
            REQUIRE(by_rows.ok());
            const auto rcount =
                check_backends(x, w, *mk, [&](const context& ctx, auto y) { return kernels::spmm(ctx, x.cview(), *by_rows, y); });
            const index_t bg = 64 / nm.second, blocks = (s.k / nm.second + bg - 1) / bg, per = (bg * nm.first + 7) / 8 * 8;
            CHECK(by_rows->index_bytes() == std::size_t(blocks * s.n * per));
            CHECK(rcount.bytes(energy::traffic::indices) == by_rows->index_bytes());
            CHECK(rcount.sparse_macs(dtype::f32) == nnz * std::uint64_t(s.m));

            if (!large)
                check_int8(s, *mk, rng, [&](const auto& w8) { return sparse::make_nm<std::int8_t>(w8.cview(), mk->cview(), nm.first, nm.second); });
        }
    }
}

TEST_CASE("spmm 2:4 packed: row-strided views give the contiguous result bit for bit; NaN at pruned positions is never read") {
    std::mt19937 rng(26);
    for (auto s : {mnk{196, 70, 452}, mnk{37, 33, 260}, mnk{5, 16, 64}}) {
        CAPTURE(s.m);
        auto c = make_case(s, rng, [&](auto& wt, auto& m) { return prune::l1_nm(wt.cview(), 2, 4, m.view()); });
        // NaN wherever row 0 of W is pruned: every output row reads x at its own kept positions only
        for (index_t i = 0; i < s.m; ++i)
            for (index_t k = 0; k < s.k; ++k)
                if (!c.mk(0, k) && (i + k) % 3 == 0) c.x(i, k) = std::numeric_limits<float>::quiet_NaN();
        auto f = sparse::make_nm<float>(c.w.cview(), c.mk.cview(), 2, 4);
        REQUIRE(f.ok());
        for (auto layout : {kernels::nm_layout::panels, kernels::nm_layout::rows}) {
        auto packed = kernels::pack_nm(*f, layout);
        REQUIRE(packed.ok());
        context ctx;
        auto y = tensor<float, 2>::make({s.m, s.n});
        REQUIRE(y.ok());
        REQUIRE(kernels::spmm(ctx, c.x.cview(), *packed, y->view()).ok());
        std::vector<float> xs(std::size_t(s.m * (s.k + 5))), ys(std::size_t(s.m * (s.n + 3)), 7.0f);
        for (index_t i = 0; i < s.m; ++i)
            for (index_t k = 0; k < s.k; ++k) xs[std::size_t(i * (s.k + 5) + k)] = c.x(i, k);
        const matrix_view<const float> xv(xs.data(), {s.m, s.k}, {s.k + 5, 1});
        const matrix_view<float> yv(ys.data(), {s.m, s.n}, {s.n + 3, 1});
        REQUIRE(kernels::spmm(ctx, xv, *packed, yv).ok());
        for (index_t i = 0; i < s.m; ++i) {
            for (index_t j = 0; j < s.n; ++j) {
                const float a = yv(i, j), b = (*y)(i, j);
                REQUIRE(std::memcmp(&a, &b, sizeof a) == 0);
            }
            for (index_t j = s.n; j < s.n + 3; ++j) REQUIRE(ys[std::size_t(i * (s.n + 3) + j)] == 7.0f);
            REQUIRE(std::isfinite((*y)(i, 0)));
        }
        }
    }
}

TEST_CASE("spmm N:M rows layout: scratch from the arena or none, the same bits; too small an arena is not an error") {
    std::mt19937 rng(27);
    // N past the stack's 64; with 96 activation rows (a full block on AVX2, 6 vectors of 16 on
    // AVX-512), N = 1100 is also past the weight rows the scratch holds at once (682 either way:
    // its 256 KB over the block's rows); K with a partial last block
    for (const mnk s : {mnk{150, 40, 200}, mnk{20, 1100, 72}, mnk{96, 1100, 72}}) {
        CAPTURE(s.n);
        auto c = make_case(s, rng, [&](auto& wt, auto& m) { return prune::l1_nm(wt.cview(), 2, 4, m.view()); });
        auto f = sparse::make_nm<float>(c.w.cview(), c.mk.cview(), 2, 4);
        REQUIRE(f.ok());
        auto packed = kernels::pack_nm(*f, kernels::nm_layout::rows);
        REQUIRE(packed.ok());
        std::vector<double> ref, bound;
        dense_reference(c.x, c.w, c.mk, ref, bound);
        auto run = [&](std::size_t arena_bytes) {
            auto y = tensor<float, 2>::make({s.m, s.n});
            REQUIRE(y.ok());
            std::vector<std::byte> buffer(arena_bytes + 64);
            arena a(buffer.data(), buffer.size());
            context ctx;
            if (arena_bytes > 0) ctx.with_scratch(a);
            REQUIRE(kernels::spmm(ctx, c.x.cview(), *packed, y->view()).ok());
            CHECK(a.used() == 0);  // the scratch is given back
            check_against(*y, ref, bound);
            return std::move(*y);
        };
        const auto none = run(0), small = run(1024), enough = run(1 << 20);
        CHECK(std::memcmp(none.data(), small.data(), sizeof(float) * std::size_t(none.size())) == 0);
        CHECK(std::memcmp(none.data(), enough.data(), sizeof(float) * std::size_t(none.size())) == 0);
    }
}

TEST_CASE("spmv: the vector form, with strided vectors") {
    std::mt19937 rng(24);
    auto w = random_matrix<float>(9, 40, rng);
    auto mk = random_mask(w, 0.8);
    auto c = sparse::make_csr<float>(w.cview(), mk.cview());
    REQUIRE(c.ok());
    std::vector<float> x(80), y(18, 5.0f), expect(9, 0.0f);
    for (auto& v : x) v = std::uniform_real_distribution<float>(-1, 1)(rng);
    context ctx;
    REQUIRE(kernels::spmv(ctx, vector_view<const float>(x.data(), {40}, {2}), *c, vector_view<float>(y.data(), {9}, {2})).ok());
    for (index_t r = 0; r < 9; ++r) {
        double acc = 0;
        for (index_t k = 0; k < 40; ++k) acc += mk(r, k) ? double(w(r, k)) * double(x[std::size_t(2 * k)]) : 0.0;
        CHECK(y[std::size_t(2 * r)] == doctest::Approx(acc).epsilon(1e-5));
        CHECK(y[std::size_t(2 * r + 1)] == 5.0f);
    }
}

TEST_CASE("sparse kernels: bad shapes give a status and leave y untouched") {
    std::mt19937 rng(25);
    auto w = random_matrix<float>(8, 32, rng);
    auto mk = prune::mask<2>::make({8, 32});
    REQUIRE(mk.ok());
    REQUIRE(prune::l1_nm(w.cview(), 2, 4, mk->view()).ok());
    auto c = sparse::make_csr<float>(w.cview(), mk->cview());
    auto b = sparse::make_bsr<float>(w.cview(), mk->cview(), {4, 16});
    auto f = sparse::make_nm<float>(w.cview(), mk->cview(), 2, 4);
    REQUIRE((c.ok() && b.ok() && f.ok()));
    auto p = kernels::pack_nm(*f);
    REQUIRE(p.ok());
    auto x = random_matrix<float>(2, 31, rng);
    auto y = tensor<float, 2>::make({2, 8});
    REQUIRE(y.ok());
    y->fill(3.0f);
    context ctx;
    CHECK(kernels::spmm(ctx, x.cview(), *c, y->view()).code() == errc::shape_mismatch);
    CHECK(kernels::spmm(ctx, x.cview(), *b, y->view()).code() == errc::shape_mismatch);
    CHECK(kernels::spmm(ctx, x.cview(), *f, y->view()).code() == errc::shape_mismatch);
    CHECK(kernels::spmm(ctx, x.cview(), *p, y->view()).code() == errc::shape_mismatch);
    for (index_t i = 0; i < y->size(); ++i) CHECK(y->data()[i] == 3.0f);
    kernels::nm_packed empty;
    auto x2 = random_matrix<float>(2, 32, rng);
    empty.rows = 8;
    empty.cols = 32;
    empty.n = 2;
    empty.m = 4;
    empty.nr = 32;
    CHECK(kernels::spmm(ctx, x2.cview(), empty, y->view()).code() == errc::invalid_argument);
}
