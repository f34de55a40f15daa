// safetensors files (Hugging Face's format): an 8-byte little-endian header length, a JSON
// header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then
// the tensors' bytes. Read from bytes or a file, and written for float32 tensors.
// Checked before trusted: the header length against the file, the JSON's syntax and nesting,
// each tensor's dtype, shape (no overflow) and offsets (inside the data, exactly the shape's
// bytes, no two tensors overlapping), unique names.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "sparq/core/bfloat16.hpp"
#include "sparq/core/float16.hpp"
#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/io/file.hpp"
#include "sparq/io/npy.hpp"

namespace sparq::io {

struct safetensors_entry {
    std::string name, dtype;
    std::vector<index_t> shape;
    std::size_t begin = 0, end = 0;  // byte offsets into the data section
};

class safetensors_file {
public:
    const std::vector<safetensors_entry>& entries() const noexcept { return entries_; }
    const safetensors_entry* find(const std::string& name) const noexcept {
        for (const auto& e : entries_)
            if (e.name == name) return &e;
        return nullptr;
    }
    // A __metadata__ value, or null.
    const std::string* metadata(const std::string& key) const noexcept {
        for (const auto& kv : metadata_)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
    const std::string& source() const noexcept { return source_; }
    // The named tensor as float32 (F32, F16 or BF16 data), checked to have rank R.
    template <std::size_t R>
    result<tensor<float, R>> f32(const std::string& name) const;

    static result<safetensors_file> parse(const unsigned char* data, std::size_t size, const char* source);
    static result<safetensors_file> read(const char* path, std::size_t max_bytes = std::size_t(1) << 31) {
        auto bytes = read_file(path, max_bytes);
        if (!bytes) return bytes.error();
        return parse(bytes->data(), bytes->size(), path);
    }

private:
    std::string source_;
    std::vector<safetensors_entry> entries_;
    std::vector<std::pair<std::string, std::string>> metadata_;
    std::vector<unsigned char> data_;
};

namespace detail {

inline std::size_t safetensors_dtype_size(const std::string& d) noexcept {
    if (d == "F64" || d == "I64" || d == "U64") return 8;
    if (d == "F32" || d == "I32" || d == "U32") return 4;
    if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
    if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
    return 0;
}

// A strict little JSON reader for the safetensors header: objects, arrays, strings (escapes
// kept as written except \" and \\), non-negative integers; depth at most 3.
struct json_reader {
    const std::string& s;
    const char* source;
    std::size_t at = 0;

    status fail(const char* what) const {
        return status(errc::parse_error, "%s: bad safetensors header at byte %zu: %s", source, 8 + at, what);
    }
    void ws() {
        while (at < s.size() && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r')) ++at;
    }
    bool eat(char c) {
        ws();
        if (at < s.size() && s[at] == c) return ++at, true;
        return false;
    }
    result<std::string> string() {
        if (!eat('"')) return fail("expected a string");
        std::string out;
        while (at < s.size() && s[at] != '"') {
            if (s[at] == '\\') {
                if (++at >= s.size()) break;
                if (s[at] != '"' && s[at] != '\\') out += '\\';
            } else if (static_cast<unsigned char>(s[at]) < 0x20) {
                return fail("a control character in a string");
            }
            out += s[at++];
            if (out.size() > 4096) return fail("a string over 4096 bytes");
        }
        if (at >= s.size()) return fail("unterminated string");
        ++at;
        return out;
    }
    result<std::uint64_t> integer() {
        ws();
        std::uint64_t v = 0;
        std::size_t digits = 0;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
            if (++digits > 18) return fail("an integer over 18 digits");
            v = v * 10 + std::uint64_t(s[at++] - '0');
        }
        if (!digits) return fail("expected a non-negative integer");
        return v;
    }
    result<std::vector<std::uint64_t>> integers() {
        if (!eat('[')) return fail("expected '['");
        std::vector<std::uint64_t> out;
        if (eat(']')) return out;
        do {
            auto v = integer();
            if (!v) return v.error();
            if (out.size() == 8) return fail("more than 8 numbers in a list");
            out.push_back(*v);
        } while (eat(','));
        if (!eat(']')) return fail("expected ',' or ']'");
        return out;
    }
    // One string-valued object (__metadata__).
    status string_map(std::vector<std::pair<std::string, std::string>>& out) {
        if (!eat('{')) return fail("expected '{'");
        if (eat('}')) return status::success();
        do {
            auto k = string();
            if (!k) return k.error();
            if (!eat(':')) return fail("expected ':'");
            auto v = string();
            if (!v) return v.error();
            if (out.size() == 1000) return fail("over 1000 metadata entries");
            out.emplace_back(std::move(*k), std::move(*v));
        } while (eat(','));
        if (!eat('}')) return fail("expected ',' or '}'");
        return status::success();
    }
};

}  // namespace detail

inline result<safetensors_file> safetensors_file::parse(const unsigned char* data, std::size_t size, const char* source) {
    if (size < 8) return status(errc::parse_error, "%s: %zu bytes: too short for a safetensors file", source, size);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | data[i];
    if (n > 100000000 || n > size - 8)
        return status(errc::parse_error, "%s: header length %llu at byte 0 does not fit the file (%zu bytes)", source,
                      (unsigned long long)n, size);
    const std::string header(reinterpret_cast<const char*>(data + 8), std::size_t(n));
    detail::json_reader j{header, source};
    safetensors_file f;
    f.source_ = source;
    const std::size_t data_at = 8 + std::size_t(n), data_size = size - data_at;
    if (!j.eat('{')) return j.fail("expected '{'");
    if (!j.eat('}')) {
        do {
            auto name = j.string();
            if (!name) return name.error();
            if (!j.eat(':')) return j.fail("expected ':'");
            if (*name == "__metadata__") {
                if (!f.metadata_.empty()) return j.fail("__metadata__ appears twice");
                SPARQ_TRY(j.string_map(f.metadata_));
                continue;
            }
            if (f.find(*name)) return status(errc::parse_error, "%s: tensor '%.80s' appears twice", source, name->c_str());
            safetensors_entry e;
            e.name = *name;
            bool have_dtype = false, have_shape = false, have_offsets = false;
            if (!j.eat('{')) return j.fail("expected '{' for a tensor");
            do {
                auto key = j.string();
                if (!key) return key.error();
                if (!j.eat(':')) return j.fail("expected ':'");
                if (*key == "dtype") {
                    auto d = j.string();
                    if (!d) return d.error();
                    e.dtype = *d;
                    have_dtype = true;
                } else if (*key == "shape" || *key == "data_offsets") {
                    auto v = j.integers();
                    if (!v) return v.error();
                    if (*key == "shape") {
                        for (std::uint64_t x : *v) e.shape.push_back(index_t(x));
                        have_shape = true;
                    } else {
                        if (v->size() != 2) return j.fail("data_offsets needs two numbers");
                        e.begin = std::size_t((*v)[0]), e.end = std::size_t((*v)[1]);
                        have_offsets = true;
                    }
                } else {
                    return j.fail("unexpected key in a tensor");
                }
            } while (j.eat(','));
            if (!j.eat('}')) return j.fail("expected ',' or '}'");
            if (!have_dtype || !have_shape || !have_offsets)
                return status(errc::parse_error, "%s: tensor '%.80s' lacks dtype, shape or data_offsets", source, e.name.c_str());
            const std::size_t width = detail::safetensors_dtype_size(e.dtype);
            if (!width) return status(errc::unsupported, "%s: tensor '%.80s' has unknown dtype '%.20s'", source, e.name.c_str(), e.dtype.c_str());
            std::size_t bytes = width;
            for (index_t x : e.shape) {
                if (x != 0 && bytes > data_size / std::size_t(x))
                    return status(errc::parse_error, "%s: tensor '%.80s' of shape %s is larger than the file", source, e.name.c_str(),
                                  detail::format_shape(e.shape).c_str());
                bytes *= std::size_t(x);
            }
            if (e.begin > e.end || e.end > data_size || e.end - e.begin != bytes)
                return status(errc::parse_error, "%s: tensor '%.80s' (%s, shape %s: %zu bytes) has data_offsets [%zu, %zu] in %zu bytes of data",
                              source, e.name.c_str(), e.dtype.c_str(), detail::format_shape(e.shape).c_str(), bytes, e.begin, e.end, data_size);
            f.entries_.push_back(std::move(e));
            if (f.entries_.size() > 100000) return j.fail("over 100000 tensors");
        } while (j.eat(','));
        if (!j.eat('}')) return j.fail("expected ',' or '}'");
    }
    j.ws();
    if (j.at != header.size()) return j.fail("text after the header's object");
    // No two tensors share bytes.
    std::vector<const safetensors_entry*> order;
    for (const auto& e : f.entries_) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](auto a, auto b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < order.size(); ++i)
        if (order[i]->begin < order[i - 1]->end)
            return status(errc::parse_error, "%s: tensors '%.80s' and '%.80s' overlap", source, order[i - 1]->name.c_str(),
                          order[i]->name.c_str());
    f.data_.assign(data + data_at, data + size);
    return f;
}

template <std::size_t R>
result<tensor<float, R>> safetensors_file::f32(const std::string& name) const {
    const safetensors_entry* e = find(name);
    if (!e) return status(errc::invalid_argument, "%s: no tensor named '%.80s'", source_.c_str(), name.c_str());
    if (e->shape.size() != R)
        return status(errc::shape_mismatch, "%s: tensor '%.80s' has shape %s, expected %zu dimensions", source_.c_str(),
                      name.c_str(), detail::format_shape(e->shape).c_str(), R);
    extents_t<R> ext{};
    for (std::size_t i = 0; i < R; ++i) ext[i] = e->shape[i];
    auto t = tensor<float, R>::make(ext);
    if (!t) return t.error();
    const unsigned char* p = data_.data() + e->begin;
    const index_t n = t->size();
    if (e->dtype == "F32") {
        if (n) std::memcpy(t->data(), p, std::size_t(n) * 4);
    } else if (e->dtype == "F16" || e->dtype == "BF16") {
        for (index_t i = 0; i < n; ++i) {
            std::uint16_t bits;
            std::memcpy(&bits, p + 2 * i, 2);
            t->data()[i] = e->dtype == "F16" ? float(float16::from_bits(bits)) : float(bfloat16::from_bits(bits));
        }
    } else {
        return status(errc::dtype_mismatch, "%s: tensor '%.80s' is %s; float tensors (F32, F16, BF16) expected", source_.c_str(),
                      name.c_str(), e->dtype.c_str());
    }
    return t;
}

struct named_f32 {
    std::string name;
    std::vector<index_t> shape;
    const float* data;
};

// Writes float32 tensors, and string metadata, as a safetensors file.
inline status write_safetensors(const char* path, const std::vector<named_f32>& tensors,
                                const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    auto plain = [](const std::string& t) { return !t.empty() && t.find_first_of("\"\\") == std::string::npos && t.size() < 4096; };
    std::string header = "{", body;
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        for (std::size_t i = 0; i < metadata.size(); ++i) {
            if (!plain(metadata[i].first) || !plain(metadata[i].second))
                return status(errc::invalid_argument, "%s: metadata '%.80s' is empty, too long or holds a quote or backslash", path,
                              metadata[i].first.c_str());
            header += (i ? ",\"" : "\"") + metadata[i].first + "\":\"" + metadata[i].second + "\"";
        }
        header += "}";
    }
    for (const named_f32& t : tensors) {
        if (!plain(t.name))
            return status(errc::invalid_argument, "%s: tensor name '%.80s' is empty or holds a quote or backslash", path, t.name.c_str());
        index_t n = 1;
        for (index_t e : t.shape) n *= e;
        std::string shape;
        for (std::size_t i = 0; i < t.shape.size(); ++i) shape += (i ? "," : "") + std::to_string(t.shape[i]);
        header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"F32\",\"shape\":[" + shape +
                  "],\"data_offsets\":[" + std::to_string(body.size()) + "," + std::to_string(body.size() + std::size_t(n) * 4) + "]}";
        body.append(reinterpret_cast<const char*>(t.data), std::size_t(n) * 4);
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[std::size_t(i)] = char((std::uint64_t(header.size()) >> (8 * i)) & 0xff);
    return write_file(path, out + header + body);
}

}  // namespace sparq::io
