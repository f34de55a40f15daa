// .npy files (NumPy's format, versions 1-3): read from bytes or a file, write float32 arrays.
// Little-endian C-order arrays of f4, f8, i8, i4, i2, i1, u1 and b1; big-endian or Fortran-order
// data, object arrays and structured dtypes are refused with the reason. Everything read from
// outside is checked before it is trusted: the magic, the header's length and syntax, the shape
// (no overflow, at most max_bytes of data) and that the file holds exactly that many bytes.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/io/file.hpp"

namespace sparq::io {

enum class npy_type : std::uint8_t { f32, f64, i64, i32, i16, i8, u8, b1 };

constexpr const char* to_string(npy_type t) noexcept {
    switch (t) {
        case npy_type::f32: return "<f4";
        case npy_type::f64: return "<f8";
        case npy_type::i64: return "<i8";
        case npy_type::i32: return "<i4";
        case npy_type::i16: return "<i2";
        case npy_type::i8: return "|i1";
        case npy_type::u8: return "|u1";
        case npy_type::b1: return "|b1";
    }
    return "?";
}

constexpr std::size_t size_of(npy_type t) noexcept {
    switch (t) {
        case npy_type::f64: case npy_type::i64: return 8;
        case npy_type::f32: case npy_type::i32: return 4;
        case npy_type::i16: return 2;
        default: return 1;
    }
}

struct npy_array {
    npy_type type = npy_type::f32;
    std::vector<index_t> shape;
    std::vector<unsigned char> bytes;  // the elements, little-endian, C order

    index_t count() const noexcept {
        index_t n = 1;
        for (index_t e : shape) n *= e;
        return n;
    }
    // A rank-R float tensor; f4 and f8 arrays only (f8 is rounded to f32).
    template <std::size_t R>
    result<tensor<float, R>> to_f32(const char* what) const;
    // Class labels: any integer or bool dtype, rank 1.
    result<std::vector<std::int64_t>> to_labels(const char* what) const;
};

namespace detail {

inline std::string format_shape(const std::vector<index_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// Parsed strictly for those three keys; anything else is an error naming the offset.
struct npy_dict_parser {
    const std::string& h;
    const char* source;
    std::size_t base;  // the header's offset in the file, for messages
    std::size_t at = 0;

    void skip_ws() {
        while (at < h.size() && (h[at] == ' ' || h[at] == '\t' || h[at] == '\n')) ++at;
    }
    status fail(const char* what) const {
        return status(errc::parse_error, "%s: bad .npy header at byte %zu: %s", source, base + at, what);
    }
    bool eat(char c) {
        skip_ws();
        if (at < h.size() && h[at] == c) return ++at, true;
        return false;
    }
    result<std::string> quoted() {
        skip_ws();
        if (at >= h.size() || (h[at] != '\'' && h[at] != '"')) return fail("expected a quoted string");
        const char q = h[at++];
        const std::size_t end = h.find(q, at);
        if (end == std::string::npos || end - at > 64) return fail("unterminated or over-long string");
        std::string s = h.substr(at, end - at);
        at = end + 1;
        return s;
    }
};

inline result<npy_type> npy_type_of(const std::string& d, const char* source) {
    static const npy_type all[] = {npy_type::f32, npy_type::f64, npy_type::i64, npy_type::i32,
                                   npy_type::i16, npy_type::i8,  npy_type::u8,  npy_type::b1};
    for (npy_type t : all) {
        const char* name = to_string(t);
        // one-byte types may say '|', '<' or '='; wider ones '<' or '=' (native little-endian here)
        if (d.size() == 3 && d.compare(1, 2, name + 1) == 0 &&
            (d[0] == name[0] || d[0] == '=' || (size_of(t) == 1 && (d[0] == '<' || d[0] == '|'))))
            return t;
    }
    if (!d.empty() && d[0] == '>')
        return status(errc::unsupported, "%s: big-endian data ('%s') is not supported: save it little-endian", source, d.c_str());
    return status(errc::unsupported, "%s: dtype '%s' is not supported (f4, f8, i8, i4, i2, i1, u1, b1)", source, d.c_str());
}

}  // namespace detail

// Parses a whole .npy file held in memory; `source` names it in messages.
inline result<npy_array> parse_npy(const unsigned char* data, std::size_t size, const char* source,
                                   std::size_t max_bytes = std::size_t(1) << 30) {
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    // The magic as far as the file goes first: a cut-off .npy is "truncated", not "no magic".
    if (size > 0 && std::memcmp(data, magic, size < 6 ? size : 6) != 0)
        return status(errc::parse_error, "%s: not a .npy file (no \\x93NUMPY magic at byte 0)", source);
    if (size < 10) return status(errc::parse_error, "%s: truncated: %zu bytes, a .npy header needs at least 10", source, size);
    const unsigned major = data[6];
    if (major < 1 || major > 3) return status(errc::unsupported, "%s: .npy format version %u.%u is not supported", source, major, data[7]);
    std::size_t header_len = 0, header_at = 10;
    if (major == 1) {
        header_len = std::size_t(data[8]) | std::size_t(data[9]) << 8;
    } else {
        if (size < 12) return status(errc::parse_error, "%s: truncated .npy preamble (%zu bytes)", source, size);
        header_len = std::size_t(data[8]) | std::size_t(data[9]) << 8 | std::size_t(data[10]) << 16 | std::size_t(data[11]) << 24;
        header_at = 12;
    }
    if (header_len > 65536 || header_len > size - header_at)
        return status(errc::parse_error, "%s: .npy header of %zu bytes at byte %zu does not fit the file (%zu bytes)", source,
                      header_len, header_at, size);
    const std::string h(reinterpret_cast<const char*>(data + header_at), header_len);
    detail::npy_dict_parser p{h, source, header_at};
    npy_array a;
    bool have_descr = false, have_order = false, have_shape = false;
    if (!p.eat('{')) return p.fail("expected '{'");
    while (!p.eat('}')) {
        auto key = p.quoted();
        if (!key) return key.error();
        if (!p.eat(':')) return p.fail("expected ':'");
        // A repeated key would silently override (or, for 'shape', extend) the first one.
        if ((*key == "descr" && have_descr) || (*key == "fortran_order" && have_order) || (*key == "shape" && have_shape))
            return p.fail(("duplicate key '" + *key + "'").c_str());
        if (*key == "descr") {
            auto d = p.quoted();
            if (!d) return d.error();
            auto t = detail::npy_type_of(*d, source);
            if (!t) return t.error();
            a.type = *t;
            have_descr = true;
        } else if (*key == "fortran_order") {
            p.skip_ws();
            if (h.compare(p.at, 5, "False") == 0) p.at += 5;
            else if (h.compare(p.at, 4, "True") == 0)
                return status(errc::unsupported, "%s: Fortran-order arrays are not supported: save it in C order", source);
            else return p.fail("fortran_order is neither True nor False");
            have_order = true;
        } else if (*key == "shape") {
            if (!p.eat('(')) return p.fail("expected '(' to open the shape");
            while (!p.eat(')')) {
                p.skip_ws();
                index_t v = 0;
                std::size_t digits = 0;
                while (p.at < h.size() && h[p.at] >= '0' && h[p.at] <= '9' && digits < 18)
                    v = v * 10 + (h[p.at++] - '0'), ++digits;
                if (digits == 0) return p.fail("expected a whole number in the shape");
                if (p.at < h.size() && h[p.at] >= '0' && h[p.at] <= '9') return p.fail("a dimension with more than 18 digits");
                if (a.shape.size() == 8) return p.fail("more than 8 dimensions");
                a.shape.push_back(v);
                if (!p.eat(',')) {
                    if (!p.eat(')')) return p.fail("expected ',' or ')' in the shape");
                    break;
                }
            }
            have_shape = true;
        } else {
            return p.fail("unexpected key");
        }
        if (!p.eat(',')) {
            if (!p.eat('}')) return p.fail("expected ',' or '}'");
            break;
        }
    }
    if (!have_descr || !have_order || !have_shape)
        return status(errc::parse_error, "%s: the .npy header lacks %s", source, !have_descr ? "'descr'" : !have_order ? "'fortran_order'" : "'shape'");
    std::size_t bytes = size_of(a.type);
    for (index_t e : a.shape)
        if (e != 0 && bytes > max_bytes / std::size_t(e))
            return status(errc::out_of_memory, "%s: shape %s of %s is over the limit of %zu bytes", source,
                          detail::format_shape(a.shape).c_str(), to_string(a.type), max_bytes);
        else bytes *= std::size_t(e);
    const std::size_t data_at = header_at + header_len;
    if (size - data_at != bytes)
        return status(errc::parse_error, "%s: shape %s of %s needs %zu bytes of data at byte %zu; the file has %zu", source,
                      detail::format_shape(a.shape).c_str(), to_string(a.type), bytes, data_at, size - data_at);
    a.bytes.assign(data + data_at, data + size);
    return a;
}

inline result<npy_array> read_npy(const char* path, std::size_t max_bytes = std::size_t(1) << 30) {
    auto bytes = read_file(path, max_bytes + 65536 + 12);
    if (!bytes) return bytes.error();
    return parse_npy(bytes->data(), bytes->size(), path, max_bytes);
}

template <std::size_t R>
result<tensor<float, R>> npy_array::to_f32(const char* what) const {
    if (type != npy_type::f32 && type != npy_type::f64)
        return status(errc::dtype_mismatch, "%s: expected float32 data, got %s", what, to_string(type));
    if (shape.size() != R)
        return status(errc::shape_mismatch, "%s: expected %zu dimensions, got shape %s", what, R,
                      detail::format_shape(shape).c_str());
    extents_t<R> e{};
    for (std::size_t i = 0; i < R; ++i) e[i] = shape[i];
    auto t = tensor<float, R>::make(e);
    if (!t) return t.error();
    const index_t n = count();
    for (index_t i = 0; i < n; ++i) {
        if (type == npy_type::f32) std::memcpy(t->data() + i, bytes.data() + std::size_t(i) * 4, 4);
        else {
            double d;
            std::memcpy(&d, bytes.data() + std::size_t(i) * 8, 8);
            t->data()[i] = static_cast<float>(d);
        }
    }
    return t;
}

inline result<std::vector<std::int64_t>> npy_array::to_labels(const char* what) const {
    if (type == npy_type::f32 || type == npy_type::f64)
        return status(errc::dtype_mismatch, "%s: labels must be integers, got %s", what, to_string(type));
    if (shape.size() != 1)
        return status(errc::shape_mismatch, "%s: labels must be one-dimensional, got shape %s", what,
                      detail::format_shape(shape).c_str());
    std::vector<std::int64_t> out(static_cast<std::size_t>(shape[0]));
    const std::size_t w = size_of(type);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const unsigned char* p = bytes.data() + i * w;
        switch (type) {
            case npy_type::i64: std::memcpy(&out[i], p, 8); break;
            case npy_type::i32: { std::int32_t v; std::memcpy(&v, p, 4); out[i] = v; break; }
            case npy_type::i16: { std::int16_t v; std::memcpy(&v, p, 2); out[i] = v; break; }
            case npy_type::i8: out[i] = static_cast<std::int8_t>(*p); break;
            default: out[i] = *p; break;
        }
    }
    return out;
}

// Writes a float32 array as a version 1.0 .npy file.
inline status write_npy(const char* path, const float* data, const std::vector<index_t>& shape) {
    std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': " + detail::format_shape(shape) + ", }";
    const std::size_t unpadded = 10 + h.size() + 1;
    h.append((64 - unpadded % 64) % 64, ' ');
    h += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += char(h.size() & 0xff);
    out += char(h.size() >> 8);
    out += h;
    index_t n = 1;
    for (index_t e : shape) n *= e;
    out.append(reinterpret_cast<const char*>(data), std::size_t(n) * 4);
    return write_file(path, out);
}

}  // namespace sparq::io
