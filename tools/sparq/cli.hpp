// Helpers shared by the sparq commands: option values and reproducible sample data.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sparq/core/utf8.hpp"
#include "sparq/energy/cost_model_file.hpp"
#include "sparq/nn/work.hpp"

namespace sparq_cli {

// A whole number in [lo, hi] for option `name` of command `cmd`; prints the problem and
// returns false otherwise (the caller exits with status 2).
inline bool parse_whole(const char* cmd, const char* name, const char* text, long long lo, long long hi,
                        long long& out) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < lo || v > hi) {
        std::fprintf(stderr, "sparq %s: %s needs a whole number in [%lld, %lld], got '%s'\n", cmd, name, lo, hi, text);
        return false;
    }
    out = v;
    return true;
}

// A count: a whole number in [1, max].
inline bool parse_count(const char* cmd, const char* name, const char* text, long long max, long long& out) {
    return parse_whole(cmd, name, text, 1, max, out);
}

// --max-work N / --max-memory N: what one sample of a loaded model may cost (nn/work.hpp), a
// whole number or one in exponent form ("1e13"), at least 1. Sets `limits` and returns 1 when
// `option` is one of them, 0 when it is not, -1 (after printing the problem) when N is bad.
inline int parse_limit(const char* cmd, const char* option, const char* text, sparq::nn::load_limits& limits) {
    const bool work = !std::strcmp(option, "--max-work"), memory = !std::strcmp(option, "--max-memory");
    if (!work && !memory) return 0;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    if (errno || end == text || *end != '\0' || !(v >= 1.0) || v > 1.8e19) {
        std::fprintf(stderr, "sparq %s: %s needs %s per sample, a number in [1, 1.8e19] such as 1e13, got '%s'\n", cmd, option,
                     work ? "operations" : "bytes", text);
        return -1;
    }
    (work ? limits.max_work : limits.max_memory) = std::uint64_t(v);
    return 1;
}

// splitmix64 with uniform and Gaussian (Box-Muller) draws: the same numbers on every platform
// and standard library, unlike std::normal_distribution.
struct sample_rng {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return (double(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }  // (0, 1)
    float gaussian() {
        const double u = uniform();
        return static_cast<float>(std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * uniform()));
    }
    float laplace() {
        const double u = uniform() - 0.5;
        return static_cast<float>(-std::copysign(std::log(1.0 - 2.0 * std::fabs(u)), u));
    }
};

// Prints "sparq CMD: WHAT: <the status>" on stderr when s failed, and says whether it did. The
// status may quote names from a file: control bytes are shown as \xNN (core/utf8.hpp).
inline bool report_failure(const char* cmd, const sparq::status& s, const char* what) {
    if (s.ok()) return false;
    char buf[300];
    std::fprintf(stderr, "sparq %s: %s: %s\n", cmd, what, sparq::printable(s.what(buf, sizeof buf)).c_str());
    return true;
}

// An option naming one of `choices` (an enum whose to_string gives the names): the choice, or
// false after printing "sparq CMD: OPTION is a, b or c, not 'TEXT'".
template <class Kind, std::size_t N>
bool parse_choice(const char* cmd, const char* option, const char* text, const Kind (&choices)[N], Kind& out) {
    for (const Kind k : choices)
        if (!std::strcmp(text, to_string(k))) {
            out = k;
            return true;
        }
    std::fprintf(stderr, "sparq %s: %s is ", cmd, option);
    for (std::size_t i = 0; i < N; ++i) std::fprintf(stderr, "%s%s", i == 0 ? "" : i + 1 == N ? " or " : ", ", to_string(choices[i]));
    std::fprintf(stderr, ", not '%s'\n", text);
    return false;
}

// --cost: a preset's name (45nm, 7nm, horowitz_45nm, jouppi_7nm) or a cost model file.
inline sparq::result<sparq::energy::cost_model> load_cost_option(const char* text) {
    if (const sparq::energy::cost_model* preset = sparq::energy::find_preset(text)) return *preset;
    return sparq::energy::load_cost_model(text);
}

}  // namespace sparq_cli
