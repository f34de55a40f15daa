// The distillation losses against PyTorch (tests/data/distill_reference.inc, made by
// tools/gen/make_distill_reference.py) within 1e-6 relative, and their gradients against
// central finite differences; bad arguments give a status that names them.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "distill/reference.hpp"
#include "sparq/distill/hint_loss.hpp"
#include "sparq/distill/kd_loss.hpp"
#include "sparq/nn/train/loss.hpp"

using namespace sparq;
using namespace distill_test;

namespace {
// |got - want| <= 1e-6 |want|, with an absolute floor of 1e-6 x the largest reference entry (a
// float gradient cannot hold a tiny entry of a large vector to 1e-6 of itself).
void check_close(const float* got, const double* want, index_t n, const char* what) {
    double scale = 0;
    for (index_t i = 0; i < n; ++i) scale = std::fmax(scale, std::fabs(want[i]));
    for (index_t i = 0; i < n; ++i) {
        INFO(what << " [" << i << "]: sparq " << got[i] << ", PyTorch " << want[i]);
        CHECK(std::fabs(double(got[i]) - want[i]) <= 1e-6 * std::fmax(std::fabs(want[i]), 1e-6 * scale) + 1e-300);
    }
}

bool rel_close(double got, double want, double tol = 1e-6) { return std::fabs(got - want) <= tol * std::fmax(std::fabs(want), 1e-12); }

// Central differences of f over every element of x (perturbed in place), compared with grad.
template <class F>
void check_finite_differences(tensor<float, 2>& x, const tensor<float, 2>& grad, F f, double tol) {
    for (index_t k = 0; k < x.size(); ++k) {
        const float keep = x.data()[k];
        const float h = 1e-2f * std::fmax(1.0f, std::fabs(keep));
        x.data()[k] = keep + h;
        const float up = x.data()[k];
        const double fp = f();
        x.data()[k] = keep - h;
        const float down = x.data()[k];
        const double fm = f();
        x.data()[k] = keep;
        const double numeric = (fp - fm) / (double(up) - double(down));
        INFO("element " << k << ": analytic " << grad.data()[k] << ", numeric " << numeric);
        CHECK(std::fabs(numeric - double(grad.data()[k])) <= tol * std::fmax(1.0, std::fabs(numeric)));
    }
}
}  // namespace

TEST_CASE("kd loss: value and gradient equal PyTorch's (kl_div batchmean * T^2 mixed with cross_entropy)") {
    for (const kd_case& k : kd_cases) {
        INFO("case n=" << k.n << " classes=" << k.classes << " T=" << k.temperature << " alpha=" << k.alpha);
        const auto s = from_bits(k.student, k.n, k.classes), t = from_bits(k.teacher, k.n, k.classes);
        auto g = tensor<float, 2>::make({k.n, k.classes});
        REQUIRE(g.ok());
        const distill::kd_options o{k.temperature, k.alpha};
        auto v = distill::kd_loss(s.cview(), t.cview(), vector_view<const std::int64_t>(k.labels, {k.n}), o, g->view());
        REQUIRE(v.ok());
        CHECK(rel_close(v->loss, k.loss));
        if (k.alpha > 0) CHECK(rel_close(v->kl, k.kl));
        CHECK(rel_close(v->ce, k.ce));
        check_close(g->data(), k.grad, g->size(), "d loss / d student");
    }
}

TEST_CASE("kd loss: the gradient agrees with finite differences; soft-only needs no labels, CE-only no teacher") {
    const kd_case& k = kd_cases[1];
    auto s = from_bits(k.student, k.n, k.classes);
    const auto t = from_bits(k.teacher, k.n, k.classes);
    const vector_view<const std::int64_t> y(k.labels, {k.n});
    for (double alpha : {0.0, 0.5, 1.0}) {
        const distill::kd_options o{3.0, alpha};
        auto g = tensor<float, 2>::make({k.n, k.classes});
        REQUIRE(g.ok());
        REQUIRE(distill::kd_loss(s.cview(), t.cview(), y, o, g->view()).ok());
        check_finite_differences(s, *g, [&] { return distill::kd_loss(s.cview(), t.cview(), y, o).value().loss; }, 1e-4);
    }
    // alpha = 1 without labels; alpha = 0 without a teacher: the same values as with them
    const distill::kd_options soft{8.0, 1.0}, hard{8.0, 0.0};
    auto a = distill::kd_loss(s.cview(), t.cview(), {}, soft);
    auto b = distill::kd_loss(s.cview(), t.cview(), y, soft);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->loss == b->loss);
    auto c = distill::kd_loss(s.cview(), {}, y, hard);
    REQUIRE(c.ok());
    auto ce = nn::train::softmax_cross_entropy(s.cview(), y);
    REQUIRE(ce.ok());
    CHECK(c->loss == doctest::Approx(*ce).epsilon(1e-15));
}

TEST_CASE("kd loss: bad arguments are refused with a message that names them") {
    const kd_case& k = kd_cases[0];
    const auto s = from_bits(k.student, k.n, k.classes), t = from_bits(k.teacher, k.n, k.classes);
    const vector_view<const std::int64_t> y(k.labels, {k.n});
    char buf[300];
    auto expect = [&](const result<distill::kd_value>& r, const char* text) {
        REQUIRE_FALSE(r.ok());
        INFO(r.error().what(buf, sizeof buf));
        CHECK(std::strstr(r.error().message(), text) != nullptr);
    };
    expect(distill::kd_loss(s.cview(), t.cview(), y, {0.0, 0.5}), "temperature 0 must be finite and > 0");
    expect(distill::kd_loss(s.cview(), t.cview(), y, {2.0, 1.5}), "alpha 1.5 must be in [0, 1]");
    expect(distill::kd_loss(s.cview(), t.cview().slice(1, 0, 3), y, {}), "student and teacher logits: shapes [4, 10] and [4, 3] differ");
    expect(distill::kd_loss(s.cview(), t.cview(), y.slice(0, 0, 2), {}), "2 labels for a batch of 4");
    std::int64_t bad[] = {0, 1, 10, 2};
    expect(distill::kd_loss(s.cview(), t.cview(), vector_view<const std::int64_t>(bad, {4}), {}), "label 2 is 10, outside [0, 10)");
    auto nan = tensor<float, 2>::copy_of(s.cview());
    REQUIRE(nan.ok());
    (*nan)(1, 2) = NAN;
    expect(distill::kd_loss(nan->cview(), t.cview(), y, {}), "student logits: value [1, 2] is nan");
    expect(distill::kd_loss(s.cview(), nan->cview(), y, {}), "teacher logits: value [1, 2] is nan");
    // cross-entropy on its own, in the same terms
    auto ce = nn::train::softmax_cross_entropy(s.cview(), vector_view<const std::int64_t>(bad, {4}));
    REQUIRE_FALSE(ce.ok());
    CHECK(std::strstr(ce.error().message(), "label 2 is 10, outside [0, 10)") != nullptr);
}

TEST_CASE("hint loss: value and gradients equal PyTorch's mse_loss (through the adapter), and finite differences") {
    for (const hint_case& h : hint_cases) {
        INFO("case n=" << h.n << " " << h.student_dim << " -> " << h.teacher_dim);
        auto s = from_bits(h.student, h.n, h.student_dim);
        const auto t = from_bits(h.teacher, h.n, h.teacher_dim);
        nn::linear_layer adapter;
        if (h.weight) {
            adapter.name = "adapter";
            adapter.weight = from_bits(h.weight, h.teacher_dim, h.student_dim);
            adapter.bias.resize(std::size_t(h.teacher_dim));
            std::memcpy(adapter.bias.data(), h.bias, adapter.bias.size() * 4);
        }
        const nn::linear_layer* a = h.weight ? &adapter : nullptr;
        auto gs = tensor<float, 2>::make({h.n, h.student_dim});
        REQUIRE(gs.ok());
        nn::train::linear_grad ga;
        if (a) ga = std::move(nn::train::make_grad(adapter).value());
        auto v = distill::hint_loss(s.cview(), t.cview(), a, gs->view(), a ? &ga : nullptr);
        REQUIRE(v.ok());
        CHECK(rel_close(*v, h.loss));
        check_close(gs->data(), h.grad_student, gs->size(), "d loss / d student");
        if (a) {
            check_close(ga.weight.data(), h.grad_weight, ga.weight.size(), "d loss / d W");
            check_close(ga.bias.data(), h.grad_bias, index_t(ga.bias.size()), "d loss / d b");
            check_finite_differences(adapter.weight, ga.weight, [&] { return distill::hint_loss(s.cview(), t.cview(), a).value(); }, 1e-4);
        }
        check_finite_differences(s, *gs, [&] { return distill::hint_loss(s.cview(), t.cview(), a).value(); }, 1e-4);
    }
    const hint_case& h = hint_cases[1];
    const auto s = from_bits(h.student, h.n, h.student_dim), t = from_bits(h.teacher, h.n, h.teacher_dim);
    auto r = distill::hint_loss(s.cview(), t.cview());
    REQUIRE_FALSE(r.ok());
    CHECK(std::strstr(r.error().message(), "student features 3 wide, teacher's 7: give an adapter") != nullptr);
}
