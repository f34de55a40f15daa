// ONNX import for the `sparq` program (it needs libonnx + protobuf, so it lives here, not in
// the header library): an ONNX graph of fully connected layers becomes an nn::model.
// Supported so far: chains of Gemm (or MatMul + Add) with Relu / Clip(0, 6) after them, and
// Flatten / Identity / Dropout, which change nothing on [batch, features] data. Any other op, a
// branch, or a weight that is not a constant is refused with the node named.
#pragma once

#include "sparq/core/status.hpp"
#include "sparq/nn/model.hpp"

namespace sparq_cli {

// True when this build has ONNX import (libonnx-dev + libprotobuf-dev were found).
bool onnx_available() noexcept;

sparq::result<sparq::nn::model> import_onnx(const char* path);
// Parses an ONNX model held in memory; `source` names it in messages.
sparq::result<sparq::nn::model> import_onnx_bytes(const unsigned char* data, std::size_t size, const char* source);

// A model from a .onnx or .safetensors file, by its extension.
sparq::result<sparq::nn::model> load_any_model(const char* path);

}  // namespace sparq_cli
