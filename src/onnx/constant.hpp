// Constants during ONNX import: initializers, Constant nodes and everything folded from them
// (shape subgraphs: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, weights' arithmetic).
// Float tensors keep float32 values; integer and bool tensors keep int64 (shapes, indices).
// The batch extent of a dynamic-batch value is not known at import: Shape() writes it as
// `batch_dim`, which folding carries through Gather / Concat / Slice / Unsqueeze and which
// Reshape reads as "the batch, unchanged"; arithmetic on it is refused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sparq/core/shape.hpp"
#include "sparq/core/status.hpp"

namespace onnx {
class TensorProto;
}

namespace sparq::onnx_import {

inline constexpr std::int64_t batch_dim = -(std::int64_t(1) << 40);

// The most elements one folded constant may have: shape arithmetic is small, and this bounds
// what a hostile file can make a fold allocate (the importer also bounds their total).
inline constexpr index_t max_folded_elements = index_t(1) << 24;

// The element count of dims, or -1 when a dim is negative or the count (of the nonzero dims:
// strides over an empty tensor must not overflow either) passes `max`.
inline index_t checked_count(const std::vector<index_t>& dims, index_t max) noexcept {
    index_t n = 1, nonzero = 1;
    for (index_t d : dims) {
        if (d < 0 || d > max) return -1;
        if (d == 0) n = 0;
        else if (nonzero > max / d) return -1;
        else nonzero *= d, n *= d;
    }
    return n;
}

struct constant {
    std::vector<index_t> dims;
    bool integer = false;          // int64 / int32 / bool data in i, else float32 data in f
    std::vector<float> f;
    std::vector<std::int64_t> i;

    index_t size() const noexcept {
        index_t n = 1;
        for (index_t d : dims) n *= d;
        return n;
    }
    double at(index_t k) const noexcept { return integer ? double(i[std::size_t(k)]) : double(f[std::size_t(k)]); }
    bool has_batch_dim() const noexcept {
        for (std::int64_t v : i)
            if (v == batch_dim) return true;
        return false;
    }
};
using constant_ptr = std::shared_ptr<const constant>;

// Element counts are bounded (2^31 values) and checked against the bytes present.
result<constant> read_tensor(const ::onnx::TensorProto& t, const std::string& where);

// The folded forms of the ops shape subgraphs use; `where` names the node in messages.
enum class fold_binary { add, sub, mul, div, pow, equal, less, greater };
result<constant> fold_elementwise(fold_binary kind, const constant& a, const constant& b, const std::string& where);
result<constant> fold_gather(const constant& data, const constant& indices, std::int64_t axis, const std::string& where);
result<constant> fold_concat(const std::vector<const constant*>& parts, std::int64_t axis, const std::string& where);
result<constant> fold_slice(const constant& data, const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                            const std::vector<std::int64_t>& axes, const std::vector<std::int64_t>& steps, const std::string& where);
result<constant> fold_unary(const std::string& op, const constant& a, const std::string& where);
// numpy broadcasting of two shapes, or a status.
result<std::vector<index_t>> broadcast_dims(const std::vector<index_t>& a, const std::vector<index_t>& b, const std::string& where);

}  // namespace sparq::onnx_import
