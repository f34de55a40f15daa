// The digits distillation experiments of docs/distillation.md, end to end with sparq's own
// trainer (Adam 1e-3, batch 32, PyTorch's defaults and initialisation):
//
//   1. teacher 64-128-64-10 trained on the whole training split (1437 rows), 300 epochs
//   2. student 64-32-10 on 150 labelled rows (the first 15 of each class in train_y's order):
//      cross-entropy alone vs KD (T = 8, alpha = 0.9), same budget (300 epochs), seeds 1-3
//   3. the same two students on the whole training split
//   4. a T / alpha sweep of the 150-row student
//   5. the teacher pruned to 80 % (magnitude, per layer) and fine-tuned with KD from the dense teacher
//   6. int8: post-training quantization of the teacher (nn::compiled_model, min-max calibration
//      on train_x) vs quantization-aware fine-tuning, then the same int8 compilation
//
// usage: distill_digits [--data DIR] [--quick] [--no-sweep]    (--quick: 30 epochs, one seed)
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sparq/distill/pipeline.hpp>
#include <sparq/io/model_safetensors.hpp>
#include <sparq/io/npy.hpp>
#include <sparq/nn/compiled_model.hpp>
#include <sparq/nn/train/data.hpp>
#include <sparq/nn/train/graph.hpp>
#include <sparq/nn/train/init.hpp>
#include <sparq/nn/train/trainer.hpp>
#include <sparq/prune/model.hpp>

#ifndef SPARQ_DEFAULT_DATA_DIR
#define SPARQ_DEFAULT_DATA_DIR "data/digits"
#endif

using namespace sparq;
namespace tr = sparq::nn::train;
using layers_t = std::vector<nn::linear_layer>;

namespace {

template <class T>
T must(result<T> r, const char* what) {
    if (!r) {
        char buf[300];
        std::fprintf(stderr, "distill_digits: %s: %s\n", what, r.error().what(buf, sizeof buf));
        std::exit(1);
    }
    return std::move(*r);
}
void must(const status& s, const char* what) {
    if (!s) {
        char buf[300];
        std::fprintf(stderr, "distill_digits: %s: %s\n", what, s.what(buf, sizeof buf));
        std::exit(1);
    }
}

struct digits {
    tensor<float, 2> x, tx;
    std::vector<std::int64_t> y, ty;
};

int epochs = 300;

tr::train_options recipe(std::uint64_t seed, int n_epochs = -1) {
    tr::train_options o;
    o.epochs = n_epochs > 0 ? n_epochs : epochs;
    o.batch = 32;
    o.seed = seed;
    o.optim.kind = tr::optimizer_kind::adam;
    o.optim.lr = 1e-3;
    return o;
}

double test_acc(const layers_t& m, const digits& d) { return must(tr::accuracy(m, d.tx.cview(), d.ty), "accuracy"); }

double int8_acc(const layers_t& m, const digits& d) {
    nn::model mm = nn::model::sequential(must(tr::clone_layers(m), "copy"));
    nn::compile_options co;
    co.prec = nn::precision::int8;
    co.observer = nn::observer_kind::minmax;
    co.calibration = d.x.cview();
    auto c = must(nn::compiled_model::compile(mm, co), "compile int8");
    auto scratch = must(arena::with_capacity(std::size_t(1) << 22), "arena");
    context ctx;
    ctx.with_scratch(scratch);
    auto logits = must(tensor<float, 2>::make({d.tx.extent(0), 10}), "logits");
    must(c.run(ctx, d.tx.cview(), logits.view()), "run int8");
    return must(tr::accuracy(logits.cview(), d.ty), "accuracy");
}

// Mean test accuracy over seeds of a 64-32-10 student trained with CE or KD on (x, y).
double student(const digits& d, const matrix_view<const float>& x, const std::vector<std::int64_t>& y, const tensor<float, 2>* teacher_logits,
               distill::kd_options kd, const std::vector<std::uint64_t>& seeds) {
    double sum = 0;
    for (std::uint64_t seed : seeds) {
        layers_t s = must(tr::make_mlp({64, 32, 10}, seed), "student");
        if (teacher_logits) {
            distill::distill_options o{kd, recipe(seed)};
            must(distill::distill_from_logits(s, teacher_logits->cview(), x, y, o), "distill");
        } else {
            must(tr::train_classifier(s, x, y, recipe(seed)), "train");
        }
        sum += test_acc(s, d);
    }
    return sum / double(seeds.size());
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir = SPARQ_DEFAULT_DATA_DIR;
    bool sweep = true;
    std::vector<std::uint64_t> seeds = {1, 2, 3};
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--data") && i + 1 < argc) dir = argv[++i];
        else if (!std::strcmp(argv[i], "--quick")) epochs = 30, seeds = {1}, sweep = false;
        else if (!std::strcmp(argv[i], "--no-sweep")) sweep = false;
        else {
            std::fprintf(stderr, "usage: distill_digits [--data DIR] [--quick] [--no-sweep]\n");
            return 2;
        }
    }
    digits d;
    auto load_x = [&](const char* f) { return must(must(io::read_npy((dir + "/" + f).c_str()), f).to_f32<2>(f), f); };
    auto load_y = [&](const char* f) { return must(must(io::read_npy((dir + "/" + f).c_str()), f).to_labels(f), f); };
    d.x = load_x("train_x.npy"), d.tx = load_x("test_x.npy");
    d.y = load_y("train_y.npy"), d.ty = load_y("test_y.npy");

    std::printf("## 1. Teacher 64-128-64-10, whole training split (%td rows), %d epochs, seed 0\n\n", d.x.extent(0), epochs);
    layers_t teacher = must(tr::make_mlp({64, 128, 64, 10}, 0), "teacher");
    must(tr::train_classifier(teacher, d.x.cview(), d.y, recipe(0)), "train teacher");
    const double teacher_acc = test_acc(teacher, d);
    std::printf("teacher fp32 test accuracy: %.4f\n\n", teacher_acc);
    const auto t_logits = must(tr::predict(teacher, d.x.cview()), "teacher logits");

    const auto pick = must(tr::first_per_class(d.y, 10, 15), "subset");
    const auto xs = must(tr::gather_rows(d.x.cview(), pick), "subset");
    const auto ys = tr::gather_labels(d.y, pick);
    const auto ts = must(tr::gather_rows(t_logits.cview(), pick), "subset");
    const distill::kd_options kd{8.0, 0.9};

    std::printf("## 2-3. Student 64-32-10, CE alone vs KD (T=8, alpha=0.9), mean test accuracy of %zu seed(s)\n\n", seeds.size());
    std::printf("| training rows | CE | KD | KD - CE |\n|---|---:|---:|---:|\n");
    const double ce150 = student(d, xs.cview(), ys, nullptr, kd, seeds), kd150 = student(d, xs.cview(), ys, &ts, kd, seeds);
    std::printf("| 150 (15 per class) | %.4f | %.4f | %+.4f |\n", ce150, kd150, kd150 - ce150);
    std::fflush(stdout);
    const double ceall = student(d, d.x.cview(), d.y, nullptr, kd, seeds), kdall = student(d, d.x.cview(), d.y, &t_logits, kd, seeds);
    std::printf("| 1437 (all) | %.4f | %.4f | %+.4f |\n", ceall, kdall, kdall - ceall);
    {
        std::vector<index_t> first(150);
        for (index_t i = 0; i < 150; ++i) first[std::size_t(i)] = i;
        const auto xf = must(tr::gather_rows(d.x.cview(), first), "subset");
        const auto yf = tr::gather_labels(d.y, first);
        const auto tf = must(tr::gather_rows(t_logits.cview(), first), "subset");
        const double ce = student(d, xf.cview(), yf, nullptr, kd, seeds), k = student(d, xf.cview(), yf, &tf, kd, seeds);
        std::printf("| 150 (the first 150 rows) | %.4f | %.4f | %+.4f |\n", ce, k, k - ce);
    }
    std::vector<std::int64_t> some(d.y.size(), tr::unlabelled);  // the 150 labels, the other rows unlabelled
    for (index_t r : pick) some[std::size_t(r)] = d.y[std::size_t(r)];
    {
        // The teacher's soft targets on all 1437 training images (a transfer set), the labels
        // of the 150-row subset only (the others nn::train::unlabelled): KD on every row, CE on
        // the labelled rows of each batch.
        const double k = student(d, d.x.cview(), some, &t_logits, kd, seeds);
        std::printf("| 150 labelled (15 per class) + the teacher on all 1437 images | %.4f | %.4f | %+.4f |\n", ce150, k, k - ce150);
        // The same number of optimizer steps for CE: the transfer-set run takes ceil(1437 / 32)
        // steps an epoch, the 150 rows ceil(150 / 32); CE runs that many more epochs.
        const int kd_steps = epochs * int((d.x.extent(0) + 31) / 32), ce_epochs = kd_steps / int((xs.extent(0) + 31) / 32);
        const int keep = epochs;
        epochs = ce_epochs;
        const double ce_same = student(d, xs.cview(), ys, nullptr, kd, seeds);
        epochs = keep;
        std::printf("| the same, CE on the 150 labelled rows for as many steps (%d, %d epochs) | %.4f | %.4f | %+.4f |\n\n", kd_steps,
                    ce_epochs, ce_same, k, k - ce_same);
    }
    std::fflush(stdout);

    if (sweep) {
        std::printf("## 4. T / alpha sweep, 150-row student, mean test accuracy of %zu seed(s) (CE alone: %.4f)\n\n", seeds.size(), ce150);
        const double alphas[] = {0.5, 0.9, 1.0};
        std::printf("| T | alpha 0.5 | alpha 0.9 | alpha 1.0 |\n|---:|---:|---:|---:|\n");
        for (double T : {1.0, 2.0, 4.0, 8.0, 16.0}) {
            std::printf("| %g |", T);
            for (double a : alphas) std::printf(" %.4f |", student(d, xs.cview(), ys, &ts, {T, a}, seeds));
            std::printf("\n");
            std::fflush(stdout);
        }
        std::printf("\nThe same sweep with the teacher on all 1437 training images (150 labelled):\n\n");
        std::printf("| T | alpha 0.5 | alpha 0.9 | alpha 1.0 |\n|---:|---:|---:|---:|\n");
        for (double T : {1.0, 2.0, 4.0, 8.0, 16.0}) {
            std::printf("| %g |", T);
            for (double a : alphas) std::printf(" %.4f |", student(d, d.x.cview(), some, &t_logits, {T, a}, seeds));
            std::printf("\n");
            std::fflush(stdout);
        }
        std::printf("\n");
    }

    std::printf("## 5. The teacher pruned to 80%% (magnitude, per layer), fine-tuned %d epochs\n\n", epochs / 6);
    const auto masks = must(tr::magnitude_masks(teacher, 0.8), "masks");
    std::printf("| model | weight sparsity | test accuracy | vs dense teacher |\n|---|---:|---:|---:|\n");
    std::printf("| dense teacher | %.3f | %.4f | |\n", tr::weight_sparsity(teacher), teacher_acc);
    {
        layers_t p = must(tr::clone_layers(teacher), "copy");
        must(tr::apply_masks(p, masks), "mask");
        const double a0 = test_acc(p, d);
        std::printf("| pruned, no fine-tuning | %.3f | %.4f | %+.4f |\n", tr::weight_sparsity(p), a0, a0 - teacher_acc);
        layers_t pce = must(tr::clone_layers(p), "copy");
        tr::train_options o = recipe(0, epochs / 6);
        o.masks = &masks;
        must(tr::train_classifier(pce, d.x.cview(), d.y, o), "fine-tune CE");
        const double a1 = test_acc(pce, d);
        std::printf("| pruned + CE fine-tune | %.3f | %.4f | %+.4f |\n", tr::weight_sparsity(pce), a1, a1 - teacher_acc);
        distill::distill_options dko{kd, o};
        must(distill::distill_from_logits(p, t_logits.cview(), d.x.cview(), d.y, dko), "fine-tune KD");
        const double a2 = test_acc(p, d);
        std::printf("| pruned + KD fine-tune (T=8, alpha=0.9) | %.3f | %.4f | %+.4f |\n\n", tr::weight_sparsity(p), a2, a2 - teacher_acc);
        std::fflush(stdout);
    }

    std::printf("## 6. int8: PTQ vs QAT (nn::compiled_model int8, min-max calibration on train_x)\n\n");
    std::printf("| model | fp32 | int8 |\n|---|---:|---:|\n");
    std::printf("| teacher, PTQ | %.4f | %.4f |\n", teacher_acc, int8_acc(teacher, d));
    {
        // QAT of the teacher: fine-tuned from its trained weights with fake-quantized weights and
        // activations, on the labels (CE) or on its own fp32 logits (KD), mean of 3 seeds.
        auto qat = [&](bool kd_loss, double lr, int n_epochs, double& fp32) {
            double sum = 0;
            fp32 = 0;
            for (std::uint64_t seed : {0u, 1u, 2u}) {
                layers_t q = must(tr::clone_layers(teacher), "copy");
                tr::train_options o = recipe(seed, n_epochs);
                o.qat = true;
                o.optim.lr = lr;
                if (kd_loss) must(distill::distill_from_logits(q, t_logits.cview(), d.x.cview(), d.y, distill::distill_options{kd, o}), "QAT");
                else must(tr::train_classifier(q, d.x.cview(), d.y, o), "QAT");
                sum += int8_acc(q, d), fp32 += test_acc(q, d);
            }
            fp32 /= 3;
            return sum / 3;
        };
        double f = 0;
        const double ce = qat(false, 1e-4, 10, f);
        std::printf("| teacher, QAT 10 epochs, lr 1e-4, CE on the labels (mean of 3 seeds) | %.4f | %.4f |\n", f, ce);
        const double k = qat(true, 1e-4, 10, f);
        std::printf("| teacher, QAT 10 epochs, lr 1e-4, KD from its fp32 self (mean of 3 seeds) | %.4f | %.4f |\n", f, k);
        if (sweep) {
            std::printf("\nQAT of the teacher, int8 test accuracy, mean of 3 seeds (PTQ: %.4f):\n\n", int8_acc(teacher, d));
            std::printf("| lr | epochs | CE | KD from fp32 |\n|---:|---:|---:|---:|\n");
            for (double lr : {1e-3, 1e-4, 1e-5})
                for (int n : {5, 10, 30}) {
                    const double c1 = qat(false, lr, n, f), k1 = qat(true, lr, n, f);
                    std::printf("| %g | %d | %.4f | %.4f |\n", lr, n, c1, k1);
                }
            std::printf("\n| model | fp32 | int8 |\n|---|---:|---:|\n");
        }
        layers_t qs = must(tr::make_mlp({64, 32, 10}, 1), "student");
        must(tr::train_classifier(qs, d.x.cview(), d.y, recipe(1)), "student");
        const double ptq_s = int8_acc(qs, d), f_s = test_acc(qs, d);
        tr::train_options oq = recipe(1, epochs / 10);
        oq.qat = true;
        must(tr::train_classifier(qs, d.x.cview(), d.y, oq), "student QAT");
        std::printf("| student 64-32-10 (all rows), PTQ | %.4f | %.4f |\n", f_s, ptq_s);
        std::printf("| student 64-32-10, QAT fine-tune %d epochs (CE) | %.4f | %.4f |\n\n", oq.epochs, test_acc(qs, d), int8_acc(qs, d));
    }

    // The digits CNN (conv, pooling: the graph trainer, nn/train/graph.hpp) pruned 80 % and
    // fine-tuned with KD from its dense self, pruned weights kept at zero.
    std::printf("## 7. The digits CNN pruned to 80%% (magnitude, per layer), KD fine-tune %d epochs (graph trainer)\n\n", epochs / 6);
    {
        const std::string cnn_path = dir + "/cnn.safetensors";
        nn::model dense = must(io::load_model_safetensors(cnn_path.c_str()), "the CNN");
        nn::model p = must(io::load_model_safetensors(cnn_path.c_str()), "the CNN");
        auto acc = [&](const nn::model& m) {
            return must(tr::accuracy(must(tr::predict(m, d.tx.cview()), "predict").cview(), d.ty), "accuracy");
        };
        const double a_dense = acc(dense);
        const auto cnn_logits = must(tr::predict(dense, d.x.cview()), "CNN logits");
        must(prune::prune_model(p, *prune::parse_model_spec("0.8")), "prune");
        const double a0 = acc(p);
        tr::train_options o = recipe(0, epochs / 6);
        o.keep_zeros = true;
        must(distill::distill_model(p, cnn_logits.cview(), d.x.cview(), d.y, distill::distill_options{kd, o}), "CNN KD");
        const double a1 = acc(p);
        std::printf("| model | weight sparsity | test accuracy | vs dense |\n|---|---:|---:|---:|\n");
        std::printf("| dense CNN | %.3f | %.4f | |\n", prune::weight_sparsity(dense), a_dense);
        std::printf("| pruned, no fine-tuning | %.3f | %.4f | %+.4f |\n", 0.8, a0, a0 - a_dense);
        std::printf("| pruned + KD fine-tune (T=8, alpha=0.9) | %.3f | %.4f | %+.4f |\n", prune::weight_sparsity(p), a1, a1 - a_dense);
    }
    return 0;
}
