// c_escape: text from a file (node names, a model's or file's name) made safe to write into
// generated C/C++ source (export_c.hpp). A name is data from whoever made the file: raw in a
// `//` comment, a newline ends the comment and the rest compiles into the firmware (a
// declaration, `#include "/etc/hostname"`, `#error`); so is a CR, a backslash at the end of
// the line (it continues the comment onto the next one), U+2028/2029 to some tools, and `*/`
// or `??/` where the text lands elsewhere. Every name therefore goes through one of these:
//   c_identifier      [A-Za-z0-9_], not starting with a digit, no keyword or reserved name
//   c_identifiers     the same for a set of names, collisions suffixed _2, _3, ... in order
//   c_comment_text    printable ASCII only, no backslash, '*' or '?': the rest as %XX
//   c_string_literal  a quoted literal, every other byte as a 3-digit octal escape
#pragma once

#include <cstddef>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace sparq::io {

namespace detail {

// C++17 keywords and alternative tokens, names a generated header must not redefine (std,
// sparq, the header's own), and standard macros a name would expand into (errno, NULL, ...).
inline bool c_name_taken(std::string_view s) {
    static constexpr const char* taken[] = {
        "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char",
        "char16_t", "char32_t", "char8_t", "class", "compl", "concept", "const", "const_cast", "consteval", "constexpr",
        "constinit", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete", "do", "double",
        "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "final", "float", "for", "friend", "goto",
        "if", "import", "inline", "int", "long", "module", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
        "nullptr", "operator", "or", "or_eq", "override", "private", "protected", "public", "register",
        "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast",
        "struct", "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
        "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
        // namespaces and macros a generated header relies on
        "std", "sparq", "posix", "NULL", "EOF", "BUFSIZ", "errno", "stdin", "stdout", "stderr", "assert", "offsetof",
        "main",
        // macros compilers predefine in their GNU modes (gcc -std=gnu++17 on Linux: linux = 1, so
        // `namespace linux` would read `namespace 1`), and ones system headers define
        "linux", "unix", "i386", "sun", "sparc", "mips", "vax", "major", "minor", "makedev"};
    for (const char* t : taken)
        if (s == t) return true;
    return false;
}

inline bool c_ident_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace detail

// `s` as a C++ identifier that cannot be reserved or a keyword: other bytes become '_', runs of
// '_' one (a double underscore is reserved anywhere), leading '_' dropped (`_X` is reserved, and
// `_x` at global scope), a leading digit prefixed with "n_", a keyword or a name the header
// uses suffixed with '_', nothing at all "unnamed". A name that already is one such identifier
// comes back unchanged, so existing headers keep their names.
inline std::string c_identifier(std::string_view s) {
    std::string id;
    id.reserve(s.size());
    for (const char ch : s) {
        const char c = detail::c_ident_char(static_cast<unsigned char>(ch)) ? ch : '_';
        if (c == '_' && (id.empty() || id.back() == '_')) continue;  // no leading '_', no "__"
        id += c;
    }
    if (id.empty()) return "unnamed";
    if (id[0] >= '0' && id[0] <= '9') id.insert(0, "n_");
    if (detail::c_name_taken(id)) id += '_';
    return id;
}

// Distinct identifiers for names that go into one scope: c_identifier of each, and a name that
// reduces to one already given (or to one of `reserved`, e.g. what the scope also declares)
// gets _2, _3, ... (2, 3, ... after a trailing '_'): the first free in that order, so the same
// names always give the same identifiers.
class c_identifiers {
public:
    c_identifiers() = default;
    explicit c_identifiers(std::initializer_list<std::string_view> reserved) {
        for (std::string_view r : reserved) used_.insert(std::string(r));
    }
    std::string add(std::string_view name) {
        const std::string base = c_identifier(name);
        std::string id = base;
        // "x_" + "_2" would make a reserved "x__2"
        const std::string stem = base.back() == '_' ? base : base + "_";
        // the search for a base resumes where it stopped (every suffix below is taken, since
        // used_ only grows): n names reducing to one base cost n steps in all, not n^2 / 2
        if (used_.count(id)) {
            std::size_t& n = next_[base];
            if (n < 2) n = 2;
            for (id = stem + std::to_string(n++); used_.count(id); id = stem + std::to_string(n++)) {
            }
        }
        used_.insert(id);
        return id;
    }

private:
    std::set<std::string> used_;
    std::map<std::string, std::size_t> next_;  // per base: the first suffix not yet tried
};

// `s` for the inside of a comment: printable ASCII (0x20..0x7e) stays, except '\\' (a line
// splice at the end of a line), '*' (`/*`, `*/`), '?' (the trigraph `??/` is a backslash before
// C++17) and '%' (the escape itself); every other byte, a control char, NUL, a byte of UTF-8
// (U+2028 is E2 80 A8) or of no encoding at all, becomes %XX in upper-case hex.
inline std::string c_comment_text(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c <= 0x7e && c != '\\' && c != '*' && c != '?' && c != '%') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// `s` as a C/C++ string literal, quotes included, that denotes exactly its bytes (NULs too):
// printable ASCII stays but '"', '\\' and '?' (trigraphs) get a backslash; every other byte is
// a 3-digit octal escape, which cannot swallow a following digit as a \x escape would.
inline std::string c_string_literal(std::string_view s) {
    std::string out = "\"";
    out.reserve(s.size() + 2);
    for (const char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\' || c == '?') {
            out += '\\';
            out += ch;
        } else if (c >= 0x20 && c <= 0x7e) {
            out += ch;
        } else {
            out += '\\';
            out += char('0' + (c >> 6));
            out += char('0' + ((c >> 3) & 7));
            out += char('0' + (c & 7));
        }
    }
    out += '"';
    return out;
}

}  // namespace sparq::io
