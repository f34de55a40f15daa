// NCHW -> NHWC of a [N, C, H, W] tensor held in a vector: how the kernel tests bring a reference
// result to the channels-last layout the kernels under test write.
#pragma once

#include <cstddef>
#include <vector>

#include "sparq/core/shape.hpp"

namespace sparq_test {

template <class T>
std::vector<T> to_nhwc(const std::vector<T>& v, const sparq::extents_t<4>& e) {
    std::vector<T> out(v.size());
    const sparq::index_t c_n = e[1], plane = e[2] * e[3];
    for (sparq::index_t n = 0; n < e[0]; ++n)
        for (sparq::index_t c = 0; c < c_n; ++c)
            for (sparq::index_t q = 0; q < plane; ++q)
                out[std::size_t((n * plane + q) * c_n + c)] = v[std::size_t((n * c_n + c) * plane + q)];
    return out;
}

}  // namespace sparq_test
