// The commands that take a model file (.onnx, .safetensors, or .sparq: compiled already):
//   sparq inspect MODEL                                  layers, shapes, parameters, bytes, MACs
//   sparq run MODEL --input X.npy --output Y.npy         outputs as .npy
//   sparq eval MODEL --data X.npy --labels y.npy         accuracy
//   sparq energy MODEL --input X.npy [--json]            estimated joules per layer vs fp32
//   sparq compress MODEL -o OUT.sparq --quant ...        the compiled model as a .sparq file
//   sparq export-c MODEL.sparq -o model.h [--name NS]    a C++ header for firmware
// run / eval / energy / compress take --precision (--quant) fp32|fp16|bf16|int8 (int8 needs
// --calib C.npy) and --observer; a .sparq file is run as it was compressed, and those options
// are refused for it (they would silently do nothing). Inputs are taken as given: a shape that
// does not fit is an error naming both; NaN or Inf into an int8 model (inputs or --calib) is an
// error naming the row and feature of the file.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "model_loading.hpp"
#include "onnx_import.hpp"
#include "sparq/core.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/io/export_c.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/io/sparq_format.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "sparq/nn/metrics.hpp"
#include "sparq/nn/sensitivity.hpp"
#include "sparq/prune/model.hpp"

namespace sparq_cli {
// (a namespace per command: the program's files compile together, CMake's unity build)
namespace model_commands_cmd {
namespace {

using namespace sparq;

struct options {
    const char* cmd = "";
    std::string model, input, output, data, labels, calib, cost = "horowitz_45nm", name = "sparq_model";
    nn::precision prec = nn::precision::f32;
    nn::observer_kind observer = nn::observer_kind::histogram;
    std::optional<prune::model_spec> prune;  // --prune: weights zeroed before compiling
    std::vector<std::string> float_layers;    // --float-layers: kept in fp32 in an int8 model
    bool sensitivity = false;                 // compress --sensitivity: choose them on --data / --labels
    double max_drop = 0.5;                    // points of accuracy the int8 model may lose against fp32
    nn::load_limits limits;                   // --max-work, --max-memory: per sample, for the loaders
    bool json = false;
    bool prec_given = false, observer_given = false;
    long long threads = 1;                    // --threads: context::threads of the runs (the same outputs on any)
};

// The options every command that runs a model takes, after its own usage line.
constexpr const char* run_options_help =
    "  --threads N     run on N threads (default 1; every thread count gives the same outputs)\n"
    "  --max-work N    refuse a model one sample of which costs more than N operations (multiply-adds,\n"
    "                  pooling taps, values moved; default 1e12: docs/hostile-inputs.md)\n"
    "  --max-memory N  or more than N bytes of activations and scratch (default 4.3e9)\n";

const char* usage_of(const std::string& cmd) {
    if (cmd == "inspect")
        return "usage: sparq inspect MODEL\n  Layers, shapes, activations, parameters, fp32 bytes and MACs per input of a .onnx or .safetensors model;\n"
               "  the precision, layers and stored bytes of a .sparq file.\n";
    if (cmd == "run")
        return "usage: sparq run MODEL --input X.npy --output Y.npy [--precision fp32|fp16|bf16|int8|int4 --calib C.npy] [--prune SPEC]\n"
               "  Runs the model on X [batch, features] (float32) and writes its outputs [batch, classes] as float32 .npy.\n";
    if (cmd == "eval")
        return "usage: sparq eval MODEL --data X.npy --labels y.npy [--precision ... --calib C.npy --observer ...] [--prune SPEC]\n"
               "  Prints 'accuracy: 0.xxxx': the share of rows of X whose largest output is the label.\n";
    if (cmd == "compress")
        return "usage: sparq compress MODEL -o OUT.sparq [--quant fp32|fp16|bf16|int8|int4] [--calib X.npy] [--observer minmax|histogram|percentile|mse|entropy]\n"
               "                        [--per-channel] [--prune SPEC] [--float-layers A,B | --sensitivity --data X.npy --labels y.npy [--max-drop P]]\n"
               "  Compiles a .onnx or .safetensors model for one precision and saves it as a .sparq file (docs/formats.md) that\n"
               "  loads and runs bit for bit as compiled, with no calibration. int8 (per-channel weights, the default) needs --calib:\n"
               "  sample inputs whose activations set the ranges. int4: weight-only, a scale per 32 weights, linear layers.\n"
               "  --prune SPEC zeroes weights by magnitude first, one shot (fine-tune with sparq finetune --prune to win back\n"
               "  accuracy): S or l1:S (the share S of each layer), global:S (of all layers together), N:M (N of every M along\n"
               "  the reduction axis, e.g. 2:4), channel:S (output channels, L2 norm), block:RxC:S (R x C blocks, L1 norm).\n"
               "  int8 layers at least half zeros run from a sparse (CSR) form in sparq and in export-c's firmware.\n"
               "  Mixed precision: --float-layers keeps the named linear / conv layers in fp32 inside the int8 model;\n"
               "  --sensitivity finds them: each layer's int8 accuracy on --data / --labels with it alone in fp32, then the\n"
               "  most rewarding ones kept in fp32 until the model is within --max-drop points (default 0.5) of fp32.\n";
    if (cmd == "export-c")
        return "usage: sparq export-c MODEL.sparq -o model.h [--name NAMESPACE]\n"
               "  Writes the compressed model as a C++17 header for firmware: constexpr weight and requantization tables and\n"
               "  NAMESPACE::run(x, y, buffer, bytes) for one sample over a static buffer (no heap, exceptions, RTTI or OS calls;\n"
               "  int8 models give sparq run's outputs bit for bit). NAMESPACE defaults to sparq_model.\n";
    return "usage: sparq energy MODEL --input X.npy [--precision ... --calib C.npy] [--prune SPEC] [--cost 45nm|7nm|FILE] [--json]\n"
           "  Estimated joules per layer and in total for running the model on X, beside the same work at fp32 dense.\n";
}

int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
            std::printf("%s%s", usage_of(o.cmd), run_options_help);
            return 0;
        }
        if (a[0] != '-') {
            if (!o.model.empty()) {
                std::fprintf(stderr, "sparq %s: one model only ('%s' and '%s')\n", o.cmd, o.model.c_str(), a);
                return 2;
            }
            o.model = a;
            continue;
        }
        if (!std::strcmp(a, "--json")) {
            o.json = true;
            continue;
        }
        if (!std::strcmp(a, "--sensitivity") && o.cmd == std::string("compress")) {
            o.sensitivity = true;
            continue;
        }
        if (!std::strcmp(a, "--per-channel")) continue;  // int8 weights are per output channel (the only choice so far)
        if (i + 1 >= argc) {
            std::fprintf(stderr, "sparq %s: %s needs a value (sparq %s --help)\n", o.cmd, a, o.cmd);
            return 2;
        }
        const char* v = argv[++i];
        std::string* target = !std::strcmp(a, "--input") ? &o.input : !std::strcmp(a, "--output") || !std::strcmp(a, "-o") ? &o.output
                            : !std::strcmp(a, "--name") ? &o.name
                            : !std::strcmp(a, "--data") ? &o.data : !std::strcmp(a, "--labels") ? &o.labels
                            : !std::strcmp(a, "--calib") ? &o.calib : !std::strcmp(a, "--cost") ? &o.cost : nullptr;
        if (target) {
            *target = v;
        } else if (!std::strcmp(a, "--precision") || !std::strcmp(a, "--quant")) {
            if (!parse_choice(o.cmd, a, v, nn::precision_choices, o.prec)) return 2;
            o.prec_given = true;
        } else if (!std::strcmp(a, "--prune")) {
            auto spec = prune::parse_model_spec(v);
            if (!spec) {
                std::fprintf(stderr, "sparq %s: %s\n", o.cmd, spec.error().message());
                return 2;
            }
            o.prune = *spec;
        } else if (!std::strcmp(a, "--float-layers")) {
            o.float_layers.clear();
            for (const char* p = v;;) {
                const char* comma = std::strchr(p, ',');
                const std::string name = comma ? std::string(p, comma) : std::string(p);
                if (name.empty()) {
                    std::fprintf(stderr, "sparq %s: --float-layers takes node names separated by commas, got '%s'\n", o.cmd, v);
                    return 2;
                }
                o.float_layers.push_back(name);
                if (!comma) break;
                p = comma + 1;
            }
        } else if (!std::strcmp(a, "--max-drop") && o.cmd == std::string("compress")) {
            char* end = nullptr;
            o.max_drop = std::strtod(v, &end);
            if (end == v || *end != '\0' || !(o.max_drop >= 0.0 && o.max_drop <= 100.0)) {
                std::fprintf(stderr, "sparq %s: --max-drop takes points of accuracy in [0, 100], got '%s'\n", o.cmd, v);
                return 2;
            }
        } else if (const int l = parse_limit(o.cmd, a, v, o.limits)) {
            if (l < 0) return 2;
        } else if (!std::strcmp(a, "--threads")) {
            if (!parse_count(o.cmd, a, v, 1024, o.threads)) return 2;
        } else if (!std::strcmp(a, "--observer")) {
            if (!parse_choice(o.cmd, a, v, nn::observer_choices, o.observer)) return 2;
            o.observer_given = true;
        } else {
            std::fprintf(stderr, "sparq %s: unknown option '%s' (sparq %s --help)\n", o.cmd, a, o.cmd);
            return 2;
        }
    }
    if (o.model.empty()) {
        std::fprintf(stderr, "sparq %s: which model? (%s)", o.cmd, usage_of(o.cmd));
        return 2;
    }
    return -1;
}

// Labels for the rows of a data file, one per row.
result<std::vector<std::int64_t>> read_labels(const std::string& path, index_t rows, const std::string& data_path) {
    auto l = io::read_npy(path.c_str());
    if (!l) return l.error();
    auto v = l->to_labels(path.c_str());
    if (!v) return v.error();
    if (index_t(v->size()) != rows)
        return status(errc::shape_mismatch, "%s has %zu labels for the %td rows of %s", path.c_str(), v->size(), rows, data_path.c_str());
    return v;
}

status run_all(const nn::compiled_model& c, const tensor<float, 2>& x, const std::string& x_path, tensor<float, 2>& y, int threads,
               std::vector<energy::layer_counts>* counts = nullptr);

// compress --sensitivity: each layer's int8 accuracy with it alone in fp32 on --data / --labels,
// then the layers kept in float until the loss against fp32 is within --max-drop points.
result<std::vector<std::string>> choose_by_sensitivity(const options& o, const nn::model& m, const nn::compile_options& co) {
    if (o.data.empty() || o.labels.empty())
        return status(errc::invalid_argument, "--sensitivity needs --data X.npy --labels y.npy (held-out samples to score each choice on)");
    auto x = read_inputs(o.data, m.input);
    if (!x) return x.error();
    auto labels = read_labels(o.labels, x->extent(0), o.data);
    if (!labels) return labels.error();
    auto y = tensor<float, 2>::make({x->extent(0), m.out_features()});
    if (!y) return y.error();
    auto eval = [&](const nn::compiled_model& c) -> result<double> {
        SPARQ_TRY(run_all(c, *x, o.data, *y, int(o.threads)));
        return 100.0 * double(nn::count_correct(y->cview(), *labels)) / double(x->extent(0));
    };
    auto t = nn::int8_sensitivity(m, co, eval, draw_progress, const_cast<char*>("sensitivity"));
    if (!t) return t.error();
    std::printf("sensitivity on %s: fp32 %.2f%%, int8 %.2f%%\n| layer | int8 accuracy with it in fp32 | gain (points) |\n|---|---:|---:|\n",
                o.data.c_str(), t->fp32, t->int8);
    for (const nn::layer_sensitivity& l : t->layers) std::printf("| %s | %.2f%% | %+.2f |\n", printable(l.name).c_str(), l.score, l.gain);
    auto pick = nn::choose_float_layers(m, co, *t, o.max_drop, eval);
    if (!pick) return pick.error();
    std::string list;
    for (const std::string& n : pick->float_layers) list += (list.empty() ? "" : ", ") + n;
    std::printf("kept in fp32 (within %.2f points of fp32): %s; int8 accuracy %.2f%%\n", o.max_drop, list.empty() ? "none" : list.c_str(),
                pick->score);
    return pick->float_layers;
}

// Loads, compiles (calibrating for int8), and sizes an arena: what run / eval / energy share.
struct prepared {
    nn::model model;
    nn::compiled_model compiled;
};

result<prepared> prepare(const options& o) {
    if (ends_with(o.model, ".sparq")) {
        if (o.prec_given || !o.calib.empty() || o.observer_given || o.prune)
            return status(errc::invalid_argument, "%s is compressed already: --precision, --calib, --observer and --prune do not apply "
                          "(compress the .onnx / .safetensors again to change them)", o.model.c_str());
        auto c = load_sparq_to_run(o.model, o.limits);
        if (!c) return c.error();
        return prepared{nn::model{}, std::move(*c)};
    }
    auto m = load_any_model(o.model.c_str(), o.limits);
    if (!m) return m.error();
    if (o.prune) SPARQ_TRY(prune::prune_model(*m, *o.prune));
    nn::compile_options co;
    co.prec = o.prec;
    co.sparse_int8 = true;  // layers at least half zeros (pruned) run from CSRs; the others stay dense
    co.observer = o.observer;
    co.progress = draw_progress;
    co.progress_user = const_cast<char*>("calibrating");
    tensor<float, 2> calib;
    if (o.prec == nn::precision::int8) {
        if (o.calib.empty()) return status(errc::invalid_argument, "--precision int8 needs --calib C.npy (sample inputs for the activation ranges)");
        auto c = read_inputs(o.calib, m->input);
        if (!c) return c.error();
        calib = std::move(*c);
        co.calibration = calib.cview();
    }
    co.float_layers = o.float_layers;
    if (o.sensitivity) {
        if (o.prec != nn::precision::int8) return status(errc::invalid_argument, "--sensitivity chooses float layers of an int8 model: add --quant int8");
        auto chosen = choose_by_sensitivity(o, *m, co);
        if (!chosen) return chosen.error();
        co.float_layers = std::move(*chosen);
    }
    auto c = nn::compiled_model::compile(*m, co);
    if (!c) return c.error();
    return prepared{std::move(*m), std::move(*c)};
}

// Runs the model over x (read from x_path) in batches of up to 256 rows.
status run_all(const nn::compiled_model& c, const tensor<float, 2>& x, const std::string& x_path, tensor<float, 2>& y, int threads,
               std::vector<energy::layer_counts>* counts) {
    // An int8 model refuses NaN and Inf (compile_options::check_finite), naming the row of the
    // batch it was given: the whole file first, so the message names the row of the file (and
    // the path's end only, so that a long path leaves the row inside the status's 200 bytes).
    if (c.checks_finite()) {
        const std::string name = x_path.size() > 80 ? "..." + x_path.substr(x_path.size() - 77) : x_path;
        SPARQ_TRY(check_finite(x.cview(), (name + ":").c_str(), "an int8 model needs finite inputs"));
    }
    // rows at a time: up to 256, fewer where a batch's activations would pass 1 GiB (real CNNs)
    const std::size_t per_row = c.scratch_bytes(1, threads), budget = std::size_t(1) << 30;
    index_t batch = std::min<index_t>(std::max<index_t>(x.extent(0), 1), 256);
    while (batch > 1 && c.scratch_bytes(batch, threads) > budget && c.scratch_bytes(batch, threads) > per_row) batch /= 2;
    auto scratch = arena::with_capacity(c.scratch_bytes(batch, threads));
    if (!scratch) return scratch.error();
    context ctx;
    ctx.with_scratch(*scratch).with_threads(threads);
    for (index_t i = 0; i < x.extent(0); i += batch) {
        const index_t e = i + batch < x.extent(0) ? i + batch : x.extent(0);
        SPARQ_TRY(c.run(ctx, x.cview().slice(0, i, e), y.view().slice(0, i, e), counts));
    }
    return status::success();
}

// A .sparq file: its precision, values and layers as stored.
int inspect_sparq(const options& o) {
    auto c = io::load_sparq(o.model.c_str(), std::size_t(1) << 31, o.limits);
    if (report_failure(o.cmd, c.error(), "loading the model")) return 1;
    const nn::compiled_parts p = c->parts();
    std::printf("%s: %s, %zu nodes, %td -> %td features, %zu bytes stored\n\n", o.model.c_str(), nn::to_string(p.prec), p.steps.size(),
                c->in_features(), c->out_features(), c->stored_bytes());
    std::printf("%-20s %-16s %-16s %-7s %-6s %10s\n", "node", "op", "output (C,H,W)", "act", "codes", "weights");
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        const nn::compiled_step_parts& d = p.steps[i];
        const nn::sample_shape& y = p.shapes[i + 1];
        const char* act = d.act == kernels::activation::none ? "-" : kernels::to_string(d.act);
        const std::size_t w = d.weight_f32.size() + d.weight_f16.size() + d.weight_bf16.size() + d.weight_s8.size() +
                              (d.weight_s4.empty() ? 0 : std::size_t(d.weight_shape[0] * d.weight_shape[1]));
        const char* type = !d.weight_s8.empty() ? "int8" : !d.weight_s4.empty() ? "int4" : !d.weight_f16.empty() ? "fp16"
                         : !d.weight_bf16.empty() ? "bf16" : w ? "fp32" : "";
        char shape[48], weights[48];
        std::snprintf(shape, sizeof shape, "(%td, %td, %td)", y[0], y[1], y[2]);
        std::snprintf(weights, sizeof weights, "%zu %s", w, type);
        std::printf("%-20.20s %-16s %-16s %-7s %-6s %10s\n", printable(d.name).c_str(), nn::to_string(d.kind), shape, act, p.s8[i + 1] ? "int8" : "float",
                    w ? weights : "-");
    }
    return 0;
}

int compress(const options& o) {
    if (o.output.empty()) {
        std::fprintf(stderr, "sparq compress: -o OUT.sparq is needed (sparq compress --help)\n");
        return 2;
    }
    if (ends_with(o.model, ".sparq")) {
        std::fprintf(stderr, "sparq compress: %s is compressed already (compress the .onnx or .safetensors model)\n", o.model.c_str());
        return 2;
    }
    auto p = prepare(o);
    if (report_failure(o.cmd, p.error(), "preparing the model")) return 1;
    if (report_failure(o.cmd, io::save_sparq(o.output.c_str(), p->compiled), "writing the model")) return 1;
    std::printf("wrote %s: %s, %zu layers, %zu bytes stored (fp32: %td)", o.output.c_str(), nn::to_string(p->compiled.prec()),
                p->compiled.layer_count(), p->compiled.stored_bytes(), p->model.parameters() * 4);
    if (o.prune) std::printf(", %.1f%% of the weights pruned", 100.0 * prune::weight_sparsity(p->model));
    std::printf("\n");
    return 0;
}

int export_c(const options& o) {
    if (o.output.empty()) {
        std::fprintf(stderr, "sparq export-c: -o model.h is needed (sparq export-c --help)\n");
        return 2;
    }
    if (!ends_with(o.model, ".sparq")) {
        std::fprintf(stderr, "sparq export-c: %s is not a .sparq file (sparq compress makes one)\n", o.model.c_str());
        return 2;
    }
    // The library reduces any name to an identifier (io/c_escape.hpp); one typed on the command
    // line is refused instead, so the namespace is always the one asked for.
    if (const std::string id = io::c_identifier(o.name); id != o.name) {
        std::fprintf(stderr, "sparq export-c: '%.60s' is not a C++ identifier (or is reserved): try --name %s\n",
                     io::c_comment_text(o.name).c_str(), id.c_str());
        return 2;
    }
    auto c = io::load_sparq(o.model.c_str(), std::size_t(1) << 31, o.limits);
    if (report_failure(o.cmd, c.error(), "loading the model")) return 1;
    std::string base = o.model;
    if (const auto slash = base.find_last_of('/'); slash != std::string::npos) base = base.substr(slash + 1);
    auto text = io::export_c(c->parts(), o.name, base);
    if (report_failure(o.cmd, text.error(), "exporting")) return 1;
    if (report_failure(o.cmd, io::write_file(o.output.c_str(), *text), "writing the header")) return 1;
    std::printf("wrote %s: namespace %s, %s, %zu layers\n", o.output.c_str(), o.name.c_str(), nn::to_string(c->prec()), c->layer_count());
    return 0;
}

int inspect(const options& o) {
    if (ends_with(o.model, ".sparq")) return inspect_sparq(o);
    auto m = load_any_model(o.model.c_str(), o.limits);
    if (report_failure(o.cmd, m.error(), "loading the model")) return 1;
    auto shapes = nn::infer_shapes(*m);
    auto macs = m->macs_per_sample();
    if (report_failure(o.cmd, shapes.error(), "checking the model") || report_failure(o.cmd, macs.error(), "checking the model")) return 1;
    std::printf("%s: %zu nodes, input (%td, %td, %td) -> %td outputs, %td parameters, %td MACs per input\n\n", o.model.c_str(),
                m->nodes.size(), m->input[0], m->input[1], m->input[2], m->out_features(), m->parameters(), *macs);
    std::printf("%-20s %-16s %-16s %-7s %10s %11s %12s\n", "node", "op", "output (C,H,W)", "act", "params", "fp32 bytes", "MACs/input");
    for (std::size_t i = 0; i < m->nodes.size(); ++i) {
        const nn::node& n = m->nodes[i];
        const nn::sample_shape& y = (*shapes)[i + 1];
        const index_t params = n.linear.weight.size() + index_t(n.linear.bias.size()) + n.conv.weight.size() + index_t(n.conv.bias.size());
        const bool weighted = n.kind == nn::op::linear || n.kind == nn::op::conv2d;
        const index_t node_macs = weighted ? index_t(nn::node_work(nn::facts_of(n, ""), shapes->data(), y)) : 0;
        const kernels::activation a = n.kind == nn::op::conv2d ? n.conv.act : n.linear.act;
        const char* act = a == kernels::activation::none ? "-" : kernels::to_string(a);
        char shape[48];
        std::snprintf(shape, sizeof shape, "(%td, %td, %td)", y[0], y[1], y[2]);
        std::printf("%-20.20s %-16s %-16s %-7s %10td %11td %12td\n", printable(n.name).c_str(), nn::to_string(n.kind), shape, act, params, params * 4,
                    node_macs);
    }
    return 0;
}

}  // namespace
}  // namespace model_commands_cmd

int model_command(const char* cmd, int argc, char** argv) {
    using namespace model_commands_cmd;
    options o;
    o.cmd = cmd;
    if (int rc = parse(argc, argv, o); rc >= 0) return rc;
    if (!std::strcmp(cmd, "inspect")) return inspect(o);
    if (!std::strcmp(cmd, "compress")) return compress(o);
    if (!std::strcmp(cmd, "export-c")) return export_c(o);

    const std::string& in_path = !std::strcmp(cmd, "eval") ? o.data : o.input;
    if (in_path.empty()) {
        std::fprintf(stderr, "sparq %s: %s X.npy is needed (sparq %s --help)\n", cmd, !std::strcmp(cmd, "eval") ? "--data" : "--input", cmd);
        return 2;
    }
    if (!std::strcmp(cmd, "run") && o.output.empty()) {
        std::fprintf(stderr, "sparq run: --output Y.npy is needed\n");
        return 2;
    }
    if (!std::strcmp(cmd, "eval") && o.labels.empty()) {
        std::fprintf(stderr, "sparq eval: --labels y.npy is needed\n");
        return 2;
    }
    auto cost = load_cost_option(o.cost.c_str());
    if (report_failure(cmd, cost.error(), "--cost")) return 2;
    auto p = prepare(o);
    if (report_failure(cmd, p.error(), "preparing the model")) return 1;
    auto x = read_inputs(in_path, p->compiled.input_shape());
    if (report_failure(cmd, x.error(), "reading the inputs")) return 1;
    std::vector<std::int64_t> labels;
    if (!std::strcmp(cmd, "eval")) {
        auto v = read_labels(o.labels, x->extent(0), in_path);
        if (report_failure(cmd, v.error(), "reading the labels")) return 1;
        labels = std::move(*v);
    }
    auto y = tensor<float, 2>::make({x->extent(0), p->compiled.out_features()});
    if (report_failure(cmd, y.error(), "allocating the outputs")) return 1;
    auto counts = p->compiled.make_counters();
    if (report_failure(cmd, run_all(p->compiled, *x, in_path, *y, int(o.threads), &counts), "running the model")) return 1;

    if (!std::strcmp(cmd, "run")) {
        if (report_failure(cmd, io::write_npy(o.output.c_str(), y->data(), {y->extent(0), y->extent(1)}), "writing the outputs")) return 1;
        std::printf("wrote %s: (%td, %td) float32 (%s)\n", o.output.c_str(), y->extent(0), y->extent(1), nn::to_string(p->compiled.prec()));
        return 0;
    }
    if (!std::strcmp(cmd, "eval")) {
        const index_t right = nn::count_correct(y->cview(), labels);
        std::printf("accuracy: %.4f (%td of %td, %s)\n", y->extent(0) ? double(right) / double(y->extent(0)) : 0.0, right,
                    y->extent(0), nn::to_string(p->compiled.prec()));
        return 0;
    }
    const auto r = energy::make_report(nn::to_string(p->compiled.prec()), counts, std::uint64_t(x->extent(0)), *cost);
    if (o.json) std::printf("%s\n", energy::to_json(r).c_str());
    else std::printf("%s", energy::to_table(r).c_str());
    return 0;
}

}  // namespace sparq_cli
