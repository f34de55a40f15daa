// export_c: a compiled model as a C++ header for firmware: the weights, biases and int8
// requantization stages as constexpr arrays, the value and layer tables of nn/firmware.hpp, and
// run(x, y, buffer, bytes) for one sample over a buffer the caller owns (buffer_bytes, aligned
// to 16). The header includes sparq/nn/firmware.hpp (sparq is header-only) and nothing that
// allocates, throws or calls the OS on that path; floats are written as hexadecimal literals,
// so every weight and scale is the file's, bit for bit.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sparq/io/c_escape.hpp"
#include "sparq/nn/compiled_model.hpp"

namespace sparq::io {

namespace detail {

inline std::string c_float(float v) {
    if (std::isnan(v)) return "__builtin_nanf(\"\")";
    if (std::isinf(v)) return v > 0 ? "__builtin_inff()" : "-__builtin_inff()";
    char b[48];
    std::snprintf(b, sizeof b, "%af", double(v));
    return b;
}

template <class T, class F>
void c_array(std::string& out, const char* type, const std::string& name, const std::vector<T>& v, F&& format) {
    out += "inline constexpr " + std::string(type) + " " + name + "[] = {";
    for (std::size_t i = 0; i < v.size(); ++i) {
        out += i % 12 == 0 ? "\n    " : " ";
        out += format(v[i]);
        out += ",";
    }
    out += "\n};\n";
}

inline std::string c_int(long long v) { return std::to_string(v); }

// Whether a layer's int8 codes take fewer bytes as a CSR (a code and a 1- or 2-byte column per
// nonzero, 4 bytes per row start) than dense, with K columns per row.
inline bool csr_pays(const std::vector<std::int8_t>& codes, index_t k) {
    if (k <= 0 || k > 65536) return false;
    std::size_t nonzero = 0;
    for (std::int8_t v : codes) nonzero += v != 0;
    const std::size_t rows = codes.size() / std::size_t(k);
    return nonzero * (k <= 256 ? 2 : 3) + 4 * (rows + 1) < codes.size();
}

// Whether the firmware runtime (nn/firmware.hpp) runs these parts as compiled_model does: its
// layer tables hold no op parameters nor constants, and it returns the last value alone.
inline status firmware_runs(const nn::compiled_parts& p) {
    const std::size_t last = p.shapes.size() - 1;
    if (!p.outputs.empty() && !(p.outputs.size() == 1 && std::size_t(p.outputs[0]) == last))
        return status(errc::unsupported, "export-c: the model returns %zu values (or not its last one): the firmware runtime returns the last value",
                      p.outputs.size());
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        const nn::compiled_step_parts& d = p.steps[i];
        const char* op = nn::to_string(d.kind);
        const nn::sample_shape& x = p.shapes[std::size_t(d.inputs[0])];
        bool ok = true;
        switch (d.kind) {
            case nn::op::linear: ok = d.weight_shape[1] == x[0] * x[1] * x[2]; break;  // not per row of a sequence
            case nn::op::conv2d: case nn::op::relu: case nn::op::relu6: case nn::op::sigmoid: case nn::op::tanh:
            case nn::op::gelu: case nn::op::max_pool: case nn::op::avg_pool: case nn::op::global_avg_pool: case nn::op::flatten:
                break;
            case nn::op::add: ok = d.inputs.size() == 2 && p.shapes[std::size_t(d.inputs[1])] == x; break;  // no broadcasting
            case nn::op::concat: ok = d.params.axis == 0; break;                                         // whole samples
            case nn::op::softmax: ok = d.params.axis == 0 && x[1] * x[2] == 1; break;                     // over the whole sample
            case nn::op::silu: case nn::op::hard_sigmoid: case nn::op::hard_swish: case nn::op::leaky_relu: case nn::op::clip:
            case nn::op::exp: case nn::op::sqrt: case nn::op::neg: case nn::op::erf: case nn::op::sub: case nn::op::mul:
            case nn::op::div: case nn::op::pow: case nn::op::batch_norm: case nn::op::pad: case nn::op::transpose:
            case nn::op::reshape: case nn::op::reduce_mean:
                return status(errc::unsupported, "export-c: node '%.60s': op '%s' is not supported by the firmware runtime", d.name.c_str(), op);
        }
        if (!ok)
            return status(errc::unsupported, "export-c: node '%.60s': op '%s' with these parameters (broadcasting, an axis) is not supported "
                          "by the firmware runtime", d.name.c_str(), op);
    }
    return status::success();
}

}  // namespace detail

// The header's text for a compiled model's parts. `name`: the C++ namespace of its tables and
// run(), as c_identifier(name) (unchanged when it is a plain identifier); `source`: named in the
// header's first line, as comment text.
inline result<std::string> export_c(const nn::compiled_parts& p, const std::string& name, const std::string& source) {
    SPARQ_TRY(nn::detail::check_parts(p));
    SPARQ_TRY(detail::firmware_runs(p));
    // Nothing from the file or the command line reaches the header raw (c_escape.hpp): the
    // namespace is reduced to an identifier, names and the file name are comment text.
    const std::string ns = c_identifier(name);
    const bool int8 = p.prec == nn::precision::int8;
    const std::size_t values = p.shapes.size();
    auto elems = [&](std::size_t v) { return std::size_t(p.shapes[v][0] * p.shapes[v][1] * p.shapes[v][2]); };
    auto round16 = [](std::size_t b) { return (b + 15) / 16 * 16; };

    // The buffer: each value, its shadow (int8 models: the other form), the int32 sums.
    std::vector<std::size_t> offset(values), shadow(values);
    std::size_t at = 0, scratch = 0;
    for (std::size_t v = 0; v < values; ++v) {
        offset[v] = at;
        at += round16(elems(v) * (p.s8[v] ? 1 : 4));
        shadow[v] = at;
        if (int8) at += round16(elems(v) * (p.s8[v] ? 4 : 1));
    }
    for (std::size_t i = 0; i < p.steps.size(); ++i)
        if (int8 && (p.steps[i].kind == nn::op::linear || p.steps[i].kind == nn::op::conv2d)) scratch = std::max(scratch, elems(i + 1) * 4);
    const std::size_t scratch_offset = at;
    const std::size_t buffer = at + round16(scratch);

    std::string o;
    o += "// Generated by `sparq export-c` from " + c_comment_text(source) + " (" + nn::to_string(p.prec) + ", " + std::to_string(p.steps.size()) +
         " layers). Do not edit: regenerate.\n";
    o += "//   alignas(16) static unsigned char buffer[" + ns + "::buffer_bytes];\n";
    o += "//   sparq::status s = " + ns + "::run(x, y, buffer, sizeof buffer);  // x[in_features] -> y[out_features]\n";
    o += "// Needs sparq's headers (header-only) on the include path; build with -ffp-contract=off.\n";
    o += "#pragma once\n\n#include <cstddef>\n#include <cstdint>\n\n#include \"sparq/nn/firmware.hpp\"\n\n";
    // a name the includes (or the build's -D flags) made a macro would turn the namespace into
    // something else; no list of names can know them all, so the header checks itself
    o += "#ifdef " + ns + "\n#error \"" + ns + " is a macro here: export again with another --name\"\n#endif\n\n";
    o += "namespace " + ns + " {\n\n";
    o += "inline constexpr std::size_t in_features = " + std::to_string(elems(0)) + ";\n";
    o += "inline constexpr std::size_t out_features = " + std::to_string(elems(values - 1)) + ";\n";
    o += "inline constexpr std::size_t buffer_bytes = " + std::to_string(buffer) + ";\n\n";
    o += "namespace tables {\n\n";

    auto fmt_f = [](float v) { return detail::c_float(v); };
    auto fmt_i = [](auto v) { return detail::c_int(static_cast<long long>(v)); };
    auto fmt_16 = [](auto v) {
        char b[16];
        std::snprintf(b, sizeof b, "0x%04x", unsigned(v.bits));
        return std::string(b);
    };
    std::string table;
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        const nn::compiled_step_parts& d = p.steps[i];
        const std::string l = "l" + std::to_string(i) + "_";
        o += "// " + std::to_string(i) + ": " + nn::to_string(d.kind) + " '" + c_comment_text(d.name) + "'\n";
        detail::c_array(o, "int", l + "inputs", d.inputs, fmt_i);
        const bool weighted = d.kind == nn::op::linear || d.kind == nn::op::conv2d;
        std::string wtype = "none", weights = "nullptr", bias = "nullptr";
        std::string fixed = "nullptr", shift = "nullptr", off = "nullptr", zxc = "nullptr", rs = "nullptr";
        std::string row_ptr = "nullptr", col8 = "nullptr", col16 = "nullptr", w_scale = "nullptr", group = "0";
        std::int32_t zp = 0, qmin = -128, qmax = 127;
        std::string rounding = "double_rounding";
        if (weighted) {
            weights = l + "weights";
            if (!d.weight_s8.empty()) {
                const index_t rows = d.weight_shape[0], k = index_t(d.weight_s8.size()) / rows;
                if (d.kind == nn::op::linear && detail::csr_pays(d.weight_s8, k)) {
                    // A pruned layer: its nonzero codes, their row starts and columns.
                    wtype = "s8_csr";
                    std::vector<std::int8_t> codes;
                    std::vector<std::uint32_t> starts{0};
                    std::vector<std::uint16_t> cols;
                    for (index_t r = 0; r < rows; ++r) {
                        for (index_t c = 0; c < k; ++c)
                            if (const std::int8_t v = d.weight_s8[std::size_t(r * k + c)]; v != 0) codes.push_back(v), cols.push_back(std::uint16_t(c));
                        starts.push_back(std::uint32_t(codes.size()));
                    }
                    row_ptr = l + "row_ptr";
                    (k <= 256 ? col8 : col16) = l + "cols";
                    detail::c_array(o, "std::int8_t", weights, codes, fmt_i);
                    detail::c_array(o, "std::uint32_t", row_ptr, starts, fmt_i);
                    detail::c_array(o, k <= 256 ? "std::uint8_t" : "std::uint16_t", l + "cols", cols, fmt_i);
                } else {
                    wtype = "s8";
                    detail::c_array(o, "std::int8_t", weights, d.weight_s8, fmt_i);
                }
                // the stage compiled_model builds from the same codes, scales and qparams
                const std::size_t n = std::size_t(d.weight_shape[0]), per = d.weight_s8.size() / n;
                std::vector<std::int32_t> sums(n, 0);
                for (std::size_t r = 0; r < n; ++r)
                    for (std::size_t c = 0; c < per; ++c) sums[r] += d.weight_s8[r * per + c];
                auto st = kernels::make_requant_stage(p.q[std::size_t(d.inputs[0])], nn::detail::weight_qparams(d.weight_scale),
                                                      tensor_view<const std::int32_t, 1>(sums.data(), {index_t(n)}), p.q[i + 1], d.bias, d.act,
                                                      p.requant);
                if (!st) return st.error();
                fixed = l + "fixed", shift = l + "shift", off = l + "offset", zxc = l + "zx_colsum", rs = l + "real_scale";
                detail::c_array(o, "std::int32_t", fixed, st->fixed, fmt_i);
                detail::c_array(o, "std::int32_t", shift, st->shift, fmt_i);
                detail::c_array(o, "std::int32_t", off, st->offset, fmt_i);
                detail::c_array(o, "std::int32_t", zxc, st->zx_colsum, fmt_i);
                detail::c_array(o, "float", rs, st->real_scale, fmt_f);
                zp = st->zero_point, qmin = st->qmin, qmax = st->qmax;
                rounding = quant::to_string(st->rounding);
            } else if (!d.weight_s4.empty()) {
                wtype = "s4";
                detail::c_array(o, "std::uint8_t", weights, d.weight_s4, fmt_i);
                w_scale = l + "w_scale", group = std::to_string(nn::int4_group);
                detail::c_array(o, "float", w_scale, d.weight_scale, fmt_f);
            } else if (!d.weight_f16.empty()) {
                wtype = "f16";
                detail::c_array(o, "sparq::float16", weights, d.weight_f16, [&](float16 v) { return "sparq::float16::from_bits(" + fmt_16(v) + ")"; });
            } else if (!d.weight_bf16.empty()) {
                wtype = "bf16";
                detail::c_array(o, "sparq::bfloat16", weights, d.weight_bf16, [&](bfloat16 v) { return "sparq::bfloat16::from_bits(" + fmt_16(v) + ")"; });
            } else {
                wtype = "f32";
                detail::c_array(o, "float", weights, d.weight_f32, fmt_f);
            }
            if (!d.bias.empty()) {
                bias = l + "bias";
                detail::c_array(o, "float", bias, d.bias, fmt_f);
            }
        }
        const kernels::conv2d_params& c = d.conv;
        const nn::pool_params& q = d.pool;
        char row[1200];
        std::snprintf(row, sizeof row,
                      "    {sparq::nn::op::%s, sparq::kernels::activation::%s, %sinputs, %zu, sparq::fw::weight_type::%s, %s, {%td, %td, %td, %td},\n"
                      "     %s, %s, %s, %s, %s, %s, %d, %d, %d, sparq::quant::requant_rounding::%s,\n"
                      "     {%td, %td, %td, %td, %td, %td, %td, %td, %td}, {%td, %td, %td, %td, %td, %td, %td, %td, %s}, %s, %s, %s, %s, %s},\n",
                      nn::to_string(d.kind), kernels::to_string(d.act),
                      l.c_str(), d.inputs.size(), wtype.c_str(), weights.c_str(), d.weight_shape[0], d.weight_shape[1], d.weight_shape[2],
                      d.weight_shape[3], bias.c_str(), fixed.c_str(), shift.c_str(), off.c_str(), zxc.c_str(), rs.c_str(), zp, qmin, qmax,
                      rounding.c_str(), c.stride_h, c.stride_w, c.pad_top, c.pad_left, c.pad_bottom, c.pad_right, c.dilation_h, c.dilation_w,
                      c.groups, q.kh, q.kw, q.stride_h, q.stride_w, q.pad_top, q.pad_left, q.pad_bottom, q.pad_right,
                      q.count_include_pad ? "true" : "false", row_ptr.c_str(), col8.c_str(), col16.c_str(), w_scale.c_str(), group.c_str());
        table += row;
        o += "\n";
    }
    o += "inline constexpr sparq::fw::value values[] = {\n";
    for (std::size_t v = 0; v < values; ++v) {
        const quant::qparams* q = int8 ? &p.q[v] : nullptr;
        char row[400];
        std::snprintf(row, sizeof row,
                      "    {%td, %td, %td, %s, %s, %d, %d, %d, sparq::quant::rounding::%s, sparq::quant::scaling::%s, %zu, %zu},\n",
                      p.shapes[v][0], p.shapes[v][1], p.shapes[v][2], p.s8[v] ? "true" : "false", detail::c_float(q ? q->scale[0] : 1.0f).c_str(),
                      q ? q->zero_point[0] : 0, q ? q->qmin : -128, q ? q->qmax : 127,
                      q && q->round == quant::rounding::half_away_from_zero ? "half_away_from_zero" : "half_to_even",
                      q && q->scale_by == quant::scaling::divide ? "divide" : "multiply_inverse", offset[v], shadow[v]);
        o += row;
    }
    o += "};\n\ninline constexpr sparq::fw::layer layers[] = {\n" + table + "};\n\n}  // namespace tables\n\n";
    o += "inline constexpr sparq::fw::model model{tables::values, " + std::to_string(values) + ", tables::layers, " +
         std::to_string(p.steps.size()) + ", buffer_bytes, " + std::to_string(scratch_offset) + "};\n\n";
    o += "// y[out_features] = the model on one sample x[in_features]; buffer: buffer_bytes, aligned to 16.\n";
    o += "inline sparq::status run(const float* x, float* y, void* buffer, std::size_t bytes) noexcept {\n";
    o += "    return sparq::fw::run(model, x, y, buffer, bytes);\n}\n\n}  // namespace " + ns + "\n";
    return o;
}

}  // namespace sparq::io
