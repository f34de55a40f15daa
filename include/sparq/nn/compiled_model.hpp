// compiled_model: a model prepared once for one precision, then run many times.
//
//   f32        packed fp32 weights
//   f16, bf16  weights stored in 16 bits, widened on load, fp32 arithmetic
//   int8       per-channel symmetric int8 weights; activations int8 (asymmetric, per tensor)
//              with ranges calibrated on sample inputs; between layers the int32 sums are
//              requantized to the next layer's int8 input with integer arithmetic only (the
//              activation folded into the clamp); the last layer dequantizes to float.
//
// Packing, quantizing weights and preparing requantization happen in compile(); run() only
// runs kernels, takes its buffers from the context's arena, and counts each layer's work
// into its own energy counter when the caller asks for them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sparq/core/context.hpp"
#include "sparq/energy/report.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/output_stage.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/nn/model.hpp"
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

    // y [batch, out_features] = the model on x [batch, in_features]. Needs an arena on ctx for
    // the activations between layers. per_layer, if given, gets one counter per layer (named
    // as the layers) that this call adds to; ctx's own counter is left alone.
    status run(const context& ctx, const matrix_view<const float>& x, const matrix_view<float>& y,
               std::vector<energy::layer_counts>* per_layer = nullptr) const;

    precision prec() const noexcept { return prec_; }
    index_t in_features() const noexcept { return layers_.empty() ? 0 : layers_.front().in; }
    index_t out_features() const noexcept { return layers_.empty() ? 0 : layers_.back().out; }
    std::size_t layer_count() const noexcept { return layers_.size(); }
    const std::string& layer_name(std::size_t i) const noexcept { return layers_[i].name; }
    // What a file holding this model stores: weights in their precision, per-channel scales
    // and the biases (fp32), the int8 activation parameters.
    std::size_t stored_bytes() const noexcept { return stored_bytes_; }
    // Arena bytes run() needs for a batch (the caller sizes the arena with it).
    std::size_t scratch_bytes(index_t batch) const noexcept;
    // Empty per-layer counters for run(), named after the layers.
    std::vector<energy::layer_counts> make_counters() const {
        std::vector<energy::layer_counts> c(layers_.size());
        for (std::size_t i = 0; i < layers_.size(); ++i) c[i].name = layers_[i].name;
        return c;
    }

private:
    struct layer {
        std::string name;
        index_t in = 0, out = 0;
        kernels::activation act = kernels::activation::none;
        std::vector<float> bias;
        kernels::packed_f32 w32;
        kernels::packed_f16 w16;
        kernels::packed_bf16 wbf;
        kernels::packed_s8 w8;
        kernels::requant_stage stage;  // int8: to the next layer's input, or to float (last)
    };
    precision prec_ = precision::f32;
    quant::qparams input_q_;  // int8: the model input's
    std::vector<layer> layers_;
    std::size_t stored_bytes_ = 0;
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

// y = act(x W^T + b) in fp32, on the plain weights: calibration's reference forward pass.
inline status forward_f32(const linear_layer& l, const matrix_view<const float>& x, const matrix_view<float>& y) {
    auto packed = kernels::pack_weights(l.weight.cview());
    if (!packed) return packed.error();
    SPARQ_TRY(kernels::matmul(context(), x, *packed, y));
    return kernels::apply_bias_activation(y, l.bias, l.act);
}

}  // namespace detail

inline result<compiled_model> compiled_model::compile(const model& m, const compile_options& o) {
    SPARQ_TRY(m.validate());
    compiled_model c;
    c.prec_ = o.prec;
    // int8: every layer's input (and the last output) observed on the calibration set, fp32.
    std::vector<quant::qparams> act_q;
    if (o.prec == precision::int8) {
        if (o.calibration.extent(0) == 0)
            return status(errc::invalid_argument, "compile int8: calibration inputs are needed to set activation ranges");
        if (o.calibration.extent(1) != m.in_features())
            return status(errc::shape_mismatch, "compile int8: calibration inputs have %td features, the model takes %td",
                          o.calibration.extent(1), m.in_features());
        auto q0 = detail::observe_activations(o.observer, o.calibration);
        if (!q0) return q0.error();
        act_q.push_back(*q0);
        auto cur = tensor<float, 2>::copy_of(o.calibration);
        if (!cur) return cur.error();
        for (const linear_layer& l : m.layers) {
            auto next = tensor<float, 2>::make({cur->extent(0), l.out_features()});
            if (!next) return next.error();
            SPARQ_TRY(detail::forward_f32(l, cur->cview(), next->view()));
            auto q = detail::observe_activations(o.observer, next->cview());
            if (!q) return q.error();
            act_q.push_back(*q);
            cur = std::move(next);
        }
        c.input_q_ = act_q[0];
        c.stored_bytes_ += 2 * sizeof(float) * act_q.size();  // a scale and a zero point each
    }
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        const linear_layer& l = m.layers[i];
        layer cl;
        cl.name = l.name, cl.in = l.in_features(), cl.out = l.out_features(), cl.act = l.act, cl.bias = l.bias;
        const std::size_t n = std::size_t(cl.out), k = std::size_t(cl.in);
        c.stored_bytes_ += cl.bias.size() * sizeof(float);
        switch (o.prec) {
            case precision::f32: {
                auto p = kernels::pack_weights(l.weight.cview());
                if (!p) return p.error();
                cl.w32 = std::move(*p);
                c.stored_bytes_ += n * k * 4;
                break;
            }
            case precision::f16: {
                auto p = kernels::pack_weights_as<float16>(l.weight.cview());
                if (!p) return p.error();
                cl.w16 = std::move(*p);
                c.stored_bytes_ += n * k * 2;
                break;
            }
            case precision::bf16: {
                auto p = kernels::pack_weights_as<bfloat16>(l.weight.cview());
                if (!p) return p.error();
                cl.wbf = std::move(*p);
                c.stored_bytes_ += n * k * 2;
                break;
            }
            case precision::int8: {
                auto wq = quant::calibrate_weights(l.weight.cview(), quant::qscheme::weights_s8_per_channel(0));
                if (!wq) return wq.error();
                auto codes = tensor<std::int8_t, 2>::make({cl.out, cl.in});
                if (!codes) return codes.error();
                SPARQ_TRY(kernels::quantize(context(), l.weight.cview(), *wq, codes->view()));
                auto p = kernels::pack_weights(codes->cview());
                if (!p) return p.error();
                cl.w8 = std::move(*p);
                auto st = kernels::make_requant_stage(act_q[i], *wq, cl.w8, act_q[i + 1], cl.bias, cl.act);
                if (!st) return st.error();
                cl.stage = std::move(*st);
                c.stored_bytes_ += n * k + n * sizeof(float);  // codes and a scale per output channel
                break;
            }
        }
        c.layers_.push_back(std::move(cl));
    }
    return c;
}

inline std::size_t compiled_model::scratch_bytes(index_t batch) const noexcept {
    index_t widest = in_features();
    for (const layer& l : layers_) widest = l.out > widest ? l.out : widest;
    // two activation buffers (ping-pong) of floats, and linear_s8's int32 sums
    return 3 * std::size_t(batch) * std::size_t(widest) * sizeof(float) + 4 * 128;
}

inline status compiled_model::run(const context& ctx, const matrix_view<const float>& x, const matrix_view<float>& y,
                                  std::vector<energy::layer_counts>* per_layer) const {
    const index_t batch = x.extent(0);
    if (x.extent(1) != in_features() || y.extent(0) != batch || y.extent(1) != out_features())
        return status(errc::shape_mismatch, "model: input [%td, %td] and output [%td, %td] for a model of %td -> %td features",
                      batch, x.extent(1), y.extent(0), y.extent(1), in_features(), out_features());
    if (per_layer && per_layer->size() != layers_.size())
        return status(errc::invalid_argument, "model: %zu per-layer counters for %zu layers", per_layer->size(), layers_.size());
    SPARQ_TRY(ctx.require_scratch(scratch_bytes(batch), "model run"));
    arena::scope keep(*ctx.scratch);
    context lc = ctx;
    auto counting = [&](std::size_t i) -> const context& {
        if (per_layer) lc.energy = &(*per_layer)[i].counts;
        return lc;
    };

    if (prec_ != precision::int8) {
        matrix_view<const float> in = x;
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            const layer& l = layers_[i];
            matrix_view<float> out = y;
            if (i + 1 < layers_.size()) {
                auto buf = ctx.scratch->allocate_view<float, 2>({batch, l.out});
                if (!buf) return buf.error();
                out = *buf;
            }
            const context& c = counting(i);
            // bias and activation fused into the GEMM's tiles (kernels/matmul.hpp)
            if (prec_ == precision::f32) SPARQ_TRY(kernels::matmul(c, in, l.w32, l.bias, l.act, out));
            else if (prec_ == precision::f16) SPARQ_TRY(kernels::matmul(c, in, l.w16, l.bias, l.act, out));
            else SPARQ_TRY(kernels::matmul(c, in, l.wbf, l.bias, l.act, out));
            if (c.energy && !l.bias.empty()) c.energy->add_adds(dtype::f32, std::uint64_t(batch) * std::uint64_t(l.out));
            in = out.as_const();
        }
        return status::success();
    }

    // int8: quantize the input once, then int8 -> int8 through each layer, float at the end.
    auto q = ctx.scratch->allocate_view<std::int8_t, 2>({batch, in_features()});
    if (!q) return q.error();
    SPARQ_TRY(kernels::quantize(counting(0), x, input_q_, *q));
    matrix_view<const std::int8_t> in = q->as_const();
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const layer& l = layers_[i];
        const context& c = counting(i);
        // the requantization's integer offset add, one per output (bias and zero-point terms)
        if (c.energy) c.energy->add_adds(dtype::s32, std::uint64_t(batch) * std::uint64_t(l.out));
        if (i + 1 == layers_.size()) return kernels::linear_s8(c, in, l.w8, l.stage, y);
        auto out = ctx.scratch->allocate_view<std::int8_t, 2>({batch, l.out});
        if (!out) return out.error();
        SPARQ_TRY(kernels::linear_s8(c, in, l.w8, l.stage, *out));
        in = out->as_const();
    }
    return status::success();
}

}  // namespace sparq::nn
