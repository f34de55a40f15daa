// sparq bench MODEL: the model-level benchmark (what onnxruntime_perf_test and TFLite's
// benchmark_model report): latency of one call on a batch (median, p90, min), throughput, peak
// memory, and the estimated energy per inference. .onnx / .safetensors models are compiled for
// --precision here; a .sparq file runs as it was compressed. Inputs are seeded normal(0, 1)
// floats in the model's input shape, or the first --batch rows of --input X.npy.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "host_info.hpp"
#include "latency_stats.hpp"
#include "layer_profile.hpp"
#include "model_loading.hpp"
#include "onnx_import.hpp"
#include "sparq/core.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/nn/compiled_model.hpp"

namespace sparq_cli {
// (a namespace per command: the program's files compile together, CMake's unity build)
namespace bench_cmd {
namespace {

using namespace sparq;

constexpr const char* usage =
    "usage: sparq bench MODEL [--precision fp32|fp16|bf16|int8|int4 [--calib C.npy]] [--batch N] [--threads N]\n"
    "                   [--warmup W] [--reps R] [--min-time S] [--input X.npy | --seed N] [--cost 45nm|7nm|FILE]\n"
    "                   [--layers] [--json]\n"
    "  Times compiled_model::run on one batch: W untimed calls (default 3), then timed calls until R of them\n"
    "  (default 20) and S seconds (default 1) are both reached. Prints the median, p90 (over a uniform sample of\n"
    "  100000 calls when there are more) and minimum latency of a call, throughput (batch / median), the peak\n"
    "  resident memory of the process, the scratch memory the model plans for the batch, and the estimated energy\n"
    "  per inference (counted work priced by the cost model: an estimate, not a measurement).\n"
    "  MODEL: .onnx or .safetensors (compiled for --precision, default fp32; int8 calibrates on --calib, or on\n"
    "  the timed inputs when it is absent, which fits timing but not accuracy), or .sparq (its own precision).\n"
    "  Inputs: normal(0, 1) floats in the model's input shape from --seed (default 1), or the first N rows of\n"
    "  X.npy (the model's shape or flattened, as sparq run reads it). --json prints one JSON object.\n"
    "  --layers: then R more calls timing each layer: time by kind of layer and the layers that took the most\n"
    "  (every layer under --json), with multiply-adds a second.\n"
    "  --max-work N / --max-memory N: what one sample of a loaded model may cost (sparq run --help).\n";

struct options {
    std::string model, input, calib, cost = "horowitz_45nm";
    nn::precision prec = nn::precision::f32;
    bool prec_given = false, seed_given = false, json = false, layers = false;
    long long batch = 1, threads = 1, warmup = 3, reps = 20, seed = 1;
    double min_time = 1.0;
    nn::load_limits limits;
};

constexpr std::size_t kept_calls = 100000;  // latencies kept for the median and p90: 400 KB

int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
            std::printf("%s", usage);
            return 0;
        }
        if (a[0] != '-') {
            if (!o.model.empty()) {
                std::fprintf(stderr, "sparq bench: one model only ('%s' and '%s')\n", o.model.c_str(), a);
                return 2;
            }
            o.model = a;
            continue;
        }
        if (!std::strcmp(a, "--json")) {
            o.json = true;
            continue;
        }
        if (!std::strcmp(a, "--layers")) {
            o.layers = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "sparq bench: %s needs a value (sparq bench --help)\n", a);
            return 2;
        }
        const char* v = argv[++i];
        bool ok = true;
        if (!std::strcmp(a, "--input"))
            o.input = v;
        else if (!std::strcmp(a, "--calib"))
            o.calib = v;
        else if (!std::strcmp(a, "--cost"))
            o.cost = v;
        else if (!std::strcmp(a, "--precision"))
            ok = o.prec_given = parse_choice("bench", a, v, nn::precision_choices, o.prec);
        else if (!std::strcmp(a, "--batch"))
            ok = parse_count("bench", a, v, 1 << 20, o.batch);
        else if (!std::strcmp(a, "--threads"))
            ok = parse_count("bench", a, v, 1024, o.threads);
        else if (!std::strcmp(a, "--warmup"))
            ok = parse_whole("bench", a, v, 0, 100000, o.warmup);
        else if (!std::strcmp(a, "--reps"))
            ok = parse_count("bench", a, v, 1000000000, o.reps);
        else if (!std::strcmp(a, "--seed"))
            ok = o.seed_given = parse_whole("bench", a, v, 0, 1LL << 62, o.seed);
        else if (!std::strcmp(a, "--min-time")) {
            char* end = nullptr;
            o.min_time = std::strtod(v, &end);
            if (end == v || *end != '\0' || !(o.min_time >= 0.0 && o.min_time <= 3600.0)) {
                std::fprintf(stderr, "sparq bench: --min-time takes seconds in [0, 3600], got '%s'\n", v);
                return 2;
            }
        } else if (const int l = parse_limit("bench", a, v, o.limits)) {
            ok = l > 0;
        } else {
            std::fprintf(stderr, "sparq bench: unknown option '%s' (sparq bench --help)\n", a);
            return 2;
        }
        if (!ok) return 2;
    }
    if (o.model.empty()) {
        std::fprintf(stderr, "sparq bench: which model? (sparq bench --help)\n");
        return 2;
    }
    if (!o.calib.empty() && ends_with(o.model, ".sparq")) {
        std::fprintf(stderr, "sparq bench: %s is compressed already: --calib does not apply\n", o.model.c_str());
        return 2;
    }
    if (!o.calib.empty() && o.prec != nn::precision::int8) {
        std::fprintf(stderr, "sparq bench: --calib is for --precision int8 (not %s)\n", nn::to_string(o.prec));
        return 2;
    }
    if (!o.input.empty() && o.seed_given) {
        std::fprintf(stderr, "sparq bench: --seed draws random inputs; --input gives them (one or the other)\n");
        return 2;
    }
    return -1;
}

// The rows the benchmark runs on: the first `batch` rows of --input, or seeded normal(0, 1) floats.
result<tensor<float, 2>> bench_inputs(const options& o, const nn::sample_shape& shape) {
    const index_t batch = index_t(o.batch), features = shape[0] * shape[1] * shape[2];
    if (!o.input.empty()) {
        auto x = read_inputs(o.input, shape);
        if (!x) return x.error();
        if (x->extent(0) < batch)
            return status(errc::shape_mismatch, "%s has %td rows, fewer than --batch %td", o.input.c_str(),
                          x->extent(0), batch);
        if (x->extent(0) == batch) return x;
        auto first = tensor<float, 2>::make({batch, features});
        if (!first) return first.error();
        std::copy(x->data(), x->data() + batch * features, first->data());
        return first;
    }
    auto x = tensor<float, 2>::make({batch, features});
    if (!x) return x.error();
    sample_rng rng{std::uint64_t(o.seed)};
    for (index_t i = 0; i < batch * features; ++i) x->data()[i] = rng.gaussian();
    return x;
}

struct loaded {
    nn::compiled_model compiled;
    tensor<float, 2> x;
    std::string calibration;  // int8 compiled here: "file", "random" or "input"; else empty
};

// Loads MODEL, makes the inputs, compiles it for --precision (a .sparq file is compiled already).
// A --precision that conflicts with a .sparq file's sets `bad_option` (exit 2, not 1).
result<loaded> load(const options& o, bool& bad_option) {
    if (ends_with(o.model, ".sparq")) {
        auto c = load_sparq_to_run(o.model, o.limits);
        if (!c) return c.error();
        bad_option = o.prec_given && o.prec != c->prec();
        if (bad_option)
            return status(errc::invalid_argument,
                          "%s is %s: --precision %s conflicts (compress the .onnx / .safetensors again for it)",
                          o.model.c_str(), nn::to_string(c->prec()), nn::to_string(o.prec));
        auto x = bench_inputs(o, c->input_shape());
        if (!x) return x.error();
        return loaded{std::move(*c), std::move(*x), ""};
    }
    auto m = load_any_model(o.model.c_str(), o.limits);
    if (!m) return m.error();
    auto x = bench_inputs(o, m->input);
    if (!x) return x.error();
    nn::compile_options co;  // as sparq run / energy compile: histogram observer, pruned layers from CSRs
    co.prec = o.prec;
    co.observer = nn::observer_kind::histogram;
    co.sparse_int8 = true;
    co.progress = draw_progress;
    co.progress_user = const_cast<char*>("calibrating");
    tensor<float, 2> calib;
    std::string how;
    if (o.prec == nn::precision::int8) {
        if (!o.calib.empty()) {
            auto c = read_inputs(o.calib, m->input);
            if (!c) return c.error();
            calib = std::move(*c);
            co.calibration = calib.cview();
            how = "file";
        } else {
            // Timing does not depend on the ranges: the timed inputs (at most 64 rows) will do.
            co.calibration = x->cview().slice(0, 0, std::min<index_t>(x->extent(0), 64));
            how = o.input.empty() ? "random" : "input";
            std::fprintf(stderr,
                         "sparq bench: no --calib: int8 calibrated on %td %s input rows (ranges fit for timing, not "
                         "for accuracy)\n",
                         co.calibration.extent(0), how.c_str());
        }
    }
    auto c = nn::compiled_model::compile(*m, co);
    if (!c) return c.error();
    return loaded{std::move(*c), std::move(*x), how};
}

struct figures {
    latency_stats ms;
    std::uint64_t peak_rss = 0;
    std::size_t scratch = 0;
    energy::report energy;
    layer_profile layers;  // --layers
};

// Warm-up calls, timed calls, peak memory, then one more call counting each layer's work.
status measure(const options& o, const loaded& l, const energy::cost_model& cost, figures& f) {
    const nn::compiled_model& c = l.compiled;
    const index_t batch = l.x.extent(0);
    f.scratch = c.scratch_bytes(batch, int(o.threads));
    auto scratch = arena::with_capacity(f.scratch);  // once, outside the timed calls
    if (!scratch) return scratch.error();
    context ctx;
    ctx.with_scratch(*scratch).with_threads(int(o.threads));
    std::vector<tensor<float, 2>> outputs;  // every output, so that run() allocates none of its own
    std::vector<matrix_view<float>> ys;
    for (std::size_t i = 0; i < c.output_count(); ++i) {
        auto y = tensor<float, 2>::make({batch, c.output_features(i)});
        if (!y) return y.error();
        outputs.push_back(std::move(*y));
    }
    for (tensor<float, 2>& y : outputs) ys.push_back(y.view());
    const matrix_view<const float> x = l.x.cview();

    using clock = std::chrono::steady_clock;
    const auto warm_start = clock::now();
    for (long long i = 0; i < o.warmup; ++i) SPARQ_TRY(c.run(ctx, x, ys));
    // Room for the calls min-time will take, judged from the warm-up, so the samples rarely grow.
    double expected = double(o.reps);
    if (o.warmup > 0) {
        const double per_call = std::chrono::duration<double>(clock::now() - warm_start).count() / double(o.warmup);
        if (per_call > 0) expected = std::max(expected, 1.1 * o.min_time / per_call);
    }
    latency_recorder calls(kept_calls, std::size_t(std::min(expected, double(kept_calls))));
    const auto start = clock::now();
    for (double elapsed = 0; calls.calls() < std::uint64_t(o.reps) || elapsed < o.min_time;) {
        const auto t0 = clock::now();
        SPARQ_TRY(c.run(ctx, x, ys));
        const auto t1 = clock::now();
        calls.add(float(std::chrono::duration<double, std::milli>(t1 - t0).count()));
        elapsed = std::chrono::duration<double>(t1 - start).count();
    }
    f.ms = calls.summarize();
    f.peak_rss = peak_rss_bytes();

    auto counts = c.make_counters();
    SPARQ_TRY(c.run(ctx, x, ys, &counts));
    f.energy = energy::make_report(nn::to_string(c.prec()), counts, std::uint64_t(batch), cost);
    if (!o.layers) return status::success();
    auto timed = c.make_counters();  // (untimed by the latencies above: counting costs a little)
    const auto t0 = clock::now();
    for (long long i = 0; i < o.reps; ++i) SPARQ_TRY(c.run(ctx, x, ys, &timed));
    const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
    f.layers = make_layer_profile(c, timed, std::uint64_t(o.reps), seconds);
    return status::success();
}

// What --threads N > 1 does today (core/thread_pool.hpp): the packed GEMMs split their weight
// panels and channels-last convolutions their pixels, when a call has about 2^20 MACs or more;
// every other op its rows, planes or values past two grains of work (core/parallel.hpp).
constexpr const char* threads_note =
    "matrix products and convolutions of about 2^20 multiply-adds or more, and every other op of about 2^19 "
    "values' work or more (core/parallel.hpp), split across the process's thread pool";

std::string format_ms(double ms) {
    char buf[32];
    if (ms < 1.0)
        std::snprintf(buf, sizeof buf, "%.2f us", ms * 1e3);
    else
        std::snprintf(buf, sizeof buf, ms < 100 ? "%.3f ms" : "%.1f ms", ms);
    return buf;
}

std::string format_bytes(std::uint64_t b) {
    char buf[64];
    const bool mb = b >= 1000000;
    std::snprintf(buf, sizeof buf, "%.1f %s (%llu bytes)", double(b) / (mb ? 1e6 : 1e3), mb ? "MB" : "KB",
                  static_cast<unsigned long long>(b));
    return buf;
}

void print_text(const options& o, const loaded& l, const figures& f, const std::string& cpu) {
    const double per_s = f.ms.median > 0 ? double(o.batch) * 1e3 / f.ms.median : 0.0;
    std::printf("%-12s %s\n", "model", printable(o.model).c_str());
    std::printf("%-12s %s", "precision", nn::to_string(l.compiled.prec()));
    if (l.calibration == "file")
        std::printf(" (calibrated on %s)", printable(o.calib).c_str());
    else if (!l.calibration.empty())
        std::printf(" (calibrated on the %s inputs: fit for timing, not for accuracy)", l.calibration.c_str());
    std::printf("\n%-12s %lld (%s)\n", "batch", o.batch,
                o.input.empty() ? "random normal(0, 1) inputs" : printable(o.input).c_str());
    std::printf("%-12s %lld%s%s\n", "threads", o.threads, o.threads > 1 ? ": " : "", o.threads > 1 ? threads_note : "");
    std::printf("%-12s %s\n", "cpu", cpu.empty() ? "unknown (no model name in /proc/cpuinfo)" : printable(cpu).c_str());
    std::printf("%-12s median %s, p90 %s, min %s per call (%llu timed calls after %lld warm-up", "latency",
                format_ms(f.ms.median).c_str(), format_ms(f.ms.p90).c_str(), format_ms(f.ms.min).c_str(),
                static_cast<unsigned long long>(f.ms.calls), o.warmup);
    if (f.ms.kept < f.ms.calls) std::printf("; median and p90 of a uniform sample of %zu", f.ms.kept);
    std::printf(")\n");
    std::printf("%-12s %.1f inferences/s\n", "throughput", per_s);
    std::printf("%-12s %s\n", "peak RSS", format_bytes(f.peak_rss).c_str());
    std::printf("%-12s %s planned for the batch\n", "scratch", format_bytes(f.scratch).c_str());
    std::printf("%-12s %s per inference (an estimate, not a measurement: counted work priced by the cost model %s)\n",
                "energy", energy::detail::format_joules(f.energy.joules_per_inference()).c_str(),
                printable(f.energy.cost_model).c_str());
    if (o.layers) print_layer_profile(f.layers, 20);
}

void print_json(const options& o, const loaded& l, const figures& f, const std::string& cpu) {
    using energy::detail::appendf;
    using energy::detail::json_number;
    using energy::detail::json_string;
    const double per_s = f.ms.median > 0 ? double(o.batch) * 1e3 / f.ms.median : 0.0;
    std::string out = "{";
    appendf(out, "\"model\": %s, \"precision\": \"%s\", \"batch\": %lld, \"threads\": %lld, ",
            json_string(o.model).c_str(), nn::to_string(l.compiled.prec()), o.batch, o.threads);
    appendf(out, "\"latency_ms\": {\"median\": %s, \"p90\": %s, \"min\": %s}, \"throughput_per_s\": %s, ",
            json_number(f.ms.median).c_str(), json_number(f.ms.p90).c_str(), json_number(f.ms.min).c_str(),
            json_number(per_s).c_str());
    appendf(out, "\"peak_rss_bytes\": %llu, \"joules_per_inference\": %s, ",
            static_cast<unsigned long long>(f.peak_rss), json_number(f.energy.joules_per_inference()).c_str());
    appendf(out,
            "\"energy_estimate\": true, \"cost_model\": %s, \"scratch_bytes\": %zu, \"reps\": %llu, \"reps_sampled\": "
            "%zu, \"warmup\": %lld, ",
            json_string(f.energy.cost_model).c_str(), f.scratch, static_cast<unsigned long long>(f.ms.calls), f.ms.kept,
            o.warmup);
    if (o.input.empty())
        appendf(out, "\"inputs\": \"random\", \"seed\": %lld, ", o.seed);
    else
        appendf(out, "\"inputs\": %s, ", json_string(o.input).c_str());
    if (!l.calibration.empty()) appendf(out, "\"calibration\": \"%s\", ", l.calibration.c_str());
    if (l.calibration == "file") appendf(out, "\"calib\": %s, ", json_string(o.calib).c_str());
    if (o.threads > 1) appendf(out, "\"threads_note\": \"%s\", ", threads_note);
    if (o.layers) out += layer_profile_json(f.layers) + ", ";
    appendf(out, "\"cpu\": %s}", cpu.empty() ? "null" : json_string(cpu).c_str());
    std::printf("%s\n", out.c_str());
}

}  // namespace
}  // namespace bench_cmd

int bench(int argc, char** argv) {
    using namespace bench_cmd;
    options o;
    if (const int rc = parse(argc, argv, o); rc >= 0) return rc;
    auto cost = load_cost_option(o.cost.c_str());
    if (report_failure("bench", cost.error(), "--cost")) return 2;
    bool bad_option = false;
    auto l = load(o, bad_option);
    if (report_failure("bench", l.error(), "preparing the model")) return bad_option ? 2 : 1;
    figures f;
    if (report_failure("bench", measure(o, *l, *cost, f), "running the model")) return 1;
    const std::string cpu = cpu_model_name();
    if (o.json)
        print_json(o, *l, f, cpu);
    else
        print_text(o, *l, f, cpu);
    return 0;
}

}  // namespace sparq_cli
