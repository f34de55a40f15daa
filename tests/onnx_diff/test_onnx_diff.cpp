// The ONNX importer's differential test: every gNNNN.onnx in a directory made by
// tools/gen/make_random_graphs.py (random small PyTorch modules exported at opset 13, with
// PyTorch's outputs) imported through the library API, compiled in fp32 and run on its input;
// each output must be within the tolerance of PyTorch's:
//     max |sparq - torch| / max(max |torch|, 1e-6) <= 1e-4
// Prints every graph that fails (its name, the module's description, the importer's message or
// the difference) and a summary line; exits 1 on any mismatch or refusal.
//
//   test_onnx_diff DIR [--tolerance T] [--verbose]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <dirent.h>

#include "onnx_check.hpp"

namespace {

std::string read_text(const std::string& path) {
    std::string s;
    if (std::FILE* f = std::fopen(path.c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
        std::fclose(f);
    }
    return s;
}

// A refusal's reason without the file and node names: what the summary counts.
std::string reason_of(const std::string& message, const std::string& path) {
    std::string s = message;
    for (std::size_t at; (at = s.find(path)) != std::string::npos;) s.erase(at, path.size());
    std::string out;
    bool quoted = false;
    for (char ch : s) {
        if (ch == '\'') {
            quoted = !quoted;
            out += quoted ? "'" : "...'";
            continue;
        }
        if (!quoted) out += ch;
    }
    // "import: : node ..." -> "import: node ..."
    for (std::size_t at; (at = out.find(": : ")) != std::string::npos;) out.erase(at, 2);
    if (out.size() > 120) out = out.substr(0, 117) + "...";
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir;
    double tolerance = 1e-4;
    bool verbose = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--tolerance") && i + 1 < argc) tolerance = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--verbose")) verbose = true;
        else if (argv[i][0] != '-' && dir.empty()) dir = argv[i];
        else {
            std::fprintf(stderr, "usage: test_onnx_diff DIR [--tolerance T] [--verbose]\n");
            return 2;
        }
    }
    if (dir.empty()) {
        std::fprintf(stderr, "usage: test_onnx_diff DIR [--tolerance T] [--verbose]\n"
                             "DIR: made by /usr/bin/python3 tools/gen/make_random_graphs.py --seed S --count N --out DIR\n");
        return 2;
    }
    std::vector<std::string> stems;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            const std::string n = e->d_name;
            if (n.size() > 5 && n.compare(n.size() - 5, 5, ".onnx") == 0) stems.push_back(dir + "/" + n.substr(0, n.size() - 5));
        }
        closedir(d);
    }
    std::sort(stems.begin(), stems.end());
    if (stems.empty()) {
        std::fprintf(stderr, "test_onnx_diff: no .onnx files in %s\n", dir.c_str());
        return 1;
    }
    int mismatches = 0, refused = 0, broken = 0;
    double worst_pass = 0.0;
    std::map<std::string, int> reasons;
    for (const std::string& stem : stems) {
        const auto r = sparq_test::check_onnx_stem(stem, tolerance);
        const std::string name = stem.substr(stem.rfind('/') + 1);
        if (r.kind == sparq_test::onnx_check::pass) {
            worst_pass = std::max(worst_pass, r.worst);
            if (verbose) std::printf("%s: ok (%.2g)\n", name.c_str(), r.worst);
            continue;
        }
        const char* kind = "MISMATCH";
        if (r.kind == sparq_test::onnx_check::refused) {
            ++refused;
            ++reasons[reason_of(r.message, stem + ".onnx")];
            kind = "REFUSED";
        } else if (r.kind == sparq_test::onnx_check::broken) {
            ++broken;
            kind = "BROKEN CASE";
        } else {
            ++mismatches;
        }
        std::printf("---- %s: %s: %s\n%s", name.c_str(), kind, r.message.c_str(), read_text(stem + ".txt").c_str());
    }
    std::printf("%zu graphs, %d mismatches, %d refused", stems.size(), mismatches, refused);
    if (!reasons.empty()) {
        std::printf(" (");
        bool first = true;
        for (auto& [why, n] : reasons) {
            std::printf("%s%d x %s", first ? "" : "; ", n, why.c_str());
            first = false;
        }
        std::printf(")");
    }
    if (broken) std::printf(", %d unreadable cases", broken);
    std::printf("; largest error of the passing graphs %.2g (tolerance %.2g)\n", worst_pass, tolerance);
    return mismatches || refused || broken ? 1 : 0;
}
