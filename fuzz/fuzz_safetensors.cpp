// libFuzzer target: safetensors files (io::safetensors_file::parse). Any input gives a file or a
// status; every accepted tensor's bytes lie inside the data and can be read as floats or refused.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sparq/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto f = sparq::io::safetensors_file::parse(data, size, "fuzz.safetensors");
    if (!f.ok()) return 0;
    for (const auto& e : f->entries()) {
        if (e.end < e.begin || e.end > size) std::abort();
        if (e.shape.size() == 1) (void)f->f32<1>(e.name);
        if (e.shape.size() == 2) (void)f->f32<2>(e.name);
    }
    return 0;
}
