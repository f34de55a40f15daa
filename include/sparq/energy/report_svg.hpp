// report_svg: one chart a person can read: estimated joules per inference of fp32 dense and
// of each compressed variant, each bar split into compute and memory. Plain SVG 1.1 text, no
// scripts or fonts to fetch, so a README or a browser shows it as it is.
#pragma once

#include <string>
#include <vector>

#include "sparq/energy/report.hpp"

namespace sparq::energy {

namespace detail {

inline std::string xml_text(const std::string& s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace detail

// The fp32 bar is the first report's baseline (all variants should count the same model).
inline std::string to_svg(const std::vector<report>& variants, const std::string& title) {
    using detail::appendf;
    struct bar {
        std::string label;
        double compute, memory;
    };
    std::vector<bar> bars;
    if (!variants.empty()) {
        const report& r0 = variants.front();
        const double per = r0.inferences ? 1.0 / double(r0.inferences) : 0.0;
        bars.push_back({"fp32 dense (baseline)", r0.fp32_total.compute_j * per, r0.fp32_total.memory_j * per});
    }
    for (const report& r : variants) {
        const double per = r.inferences ? 1.0 / double(r.inferences) : 0.0;
        bars.push_back({r.variant, r.total.compute_j * per, r.total.memory_j * per});
    }
    double most = 0;
    for (const bar& b : bars) most = b.compute + b.memory > most ? b.compute + b.memory : most;
    const int label_w = 190, bar_w = 420, row_h = 34, top = 56, width = label_w + bar_w + 190;
    const int height = top + int(bars.size()) * row_h + 44;
    std::string out;
    appendf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "font-family=\"sans-serif\" font-size=\"13\">\n",
            width, height, width, height);
    appendf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    appendf(out, "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", detail::xml_text(title).c_str());
    const std::string sub = "estimated joules per inference; cost model: " + (variants.empty() ? std::string("-") : variants[0].cost_model);
    appendf(out, "<text x=\"10\" y=\"40\" fill=\"#555\">%s</text>\n", detail::xml_text(sub).c_str());
    const double fp32 = bars.empty() ? 0.0 : bars[0].compute + bars[0].memory;
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const bar& b = bars[i];
        const int y = top + int(i) * row_h;
        const double wc = most > 0 ? bar_w * b.compute / most : 0, wm = most > 0 ? bar_w * b.memory / most : 0;
        appendf(out, "<text x=\"10\" y=\"%d\">%s</text>\n", y + 18, detail::xml_text(b.label).c_str());
        appendf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"22\" fill=\"#3b6fb6\"><title>compute %s</title></rect>\n",
                label_w, y + 4, wc, detail::format_joules(b.compute).c_str());
        appendf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"22\" fill=\"#e3a33b\"><title>memory %s</title></rect>\n",
                label_w + wc, y + 4, wm, detail::format_joules(b.memory).c_str());
        std::string note = detail::format_joules(b.compute + b.memory);
        if (i > 0 && b.compute + b.memory > 0) {
            char ratio[48];
            std::snprintf(ratio, sizeof ratio, " (%.2fx less)", fp32 / (b.compute + b.memory));
            note += ratio;
        }
        appendf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>\n", label_w + wc + wm + 6, y + 20, detail::xml_text(note).c_str());
    }
    const int ly = top + int(bars.size()) * row_h + 16;
    appendf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"#3b6fb6\"/><text x=\"%d\" y=\"%d\">compute</text>\n",
            label_w, ly, label_w + 20, ly + 12);
    appendf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"#e3a33b\"/><text x=\"%d\" y=\"%d\">memory</text>\n",
            label_w + 110, ly, label_w + 130, ly + 12);
    out += "</svg>\n";
    return out;
}

}  // namespace sparq::energy
