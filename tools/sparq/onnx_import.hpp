// Models for the `sparq` program from their files: .onnx through the sparq::onnx component
// (when this build has it), .safetensors graphs through io/model_safetensors.hpp.
#pragma once


#include "sparq/core/status.hpp"
#include "sparq/nn/model.hpp"

namespace sparq_cli {

// True when this build has ONNX import (libonnx-dev + libprotobuf-dev were found).
bool onnx_available() noexcept;

// A model from a .onnx or .safetensors file, by its extension; refused when one sample costs
// more than `limits` allow (nn/work.hpp).
sparq::result<sparq::nn::model> load_any_model(const char* path, const sparq::nn::load_limits& limits = {});

}  // namespace sparq_cli
