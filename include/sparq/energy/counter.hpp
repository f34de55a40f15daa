// counter: exact integer counts of the work kernels did. Energy is a cost model's business
// (cost_model.hpp, estimate.hpp); the counter only records what happened, and what the same
// work would have been at fp32 dense (the baseline every saving is measured against).
//
// - Multiply-accumulates by the precision of the multiply: dense, and sparse (only the stored
//   nonzeros are multiplied; the dense MACs they stand for are kept for the baseline).
// - Standalone additions (bias, residual, pooling) by precision.
// - Bytes moved, by traffic kind (weights, activations, sparse indices), each tensor's bytes
//   binned by its footprint (the tensor's size, rounded up to a power of two) so a memory model
//   can later charge them to the level the tensor fits in: bounded, no heap, no list of tensors.
//
// Kernels add to a counter only when the context holds one: one pointer test per call and a
// few integer additions, nothing per MAC. A counter is not shared between threads: each
// thread counts into its own and the owner merges them with += at the end (no atomics).
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparq/core/dtype.hpp"

namespace sparq::energy {

enum class traffic : std::uint8_t { weights, activations, indices };
inline constexpr std::size_t traffic_kinds = 3;

constexpr const char* to_string(traffic t) noexcept {
    switch (t) {
        case traffic::weights: return "weights";
        case traffic::activations: return "activations";
        case traffic::indices: return "indices";
    }
    return "?";
}

// Footprint classes: class c holds tensors of (2^(c-1), 2^c] bytes (class 0: 0 or 1 byte).
inline constexpr std::size_t footprint_classes = 64;

constexpr std::size_t footprint_class(std::uint64_t bytes) noexcept {
    if (bytes <= 1) return 0;
#if defined(__GNUC__)
    const std::size_t c = 64 - std::size_t(__builtin_clzll(bytes - 1));  // ceil(log2(bytes))
#else
    std::size_t c = 0;
    while (c < 64 && (std::uint64_t(1) << c) < bytes) ++c;
#endif
    return c < footprint_classes ? c : footprint_classes - 1;
}

// Bytes of `elements` values of type t (s4 packs two per byte).
constexpr std::uint64_t bytes_of(dtype t, std::uint64_t elements) noexcept { return (elements * bits_of(t) + 7) / 8; }

class counter {
public:
    static constexpr std::size_t dtypes = 7;  // one slot per sparq::dtype

    // n dense multiply-accumulates whose multiply is in precision p (f16 / bf16 weights widened
    // to f32 for the multiply count as f32; s8 covers s8 or u8 x s8 -> s32).
    void add_macs(dtype p, std::uint64_t n) noexcept {
        macs_[index(p)] += n;
        baseline_macs_ += n;
    }
    // n multiply-accumulates over stored nonzeros, standing for dense_n dense ones.
    void add_sparse_macs(dtype p, std::uint64_t n, std::uint64_t dense_n) noexcept {
        sparse_macs_[index(p)] += n;
        baseline_macs_ += dense_n;
    }
    // n additions outside MACs (bias, residual, pooling, the sums of a requantization).
    void add_adds(dtype p, std::uint64_t n) noexcept {
        adds_[index(p)] += n;
        baseline_adds_ += n;
    }

    // One tensor read or written: `bytes` moved out of a tensor of `footprint` bytes; at fp32
    // dense the same tensor would move fp32_bytes out of fp32_footprint.
    void add_traffic(traffic kind, std::uint64_t bytes, std::uint64_t footprint, std::uint64_t fp32_bytes,
                     std::uint64_t fp32_footprint) noexcept {
        bytes_[std::size_t(kind)][footprint_class(footprint)] += bytes;
        if (fp32_bytes) fp32_bytes_[std::size_t(kind)][footprint_class(fp32_footprint)] += fp32_bytes;
    }
    // A whole dense tensor of `elements` values of type t, read or written once.
    void add_tensor(traffic kind, dtype t, std::uint64_t elements) noexcept {
        const std::uint64_t b = bytes_of(t, elements), b32 = elements * 4;
        add_traffic(kind, b, b, kind == traffic::indices ? 0 : b32, b32);
    }
    void add_weights(dtype t, std::uint64_t elements) noexcept { add_tensor(traffic::weights, t, elements); }
    void add_activations(dtype t, std::uint64_t elements) noexcept { add_tensor(traffic::activations, t, elements); }
    // Sparse weights: nnz values of type t and index_bytes of indices, for a dense tensor of
    // dense_elements (its fp32 dense baseline); both parts of one tensor share one footprint.
    void add_sparse_weights(dtype t, std::uint64_t nnz, std::uint64_t index_bytes, std::uint64_t dense_elements) noexcept {
        const std::uint64_t values = bytes_of(t, nnz), footprint = values + index_bytes;
        bytes_[std::size_t(traffic::weights)][footprint_class(footprint)] += values;
        bytes_[std::size_t(traffic::indices)][footprint_class(footprint)] += index_bytes;
        fp32_bytes_[std::size_t(traffic::weights)][footprint_class(dense_elements * 4)] += dense_elements * 4;
    }

    std::uint64_t macs(dtype p) const noexcept { return macs_[index(p)]; }
    std::uint64_t sparse_macs(dtype p) const noexcept { return sparse_macs_[index(p)]; }
    std::uint64_t adds(dtype p) const noexcept { return adds_[index(p)]; }
    // Every MAC done, dense and sparse, in any precision.
    std::uint64_t total_macs() const noexcept { return sum(macs_) + sum(sparse_macs_); }
    // The MACs the same work takes at fp32 dense.
    std::uint64_t baseline_macs() const noexcept { return baseline_macs_; }
    std::uint64_t baseline_adds() const noexcept { return baseline_adds_; }

    std::uint64_t bytes(traffic kind) const noexcept { return sum(bytes_[std::size_t(kind)]); }
    std::uint64_t fp32_bytes(traffic kind) const noexcept { return sum(fp32_bytes_[std::size_t(kind)]); }
    // Bytes of tensors whose footprint falls in class c (see footprint_class).
    std::uint64_t bytes_in_class(traffic kind, std::size_t c) const noexcept { return bytes_[std::size_t(kind)][c]; }
    std::uint64_t fp32_bytes_in_class(traffic kind, std::size_t c) const noexcept { return fp32_bytes_[std::size_t(kind)][c]; }

    // Merging: per-thread counters into one, or layers into a model total.
    counter& operator+=(const counter& o) noexcept {
        for (std::size_t i = 0; i < dtypes; ++i) {
            macs_[i] += o.macs_[i];
            sparse_macs_[i] += o.sparse_macs_[i];
            adds_[i] += o.adds_[i];
        }
        baseline_macs_ += o.baseline_macs_;
        baseline_adds_ += o.baseline_adds_;
        for (std::size_t k = 0; k < traffic_kinds; ++k)
            for (std::size_t c = 0; c < footprint_classes; ++c) {
                bytes_[k][c] += o.bytes_[k][c];
                fp32_bytes_[k][c] += o.fp32_bytes_[k][c];
            }
        return *this;
    }

    void reset() noexcept { *this = counter(); }

private:
    static constexpr std::size_t index(dtype t) noexcept { return static_cast<std::size_t>(t); }
    template <std::size_t N>
    static std::uint64_t sum(const std::uint64_t (&a)[N]) noexcept {
        std::uint64_t t = 0;
        for (auto v : a) t += v;
        return t;
    }

    std::uint64_t macs_[dtypes] = {};
    std::uint64_t sparse_macs_[dtypes] = {};
    std::uint64_t adds_[dtypes] = {};
    std::uint64_t baseline_macs_ = 0, baseline_adds_ = 0;
    std::uint64_t bytes_[traffic_kinds][footprint_classes] = {};
    std::uint64_t fp32_bytes_[traffic_kinds][footprint_classes] = {};
};

// What the kernels report, in one place. A dense layer: `macs` multiply-accumulates in precision
// `mac`, its weights, input and output each moved once. Nothing without a counter.
inline void count_layer(counter* c, dtype mac, dtype w, dtype x, dtype y, std::uint64_t macs, std::uint64_t w_elements,
                        std::uint64_t x_elements, std::uint64_t y_elements) noexcept {
    if (c == nullptr) return;
    c->add_macs(mac, macs);
    c->add_weights(w, w_elements);
    c->add_activations(x, x_elements);
    c->add_activations(y, y_elements);
}

// Y[m, n] = X[m, k] * W[n, k]^T: m*n*k MACs.
inline void count_gemm(counter* c, dtype mac, dtype w, dtype x, dtype y, std::uint64_t m, std::uint64_t n,
                       std::uint64_t k) noexcept {
    count_layer(c, mac, w, x, y, m * n * k, n * k, m * k, m * n);
}

// A convolution as its GEMM: every output element is a dot product of length `kg`
// (C / groups * KH * KW) with its output channel's weights; the weights hold o * kg values.
inline void count_conv(counter* c, dtype mac, dtype w, dtype x, dtype y, std::uint64_t x_elements, std::uint64_t y_elements,
                       std::uint64_t o, std::uint64_t kg) noexcept {
    count_layer(c, mac, w, x, y, y_elements * kg, o * kg, x_elements, y_elements);
}

// An elementwise pass (quantize, dequantize, convert): `elements` read as `in`, written as `out`.
// Its arithmetic (a multiply and an add per element) is small next to its traffic and is not counted.
inline void count_elementwise(counter* c, dtype in, dtype out, std::uint64_t elements) noexcept {
    if (c == nullptr) return;
    c->add_activations(in, elements);
    c->add_activations(out, elements);
}

}  // namespace sparq::energy
