// report: what a run cost, per layer and in total, priced by a cost model, next to the same
// work at fp32 dense; as a terminal table and as JSON (report_svg.hpp draws it). Every figure
// here is an estimate from the cost model it names; measured energy comes from meter.hpp.
#pragma once

#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include "sparq/core/utf8.hpp"
#include "sparq/energy/carbon.hpp"
#include "sparq/energy/estimate.hpp"

namespace sparq::energy {

// One layer's counts, named: a model runner keeps one per layer. seconds: the wall time the
// counted calls spent in the layer (compiled_model::run times each node it counts; a profile,
// as `sparq bench --layers` prints it).
struct layer_counts {
    std::string name;
    counter counts;
    double seconds = 0.0;
};

struct layer_row {
    std::string name;
    std::uint64_t macs = 0;
    estimate actual, fp32;
};

struct report {
    std::string variant;      // what ran: "fp32", "int8", "pruned int8", ...
    std::string cost_model;   // the name of the model that priced it
    memory_mode mode = memory_mode::working_set;
    std::uint64_t inferences = 1;
    grid carbon;
    std::vector<layer_row> layers;
    std::uint64_t macs = 0;
    estimate total, fp32_total;  // the whole run (all inferences)

    double saved_j() const noexcept { return fp32_total.total_j() - total.total_j(); }
    double ratio() const noexcept { return total.total_j() > 0 ? fp32_total.total_j() / total.total_j() : 0.0; }
    double joules_per_inference() const noexcept { return inferences ? total.total_j() / double(inferences) : 0.0; }
    double inferences_per_joule() const noexcept { return total.total_j() > 0 ? double(inferences) / total.total_j() : 0.0; }
    double grams_co2e() const noexcept { return energy::grams_co2e(total.total_j(), carbon); }
};

// Prices each layer's counts; the counts cover `inferences` inferences.
inline report make_report(std::string variant, const std::vector<layer_counts>& layers, std::uint64_t inferences,
                          const cost_model& m = horowitz_45nm, memory_mode mode = memory_mode::working_set, grid carbon = {}) {
    report r;
    r.variant = std::move(variant);
    r.cost_model = m.name;
    r.mode = mode;
    r.inferences = inferences;
    r.carbon = carbon;
    for (const layer_counts& l : layers) {
        layer_row row{l.name, l.counts.total_macs(), estimate_energy(l.counts, m, mode), estimate_fp32_baseline(l.counts, m, mode)};
        r.macs += row.macs;
        r.total += row.actual;
        r.fp32_total += row.fp32;
        r.layers.push_back(std::move(row));
    }
    return r;
}

namespace detail {

// printf onto the end of a string, whatever the length (layer names are the caller's).
inline void appendf(std::string& out, const char* fmt, ...) {
    va_list args, again;
    va_start(args, fmt);
    va_copy(again, args);
    const int n = std::vsnprintf(nullptr, 0, fmt, args);
    va_end(args);
    if (n > 0) {
        const std::size_t at = out.size();
        out.resize(at + std::size_t(n) + 1);
        std::vsnprintf(&out[at], std::size_t(n) + 1, fmt, again);
        out.resize(at + std::size_t(n));
    }
    va_end(again);
}

// 1.23 uJ, 456 nJ, ...: three significant digits and an SI prefix.
inline std::string format_joules(double j) {
    static const char* const prefix[] = {"p", "n", "u", "m", "", "k", "M"};
    double v = j * 1e12;
    std::size_t p = 0;
    while (std::fabs(v) >= 1000.0 && p + 1 < sizeof prefix / sizeof *prefix) v /= 1000.0, ++p;
    char buf[32];
    std::snprintf(buf, sizeof buf, std::fabs(v) >= 100 ? "%.0f %sJ" : std::fabs(v) >= 10 ? "%.1f %sJ" : "%.2f %sJ", v, prefix[p]);
    return buf;
}

// A JSON string of s: quotes, backslashes and control characters escaped; bytes that are not
// UTF-8 (a cost model's or a layer's name from a file) become U+FFFD, so the output always parses.
inline std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) out += "\\ufffd", i += 1;
        else if (c == '"' || c == '\\') out += '\\', out += char(c), i += 1;
        else if (c < 0x20 || c == 0x7f) appendf(out, "\\u%04x", c), i += 1;
        else out.append(s, i, n), i += n;
    }
    return out + "\"";
}

// JSON numbers: finite, round-trippable; non-finite values are not JSON, so null.
inline std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

}  // namespace detail

// A table for the terminal: per layer and in total, per inference (names from files shown
// printable: no control bytes reach the terminal).
inline std::string to_table(const report& r) {
    using detail::appendf;
    using detail::format_joules;
    const double per = r.inferences ? 1.0 / double(r.inferences) : 0.0;
    std::string out;
    appendf(out, "%s: estimated energy per inference (cost model: %s; memory: %s)\n", printable(r.variant).c_str(),
            printable(r.cost_model).c_str(), r.mode == memory_mode::working_set ? "by working set" : "not charged");
    appendf(out, "%-16s %14s %11s %11s %11s %11s %7s\n", "layer", "MACs", "compute", "memory", "total", "fp32", "saved");
    auto row = [&](const std::string& name, std::uint64_t macs, const estimate& a, const estimate& b) {
        const double saved = b.total_j() > 0 ? 100.0 * (1.0 - a.total_j() / b.total_j()) : 0.0;
        appendf(out, "%-16s %14" PRIu64 " %11s %11s %11s %11s %6.1f%%\n", printable(name).c_str(), r.inferences ? macs / r.inferences : macs,
                format_joules(a.compute_j * per).c_str(), format_joules(a.memory_j * per).c_str(),
                format_joules(a.total_j() * per).c_str(), format_joules(b.total_j() * per).c_str(), saved);
    };
    for (const layer_row& l : r.layers) row(l.name, l.macs, l.actual, l.fp32);
    row("total", r.macs, r.total, r.fp32_total);
    appendf(out, "saved against fp32: %s per inference (%.2fx less); %.3g inferences per joule; %.3g gCO2e per inference "
                 "(%.0f g/kWh, PUE %.2f)\n",
            format_joules(r.saved_j() * per).c_str(), r.ratio(), r.inferences_per_joule(), r.grams_co2e() * per,
            r.carbon.g_per_kwh, r.carbon.pue);
    return out;
}

// JSON for tools. Joules are for the whole run (all `inferences`); per-inference figures are
// named so.
inline std::string to_json(const report& r) {
    using detail::appendf;
    using detail::json_number;
    std::string out = "{";
    appendf(out, "\"variant\": %s, \"estimate\": true, \"cost_model\": %s, \"memory_model\": \"%s\", \"inferences\": %" PRIu64 ",",
            detail::json_string(r.variant).c_str(), detail::json_string(r.cost_model).c_str(),
            r.mode == memory_mode::working_set ? "working_set" : "compute_only", r.inferences);
    appendf(out, " \"grid\": {\"g_per_kwh\": %s, \"pue\": %s},", json_number(r.carbon.g_per_kwh).c_str(),
            json_number(r.carbon.pue).c_str());
    out += " \"total\": {";
    appendf(out, "\"macs\": %" PRIu64 ", \"joules\": %s, \"compute_joules\": %s, \"memory_joules\": %s, ", r.macs,
            json_number(r.total.total_j()).c_str(), json_number(r.total.compute_j).c_str(), json_number(r.total.memory_j).c_str());
    appendf(out, "\"fp32_joules\": %s, \"saved_joules\": %s, \"ratio\": %s, ", json_number(r.fp32_total.total_j()).c_str(),
            json_number(r.saved_j()).c_str(), json_number(r.ratio()).c_str());
    appendf(out, "\"joules_per_inference\": %s, \"inferences_per_joule\": %s, \"grams_co2e\": %s, \"memory_joules_by_level\": {",
            json_number(r.joules_per_inference()).c_str(), json_number(r.inferences_per_joule()).c_str(),
            json_number(r.grams_co2e()).c_str());
    for (std::size_t i = 0; i < levels; ++i)
        appendf(out, "%s\"%s\": %s", i ? ", " : "", to_string(level(i)), json_number(r.total.level_j[i]).c_str());
    out += "}}, \"layers\": [";
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
        const layer_row& l = r.layers[i];
        appendf(out, "%s{\"name\": %s, \"macs\": %" PRIu64 ", \"joules\": %s, \"compute_joules\": %s, \"memory_joules\": %s, "
                     "\"fp32_joules\": %s}",
                i ? ", " : "", detail::json_string(l.name).c_str(), l.macs, json_number(l.actual.total_j()).c_str(),
                json_number(l.actual.compute_j).c_str(), json_number(l.actual.memory_j).c_str(),
                json_number(l.fp32.total_j()).c_str());
    }
    out += "]}";
    return out;
}

}  // namespace sparq::energy
