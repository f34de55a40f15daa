// `sparq demo`: the main job for now. A built-in sample layer (a fully connected layer with
// Gaussian weights and ReLU-like inputs, made from a fixed seed so every run is the same) is
// run in fp32, with fp16 weights, and in int8 (per-channel weights, per-tensor activations);
// the table shows output error against fp32, time, and estimated energy against fp32.
// It exits 1 when a precision's SQNR falls below the floor the demo promises (--help: the
// floors and why), so a build whose fp16 or int8 path computes a wrong answer does not pass.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "sparq/core.hpp"
#include "sparq/energy/estimate.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/quant/calibrate.hpp"

namespace sparq_cli {
// (a namespace per command: the program's files compile together, CMake's unity build)
namespace demo_cmd {
namespace {

using namespace sparq;

// The SQNR floors, in dB of the layer's output against fp32. fp16 weights: rounding to an 11-bit
// significand gives about 74 dB in theory (6.02 dB a bit + the mantissa's spread), 72.6-74.8 dB
// measured on this layer at every size tried (2026-12-07); truncating instead of rounding costs
// 6 dB, so 70 dB catches it. int8 (per-channel weights, per-tensor min-max activations): about
// 40 dB (a Gaussian row clipped at its largest of ~1000 values: 10 log10(12 (127 / 3.3)^2) = 42.5
// dB for the weights alone), 37.3-45.1 dB measured; 30 dB is more than a bit under all of them.
// Below 64 outputs an SQNR is no statistic (one output can cancel to near zero): not checked.
constexpr double fp16_floor_db = 70.0, int8_floor_db = 30.0;
constexpr index_t min_outputs_checked = 64;

struct options {
    index_t rows = 1024, cols = 1024, batch = 16;
    int repeat = 5;
    double min_fp16_db = fp16_floor_db, min_int8_db = int8_floor_db;
};

int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
            std::printf(
                "usage: sparq demo [--rows N] [--cols K] [--batch M] [--repeat R] [--min-fp16-sqnr DB] "
                "[--min-int8-sqnr DB]\n"
                "  Runs a built-in N x K fully connected layer on M inputs in fp32, fp16 weights\n"
                "  and int8, and prints error, time and estimated energy against fp32.\n"
                "  Defaults: N = K = 1024, M = 16, R = 5 (time is the fastest of R runs).\n"
                "  Exits 1 if the output's SQNR against fp32 is below %.0f dB for fp16 weights (rounding to\n"
                "  11 bits gives ~74 dB) or %.0f dB for int8 (~40 dB), with at least %td outputs (M x N);\n"
                "  --min-fp16-sqnr / --min-int8-sqnr set other floors.\n",
                fp16_floor_db, int8_floor_db, min_outputs_checked);
            return 0;
        }
        if (!std::strcmp(a, "--min-fp16-sqnr") || !std::strcmp(a, "--min-int8-sqnr")) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "sparq demo: %s needs a value\n", a);
                return 2;
            }
            const char* v = argv[++i];
            char* end = nullptr;
            const double db = std::strtod(v, &end);
            if (end == v || *end != '\0' || !std::isfinite(db)) {
                std::fprintf(stderr, "sparq demo: %s takes a number of dB, not '%s'\n", a, v);
                return 2;
            }
            (!std::strcmp(a, "--min-fp16-sqnr") ? o.min_fp16_db : o.min_int8_db) = db;
            continue;
        }
        index_t* target = !std::strcmp(a, "--rows") ? &o.rows : !std::strcmp(a, "--cols") ? &o.cols
                        : !std::strcmp(a, "--batch") ? &o.batch : nullptr;
        if (!target && std::strcmp(a, "--repeat")) {
            std::fprintf(stderr, "sparq demo: unknown option '%s' (sparq demo --help)\n", a);
            return 2;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "sparq demo: %s needs a value\n", a);
            return 2;
        }
        long long v = 0;
        if (!parse_count("demo", a, argv[++i], target ? 16384 : 1000, v)) return 2;
        if (target) *target = index_t(v);
        else o.repeat = int(v);
    }
    return -1;  // go on
}

struct error_stats {
    double sqnr_db, max_abs, max_ref;
};

error_stats compare(const tensor<float, 2>& ref, const tensor<float, 2>& y) {
    double signal = 0, noise = 0, max_abs = 0, max_ref = 0;
    for (index_t i = 0; i < ref.size(); ++i) {
        const double r = ref.data()[i], d = r - double(y.data()[i]);
        signal += r * r;
        noise += d * d;
        max_abs = std::max(max_abs, std::fabs(d));
        max_ref = std::max(max_ref, std::fabs(r));
    }
    return {noise > 0 ? 10.0 * std::log10(signal / noise) : INFINITY, max_abs, max_ref};
}

template <class F>
double fastest_ms(int repeat, F&& run) {
    double best = 1e300;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    return best;
}

struct row {
    const char* name;
    double weight_bytes;
    error_stats err;
    double ms;
    energy::estimate e;
};

}  // namespace
}  // namespace demo_cmd

int demo(int argc, char** argv) {
    using namespace demo_cmd;
    options o;
    if (int rc = parse(argc, argv, o); rc >= 0) return rc;
    const index_t M = o.batch, N = o.rows, K = o.cols;

    auto x = tensor<float, 2>::make({M, K});
    auto w = tensor<float, 2>::make({N, K});
    auto w8 = tensor<std::int8_t, 2>::make({N, K});
    auto x8 = tensor<std::int8_t, 2>::make({M, K});
    auto acc = tensor<std::int32_t, 2>::make({M, N});
    auto y32 = tensor<float, 2>::make({M, N}), y16 = tensor<float, 2>::make({M, N}), y8 = tensor<float, 2>::make({M, N});
    for (const status* s : {&x.error(), &w.error(), &w8.error(), &x8.error(), &acc.error(), &y32.error(),
                            &y16.error(), &y8.error()})
        if (report_failure("demo", *s, "allocating the sample layer")) return 1;

    // The sample layer: weights ~ N(0, 1/K) (He-style scale), inputs ReLU(N(0, 1)).
    sample_rng rng{2026};
    const float wstd = 1.0f / std::sqrt(float(K));
    for (index_t i = 0; i < w->size(); ++i) w->data()[i] = rng.gaussian() * wstd;
    for (index_t i = 0; i < x->size(); ++i) x->data()[i] = std::max(0.0f, rng.gaussian());

    std::printf("sparq demo: a %td x %td fully connected layer on a batch of %td (built-in sample, seed 2026)\n",
                N, K, M);
    std::printf("kernels: packed weights, %s path; fp16 conversion: %s\n\n",
                backend_compiled(backend::xsimd) ? "xsimd" : "scalar", float16_convert_path());

    std::vector<row> rows;
    context ctx;
    energy::counter count;
    ctx.with_energy(count);

    // fp32: the baseline. Weights are packed once, as a model load would.
    status s;
    auto w32p = kernels::pack_weights(w->cview());
    auto w16p = kernels::pack_weights_as<float16>(w->cview());
    if (report_failure("demo", w32p.error(), "packing fp32 weights") || report_failure("demo", w16p.error(), "packing fp16 weights"))
        return 1;
    const double ms32 = fastest_ms(o.repeat, [&] { s = kernels::matmul(ctx, x->cview(), *w32p, y32->view()); });
    if (report_failure("demo", s, "fp32 matmul")) return 1;
    auto per_run = [&](const energy::counter& c) {
        energy::estimate e = energy::estimate_energy(c);
        e.compute_j /= o.repeat;
        e.memory_j /= o.repeat;
        return e;
    };
    rows.push_back({"fp32", double(N * K * 4), {INFINITY, 0, 0}, ms32, per_run(count)});

    // fp16 weights, fp32 compute.
    count.reset();
    const double ms16 = fastest_ms(o.repeat, [&] { s = kernels::matmul(ctx, x->cview(), *w16p, y16->view()); });
    if (report_failure("demo", s, "fp16 matmul")) return 1;
    rows.push_back({"fp16 weights", double(N * K * 2), compare(*y32, *y16), ms16, per_run(count)});

    // int8: per-channel symmetric weights [-127, 127] (quantized and packed once), dynamic
    // per-tensor symmetric activations (observed and quantized on every run).
    auto wq = quant::calibrate_weights(w->cview(), quant::qscheme::weights_s8_per_channel(0));
    if (report_failure("demo", wq.error(), "calibrating weights")) return 1;
    if (report_failure("demo", kernels::quantize(ctx, w->cview(), *wq, w8->view()), "quantizing weights")) return 1;
    auto w8p = kernels::pack_weights(w8->cview());
    if (report_failure("demo", w8p.error(), "packing int8 weights")) return 1;
    quant::qscheme act = quant::qscheme::activations_s8();
    act.symmetric = true, act.narrow = true;
    count.reset();
    const double ms8 = fastest_ms(o.repeat, [&] {
        quant::minmax_observer observer(act);
        s = observer.observe(x->cview());
        if (!s) return;
        auto xq = observer.compute();
        if (!xq) return void(s = xq.error());
        s = kernels::quantize(ctx, x->cview(), *xq, x8->view());
        if (!s) return;
        s = kernels::matmul_s8(ctx, x8->cview(), *w8p, acc->view());
        const float sx = xq->scale[0];
        for (index_t m = 0; m < M; ++m)
            for (index_t n = 0; n < N; ++n) (*y8)(m, n) = float((*acc)(m, n)) * sx * wq->scale[std::size_t(n)];
    });
    if (report_failure("demo", s, "int8 matmul")) return 1;
    rows.push_back({"int8", double(N * K + N * 4), compare(*y32, *y8), ms8, per_run(count)});

    const double base_j = rows[0].e.total_j();
    std::printf("%-13s %10s %10s %12s %10s %13s %13s %9s\n", "variant", "weights", "SQNR (dB)", "max |err|",
                "time (ms)", "est. uJ/batch", "saved vs fp32", "ratio");
    for (const row& r : rows) {
        char sqnr[32];
        if (std::isinf(r.err.sqnr_db)) std::snprintf(sqnr, sizeof sqnr, "%s", "exact");
        else std::snprintf(sqnr, sizeof sqnr, "%.1f", r.err.sqnr_db);
        std::printf("%-13s %8.2f MB %10s %12.2e %10.3f %13.2f %12.1f%% %8.2fx\n", r.name, r.weight_bytes / 1e6, sqnr,
                    r.err.max_abs, r.ms, r.e.total_j() * 1e6, 100.0 * (1.0 - r.e.total_j() / base_j),
                    base_j / r.e.total_j());
    }
    const energy::cost_model& m = energy::horowitz_45nm;
    std::printf("\nlargest |fp32 output| = %.3f. Energy is an estimate, not a measurement: exact counts x the %s\n"
                "cost model (fp32 MAC %.1f pJ, int8 MAC %.1f pJ; fp16 weights are widened and multiplied in fp32), and\n"
                "each tensor's bytes priced at the smallest memory that holds it: up to %llu KiB %.1f pJ/B, up to %llu MiB\n"
                "%.1f pJ/B, beyond that DRAM %.1f pJ/B (so the 1 MiB int8 weights stay on chip, the 4 MiB fp32 ones do not).\n"
                "Sources: docs/energy-model.md.\n",
                rows[1].err.max_ref, m.name, m.mac_pj(dtype::f32), m.mac_pj(dtype::s8),
                (unsigned long long)(m.memory[1].capacity_bytes >> 10), m.byte_pj(energy::level::l1),
                (unsigned long long)(m.memory[2].capacity_bytes >> 20), m.byte_pj(energy::level::llc), m.byte_pj(energy::level::dram));

    // The promise: each precision's output within its floor of fp32 (an exact match passes).
    if (M * N < min_outputs_checked) {
        std::printf("SQNR floors not checked: %td outputs, fewer than %td.\n", M * N, min_outputs_checked);
        return 0;
    }
    int below = 0;
    for (const auto& [r, floor_db] : {std::pair{&rows[1], o.min_fp16_db}, std::pair{&rows[2], o.min_int8_db}})
        if (!(r->err.sqnr_db >= floor_db)) {
            std::fprintf(stderr, "sparq demo: %s: SQNR %.1f dB is below the %.1f dB floor\n", r->name, r->err.sqnr_db,
                         floor_db);
            ++below;
        }
    if (below) return 1;
    std::printf("SQNR floors met: fp16 weights >= %.1f dB, int8 >= %.1f dB.\n", o.min_fp16_db, o.min_int8_db);
    return 0;
}

}  // namespace sparq_cli
