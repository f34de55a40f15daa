// A model exported by `sparq export-c` running as firmware runs it: one sample at a time over
// a static buffer, no heap, no exceptions, no RTTI (this file is built with -fno-exceptions
// -fno-rtti). The inference itself is MODEL_NS::run(); everything else here is the host-side
// harness that feeds it the digits test images from a .npy file and writes its outputs as .npy,
// so a test can compare them byte for byte with `sparq run` of the same .sparq file.
//   sparq compress data/digits/mlp.safetensors -o mlp.sparq --quant int8 --calib data/digits/train_x.npy
//   sparq export-c mlp.sparq -o digits_mlp_int8.h --name digits_mlp
//   c++ -std=c++17 -ffp-contract=off -fno-exceptions -fno-rtti -Iinclude -I.
//       -DMODEL_HEADER='"digits_mlp_int8.h"' -DMODEL_NS=digits_mlp examples/firmware_digits.cpp
#include <cstdio>
#include <vector>

#include MODEL_HEADER
#include "sparq/io/npy.hpp"

namespace {
// The firmware's whole working memory: a static array, sized by the generated header.
alignas(16) unsigned char buffer[MODEL_NS::buffer_bytes];
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s X.npy Y.npy\n", argv[0]);
        return 2;
    }
    auto a = sparq::io::read_npy(argv[1]);
    if (!a) return std::fprintf(stderr, "%s\n", a.error().message()), 1;
    auto x = a->to_f32<2>(argv[1]);
    if (!x) return std::fprintf(stderr, "%s\n", x.error().message()), 1;
    if (std::size_t(x->extent(1)) != MODEL_NS::in_features)
        return std::fprintf(stderr, "%s: %td features, the model takes %zu\n", argv[1], x->extent(1), MODEL_NS::in_features), 1;
    std::vector<float> y(std::size_t(x->extent(0)) * MODEL_NS::out_features);
    for (sparq::index_t i = 0; i < x->extent(0); ++i) {
        const sparq::status s = MODEL_NS::run(&(*x)(i, 0), &y[std::size_t(i) * MODEL_NS::out_features], buffer, sizeof buffer);
        if (!s) return std::fprintf(stderr, "sample %td: %s\n", i, s.message()), 1;
    }
    const sparq::status w = sparq::io::write_npy(argv[2], y.data(), {x->extent(0), sparq::index_t(MODEL_NS::out_features)});
    if (!w) return std::fprintf(stderr, "%s\n", w.message()), 1;
    std::printf("wrote %s: %td samples through %s\n", argv[2], x->extent(0), MODEL_HEADER);
    return 0;
}
