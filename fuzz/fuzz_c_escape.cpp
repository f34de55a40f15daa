// libFuzzer target: io/c_escape.hpp, what export-c writes names through. For any bytes: the
// identifier matches ^[A-Za-z_][A-Za-z0-9_]*$ (no "__", no leading '_', no keyword); a set of
// names (the input split at '|') gives distinct ones; the comment text holds printable ASCII
// only, no backslash, "*/", "/*" or "??"; the string literal decodes back to the input's bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "sparq/io/c_escape.hpp"

namespace {

bool identifier_ok(const std::string& s) {
    if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return s.find("__") == std::string::npos && !sparq::io::detail::c_name_taken(s);
}

bool comment_ok(const std::string& s) {
    for (char ch : s)
        if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e || ch == '\\') return false;
    return s.find("*/") == std::string::npos && s.find("/*") == std::string::npos && s.find("??") == std::string::npos;
}

// The bytes a literal of c_string_literal's form denotes (its escapes only: \" \\ \? \ooo);
// anything else, or a raw byte that is not printable ASCII, aborts.
std::string decode_literal(const std::string& lit) {
    if (lit.size() < 2 || lit.front() != '"' || lit.back() != '"') std::abort();
    std::string out;
    for (std::size_t i = 1; i + 1 < lit.size(); ++i) {
        const char c = lit[i];
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e || c == '"' || c == '?') std::abort();
        if (c != '\\') {
            out += c;
            continue;
        }
        if (i + 2 >= lit.size()) std::abort();
        const char e = lit[++i];
        if (e == '"' || e == '\\' || e == '?') {
            out += e;
        } else if (e >= '0' && e <= '3' && i + 3 < lit.size()) {
            int v = e - '0';
            for (int k = 0; k < 2; ++k) {
                const char d = lit[++i];
                if (d < '0' || d > '7') std::abort();
                v = v * 8 + (d - '0');
            }
            out += char(v);
        } else {
            std::abort();
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::string id = sparq::io::c_identifier(in);
    if (!identifier_ok(id)) std::abort();
    if (sparq::io::c_identifier(id) != id) std::abort();  // an identifier is kept as it is
    if (!comment_ok(sparq::io::c_comment_text(in))) std::abort();
    if (decode_literal(sparq::io::c_string_literal(in)) != in) std::abort();
    sparq::io::c_identifiers ids{"model", "run"};
    std::set<std::string> seen{"model", "run"};
    for (std::size_t at = 0; at <= in.size();) {
        std::size_t bar = in.find('|', at);
        if (bar == std::string_view::npos) bar = in.size();
        const std::string one = ids.add(in.substr(at, bar - at));
        if (!identifier_ok(one) || !seen.insert(one).second) std::abort();
        at = bar + 1;
    }
    return 0;
}
