// sparq's own compressed model file (.sparq): a compiled model (nn::compiled_parts) as it runs:
// weights in their stored precision (fp32, fp16, bf16 or int8 codes with per-channel scales),
// every value's int8 parameters, the graph. Loading needs no calibration or quantization and
// gives a model that runs bit for bit as the one saved. docs/formats.md has the layout, byte by
// byte: a 32-byte header (magic, version, payload size, CRC-32 of the payload and of the
// header), then sections (MODL, VALS, one NODE per node, OUTS when the model returns other
// values than its last), every number little-endian,
// written and read one byte at a time (no struct is ever copied to or from the file).
// Checked before trusted: the header CRC, then the version, the payload size against the file,
// the payload CRC, then every count and length against the bytes left in its section before
// anything is allocated; the parts are then checked as a model (nn::compiled_model::from_parts).
// Errors name the file, the byte offset and what is wrong.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/io/file.hpp"
#include "sparq/nn/compiled_model.hpp"

namespace sparq::io {

inline constexpr std::uint16_t sparq_format_major = 1;
// 1.1: op parameters and constants at the end of each NODE, the OUTS section, the ops of ONNX
// import (nn::op up to nn::last_op). A 1.0 reader reads a 1.1 file of 1.0 ops and refuses one
// with OUTS (an unknown uppercase section) rather than return the wrong value.
// 1.2: an int8 add on codes may carry a folded ReLU / ReLU6 (its activation byte); a 1.1 reader
// refuses such a node (an activation on an add) rather than drop the clamp.
inline constexpr std::uint16_t sparq_format_minor = 2;
inline constexpr std::size_t sparq_header_bytes = 32;
inline constexpr unsigned char sparq_magic[8] = {'s', 'p', 'a', 'r', 'q', 0x00, 0x0D, 0x0A};

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320: zlib's crc32), continued from `crc`.
inline std::uint32_t crc32(const unsigned char* data, std::size_t size, std::uint32_t crc = 0) noexcept {
    struct table_t {
        std::uint32_t t[256];
        constexpr table_t() : t() {
            for (std::uint32_t i = 0; i < 256; ++i) {
                std::uint32_t c = i;
                for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                t[i] = c;
            }
        }
    };
    static constexpr table_t table;
    crc = ~crc;
    for (std::size_t i = 0; i < size; ++i) crc = table.t[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

namespace detail {

// Little-endian output, one byte at a time.
struct le_writer {
    std::string out;
    void u8(std::uint32_t v) { out.push_back(char(std::uint8_t(v))); }
    void u16(std::uint32_t v) { u8(v), u8(v >> 8); }
    void u32(std::uint32_t v) { u16(v & 0xFFFFu), u16(v >> 16); }
    void u64(std::uint64_t v) { u32(std::uint32_t(v)), u32(std::uint32_t(v >> 32)); }
    void i32(std::int32_t v) { u32(std::uint32_t(v)); }
    void f32(float v) {
        std::uint32_t b;
        std::memcpy(&b, &v, 4);
        u32(b);
    }
    void bytes(const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }
    void patch_u64(std::size_t at, std::uint64_t v) {
        for (int i = 0; i < 8; ++i) out[at + std::size_t(i)] = char(std::uint8_t(v >> (8 * i)));
    }
};

// Little-endian input over [at, end) of a buffer; every read checked. On the first failure it
// records the offset and what was being read, and every later read returns 0.
struct le_reader {
    const unsigned char* data;
    std::size_t at, end;
    const char* source;
    status error = status::success();

    bool fail(errc code, const char* what) {
        if (error.ok()) error = status(code, "%s: offset %zu: %s", source, at, what);
        at = end;
        return false;
    }
    bool has(std::size_t n, const char* what) { return error.ok() && (n <= end - at || fail(errc::parse_error, what)); }
    std::size_t left() const noexcept { return end - at; }
    std::uint32_t u8(const char* what) { return has(1, what) ? data[at++] : 0u; }
    std::uint32_t u16(const char* what) {
        if (!has(2, what)) return 0;
        const std::uint32_t v = std::uint32_t(data[at]) | std::uint32_t(data[at + 1]) << 8;
        at += 2;
        return v;
    }
    std::uint32_t u32(const char* what) {
        if (!has(4, what)) return 0;
        std::uint32_t v = 0;
        for (int i = 3; i >= 0; --i) v = v << 8 | data[at + std::size_t(i)];
        at += 4;
        return v;
    }
    std::uint64_t u64(const char* what) {
        const std::uint64_t lo = u32(what);
        return lo | std::uint64_t(u32(what)) << 32;
    }
    std::int32_t i32(const char* what) { return std::int32_t(u32(what)); }
    float f32(const char* what) {
        const std::uint32_t b = u32(what);
        float v;
        std::memcpy(&v, &b, 4);
        return v;
    }
    // A count of items of `item_bytes` each that must fit in what is left (checked before any
    // allocation of that many); also at most `limit`.
    std::size_t count(const char* what, std::size_t item_bytes, std::size_t limit = std::size_t(-1)) {
        const std::size_t n = u32(what);
        if (!error.ok()) return 0;
        if (n > limit || (item_bytes && n > left() / item_bytes)) {
            char msg[120];
            std::snprintf(msg, sizeof msg, "%s: %zu items of %zu bytes do not fit the %zu bytes left", what, n, item_bytes, left());
            fail(errc::parse_error, msg);
            return 0;
        }
        return n;
    }
    // A dimension or parameter: at most nn::max_dimension.
    index_t dim(const char* what) {
        const std::uint32_t v = u32(what);
        if (error.ok() && index_t(v) > nn::max_dimension) {
            char msg[120];
            std::snprintf(msg, sizeof msg, "%s is %u (at most %td)", what, v, nn::max_dimension);
            fail(errc::parse_error, msg);
            return 0;
        }
        return index_t(v);
    }
};

// The format's codes for sparq's enums (kept apart from the C++ values on purpose).
inline std::uint32_t dtype_code(dtype t) noexcept { return t == dtype::s8 ? 1 : t == dtype::u8 ? 2 : t == dtype::s4 ? 3 : 0; }
inline bool dtype_of_code(std::uint32_t c, dtype& t) noexcept {
    if (c < 1 || c > 3) return false;
    t = c == 1 ? dtype::s8 : c == 2 ? dtype::u8 : dtype::s4;
    return true;
}
enum : std::uint32_t { weight_f32 = 0, weight_f16 = 1, weight_bf16 = 2, weight_s8 = 3, weight_s4 = 4 };

inline void write_qparams(le_writer& w, const quant::qparams& q) {
    w.u8(dtype_code(q.type)), w.u8(std::uint32_t(q.gran)), w.u8(std::uint32_t(q.round)), w.u8(std::uint32_t(q.scale_by));
    w.i32(q.axis), w.u32(std::uint32_t(q.group_size)), w.i32(q.qmin), w.i32(q.qmax);
    w.u32(std::uint32_t(q.scale.size()));
    for (float s : q.scale) w.f32(s);
    for (std::int32_t z : q.zero_point) w.i32(z);
}

inline bool read_qparams(le_reader& r, quant::qparams& q) {
    const std::uint32_t type = r.u8("qparams dtype"), gran = r.u8("qparams granularity"), round = r.u8("qparams rounding"),
                        by = r.u8("qparams scaling");
    if (r.error.ok() && (!dtype_of_code(type, q.type) || gran > 2 || round > 1 || by > 1))
        return r.fail(errc::parse_error, "qparams: unknown dtype, granularity, rounding or scaling code");
    q.gran = quant::granularity(gran), q.round = quant::rounding(round), q.scale_by = quant::scaling(by);
    q.axis = r.i32("qparams axis");
    q.group_size = index_t(r.u32("qparams group size"));
    q.qmin = r.i32("qparams qmin"), q.qmax = r.i32("qparams qmax");
    const std::size_t n = r.count("qparams scales", 8);
    q.scale.resize(n), q.zero_point.resize(n);
    for (float& s : q.scale) s = r.f32("qparams scale");
    for (std::int32_t& z : q.zero_point) z = r.i32("qparams zero point");
    return r.error.ok();
}

// Node op parameters (1.1): a u16 mask of the fields that differ from op_params' defaults, then
// those fields in this order (each bit one field).
inline constexpr std::uint32_t param_alpha = 1, param_beta = 2, param_axis = 4, param_axes = 8, param_constant_first = 16, param_shape = 32,
                               param_pads = 64, param_dims = 128, param_perm = 256, param_all = 511;

inline void write_params(le_writer& w, const nn::op_params& p) {
    const nn::op_params d;
    const auto same_f = [](float a, float b) { return std::memcmp(&a, &b, 4) == 0; };  // bits: -0 and NaN payloads kept
    const std::uint32_t mask = (same_f(p.alpha, d.alpha) ? 0 : param_alpha) | (same_f(p.beta, d.beta) ? 0 : param_beta) |
                               (p.axis == d.axis ? 0 : param_axis) | (p.axes == d.axes ? 0 : param_axes) |
                               (p.constant_first == d.constant_first ? 0 : param_constant_first) | (p.shape == d.shape ? 0 : param_shape) |
                               (p.pads == d.pads ? 0 : param_pads) | (p.dims == d.dims ? 0 : param_dims) | (p.perm == d.perm ? 0 : param_perm);
    w.u16(mask);
    if (mask & param_alpha) w.f32(p.alpha);
    if (mask & param_beta) w.f32(p.beta);
    if (mask & param_axis) w.i32(p.axis);
    if (mask & param_axes) w.u32(p.axes);
    if (mask & param_constant_first) w.u8(p.constant_first ? 1 : 0);
    if (mask & param_shape) for (index_t e : p.shape) w.u32(std::uint32_t(e));
    if (mask & param_pads) for (index_t e : p.pads) w.i32(std::int32_t(e));  // negative: a crop
    if (mask & param_dims) for (index_t e : p.dims) w.u32(std::uint32_t(e));
    if (mask & param_perm) for (index_t e : p.perm) w.u32(std::uint32_t(e));
}

inline void read_params(le_reader& r, nn::op_params& p) {
    const std::uint32_t mask = r.u16("op parameter mask");
    if (r.error.ok() && (mask & ~std::uint32_t(param_all)) != 0) r.fail(errc::parse_error, "unknown op parameter bits");
    if (mask & param_alpha) p.alpha = r.f32("alpha");
    if (mask & param_beta) p.beta = r.f32("beta");
    if (mask & param_axis) p.axis = r.i32("axis");
    if (mask & param_axes) p.axes = r.u32("axes");
    if (mask & param_constant_first) {
        const std::uint32_t b = r.u8("constant_first");
        if (r.error.ok() && b > 1) r.fail(errc::parse_error, "constant_first is not 0 or 1");
        p.constant_first = b == 1;
    }
    // extents, pads and permutation entries: at most nn::max_dimension each (the model check
    // says what else they must be)
    if (mask & param_shape) for (index_t& e : p.shape) e = r.dim("reshape / constant extent");
    if (mask & param_pads)
        for (index_t& e : p.pads) {
            e = r.i32("padding");  // signed (a crop); the model check bounds it
            if (r.error.ok() && (e > nn::max_dimension || e < -nn::max_dimension)) r.fail(errc::parse_error, "padding out of range");
        }
    if (mask & param_dims) for (index_t& e : p.dims) e = r.dim("transpose extent");
    if (mask & param_perm) for (index_t& e : p.perm) e = r.dim("transpose permutation");
    // canonical: a field is stored only when it differs from its default (write_params)
    if (r.error.ok()) {
        le_writer again;
        write_params(again, p);
        if ((std::uint32_t(std::uint8_t(again.out[0])) | std::uint32_t(std::uint8_t(again.out[1])) << 8) != mask)
            r.fail(errc::parse_error, "an op parameter is stored with its default value (not canonical)");
    }
}

inline void section(le_writer& w, const char tag[4], std::size_t& length_at) {
    w.bytes(tag, 4);
    length_at = w.out.size();
    w.u64(0);
}

}  // namespace detail

// The file's bytes for a compiled model's parts.
inline std::string encode_sparq(const nn::compiled_parts& p) {
    detail::le_writer w;
    w.bytes(sparq_magic, 8);
    w.u16(sparq_format_major), w.u16(sparq_format_minor), w.u32(0);
    w.u64(0), w.u32(0), w.u32(0);  // payload size and CRCs, patched below
    std::size_t len_at = 0, begin = 0;
    auto open = [&](const char tag[4]) { detail::section(w, tag, len_at), begin = w.out.size(); };
    auto close = [&] { w.patch_u64(len_at, w.out.size() - begin); };

    open("MODL");
    w.u8(std::uint32_t(p.prec)), w.u8(0), w.u16(0);
    w.u32(std::uint32_t(p.shapes.size())), w.u32(std::uint32_t(p.steps.size()));
    close();

    open("VALS");
    for (std::size_t v = 0; v < p.shapes.size(); ++v) {
        for (index_t e : p.shapes[v]) w.u32(std::uint32_t(e));
        const bool has_q = v < p.q.size();
        w.u8((v < p.s8.size() && p.s8[v] ? 1u : 0u) | (has_q ? 2u : 0u));
        if (has_q) detail::write_qparams(w, p.q[v]);
    }
    close();

    for (const nn::compiled_step_parts& s : p.steps) {
        open("NODE");
        w.u8(std::uint32_t(s.kind)), w.u8(std::uint32_t(s.act));
        w.u16(std::uint32_t(s.name.size()));
        w.bytes(s.name.data(), s.name.size());
        w.u32(std::uint32_t(s.inputs.size()));
        for (int in : s.inputs) w.u32(std::uint32_t(in));
        if (s.kind == nn::op::conv2d) {
            const kernels::conv2d_params& c = s.conv;
            for (index_t e : {c.stride_h, c.stride_w, c.pad_top, c.pad_left, c.pad_bottom, c.pad_right, c.dilation_h, c.dilation_w, c.groups})
                w.u32(std::uint32_t(e));
        }
        if (s.kind == nn::op::max_pool || s.kind == nn::op::avg_pool) {
            const nn::pool_params& q = s.pool;
            for (index_t e : {q.kh, q.kw, q.stride_h, q.stride_w, q.pad_top, q.pad_left, q.pad_bottom, q.pad_right}) w.u32(std::uint32_t(e));
            w.u8(q.count_include_pad ? 1 : 0);
        }
        if (s.kind == nn::op::linear || s.kind == nn::op::conv2d) {
            const std::uint32_t code = !s.weight_s8.empty() ? detail::weight_s8 : !s.weight_s4.empty() ? detail::weight_s4
                                     : !s.weight_f16.empty() ? detail::weight_f16 : !s.weight_bf16.empty() ? detail::weight_bf16
                                                                                   : detail::weight_f32;
            w.u8(code), w.u8(0), w.u16(0);
            for (index_t e : s.weight_shape) w.u32(std::uint32_t(e));
            if (code == detail::weight_f32) for (float v : s.weight_f32) w.f32(v);
            if (code == detail::weight_f16) for (float16 v : s.weight_f16) w.u16(v.bits);
            if (code == detail::weight_bf16) for (bfloat16 v : s.weight_bf16) w.u16(v.bits);
            if (code == detail::weight_s4) w.bytes(s.weight_s4.data(), s.weight_s4.size());
            if (code == detail::weight_s8 || code == detail::weight_s4) {
                for (std::int8_t v : s.weight_s8) w.u8(std::uint8_t(v));
                w.u32(std::uint32_t(s.weight_scale.size()));
                for (float v : s.weight_scale) w.f32(v);
            }
            w.u32(std::uint32_t(s.bias.size()));
            for (float v : s.bias) w.f32(v);
        }
        detail::write_params(w, s.params);  // 1.1
        w.u32(std::uint32_t(s.constant.size()));
        for (float v : s.constant) w.f32(v);
        close();
    }

    if (!p.outputs.empty()) {  // 1.1; uppercase: a reader that does not know it must stop
        open("OUTS");
        w.u32(std::uint32_t(p.outputs.size()));
        for (int v : p.outputs) w.u32(std::uint32_t(v));
        close();
    }

    const auto* bytes = reinterpret_cast<const unsigned char*>(w.out.data());
    const std::size_t payload = w.out.size() - sparq_header_bytes;
    w.patch_u64(16, payload);
    const std::uint32_t crc = crc32(bytes + sparq_header_bytes, payload);
    for (int i = 0; i < 4; ++i) w.out[24 + std::size_t(i)] = char(std::uint8_t(crc >> (8 * i)));
    const std::uint32_t hcrc = crc32(bytes, 28);
    for (int i = 0; i < 4; ++i) w.out[28 + std::size_t(i)] = char(std::uint8_t(hcrc >> (8 * i)));
    return std::move(w.out);
}

// A compiled model's parts from a file's bytes; `source` names it in messages.
inline result<nn::compiled_parts> decode_sparq(const unsigned char* data, std::size_t size, const char* source) {
    detail::le_reader h{data, 0, size, source};
    if (size < sparq_header_bytes || std::memcmp(data, sparq_magic, 8) != 0) {
        if (size >= 5 && std::memcmp(data, sparq_magic, 5) == 0 && size < sparq_header_bytes)
            return status(errc::parse_error, "%s: truncated: %zu bytes, the header alone is %zu", source, size, sparq_header_bytes);
        return status(errc::parse_error, "%s: not a .sparq file (no 'sparq' magic at offset 0)", source);
    }
    h.at = 8;
    const std::uint32_t major = h.u16("version"), minor = h.u16("version"), flags = h.u32("flags");
    const std::uint64_t payload = h.u64("payload size");
    const std::uint32_t crc = h.u32("payload CRC"), hcrc = h.u32("header CRC");
    if (crc32(data, 28) != hcrc) return status(errc::parse_error, "%s: offset 28: header checksum mismatch (the header is corrupted)", source);
    if (major != sparq_format_major)
        return status(errc::unsupported, "%s: format version %u.%u; this sparq reads version %u.x", source, major, minor, unsigned(sparq_format_major));
    if (flags != 0) return status(errc::unsupported, "%s: offset 12: unknown flags 0x%x", source, flags);
    if (payload != size - sparq_header_bytes)
        return status(errc::parse_error, "%s: offset 16: the header says %llu payload bytes, the file has %zu (truncated or extended)", source,
                      static_cast<unsigned long long>(payload), size - sparq_header_bytes);
    if (crc32(data + sparq_header_bytes, size - sparq_header_bytes) != crc)
        return status(errc::parse_error, "%s: payload checksum mismatch (the file is corrupted)", source);

    // The sections, in order: MODL, VALS, then one NODE per node, then OUTS if any (1.1). An unknown section whose tag
    // starts with a lowercase letter is skipped (later minor versions may add such); any other
    // unknown tag is an error.
    detail::le_reader r{data, sparq_header_bytes, size, source};
    nn::compiled_parts p;
    std::size_t values = 0, nodes = 0, seen = 0;
    bool outs = false;
    while (r.left() > 0 && r.error.ok()) {
        char tag[5] = {};
        if (!r.has(12, "section header")) break;
        for (int i = 0; i < 4; ++i) {
            const unsigned char c = data[r.at + std::size_t(i)];
            tag[i] = c >= 0x20 && c < 0x7F ? char(c) : '?';  // printable in messages
        }
        r.at += 4;
        const std::uint64_t len = r.u64("section length");
        if (len > r.left()) {
            char msg[100];
            std::snprintf(msg, sizeof msg, "section '%.4s' of %llu bytes, %zu left in the file", tag, static_cast<unsigned long long>(len), r.left());
            r.fail(errc::parse_error, msg);
            break;
        }
        detail::le_reader s{data, r.at, r.at + std::size_t(len), source};
        r.at += std::size_t(len);
        const std::string t(tag);
        if (t == "MODL" && seen == 0) {
            const std::uint32_t prec = s.u8("precision");
            if ((s.u8("reserved") | s.u16("reserved")) != 0) s.fail(errc::parse_error, "reserved bytes are not zero");
            if (s.error.ok() && prec > std::uint32_t(nn::precision::int4)) s.fail(errc::parse_error, "unknown precision code");
            p.prec = nn::precision(prec);
            values = s.u32("value count"), nodes = s.u32("node count");
            // each value takes at least 13 bytes, each node 24: counts beyond the file are absurd
            if (s.error.ok() && (values > size / 13 || nodes > size / 24 || values != nodes + 1))
                s.fail(errc::parse_error, "value and node counts do not fit the file (values = nodes + 1)");
            ++seen;
        } else if (t == "VALS" && seen == 1) {
            p.shapes.resize(values), p.s8.resize(values);
            for (std::size_t v = 0; v < values && s.error.ok(); ++v) {
                for (index_t& e : p.shapes[v]) e = s.dim("value extent");
                const std::uint32_t f = s.u8("value flags");
                if (s.error.ok() && f > 3) s.fail(errc::parse_error, "unknown value flags");
                p.s8[v] = std::uint8_t(f & 1u);
                if (f & 2u) {
                    if (p.q.size() != v) s.fail(errc::parse_error, "values with and without qparams are mixed");
                    p.q.emplace_back();
                    detail::read_qparams(s, p.q.back());
                }
            }
            ++seen;
        } else if (t == "NODE" && seen >= 2 && seen < 2 + nodes) {
            nn::compiled_step_parts d;
            const std::uint32_t kind = s.u8("op"), act = s.u8("activation");
            if (s.error.ok() && (kind > std::uint32_t(nn::last_op) || act > std::uint32_t(kernels::activation::hard_swish)))
                s.fail(errc::parse_error, "unknown op or activation code");
            d.kind = nn::op(kind), d.act = kernels::activation(act);
            const std::size_t name_len = s.u16("name length");
            if (s.has(name_len, "node name")) d.name.assign(reinterpret_cast<const char*>(data + s.at), name_len), s.at += name_len;
            d.inputs.resize(s.count("input count", 4));
            for (int& in : d.inputs) {
                in = int(s.u32("input"));
                if (s.error.ok() && in < 0) s.fail(errc::parse_error, "input value id out of range");
            }
            if (d.kind == nn::op::conv2d) {
                kernels::conv2d_params& c = d.conv;
                for (index_t* e : {&c.stride_h, &c.stride_w, &c.pad_top, &c.pad_left, &c.pad_bottom, &c.pad_right, &c.dilation_h, &c.dilation_w, &c.groups})
                    *e = s.dim("conv2d parameter");
            }
            if (d.kind == nn::op::max_pool || d.kind == nn::op::avg_pool) {
                nn::pool_params& q = d.pool;
                for (index_t* e : {&q.kh, &q.kw, &q.stride_h, &q.stride_w, &q.pad_top, &q.pad_left, &q.pad_bottom, &q.pad_right})
                    *e = s.dim("pooling parameter");
                const std::uint32_t cip = s.u8("count_include_pad");
                if (s.error.ok() && cip > 1) s.fail(errc::parse_error, "count_include_pad is not 0 or 1");
                q.count_include_pad = cip == 1;
            }
            if (d.kind == nn::op::linear || d.kind == nn::op::conv2d) {
                const std::uint32_t code = s.u8("weight dtype");
                if ((s.u8("reserved") | s.u16("reserved")) != 0) s.fail(errc::parse_error, "reserved bytes are not zero");
                if (s.error.ok() && code > detail::weight_s4) s.fail(errc::parse_error, "unknown weight dtype code");
                for (index_t& e : d.weight_shape) e = s.dim("weight extent");
                const std::size_t elt = code == detail::weight_f32 ? 4 : code == detail::weight_s8 || code == detail::weight_s4 ? 1 : 2;
                // four extents of at most 2^24 each: check two at a time so nothing overflows
                const std::uint64_t a = std::uint64_t(d.weight_shape[0]) * std::uint64_t(d.weight_shape[1]);
                const std::uint64_t b = std::uint64_t(d.weight_shape[2]) * std::uint64_t(d.weight_shape[3]);
                // (s4: two codes a byte, rows padded: N * ceil(K / 2) bytes for [N, K, 1, 1])
                if (code == detail::weight_s4) {  // extents are at most 2^24 each: no product below overflows
                    if (s.error.ok() && b != 1) s.fail(errc::parse_error, "int4 weights must be [N, K, 1, 1]");
                    const std::uint64_t stored = std::uint64_t(d.weight_shape[0]) * ((std::uint64_t(d.weight_shape[1]) + 1) / 2);
                    if (s.error.ok() && stored > s.left()) s.fail(errc::parse_error, "the weights' extents need more bytes than the section has");
                } else if (s.error.ok() && (a > s.left() || b > s.left() || a * b > s.left() / elt)) {
                    s.fail(errc::parse_error, "the weights' extents need more bytes than the section has");
                }
                const std::uint64_t count = s.error.ok() ? a * b : 0;
                if (code == detail::weight_f32) {
                    d.weight_f32.resize(std::size_t(count));
                    for (float& v : d.weight_f32) v = s.f32("weights");
                } else if (code == detail::weight_f16) {
                    d.weight_f16.resize(std::size_t(count));
                    for (float16& v : d.weight_f16) v = float16::from_bits(std::uint16_t(s.u16("weights")));
                } else if (code == detail::weight_bf16) {
                    d.weight_bf16.resize(std::size_t(count));
                    for (bfloat16& v : d.weight_bf16) v = bfloat16::from_bits(std::uint16_t(s.u16("weights")));
                } else {
                    // int4: two codes a byte, each row of K codes padded to whole bytes
                    if (code == detail::weight_s4 && s.error.ok()) {
                        const std::uint64_t n = std::uint64_t(d.weight_shape[0]), k = std::uint64_t(d.weight_shape[1]);
                        if (s.has(std::size_t(n * ((k + 1) / 2)), "weights")) {
                            d.weight_s4.assign(data + s.at, data + s.at + n * ((k + 1) / 2));
                            s.at += std::size_t(n * ((k + 1) / 2));
                        }
                    } else if (code == detail::weight_s8 && s.has(std::size_t(count), "weights")) {
                        d.weight_s8.resize(std::size_t(count));
                        for (std::int8_t& v : d.weight_s8) v = std::int8_t(data[s.at++]);
                    }
                    d.weight_scale.resize(s.count("weight scale count", 4));
                    for (float& v : d.weight_scale) v = s.f32("weight scale");
                }
                d.bias.resize(s.count("bias count", 4));
                for (float& v : d.bias) v = s.f32("bias");
            }
            if (minor >= 1) {
                detail::read_params(s, d.params);
                d.constant.resize(s.count("constant count", 4));
                for (float& v : d.constant) v = s.f32("constant");
            }
            p.steps.push_back(std::move(d));
            ++seen;
        } else if (t == "OUTS" && minor >= 1 && seen == 2 + nodes && nodes > 0 && !outs) {
            p.outputs.resize(s.count("output count", 4));
            for (int& v : p.outputs) {
                const std::uint32_t id = s.u32("output value");
                if (s.error.ok() && id >= values) s.fail(errc::parse_error, "output value id out of range");
                v = int(id);
            }
            outs = true;
        } else if (tag[0] >= 'a' && tag[0] <= 'z') {
            continue;  // an optional section this version does not know
        } else {
            char msg[80];
            std::snprintf(msg, sizeof msg, "unexpected section '%.4s' (MODL, VALS, one NODE per node, then OUTS)", tag);
            r.at -= std::size_t(len) + 12;
            r.fail(errc::parse_error, msg);
            break;
        }
        // a later minor version may append fields to a section; this one writes none
        if (s.error.ok() && s.left() != 0 && minor <= sparq_format_minor) s.fail(errc::parse_error, "bytes left over at the end of the section");
        if (!s.error.ok()) return s.error;
    }
    if (!r.error.ok()) return r.error;
    if (seen != 2 + nodes || seen < 3)
        return status(errc::parse_error, "%s: %zu of the %zu nodes and their values are present (truncated?)", source,
                      seen >= 2 ? seen - 2 : 0, nodes);
    return p;
}

// A compiled model from a file's bytes (decode_sparq, then compiled_model::from_parts), refused
// when one sample would cost more work or memory than `limits` allow (nn/work.hpp).
inline result<nn::compiled_model> parse_sparq(const unsigned char* data, std::size_t size, const char* source,
                                              const nn::load_limits& limits = {}) {
    auto p = decode_sparq(data, size, source);
    if (!p) return p.error();
    auto m = nn::compiled_model::from_parts(std::move(*p));
    if (!m) return status(m.error().code(), "%s: %s", source, m.error().message());
    SPARQ_TRY(nn::check_limits(m->work_per_sample(), m->scratch_bytes(1), limits, source));
    return m;
}

inline result<nn::compiled_model> load_sparq(const char* path, std::size_t max_bytes = std::size_t(1) << 31,
                                             const nn::load_limits& limits = {}) {
    auto bytes = read_file(path, max_bytes);
    if (!bytes) return bytes.error();
    return parse_sparq(bytes->data(), bytes->size(), path, limits);
}

// Written atomically (a temporary file renamed over the target).
inline status save_sparq(const char* path, const nn::compiled_model& m) { return write_file(path, encode_sparq(m.parts())); }

}  // namespace sparq::io
