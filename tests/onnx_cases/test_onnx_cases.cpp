// The committed ONNX cases (tests/data/onnx, made by tools/gen/make_onnx_cases.py: one small
// hand-made graph per op and attribute the importer must honour, and the five wrong-result
// bugs) imported through the library API and run in fp32: every output within 1e-5 of the
// reference (numpy, cross-checked against ONNX Runtime when the cases were made). The cases
// in refused.txt must be refused with a message containing the listed text.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "onnx_check.hpp"

#ifndef SPARQ_TEST_ONNX_CASES_DIR
#error "SPARQ_TEST_ONNX_CASES_DIR: the directory of the committed cases (tests/data/onnx)"
#endif

namespace {

const std::string dir = SPARQ_TEST_ONNX_CASES_DIR;

std::map<std::string, std::string> refused_cases() {
    std::map<std::string, std::string> r;
    for (auto& [name, substring] : sparq_test::read_table(dir + "/refused.txt")) r[name] = substring;
    return r;
}

}  // namespace

TEST_CASE("onnx cases: every committed case imports and matches its reference outputs") {
    const auto cases = sparq_test::read_table(dir + "/cases.txt");
    const auto refused = refused_cases();
    REQUIRE_MESSAGE(cases.size() > refused.size(), "no cases in " << dir << "/cases.txt");
    int checked = 0, failed = 0;
    for (const auto& [name, what] : cases) {
        if (refused.count(name)) continue;
        ++checked;
        const auto r = sparq_test::check_onnx_stem(dir + "/" + name, 1e-5);
        if (r.kind != sparq_test::onnx_check::pass) {
            ++failed;
            const std::string kind = r.kind == sparq_test::onnx_check::refused ? "refused" : r.kind == sparq_test::onnx_check::mismatch ? "WRONG" : "broken";
            FAIL_CHECK(name << " (" << what << "): " << kind << ": " << r.message);
        }
    }
    MESSAGE(checked << " cases, " << failed << " failed");
}

TEST_CASE("onnx cases: unsupported graphs are refused with a message that says why") {
    const auto refused = sparq_test::read_table(dir + "/refused.txt");
    REQUIRE(!refused.empty());
    for (const auto& [name, wanted] : refused) {
        std::string msg;
        auto m = sparq::onnx::import_file((dir + "/" + name + ".onnx").c_str());
        if (m) {
            auto c = sparq::nn::compiled_model::compile(*m, {});  // the refusal may come at compile time
            if (c) {
                FAIL_CHECK(name << ": imported and compiled; it must be refused with a message containing '" << wanted << "'");
                continue;
            }
            msg = c.error().message();
        } else {
            msg = m.error().message();
        }
        // Every part of "a & b & c" must appear in the message.
        std::string missing;
        for (std::size_t from = 0; from <= wanted.size();) {
            std::size_t to = wanted.find(" & ", from);
            if (to == std::string::npos) to = wanted.size();
            const std::string part = wanted.substr(from, to - from);
            if (msg.find(part) == std::string::npos) missing += (missing.empty() ? "'" : ", '") + part + "'";
            from = to + 3;
        }
        if (!missing.empty()) FAIL_CHECK(name << ": refused with '" << msg << "', which lacks " << missing);
    }
}
