// `sparq quant-report`: SQNR of each quantization scheme and observer on Gaussian and Laplacian
// weights (fixed seeds) and, optionally, a real weight matrix from a file: which scheme to pick
// for a layer, measured rather than guessed. docs/quantization.md shows its output.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "sparq/core.hpp"
#include "sparq/quant.hpp"

namespace sparq_cli {
// (a namespace per command: the program's files compile together, CMake's unity build)
namespace quant_report_cmd {
namespace {

using namespace sparq;

struct dataset {
    std::string name;
    index_t rows, cols;
    std::vector<float> values;
};

dataset synthetic(const char* name, bool laplace) {
    dataset d{name, 256, 1024, std::vector<float>(256 * 1024)};
    sample_rng rng{laplace ? 7u : 5u};
    for (auto& v : d.values) v = 0.05f * (laplace ? rng.laplace() : rng.gaussian());
    return d;
}

// SQNR of x through quantize -> dequantize with p (fake_quant), in dB.
result<double> sqnr_of(const dataset& d, const quant::qparams& p) {
    std::vector<float> y(d.values.size());
    matrix_view<const float> x(d.values.data(), {d.rows, d.cols});
    context ctx;
    SPARQ_TRY(kernels::fake_quant(ctx, x, p, matrix_view<float>(y.data(), {d.rows, d.cols})));
    auto m = quant::compare(x, matrix_view<const float>(y.data(), {d.rows, d.cols}));
    if (!m) return m.error();
    return m->sqnr_db;
}

template <class H>
double sqnr_cast(const dataset& d) {
    std::vector<H> h(d.values.size());
    std::vector<float> y(d.values.size());
    convert(d.values.data(), h.data(), h.size());
    convert(h.data(), y.data(), y.size());
    vector_view<const float> a(d.values.data(), {index_t(y.size())}), b(y.data(), {index_t(y.size())});
    auto m = quant::compare(a, b);
    return m ? m->sqnr_db : NAN;
}

template <class Observer, class... Args>
result<quant::qparams> observed(const dataset& d, const quant::qscheme& s, Args... args) {
    Observer o(s, args...);
    SPARQ_TRY(o.observe(matrix_view<const float>(d.values.data(), {d.rows, d.cols})));
    return o.compute();
}

struct row {
    const char* scheme;
    const char* observer;
    std::vector<double> db;  // one per dataset
};

}  // namespace
}  // namespace quant_report_cmd

int quant_report(int argc, char** argv) {
    using namespace quant_report_cmd;
    std::vector<dataset> data = {synthetic("Gaussian", false), synthetic("Laplacian", true)};
    const char* weights = nullptr;
    index_t rows = 0, cols = 0;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
            std::printf("usage: sparq quant-report [--weights FILE --rows N --cols K]\n"
                        "  SQNR (dB) of each quantization scheme and observer on 256 x 1024 Gaussian and\n"
                        "  Laplacian weights (sigma / b = 0.05, fixed seeds) and on FILE: N x K raw\n"
                        "  little-endian float32, row-major. Higher is better; +6 dB is one more bit.\n");
            return 0;
        }
        if (i + 1 >= argc) return std::fprintf(stderr, "sparq quant-report: %s needs a value\n", a), 2;
        const char* v = argv[++i];
        if (!std::strcmp(a, "--weights")) {
            weights = v;
        } else if (!std::strcmp(a, "--rows") || !std::strcmp(a, "--cols")) {
            long long n = 0;
            if (!parse_count("quant-report", a, v, 1 << 20, n)) return 2;
            (!std::strcmp(a, "--rows") ? rows : cols) = index_t(n);
        } else {
            return std::fprintf(stderr, "sparq quant-report: unknown option '%s' (sparq quant-report --help)\n", a), 2;
        }
    }
    if (weights) {
        if (!rows || !cols) return std::fprintf(stderr, "sparq quant-report: --weights needs --rows and --cols\n"), 2;
        std::FILE* f = std::fopen(weights, "rb");
        if (!f) return std::fprintf(stderr, "sparq quant-report: cannot open %s: %s\n", weights, std::strerror(errno)), 1;
        std::fseek(f, 0, SEEK_END);
        const long size = std::ftell(f);
        std::fseek(f, 0, SEEK_SET);
        if (size != long(rows * cols * 4)) {
            std::fclose(f);
            return std::fprintf(stderr, "sparq quant-report: %s has %ld bytes; %td x %td float32 needs %td\n", weights,
                                size, rows, cols, rows * cols * 4), 1;
        }
        dataset d{weights, rows, cols, std::vector<float>(std::size_t(rows * cols))};
        const std::size_t got = std::fread(d.values.data(), 4, d.values.size(), f);
        std::fclose(f);
        if (got != d.values.size()) return std::fprintf(stderr, "sparq quant-report: short read from %s\n", weights), 1;
        // The observers and the SQNR have no answer for NaN or infinity: name the first one.
        for (std::size_t i = 0; i < d.values.size(); ++i)
            if (!std::isfinite(d.values[i]))
                return std::fprintf(stderr, "sparq quant-report: %s: value %zu is %s: quantization needs finite weights\n",
                                    weights, i, std::isnan(d.values[i]) ? "NaN" : d.values[i] > 0 ? "+Inf" : "-Inf"), 1;
        const char* slash = std::strrchr(weights, '/');
        d.name = slash ? slash + 1 : weights;
        data.push_back(std::move(d));
    }

    quant::qscheme s8 = quant::qscheme::activations_s8();
    s8.symmetric = true, s8.narrow = true;
    const quant::qscheme u8 = quant::qscheme::activations_u8();
    const quant::qscheme s8_channel = quant::qscheme::weights_s8_per_channel(0);
    quant::qscheme s4_group = quant::qscheme::weights_s4_per_group(32);
    s4_group.narrow = true;
    quant::qscheme s4_tensor = s4_group;
    s4_tensor.gran = quant::granularity::per_tensor, s4_tensor.axis = -1, s4_tensor.group_size = 0;

    std::vector<row> table;
    auto add = [&](const char* scheme, const char* observer, auto make) {
        row r{scheme, observer, {}};
        for (const dataset& d : data) {
            auto p = make(d);
            if (!p) return void(std::fprintf(stderr, "sparq quant-report: %s / %s on %s: %s\n", scheme, observer,
                                             d.name.c_str(), p.error().message()));
            auto db = sqnr_of(d, *p);
            r.db.push_back(db ? *db : NAN);
        }
        table.push_back(r);
    };
    auto minmax = [](const quant::qscheme& s) { return [s](const dataset& d) { return observed<quant::minmax_observer>(d, s); }; };
    add("int8 symmetric [-127,127], per tensor", "min-max", minmax(s8));
    add("int8 symmetric [-127,127], per tensor", "percentile 99.99", [&](const dataset& d) {
        return observed<quant::percentile_observer>(d, s8, 99.99);
    });
    add("int8 symmetric [-127,127], per tensor", "MSE (search)", [&](const dataset& d) { return observed<quant::mse_observer>(d, s8); });
    add("int8 symmetric [-127,127], per tensor", "histogram (PyTorch)", [&](const dataset& d) {
        return observed<quant::histogram_observer>(d, s8);
    });
    add("int8 symmetric [-127,127], per tensor", "entropy (KL)", [&](const dataset& d) { return observed<quant::entropy_observer>(d, s8); });
    add("uint8 affine, per tensor", "min-max", minmax(u8));
    add("uint8 affine, per tensor", "percentile 99.99", [&](const dataset& d) { return observed<quant::percentile_observer>(d, u8, 99.99); });
    add("uint8 affine, per tensor", "MSE (search)", [&](const dataset& d) { return observed<quant::mse_observer>(d, u8); });
    add("uint8 affine, per tensor", "histogram (PyTorch)", [&](const dataset& d) {
        return observed<quant::histogram_observer>(d, u8);
    });
    add("int8 symmetric, per output channel", "min-max", [&](const dataset& d) {
        return quant::calibrate_weights(matrix_view<const float>(d.values.data(), {d.rows, d.cols}), s8_channel);
    });
    add("int4 symmetric [-7,7], per tensor", "min-max", minmax(s4_tensor));
    add("int4 symmetric [-7,7], groups of 32", "min-max", [&](const dataset& d) {
        return quant::calibrate_weights(matrix_view<const float>(d.values.data(), {d.rows, d.cols}), s4_group);
    });

    std::printf("| scheme | observer |");
    for (const dataset& d : data) std::printf(" %s |", d.name.c_str());
    std::printf("\n|---|---|");
    for (std::size_t i = 0; i < data.size(); ++i) std::printf("---:|");
    std::printf("\n");
    for (const row& r : table) {
        std::printf("| %s | %s |", r.scheme, r.observer);
        for (double db : r.db) std::printf(" %.1f |", db);
        std::printf("\n");
    }
    std::printf("| float16 (cast) | - |");
    for (const dataset& d : data) std::printf(" %.1f |", sqnr_cast<float16>(d));
    std::printf("\n| bfloat16 (cast) | - |");
    for (const dataset& d : data) std::printf(" %.1f |", sqnr_cast<bfloat16>(d));
    std::printf("\n");
    return 0;
}

}  // namespace sparq_cli
