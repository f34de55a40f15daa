// libFuzzer target: ONNX models through the sparq::onnx importer (protobuf parsing, constant
// folding, every op's checks, nn::fuse). Any input gives a model that validates or a status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sparq/onnx/import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = sparq::onnx::import_bytes(data, size, "fuzz.onnx");
    if (m.ok() && !m->validate().ok()) std::abort();
    return 0;
}
