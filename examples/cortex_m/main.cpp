// Firmware-style inference: a model exported by `sparq export-c` (MODEL_HEADER, namespace
// MODEL_NS) run on the digits test images, one at a time, over one static buffer. No heap, no
// exceptions, no RTTI; the same source runs on a Cortex-M (startup.cpp, under qemu-system-arm)
// and on the host (platform_host.cpp). Each output row is printed as the hexadecimal bytes of
// its floats in memory order, so a test can compare it with `sparq run`'s .npy byte for byte;
// the last line gives the stack's high-water mark and the buffer size. The entry point is
// example_main(): the platform calls it (ISO C++ lets no program call main itself).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include MODEL_HEADER
#include "platform.hpp"
#include "test_inputs.h"  // test_input_bytes, test_input_rows: generated from data/digits/test_x.npy

static_assert(sizeof(test_input_bytes) == test_input_rows * MODEL_NS::in_features * sizeof(float),
              "the test images do not have the model's input size");

namespace {

// The firmware's whole working memory for a sample, sized by the generated header.
alignas(16) unsigned char buffer[MODEL_NS::buffer_bytes];

char* put_hex(char* out, const void* data, std::size_t bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    const auto* b = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) {
        *out++ = digits[b[i] >> 4];
        *out++ = digits[b[i] & 15];
    }
    return out;
}

char* put_decimal(char* out, std::size_t v) {
    char tmp[24];
    int n = 0;
    do tmp[n++] = char('0' + v % 10); while ((v /= 10) != 0);
    while (n > 0) *out++ = tmp[--n];
    return out;
}

}  // namespace

int example_main() {
    float x[MODEL_NS::in_features];
    float y[MODEL_NS::out_features];
    char line[2 * sizeof y + 2];
    for (std::size_t row = 0; row < test_input_rows; ++row) {
        std::memcpy(x, test_input_bytes + row * sizeof x, sizeof x);
        const sparq::status s = MODEL_NS::run(x, y, buffer, sizeof buffer);
        if (!s) {
            platform::write("firmware: ");
            platform::write(s.message());
            platform::write("\n");
            return 1;
        }
        char* end = put_hex(line, y, sizeof y);
        *end++ = '\n';
        *end = '\0';
        platform::write(line);
    }
    char summary[96] = "stack_bytes ";
    char* end = put_decimal(summary + std::strlen(summary), platform::stack_used());
    std::memcpy(end, " buffer_bytes ", 14);
    end = put_decimal(end + 14, sizeof buffer);
    *end++ = '\n';
    *end = '\0';
    platform::write(summary);
    return 0;
}
