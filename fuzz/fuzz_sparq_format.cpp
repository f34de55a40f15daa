// libFuzzer target: .sparq files (io::parse_sparq: decode, then compiled_model::from_parts).
// Each input is tried as it is (the checksums turn away almost every mutation), then with its
// header and payload CRCs recomputed, so mutations reach the section parser and from_parts.
// Any input gives a model or a status. An accepted file of the current version re-encodes to the same
// bytes (the format is canonical; optional sections a reader skips make it shorter), and the
// model runs one sample of zeros when its scratch is small: whatever from_parts accepts must
// be safe to run. Every model that loads is also exported as a firmware header (export-c), whose
// text must hold no byte from the file raw: printable ASCII and newlines only (io/c_escape.hpp).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/io/export_c.hpp"
#include "sparq/io/sparq_format.hpp"

namespace {

void try_model(const unsigned char* data, std::size_t size) {
    auto m = sparq::io::parse_sparq(data, size, "fuzz.sparq");
    if (!m.ok()) return;
    const std::string again = sparq::io::encode_sparq(m->parts());
    // (older minor versions are re-encoded as the current one: other bytes)
    const bool current = data[10] == sparq::io::sparq_format_minor && data[11] == 0;
    if (current && again.size() == size && std::memcmp(again.data(), data, size) != 0) std::abort();
    if (auto header = sparq::io::export_c(m->parts(), "fuzz_model", "fuzz\n*/.sparq"); header.ok())
        for (unsigned char ch : *header)
            if ((ch < 0x20 && ch != '\n') || ch > 0x7e) std::abort();
    if (m->scratch_bytes(1) > (std::size_t(1) << 24) || m->work_per_sample() > 100000000) return;
    auto scratch = sparq::arena::with_capacity(m->scratch_bytes(1));
    if (!scratch.ok()) return;
    sparq::context ctx;
    ctx.with_scratch(*scratch);
    std::vector<float> x(std::size_t(m->in_features()), 0.0f), y(std::size_t(m->out_features()));
    (void)m->run(ctx, sparq::matrix_view<const float>(x.data(), {1, m->in_features()}),
                 sparq::matrix_view<float>(y.data(), {1, m->out_features()}));
}

void put_u32(unsigned char* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try_model(data, size);
    if (size < sparq::io::sparq_header_bytes) return 0;
    std::vector<unsigned char> fixed(data, data + size);
    put_u32(&fixed[24], sparq::io::crc32(fixed.data() + 32, size - 32));
    put_u32(&fixed[28], sparq::io::crc32(fixed.data(), 28));
    try_model(fixed.data(), size);
    return 0;
}
