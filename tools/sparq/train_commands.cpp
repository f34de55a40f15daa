// `sparq distill` and `sparq finetune`: training on the digits data (or any .npy split in the
// same layout) with sparq's MLP trainer, the result written as .safetensors, and the estimated
// energy of the model before and after.
//   distill   a student (a smaller MLP, or the teacher pruned and / or fake-quantized) trained
//             against a teacher's logits with the KD loss
//   finetune  a model trained further on labels (or, with --teacher, with KD), pruned and / or
//             quantization-aware
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "sparq/distill/pipeline.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "sparq/nn/train/data.hpp"
#include "sparq/nn/train/init.hpp"
#include "sparq/nn/train/graph.hpp"
#include "sparq/nn/train/trainer.hpp"
#include "sparq/prune/model.hpp"

#ifndef SPARQ_DEFAULT_DATA_DIR
#define SPARQ_DEFAULT_DATA_DIR "data/digits"
#endif

namespace sparq_cli {
// (a namespace per command: the program's files compile together, CMake's unity build)
namespace train_commands_cmd {
namespace {

using namespace sparq;
namespace tr = sparq::nn::train;

struct train_cmd_options {
    bool distill = false;
    std::string data = SPARQ_DEFAULT_DATA_DIR;
    std::string model, teacher, out, cost = "horowitz_45nm";
    std::vector<index_t> hidden;  // distill: the student's hidden widths (empty: start from the teacher)
    double prune = 0.0, temperature = 8.0, alpha = 0.9, lr = 1e-3;
    bool qat = false;
    long long epochs = 0, batch = 32, seed = 1, per_class = 0;
    nn::load_limits limits;  // --max-work, --max-memory: per sample, for the loaders
};

bool parse_real(const char* cmd, const char* name, const char* text, double lo, double hi, bool open_lo, double& out) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    if (errno || end == text || *end != '\0' || !(open_lo ? v > lo : v >= lo) || !(v <= hi)) {
        std::fprintf(stderr, "sparq %s: %s needs a number in %s%g, %g], got '%s'\n", cmd, name, open_lo ? "(" : "[", lo, hi, text);
        return false;
    }
    out = v;
    return true;
}

void usage(const char* cmd) {
    if (!std::strcmp(cmd, "distill"))
        std::printf(
            "usage: sparq distill [--teacher FILE] [--hidden W[,W...] | --prune AMOUNT] [--qat] [--per-class N]\n"
            "                     [--temperature T] [--alpha A] [--epochs E] [--batch B] [--lr LR] [--seed S]\n"
            "                     [--data DIR] [--out FILE] [--cost 45nm|7nm|FILE]\n"
            "  Knowledge distillation (Hinton et al. 2015): a student trained against the teacher's logits with\n"
            "  alpha T^2 KL(teacher_T || student_T) + (1 - alpha) CE(student, labels) (Adam, batch B, seeded).\n"
            "  --teacher FILE   the teacher (.safetensors; default DIR/mlp.safetensors)\n"
            "  --hidden W,...   a fresh student with these hidden widths (default 32: in -> 32 -> classes)\n"
            "  --prune AMOUNT   the student is the teacher with the fraction AMOUNT of its weights pruned\n"
            "                   (magnitude, per layer); pruned weights stay zero while it trains\n"
            "  --qat            quantization-aware: trains with fake int8 weights and activations, reports int8\n"
            "  --per-class N    labels for the first N training rows of each class only; the teacher's soft\n"
            "                   targets on every row (default: every row labelled)\n"
            "  defaults: T 8, alpha 0.9, 100 epochs, batch 32, lr 1e-3, seed 1, data %s\n"
            "  Writes the student to FILE (default distilled.safetensors); prints test accuracy and the estimated\n"
            "  energy per inference of teacher and student.\n",
            SPARQ_DEFAULT_DATA_DIR);
    else
        std::printf(
            "usage: sparq finetune [--model FILE] [--prune AMOUNT] [--qat] [--teacher FILE [--temperature T] [--alpha A]]\n"
            "                      [--epochs E] [--batch B] [--lr LR] [--seed S] [--data DIR] [--out FILE] [--cost ...]\n"
            "  Trains a model further on the training split: cross-entropy on the labels, or the KD loss against\n"
            "  --teacher; --prune AMOUNT prunes it first (magnitude, per layer) and keeps the pruned weights zero;\n"
            "  --qat trains with fake int8 weights and activations and reports the int8 model (MLPs).\n"
            "  Any model graph trains (convolutions, pooling, residual adds: nn/train/graph.hpp); MLPs take every option.\n"
            "  defaults: --model DIR/mlp.safetensors, 20 epochs, batch 32, lr 1e-3 (Adam), seed 1, data %s\n"
            "  Writes the model to FILE (default finetuned.safetensors); prints test accuracy and the estimated\n"
            "  energy per inference before and after.\n",
            SPARQ_DEFAULT_DATA_DIR);
}

int parse(const char* cmd, int argc, char** argv, train_cmd_options& o) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
            usage(cmd);
            return 0;
        }
        if (!std::strcmp(a, "--qat")) {
            o.qat = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "sparq %s: %s needs a value (sparq %s --help)\n", cmd, a, cmd);
            return 2;
        }
        const char* v = argv[++i];
        bool ok = true;
        if (!std::strcmp(a, "--data")) o.data = v;
        else if (!std::strcmp(a, "--out")) o.out = v;
        else if (!std::strcmp(a, "--cost")) o.cost = v;
        else if (!std::strcmp(a, "--teacher")) o.teacher = v;
        else if (const int l = parse_limit(cmd, a, v, o.limits)) ok = l > 0;
        else if (!std::strcmp(a, "--model") && !o.distill) o.model = v;
        else if (!std::strcmp(a, "--epochs")) ok = parse_count(cmd, a, v, 100000, o.epochs);
        else if (!std::strcmp(a, "--batch")) ok = parse_count(cmd, a, v, 1 << 20, o.batch);
        else if (!std::strcmp(a, "--seed")) ok = parse_count(cmd, a, v, 1LL << 62, o.seed);
        else if (!std::strcmp(a, "--per-class") && o.distill) ok = parse_count(cmd, a, v, 1 << 20, o.per_class);
        else if (!std::strcmp(a, "--prune")) ok = parse_real(cmd, a, v, 0.0, 0.99, false, o.prune);
        else if (!std::strcmp(a, "--temperature")) ok = parse_real(cmd, a, v, 0.0, 1000.0, true, o.temperature);
        else if (!std::strcmp(a, "--alpha")) ok = parse_real(cmd, a, v, 0.0, 1.0, false, o.alpha);
        else if (!std::strcmp(a, "--lr")) ok = parse_real(cmd, a, v, 0.0, 10.0, true, o.lr);
        else if (!std::strcmp(a, "--hidden") && o.distill) {
            o.hidden.clear();
            for (const char* p = v; ok;) {
                char* end = nullptr;
                const long long w = std::strtoll(p, &end, 10);
                ok = end != p && w >= 1 && w <= 65536 && (*end == ',' || *end == '\0');
                if (ok) o.hidden.push_back(index_t(w));
                if (!ok || *end == '\0') break;
                p = end + 1;
            }
            if (!ok) std::fprintf(stderr, "sparq %s: --hidden takes widths like 32 or 64,32, got '%s'\n", cmd, v);
        } else {
            std::fprintf(stderr, "sparq %s: unknown option '%s' (sparq %s --help)\n", cmd, a, cmd);
            return 2;
        }
        if (!ok) return 2;
    }
    if (o.distill && !o.hidden.empty() && o.prune > 0) {
        std::fprintf(stderr, "sparq %s: --hidden (a fresh student) and --prune (the pruned teacher) exclude each other\n", cmd);
        return 2;
    }
    return -1;
}

struct measured {
    double accuracy = 0;
    energy::report energy;
};

// Test accuracy and estimated energy per inference of the layers compiled at p (int8 calibrated
// on the training images with the min-max observer).
result<measured> measure(const nn::model& m, nn::precision p, const char* name, const tensor<float, 2>& train_x,
                         const tensor<float, 2>& test_x, const std::vector<std::int64_t>& test_y, const energy::cost_model& cost) {
    nn::compile_options co;
    co.prec = p;
    co.observer = nn::observer_kind::minmax;
    co.calibration = train_x.cview();
    auto c = nn::compiled_model::compile(m, co);
    if (!c) return c.error();
    const index_t n = test_x.extent(0);
    auto scratch = arena::with_capacity(c->scratch_bytes(n) + 4096);
    if (!scratch) return scratch.error();
    context ctx;
    ctx.with_scratch(*scratch);
    auto logits = tensor<float, 2>::make({n, m.out_features()});
    if (!logits) return logits.error();
    auto counts = c->make_counters();
    SPARQ_TRY(c->run(ctx, test_x.cview(), logits->view(), &counts));
    measured r;
    auto acc = tr::accuracy(logits->cview(), test_y);
    if (!acc) return acc.error();
    r.accuracy = *acc;
    r.energy = energy::make_report(name, counts, std::uint64_t(n), cost);
    return r;
}
result<measured> measure(const std::vector<nn::linear_layer>& layers, nn::precision p, const char* name, const tensor<float, 2>& train_x,
                         const tensor<float, 2>& test_x, const std::vector<std::int64_t>& test_y, const energy::cost_model& cost) {
    auto copy = tr::clone_layers(layers);
    if (!copy) return copy.error();
    return measure(nn::model::sequential(std::move(*copy)), p, name, train_x, test_x, test_y, cost);
}

void print_before_after(const measured& before, double sparsity_before, const measured& after, double sparsity_after) {
    std::printf("\n| model | test accuracy | weight sparsity | est. energy / inference |\n|---|---:|---:|---:|\n");
    for (const auto& [m, sp] : {std::pair<const measured*, double>{&before, sparsity_before}, {&after, sparsity_after}})
        std::printf("| %s | %.2f%% | %.1f%% | %s |\n", m->energy.variant.c_str(), 100.0 * m->accuracy, 100.0 * sp,
                    energy::detail::format_joules(m->energy.joules_per_inference()).c_str());
    std::printf("\nbefore:\n%s\nafter:\n%s\n", energy::to_table(before.energy).c_str(), energy::to_table(after.energy).c_str());
}

// finetune of a model that is not an MLP (convolutions, pooling, residual adds): the graph
// trainer (nn/train/graph.hpp); --prune keeps the pruned weights at zero; --teacher: KD.
int finetune_graph(const char* cmd, const train_cmd_options& o, const std::string& path, const tensor<float, 2>& x,
                   const std::vector<std::int64_t>& y, const tensor<float, 2>& tx, const std::vector<std::int64_t>& ty,
                   const energy::cost_model& cost) {
    if (o.qat) {
        std::fprintf(stderr, "sparq %s: --qat trains MLPs only (%s has other layers); compress it with --quant int8 instead\n", cmd, path.c_str());
        return 2;
    }
    auto source = io::load_model_safetensors(path.c_str(), o.limits);
    auto net = io::load_model_safetensors(path.c_str(), o.limits);
    if (report_failure(cmd, source.error(), "loading the model") || report_failure(cmd, net.error(), "loading the model")) return 1;
    if (o.prune > 0) {
        prune::model_spec spec;
        spec.sparsity = o.prune;
        if (report_failure(cmd, prune::prune_model(*net, spec), "--prune")) return 1;
    }
    tr::train_options to;
    to.epochs = int(o.epochs);
    to.batch = index_t(o.batch);
    to.seed = std::uint64_t(o.seed);
    to.optim.lr = o.lr;
    to.keep_zeros = o.prune > 0;
    to.on_epoch = [&](int epoch, double loss) {
        if (epoch == 1 || epoch == to.epochs || epoch % ((to.epochs + 9) / 10) == 0) std::printf("  epoch %4d  loss %.5f\n", epoch, loss);
    };
    std::printf("sparq %s: %s (%zu nodes, %td parameters), %td training rows, %lld epochs, batch %lld, Adam lr %g, seed %lld%s\n", cmd,
                path.c_str(), net->nodes.size(), net->parameters(), x.extent(0), o.epochs, o.batch, o.lr, o.seed, o.prune > 0 ? ", pruned" : "");
    result<tr::train_report> r = status(errc::invalid_argument, "not run");
    if (!o.teacher.empty()) {
        auto teacher = io::load_model_safetensors(o.teacher.c_str(), o.limits);
        if (report_failure(cmd, teacher.error(), "loading the teacher")) return 1;
        auto logits = tr::predict(*teacher, x.cview());
        if (report_failure(cmd, logits.error(), "running the teacher")) return 1;
        std::printf("KD loss: T %g, alpha %g\n", o.temperature, o.alpha);
        r = distill::distill_model(*net, logits->cview(), x.cview(), y, distill::distill_options{{o.temperature, o.alpha}, to});
    } else {
        r = tr::train_model_classifier(*net, x.cview(), y, to);
    }
    if (report_failure(cmd, r.error(), "training")) return 1;
    const std::string out = o.out.empty() ? "finetuned.safetensors" : o.out;
    if (report_failure(cmd, io::save_model_safetensors(out.c_str(), *net), "writing the model")) return 1;
    auto mb = measure(*source, nn::precision::f32, "before fp32", x, tx, ty, cost);
    auto ma = measure(*net, nn::precision::f32, "after fp32", x, tx, ty, cost);
    if (report_failure(cmd, mb.error(), "measuring the model before") || report_failure(cmd, ma.error(), "measuring the model after")) return 1;
    print_before_after(*mb, prune::weight_sparsity(*source), *ma, prune::weight_sparsity(*net));
    if (o.prune > 0)
        std::printf("(pruned weights are zeros in a dense model: compress with --quant int8 to run them sparse)\n");
    std::printf("wrote %s\n", out.c_str());
    return 0;
}

int train_command(const char* cmd, int argc, char** argv) {
    train_cmd_options o;
    o.distill = !std::strcmp(cmd, "distill");
    o.epochs = o.distill ? 100 : 20;
    if (int rc = parse(cmd, argc, argv, o); rc >= 0) return rc;
    auto cost = load_cost_option(o.cost.c_str());
    if (report_failure(cmd, cost.error(), "--cost")) return 2;
    const std::string dir = o.data + "/";
    auto read_x = [&](const char* f) -> result<tensor<float, 2>> {
        auto a = io::read_npy((dir + f).c_str());
        if (!a) return a.error();
        return a->to_f32<2>((dir + f).c_str());
    };
    auto read_y = [&](const char* f) -> result<std::vector<std::int64_t>> {
        auto a = io::read_npy((dir + f).c_str());
        if (!a) return a.error();
        return a->to_labels((dir + f).c_str());
    };
    auto x = read_x("train_x.npy"), tx = read_x("test_x.npy");
    auto y = read_y("train_y.npy"), ty = read_y("test_y.npy");
    if (report_failure(cmd, x.error(), "reading the training images") || report_failure(cmd, y.error(), "reading the training labels") ||
        report_failure(cmd, tx.error(), "reading the test images") || report_failure(cmd, ty.error(), "reading the test labels"))
        return 1;

    const std::string before_path = o.distill ? (o.teacher.empty() ? dir + "mlp.safetensors" : o.teacher)
                                              : (o.model.empty() ? dir + "mlp.safetensors" : o.model);
    auto before = io::load_model_safetensors(before_path.c_str(), o.limits);
    if (report_failure(cmd, before.error(), o.distill ? "loading the teacher" : "loading the model")) return 1;
    if (!o.distill && !nn::mlp_layers(*before)) return finetune_graph(cmd, o, before_path, *x, *y, *tx, *ty, *cost);
    // The teacher's fp32 logits on the training images (any model graph can teach).
    std::optional<nn::model> other_teacher;
    if (!o.distill && !o.teacher.empty()) {
        auto t = io::load_model_safetensors(o.teacher.c_str(), o.limits);
        if (report_failure(cmd, t.error(), "loading the teacher")) return 1;
        other_teacher = std::move(*t);
    }
    const nn::model* teacher = o.distill ? &*before : other_teacher ? &*other_teacher : nullptr;
    tensor<float, 2> teacher_logits;
    if (teacher) {
        auto logits = tr::predict(*teacher, x->cview());
        if (report_failure(cmd, logits.error(), "running the teacher")) return 1;
        teacher_logits = std::move(*logits);
    }
    auto source_layers = nn::mlp_layers(*before);
    if (report_failure(cmd, source_layers.error(), o.distill ? "loading the teacher" : "loading the model")) return 1;
    const std::vector<nn::linear_layer>& source = *source_layers;

    // The model that trains.
    std::vector<nn::linear_layer> net;
    if (o.distill && (o.prune == 0 && !o.qat ? true : !o.hidden.empty())) {
        std::vector<index_t> widths{before->in_features()};
        if (o.hidden.empty()) o.hidden.push_back(32);
        widths.insert(widths.end(), o.hidden.begin(), o.hidden.end());
        widths.push_back(before->out_features());
        auto s = tr::make_mlp(widths, std::uint64_t(o.seed));
        if (report_failure(cmd, s.error(), "making the student")) return 1;
        net = std::move(*s);
    } else {
        net = tr::clone_layers(source).value();
    }
    std::vector<tr::weight_mask> masks;
    if (o.prune > 0) {
        auto m = tr::magnitude_masks(net, o.prune);
        if (report_failure(cmd, m.error(), "--prune")) return 1;
        masks = std::move(*m);
        if (report_failure(cmd, tr::apply_masks(net, masks), "--prune")) return 1;
    }

    tr::train_options to;
    to.epochs = int(o.epochs);
    to.batch = index_t(o.batch);
    to.seed = std::uint64_t(o.seed);
    to.optim.lr = o.lr;
    to.masks = masks.empty() ? nullptr : &masks;
    to.qat = o.qat;
    int last_printed = 0;
    to.on_epoch = [&](int epoch, double loss) {
        if (epoch == 1 || epoch == to.epochs || epoch - last_printed >= (to.epochs + 9) / 10) {
            std::printf("  epoch %4d  loss %.5f\n", epoch, loss);
            last_printed = epoch;
        }
    };
    std::vector<std::int64_t> labels = *y;
    if (o.per_class > 0) {
        auto pick = tr::first_per_class(*y, before->out_features(), index_t(o.per_class));
        if (report_failure(cmd, pick.error(), "--per-class")) return 1;
        labels.assign(y->size(), tr::unlabelled);
        for (index_t r : *pick) labels[std::size_t(r)] = (*y)[std::size_t(r)];
    }
    const bool kd = !teacher_logits.empty();
    std::printf("sparq %s: %td -> %td parameters, %zu layers, %td training rows (%s), %lld epochs, batch %lld, Adam lr %g, seed %lld%s%s\n",
                cmd, before->parameters(), nn::model::sequential(tr::clone_layers(net).value()).parameters(), net.size(), x->extent(0),
                o.per_class > 0 ? "labels on the first rows of each class" : "all labelled", o.epochs, o.batch, o.lr, o.seed,
                o.prune > 0 ? ", pruned" : "", o.qat ? ", QAT int8" : "");
    if (kd) std::printf("KD loss: T %g, alpha %g\n", o.temperature, o.alpha);
    result<tr::train_report> r = status(errc::invalid_argument, "not run");
    if (kd) {
        distill::distill_options d{{o.temperature, o.alpha}, to};
        r = distill::distill_from_logits(net, teacher_logits.cview(), x->cview(), labels, d);
    } else {
        r = tr::train_classifier(net, x->cview(), labels, to);
    }
    if (report_failure(cmd, r.error(), "training")) return 1;

    const std::string out = o.out.empty() ? (o.distill ? "distilled.safetensors" : "finetuned.safetensors") : o.out;
    nn::model trained = nn::model::sequential(tr::clone_layers(net).value());
    if (report_failure(cmd, io::save_model_safetensors(out.c_str(), trained), "writing the model")) return 1;

    const nn::precision after_p = o.qat ? nn::precision::int8 : nn::precision::f32;
    auto mb = measure(source, nn::precision::f32, o.distill ? "teacher fp32" : "before fp32", *x, *tx, *ty, *cost);
    auto ma = measure(net, after_p, o.qat ? "after int8" : "after fp32", *x, *tx, *ty, *cost);
    if (report_failure(cmd, mb.error(), "measuring the model before") || report_failure(cmd, ma.error(), "measuring the model after")) return 1;
    print_before_after(*mb, tr::weight_sparsity(source), *ma, tr::weight_sparsity(net));
    if (o.prune > 0)
        std::printf("(pruned weights are zeros in a dense model: they save energy only in a sparse format, not counted here)\n");
    std::printf("wrote %s\n", out.c_str());
    return 0;
}

}  // namespace
}  // namespace train_commands_cmd

int distill(int argc, char** argv) { return train_commands_cmd::train_command("distill", argc, argv); }
int finetune(int argc, char** argv) { return train_commands_cmd::train_command("finetune", argc, argv); }

}  // namespace sparq_cli
