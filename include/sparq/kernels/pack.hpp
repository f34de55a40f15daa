// Packed weights: a [N, K] weight matrix rearranged once, at load or compress time, into the
// panels a GEMM micro-kernel streams (gemmlowp's and BLIS's "pack B"): never per call.
//   f32: panels of `nr` output columns; in each, for every k, the nr weights w[n0 .. n0+nr-1][k].
//   s8:  panels of `nr` columns; for every group of `k_group` k, nr x k_group bytes: w[n][g k_group ..]
//        for each n. k_group 4 is the operand layout of vpdpbusd (K padded to a multiple of 4
//        with zeros); k_group 1 is the f32 layout, for CPUs that widen to int32 instead;
//        plus each column's weight sum, to fold activation offsets into the bias. With k_group 4
//        a panel holds K rounded up to 64 k (k_stride), zero past K: an AMX tile step reads 64 k
//        at once, so the last one may run on the zeros (gemm_s8_amx.hpp) while the VNNI kernels
//        read only the first k_padded.
// Columns past N in the last panel are zero.
#pragma once

#include <cstdint>

#include "sparq/core/bfloat16.hpp"
#include "sparq/core/float16.hpp"
#include "sparq/core/tensor.hpp"

namespace sparq::kernels {

template <class T>
struct packed_weights {
    index_t n = 0, k = 0;     // the logical [N, K]
    index_t nr = 0;           // panel width (columns)
    index_t k_padded = 0;     // K rounded up to a multiple of k_group
    index_t k_group = 1;      // consecutive k of one column stored together (4: VNNI)
    index_t k_stride = 0;     // k a panel holds: k_padded, or K rounded up to 64 for k_group 4
    tensor<T, 1> data;        // panels() * k_stride * nr elements
    tensor<std::int32_t, 1> col_sums;  // s8: sum over k of w[n][k], one per column (N)

    index_t panels() const noexcept { return nr ? (n + nr - 1) / nr : 0; }
    const T* panel(index_t p) const noexcept { return data.data() + p * k_stride * nr; }
    std::size_t bytes() const noexcept {
        return std::size_t(data.size()) * sizeof(T) + std::size_t(col_sums.size()) * sizeof(std::int32_t);
    }
};

using packed_f32 = packed_weights<float>;
using packed_f16 = packed_weights<float16>;    // fp16 storage, fp32 compute
using packed_bf16 = packed_weights<bfloat16>;  // bf16 storage, fp32 compute
using packed_s8 = packed_weights<std::int8_t>;

// Float weights packed as T (float, float16 or bfloat16: rounded to nearest even once, here);
// weights already in T (S = T) are copied bit for bit (NaN payloads too).
template <class T, class S = float>
result<packed_weights<T>> pack_float(const matrix_view<const S>& w, index_t nr) noexcept {
    if (nr <= 0) return status(errc::invalid_argument, "pack: panel width %td", nr);
    packed_weights<T> p;
    p.n = w.extent(0), p.k = w.extent(1), p.nr = nr, p.k_padded = p.k_stride = w.extent(1);
    auto data = tensor<T, 1>::make({p.panels() * p.k_stride * nr});
    if (!data) return data.error();
    p.data = std::move(*data);
    for (index_t panel = 0; panel < p.panels(); ++panel) {
        T* out = p.data.data() + panel * p.k_stride * nr;
        for (index_t k = 0; k < p.k; ++k)
            for (index_t j = 0; j < nr; ++j) {
                const index_t n = panel * nr + j;
                out[k * nr + j] = n < p.n ? T(w(n, k)) : T(0.0f);
            }
    }
    return p;
}

inline result<packed_f32> pack_f32(const matrix_view<const float>& w, index_t nr) noexcept { return pack_float<float>(w, nr); }

inline result<packed_s8> pack_s8(const matrix_view<const std::int8_t>& w, index_t nr, index_t k_group = 4) noexcept {
    if (nr <= 0 || (k_group != 1 && k_group != 4))
        return status(errc::invalid_argument, "pack_s8: panel width %td, k group %td (1 or 4)", nr, k_group);
    packed_s8 p;
    p.n = w.extent(0), p.k = w.extent(1), p.nr = nr, p.k_group = k_group;
    p.k_padded = (w.extent(1) + k_group - 1) / k_group * k_group;
    p.k_stride = k_group == 4 ? (w.extent(1) + 63) / 64 * 64 : p.k_padded;
    auto data = tensor<std::int8_t, 1>::make({p.panels() * p.k_stride * nr});
    auto sums = tensor<std::int32_t, 1>::make({p.n});
    if (!data) return data.error();
    if (!sums) return sums.error();
    p.data = std::move(*data);
    p.col_sums = std::move(*sums);
    for (index_t panel = 0; panel < p.panels(); ++panel) {
        std::int8_t* out = p.data.data() + panel * p.k_stride * nr;
        for (index_t g = 0; g < p.k_stride / k_group; ++g)
            for (index_t j = 0; j < nr; ++j)
                for (index_t t = 0; t < k_group; ++t) {
                    const index_t n = panel * nr + j, k = k_group * g + t;
                    out[(g * nr + j) * k_group + t] = n < p.n && k < p.k ? w(n, k) : std::int8_t(0);
                }
    }
    for (index_t n = 0; n < p.n; ++n) {
        std::int32_t s = 0;
        for (index_t k = 0; k < p.k; ++k) s += w(n, k);
        p.col_sums(n) = s;
    }
    return p;
}

// The [N, K] matrix back out of its panels, row-major into out (N * K elements): what a file
// stores (packed layouts depend on the CPU that packed them).
template <class T>
void unpack_weights(const packed_weights<T>& p, T* out) noexcept {
    const index_t g = p.k_group;
    for (index_t n = 0; n < p.n; ++n) {
        const T* panel = p.panel(n / p.nr);
        const index_t j = n % p.nr;
        for (index_t k = 0; k < p.k; ++k) out[n * p.k + k] = panel[((k / g) * p.nr + j) * g + k % g];
    }
}

}  // namespace sparq::kernels
