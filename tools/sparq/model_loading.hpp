// What the commands that run a model share: inputs read in the model's shape, a progress bar
// for int8 calibration, and a .sparq file loaded to run the way `sparq compress` compiled it.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "sparq/nn/work.hpp"

namespace sparq_cli {

inline bool ends_with(const std::string& s, const char* tail) {
    const std::size_t n = std::strlen(tail);
    return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

// Inputs from a .npy file in the model's own shape (N x C x H x W for an image model, N x F for
// a vector) or flattened to [N, C*H*W], as float32 rows; anything else is an error naming both.
sparq::result<sparq::tensor<float, 2>> read_inputs(const std::string& path, const sparq::nn::sample_shape& shape);

// compile_options::progress: a bar on stderr while int8 calibration runs, when stderr is a
// terminal; `what` (a const char*) labels it.
void draw_progress(void* what, std::size_t done, std::size_t total);

// A .sparq file, checked against `limits`; a pruned int8 model's layers that are at least half
// zeros run from CSRs, as compress compiled them (the file holds what the model is; how it runs
// is decided here).
sparq::result<sparq::nn::compiled_model> load_sparq_to_run(const std::string& path,
                                                           const sparq::nn::load_limits& limits);

}  // namespace sparq_cli
