// `sparq measure`: runs a workload (the built-in fully connected layer, in one precision) for a
// while, with the energy counter on and, where this machine has one, the package energy meter;
// prints the estimate and the measurement side by side. Where no meter can read (a VM, no
// permission), it says why and prints the estimate alone: never a made-up measurement.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "sparq/core.hpp"
#include "sparq/energy/cost_model_file.hpp"
#include "sparq/energy/estimate.hpp"
#include "sparq/energy/meter.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/quant/calibrate.hpp"

namespace sparq_cli {
// (a namespace per command: the program's files compile together, CMake's unity build)
namespace measure_cmd {
namespace {

using namespace sparq;

struct options {
    index_t rows = 1024, cols = 1024, batch = 16;
    std::string precision = "int8";
    double seconds = 2.0, idle = 1.0;
    std::string cost = "horowitz_45nm";
    bool require_meter = false;
};

bool parse_seconds(const char* name, const char* text, double& out) {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= 0) || v > 3600) {
        std::fprintf(stderr, "sparq measure: %s needs seconds in [0, 3600], got '%s'\n", name, text);
        return false;
    }
    out = v;
    return true;
}

int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
            std::printf(
                "usage: sparq measure [--precision fp32|fp16|int8] [--rows N] [--cols K] [--batch M]\n"
                "                     [--seconds S] [--idle S] [--cost 45nm|7nm|FILE] [--require-meter]\n"
                "  Runs the built-in N x K fully connected layer on M inputs for S seconds (default 2) and\n"
                "  prints the estimated energy of the counted work beside the package energy measured by\n"
                "  RAPL or perf, net of the idle power measured for --idle seconds first (default 1).\n"
                "  Without a readable meter it says why and prints the estimate only (exit 0), or\n"
                "  fails with exit 1 under --require-meter.\n");
            return 0;
        }
        if (!std::strcmp(a, "--require-meter")) {
            o.require_meter = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "sparq measure: %s needs a value (sparq measure --help)\n", a);
            return 2;
        }
        const char* v = argv[++i];
        long long n = 0;
        if (!std::strcmp(a, "--precision")) {
            o.precision = v;
            if (o.precision != "fp32" && o.precision != "fp16" && o.precision != "int8") {
                std::fprintf(stderr, "sparq measure: --precision is fp32, fp16 or int8, not '%s'\n", v);
                return 2;
            }
        } else if (!std::strcmp(a, "--rows") || !std::strcmp(a, "--cols") || !std::strcmp(a, "--batch")) {
            if (!parse_count("measure", a, v, 16384, n)) return 2;
            (a[2] == 'r' ? o.rows : a[2] == 'c' ? o.cols : o.batch) = index_t(n);
        } else if (!std::strcmp(a, "--seconds")) {
            if (!parse_seconds(a, v, o.seconds)) return 2;
        } else if (!std::strcmp(a, "--idle")) {
            if (!parse_seconds(a, v, o.idle)) return 2;
        } else if (!std::strcmp(a, "--cost")) {
            o.cost = v;
        } else {
            std::fprintf(stderr, "sparq measure: unknown option '%s' (sparq measure --help)\n", a);
            return 2;
        }
    }
    return -1;
}

}  // namespace
}  // namespace measure_cmd

int measure(int argc, char** argv) {
    using namespace measure_cmd;
    options o;
    if (int rc = parse(argc, argv, o); rc >= 0) return rc;
    auto model = load_cost_option(o.cost.c_str());
    if (report_failure("measure", model.error(), "--cost")) return 2;
    const index_t M = o.batch, N = o.rows, K = o.cols;

    auto x = tensor<float, 2>::make({M, K});
    auto w = tensor<float, 2>::make({N, K});
    auto y = tensor<float, 2>::make({M, N});
    auto x8 = tensor<std::int8_t, 2>::make({M, K});
    auto w8 = tensor<std::int8_t, 2>::make({N, K});
    auto acc = tensor<std::int32_t, 2>::make({M, N});
    for (const status* s : {&x.error(), &w.error(), &y.error(), &x8.error(), &w8.error(), &acc.error()})
        if (report_failure("measure", *s, "allocating the layer")) return 1;
    sample_rng rng{2026};
    const float wstd = 1.0f / std::sqrt(float(K));
    for (index_t i = 0; i < w->size(); ++i) w->data()[i] = rng.gaussian() * wstd;
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = std::fabs(rng.gaussian());

    // Weights prepared once, as a model load would; activations quantized on every run (int8).
    energy::counter count;
    context ctx;
    auto w32 = kernels::pack_weights(w->cview());
    auto w16 = kernels::pack_weights_as<float16>(w->cview());
    auto wq = quant::calibrate_weights(w->cview(), quant::qscheme::weights_s8_per_channel(0));
    if (report_failure("measure", w32.error(), "packing") || report_failure("measure", w16.error(), "packing") || report_failure("measure", wq.error(), "calibrating")) return 1;
    if (report_failure("measure", kernels::quantize(ctx, w->cview(), *wq, w8->view()), "quantizing weights")) return 1;
    auto w8p = kernels::pack_weights(w8->cview());
    if (report_failure("measure", w8p.error(), "packing int8 weights")) return 1;
    const quant::qparams xq = quant::make_per_tensor(dtype::s8, 4.0f / 127.0f, 0, true);
    ctx.with_energy(count);

    status s;
    auto once = [&] {
        if (o.precision == "fp32") s = kernels::matmul(ctx, x->cview(), *w32, y->view());
        else if (o.precision == "fp16") s = kernels::matmul(ctx, x->cview(), *w16, y->view());
        else {
            s = kernels::quantize(ctx, x->cview(), xq, x8->view());
            if (s.ok()) s = kernels::matmul_s8(ctx, x8->cview(), *w8p, acc->view());
        }
    };
    std::uint64_t runs = 0;
    auto workload = [&] {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.seconds);
        do {
            once();
            ++runs;
        } while (s.ok() && std::chrono::steady_clock::now() < end);
    };

    std::printf("sparq measure: %s, %td x %td layer, batch %td, for %.1f s\n", o.precision.c_str(), N, K, M, o.seconds);
    energy::meter m = energy::open_best_meter();
    double seconds = 0;
    bool have_measurement = false;
    energy::measurement got;
    char why[512];
    std::snprintf(why, sizeof why, "%s", m.why());
    if (m.available()) {
        auto r = energy::measure(m, o.idle, workload);
        if (r.ok()) {
            got = *r;
            have_measurement = true;
            seconds = r->seconds;
        } else {
            r.error().what(why, sizeof why);
        }
    }
    if (!have_measurement && runs == 0) {  // no meter, or it failed before the workload ran
        const auto t0 = std::chrono::steady_clock::now();
        workload();
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    if (report_failure("measure", s, "running the layer")) return 1;

    const energy::estimate e = energy::estimate_energy(count, *model);
    std::printf("runs:      %llu in %.2f s (%.3f ms each), %llu MACs counted\n", (unsigned long long)runs, seconds,
                runs ? 1e3 * seconds / double(runs) : 0.0, (unsigned long long)count.total_macs());
    std::printf("estimated: %s (%s per run; compute %s, memory %s) from the cost model %s\n",
                energy::detail::format_joules(e.total_j()).c_str(), energy::detail::format_joules(e.total_j() / double(runs)).c_str(),
                energy::detail::format_joules(e.compute_j).c_str(), energy::detail::format_joules(e.memory_j).c_str(),
                model->name);
    if (have_measurement) {
        std::printf("measured:  %s by %s: %s net of idle (%.2f W over %.2f s), %s per run\n",
                    energy::detail::format_joules(got.measured_joules).c_str(), m.name(),
                    energy::detail::format_joules(got.net_joules).c_str(), got.idle_watts, got.idle_seconds,
                    energy::detail::format_joules(got.net_joules / double(runs)).c_str());
        std::printf("measured / estimated: %.1fx (the estimate prices arithmetic and data movement only; a CPU\n"
                    "package also spends on instruction fetch, scheduling, caches it does not use well, and leakage)\n",
                    e.total_j() > 0 ? got.net_joules / e.total_j() : 0.0);
    } else {
        std::printf("measured:  not available: %s\n", why);
        if (o.require_meter) return 1;
    }
    return 0;
}

}  // namespace sparq_cli
