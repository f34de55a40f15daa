// read_inputs, draw_progress, load_sparq_to_run (see model_loading.hpp).
#include "model_loading.hpp"

#include <unistd.h>

#include <cstdio>

#include "sparq/io/npy.hpp"
#include "sparq/io/sparq_format.hpp"

namespace sparq_cli {

using namespace sparq;

result<tensor<float, 2>> read_inputs(const std::string& path, const nn::sample_shape& shape) {
    auto a = io::read_npy(path.c_str());
    if (!a) return a.error();
    if (a->type != io::npy_type::f32 && a->type != io::npy_type::f64)
        return status(errc::dtype_mismatch, "%s: expected float32 data, got %s", path.c_str(), io::to_string(a->type));
    const index_t features = shape[0] * shape[1] * shape[2];
    std::string have = "(";
    for (std::size_t k = 0; k < a->shape.size(); ++k) have += (k ? ", " : "") + std::to_string(a->shape[k]);
    have += a->shape.size() == 1 ? ",)" : ")";
    bool fits = a->shape.size() == 2 && a->shape[1] == features;
    if (!fits && a->shape.size() >= 3 && a->shape.size() <= 4) {
        // the dims after the batch, as the model holds a sample: padded with trailing ones
        nn::sample_shape s{1, 1, 1};
        for (std::size_t k = 1; k < a->shape.size(); ++k) s[k - 1] = a->shape[k];
        fits = s == shape;
    }
    if (!fits)
        return status(errc::shape_mismatch,
                      "%s: shape %s does not fit the model's input (batch, %td, %td, %td) or (batch, %td)",
                      path.c_str(), have.c_str(), shape[0], shape[1], shape[2], features);
    a->shape = {a->shape[0], features};  // C order: the same bytes as rows of C*H*W
    return a->to_f32<2>(path.c_str());
}

void draw_progress(void* what, std::size_t done, std::size_t total) {
    if (!isatty(fileno(stderr)) || total == 0) return;
    const int width = 30, filled = int(done * std::size_t(width) / total);
    std::fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu", static_cast<const char*>(what), filled,
                 "##############################", width - filled, "", done, total);
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

result<nn::compiled_model> load_sparq_to_run(const std::string& path, const nn::load_limits& limits) {
    auto c = io::load_sparq(path.c_str(), std::size_t(1) << 31, limits);
    if (!c) return c.error();
    nn::compiled_parts parts = c->parts();
    if (parts.prec != nn::precision::int8) return c;
    parts.sparse_int8 = true;
    return nn::compiled_model::from_parts(std::move(parts));
}

}  // namespace sparq_cli
