// The digits data set and compiled-model helpers the model, file and training suites share:
// the files under SPARQ_TEST_DATA_DIR/digits, a model run over a whole batch, bitwise equality.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/nn/compiled_model.hpp"

namespace digits_test {

inline std::string data_path(const char* name) { return std::string(SPARQ_TEST_DATA_DIR) + "/digits/" + name; }

inline sparq::tensor<float, 2> load_f32(const char* name) {
    auto a = sparq::io::read_npy(data_path(name).c_str());
    REQUIRE(a.ok());
    auto t = a->to_f32<2>(name);
    REQUIRE(t.ok());
    return std::move(*t);
}

inline std::vector<std::int64_t> load_labels(const char* name) {
    auto a = sparq::io::read_npy(data_path(name).c_str());
    REQUIRE(a.ok());
    auto l = a->to_labels(name);
    REQUIRE(l.ok());
    return std::move(*l);
}

// y = c on all of x, with an arena of the size it asks for.
inline sparq::tensor<float, 2> run(const sparq::nn::compiled_model& c, const sparq::tensor<float, 2>& x) {
    auto scratch = sparq::arena::with_capacity(c.scratch_bytes(x.extent(0)));
    REQUIRE(scratch.ok());
    sparq::context ctx;
    ctx.with_scratch(*scratch);
    auto y = sparq::tensor<float, 2>::make({x.extent(0), c.out_features()});
    REQUIRE(y.ok());
    REQUIRE(c.run(ctx, x.cview(), y->view()).ok());
    return std::move(*y);
}

inline bool same_bits(const sparq::tensor<float, 2>& a, const sparq::tensor<float, 2>& b) {
    return a.extents() == b.extents() && std::memcmp(a.data(), b.data(), std::size_t(a.size()) * sizeof(float)) == 0;
}

}  // namespace digits_test
