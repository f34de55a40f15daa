// Hostile names in export-c's header (issue 19): c_escape.hpp's functions on every pattern that
// would end a comment, splice a line, include a file or redeclare something; and a header made by
// export_c from a model whose node names, file name and namespace are all of them, compiled with
// the project's compiler and read back: nothing of the names outside comments, the expected names
// declared and no other.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "sparq/io/c_escape.hpp"
#include "sparq/io/export_c.hpp"
#include "support/temp_dir.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_export_c_escape_suite {

namespace {

// Every pattern from the issue, as node names: a newline and a declaration, an #include, the end
// of a block comment, a backslash splicing the next line, CR, U+2028 / U+2029, NUL, bytes of no
// encoding with a trigraph, and the names that are not identifiers at all.
std::vector<std::string> hostile_names() {
    return {"fc\nint injected_decl = 1;",
            "x\n#include \"/etc/hostname\"",
            "a */ int injected_block; /* b",
            "tail\\",
            "mid\\\nint injected_splice;",
            "cr\rint injected_cr;",
            "ls\xE2\x80\xA8int injected_ls;\xE2\x80\xA9",
            std::string("nul\0int injected_nul;", 21),
            "\xff\xfe\x80 ?" "?/\n#error injected_trigraph",
            "",
            "12345",
            "int"};
}

bool is_identifier(const std::string& s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return s.find("__") == std::string::npos && s[0] != '_';
}

bool safe_comment(const std::string& s) {
    for (char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c > 0x7e || c == '\\') return false;
    }
    return s.find("*/") == std::string::npos && s.find("/*") == std::string::npos && s.find("??") == std::string::npos;
}

}  // namespace

TEST_CASE("c_identifier: only [A-Za-z0-9_], no leading digit, keyword or reserved name") {
    CHECK(io::c_identifier("digits_mlp_int8") == "digits_mlp_int8");  // a plain identifier is kept
    CHECK(io::c_identifier("sparq_model") == "sparq_model");
    CHECK(io::c_identifier("fc\nint injected_decl = 1;") == "fc_int_injected_decl_1_");
    CHECK(io::c_identifier("x\n#include \"/etc/hostname\"") == "x_include_etc_hostname_");
    CHECK(io::c_identifier("") == "unnamed");
    CHECK(io::c_identifier("\n\r\\") == "unnamed");
    CHECK(io::c_identifier("12345") == "n_12345");
    CHECK(io::c_identifier("9lives") == "n_9lives");
    CHECK(io::c_identifier("int") == "int_");
    CHECK(io::c_identifier("namespace") == "namespace_");
    CHECK(io::c_identifier("std") == "std_");
    CHECK(io::c_identifier("errno") == "errno_");
    CHECK(io::c_identifier("__x") == "x");
    CHECK(io::c_identifier("_X") == "X");
    CHECK(io::c_identifier("_private") == "private_");  // stripped, then a keyword
    CHECK(io::c_identifier("a__b") == "a_b");
    CHECK(io::c_identifier("\xE2\x80\xA8") == "unnamed");
    CHECK(io::c_identifier(std::string("a\0b", 3)) == "a_b");
    CHECK(io::c_identifier("caf\xC3\xA9") == "caf_");
    for (const std::string& n : hostile_names()) CHECK_MESSAGE(is_identifier(io::c_identifier(n)), io::c_identifier(n));
}

TEST_CASE("c_identifiers: names colliding after reduction get _2, _3 in order, and none is taken twice") {
    io::c_identifiers ids{"model", "run"};
    CHECK(ids.add("conv-1") == "conv_1");
    CHECK(ids.add("conv.1") == "conv_1_2");
    CHECK(ids.add("conv 1") == "conv_1_3");
    CHECK(ids.add("conv_1_2") == "conv_1_2_2");  // a name equal to a suffixed one: suffixed itself
    CHECK(ids.add("model") == "model_2");         // reserved by the scope
    CHECK(ids.add("") == "unnamed");
    CHECK(ids.add("\n") == "unnamed_2");
    CHECK(ids.add("int") == "int_");
    CHECK(ids.add("int?") == "int_2");  // not the reserved "int__2"
    // the same names in the same order: the same identifiers
    io::c_identifiers again{"model", "run"};
    CHECK(again.add("conv-1") == "conv_1");
    CHECK(again.add("conv.1") == "conv_1_2");
    std::set<std::string> seen;
    io::c_identifiers all;
    for (const std::string& n : hostile_names()) {
        const std::string id = all.add(n);
        CHECK(is_identifier(id));
        CHECK(seen.insert(id).second);
    }
}

TEST_CASE("c_comment_text: printable ASCII without backslash, '*', '?'; the rest as %XX") {
    CHECK(io::c_comment_text("fc1") == "fc1");
    CHECK(io::c_comment_text("/model/layer1/Conv") == "/model/layer1/Conv");
    CHECK(io::c_comment_text("fc\nint injected_decl = 1;") == "fc%0Aint injected_decl = 1;");
    CHECK(io::c_comment_text("x\n#include \"/etc/hostname\"") == "x%0A#include \"/etc/hostname\"");
    CHECK(io::c_comment_text("a */ b /* c") == "a %2A/ b /%2A c");
    CHECK(io::c_comment_text("tail\\") == "tail%5C");
    CHECK(io::c_comment_text("cr\rx") == "cr%0Dx");
    CHECK(io::c_comment_text("ls\xE2\x80\xA8ps\xE2\x80\xA9") == "ls%E2%80%A8ps%E2%80%A9");
    CHECK(io::c_comment_text(std::string("nul\0x", 5)) == "nul%00x");
    CHECK(io::c_comment_text("\xff\xfe ?" "?/") == "%FF%FE %3F%3F/");
    CHECK(io::c_comment_text("100%") == "100%25");
    CHECK(io::c_comment_text("tab\there\x7f") == "tab%09here%7F");
    CHECK(io::c_comment_text("") == "");
    for (const std::string& n : hostile_names()) CHECK(safe_comment(io::c_comment_text(n)));
}

TEST_CASE("c_string_literal: quoted, every byte back, nothing a preprocessor or trigraph reads") {
    CHECK(io::c_string_literal("abc") == "\"abc\"");
    CHECK(io::c_string_literal("") == "\"\"");
    CHECK(io::c_string_literal("a\"b\\c") == "\"a\\\"b\\\\c\"");
    CHECK(io::c_string_literal("?" "?/") == "\"\\?\\?/\"");
    CHECK(io::c_string_literal("l\n1") == "\"l\\0121\"");  // 3 octal digits: the '1' stays a char
    CHECK(io::c_string_literal(std::string("\0" "7", 2)) == "\"\\0007\"");
    CHECK(io::c_string_literal("\xE2\x80\xA8") == "\"\\342\\200\\250\"");
    CHECK(io::c_string_literal("\xff\r") == "\"\\377\\015\"");
    for (const std::string& n : hostile_names()) {
        const std::string lit = io::c_string_literal(n);
        for (char ch : lit) CHECK((ch >= 0x20 && ch <= 0x7e));
    }
}

#ifdef SPARQ_TEST_CXX
TEST_CASE("export_c: a model whose every name is hostile gives a header that compiles and declares only its own names") {
    nn::model m;
    m.input = {4, 1, 1};
    const std::vector<std::string> names = hostile_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
        nn::node n;
        n.name = names[i];
        n.kind = i % 2 ? nn::op::relu : nn::op::relu6;
        n.inputs = {int(i)};
        m.nodes.push_back(std::move(n));
    }
    auto c = nn::compiled_model::compile(m, {});
    REQUIRE_MESSAGE(c.ok(), c.error().message());
    const std::string ns_name = "9 lives\n#error bad_namespace";
    const std::string file = "fn\n#error injected_file\n.sparq";
    auto h = io::export_c(c->parts(), ns_name, file);
    REQUIRE_MESSAGE(h.ok(), h.error().message());
    const std::string ns = "n_9_lives_error_bad_namespace";
    CHECK(h->find("namespace " + ns + " {") != std::string::npos);

    // Outside comments: no trace of any name (every injected text says "injected"), no #include
    // but firmware.hpp's and the standard ones, no #error; every line a comment or code.
    std::set<std::string> declared;
    std::istringstream lines(*h);
    std::string line;
    std::size_t comments = 0;
    while (std::getline(lines, line)) {
        CHECK(line.find('\r') == std::string::npos);
        CHECK(line.find('\\') == std::string::npos);
        CHECK((line.empty() || line.back() != '\\'));
        const std::size_t slash = line.find("//");
        const std::string code = line.substr(0, slash);
        if (slash != std::string::npos) {
            ++comments;
            CHECK_MESSAGE(safe_comment(line.substr(slash)), line);
        }
        CHECK_MESSAGE(code.find("injected") == std::string::npos, line);
        CHECK_MESSAGE(code.find("/*") == std::string::npos, line);
        if (code.rfind("#", 0) == 0)
            CHECK_MESSAGE((code == "#pragma once" || code == "#include <cstddef>" || code == "#include <cstdint>" ||
                           code == "#include \"sparq/nn/firmware.hpp\"" || code == "#ifdef " + ns || code == "#endif" ||
                           code == "#error \"" + ns + " is a macro here: export again with another --name\""),
                          line);
        if (code.rfind("inline constexpr ", 0) == 0) {
            const std::size_t end = code.find_first_of("[{=");
            REQUIRE(end != std::string::npos);
            std::string decl = code.substr(0, end);
            while (!decl.empty() && decl.back() == ' ') decl.pop_back();
            declared.insert(decl.substr(decl.find_last_of(' ') + 1));
        }
    }
    CHECK(comments >= names.size() + 1);
    std::set<std::string> expected{"in_features", "out_features", "buffer_bytes", "values", "layers", "model"};
    for (std::size_t i = 0; i < names.size(); ++i) expected.insert("l" + std::to_string(i) + "_inputs");
    CHECK(declared == expected);

    // The compiler agrees: a TU that includes the header first and uses its names (and would not
    // compile had a node's name declared `injected_decl` or had an #error survived).
    const sparq_test::temp_dir dir;
    const std::string header = dir / "hostile.h", tu = dir / "use.cpp";
    std::ofstream(header, std::ios::binary) << *h;
    std::ofstream(tu) << "#include \"hostile.h\"\n"
                         "static_assert(" << ns << "::in_features == 4 && " << ns << "::out_features == 4, \"shapes\");\n"
                         "static_assert(sizeof " << ns << "::tables::layers / sizeof " << ns << "::tables::layers[0] == "
                      << names.size() << ", \"one layer per node\");\n"
                         "int injected_decl = 2;  // would be a redefinition had the header declared it\n"
                         "int injected_splice, injected_cr, injected_ls, injected_nul, injected_block;\n";
    const std::string base = std::string(SPARQ_TEST_CXX) + " -std=c++17 -fsyntax-only -Werror -I" + SPARQ_TEST_INCLUDE_DIR + " ";
    CHECK(std::system((base + tu + " 2>" + (dir / "use.log")).c_str()) == 0);
    // a namespace some earlier include made a macro (no list of names knows them all): the
    // header stops the build saying so, rather than compiling `namespace 1`
    const std::string macro_tu = dir / "macro.cpp";
    std::ofstream(macro_tu) << "#define " << ns << " 1\n#include \"hostile.h\"\n";
    CHECK(std::system((base + macro_tu + " 2>" + (dir / "macro.log")).c_str()) != 0);
    std::ifstream log(dir / "macro.log");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    CHECK(text.find(ns + " is a macro here") != std::string::npos);
}
#endif

TEST_CASE("c_identifiers: many names reducing to one are suffixed in order without a quadratic search; GNU macros avoided") {
    io::c_identifiers ids;
    std::string last;
    for (int k = 0; k < 20000; ++k) last = ids.add(k % 2 ? "x" : "x?");  // "x" and "x_" both: "x_2".. interleave
    CHECK(last == "x_19999");
    CHECK(ids.add("x_19999") == "x_19999_2");
    // gcc -std=gnu++17 predefines linux and unix as 1 on Linux
    CHECK(io::c_identifier("linux") == "linux_");
    CHECK(io::c_identifier("unix") == "unix_");
    CHECK(io::c_identifier("i386") == "i386_");
}

}  // namespace test_export_c_escape_suite
