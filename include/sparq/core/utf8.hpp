// UTF-8 as text from files arrives: names in models and cost models are bytes, and whatever
// writes them where a reader expects text (JSON, a terminal) checks them here first.
#pragma once

#include <cstddef>
#include <string>

namespace sparq {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no
// surrogates, at most U+10FFFF), or 0 when the bytes there are not one.
inline std::size_t utf8_sequence(const std::string& s, std::size_t i) noexcept {
    const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    const auto cont = [&](std::size_t k) { return (b(k) & 0xC0u) == 0x80u; };
    const unsigned c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;  // overlong / surrogates
        return b(1) >= lo && b(1) <= hi && cont(2) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;  // overlong / past U+10FFFF
        return b(1) >= lo && b(1) <= hi && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

// s as a terminal shows it without being steered by it: control characters (C0, DEL and the C1
// range U+0080..U+009F, where escape sequences start), bytes that are not UTF-8 and the
// backslash itself (so a name holding the text "\x1b" reads differently from one holding ESC)
// become \xNN; well-formed text stays. For names from files in messages and listings.
inline std::string printable(const std::string& s) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = utf8_sequence(s, i);
        const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
        if (n == 0 || c < 0x20 || c == 0x7f || c == '\\' || c1) {
            for (std::size_t k = 0; k < (n == 0 ? 1 : n); ++k) {
                const auto byte = static_cast<unsigned char>(s[i + k]);
                out += "\\x", out += hex[byte >> 4], out += hex[byte & 15];
            }
            i += n == 0 ? 1 : n;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

}  // namespace sparq
