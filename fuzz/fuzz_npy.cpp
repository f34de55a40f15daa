// libFuzzer target: .npy files (io::parse_npy). Any input gives an array or a status; an
// accepted array's bytes are exactly its shape's, and converting it never fails unexpectedly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sparq/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto a = sparq::io::parse_npy(data, size, "fuzz.npy", std::size_t(1) << 24);
    if (!a.ok()) return 0;
    if (a->bytes.size() != std::size_t(a->count()) * sparq::io::size_of(a->type)) std::abort();
    if (a->shape.size() == 2) (void)a->to_f32<2>("fuzz");
    if (a->shape.size() == 1) (void)a->to_labels("fuzz");
    return 0;
}
