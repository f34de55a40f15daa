// compiled_model: a model prepared once for one precision, then run many times.
//
//   f32        packed fp32 weights
//   f16, bf16  linear weights stored in 16 bits, widened on load, fp32 arithmetic (convolutions
//              stay fp32: there is no half-precision convolution kernel yet)
//   int8       per-channel symmetric int8 weights for linear and conv nodes; every value's int8
//              parameters calibrated (a chosen observer) on sample inputs run in fp32. A value
//              stays in int8 codes while its consumers take them (linear, conv, max pooling,
//              flatten, ReLU): between int8 layers the int32 sums are requantized with integer
//              arithmetic only; ops that need float (softmax, add, average pooling, the model's
//              output) get dequantized values.
//
// Packing, quantizing weights and preparing requantization happen in compile(); run() only
// runs kernels, takes its buffers from the context's arena, and counts each node's work into
// its own energy counter when the caller asks for them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sparq/core/context.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/kernels/conv2d.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/ops.hpp"
#include "sparq/quant/calibrate.hpp"
#include "sparq/quant/observer_entropy.hpp"
#include "sparq/quant/observer_histogram.hpp"
#include "sparq/quant/observer_minmax.hpp"
#include "sparq/quant/observer_mse.hpp"
#include "sparq/quant/observer_percentile.hpp"

namespace sparq::nn {

enum class precision : std::uint8_t { f32, f16, bf16, int8 };

constexpr const char* to_string(precision p) noexcept {
    switch (p) {
        case precision::f32: return "fp32";
        case precision::f16: return "fp16";
        case precision::bf16: return "bf16";
        case precision::int8: return "int8";
    }
    return "?";
}

// How int8 activation ranges are chosen from the calibration data (quant/observer_*.hpp).
enum class observer_kind : std::uint8_t { minmax, histogram, percentile, mse, entropy };

constexpr const char* to_string(observer_kind o) noexcept {
    switch (o) {
        case observer_kind::minmax: return "minmax";
        case observer_kind::histogram: return "histogram";
        case observer_kind::percentile: return "percentile";
        case observer_kind::mse: return "mse";
        case observer_kind::entropy: return "entropy";
    }
    return "?";
}

struct compile_options {
    precision prec = precision::f32;
    observer_kind observer = observer_kind::minmax;
    // int8: sample inputs [samples, in_features] whose activations set the ranges.
    matrix_view<const float> calibration;
};

class compiled_model {
public:
    static result<compiled_model> compile(const model& m, const compile_options& o);

    // y [batch, out_features] = the model on x [batch, in_features] (each row a sample's C*H*W
    // values in NCHW order). Needs an arena on ctx of scratch_bytes(batch). per_layer, if given,
    // gets one counter per node (make_counters()) that this call adds to.
    status run(const context& ctx, const matrix_view<const float>& x, const matrix_view<float>& y,
               std::vector<energy::layer_counts>* per_layer = nullptr) const;

    precision prec() const noexcept { return prec_; }
    index_t in_features() const noexcept { return size_of(0); }
    index_t out_features() const noexcept { return shapes_.empty() ? 0 : size_of(shapes_.size() - 1); }
    std::size_t layer_count() const noexcept { return steps_.size(); }
    const std::string& layer_name(std::size_t i) const noexcept { return steps_[i].name; }
    // What a file holding this model stores: weights in their precision, per-channel scales
    // and the biases (fp32), the int8 activation parameters.
    std::size_t stored_bytes() const noexcept { return stored_bytes_; }
    // Arena bytes run() needs for a batch.
    std::size_t scratch_bytes(index_t batch) const noexcept;
    std::vector<energy::layer_counts> make_counters() const {
        std::vector<energy::layer_counts> c(steps_.size());
        for (std::size_t i = 0; i < steps_.size(); ++i) c[i].name = steps_[i].name;
        return c;
    }

private:
    struct step {
        std::string name;
        op kind = op::linear;
        std::vector<int> inputs;
        kernels::packed_f32 w32;
        kernels::packed_f16 w16;
        kernels::packed_bf16 wbf;
        kernels::packed_s8 w8;
        kernels::packed_conv<float> c32;
        kernels::packed_conv<std::int8_t> c8;
        std::vector<float> bias;
        kernels::activation act = kernels::activation::none;
        kernels::conv2d_params conv;
        pool_params pool;
        kernels::requant_stage stage;  // int8 linear / conv: to the output's codes, or to float
        bool int8 = false;             // runs on int8 codes
    };

    index_t size_of(std::size_t v) const noexcept { return shapes_[v][0] * shapes_[v][1] * shapes_[v][2]; }
    status run_steps(const context& ctx, const matrix_view<const float>& x, std::vector<void*>& values,
                     std::vector<energy::layer_counts>* per_layer) const;

    precision prec_ = precision::f32;
    std::vector<sample_shape> shapes_;   // per value (0: the input)
    std::vector<std::uint8_t> s8_;       // per value: held as int8 codes
    std::vector<quant::qparams> q_;      // per value: int8 parameters (int8 models)
    std::vector<step> steps_;
    std::size_t stored_bytes_ = 0;
    index_t conv_scratch_ = 0;           // the largest im2col need of one image, bytes
};

namespace detail {

// The per-tensor int8 parameters an observer of kind k picks for x.
inline result<quant::qparams> observe_activations(observer_kind k, const matrix_view<const float>& x) {
    const quant::qscheme s = quant::qscheme::activations_s8();
    auto run = [&](auto observer) -> result<quant::qparams> {
        SPARQ_TRY(observer.observe(x));
        return observer.compute();
    };
    switch (k) {
        case observer_kind::minmax: return run(quant::minmax_observer(s));
        case observer_kind::histogram: return run(quant::histogram_observer(s));
        case observer_kind::percentile: return run(quant::percentile_observer(s));
        case observer_kind::mse: return run(quant::mse_observer(s));
        case observer_kind::entropy: return run(quant::entropy_observer(s));
    }
    return status(errc::invalid_argument, "unknown observer");
}

// Which ops read int8 codes as they are.
constexpr bool takes_s8(op k) noexcept {
    return k == op::linear || k == op::conv2d || k == op::max_pool || k == op::flatten || k == op::relu || k == op::relu6;
}

// y[n, c, :, :] = act(y + bias[c]) over a [batch, C, H, W] block.
inline void conv_bias_activation(float* y, index_t batch, index_t channels, index_t plane, const std::vector<float>& bias,
                                 kernels::activation act) noexcept {
    if (bias.empty() && act == kernels::activation::none) return;
    for (index_t n = 0; n < batch; ++n)
        for (index_t c = 0; c < channels; ++c) {
            float* p = y + (n * channels + c) * plane;
            const float b = bias.empty() ? 0.0f : bias[std::size_t(c)];
            for (index_t i = 0; i < plane; ++i) p[i] = kernels::activate(p[i] + b, act);
        }
}

// The weight sum of each output channel of int8 conv weights [O, C/g, KH, KW].
inline result<tensor<std::int32_t, 1>> channel_sums(const tensor<std::int8_t, 4>& w) {
    auto s = tensor<std::int32_t, 1>::make({w.extent(0)});
    if (!s) return s.error();
    const index_t per = w.extent(1) * w.extent(2) * w.extent(3);
    for (index_t o = 0; o < w.extent(0); ++o) {
        std::int32_t sum = 0;
        for (index_t i = 0; i < per; ++i) sum += w.data()[o * per + i];
        (*s)(o) = sum;
    }
    return s;
}

}  // namespace detail

inline result<compiled_model> compiled_model::compile(const model& m, const compile_options& o) {
    auto shapes = infer_shapes(m);
    if (!shapes) return shapes.error();
    compiled_model c;
    c.prec_ = o.prec;
    c.shapes_ = std::move(*shapes);
    const std::size_t values = c.shapes_.size();
    c.s8_.assign(values, 0);
    const bool int8 = o.prec == precision::int8;

    // int8: every value observed on the calibration set, run through the fp32 form.
    if (int8) {
        if (o.calibration.extent(0) == 0)
            return status(errc::invalid_argument, "compile int8: calibration inputs are needed to set activation ranges");
        if (o.calibration.extent(1) != m.in_features())
            return status(errc::shape_mismatch, "compile int8: calibration inputs have %td features, the model takes %td",
                          o.calibration.extent(1), m.in_features());
        compile_options fo;
        auto ref = compile(m, fo);
        if (!ref) return ref.error();
        const index_t n = o.calibration.extent(0);
        auto scratch = arena::with_capacity(ref->scratch_bytes(n));
        if (!scratch) return scratch.error();
        context ctx;
        ctx.with_scratch(*scratch);
        std::vector<void*> vals(values, nullptr);
        SPARQ_TRY(ref->run_steps(ctx, o.calibration, vals, nullptr));
        for (std::size_t v = 0; v < values; ++v) {
            const float* data = v == 0 ? o.calibration.data() : static_cast<const float*>(vals[v]);
            auto q = detail::observe_activations(o.observer, matrix_view<const float>(data, {n, c.size_of(v)}));
            if (!q) return q.error();
            c.q_.push_back(*q);
        }
        // Which values stay int8: a linear / conv output whose every consumer takes codes (and
        // which is not the model's output); codes flow on through max pooling, flatten, ReLU.
        for (std::size_t i = 0; i < m.nodes.size(); ++i) {
            const node& d = m.nodes[i];
            const std::size_t v = i + 1;
            bool consumers_take_s8 = v + 1 < values;
            for (const node& e : m.nodes)
                for (int in : e.inputs)
                    if (std::size_t(in) == v && !detail::takes_s8(e.kind)) consumers_take_s8 = false;
            if (d.kind == op::linear || d.kind == op::conv2d) c.s8_[v] = consumers_take_s8;
            else if (detail::takes_s8(d.kind) && c.s8_[std::size_t(d.inputs[0])]) {
                c.s8_[v] = 1;
                c.q_[v] = c.q_[std::size_t(d.inputs[0])];  // the same codes, the same meaning
            }
        }
        c.stored_bytes_ += 2 * sizeof(float) * values;  // a scale and a zero point per value
    }

    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const node& d = m.nodes[i];
        step s;
        s.name = d.name.empty() ? std::string(to_string(d.kind)) + std::to_string(i) : d.name;
        s.kind = d.kind;
        s.inputs = d.inputs;
        s.pool = d.pool;
        const std::size_t in_v = std::size_t(d.inputs[0]), out_v = i + 1;
        if (d.kind == op::linear || d.kind == op::conv2d) {
            const bool is_conv = d.kind == op::conv2d;
            const std::vector<float>& bias = is_conv ? d.conv.bias : d.linear.bias;
            s.bias = bias;
            s.act = is_conv ? d.conv.act : d.linear.act;
            s.conv = d.conv.params;
            c.stored_bytes_ += bias.size() * sizeof(float);
            const index_t outs = is_conv ? d.conv.weight.extent(0) : d.linear.out_features();
            const std::size_t count = std::size_t(is_conv ? d.conv.weight.size() : d.linear.weight.size());
            if (int8) {
                s.int8 = true;
                const quant::qscheme scheme = quant::qscheme::weights_s8_per_channel(0);
                auto wq = is_conv ? quant::calibrate_weights(d.conv.weight.cview(), scheme) : quant::calibrate_weights(d.linear.weight.cview(), scheme);
                if (!wq) return wq.error();
                const quant::qparams& out_q = c.q_[out_v];
                if (is_conv) {
                    auto codes = tensor<std::int8_t, 4>::make(d.conv.weight.extents());
                    if (!codes) return codes.error();
                    SPARQ_TRY(kernels::quantize(context(), d.conv.weight.cview(), *wq, codes->view()));
                    auto sums = detail::channel_sums(*codes);
                    if (!sums) return sums.error();
                    auto st = kernels::make_requant_stage(c.q_[in_v], *wq, sums->cview(), out_q, bias, s.act);
                    if (!st) return st.error();
                    s.stage = std::move(*st);
                    auto p = kernels::pack_conv_weights(codes->cview(), s.conv.groups);
                    if (!p) return p.error();
                    s.c8 = std::move(*p);
                } else {
                    auto codes = tensor<std::int8_t, 2>::make(d.linear.weight.extents());
                    if (!codes) return codes.error();
                    SPARQ_TRY(kernels::quantize(context(), d.linear.weight.cview(), *wq, codes->view()));
                    auto p = kernels::pack_weights(codes->cview());
                    if (!p) return p.error();
                    s.w8 = std::move(*p);
                    auto st = kernels::make_requant_stage(c.q_[in_v], *wq, s.w8, out_q, bias, s.act);
                    if (!st) return st.error();
                    s.stage = std::move(*st);
                }
                c.stored_bytes_ += count + std::size_t(outs) * sizeof(float);
            } else if (is_conv) {
                auto p = kernels::pack_conv_weights(d.conv.weight.cview(), s.conv.groups);
                if (!p) return p.error();
                s.c32 = std::move(*p);
                c.stored_bytes_ += count * 4;
            } else if (o.prec == precision::f32) {
                auto p = kernels::pack_weights(d.linear.weight.cview());
                if (!p) return p.error();
                s.w32 = std::move(*p);
                c.stored_bytes_ += count * 4;
            } else if (o.prec == precision::f16) {
                auto p = kernels::pack_weights_as<float16>(d.linear.weight.cview());
                if (!p) return p.error();
                s.w16 = std::move(*p);
                c.stored_bytes_ += count * 2;
            } else {
                auto p = kernels::pack_weights_as<bfloat16>(d.linear.weight.cview());
                if (!p) return p.error();
                s.wbf = std::move(*p);
                c.stored_bytes_ += count * 2;
            }
            if (is_conv) {
                const sample_shape& y = c.shapes_[out_v];
                const index_t kg = d.conv.weight.extent(1) * d.conv.weight.extent(2) * d.conv.weight.extent(3);
                const index_t pixels = y[1] * y[2], og = y[0] / s.conv.groups;
                c.conv_scratch_ = std::max(c.conv_scratch_, pixels * kg * 4 + pixels * og * 4 + 256);
            }
        } else {
            s.int8 = int8 && c.s8_[out_v];
        }
        c.steps_.push_back(std::move(s));
    }
    return c;
}

inline std::size_t compiled_model::scratch_bytes(index_t batch) const noexcept {
    std::size_t total = 0, widest = 0;
    for (std::size_t v = 0; v < shapes_.size(); ++v) {
        const std::size_t bytes = std::size_t(batch) * std::size_t(size_of(v)) * 4 + 64;
        total += bytes;
        widest = std::max(widest, bytes);
    }
    // every value, conversions (two at a time), int32 sums, im2col
    return total + 3 * widest + std::size_t(conv_scratch_) + 1024;
}

inline status compiled_model::run(const context& ctx, const matrix_view<const float>& x, const matrix_view<float>& y,
                                  std::vector<energy::layer_counts>* per_layer) const {
    const index_t batch = x.extent(0);
    if (x.extent(1) != in_features() || y.extent(0) != batch || y.extent(1) != out_features())
        return status(errc::shape_mismatch, "model: input [%td, %td] and output [%td, %td] for a model of %td -> %td features",
                      batch, x.extent(1), y.extent(0), y.extent(1), in_features(), out_features());
    if (x.stride(1) != 1 || x.stride(0) != x.extent(1) || y.stride(1) != 1 || y.stride(0) != y.extent(1))
        return status(errc::invalid_argument, "model: input and output must be contiguous rows");
    if (per_layer && per_layer->size() != steps_.size())
        return status(errc::invalid_argument, "model: %zu per-layer counters for %zu nodes", per_layer->size(), steps_.size());
    SPARQ_TRY(ctx.require_scratch(scratch_bytes(batch), "model run"));
    arena::scope keep(*ctx.scratch);
    std::vector<void*> values(shapes_.size(), nullptr);
    SPARQ_TRY(run_steps(ctx, x, values, per_layer));
    const std::size_t last = shapes_.size() - 1;
    const index_t n = batch * out_features();
    if (s8_[last]) {
        context c = ctx;
        if (per_layer) c.energy = &per_layer->back().counts;
        return kernels::dequantize(c, matrix_view<const std::int8_t>(static_cast<const std::int8_t*>(values[last]), {batch, out_features()}),
                                   q_[last], y);
    }
    std::copy(static_cast<const float*>(values[last]), static_cast<const float*>(values[last]) + n, y.data());
    return status::success();
}

// Runs every node; values[v] points at value v's batch (float, or int8 codes where s8_[v]).
inline status compiled_model::run_steps(const context& ctx, const matrix_view<const float>& x, std::vector<void*>& values,
                                        std::vector<energy::layer_counts>* per_layer) const {
    const index_t batch = x.extent(0);
    arena& a = *ctx.scratch;
    values[0] = const_cast<float*>(x.data());
    auto alloc = [&](std::size_t bytes) -> void* { return a.allocate(bytes, 64); };
    for (std::size_t i = 0; i < steps_.size(); ++i) {
        const step& s = steps_[i];
        context c = ctx;
        c.energy = per_layer ? &(*per_layer)[i].counts : nullptr;
        const std::size_t in_v = std::size_t(s.inputs[0]), out_v = i + 1;
        const sample_shape& xs = shapes_[in_v];
        const sample_shape& ys = shapes_[out_v];
        const index_t in_n = size_of(in_v), out_n = size_of(out_v);
        const bool out_s8 = s8_[out_v] != 0;
        values[out_v] = alloc(std::size_t(batch * out_n) * (out_s8 ? 1 : 4));
        if (!values[out_v]) return status(errc::out_of_memory, "model run: the arena is too small for node '%.60s'", s.name.c_str());
        // A value as float (dequantized into scratch if it is held as codes) or as codes.
        auto as_float = [&](std::size_t v) -> const float* {
            if (!s8_[v]) return static_cast<const float*>(values[v]);
            auto* f = static_cast<float*>(alloc(std::size_t(batch * size_of(v)) * 4));
            if (!f) return nullptr;
            const matrix_view<const std::int8_t> q(static_cast<const std::int8_t*>(values[v]), {batch, size_of(v)});
            return kernels::dequantize(c, q, q_[v], matrix_view<float>(f, {batch, size_of(v)})).ok() ? f : nullptr;
        };
        auto as_s8 = [&](std::size_t v) -> const std::int8_t* {
            if (s8_[v]) return static_cast<const std::int8_t*>(values[v]);
            auto* q = static_cast<std::int8_t*>(alloc(std::size_t(batch * size_of(v))));
            if (!q) return nullptr;
            const matrix_view<const float> f(static_cast<const float*>(values[v]), {batch, size_of(v)});
            return kernels::quantize(c, f, q_[v], matrix_view<std::int8_t>(q, {batch, size_of(v)})).ok() ? q : nullptr;
        };
        const status oom(errc::out_of_memory, "model run: the arena is too small for node '%.60s'", s.name.c_str());

        switch (s.kind) {
            case op::linear: {
                if (s.int8) {
                    const std::int8_t* in = as_s8(in_v);
                    if (!in) return oom;
                    const matrix_view<const std::int8_t> xq(in, {batch, in_n});
                    // the requantization's integer offset add, one per output
                    if (c.energy) c.energy->add_adds(dtype::s32, std::uint64_t(batch * out_n));
                    if (out_s8) SPARQ_TRY(kernels::linear_s8(c, xq, s.w8, s.stage, matrix_view<std::int8_t>(static_cast<std::int8_t*>(values[out_v]), {batch, out_n})));
                    else SPARQ_TRY(kernels::linear_s8(c, xq, s.w8, s.stage, matrix_view<float>(static_cast<float*>(values[out_v]), {batch, out_n})));
                    break;
                }
                const float* in = as_float(in_v);
                if (!in) return oom;
                const matrix_view<const float> xf(in, {batch, in_n});
                const matrix_view<float> yf(static_cast<float*>(values[out_v]), {batch, out_n});
                // bias and activation fused into the GEMM's tiles (kernels/matmul.hpp)
                if (prec_ == precision::f16) SPARQ_TRY(kernels::matmul(c, xf, s.w16, s.bias, s.act, yf));
                else if (prec_ == precision::bf16) SPARQ_TRY(kernels::matmul(c, xf, s.wbf, s.bias, s.act, yf));
                else SPARQ_TRY(kernels::matmul(c, xf, s.w32, s.bias, s.act, yf));
                if (c.energy && !s.bias.empty()) c.energy->add_adds(dtype::f32, std::uint64_t(batch * out_n));
                break;
            }
            case op::conv2d: {
                const extents_t<4> xe{batch, xs[0], xs[1], xs[2]}, ye{batch, ys[0], ys[1], ys[2]};
                const index_t plane = ys[1] * ys[2];
                if (s.int8) {
                    const std::int8_t* in = as_s8(in_v);
                    auto* acc = static_cast<std::int32_t*>(alloc(std::size_t(batch * out_n) * 4));
                    if (!in || !acc) return oom;
                    SPARQ_TRY(kernels::conv2d_s8(c, tensor_view<const std::int8_t, 4>(in, xe), s.c8, s.conv, tensor_view<std::int32_t, 4>(acc, ye),
                                                 std::int8_t(q_[in_v].zero_point[0])));
                    if (c.energy) c.energy->add_adds(dtype::s32, std::uint64_t(batch * out_n));
                    // per output channel: each image's [C, H*W] sums seen as [H*W, C]
                    for (index_t n = 0; n < batch; ++n) {
                        const matrix_view<const std::int32_t> sums(acc + n * out_n, {plane, ys[0]}, {1, plane});
                        if (out_s8) {
                            const matrix_view<std::int8_t> q(static_cast<std::int8_t*>(values[out_v]) + n * out_n, {plane, ys[0]}, {1, plane});
                            SPARQ_TRY(kernels::apply_requant(s.stage, sums, q));
                        } else {
                            const matrix_view<float> f(static_cast<float*>(values[out_v]) + n * out_n, {plane, ys[0]}, {1, plane});
                            SPARQ_TRY(kernels::apply_dequant(s.stage, sums, f));
                        }
                    }
                    break;
                }
                const float* in = as_float(in_v);
                if (!in) return oom;
                auto* out = static_cast<float*>(values[out_v]);
                SPARQ_TRY(kernels::conv2d(c, tensor_view<const float, 4>(in, xe), s.c32, s.conv, tensor_view<float, 4>(out, ye)));
                detail::conv_bias_activation(out, batch, ys[0], plane, s.bias, s.act);
                if (c.energy && !s.bias.empty()) c.energy->add_adds(dtype::f32, std::uint64_t(batch * out_n));
                break;
            }
            case op::relu: case op::relu6: case op::sigmoid: case op::tanh: case op::gelu:
                if (s.int8) {
                    ops::activation_s8(c, s.kind, static_cast<const std::int8_t*>(values[in_v]), static_cast<std::int8_t*>(values[out_v]),
                                       batch * in_n, q_[out_v].zero_point[0], q_[out_v].scale[0]);
                } else {
                    const float* in = as_float(in_v);
                    if (!in) return oom;
                    ops::activation(c, s.kind, in, static_cast<float*>(values[out_v]), batch * in_n);
                }
                break;
            case op::max_pool: case op::avg_pool:
                if (s.int8) {
                    ops::pool(c, s.kind, s.pool, static_cast<const std::int8_t*>(values[in_v]), xs, static_cast<std::int8_t*>(values[out_v]), ys, batch);
                } else {
                    const float* in = as_float(in_v);
                    if (!in) return oom;
                    ops::pool(c, s.kind, s.pool, in, xs, static_cast<float*>(values[out_v]), ys, batch);
                }
                break;
            case op::global_avg_pool: {
                const float* in = as_float(in_v);
                if (!in) return oom;
                ops::global_avg_pool(c, in, xs, static_cast<float*>(values[out_v]), batch);
                break;
            }
            case op::flatten:
                // the same bytes in the same order; only the shape changes
                if (s.int8) std::copy_n(static_cast<const std::int8_t*>(values[in_v]), batch * in_n, static_cast<std::int8_t*>(values[out_v]));
                else {
                    const float* in = as_float(in_v);
                    if (!in) return oom;
                    std::copy_n(in, batch * in_n, static_cast<float*>(values[out_v]));
                }
                break;
            case op::add: {
                const float* a0 = as_float(in_v);
                const float* a1 = as_float(std::size_t(s.inputs[1]));
                if (!a0 || !a1) return oom;
                ops::add(c, a0, a1, static_cast<float*>(values[out_v]), batch * out_n);
                break;
            }
            case op::concat: {
                std::vector<const float*> parts;
                std::vector<index_t> sizes;
                for (int in : s.inputs) {
                    parts.push_back(as_float(std::size_t(in)));
                    if (!parts.back()) return oom;
                    sizes.push_back(size_of(std::size_t(in)));
                }
                ops::concat(c, parts, sizes, static_cast<float*>(values[out_v]), batch);
                break;
            }
            case op::softmax: {
                const float* in = as_float(in_v);
                if (!in) return oom;
                ops::softmax(c, in, static_cast<float*>(values[out_v]), batch, out_n);
                break;
            }
        }
    }
    return status::success();
}

}  // namespace sparq::nn
