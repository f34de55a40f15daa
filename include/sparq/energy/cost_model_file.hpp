// A user's cost model from a text file: a preset to start from, then the figures to change.
//
//   # my 5 nm accelerator: pJ per operation, pJ per 64-bit access, capacities in bytes
//   base = 7nm                 # horowitz_45nm (default) | 45nm | jouppi_7nm | 7nm
//   name = my accelerator
//   mult.s8 = 0.05
//   add.s32 = 0.02
//   level.llc.bytes = 8388608
//   level.llc.pj = 12
//
// Keys: add.<t> and mult.<t> for t in f32 f16 bf16 s32 s8 u8 s4; level.<l>.pj for l in
// registers l1 llc dram; level.<l>.bytes for registers l1 llc. One key per line, each at most
// once; `base` before any figure. Every problem is a status naming the file and line; a file
// over 1 MiB is refused unread.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sparq/core/status.hpp"
#include "sparq/energy/cost_model.hpp"

namespace sparq::energy {

namespace detail {

inline std::string trim(const std::string& s) {
    const char* ws = " \t\r";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Where key k lives in the model: a figure in pJ, or a capacity in bytes (both null: unknown).
struct key_target {
    double* pj = nullptr;
    std::uint64_t* bytes = nullptr;
};

inline key_target target_for(cost_model& m, const std::string& k) {
    for (std::size_t t = 0; t < cost_model::dtypes; ++t) {  // the dtypes' own names: f32, ..., s4
        if (k == std::string("add.") + to_string(dtype(t))) return {&m.add_pj[t], nullptr};
        if (k == std::string("mult.") + to_string(dtype(t))) return {&m.mult_pj[t], nullptr};
    }
    for (std::size_t l = 0; l < levels; ++l) {
        const std::string prefix = std::string("level.") + to_string(level(l));
        if (k == prefix + ".pj") return {&m.memory[l].pj_per_64bit, nullptr};
        if (k == prefix + ".bytes" && level(l) != level::dram) return {nullptr, &m.memory[l].capacity_bytes};
    }
    return {};
}

}  // namespace detail

// Parses the text of a cost model file; `source` names it in messages.
inline result<cost_model> parse_cost_model(const std::string& text, const char* source) {
    cost_model m = horowitz_45nm;
    std::string seen = "\n";  // keys already set, newline-separated
    bool figures = false;
    std::size_t line_no = 0;
    for (std::size_t at = 0; at <= text.size();) {
        const std::size_t eol = text.find('\n', at);
        std::string line = text.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
        at = eol == std::string::npos ? text.size() + 1 : eol + 1;
        ++line_no;
        if (line.find('\0') != std::string::npos)
            return status(errc::parse_error, "%s:%zu: a NUL byte: not a text file", source, line_no);
        const auto hash = line.find('#');
        if (hash != std::string::npos) line.resize(hash);
        line = detail::trim(line);
        if (line.empty()) continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos)
            return status(errc::parse_error, "%s:%zu: expected 'key = value', got '%.60s'", source, line_no, line.c_str());
        const std::string key = detail::trim(line.substr(0, eq)), value = detail::trim(line.substr(eq + 1));
        if (seen.find("\n" + key + "\n") != std::string::npos)
            return status(errc::parse_error, "%s:%zu: '%.60s' is set twice", source, line_no, key.c_str());
        seen += key + "\n";
        if (key == "base") {
            if (figures) return status(errc::parse_error, "%s:%zu: 'base' must come before any figure", source, line_no);
            const cost_model* preset = find_preset(value.c_str());
            if (!preset)
                return status(errc::parse_error, "%s:%zu: unknown base '%.60s' (horowitz_45nm, 45nm, jouppi_7nm, 7nm)", source,
                              line_no, value.c_str());
            m = *preset;
            continue;
        }
        if (key == "name") {
            if (value.empty() || value.size() >= sizeof m.name)
                return status(errc::parse_error, "%s:%zu: a name needs 1 to %zu characters", source, line_no, sizeof m.name - 1);
            std::memcpy(m.name, value.c_str(), value.size() + 1);
            continue;
        }
        const detail::key_target target = detail::target_for(m, key);
        if (!target.pj && !target.bytes) return status(errc::parse_error, "%s:%zu: unknown key '%.60s'", source, line_no, key.c_str());
        figures = true;
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || end != value.c_str() + value.size() || errno == ERANGE || !std::isfinite(v) || v < 0)
            return status(errc::parse_error, "%s:%zu: '%.60s' needs a finite number >= 0, got '%.60s'", source, line_no,
                          key.c_str(), value.c_str());
        if (target.bytes) {
            if (v != std::floor(v) || v > 1.8e19)
                return status(errc::parse_error, "%s:%zu: '%.60s' needs a whole number of bytes, got '%.60s'", source,
                              line_no, key.c_str(), value.c_str());
            *target.bytes = std::uint64_t(v);
        } else {
            *target.pj = v;
        }
    }
    for (std::size_t l = 0; l + 2 < levels; ++l)
        if (m.memory[l].capacity_bytes > m.memory[l + 1].capacity_bytes)
            return status(errc::parse_error, "%s: level %s (%llu bytes) is larger than level %s (%llu bytes)", source,
                          to_string(level(l)), (unsigned long long)m.memory[l].capacity_bytes, to_string(level(l + 1)),
                          (unsigned long long)m.memory[l + 1].capacity_bytes);
    return m;
}

// Reads and parses a cost model file.
inline result<cost_model> load_cost_model(const char* path) {
    std::FILE* f = std::fopen(path, "rb");
    if (!f) return status(errc::io_error, "%s: cannot open: %s", path, std::strerror(errno));
    std::string text;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        text.append(buf, n);
        if (text.size() > (1u << 20)) {
            std::fclose(f);
            return status(errc::parse_error, "%s: over 1 MiB: not a cost model file", path);
        }
    }
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) return status(errc::io_error, "%s: read error", path);
    return parse_cost_model(text, path);
}

}  // namespace sparq::energy
