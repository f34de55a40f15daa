// sparq bench --layers (see layer_profile.hpp).
#include "layer_profile.hpp"

#include <algorithm>
#include <cstdio>

#include "sparq/core/utf8.hpp"

namespace sparq_cli {

using namespace sparq;

layer_profile make_layer_profile(const nn::compiled_model& c, const std::vector<energy::layer_counts>& counts,
                                 std::uint64_t calls, double total_seconds) {
    layer_profile p;
    p.calls = calls;
    if (calls == 0) return p;
    const double per_call = 1e3 / double(calls);
    p.call_ms = total_seconds * per_call;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        layer_profile_row r{c.layer_name(i), c.layer_kind(i), counts[i].seconds * per_call,
                            counts[i].counts.total_macs() / calls};
        p.layers_ms += r.ms;
        auto k =
            std::find_if(p.kinds.begin(), p.kinds.end(), [&](const layer_profile_row& x) { return x.kind == r.kind; });
        if (k == p.kinds.end()) k = p.kinds.insert(p.kinds.end(), layer_profile_row{"", r.kind, 0.0, 0});
        k->ms += r.ms;
        k->macs += r.macs;
        p.layers.push_back(std::move(r));
    }
    std::stable_sort(p.kinds.begin(), p.kinds.end(), [](const auto& a, const auto& b) { return a.ms > b.ms; });
    return p;
}

namespace {

double share(const layer_profile& p, double ms) {
    return p.call_ms > 0 ? 100.0 * ms / p.call_ms : 0.0;
}

// Multiply-adds a second, when the layer has any.
std::string gmacs(const layer_profile_row& r) {
    if (r.macs == 0 || r.ms <= 0) return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", double(r.macs) / (r.ms * 1e6));
    return buf;
}

// The first `n` bytes of printable(s), cut at a character's start.
std::string clipped(const std::string& s, std::size_t n) {
    std::string p = printable(s);
    if (p.size() <= n) return p;
    while (n > 0 && (static_cast<unsigned char>(p[n]) & 0xC0) == 0x80) --n;
    return p.substr(0, n);
}

}  // namespace

void print_layer_profile(const layer_profile& p, std::size_t top) {
    std::printf(
        "\nper layer: the mean of %llu calls counting each layer (%.3f ms a call; %.3f ms in the layers, the "
        "rest converting inputs and outputs)\n",
        static_cast<unsigned long long>(p.calls), p.call_ms, p.layers_ms);
    std::printf("  %-24s %10s %7s %14s %8s\n", "kind", "ms", "share", "MACs", "GMAC/s");
    for (const layer_profile_row& k : p.kinds)
        std::printf("  %-24s %10.3f %6.1f%% %14llu %8s\n", k.kind.c_str(), k.ms, share(p, k.ms),
                    static_cast<unsigned long long>(k.macs), gmacs(k).c_str());
    std::vector<const layer_profile_row*> by_time;
    for (const layer_profile_row& r : p.layers) by_time.push_back(&r);
    std::stable_sort(by_time.begin(), by_time.end(), [](const auto* a, const auto* b) { return a->ms > b->ms; });
    if (top > 0 && by_time.size() > top) by_time.resize(top);
    std::printf("  the %zu layers that took the most time:\n", by_time.size());
    std::printf("  %-40s %-18s %10s %7s %8s\n", "layer", "kind", "ms", "share", "GMAC/s");
    for (const layer_profile_row* r : by_time)
        std::printf("  %-40s %-18s %10.3f %6.1f%% %8s\n", clipped(r->name, 40).c_str(), r->kind.c_str(), r->ms,
                    share(p, r->ms), gmacs(*r).c_str());
}

std::string layer_profile_json(const layer_profile& p) {
    using energy::detail::appendf;
    using energy::detail::json_number;
    using energy::detail::json_string;
    std::string out;
    appendf(out, "\"profile_calls\": %llu, \"profile_call_ms\": %s, \"layers\": [",
            static_cast<unsigned long long>(p.calls), json_number(p.call_ms).c_str());
    const auto row = [&](const layer_profile_row& r, bool named) {
        out += "{";
        if (named) appendf(out, "\"name\": %s, ", json_string(r.name).c_str());
        appendf(out, "\"kind\": \"%s\", \"ms\": %s, \"macs\": %llu}", r.kind.c_str(), json_number(r.ms).c_str(),
                static_cast<unsigned long long>(r.macs));
    };
    for (std::size_t i = 0; i < p.layers.size(); ++i) {
        if (i) out += ", ";
        row(p.layers[i], true);
    }
    out += "], \"layer_kinds\": [";
    for (std::size_t i = 0; i < p.kinds.size(); ++i) {
        if (i) out += ", ";
        row(p.kinds[i], false);
    }
    out += "]";
    return out;
}

}  // namespace sparq_cli
