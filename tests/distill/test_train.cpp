// The MLP training pass: gradients against PyTorch and finite differences, SGD and Adam against
// PyTorch's updates, seeded determinism, masks, QAT, short digits runs where the loss falls and
// distillation helps, and the errors for bad data and diverging runs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "distill/reference.hpp"
#include "sparq/distill/pipeline.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/nn/train/data.hpp"
#include "sparq/nn/train/init.hpp"
#include "sparq/nn/train/trainer.hpp"

using namespace sparq;
using namespace distill_test;
namespace tr = sparq::nn::train;

namespace {
std::vector<float> vec_bits(const std::uint32_t* bits, std::size_t n) {
    std::vector<float> v(n);
    std::memcpy(v.data(), bits, n * 4);
    return v;
}

// The 6 -> 5 -> ReLU6 -> 3 MLP of the reference steps.
std::vector<nn::linear_layer> step_mlp() {
    std::vector<nn::linear_layer> l(2);
    l[0] = {"fc1", from_bits(step_w1, 5, 6), vec_bits(step_b1, 5), kernels::activation::relu6};
    l[1] = {"fc2", from_bits(step_w2, 3, 5), vec_bits(step_b2, 3), kernels::activation::none};
    return l;
}

void check_near(const float* got, const float* want, index_t n, double tol, const char* what) {
    for (index_t i = 0; i < n; ++i) {
        INFO(what << " [" << i << "]: sparq " << got[i] << ", PyTorch " << want[i]);
        CHECK(std::fabs(double(got[i]) - double(want[i])) <= tol * std::fmax(1.0, std::fabs(double(want[i]))));
    }
}

std::string data_path(const char* name) { return std::string(SPARQ_TEST_DATA_DIR) + "/digits/" + name; }
tensor<float, 2> load_x(const char* name) {
    auto a = io::read_npy(data_path(name).c_str());
    REQUIRE(a.ok());
    auto t = a->to_f32<2>(name);
    REQUIRE(t.ok());
    return std::move(*t);
}
std::vector<std::int64_t> load_y(const char* name) {
    auto a = io::read_npy(data_path(name).c_str());
    REQUIRE(a.ok());
    auto y = a->to_labels(name);
    REQUIRE(y.ok());
    return std::move(*y);
}

bool says(const status& s, const char* text) {
    INFO("message: " << s.message());
    return !s.ok() && std::strstr(s.message(), text) != nullptr;
}
}  // namespace

TEST_CASE("training pass: gradients equal PyTorch's autograd and finite differences") {
    auto layers = step_mlp();
    const auto x = from_bits(step_x, 4, 6);
    const vector_view<const std::int64_t> y(step_y, {4});
    tr::forward_cache c;
    REQUIRE(tr::forward(layers, x.cview(), c).ok());
    auto dl = tensor<float, 2>::make({4, 3});
    REQUIRE(dl.ok());
    REQUIRE(tr::softmax_cross_entropy(c.logits().cview(), y, dl->view()).ok());
    auto grads = tr::make_grads(layers);
    REQUIRE(grads.ok());
    REQUIRE(tr::backward(layers, c, dl->view(), *grads).ok());
    check_near((*grads)[0].weight.data(), vec_bits(step_grad_w1, 30).data(), 30, 1e-6, "dW1");
    check_near((*grads)[0].bias.data(), vec_bits(step_grad_b1, 5).data(), 5, 1e-6, "db1");
    check_near((*grads)[1].weight.data(), vec_bits(step_grad_w2, 15).data(), 15, 1e-6, "dW2");
    check_near((*grads)[1].bias.data(), vec_bits(step_grad_b2, 3).data(), 3, 1e-6, "db2");

    // finite differences on a ReLU MLP of random weights (away from the kinks)
    auto mlp = tr::make_mlp({7, 6, 5, 4}, 3);
    REQUIRE(mlp.ok());
    tr::rng r(9);
    auto xs = tensor<float, 2>::make({5, 7});
    REQUIRE(xs.ok());
    for (index_t k = 0; k < xs->size(); ++k) xs->data()[k] = float(r.uniform(-2, 2));
    std::int64_t labels[] = {0, 3, 1, 2, 3};
    const vector_view<const std::int64_t> ly(labels, {5});
    auto loss = [&] {
        tr::forward_cache fc;
        REQUIRE(tr::forward(*mlp, xs->cview(), fc).ok());
        return tr::softmax_cross_entropy(fc.logits().cview(), ly).value();
    };
    REQUIRE(tr::forward(*mlp, xs->cview(), c).ok());
    auto d = tensor<float, 2>::make({5, 4});
    REQUIRE(d.ok());
    REQUIRE(tr::softmax_cross_entropy(c.logits().cview(), ly, d->view()).ok());
    auto g = tr::make_grads(*mlp);
    REQUIRE(g.ok());
    REQUIRE(tr::backward(*mlp, c, d->view(), *g).ok());
    for (std::size_t li = 0; li < mlp->size(); ++li) {
        float* w = (*mlp)[li].weight.data();
        for (index_t k = 0; k < (*mlp)[li].weight.size(); ++k) {
            const float keep = w[k], h = 1e-3f;
            w[k] = keep + h;
            const double up = loss();
            w[k] = keep - h;
            const double down = loss();
            w[k] = keep;
            const double numeric = (up - down) / (2.0 * double(h));
            INFO("layer " << li << " weight " << k);
            CHECK(std::fabs(numeric - double((*g)[li].weight.data()[k])) <= 2e-3 * std::fmax(1.0, std::fabs(numeric)));
        }
    }
}

TEST_CASE("optimizers: SGD (momentum, weight decay) and Adam take PyTorch's steps") {
    const auto x = from_bits(step_x, 4, 6);
    const std::vector<std::int64_t> y(step_y, step_y + 4);
    for (const char* which : {"sgd", "adam"}) {
        INFO(which);
        auto layers = step_mlp();
        tr::optimizer_options o;
        if (!std::strcmp(which, "sgd")) o.kind = tr::optimizer_kind::sgd, o.lr = 0.1, o.momentum = 0.9, o.weight_decay = 0.01;
        else o.lr = 0.01;
        auto opt = tr::optimizer::make(layers, o);
        REQUIRE(opt.ok());
        auto g = tr::make_grads(layers);
        REQUIRE(g.ok());
        tr::forward_cache c;
        auto d = tensor<float, 2>::make({4, 3});
        REQUIRE(d.ok());
        for (int step = 0; step < 3; ++step) {
            REQUIRE(tr::forward(layers, x.cview(), c).ok());
            REQUIRE(tr::softmax_cross_entropy(c.logits().cview(), vector_view<const std::int64_t>(y.data(), {4}), d->view()).ok());
            REQUIRE(tr::backward(layers, c, d->view(), *g).ok());
            REQUIRE(opt->step(layers, *g).ok());
        }
        const bool sgd = !std::strcmp(which, "sgd");
        check_near(layers[0].weight.data(), vec_bits(sgd ? sgd_w1 : adam_w1, 30).data(), 30, 2e-6, "W1");
        check_near(layers[0].bias.data(), vec_bits(sgd ? sgd_b1 : adam_b1, 5).data(), 5, 2e-6, "b1");
        check_near(layers[1].weight.data(), vec_bits(sgd ? sgd_w2 : adam_w2, 15).data(), 15, 2e-6, "W2");
        check_near(layers[1].bias.data(), vec_bits(sgd ? sgd_b2 : adam_b2, 3).data(), 3, 2e-6, "b2");
    }
    auto layers = step_mlp();
    tr::optimizer_options bad;
    bad.lr = -1;
    CHECK(says(tr::optimizer::make(layers, bad).error(), "learning rate -1 must be finite and > 0"));
}

TEST_CASE("initialisation: torch.nn.Linear's bounds, the same numbers for the same seed") {
    auto a = tr::make_mlp({64, 32, 10}, 7), b = tr::make_mlp({64, 32, 10}, 7), c = tr::make_mlp({64, 32, 10}, 8);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(c.ok());
    CHECK((*a)[0].act == kernels::activation::relu);
    CHECK((*a)[1].act == kernels::activation::none);
    float hi = 0;
    for (index_t k = 0; k < (*a)[0].weight.size(); ++k) hi = std::fmax(hi, std::fabs((*a)[0].weight.data()[k]));
    CHECK(hi <= 0.125f);  // 1 / sqrt(64)
    CHECK(hi > 0.12f);
    CHECK(std::memcmp((*a)[1].weight.data(), (*b)[1].weight.data(), 320 * 4) == 0);
    CHECK(std::memcmp((*a)[1].weight.data(), (*c)[1].weight.data(), 320 * 4) != 0);
}

TEST_CASE("digits, a few epochs: the loss falls, runs are reproducible, masks hold, QAT trains") {
    const auto x = load_x("train_x.npy");
    const auto y = load_y("train_y.npy");
    const auto tx = load_x("test_x.npy");
    const auto ty = load_y("test_y.npy");
    tr::train_options o;
    o.epochs = 4;
    o.seed = 1;
    auto run = [&](tr::train_options opts, std::vector<nn::linear_layer>& m) {
        auto r = tr::train_classifier(m, x.cview(), y, opts);
        REQUIRE(r.ok());
        return *r;
    };
    auto m1 = tr::make_mlp({64, 32, 10}, 1), m2 = tr::make_mlp({64, 32, 10}, 1);
    REQUIRE(m1.ok());
    REQUIRE(m2.ok());
    const auto r1 = run(o, *m1), r2 = run(o, *m2);
    CHECK(r1.epoch_loss.back() < 0.6 * r1.epoch_loss.front());
    CHECK(r1.steps == 4 * 45);  // 1437 rows in batches of 32: 44 full and one of 29
    CHECK(r1.epoch_loss == r2.epoch_loss);
    CHECK(std::memcmp((*m1)[0].weight.data(), (*m2)[0].weight.data(), std::size_t((*m1)[0].weight.size()) * 4) == 0);
    CHECK(tr::accuracy(*m1, tx.cview(), ty).value() > 0.85);

    // 80 % pruned: the zeros stay zeros through training
    auto masks = tr::magnitude_masks(*m1, 0.8);
    REQUIRE(masks.ok());
    REQUIRE(tr::apply_masks(*m1, *masks).ok());
    const double pruned_before = tr::weight_sparsity(*m1);
    CHECK(pruned_before == doctest::Approx(0.8).epsilon(0.001));
    tr::train_options pruned = o;
    pruned.masks = &*masks;
    pruned.epochs = 2;
    run(pruned, *m1);
    CHECK(tr::weight_sparsity(*m1) >= pruned_before);
    for (std::size_t i = 0; i < m1->size(); ++i)
        for (index_t k = 0; k < (*m1)[i].weight.size(); ++k)
            if (!(*masks)[i].data()[k]) REQUIRE((*m1)[i].weight.data()[k] == 0.0f);

    // QAT: fake-quantized weights and activations, the loss still falls
    auto q = tr::make_mlp({64, 32, 10}, 2);
    REQUIRE(q.ok());
    tr::train_options qo = o;
    qo.qat = true;
    const auto rq = run(qo, *q);
    CHECK(rq.epoch_loss.back() < 0.6 * rq.epoch_loss.front());
    CHECK(tr::accuracy(*q, tx.cview(), ty).value() > 0.85);
}

TEST_CASE("distillation on digits: 150 labels + the teacher on every training image beat the 150 labels alone") {
    const auto x = load_x("train_x.npy");
    const auto y = load_y("train_y.npy");
    const auto tx = load_x("test_x.npy");
    const auto ty = load_y("test_y.npy");
    // teacher: 64-128-10 on everything, briefly
    auto teacher = tr::make_mlp({64, 128, 10}, 100);
    REQUIRE(teacher.ok());
    tr::train_options to;
    to.epochs = 40;
    REQUIRE(tr::train_classifier(*teacher, x.cview(), y, to).ok());
    // the labelled subset: the first 15 rows of each class; the other rows unlabelled
    auto pick = tr::first_per_class(y, 10, 15);
    REQUIRE(pick.ok());
    REQUIRE(pick->size() == 150);
    auto xs = tr::gather_rows(x.cview(), *pick);
    REQUIRE(xs.ok());
    const auto ys = tr::gather_labels(y, *pick);
    std::vector<std::int64_t> some(y.size(), tr::unlabelled);
    for (index_t r : *pick) some[std::size_t(r)] = y[std::size_t(r)];
    auto ce = tr::make_mlp({64, 32, 10}, 1), kd = tr::make_mlp({64, 32, 10}, 1);
    REQUIRE(ce.ok());
    REQUIRE(kd.ok());
    distill::distill_options o;
    o.kd = {8.0, 0.9};
    o.train.epochs = 40;  // 1800 steps
    o.train.seed = 1;
    tr::train_options ceo = o.train;
    ceo.epochs = 300;  // 1500 steps: the labelled rows alone are learnt by then (docs/distillation.md)
    REQUIRE(tr::train_classifier(*ce, xs->cview(), ys, ceo).ok());
    REQUIRE(distill::distill(*kd, *teacher, x.cview(), some, o).ok());
    const double ce_acc = tr::accuracy(*ce, tx.cview(), ty).value(), kd_acc = tr::accuracy(*kd, tx.cview(), ty).value();
    INFO("CE " << ce_acc << ", KD " << kd_acc);
    CHECK(kd_acc > ce_acc + 0.015);
}

TEST_CASE("bad data and diverging runs stop with a message") {
    auto m = tr::make_mlp({4, 3, 2}, 0);
    REQUIRE(m.ok());
    auto x = tensor<float, 2>::make({3, 4});
    REQUIRE(x.ok());
    x->fill(0.5f);
    std::vector<std::int64_t> y = {0, 1, 1};
    tr::train_options o;
    o.epochs = 2;
    (*x)(1, 2) = NAN;
    CHECK(says(tr::train_classifier(*m, x->cview(), y, o).error(), "input [1, 2] is nan"));
    (*x)(1, 2) = 0.5f;
    y[2] = 2;
    CHECK(says(tr::train_classifier(*m, x->cview(), y, o).error(), "label 2 is 2, outside [0, 2)"));
    y = {0, 1};
    CHECK(says(tr::train_classifier(*m, x->cview(), y, o).error(), "2 labels for 3 samples"));
    y = {0, 1, 1};
    CHECK(says(tr::train_classifier(*m, x->cview().slice(1, 0, 3), y, o).error(), "samples have 3 features, the model takes 4"));
    o.batch = 0;
    CHECK(says(tr::train_classifier(*m, x->cview(), y, o).error(), "batch size 0"));
    o.batch = 32;
    distill::distill_options d;
    d.train = o;
    auto t = tensor<float, 2>::make({2, 2});
    REQUIRE(t.ok());
    CHECK(says(distill::distill_from_logits(*m, t->cview(), x->cview(), y, d).error(), "2 teacher outputs for 3 samples"));
    std::vector<std::int64_t> none;
    d.kd.alpha = 0.5;
    auto t3 = tensor<float, 2>::make({3, 2});
    REQUIRE(t3.ok());
    CHECK(says(distill::distill_from_logits(*m, t3->cview(), x->cview(), none, d).error(), "0 labels for 3 samples"));
    d.kd.alpha = 1.0;  // soft targets only: no labels needed
    CHECK(distill::distill_from_logits(*m, t3->cview(), x->cview(), none, d).ok());

    // SGD with a huge learning rate on separable data: the loss explodes and training says so
    auto big = tr::make_mlp({4, 16, 2}, 0);
    REQUIRE(big.ok());
    tr::rng r(5);
    auto xb = tensor<float, 2>::make({64, 4});
    REQUIRE(xb.ok());
    std::vector<std::int64_t> yb;
    for (index_t i = 0; i < 64; ++i) {
        for (index_t k = 0; k < 4; ++k) (*xb)(i, k) = float(r.uniform(-10, 10));
        yb.push_back((*xb)(i, 0) > 0);
    }
    tr::train_options wild;
    wild.epochs = 50;
    wild.batch = 8;
    wild.optim.kind = tr::optimizer_kind::sgd;
    wild.optim.lr = 1e6;
    const auto s = tr::train_classifier(*big, xb->cview(), yb, wild).error();
    CHECK(says(s, "training diverged"));
}
