// Models for the `sparq` program from their files: .onnx through the sparq::onnx component
// (when this build has it), .safetensors graphs through io/model_safetensors.hpp.
#pragma once

#include <cstdint>

#include "sparq/core/status.hpp"
#include "sparq/nn/model.hpp"

namespace sparq_cli {

// True when this build has ONNX import (libonnx-dev + libprotobuf-dev were found).
bool onnx_available() noexcept;

// A model from a .onnx or .safetensors file, by its extension; refused when one sample costs
// more than max_work (nn/work.hpp).
sparq::result<sparq::nn::model> load_any_model(const char* path, std::uint64_t max_work = sparq::nn::default_max_work);

}  // namespace sparq_cli
