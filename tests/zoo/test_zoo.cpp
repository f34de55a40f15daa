// One model of the zoo (tools/gen/make_zoo.py: a torchvision classifier with random weights,
// exported by PyTorch 1.13 at opset 13), in one export mode, against PyTorch's own outputs:
//
//   test_zoo --zoo DIR --model NAME --mode eval|preserve [--sparq PATH --work DIR]
//
// 1. sparq::onnx::import_file(DIR/NAME.MODE.onnx), compiled fp32, run at batch 1 (x's first row)
//    and batch 2: max |sparq - torch| / max |torch| <= 1e-4 each.
// 2. Compiled int8 on DIR/NAME.calib.npy (the histogram observer, the CLI's default; bias
//    correction on), run on x: cosine similarity of its logits with fp32's >= 0.98 (the lowest
//    row's); mobilenet_v2 >= 0.97 (int8_min_cosine_of: why).
// 3. With --sparq: `sparq run` of the .onnx file on x within 1e-4 of PyTorch; `sparq compress
//    --quant int8 --calib` to a .sparq file and `sparq run` of that: exit code 0 and its outputs
//    within 1e-4 of the library's int8 model (the same calibration, stored and loaded).
//
// Prints one markdown row (name, mode, fp32 relative differences at batch 1 and 2, int8 cosine,
// stored bytes fp32 / int8) for docs/zoo.md; a step that fails prints why (the importer's message
// for a model it cannot import) and makes the program exit 1.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sparq/core.hpp>
#include <sparq/io/npy.hpp>
#include <sparq/nn/compiled_model.hpp>
#include <sparq/onnx/import.hpp>

namespace {

using namespace sparq;

constexpr double fp32_tolerance = 1e-4;  // max |sparq - torch| / max |torch|
constexpr double int8_min_cosine = 0.98;

// mobilenet_v2 with the zoo's random weights amplifies any perturbation: its weights alone rounded
// to int8 per channel (activations in fp32) already give cosine 0.989, and the whole int8 model
// 0.975-0.982 whichever observer, calibration set or weight init (measured 2026-12-07,
// docs/zoo.md). ONNX Runtime's own QDQ int8 of the same file and calibration gives 0.967. Its
// bar is set above ONNX Runtime's, below the 0.98 the others meet.
double int8_min_cosine_of(const std::string& model) { return model == "mobilenet_v2" ? 0.97 : int8_min_cosine; }

struct matrix {
    index_t rows = 0, cols = 0;
    std::vector<float> v;
    matrix_view<const float> view() const { return {v.data(), {rows, cols}}; }
    matrix_view<const float> first_rows(index_t n) const { return {v.data(), {n, cols}}; }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A float32 .npy of any rank as [shape[0], product of the rest] (images: N x C*H*W, NCHW order).
result<matrix> read_rows(const std::string& path) {
    auto a = io::read_npy(path.c_str());
    if (!a) return a.error();
    if (a->type != io::npy_type::f32 || a->shape.empty())
        return status(errc::dtype_mismatch, "%s: expected float32 data with a batch axis", path.c_str());
    matrix m;
    m.rows = a->shape[0];
    m.cols = m.rows ? a->count() / m.rows : 0;
    m.v.resize(std::size_t(a->count()));
    std::memcpy(m.v.data(), a->bytes.data(), m.v.size() * sizeof(float));
    return m;
}

// max |a - b| / max |b| over the first `rows` rows.
double max_rel_diff(const float* a, const matrix& b, index_t rows) {
    double diff = 0, ref = 0;
    for (index_t i = 0; i < rows * b.cols; ++i) {
        const double d = std::fabs(double(a[i]) - double(b.v[std::size_t(i)]));
        diff = std::isnan(d) || d > diff ? d : diff;  // a NaN poisons the result (and fails the check)
        ref = std::fmax(ref, std::fabs(double(b.v[std::size_t(i)])));
    }
    return ref > 0 ? diff / ref : diff;
}

// The lowest cosine similarity of a row of a with the same row of b.
double min_cosine(const matrix& a, const matrix& b) {
    double lowest = 1.0;
    for (index_t r = 0; r < a.rows; ++r) {
        double ab = 0, aa = 0, bb = 0;
        for (index_t j = 0; j < a.cols; ++j) {
            const double x = a.v[std::size_t(r * a.cols + j)], y = b.v[std::size_t(r * b.cols + j)];
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        const double c = aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
        lowest = std::isnan(c) || c < lowest ? c : lowest;
    }
    return lowest;
}

result<matrix> run(const nn::compiled_model& c, const matrix& x, index_t rows) {
    auto scratch = arena::with_capacity(c.scratch_bytes(rows));
    if (!scratch) return scratch.error();
    context ctx;
    ctx.with_scratch(*scratch);
    matrix y;
    y.rows = rows;
    y.cols = c.out_features();
    y.v.assign(std::size_t(rows * y.cols), 0.0f);
    SPARQ_TRY(c.run(ctx, x.first_rows(rows), matrix_view<float>{y.v.data(), {rows, y.cols}}));
    return y;
}

std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
}

// Runs the sparq program with its output in LOG; prints the log when it fails.
bool cli(const std::string& sparq, const std::string& args, const std::string& log) {
    const std::string cmd = quoted(sparq) + " " + args + " > " + quoted(log) + " 2>&1";
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = std::system(cmd.c_str());
    std::printf("  $ sparq %s  (%.1f s, exit %d)\n", args.c_str(), seconds_since(t0), rc);
    if (rc == 0) return true;
    if (FILE* f = std::fopen(log.c_str(), "r")) {
        char line[1024];
        while (std::fgets(line, sizeof line, f)) std::printf("    %s", line);
        std::fclose(f);
    }
    return false;
}

struct options {
    std::string zoo, model, mode, sparq, work;
};

int fail(const options& o, const char* step, const char* why) {
    std::printf("FAILED %s.%s: %s: %s\n", o.model.c_str(), o.mode.c_str(), step, why);
    std::printf("| %s | %s | %s: %s | | | | |\n", o.model.c_str(), o.mode.c_str(), step, why);
    return 1;
}

int test_model(const options& o) {
    const std::string base = o.zoo + "/" + o.model;
    const std::string onnx_path = base + "." + o.mode + ".onnx";
    auto x = read_rows(base + ".input.npy");
    auto calib = read_rows(base + ".calib.npy");
    auto want = read_rows(base + ".output.npy");
    for (auto* r : {&x, &calib, &want})
        if (!*r) return fail(o, "reading the zoo (tools/gen/make_zoo.py)", r->error().message());

    // 1. fp32 through the library.
    auto t0 = std::chrono::steady_clock::now();
    auto m = sparq::onnx::import_file(onnx_path.c_str());
    if (!m) return fail(o, "import", m.error().message());
    const double import_s = seconds_since(t0);
    if (m->in_features() != x->cols || m->out_features() != want->cols) {
        char why[160];
        std::snprintf(why, sizeof why, "the model maps %td features to %td, the zoo has %td to %td", m->in_features(), m->out_features(),
                      x->cols, want->cols);
        return fail(o, "import", why);
    }
    t0 = std::chrono::steady_clock::now();
    auto f32 = nn::compiled_model::compile(*m, nn::compile_options{});
    if (!f32) return fail(o, "compile fp32", f32.error().message());
    const double compile_s = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    auto y1 = run(*f32, *x, 1);
    if (!y1) return fail(o, "run fp32, batch 1", y1.error().message());
    const double run1_s = seconds_since(t0);
    auto y2 = run(*f32, *x, 2);
    if (!y2) return fail(o, "run fp32, batch 2", y2.error().message());
    const double d1 = max_rel_diff(y1->v.data(), *want, 1), d2 = max_rel_diff(y2->v.data(), *want, 2);
    bool ok = true;
    std::printf("%s.%s: import %.2f s, compile fp32 %.2f s, run fp32 batch 1 %.3f s\n", o.model.c_str(), o.mode.c_str(), import_s, compile_s,
                run1_s);
    std::printf("  fp32 vs PyTorch: max rel diff %.3g at batch 1, %.3g at batch 2 (limit %g)\n", d1, d2, fp32_tolerance);
    if (!(d1 <= fp32_tolerance && d2 <= fp32_tolerance)) {
        std::printf("FAILED %s.%s: fp32 outputs differ from PyTorch's\n", o.model.c_str(), o.mode.c_str());
        ok = false;
    }

    // 2. int8 through the library, calibrated on the zoo's calibration images.
    nn::compile_options q;
    q.prec = nn::precision::int8;
    q.observer = nn::observer_kind::histogram;  // what `sparq compress` uses unless told
    q.calibration = calib->view();
    t0 = std::chrono::steady_clock::now();
    auto s8 = nn::compiled_model::compile(*m, q);
    if (!s8) return fail(o, "compile int8", s8.error().message());
    const double calib_s = seconds_since(t0);
    auto y8 = run(*s8, *x, 2);
    if (!y8) return fail(o, "run int8", y8.error().message());
    const double cosine = min_cosine(*y8, *y2);
    const double bar = int8_min_cosine_of(o.model);
    std::printf("  int8 (calibrated in %.2f s): cosine with fp32 %.4f (at least %g)\n", calib_s, cosine, bar);
    if (!(cosine >= bar)) {
        std::printf("FAILED %s.%s: int8 logits too far from fp32's\n", o.model.c_str(), o.mode.c_str());
        ok = false;
    }

    // 3. The program, on the same files.
    if (!o.sparq.empty()) {
        const std::string w = o.work + "/" + o.model + "." + o.mode;
        const std::string in = quoted(base + ".input.npy");
        if (!cli(o.sparq, "run " + quoted(onnx_path) + " --input " + in + " --output " + quoted(w + ".fp32.npy"), w + ".run.log"))
            return fail(o, "sparq run (fp32)", "the program failed (its output is above)");
        auto cy = read_rows(w + ".fp32.npy");
        if (!cy) return fail(o, "sparq run (fp32)", cy.error().message());
        const double dc = cy->rows == want->rows && cy->cols == want->cols ? max_rel_diff(cy->v.data(), *want, 2) : INFINITY;
        std::printf("  sparq run: max rel diff %.3g against PyTorch (limit %g)\n", dc, fp32_tolerance);
        if (!(dc <= fp32_tolerance)) {
            std::printf("FAILED %s.%s: sparq run's outputs differ from PyTorch's\n", o.model.c_str(), o.mode.c_str());
            ok = false;
        }
        if (!cli(o.sparq, "compress " + quoted(onnx_path) + " --quant int8 --calib " + quoted(base + ".calib.npy") + " -o " +
                              quoted(w + ".int8.sparq"), w + ".compress.log"))
            return fail(o, "sparq compress --quant int8", "the program failed (its output is above)");
        if (!cli(o.sparq, "run " + quoted(w + ".int8.sparq") + " --input " + in + " --output " + quoted(w + ".int8.npy"), w + ".run8.log"))
            return fail(o, "sparq run (.sparq int8)", "the program failed (its output is above)");
        auto c8 = read_rows(w + ".int8.npy");
        if (!c8) return fail(o, "sparq run (.sparq int8)", c8.error().message());
        const double d8 = c8->rows == y8->rows && c8->cols == y8->cols ? max_rel_diff(c8->v.data(), *y8, 2) : INFINITY;
        std::printf("  sparq compress + run .sparq: max rel diff %.3g against the library's int8 (limit %g)\n", d8, fp32_tolerance);
        if (!(d8 <= fp32_tolerance)) {
            std::printf("FAILED %s.%s: the .sparq model's outputs differ from the library's int8\n", o.model.c_str(), o.mode.c_str());
            ok = false;
        }
    }

    std::printf("| %s | %s | %.1e, %.1e | %.4f | %.2f MB | %.2f MB | %.2fx |\n", o.model.c_str(), o.mode.c_str(), d1, d2, cosine,
                double(f32->stored_bytes()) / 1e6, double(s8->stored_bytes()) / 1e6,
                double(s8->stored_bytes()) / double(f32->stored_bytes()));
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string* t = !std::strcmp(argv[i], "--zoo") ? &o.zoo : !std::strcmp(argv[i], "--model") ? &o.model
                       : !std::strcmp(argv[i], "--mode") ? &o.mode : !std::strcmp(argv[i], "--sparq") ? &o.sparq
                       : !std::strcmp(argv[i], "--work") ? &o.work : nullptr;
        if (!t) break;
        *t = argv[i + 1];
    }
    if (o.zoo.empty() || o.model.empty() || (o.mode != "eval" && o.mode != "preserve") || (!o.sparq.empty() && o.work.empty())) {
        std::fprintf(stderr, "usage: test_zoo --zoo DIR --model NAME --mode eval|preserve [--sparq PATH --work DIR]\n");
        return 2;
    }
    return test_model(o);
}
