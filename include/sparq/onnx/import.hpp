// ONNX import: an .onnx file (or its bytes) becomes an nn::model. This header is plain C++; the
// implementation is the compiled component sparq::onnx (src/onnx/, built on Debian's libonnx-dev
// and libprotobuf-dev), so the header-only core never sees protobuf:
//
//   find_package(sparq CONFIG REQUIRED COMPONENTS onnx)
//   target_link_libraries(app PRIVATE sparq::onnx)
//
// What is imported, and how (docs/onnx-import.md): values may be aliased (Identity, Dropout,
// no-op Reshape / Cast); shape subgraphs on constants (Shape, Gather, Unsqueeze, Concat, Slice,
// Range, arithmetic ...) are folded, so dynamic-batch exports load; every attribute of a
// supported op is honoured or the node is refused with its name, op and the reason. Fusions
// (BatchNormalization into Conv / Gemm, activations, bias adds, GELU / SiLU / HardSwish
// patterns) happen in nn/fuse.hpp, only where the intermediate value has one consumer and is
// not a graph output.
#pragma once

#include <cstddef>

#include "sparq/core/status.hpp"
#include "sparq/nn/model.hpp"

namespace sparq::onnx {

struct import_options {
    // Run nn::fuse on the imported graph (folds BatchNormalization, activations, patterns).
    bool fuse = true;
    // Files above this many bytes are refused before parsing (protobuf's own limit is 2 GiB).
    std::size_t max_file_bytes = std::size_t(1) << 31;
    // Models whose one sample costs more work (nn/work.hpp: MACs, pooling taps, values moved) or
    // memory are refused: a file from a stranger cannot make a run take hours or terabytes.
    nn::load_limits limits;
};

// The model in an .onnx file.
result<nn::model> import_file(const char* path, const import_options& o = {});
// The model in an ONNX ModelProto held in memory; `source` names it in messages.
result<nn::model> import_bytes(const unsigned char* data, std::size_t size, const char* source, const import_options& o = {});

}  // namespace sparq::onnx
