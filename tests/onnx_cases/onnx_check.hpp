// One ONNX graph checked against reference outputs through the library's own API, the way an
// app uses it: sparq::onnx::import_file, compiled_model::compile (fp32), run on the graph's
// input, every graph output compared. Shared by test_onnx_cases (committed hand-made cases,
// tests/data/onnx) and test_onnx_diff (random PyTorch exports made at test time).
//
// A case is a file stem: STEM.onnx, STEM.input.npy, STEM.output0.npy (, STEM.output1.npy ...).
// Outputs are compared as flat arrays (a [N, C, H, W] output against sparq's [N, C*H*W] rows,
// both in NCHW order), error relative to the reference's largest magnitude:
//     max |sparq - ref| / max(max |ref|, 1e-6)
#pragma once

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sparq/core/arena.hpp>
#include <sparq/core/context.hpp>
#include <sparq/io/npy.hpp>
#include <sparq/nn/compiled_model.hpp>
#include <sparq/onnx/import.hpp>

namespace sparq_test {

struct onnx_check {
    enum kind_t { pass, refused, mismatch, broken };  // broken: the case's own files are unreadable
    kind_t kind = pass;
    std::string message;  // why it did not pass: the library's status message, or the difference
    double worst = 0.0;   // the largest relative error over the outputs (pass and mismatch)
};

inline bool file_exists(const std::string& path) {
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
        std::fclose(f);
        return true;
    }
    return false;
}

inline std::string shape_text(const std::vector<sparq::index_t>& s) {
    std::string t = "[";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + "]";
}

// A float32 .npy as its shape and values.
inline sparq::status read_f32_npy(const std::string& path, std::vector<sparq::index_t>& shape, std::vector<float>& values) {
    auto a = sparq::io::read_npy(path.c_str());
    if (!a) return a.error();
    if (a->type != sparq::io::npy_type::f32)
        return sparq::status(sparq::errc::invalid_argument, "%s: not float32", path.c_str());
    shape = a->shape;
    values.resize(std::size_t(a->count()));
    if (!values.empty()) std::memcpy(values.data(), a->bytes.data(), values.size() * sizeof(float));
    return sparq::status::success();
}

// The library's run over several outputs (compiled_model::output_count / output_features /
// run(ctx, x, ys)); a build whose compiled_model predates them has one output.
template <class C, class = void>
struct has_outputs : std::false_type {};
template <class C>
struct has_outputs<C, std::void_t<decltype(std::declval<const C&>().output_count())>> : std::true_type {};

template <class C>
std::size_t output_count_of(const C& c) {
    if constexpr (has_outputs<C>::value) return c.output_count();
    else return 1;
}
template <class C>
sparq::index_t output_features_of(const C& c, std::size_t i) {
    if constexpr (has_outputs<C>::value) return c.output_features(i);
    else return (void)i, c.out_features();
}
template <class C>
sparq::status run_all_outputs(const C& c, const sparq::context& ctx, const sparq::matrix_view<const float>& x,
                              const std::vector<sparq::matrix_view<float>>& ys) {
    if constexpr (has_outputs<C>::value) return c.run(ctx, x, ys);
    else return c.run(ctx, x, ys.at(0));
}

inline std::string status_text(const sparq::status& s) {
    char buf[sparq::status::max_message + 64];
    return s.what(buf, sizeof buf);
}

inline onnx_check check_onnx_stem(const std::string& stem, double tolerance) {
    using namespace sparq;
    onnx_check r;
    auto fail = [&](onnx_check::kind_t k, std::string m) {
        r.kind = k;
        r.message = std::move(m);
        return r;
    };
    std::vector<index_t> xshape;
    std::vector<float> xs;
    if (auto s = read_f32_npy(stem + ".input.npy", xshape, xs); !s) return fail(onnx_check::broken, status_text(s));
    if (xshape.empty()) return fail(onnx_check::broken, "the input .npy is a scalar");
    std::vector<std::vector<index_t>> yshapes;
    std::vector<std::vector<float>> yrefs;
    for (int k = 0; file_exists(stem + ".output" + std::to_string(k) + ".npy"); ++k) {
        yshapes.emplace_back();
        yrefs.emplace_back();
        if (auto s = read_f32_npy(stem + ".output" + std::to_string(k) + ".npy", yshapes.back(), yrefs.back()); !s)
            return fail(onnx_check::broken, status_text(s));
    }
    if (yrefs.empty()) return fail(onnx_check::broken, "no " + stem + ".output0.npy");
    const index_t batch = xshape[0];
    const index_t features = batch ? index_t(xs.size()) / batch : 0;

    auto m = onnx::import_file((stem + ".onnx").c_str());
    if (!m) return fail(onnx_check::refused, "import: " + status_text(m.error()));
    if (m->in_features() != features)
        return fail(onnx_check::mismatch, "the imported model takes " + std::to_string(m->in_features()) + " features per sample (input [" +
                                              std::to_string(m->input[0]) + ", " + std::to_string(m->input[1]) + ", " +
                                              std::to_string(m->input[2]) + "]), the graph's input is " + shape_text(xshape));
    auto c = nn::compiled_model::compile(*m, {});
    if (!c) return fail(onnx_check::refused, "compile: " + status_text(c.error()));
    if (output_count_of(*c) != yrefs.size())
        return fail(onnx_check::mismatch, "the model has " + std::to_string(output_count_of(*c)) + " outputs, the graph " +
                                              std::to_string(yrefs.size()));
    std::vector<tensor<float, 2>> ys;
    std::vector<matrix_view<float>> views;
    for (std::size_t k = 0; k < yrefs.size(); ++k) {
        const index_t f = output_features_of(*c, k);
        if (f * batch != index_t(yrefs[k].size()))
            return fail(onnx_check::mismatch, "output " + std::to_string(k) + ": sparq gives [" + std::to_string(batch) + ", " +
                                                  std::to_string(f) + "] values, the reference " + shape_text(yshapes[k]));
        auto t = tensor<float, 2>::make({batch, f});
        if (!t) return fail(onnx_check::broken, status_text(t.error()));
        ys.push_back(std::move(*t));
        for (index_t i = 0; i < batch * f; ++i) ys.back().data()[i] = std::nanf("");  // a value never written shows
        views.push_back(ys.back().view());
    }
    auto scratch = arena::with_capacity(c->scratch_bytes(batch));
    if (!scratch) return fail(onnx_check::refused, "arena: " + status_text(scratch.error()));
    context ctx;
    ctx.with_scratch(*scratch);
    const matrix_view<const float> x(xs.data(), {batch, features});
    if (auto s = run_all_outputs(*c, ctx, x, views); !s) return fail(onnx_check::refused, "run: " + status_text(s));

    std::string diff;
    for (std::size_t k = 0; k < yrefs.size(); ++k) {
        const float* got = ys[k].data();
        const std::vector<float>& want = yrefs[k];
        double scale = 0.0, err = 0.0;
        std::size_t at = 0;
        bool nan = false;
        for (float v : want) scale = std::fmax(scale, std::fabs(double(v)));
        scale = std::fmax(scale, 1e-6);
        for (std::size_t i = 0; i < want.size(); ++i) {
            const double e = std::fabs(double(got[i]) - double(want[i]));
            if (!(e <= err)) {  // NaN included
                if (std::isnan(e)) {
                    if (!nan) at = i;
                    nan = true;
                    continue;
                }
                if (!nan) at = i;
                err = e;
            }
        }
        const double rel = nan ? INFINITY : err / scale;
        r.worst = std::fmax(r.worst, rel);
        if (rel > tolerance) {
            char buf[320];
            std::snprintf(buf, sizeof buf, "%soutput %zu %s: relative error %.3g (max |ref| %.4g); at flat index %zu sparq %.7g, reference %.7g",
                          diff.empty() ? "" : "; ", k, shape_text(yshapes[k]).c_str(), rel, scale, at, double(got[at]), double(want[at]));
            diff += buf;
        }
    }
    if (!diff.empty()) return fail(onnx_check::mismatch, diff);
    return r;
}

// "case | text" lines of a table file (# comments and blank lines skipped).
inline std::vector<std::pair<std::string, std::string>> read_table(const std::string& path) {
    std::vector<std::pair<std::string, std::string>> rows;
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return rows;
    char line[2048];
    auto trim = [](std::string s) {
        while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
        std::size_t i = 0;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        return s.substr(i);
    };
    while (std::fgets(line, sizeof line, f)) {
        std::string s = trim(line);
        if (s.empty() || s[0] == '#') continue;
        const std::size_t bar = s.find(" | ");
        if (bar == std::string::npos) rows.emplace_back(s, "");
        else rows.emplace_back(trim(s.substr(0, bar)), trim(s.substr(bar + 3)));
    }
    std::fclose(f);
    return rows;
}

}  // namespace sparq_test
