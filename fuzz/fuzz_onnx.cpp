// libFuzzer target: ONNX models (the sparq program's importer, over protobuf). Any input gives
// a model that validates or a status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "onnx_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = sparq_cli::import_onnx_bytes(data, size, "fuzz.onnx");
    if (m.ok() && !m->validate().ok()) std::abort();
    return 0;
}
