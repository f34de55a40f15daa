// Quantization: qparams and schemes, observers, requantization, metrics; the bulk operations
// (quantize, dequantize, fake_quant, int4 packing) are in kernels/quantize.hpp.
#pragma once

#include "sparq/kernels/quantize.hpp"
#include "sparq/quant/calibrate.hpp"
#include "sparq/quant/calibration_inputs.hpp"
#include "sparq/quant/histogram.hpp"
#include "sparq/quant/metrics.hpp"
#include "sparq/quant/observer_entropy.hpp"
#include "sparq/quant/observer_histogram.hpp"
#include "sparq/quant/observer_minmax.hpp"
#include "sparq/quant/observer_mse.hpp"
#include "sparq/quant/observer_percentile.hpp"
#include "sparq/quant/qparams.hpp"
#include "sparq/quant/requantize.hpp"
#include "sparq/quant/rounding.hpp"
#include "sparq/quant/scheme.hpp"
