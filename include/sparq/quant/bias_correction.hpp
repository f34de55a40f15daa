// Bias correction: weight quantization moves the mean of each output channel by
// E[(Wq - W) x]; with the mean input over the calibration data it is subtracted from the bias
// (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias Correction", ICCV
// 2019, sec. 4.2, the empirical form; NNCF's FastBiasCorrection). It changes only float biases
// at compile time: the int8 kernels and their bit-exact tests are untouched. It matters where a
// channel sums few weights of a mostly positive input (depthwise 3x3 after ReLU6: MobileNet).
#pragma once

#include <cstdint>
#include <vector>

#include "sparq/core/shape.hpp"

namespace sparq::quant {

// The mean of each channel of x: n samples of `channels` x `inner` values each (a conv's
// input: inner = H * W; a linear layer's: channels = K features, inner 1; a linear layer on
// each row of a sequence: n * rows samples).
inline std::vector<double> channel_means(const float* x, index_t n, index_t channels, index_t inner) {
    std::vector<double> m(std::size_t(channels), 0.0);
    for (index_t s = 0; s < n; ++s)
        for (index_t c = 0; c < channels; ++c) {
            const float* p = x + (s * channels + c) * inner;
            double sum = 0;
            for (index_t i = 0; i < inner; ++i) sum += p[i];
            m[std::size_t(c)] += sum;
        }
    const double count = double(n) * double(inner);
    for (double& v : m) v = count > 0 ? v / count : 0.0;
    return m;
}

// bias[o] -= sum over o's weights of (code * scale[o] - w) * mean of the input channel the
// weight reads. Weights [O, per] with per = (C / groups) * taps; output channel o reads input
// channels (o / (O / groups)) * (C / groups) + j, each over `taps` weights (1 for a linear layer).
inline void correct_bias(const float* w, const std::int8_t* codes, const std::vector<float>& scale, index_t out_channels, index_t per,
                         index_t taps, index_t groups, const std::vector<double>& input_means, std::vector<float>& bias) {
    if (bias.empty()) bias.assign(std::size_t(out_channels), 0.0f);
    const index_t in_per_group = per / taps, out_per_group = out_channels / groups;
    for (index_t o = 0; o < out_channels; ++o) {
        const index_t first_in = (o / out_per_group) * in_per_group;
        double shift = 0;
        for (index_t j = 0; j < in_per_group; ++j) {
            double err = 0;
            for (index_t t = 0; t < taps; ++t) {
                const index_t e = o * per + j * taps + t;
                err += double(codes[e]) * double(scale[std::size_t(o)]) - double(w[e]);
            }
            shift += err * input_means[std::size_t(first_in + j)];
        }
        bias[std::size_t(o)] = float(double(bias[std::size_t(o)]) - shift);
    }
}

}  // namespace sparq::quant
