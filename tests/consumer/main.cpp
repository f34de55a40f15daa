// Uses the installed headers the way an application would and checks a few results.
#include <sparq/sparq.hpp>

#include <cstdio>

int main() {
    auto t = sparq::tensor<float, 2>::make({3, 4});
    if (!t) return std::printf("tensor: %s\n", t.error().message()), 1;
    for (sparq::index_t i = 0; i < 3; ++i)
        for (sparq::index_t j = 0; j < 4; ++j) (*t)(i, j) = static_cast<float>(i * 4 + j) + 0.5f;

    sparq::float16 h[12];
    sparq::convert(t->data(), h, 12);
    for (int i = 0; i < 12; ++i)
        if (float(h[i]) != static_cast<float>(i) + 0.5f) return std::printf("float16 mismatch at %d\n", i), 1;

    auto bad = sparq::tensor<float, 2>::make({-1, 4});
    if (bad.ok()) return std::printf("negative extent accepted\n"), 1;

    std::printf("sparq %s consumer ok (float16 path: %s, xsimd: %d, dnnl: %d)\n", sparq::version_string,
                sparq::float16_convert_path(), int(sparq::backend_compiled(sparq::backend::xsimd)),
                int(sparq::backend_compiled(sparq::backend::dnnl)));
    return 0;
}
