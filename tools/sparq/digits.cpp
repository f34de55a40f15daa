// `sparq digits`: the main job on built-in data. The digits MLP (data/digits, trained by
// tools/gen/make_digits.py) is compressed several ways and each form is run on the 360 test
// images: accuracy, stored size, latency per image, estimated energy per inference and what
// it saves against fp32. --report DIR also writes the energy report as markdown, JSON and SVG.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "sparq/core.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/energy/report_svg.hpp"
#include "sparq/io/file.hpp"
#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "sparq/nn/train/mask.hpp"
#include "sparq/nn/train/trainer.hpp"

#ifndef SPARQ_DEFAULT_DATA_DIR
#define SPARQ_DEFAULT_DATA_DIR "data/digits"
#endif

namespace sparq_cli {
// (a namespace per command: the program's files compile together, CMake's unity build)
namespace digits_cmd {
namespace {

using namespace sparq;

struct options {
    std::string data = SPARQ_DEFAULT_DATA_DIR;
    std::string cost = "horowitz_45nm";
    std::string report_dir;
    nn::observer_kind observer = nn::observer_kind::histogram;
    int repeat = 3;
    double prune = 0.75;  // the pruned variant: this share of each layer's weights removed
    int finetune_epochs = 30;
};

int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
            std::printf(
                "usage: sparq digits [--data DIR] [--observer minmax|histogram|percentile|mse|entropy]\n"
                "                    [--prune S] [--epochs E] [--cost 45nm|7nm|FILE] [--repeat R] [--report DIR]\n"
                "  The main job: the digits MLP in DIR (default %s: mlp.safetensors, test_x.npy,\n"
                "  test_y.npy, train_x.npy / train_y.npy for calibration and fine-tuning) compressed to fp16,\n"
                "  bf16, int8, and pruned + int8 (a share S of each layer's weights removed by magnitude,\n"
                "  default 0.75, the rest fine-tuned for E epochs, default 30, then int8 with sparse layers),\n"
                "  each run on every test image one at a time: accuracy, stored size, latency (the fastest of\n"
                "  R passes, default 3), estimated energy per inference and joules saved against fp32.\n"
                "  --report DIR writes DIR/digits-energy.{md,json,svg}: per-layer estimates and a chart.\n",
                SPARQ_DEFAULT_DATA_DIR);
            return 0;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "sparq digits: %s needs a value (sparq digits --help)\n", a);
            return 2;
        }
        const char* v = argv[++i];
        if (!std::strcmp(a, "--data")) o.data = v;
        else if (!std::strcmp(a, "--cost")) o.cost = v;
        else if (!std::strcmp(a, "--report")) o.report_dir = v;
        else if (!std::strcmp(a, "--prune")) {
            char* end = nullptr;
            o.prune = std::strtod(v, &end);
            if (end == v || *end != '\0' || !(o.prune >= 0.0 && o.prune < 1.0)) {
                std::fprintf(stderr, "sparq digits: --prune needs a share in [0, 1), got '%s'\n", v);
                return 2;
            }
        } else if (!std::strcmp(a, "--epochs")) {
            long long e = 0;
            if (!parse_count("digits", a, v, 10000, e)) return 2;
            o.finetune_epochs = int(e);
        } else if (!std::strcmp(a, "--repeat")) {
            long long n = 0;
            if (!parse_count("digits", a, v, 1000, n)) return 2;
            o.repeat = int(n);
        } else if (!std::strcmp(a, "--observer")) {
            if (!parse_choice("digits", a, v, nn::observer_choices, o.observer)) return 2;
        } else {
            std::fprintf(stderr, "sparq digits: unknown option '%s' (sparq digits --help)\n", a);
            return 2;
        }
    }
    return -1;
}

struct variant_result {
    std::string name;
    double accuracy = 0, ms_per_image = 0;
    std::size_t bytes = 0;
    energy::report energy;
};

}  // namespace
}  // namespace digits_cmd

int digits(int argc, char** argv) {
    using namespace digits_cmd;
    options o;
    if (int rc = parse(argc, argv, o); rc >= 0) return rc;
    auto cost = load_cost_option(o.cost.c_str());
    if (report_failure("digits", cost.error(), "--cost")) return 2;

    const std::string dir = o.data + "/";
    auto m = io::load_model_safetensors((dir + "mlp.safetensors").c_str());
    if (report_failure("digits", m.error(), "loading the model")) return 1;
    auto read_matrix = [&](const char* name) -> result<tensor<float, 2>> {
        auto a = io::read_npy((dir + name).c_str());
        if (!a) return a.error();
        return a->to_f32<2>((dir + name).c_str());
    };
    auto x = read_matrix("test_x.npy");
    auto calib = read_matrix("train_x.npy");
    if (report_failure("digits", x.error(), "reading the test images") || report_failure("digits", calib.error(), "reading the calibration images")) return 1;
    auto y_npy = io::read_npy((dir + "test_y.npy").c_str());
    if (report_failure("digits", y_npy.error(), "reading the test labels")) return 1;
    auto labels = y_npy->to_labels((dir + "test_y.npy").c_str());
    if (report_failure("digits", labels.error(), "reading the test labels")) return 1;
    if (index_t(labels->size()) != x->extent(0)) {
        std::fprintf(stderr, "sparq digits: %zu labels for %td test images\n", labels->size(), x->extent(0));
        return 1;
    }
    if (x->extent(1) != m->in_features()) {
        std::fprintf(stderr, "sparq digits: the test images have %td features, the model takes %td\n", x->extent(1), m->in_features());
        return 1;
    }

    const index_t n = x->extent(0), classes = m->out_features();
    std::printf("sparq digits: the %td-parameter digits MLP (%td -> %td classes) on %td test images, one at a time\n",
                m->parameters(), m->in_features(), classes, n);
    std::printf("int8: per-channel weights, int8 activations calibrated on %td training images (%s observer)\n\n",
                calib->extent(0), nn::to_string(o.observer));

    auto scratch = arena::with_capacity(1 << 20);
    if (report_failure("digits", scratch.error(), "allocating scratch memory")) return 1;
    context ctx;
    ctx.with_scratch(*scratch);
    auto logits = tensor<float, 2>::make({n, classes});
    if (report_failure("digits", logits.error(), "allocating outputs")) return 1;

    // The pruned variant: each layer's smallest weights removed by magnitude, the survivors
    // fine-tuned with the mask kept (cross-entropy, Adam 1e-3, batch 32), then int8 with the
    // pruned layers run from CSRs of their codes.
    auto pruned = [&]() -> result<nn::model> {
        auto layers = nn::mlp_layers(*m);
        if (!layers) return layers.error();
        auto masks = nn::train::magnitude_masks(*layers, o.prune);
        if (!masks) return masks.error();
        SPARQ_TRY(nn::train::apply_masks(*layers, *masks));
        auto train_y = io::read_npy((dir + "train_y.npy").c_str());
        if (!train_y) return train_y.error();
        auto train_labels = train_y->to_labels((dir + "train_y.npy").c_str());
        if (!train_labels) return train_labels.error();
        nn::train::train_options to;
        to.epochs = o.finetune_epochs;
        to.masks = &*masks;
        auto r = nn::train::train_classifier(*layers, calib->cview(), *train_labels, to);
        if (!r) return r.error();
        nn::model pm = nn::model::sequential(std::move(*layers));
        pm.input = m->input;
        return pm;
    }();
    if (report_failure("digits", pruned.error(), "pruning and fine-tuning")) return 1;

    struct variant {
        const char* name;
        const nn::model* model;
        nn::precision prec;
        bool sparse;
    };
    char pruned_name[48];
    std::snprintf(pruned_name, sizeof pruned_name, "pruned %.0f%% + int8", 100.0 * o.prune);
    const variant variants[] = {{"fp32", &*m, nn::precision::f32, false},
                                {"fp16", &*m, nn::precision::f16, false},
                                {"bf16", &*m, nn::precision::bf16, false},
                                {"int8", &*m, nn::precision::int8, false},
                                {pruned_name, &*pruned, nn::precision::int8, true}};
    std::vector<variant_result> results;
    for (const variant& v : variants) {
        nn::compile_options co;
        co.prec = v.prec;
        co.observer = o.observer;
        co.calibration = calib->cview();
        co.sparse_int8 = v.sparse;
        auto c = nn::compiled_model::compile(*v.model, co);
        if (report_failure("digits", c.error(), v.name)) return 1;
        variant_result r;
        r.name = v.name;
        r.bytes = c->stored_bytes();
        // One image per call, as an embedded classifier runs; counted on the first pass, timed on all.
        auto counts = c->make_counters();
        double best = 1e300;
        for (int rep = 0; rep < o.repeat; ++rep) {
            const auto t0 = std::chrono::steady_clock::now();
            for (index_t i = 0; i < n; ++i) {
                const status s = c->run(ctx, x->cview().slice(0, i, i + 1), logits->view().slice(0, i, i + 1),
                                        rep == 0 ? &counts : nullptr);
                if (report_failure("digits", s, r.name.c_str())) return 1;
            }
            best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        r.ms_per_image = best / double(n);
        index_t right = 0;
        for (index_t i = 0; i < n; ++i) {
            index_t top = 0;
            for (index_t j = 1; j < classes; ++j)
                if ((*logits)(i, j) > (*logits)(i, top)) top = j;
            right += top == (*labels)[std::size_t(i)];
        }
        r.accuracy = double(right) / double(n);
        r.energy = energy::make_report(r.name, counts, std::uint64_t(n), *cost);
        results.push_back(std::move(r));
    }

    // PyTorch's own figures on the same split (data/digits/reference.json, from make_digits.py).
    auto reference_file = io::read_file((dir + "reference.json").c_str(), 1 << 16);
    const std::string reference_text = reference_file ? std::string(reference_file->begin(), reference_file->end()) : "";
    auto reference = [&](const char* key) -> double {
        const auto at = reference_text.find(std::string("\"") + key + "\":");
        return at == std::string::npos ? -1 : std::atof(reference_text.c_str() + at + std::strlen(key) + 3);
    };
    const double torch_fp32 = reference("torch_fp32_test_accuracy"), torch_int8 = reference("torch_int8_ptq_test_accuracy");

    const variant_result& base = results.front();
    std::string table;
    energy::detail::appendf(table, "| variant | accuracy | size | latency / image | est. energy / inference | saved vs fp32 |\n"
                                   "|---|---:|---:|---:|---:|---:|\n");
    for (const variant_result& r : results) {
        const double j = r.energy.joules_per_inference(), j32 = base.energy.joules_per_inference();
        energy::detail::appendf(table, "| %s | %.2f%% (%+.2f) | %.1f KB | %.2f us | %s | %s (%.2fx) |\n", r.name.c_str(),
                                100.0 * r.accuracy, 100.0 * (r.accuracy - base.accuracy), double(r.bytes) / 1000.0, 1e3 * r.ms_per_image,
                                energy::detail::format_joules(j).c_str(), energy::detail::format_joules(j32 - j).c_str(),
                                j > 0 ? j32 / j : 0.0);
    }
    std::printf("%s\n", table.c_str());
    if (torch_fp32 >= 0 && torch_int8 >= 0)
        std::printf("PyTorch on the same split: fp32 %.2f%%, its own int8 post-training quantization (fbgemm) %.2f%%.\n\n",
                    100.0 * torch_fp32, 100.0 * torch_int8);
    const std::string per_layer = energy::to_table(results.back().energy);
    std::printf("%s\n", per_layer.c_str());
    std::printf("Energy is an estimate, not a measurement: exact counts x the %s cost model, each tensor priced\n"
                "at the smallest memory level that holds it (docs/energy-model.md). Latency: this machine, batch 1.\n",
                cost->name);

    if (!o.report_dir.empty()) {
        std::vector<energy::report> reports;
        std::string json = "[";
        for (std::size_t i = 0; i < results.size(); ++i) {
            if (i) reports.push_back(results[i].energy);
            json += (i ? ",\n" : "") + energy::to_json(results[i].energy);
        }
        json += "]\n";
        const std::string base_path = o.report_dir + "/digits-energy";
        // The machine and the date, as every number in docs carries them.
        std::string cpu = "unknown CPU";
        if (std::FILE* info = std::fopen("/proc/cpuinfo", "r")) {  // /proc files have no size: read by line
            char line[256];
            while (std::fgets(line, sizeof line, info))
                if (std::strncmp(line, "model name", 10) == 0 && std::strchr(line, ':')) {
                    cpu = std::strchr(line, ':') + 2;
                    if (!cpu.empty() && cpu.back() == '\n') cpu.pop_back();
                    break;
                }
            std::fclose(info);
        }
        char when[32] = "?";
        const std::time_t now = std::time(nullptr);
        std::strftime(when, sizeof when, "%Y-%m-%d", std::gmtime(&now));
        std::string md = "Made by `sparq digits --report " + o.report_dir + "` on " + when + ", " + cpu +
                         " (latency: one thread, batch 1; energy: estimates from the cost model named below).\n\n" + table + "\n```\n";
        for (const variant_result& r : results) md += energy::to_table(r.energy) + "\n";
        md += "```\n";
        if (report_failure("digits", io::write_file((base_path + ".md").c_str(), md), "writing the report") ||
            report_failure("digits", io::write_file((base_path + ".json").c_str(), json), "writing the report") ||
            report_failure("digits", io::write_file((base_path + ".svg").c_str(), energy::to_svg(reports, "digits MLP: energy per inference")),
                   "writing the report"))
            return 1;
        std::printf("wrote %s.md, %s.json and %s.svg\n", base_path.c_str(), base_path.c_str(), base_path.c_str());
    }
    return 0;
}

}  // namespace sparq_cli
