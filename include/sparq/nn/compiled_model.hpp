// compiled_model: a model prepared once for one precision, then run many times.
//
//   f32        packed fp32 weights
//   f16, bf16  linear weights stored in 16 bits, widened on load, fp32 arithmetic (convolutions
//              stay fp32: there is no half-precision convolution kernel yet)
//   int4       weight-only: linear weights as int4 codes (symmetric, a scale per group of 32
//              along K, two codes a byte), fp32 activations and arithmetic (kernels/int4.hpp);
//              convolutions stay fp32, as for f16 / bf16
//   int8       per-channel symmetric int8 weights for linear and conv nodes; every value's int8
//              parameters calibrated (a chosen observer) on sample inputs run in fp32. A value
//              stays in int8 codes while its consumers take them (linear, conv, max pooling,
//              flatten, reshape, ReLU): between int8 layers the int32 sums are requantized with
//              integer arithmetic only; ops that need float (softmax, add, mul, average pooling,
//              every other op, the model's outputs) get dequantized values. run() refuses an
//              input holding NaN or Inf by default (compile_options::check_finite).
//
// A model may return several values (model::outputs, e.g. an intermediate feature map and the
// logits): run() with one y writes output 0, the overload with a list writes each.
//
// Packing, quantizing weights and preparing requantization happen in compile(); run() only
// runs kernels, takes its buffers from the context's arena, and counts each node's work into
// its own energy counter when the caller asks for them.
//
// compiled_parts is the same model as plain data (weights unpacked, in their stored precision,
// with the int8 scales and every value's qparams): parts() gives it, from_parts() packs it back
// into the model that gives the same bits without calibrating or quantizing again. It is what
// sparq's own file format stores (io/sparq_format.hpp) and what export-c writes out.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/finite.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/nn/channels_last.hpp"
#include "sparq/nn/check_parts.hpp"
#include "sparq/nn/codes_rules.hpp"
#include "sparq/nn/compile_options.hpp"
#include "sparq/nn/compiled_parts.hpp"
#include "sparq/nn/compiled_step.hpp"
#include "sparq/nn/fold_activations.hpp"
#include "sparq/nn/layer_weights.hpp"
#include "sparq/nn/memory_plan.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/ops.hpp"
#include "sparq/nn/pack_layer.hpp"
#include "sparq/nn/runners/run_state.hpp"
#include "sparq/nn/runners/run_step.hpp"
#include "sparq/quant/bias_correction.hpp"
#include "sparq/quant/calibrate.hpp"
#include "sparq/quant/calibration_inputs.hpp"
#include "sparq/quant/observer_entropy.hpp"
#include "sparq/quant/observer_histogram.hpp"
#include "sparq/quant/observer_minmax.hpp"
#include "sparq/quant/observer_mse.hpp"
#include "sparq/quant/observer_percentile.hpp"

namespace sparq::nn {

// (Bounds from_parts enforces on any parts, which may come from a file: max_value_elements,
// max_dimension, max_weight_elements in shape_rules.hpp.)

class compiled_model {
public:
    static result<compiled_model> compile(const model& m, const compile_options& o);
    // The model parts describe, checked (shapes, counts, qparams, which values hold codes) and
    // packed for this CPU; int8 requantization rebuilt from the stored codes and scales.
    static result<compiled_model> from_parts(compiled_parts p);
    // This model as data: from_parts(parts()) runs bit for bit as this model does.
    compiled_parts parts() const;

    // y [batch, out_features] = the model on x [batch, in_features] (each row a sample's C*H*W
    // values in NCHW order). Needs an arena on ctx of scratch_bytes(batch). per_layer, if given,
    // gets one counter per node (make_counters()) that this call adds its work and its time to.
    // y is output 0 (the model's only output unless it has several).
    status run(const context& ctx, const matrix_view<const float>& x, const matrix_view<float>& y,
               std::vector<energy::layer_counts>* per_layer = nullptr) const;
    // Every output: ys[i] [batch, output_features(i)] (output_count() of them).
    status run(const context& ctx, const matrix_view<const float>& x, const std::vector<matrix_view<float>>& ys,
               std::vector<energy::layer_counts>* per_layer = nullptr) const;

    precision prec() const noexcept { return prec_; }
    // Whether run() refuses inputs holding NaN or Inf: an int8 model with any quantized layer,
    // unless compiled with check_finite = false.
    bool checks_finite() const noexcept { return check_finite_ && holds_codes_; }
    index_t in_features() const noexcept { return size_of(0); }
    // One sample of the input as the model holds it (C, H, W; a vector is [F, 1, 1]).
    const sample_shape& input_shape() const noexcept { return shapes_[0]; }
    std::size_t output_count() const noexcept { return outputs_.empty() ? 1 : outputs_.size(); }
    index_t output_features(std::size_t i) const noexcept { return shapes_.empty() ? 0 : size_of(output_value(i)); }
    index_t out_features() const noexcept { return output_features(0); }
    std::size_t layer_count() const noexcept { return steps_.size(); }
    const std::string& layer_name(std::size_t i) const noexcept { return steps_[i].name; }
    // Its op, and for a convolution whether depthwise (a group per input channel) or grouped.
    const char* layer_kind(std::size_t i) const noexcept {
        const step& s = steps_[i];
        if (s.kind != op::conv2d || s.conv.groups == 1) return to_string(s.kind);
        return s.conv.groups == shapes_[std::size_t(s.inputs[0])][0] ? "conv2d depthwise" : "conv2d grouped";
    }
    // What a file holding this model stores: weights in their precision, per-channel scales
    // and the biases (fp32), the int8 activation parameters.
    std::size_t stored_bytes() const noexcept { return stored_bytes_; }
    // What one sample costs (nn/work.hpp: MACs, pooling taps, values moved); loaders compare it
    // with their max_work.
    std::uint64_t work_per_sample() const noexcept { return work_; }
    // Arena bytes run() needs for a batch, on `threads` threads (context::threads): each thread
    // of a convolution takes its own im2col buffer. A smaller arena runs those on fewer threads.
    std::size_t scratch_bytes(index_t batch, int threads = 1) const noexcept {
        return pass_scratch_bytes(samples_per_pass(batch), threads);
    }
    // How many samples of a batch go through the graph together (run() takes the batch in passes
    // of this many): the whole batch, or one sample at a time where a sample's values outweigh
    // the weights and the cache: each sample's values then stay in cache from one layer to the
    // next (mobilenet v2, efficientnet b0), where a batch's would stream from memory, and only
    // the weights are read again, once a pass (resnet18's weights are worth the whole batch).
    index_t samples_per_pass(index_t batch) const noexcept;
    // Passes of at most n samples whatever the rule says (more memory for speed, or the other
    // way); 0, the default, leaves it to the rule. The bits are the same either way.
    void set_max_pass(index_t n) noexcept { max_pass_ = n > 0 ? n : 0; }
    std::vector<energy::layer_counts> make_counters() const {
        std::vector<energy::layer_counts> c(steps_.size());
        for (std::size_t i = 0; i < steps_.size(); ++i) c[i].name = steps_[i].name;
        return c;
    }

private:
    using step = detail::compiled_step;  // (nn/compiled_step.hpp)

    index_t size_of(std::size_t v) const noexcept { return shapes_[v][0] * shapes_[v][1] * shapes_[v][2]; }
    // The value id of output i.
    std::size_t output_value(std::size_t i) const noexcept { return outputs_.empty() ? shapes_.size() - 1 : std::size_t(outputs_[i]); }
    // keep_all: every value in its own bytes to the end (calibration reads them all after the
    // run; the arena then needs keep_all_bytes), else where the memory plan puts it.
    status run_steps(const context& ctx, const matrix_view<const float>& x, std::vector<void*>& values,
                     std::vector<energy::layer_counts>* per_layer, bool keep_all = false) const;
    std::size_t keep_all_bytes(index_t batch) const noexcept;
    // scratch_bytes for `batch` samples in one pass
    std::size_t pass_scratch_bytes(index_t batch, int threads) const noexcept;
    status run_pass(const context& ctx, const matrix_view<const float>& x, const std::vector<matrix_view<float>>& ys,
                    std::vector<energy::layer_counts>* per_layer) const;

    precision prec_ = precision::f32;
    bool sparse_int8_ = false;
    bool check_finite_ = true;           // as compiled_parts::check_finite
    index_t max_pass_ = 0;               // set_max_pass
    bool channels_last_ = true;          // as compiled_parts::channels_last
    bool winograd_ = true;               // as compiled_parts::winograd
    quant::requant_rounding requant_ = quant::requant_rounding::float_scale;  // as compiled_parts::requant
    bool holds_codes_ = false;           // some step runs on int8 codes
    std::vector<sample_shape> shapes_;   // per value (0: the input)
    std::vector<std::uint8_t> s8_;       // per value: held as int8 codes
    std::vector<std::uint8_t> cl_;       // per value: held channels-last (nn/channels_last.hpp)
    std::vector<quant::qparams> q_;      // per value: int8 parameters (int8 models)
    std::vector<step> steps_;
    std::vector<int> outputs_;           // as compiled_parts::outputs (empty: the last value)
    std::size_t stored_bytes_ = 0;
    std::uint64_t work_ = 0;
    index_t conv_scratch_ = 0;           // the largest im2col need of one image, bytes
    memory_plan mem_;                    // where each value lives during run() (per sample)
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

// The name a compiled node goes by: its own, or its op and index.
inline std::string node_name(const node& d, std::size_t i) { return d.name.empty() ? std::string(to_string(d.kind)) + std::to_string(i) : d.name; }

}  // namespace detail

inline result<compiled_model> compiled_model::compile(const model& m, const compile_options& o) {
    auto shapes = infer_shapes(m);
    if (!shapes) return shapes.error();
    compiled_parts c;
    c.prec = o.prec;
    c.sparse_int8 = o.sparse_int8;
    c.check_finite = o.check_finite;
    c.channels_last = o.channels_last;
    c.winograd = o.winograd;
    c.requant = o.requant;
    c.shapes = std::move(*shapes);
    c.outputs = m.outputs;
    const std::size_t values = c.shapes.size();
    c.s8.assign(values, 0);
    const bool int8 = o.prec == precision::int8;
    auto size_of = [&](std::size_t v) { return c.shapes[v][0] * c.shapes[v][1] * c.shapes[v][2]; };
    // Mixed precision: which nodes stay fp32 (names checked: a typo must not pass silently).
    std::vector<std::uint8_t> keep_float(m.nodes.size(), 0);
    if (!o.float_layers.empty() && !int8)
        return status(errc::invalid_argument, "compile: float layers are for int8 models (this one is %s)", to_string(o.prec));
    for (const std::string& name : o.float_layers) {
        bool found = false;
        for (std::size_t i = 0; i < m.nodes.size(); ++i)
            if (detail::node_name(m.nodes[i], i) == name && (m.nodes[i].kind == op::linear || m.nodes[i].kind == op::conv2d))
                keep_float[i] = 1, found = true;
        if (!found) return status(errc::invalid_argument, "compile: no linear or conv2d node named '%.60s' to keep in float", name.c_str());
    }

    // int8: every value observed on the calibration set, run through the fp32 form.
    std::vector<std::vector<double>> input_means(m.nodes.size());  // per node, for bias correction
    if (int8) {
        if (o.calibration.extent(0) == 0)
            return status(errc::invalid_argument, "compile int8: calibration inputs are needed to set activation ranges");
        if (o.calibration.extent(1) != m.in_features())
            return status(errc::shape_mismatch, "compile int8: calibration inputs have %td features, the model takes %td",
                          o.calibration.extent(1), m.in_features());
        if (const status bad = quant::check_calibration_inputs(o.calibration); !bad.ok())
            return status(bad.code(), "compile int8: %s", bad.message());
        compile_options fo;
        fo.channels_last = o.channels_last;
        fo.winograd = o.winograd;
        fo.fold_activations = false;  // every value of m read below by its id
        auto ref = compile(m, fo);
        if (!ref) return ref.error();
        const index_t n = o.calibration.extent(0);
        auto scratch = arena::with_capacity(ref->keep_all_bytes(n));
        if (!scratch) return scratch.error();
        context ctx;
        ctx.with_scratch(*scratch);
        std::vector<void*> vals(values, nullptr);
        auto progress = [&](std::size_t done) {
            if (o.progress) o.progress(o.progress_user, done, values + 1);
        };
        progress(0);
        SPARQ_TRY(ref->run_steps(ctx, o.calibration, vals, nullptr, true));
        progress(1);
        for (std::size_t v = 0; v < values; ++v) {
            const float* data = v == 0 ? o.calibration.data() : static_cast<const float*>(vals[v]);
            const matrix_view<const float> seen(data, {n, size_of(v)});
            // an fp32 model that overflows on a calibration input: say where (the observers
            // would refuse the value without naming it)
            if (v > 0) {
                const std::string name = detail::node_name(m.nodes[v - 1], v - 1).substr(0, 60);
                const std::string what = "compile int8: the fp32 output of '" + name + "' for calibration";
                SPARQ_TRY(sparq::check_finite(seen, what.c_str(), "int8 ranges need finite values"));
            }
            auto q = detail::observe_activations(o.observer, seen);
            if (!q) return q.error();
            c.q.push_back(*q);
            progress(v + 2);
        }
        // the mean input of each quantized layer, per channel it reads (bias correction)
        if (o.bias_correction)
            for (std::size_t i = 0; i < m.nodes.size(); ++i) {
                const node& d = m.nodes[i];
                if ((d.kind != op::linear && d.kind != op::conv2d) || keep_float[i]) continue;
                const std::size_t v = std::size_t(d.inputs[0]);
                const float* data = v == 0 ? o.calibration.data() : static_cast<const float*>(vals[v]);
                const index_t size = size_of(v);
                if (d.kind == op::conv2d && ref->cl_[v])  // channels-last: each pixel a row of C
                    input_means[i] = quant::channel_means(data, n * c.shapes[v][1] * c.shapes[v][2], c.shapes[v][0], 1);
                else if (d.kind == op::conv2d) input_means[i] = quant::channel_means(data, n, c.shapes[v][0], c.shapes[v][1] * c.shapes[v][2]);
                else {  // a linear layer reads the graph's NCHW order: a channels-last value back to it first
                    std::vector<float> nchw;
                    if (ref->cl_[v] && !layout_free(c.shapes[v])) {
                        nchw.resize(std::size_t(n * size));
                        convert_layout(data, c.shapes[v], n, false, nchw.data());
                        data = nchw.data();
                    }
                    input_means[i] = quant::channel_means(data, n * (size / d.linear.in_features()), d.linear.in_features(), 1);
                }
            }
        // Which values stay int8 codes (nn/codes_rules.hpp).
        detail::plan_codes(m, c.shapes, keep_float, c.s8, c.q);
    }

    // Each node's weights in the precision they are stored in (int8: quantized per channel).
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const node& d = m.nodes[i];
        compiled_step_parts s;
        s.name = detail::node_name(d, i);
        s.kind = d.kind;
        s.inputs = d.inputs;
        s.pool = d.pool;
        s.params = d.params;
        s.constant = d.constant;
        if (d.kind == op::linear || d.kind == op::conv2d) {
            const bool is_conv = d.kind == op::conv2d;
            s.bias = is_conv ? d.conv.bias : d.linear.bias;
            s.act = is_conv ? d.conv.act : d.linear.act;
            s.conv = d.conv.params;
            s.weight_shape = is_conv ? d.conv.weight.extents()
                                     : extents_t<4>{d.linear.weight.extent(0), d.linear.weight.extent(1), 1, 1};
            const float* w = is_conv ? d.conv.weight.data() : d.linear.weight.data();
            const std::size_t count = std::size_t(is_conv ? d.conv.weight.size() : d.linear.weight.size());
            if (int8 && !keep_float[i]) {
                const quant::qscheme scheme = quant::qscheme::weights_s8_per_channel(0);
                auto wq = is_conv ? quant::calibrate_weights(d.conv.weight.cview(), scheme) : quant::calibrate_weights(d.linear.weight.cview(), scheme);
                if (!wq) return wq.error();
                s.weight_s8.resize(count);
                if (is_conv) SPARQ_TRY(kernels::quantize(context(), d.conv.weight.cview(), *wq, tensor_view<std::int8_t, 4>(s.weight_s8.data(), s.weight_shape)));
                else SPARQ_TRY(kernels::quantize(context(), d.linear.weight.cview(), *wq, matrix_view<std::int8_t>(s.weight_s8.data(), d.linear.weight.extents())));
                s.weight_scale = wq->scale;
                if (!input_means[i].empty()) {
                    const index_t outs = s.weight_shape[0], per = index_t(count) / outs;
                    const index_t taps = s.weight_shape[2] * s.weight_shape[3];
                    quant::correct_bias(w, s.weight_s8.data(), s.weight_scale, outs, per, taps, is_conv ? d.conv.params.groups : 1,
                                        input_means[i], s.bias);
                }
            } else if (o.prec == precision::int4 && !is_conv) {
                const matrix_view<const float> wf = d.linear.weight.cview();
                auto wq = quant::calibrate_weights(wf, quant::qscheme::weights_s4_per_group(int4_group));
                if (!wq) return wq.error();
                s.weight_s4.resize(std::size_t(wf.extent(0) * ((wf.extent(1) + 1) / 2)));
                SPARQ_TRY(kernels::quantize_int4(wf, *wq, matrix_view<std::uint8_t>(s.weight_s4.data(), {wf.extent(0), (wf.extent(1) + 1) / 2})));
                s.weight_scale = wq->scale;
            } else if (is_conv || o.prec == precision::f32 || int8) {
                s.weight_f32.assign(w, w + count);
            } else if (o.prec == precision::f16) {
                for (std::size_t k = 0; k < count; ++k) s.weight_f16.push_back(float16(w[k]));
            } else {
                for (std::size_t k = 0; k < count; ++k) s.weight_bf16.push_back(bfloat16(w[k]));
            }
        }
        c.steps.push_back(std::move(s));
    }
    if (o.fold_activations) fold_activations(c);
    return from_parts(std::move(c));
}

inline result<compiled_model> compiled_model::from_parts(compiled_parts p) {
    SPARQ_TRY(detail::check_parts(p));
    compiled_model c;
    c.prec_ = p.prec;
    c.sparse_int8_ = p.sparse_int8;
    c.check_finite_ = p.check_finite;
    c.channels_last_ = p.channels_last;
    c.winograd_ = p.winograd;
    c.requant_ = p.requant;
    c.shapes_ = std::move(p.shapes);
    c.s8_ = std::move(p.s8);
    c.q_ = std::move(p.q);
    c.outputs_ = std::move(p.outputs);
    const bool int8 = c.prec_ == precision::int8;
    struct layout_facts {
        op kind;
        const std::vector<int>* inputs;
        const op_params* params;
        std::size_t constant_size;
    };
    c.cl_ = p.channels_last ? plan_channels_last(c.shapes_, p.steps.size(), [&](std::size_t i) {
        return layout_facts{p.steps[i].kind, &p.steps[i].inputs, &p.steps[i].params, p.steps[i].constant.size()};
    }) : std::vector<std::uint8_t>(c.shapes_.size(), 0);
    if (int8) c.stored_bytes_ += 2 * sizeof(float) * c.shapes_.size();  // a scale and a zero point per value
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        compiled_step_parts& d = p.steps[i];
        const node_facts f = detail::facts_of(d, "");  // (before d's inputs move)
        c.work_ = saturating_add(c.work_, node_work(f, c.shapes_.data(), c.shapes_[i + 1]));
        c.conv_scratch_ = std::max(c.conv_scratch_, index_t(node_scratch_bytes(f, c.shapes_[i + 1])));
        step s;
        s.name = std::move(d.name);
        s.kind = d.kind;
        s.inputs = std::move(d.inputs);
        s.pool = d.pool;
        s.params = d.params;
        s.constant = std::move(d.constant);
        s.act = d.act;  // a layer's, or an int8 add's (check_parts says which may have one)
        c.stored_bytes_ += s.constant.size() * sizeof(float);
        const std::size_t in_v = std::size_t(s.inputs[0]), out_v = i + 1;
        if (d.kind == op::linear || d.kind == op::conv2d) {
            s.bias = std::move(d.bias);
            s.conv = d.conv;
            c.stored_bytes_ += s.bias.size() * sizeof(float);
            // the kernel and its weights' form (nn/pack_layer.hpp)
            const detail::pack_options po{p.prec, p.winograd, p.sparse_int8, p.requant};
            auto packed = detail::pack_layer(d, s, po, c.cl_[out_v] != 0, c.shapes_[out_v], int8 ? &c.q_[in_v] : nullptr,
                                             int8 ? &c.q_[out_v] : nullptr);
            if (!packed) return packed.error();
            s.weights = std::move(packed->weights);
            s.int8 = runs_on_codes(s.weights);
            c.stored_bytes_ += packed->stored_bytes;
        } else {
            s.int8 = int8 && c.s8_[out_v];
            if (s.int8 && ops::has_lut(s.kind))
                s.lut = ops::make_lut_s8(s.kind, s.params, kernels::detail::step_of(c.q_[in_v], 0), kernels::detail::step_of(c.q_[out_v], 0));
        }
        c.holds_codes_ = c.holds_codes_ || s.int8;
        c.steps_.push_back(std::move(s));
    }
    // Liveness: a value's bytes are free once its last reader ran; the outputs live to the end.
    std::vector<std::size_t> bytes(c.shapes_.size()), last(c.shapes_.size());
    for (std::size_t v = 1; v < bytes.size(); ++v) {
        bytes[v] = (std::size_t(c.size_of(v)) * (c.s8_[v] ? 1 : 4) + 63) / 64 * 64;
        last[v] = v - 1;
    }
    for (std::size_t i = 0; i < c.steps_.size(); ++i)
        for (int in : c.steps_[i].inputs) last[std::size_t(in)] = std::max(last[std::size_t(in)], i);
    for (std::size_t k = 0; k < c.output_count(); ++k) last[c.output_value(k)] = c.steps_.size();
    c.mem_ = plan_memory(bytes, last);
    return c;
}

inline compiled_parts compiled_model::parts() const {
    compiled_parts p;
    p.prec = prec_;
    p.sparse_int8 = sparse_int8_;
    p.check_finite = check_finite_;
    p.channels_last = channels_last_;
    p.winograd = winograd_;
    p.requant = requant_;
    p.shapes = shapes_;
    p.s8 = s8_;
    p.q = q_;
    p.outputs = outputs_;
    for (const step& s : steps_) {
        compiled_step_parts d;
        d.name = s.name;
        d.kind = s.kind;
        d.inputs = s.inputs;
        d.pool = s.pool;
        d.params = s.params;
        d.constant = s.constant;
        d.act = s.act;
        if (s.kind == op::linear || s.kind == op::conv2d) {
            d.bias = s.bias;
            d.conv = s.conv;
            auto unpack = [&](const auto& packed, auto& out) {
                out.resize(std::size_t(packed.n * packed.k));
                kernels::unpack_weights(packed, out.data());
                d.weight_shape = {packed.n, packed.k, 1, 1};
            };
            auto original = [&](const auto& conv, auto& out) {
                out.assign(conv.original.data(), conv.original.data() + conv.original.size());
                d.weight_shape = conv.extents;
            };
            const layer_weights& w = s.weights;
            if (const auto* g = std::get_if<s8_gemm>(&w)) unpack(g->w, d.weight_s8), d.weight_scale = g->scale;
            else if (const auto* sp = std::get_if<s8_csr>(&w)) unpack(sp->w, d.weight_s8), d.weight_scale = sp->scale;
            else if (const auto* cv = std::get_if<s8_conv>(&w)) original(cv->w, d.weight_s8), d.weight_scale = cv->scale;
            else if (const auto* q4 = std::get_if<int4_gemm>(&w)) {
                d.weight_s4.assign(q4->codes.data(), q4->codes.data() + q4->codes.size());
                d.weight_scale = q4->q.scale;
                d.weight_shape = {q4->codes.extent(0), q4->k, 1, 1};
            } else if (const auto* h = std::get_if<kernels::packed_f16>(&w)) unpack(*h, d.weight_f16);
            else if (const auto* b = std::get_if<kernels::packed_bf16>(&w)) unpack(*b, d.weight_bf16);
            else if (const auto* f = std::get_if<kernels::packed_f32>(&w)) unpack(*f, d.weight_f32);
            else if (const auto* c32 = std::get_if<kernels::packed_conv<float>>(&w)) original(*c32, d.weight_f32);
            else if (const auto* wi = std::get_if<winograd_conv>(&w)) original(wi->original, d.weight_f32);
        }
        p.steps.push_back(std::move(d));
    }
    return p;
}

inline index_t compiled_model::samples_per_pass(index_t batch) const noexcept {
    // a sample's values (each written once, read by the next layers) against the weights and a
    // cache (4 MiB, a fixed figure: the choice, and the energy counted for it, is the same on
    // every machine)
    std::uint64_t values = 0;
    for (std::size_t v = 0; v < shapes_.size(); ++v) values += std::uint64_t(size_of(v)) * (s8_[v] ? 1 : 4);
    constexpr std::uint64_t cache = std::uint64_t(4) << 20;
    if (max_pass_ > 0) return std::min(max_pass_, batch);
    return batch > 1 && values > cache && values > std::uint64_t(stored_bytes_) ? 1 : batch;
}

inline std::size_t compiled_model::pass_scratch_bytes(index_t batch, int threads) const noexcept {
    if (shapes_.empty()) return 0;
    const auto bytes32 = [&](std::size_t v) { return std::uint64_t(batch) * std::uint64_t(size_of(v)) * 4 + 64; };
    // a node's temporaries: each input converted twice at most (dequantized, then to the other
    // layout) and int32 sums of its output; its own scratch (im2col: per image for an NCHW
    // convolution, per thread for a channels-last one); the outputs converted back at the end
    std::uint64_t temps = 0;
    for (std::size_t i = 0; i < steps_.size(); ++i) {
        const step& s = steps_[i];
        std::uint64_t t = bytes32(i + 1) + std::uint64_t(conv_scratch_);
        for (int in : s.inputs) t += 2 * bytes32(std::size_t(in));
        if (s.kind == op::conv2d && cl_[i + 1]) {
            const sample_shape& y = shapes_[i + 1];
            const extents_t<4> ye{batch, y[0], y[1], y[2]};
            if (const auto* c8 = std::get_if<s8_conv>(&s.weights)) t += kernels::conv2d_nhwc_scratch_bytes(c8->w, s.conv, ye, threads);
            else if (const auto* wi = std::get_if<winograd_conv>(&s.weights))
                t += kernels::conv2d_nhwc_winograd_scratch_bytes(wi->w, ye, threads);
            else if (const auto* c32 = std::get_if<kernels::packed_conv<float>>(&s.weights))
                t += kernels::conv2d_nhwc_scratch_bytes(*c32, s.conv, ye, threads);
        }
        temps = std::max(temps, t);
    }
    std::uint64_t outs = 0;
    for (std::size_t k = 0; k < output_count(); ++k) outs += bytes32(output_value(k));
    return std::size_t(std::uint64_t(mem_.bytes) * std::uint64_t(batch) + 64 + std::max(temps, outs) + 1024);
}

inline std::size_t compiled_model::keep_all_bytes(index_t batch) const noexcept {
    return std::size_t(run_bytes(shapes_.data(), steps_.size(), [&](std::size_t i) -> const std::vector<int>& { return steps_[i].inputs; },
                                 std::uint64_t(conv_scratch_), std::uint64_t(batch)) +
                       pass_scratch_bytes(batch, 1));
}

inline status compiled_model::run(const context& ctx, const matrix_view<const float>& x, const matrix_view<float>& y,
                                  std::vector<energy::layer_counts>* per_layer) const {
    if (output_count() == 1) return run(ctx, x, std::vector<matrix_view<float>>{y}, per_layer);
    // Output 0 alone: the others written to scratch space this call does not keep.
    if (ctx.scratch == nullptr) return status(errc::invalid_argument, "model run: an arena is needed on the context");
    std::vector<tensor<float, 2>> rest;
    std::vector<matrix_view<float>> ys{y};
    for (std::size_t i = 1; i < output_count(); ++i) {
        auto t = tensor<float, 2>::make({x.extent(0), output_features(i)});
        if (!t) return t.error();
        rest.push_back(std::move(*t));
        ys.push_back(rest.back().view());
    }
    return run(ctx, x, ys, per_layer);
}

inline status compiled_model::run(const context& ctx, const matrix_view<const float>& x, const std::vector<matrix_view<float>>& ys,
                                  std::vector<energy::layer_counts>* per_layer) const {
    const index_t batch = x.extent(0);
    if (ys.size() != output_count())
        return status(errc::invalid_argument, "model: %zu outputs given for a model of %zu outputs", ys.size(), output_count());
    for (std::size_t i = 0; i < ys.size(); ++i) {
        const matrix_view<float>& y = ys[i];
        if (x.extent(1) != in_features() || y.extent(0) != batch || y.extent(1) != output_features(i))
            return status(errc::shape_mismatch, "model: input [%td, %td] and output %zu [%td, %td] for a model of %td -> %td features", batch,
                          x.extent(1), i, y.extent(0), y.extent(1), in_features(), output_features(i));
        if (x.stride(1) != 1 || x.stride(0) != x.extent(1) || y.stride(1) != 1 || y.stride(0) != y.extent(1))
            return status(errc::invalid_argument, "model: input and output must be contiguous rows");
    }
    if (per_layer && per_layer->size() != steps_.size())
        return status(errc::invalid_argument, "model: %zu per-layer counters for %zu nodes", per_layer->size(), steps_.size());
    if (checks_finite()) SPARQ_TRY(sparq::check_finite(x, "model run: input", "an int8 model needs finite inputs"));
    const index_t pass = samples_per_pass(batch);
    if (pass >= batch) return run_pass(ctx, x, ys, per_layer);
    std::vector<matrix_view<float>> part(ys.size());
    for (index_t b0 = 0; b0 < batch; b0 += pass) {
        const index_t n = std::min(pass, batch - b0);
        for (std::size_t i = 0; i < ys.size(); ++i)
            part[i] = matrix_view<float>(ys[i].data() + b0 * ys[i].extent(1), {n, ys[i].extent(1)});
        SPARQ_TRY(run_pass(ctx, matrix_view<const float>(x.data() + b0 * x.extent(1), {n, x.extent(1)}), part, per_layer));
    }
    return status::success();
}

// One pass: every node on `batch` samples, then the outputs (checked by run()).
inline status compiled_model::run_pass(const context& ctx, const matrix_view<const float>& x, const std::vector<matrix_view<float>>& ys,
                                       std::vector<energy::layer_counts>* per_layer) const {
    const index_t batch = x.extent(0);
    SPARQ_TRY(ctx.require_scratch(pass_scratch_bytes(batch, 1), "model run"));
    arena::scope keep(*ctx.scratch);
    std::vector<void*> values(shapes_.size(), nullptr);
    SPARQ_TRY(run_steps(ctx, x, values, per_layer));
    for (std::size_t i = 0; i < ys.size(); ++i) {
        const std::size_t v = output_value(i);
        const index_t n = output_features(i);
        // channels-last values go back to the graph's NCHW (codes first, then dequantized)
        const void* out = values[v];
        if (cl_[v] && !layout_free(shapes_[v])) {
            void* t = ctx.scratch->allocate(std::size_t(batch * n) * (s8_[v] ? 1 : 4), 64);
            if (!t) return status(errc::out_of_memory, "model run: the arena is too small for output %zu", i);
            if (s8_[v]) convert_layout(ctx, static_cast<const std::int8_t*>(out), shapes_[v], batch, false, static_cast<std::int8_t*>(t));
            else convert_layout(ctx, static_cast<const float*>(out), shapes_[v], batch, false, static_cast<float*>(t));
            out = t;
        }
        if (s8_[v]) {  // codes: dequantized, counted with the node that made them
            context c = ctx;
            c.energy = per_layer ? &(*per_layer)[v - 1].counts : nullptr;
            SPARQ_TRY(kernels::dequantize(c, matrix_view<const std::int8_t>(static_cast<const std::int8_t*>(out), {batch, n}), q_[v], ys[i]));
        } else {
            std::copy(static_cast<const float*>(out), static_cast<const float*>(out) + batch * n, ys[i].data());
        }
    }
    return status::success();
}

// Runs every node; values[v] points at value v's batch (float, or int8 codes where s8_[v]).
inline status compiled_model::run_steps(const context& ctx, const matrix_view<const float>& x, std::vector<void*>& values,
                                        std::vector<energy::layer_counts>* per_layer, bool keep_all) const {
    const index_t batch = x.extent(0);
    arena& a = *ctx.scratch;
    values[0] = const_cast<float*>(x.data());
    auto alloc = [&](std::size_t bytes) -> void* { return a.allocate(bytes, 64); };
    auto* planned = keep_all ? nullptr : static_cast<std::byte*>(alloc(mem_.bytes * std::size_t(batch)));
    if (!keep_all && !planned && mem_.bytes) return status(errc::out_of_memory, "model run: the arena is too small for the values");
    for (std::size_t i = 0; i < steps_.size(); ++i) {
        const step& s = steps_[i];
        context c = ctx;
        c.energy = per_layer ? &(*per_layer)[i].counts : nullptr;
        const std::size_t in_v = std::size_t(s.inputs[0]), out_v = i + 1;
        const sample_shape& xs = shapes_[in_v];
        const sample_shape& ys = shapes_[out_v];
        const index_t in_n = size_of(in_v), out_n = size_of(out_v);
        const bool out_s8 = s8_[out_v] != 0;
        values[out_v] = keep_all ? alloc(std::size_t(batch * out_n) * (out_s8 ? 1 : 4)) : planned + mem_.offset[out_v] * std::size_t(batch);
        if (!values[out_v]) return status(errc::out_of_memory, "model run: the arena is too small for node '%.60s'", s.name.c_str());
        arena::scope temporaries(a);  // conversions and sums of this node only, released when it is done
        // This node runs on channels-last values or on NCHW ones (nn/channels_last.hpp): each
        // input is read in that layout, converted into scratch where it is held in the other.
        const bool cl = cl_[out_v] != 0;
        const runners::run_state io{c, a, batch, s, values, shapes_.data(), s8_.data(), cl_.data(), q_.data(),
                                    in_v, out_v, xs, ys, in_n, out_n, out_s8, cl};
        if (!per_layer) {
            SPARQ_TRY(runners::run_step(io));  // the op's runner (nn/runners/)
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        SPARQ_TRY(runners::run_step(io));
        (*per_layer)[i].seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return status::success();
}

}  // namespace sparq::nn
