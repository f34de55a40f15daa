// Import an .onnx model, compile it to int8 with calibration inputs, run it and compare with
// the fp32 model: the whole path a C++ application takes, through the sparq::onnx component.
//
//   example_import_onnx MODEL.onnx CALIB.npy [INPUT.npy]
//
// CALIB.npy and INPUT.npy hold float32 samples in the model's input shape (N x C x H x W, or
// N x features). Prints each output row's largest logit in fp32 and int8 and their cosine.
#include <sparq/io/npy.hpp>
#include <sparq/nn/compiled_model.hpp>
#include <sparq/onnx/import.hpp>

#include <cmath>
#include <cstdio>

namespace {

// The rows of an .npy file as [N, features] (any N x ... layout in C order).
sparq::result<sparq::tensor<float, 2>> read_rows(const char* path, sparq::index_t features) {
    auto a = sparq::io::read_npy(path);
    if (!a) return a.error();
    if (a->shape.empty()) return sparq::status(sparq::errc::shape_mismatch, "%s: a scalar", path);
    sparq::index_t per = 1;
    for (std::size_t k = 1; k < a->shape.size(); ++k) per *= a->shape[k];
    if (per != features) return sparq::status(sparq::errc::shape_mismatch, "%s: %td values a row, the model takes %td", path, per, features);
    a->shape = {a->shape[0], per};
    return a->to_f32<2>(path);
}

sparq::status run(const sparq::nn::compiled_model& m, const sparq::tensor<float, 2>& x, sparq::tensor<float, 2>& y) {
    auto scratch = sparq::arena::with_capacity(m.scratch_bytes(x.extent(0)));
    if (!scratch) return scratch.error();
    sparq::context ctx;
    return m.run(ctx.with_scratch(*scratch), x.cview(), y.view());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return std::fprintf(stderr, "usage: %s MODEL.onnx CALIB.npy [INPUT.npy]\n", argv[0]), 2;
    auto model = sparq::onnx::import_file(argv[1]);
    if (!model) return std::fprintf(stderr, "%s\n", model.error().message()), 1;
    auto calib = read_rows(argv[2], model->in_features());
    auto x = read_rows(argc > 3 ? argv[3] : argv[2], model->in_features());
    if (!calib || !x) return std::fprintf(stderr, "%s\n", (!calib ? calib.error() : x.error()).message()), 1;

    auto fp32 = sparq::nn::compiled_model::compile(*model, {});
    sparq::nn::compile_options o;
    o.prec = sparq::nn::precision::int8;
    o.calibration = calib->cview();
    auto int8 = sparq::nn::compiled_model::compile(*model, o);
    if (!fp32 || !int8) return std::fprintf(stderr, "%s\n", (!fp32 ? fp32.error() : int8.error()).message()), 1;

    auto y32 = sparq::tensor<float, 2>::make({x->extent(0), fp32->out_features()});
    auto y8 = sparq::tensor<float, 2>::make({x->extent(0), int8->out_features()});
    if (!y32 || !y8) return 1;
    for (auto s : {run(*fp32, *x, *y32), run(*int8, *x, *y8)})
        if (!s.ok()) return std::fprintf(stderr, "%s\n", s.message()), 1;
    double dot = 0, n32 = 0, n8 = 0;
    for (sparq::index_t i = 0; i < y32->size(); ++i) {
        dot += double(y32->data()[i]) * y8->data()[i];
        n32 += double(y32->data()[i]) * y32->data()[i];
        n8 += double(y8->data()[i]) * y8->data()[i];
    }
    std::printf("%s: %zu nodes, %td -> %td features; stored fp32 %zu bytes, int8 %zu bytes\n", argv[1], model->nodes.size(),
                model->in_features(), fp32->out_features(), fp32->stored_bytes(), int8->stored_bytes());
    const double cosine = dot / std::sqrt(n32 * n8 + 1e-30);
    std::printf("cosine(int8, fp32) over %td rows: %.5f\n", x->extent(0), cosine);
    return cosine > 0.9 ? 0 : 1;
}
