// libFuzzer target: ONNX models through the sparq::onnx importer (protobuf parsing, constant
// folding, every op's checks, nn::fuse). Any input gives a model that validates or a status; a
// model that imports compiles in fp32 and, when small, runs one sample of zeros: whatever the
// importer accepts must be safe to run.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/nn/compiled_model.hpp"
#include "sparq/onnx/import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    sparq::onnx::import_options o;
    o.limits.max_work = 100000000;
    o.limits.max_memory = std::uint64_t(1) << 28;  // (a fuzzed model runs once per input: keep each run short)
    auto m = sparq::onnx::import_bytes(data, size, "fuzz.onnx", o);
    if (!m.ok()) return 0;
    if (!m->validate().ok()) std::abort();
    auto c = sparq::nn::compiled_model::compile(*m, {});
    if (!c.ok() || c->scratch_bytes(1) > (std::size_t(1) << 24)) return 0;
    auto scratch = sparq::arena::with_capacity(c->scratch_bytes(1));
    if (!scratch.ok()) return 0;
    sparq::context ctx;
    ctx.with_scratch(*scratch);
    std::vector<float> x(std::size_t(c->in_features()), 0.0f), y(std::size_t(c->out_features()));
    (void)c->run(ctx, sparq::matrix_view<const float>(x.data(), {1, c->in_features()}),
                 sparq::matrix_view<float>(y.data(), {1, c->out_features()}));
    return 0;
}
