// The training loop for an MLP (std::vector<nn::linear_layer>, nn::mlp_layers of a model): epochs of
// shuffled mini-batches (the last one smaller, as PyTorch's DataLoader with shuffle=True), a
// loss callback that gives the loss and d loss / d logits of each batch (cross-entropy by
// default, the KD loss for distillation: distill/pipeline.hpp), the backward pass, an optimizer
// step, weight masks kept applied, and fake quantization for QAT (nn/train/qat.hpp).
//
// Everything is seeded: the same seed, data and options give the same model on every run.
// Bad data stops training before it starts (non-finite inputs, labels out of range, sizes that
// do not fit), and a loss that becomes NaN / infinite or grows beyond divergence_factor times
// its first value stops it with a status that says where; it is never silently continued.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/nn/metrics.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/nn/train/backward.hpp"
#include "sparq/nn/train/loss.hpp"
#include "sparq/nn/train/mask.hpp"
#include "sparq/nn/train/optimizer.hpp"
#include "sparq/nn/train/qat.hpp"
#include "sparq/nn/train/rng.hpp"

namespace sparq::nn::train {

// The loss of one batch: logits [batch, classes] of the dataset rows `rows` (in batch order);
// writes d loss / d logits into grad and returns the loss.
using loss_fn = std::function<result<double>(const matrix_view<const float>& logits, const std::vector<index_t>& rows,
                                             const matrix_view<float>& grad)>;

struct train_options {
    int epochs = 10;
    index_t batch = 32;
    std::uint64_t seed = 0;  // the shuffles (initialisation has its own seed: make_mlp)
    optimizer_options optim;
    const std::vector<weight_mask>* masks = nullptr;  // kept applied (pruned weights stay zero)
    bool qat = false;                                 // fake-quantized weights and activations (MLPs)
    bool keep_zeros = false;                          // model graphs: weights zero at the start stay zero (a pruned model stays pruned)
    double divergence_factor = 1e4;                   // stop when a batch loss > this x max(first loss, 1e-2)
    std::function<void(int epoch, double mean_loss)> on_epoch;  // progress, after each epoch
};

struct train_report {
    std::vector<double> epoch_loss;  // mean batch loss of each epoch
    std::int64_t steps = 0;
};

// Inputs finite and shaped for the model.
inline status check_inputs(const std::vector<linear_layer>& layers, const matrix_view<const float>& x) {
    if (layers.empty()) return status(errc::invalid_argument, "training: the model has no layers");
    if (x.extent(0) == 0) return status(errc::invalid_argument, "training: no samples");
    if (x.extent(1) != layers.front().in_features())
        return status(errc::shape_mismatch, "training: samples have %td features, the model takes %td", x.extent(1),
                      layers.front().in_features());
    for (index_t i = 0; i < x.extent(0); ++i)
        for (index_t j = 0; j < x.extent(1); ++j)
            if (!std::isfinite(x(i, j)))
                return status(errc::invalid_argument, "training: input [%td, %td] is %g (clean the data first)", i, j, double(x(i, j)));
    return status::success();
}

namespace detail {
inline bool all_finite(const std::vector<linear_layer>& layers) noexcept {
    for (const linear_layer& l : layers) {
        for (index_t k = 0; k < l.weight.size(); ++k)
            if (!std::isfinite(l.weight.data()[k])) return false;
        for (float b : l.bias)
            if (!std::isfinite(b)) return false;
    }
    return true;
}
}  // namespace detail

namespace detail {

inline status check_train_options(const loss_fn& loss, const train_options& o) {
    if (o.epochs < 1) return status(errc::invalid_argument, "training: %d epochs", o.epochs);
    if (o.batch < 1) return status(errc::invalid_argument, "training: batch size %td", o.batch);
    if (!loss) return status(errc::invalid_argument, "training: no loss function");
    if (!(o.divergence_factor > 1.0)) return status(errc::invalid_argument, "training: divergence factor %g must be > 1", o.divergence_factor);
    return status::success();
}

// The epochs and mini-batches of any model: shuffles, batches x's rows, runs forward(xb) ->
// result<logits view>, the loss, then step(dlogits) (backward, optimizer); stops on a loss that
// is not finite or diverges, and on weights that are not finite after an epoch (finite()).
template <class Forward, class Step, class Finite>
result<train_report> run_epochs(const matrix_view<const float>& x, index_t classes, const loss_fn& loss, const train_options& o,
                                Forward&& forward, Step&& step, Finite&& finite) {
    const index_t n = x.extent(0), in = x.extent(1);
    std::vector<index_t> order(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) order[std::size_t(i)] = i;
    rng shuffler(o.seed ^ 0x5851F42D4C957F2Dull);
    tensor<float, 2> xb, dlogits;
    std::vector<index_t> rows;
    train_report report;
    double first = -1;
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
        shuffler.shuffle(order);
        double sum = 0;
        int batches = 0;
        for (index_t from = 0; from < n; from += o.batch) {
            const index_t b = from + o.batch < n ? o.batch : n - from;
            rows.assign(order.begin() + from, order.begin() + from + b);
            SPARQ_TRY(ensure(xb, b, in));
            SPARQ_TRY(ensure(dlogits, b, classes));
            for (index_t r = 0; r < b; ++r)
                for (index_t k = 0; k < in; ++k) xb(r, k) = x(rows[std::size_t(r)], k);
            result<matrix_view<const float>> logits = forward(xb.cview());
            if (!logits) return logits.error();
            auto l = loss(*logits, rows, dlogits.view());
            if (!l) {
                char buf[240];
                return status(l.error().code(), "training stopped at epoch %d, step %lld: %s", epoch,
                              static_cast<long long>(report.steps + 1), l.error().what(buf, sizeof buf));
            }
            if (!std::isfinite(*l))
                return status(errc::invalid_argument, "training diverged at epoch %d, step %lld: the loss is %g (lower the learning rate?)",
                              epoch, static_cast<long long>(report.steps + 1), *l);
            if (first < 0) first = *l;
            if (*l > o.divergence_factor * std::fmax(first, 1e-2))
                return status(errc::invalid_argument,
                              "training diverged at epoch %d, step %lld: the loss %g is over %g times its first value %g (lower the learning rate?)",
                              epoch, static_cast<long long>(report.steps + 1), *l, o.divergence_factor, first);
            SPARQ_TRY(step(dlogits.view()));
            ++report.steps;
            sum += *l;
            ++batches;
        }
        if (!finite()) return status(errc::invalid_argument, "training diverged in epoch %d: a weight or bias is no longer finite", epoch);
        report.epoch_loss.push_back(sum / double(batches));
        if (o.on_epoch) o.on_epoch(epoch, report.epoch_loss.back());
    }
    return report;
}

}  // namespace detail

namespace detail {
// Softmax cross-entropy against labels[row] for the rows of each batch (labels outlive the loss).
inline loss_fn cross_entropy_on(const std::vector<std::int64_t>& labels) {
    return [&labels, yb = std::vector<std::int64_t>()](const matrix_view<const float>& logits, const std::vector<index_t>& rows,
                                                        const matrix_view<float>& grad) mutable {
        yb.resize(rows.size());
        for (std::size_t r = 0; r < rows.size(); ++r) yb[r] = labels[std::size_t(rows[r])];
        return softmax_cross_entropy(logits, vector_view<const std::int64_t>(yb.data(), {index_t(yb.size())}), grad);
    };
}
}  // namespace detail

// Trains layers in place on x [N, in_features] with the given loss.
inline result<train_report> train(std::vector<linear_layer>& layers, const matrix_view<const float>& x, const loss_fn& loss,
                                  const train_options& o) {
    SPARQ_TRY(check_inputs(layers, x));
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const linear_layer& l = layers[i];
        if (l.weight.empty()) return status(errc::shape_mismatch, "training: layer '%.60s' has an empty weight", l.name.c_str());
        if (!l.bias.empty() && index_t(l.bias.size()) != l.out_features())
            return status(errc::shape_mismatch, "training: layer '%.60s' has %zu biases for %td outputs", l.name.c_str(), l.bias.size(),
                          l.out_features());
    }
    for (std::size_t i = 1; i < layers.size(); ++i)
        if (layers[i - 1].out_features() != layers[i].in_features())
            return status(errc::shape_mismatch, "training: layer '%.60s' gives %td values, layer '%.60s' takes %td", layers[i - 1].name.c_str(),
                          layers[i - 1].out_features(), layers[i].name.c_str(), layers[i].in_features());
    SPARQ_TRY(detail::check_train_options(loss, o));
    if (o.masks) {
        SPARQ_TRY(apply_masks(layers, *o.masks));
    }
    auto opt = optimizer::make(layers, o.optim);
    if (!opt) return opt.error();
    auto grads = make_grads(layers);
    if (!grads) return grads.error();
    forward_cache cache;
    qat_state qat(o.qat ? layers.size() : 0);
    auto fwd = [&](const matrix_view<const float>& xb) -> result<matrix_view<const float>> {
        SPARQ_TRY(forward(layers, xb, cache, o.qat ? &qat : nullptr));
        return cache.logits().cview();
    };
    auto step = [&](const matrix_view<float>& dlogits) -> status {
        SPARQ_TRY(backward(layers, cache, dlogits, *grads, o.qat));
        if (o.masks) mask_grads(*grads, *o.masks);
        SPARQ_TRY(opt->step(layers, *grads));
        if (o.masks) SPARQ_TRY(apply_masks(layers, *o.masks));
        return status::success();
    };
    return detail::run_epochs(x, layers.back().out_features(), loss, o, fwd, step, [&] { return detail::all_finite(layers); });
}

// Plain supervised training with softmax cross-entropy on labels (one per row of x).
inline result<train_report> train_classifier(std::vector<linear_layer>& layers, const matrix_view<const float>& x,
                                             const std::vector<std::int64_t>& labels, const train_options& o) {
    if (layers.empty()) return status(errc::invalid_argument, "training: the model has no layers");
    const vector_view<const std::int64_t> all(labels.data(), {index_t(labels.size())});
    if (index_t(labels.size()) != x.extent(0))
        return status(errc::shape_mismatch, "training: %zu labels for %td samples", labels.size(), x.extent(0));
    SPARQ_TRY(check_labels(all, x.extent(0), layers.back().out_features(), "training labels"));
    return train(layers, x, detail::cross_entropy_on(labels), o);
}

namespace detail {
// logits [x rows, classes], running forward(rows) -> result<logits view> on batches of 256 rows.
template <class Forward>
result<tensor<float, 2>> predict_in_batches(const matrix_view<const float>& x, index_t classes, Forward&& forward) {
    auto out = tensor<float, 2>::make({x.extent(0), classes});
    if (!out) return out.error();
    for (index_t from = 0; from < x.extent(0); from += 256) {
        const index_t to = from + 256 < x.extent(0) ? from + 256 : x.extent(0);
        result<matrix_view<const float>> logits = forward(x.slice(0, from, to));
        if (!logits) return logits.error();
        for (index_t r = from; r < to; ++r)
            for (index_t j = 0; j < classes; ++j) (*out)(r, j) = (*logits)(r - from, j);
    }
    return out;
}
}  // namespace detail

// The fp32 logits of the layers on x, in batches of 256 (no fake quantization).
inline result<tensor<float, 2>> predict(const std::vector<linear_layer>& layers, const matrix_view<const float>& x) {
    if (layers.empty()) return status(errc::invalid_argument, "predict: the model has no layers");
    forward_cache c;
    return detail::predict_in_batches(x, layers.back().out_features(), [&](const matrix_view<const float>& xb) -> result<matrix_view<const float>> {
        SPARQ_TRY(forward(layers, xb, c));
        return c.logits().cview();
    });
}

// The fraction of rows whose largest logit is at their label (ties: the first).
inline result<double> accuracy(const matrix_view<const float>& logits, const std::vector<std::int64_t>& labels) {
    if (index_t(labels.size()) != logits.extent(0) || logits.extent(0) == 0)
        return status(errc::shape_mismatch, "accuracy: %zu labels for %td rows of logits", labels.size(), logits.extent(0));
    return double(count_correct(logits, labels)) / double(logits.extent(0));
}

inline result<double> accuracy(const std::vector<linear_layer>& layers, const matrix_view<const float>& x,
                               const std::vector<std::int64_t>& labels) {
    auto logits = predict(layers, x);
    if (!logits) return logits.error();
    return accuracy(logits->cview(), labels);
}

}  // namespace sparq::nn::train
