// Quantization-aware training: the forward pass sees weights and activations as the int8 model
// will (fake quantization: quantize then dequantize, in float), and the backward pass lets the
// gradient through unchanged where the value was inside the quantization range and stops it
// where it was clipped (the straight-through estimator of Bengio et al. 2013, as PyTorch's
// FakeQuantize). The schemes are those of nn::compiled_model's int8:
//   weights      per-channel (per output row) symmetric int8, [-127, 127], from the current weights
//   activations  per-tensor int8, ranges observed on the training batches with a moving-average
//                min-max (PyTorch's QAT default, averaging constant 0.01)
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/core/context.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/quant/calibrate.hpp"
#include "sparq/quant/observer_minmax.hpp"

namespace sparq::nn::train {

// The weights' fake quantization: wq = fake_quant(w), pass = 1 where the gradient flows.
inline status fake_quant_weights(const matrix_view<const float>& w, tensor<float, 2>& wq, tensor<std::uint8_t, 2>& pass) {
    auto q = quant::calibrate_weights(w, quant::qscheme::weights_s8_per_channel(0));
    if (!q) return q.error();
    if (wq.extents() != w.extents()) {
        auto t = tensor<float, 2>::make(w.extents());
        if (!t) return t.error();
        wq = std::move(*t);
        auto m = tensor<std::uint8_t, 2>::make(w.extents());
        if (!m) return m.error();
        pass = std::move(*m);
    }
    return kernels::fake_quant(context(), w, *q, wq.view(), pass.view());
}

// One observed activation tensor (a layer's input): the moving-average range and its fake quant.
class activation_fake_quant {
public:
    explicit activation_fake_quant(float averaging_constant = 0.01f)
        : observer_(quant::qscheme::activations_s8(), quant::nonfinite::error, averaging_constant) {}

    // Observe x (training), then x <- fake_quant(x) in place, pass = 1 where the gradient flows.
    status observe_and_apply(const matrix_view<float>& x, tensor<std::uint8_t, 2>& pass) {
        SPARQ_TRY(observer_.observe(x.as_const()));
        auto q = observer_.compute();
        if (!q) return q.error();
        if (pass.extents() != x.extents()) {
            auto m = tensor<std::uint8_t, 2>::make(x.extents());
            if (!m) return m.error();
            pass = std::move(*m);
        }
        // fake_quant reads x and writes y element by element: in place is safe
        return kernels::fake_quant(context(), x.as_const(), *q, x, pass.view());
    }

private:
    quant::minmax_observer observer_;
};

// QAT of a whole MLP: one observer per layer input (the model input, then each hidden output).
struct qat_state {
    std::vector<activation_fake_quant> inputs;
    explicit qat_state(std::size_t layers = 0) : inputs(layers) {}
};

}  // namespace sparq::nn::train
