// spmm / spmv: sparse weights x dense activations, the public entry. Y[M, N] = X[M, K] * W^T
// with W [N, K] in a sparse format (sparse/: CSR, block-sparse, N:M packed), exactly like
// kernels::matmul for dense weights; spmv is the M = 1 case on vectors. Checks shapes, picks
// xsimd or the scalar reference from the context, and adds the true work to the context's
// energy counter: MACs over the stored values only (standing for the dense M*N*K), the stored
// values and index bytes read, the activations read and written.
//
// fp32 values take float activations; int8 values take int8 or uint8 activations and give
// exact int32 sums (K up to max_s8_reduction / 2, as matmul_s8). Single-threaded.
#pragma once

#include <cstdint>
#include <type_traits>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/dtype.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/matmul.hpp"
#include "sparq/kernels/pack_csr.hpp"
#include "sparq/kernels/pack_nm.hpp"
#include "sparq/kernels/scalar/spmm.hpp"
#include "sparq/sparse/block.hpp"
#include "sparq/sparse/csr.hpp"
#include "sparq/sparse/nm.hpp"
#if defined(SPARQ_WITH_XSIMD) && !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#include "sparq/kernels/xsimd/spmm_block.hpp"
#include "sparq/kernels/xsimd/spmm_csr.hpp"
#include "sparq/kernels/xsimd/spmm_nm.hpp"
#define SPARQ_SPMM_XSIMD 1
#endif

namespace sparq::kernels {

namespace detail {

template <class X, class Y>
status check_spmm(const matrix_view<const X>& x, index_t rows, index_t cols, const matrix_view<Y>& y, const char* op) noexcept {
    if (x.extent(1) != cols || y.extent(0) != x.extent(0) || y.extent(1) != rows) {
        char a[64], c[64];
        return status(errc::shape_mismatch, "%s: x %s, sparse w [%td, %td] (as [N, K]) and y %s do not fit", op,
                      format_extents(x.extents(), a, sizeof a), rows, cols, format_extents(y.extents(), c, sizeof c));
    }
    if constexpr (!std::is_same_v<X, float>) {
        if (cols > max_s8_reduction / 2)
            return status(errc::overflow, "%s: reduction length %td could overflow int32 (limit %td)", op, cols, max_s8_reduction / 2);
    }
    return status::success();
}

// Whether this call may take the SIMD path: the context allows it and rows are unit-stride.
template <class X, class Y>
bool sparse_simd(const context& ctx, const matrix_view<const X>& x, const matrix_view<Y>& y) noexcept {
    return use_simd(ctx) && ctx.preferred != backend::scalar && (x.extent(1) <= 1 || x.stride(1) == 1) &&
           (y.extent(1) <= 1 || y.stride(1) == 1);
}

// The true work of one product: nnz MACs per activation row, the stored values and indices
// read once, the activations read and written.
template <class V, class X, class Y>
void count_sparse(const context& ctx, index_t m, index_t n, index_t k, index_t nnz, std::size_t index_bytes) noexcept {
    if (ctx.energy == nullptr) return;
    constexpr dtype mac = std::is_same_v<V, float> ? dtype::f32 : dtype::s8;
    ctx.energy->add_sparse_macs(mac, std::uint64_t(nnz) * std::uint64_t(m), std::uint64_t(m) * std::uint64_t(n) * std::uint64_t(k));
    ctx.energy->add_sparse_weights(dtype_of_v<V>, std::uint64_t(nnz), index_bytes, std::uint64_t(n) * std::uint64_t(k));
    ctx.energy->add_activations(dtype_of_v<X>, std::uint64_t(m) * std::uint64_t(k));
    ctx.energy->add_activations(dtype_of_v<Y>, std::uint64_t(m) * std::uint64_t(n));
}

// A packed layout's call: the SIMD kernel when this build has one for the layout (`simd`) and
// the context allows it, else the reference; a context that insists on xsimd without a kernel
// gets the status pick_backend gives.
template <class Simd, class Scalar>
status run_packed(const context& ctx, const matrix_view<const float>& x, const matrix_view<float>& y, const char* op,
                  bool simd, Simd&& kernel, Scalar&& reference) noexcept {
    SPARQ_TRY(pick_backend(ctx, op, simd));
    if (simd && sparse_simd(ctx, x, y)) kernel();
    else reference();
    return status::success();
}

template <class V, class X>
using spmm_out_t = std::conditional_t<std::is_same_v<V, float>, float, std::int32_t>;

template <class V, class X>
constexpr bool valid_pair = (std::is_same_v<V, float> && std::is_same_v<X, float>) ||
                            (std::is_same_v<V, std::int8_t> && (std::is_same_v<X, std::int8_t> || std::is_same_v<X, std::uint8_t>));

}  // namespace detail

// ---- CSR ---------------------------------------------------------------------------------
template <class X, class V, class I>
status spmm(const context& ctx, const matrix_view<const X>& x, const sparse::csr<V, I>& w,
            const matrix_view<detail::spmm_out_t<V, X>>& y) noexcept {
    static_assert(detail::valid_pair<V, X>, "fp32 values take float activations, int8 values int8 or uint8 activations");
    SPARQ_TRY(detail::check_spmm(x, w.rows, w.cols, y, "spmm (csr)"));
    SPARQ_TRY(detail::pick_backend(ctx, "spmm (csr)", backend_compiled(backend::xsimd)));
    bool done = false;
#if defined(SPARQ_SPMM_XSIMD)
    if (detail::sparse_simd(ctx, x, y)) {
        if constexpr (std::is_same_v<V, float>) {
            xsimd::spmm_csr_f32(x, w, y);
            done = true;
        } else if (x.extent(1) <= xsimd::csr_s8_max_k) {
            xsimd::spmm_csr_s8(x, w, y);
            done = true;
        }
    }
#endif
    if (!done) scalar::spmm(x, w, y);
    detail::count_sparse<V, X, detail::spmm_out_t<V, X>>(ctx, x.extent(0), w.rows, w.cols, w.nnz(), w.index_bytes());
    return status::success();
}

// The repacked CSR (pack_csr): the fast fp32 path. The counter sees what the kernel does: the
// stored values including padding lanes, and the layout's column and step bytes.
inline status spmm(const context& ctx, const matrix_view<const float>& x, const csr_packed& w, const matrix_view<float>& y) noexcept {
    SPARQ_TRY(detail::check_spmm(x, w.rows, w.cols, y, "spmm (csr packed)"));
    if (w.steps.size() != w.slices() * w.tiles() || w.column.size() != w.values.size() || w.values.size() % csr_packed::slice != 0)
        return status(errc::invalid_argument, "spmm (csr packed): the weights are not a packed layout (made by pack_csr?)");
#if defined(SPARQ_SPMM_XSIMD) && defined(SPARQ_HAS_CSR_PACKED_KERNEL)
    constexpr bool simd = true;
    auto kernel = [&] { xsimd::spmm_csr_packed_f32(x, w, y); };
#else
    constexpr bool simd = false;
    auto kernel = [] {};
#endif
    SPARQ_TRY(detail::run_packed(ctx, x, y, "spmm (csr packed)", simd, kernel, [&] { scalar::spmm(x, w, y); }));
    detail::count_sparse<float, float, float>(ctx, x.extent(0), w.rows, w.cols, w.stored(), w.index_bytes());
    return status::success();
}

// ---- block-sparse ------------------------------------------------------------------------
template <class X, class V, class I>
status spmm(const context& ctx, const matrix_view<const X>& x, const sparse::bsr<V, I>& w,
            const matrix_view<detail::spmm_out_t<V, X>>& y) noexcept {
    static_assert(detail::valid_pair<V, X>, "fp32 values take float activations, int8 values int8 or uint8 activations");
    SPARQ_TRY(detail::check_spmm(x, w.rows, w.cols, y, "spmm (block)"));
    SPARQ_TRY(detail::pick_backend(ctx, "spmm (block)", backend_compiled(backend::xsimd)));
    bool done = false;
#if defined(SPARQ_SPMM_XSIMD)
    using arch = ::xsimd::default_arch;
    if (detail::sparse_simd(ctx, x, y) && xsimd::bsr_simd_shape<arch, V>(w.block)) {
        xsimd::bsr_spmm<arch>(x, w, y);
        done = true;
    }
#endif
    if (!done) scalar::spmm(x, w, y);
    detail::count_sparse<V, X, detail::spmm_out_t<V, X>>(ctx, x.extent(0), w.rows, w.cols, w.nnz(), w.index_bytes());
    return status::success();
}

// ---- N:M ---------------------------------------------------------------------------------
// The canonical format runs the reference; pack it (pack_nm) for the SIMD kernel.
template <class X, class V>
status spmm(const context& ctx, const matrix_view<const X>& x, const sparse::nm_matrix<V>& w,
            const matrix_view<detail::spmm_out_t<V, X>>& y) noexcept {
    static_assert(detail::valid_pair<V, X>, "fp32 values take float activations, int8 values int8 or uint8 activations");
    SPARQ_TRY(detail::check_spmm(x, w.rows, w.cols, y, "spmm (n:m)"));
    SPARQ_TRY(detail::pick_backend(ctx, "spmm (n:m)"));
    scalar::spmm(x, w, y);
    detail::count_sparse<V, X, detail::spmm_out_t<V, X>>(ctx, x.extent(0), w.rows, w.cols, w.nnz(), w.index_bytes());
    return status::success();
}

// The panel width the N:M panels kernel wants (pack_nm(w, nm_panel_width())).
constexpr index_t nm_panel_width() noexcept {
#if defined(SPARQ_SPMM_XSIMD) && defined(SPARQ_HAS_NM_PANELS_KERNEL)
    return xsimd::nm_nr;
#else
    return 16;
#endif
}
// Packs for the batch the layer runs at: the rows layout from 16 activation rows (a matmul over
// tokens or pixels), the panels layout below (a matvec; without AVX-512 only the rows layout
// has a SIMD kernel). Either layout computes any batch.
inline result<nm_packed> pack_nm(const sparse::nm_matrix<float>& w, nm_layout layout = nm_layout::panels) noexcept {
    return layout == nm_layout::rows ? pack_nm_rows(w) : pack_nm(w, nm_panel_width());
}

// With the rows layout, scratch in the context's arena (xsimd::nm_rows_scratch_bytes, at most
// 256 KB) holds the sums of up to 512 weight rows (682 with AVX2), so X is transposed once per
// 512 weight rows rather than per 64; without it the kernel uses the stack only.
inline status spmm(const context& ctx, const matrix_view<const float>& x, const nm_packed& w, const matrix_view<float>& y) noexcept {
    SPARQ_TRY(detail::check_spmm(x, w.rows, w.cols, y, "spmm (n:m packed)"));
    if (!w.well_formed())
        return status(errc::invalid_argument, "spmm (n:m packed): the weights are not a packed layout (made by pack_nm?)");
#if defined(SPARQ_SPMM_XSIMD) && defined(SPARQ_HAS_NM_ROWS_KERNEL)
    const bool rows = w.layout == nm_layout::rows;
#if defined(SPARQ_HAS_NM_PANELS_KERNEL)
    const bool simd = rows || (w.nr == xsimd::nm_nr && w.m <= 16);
#else
    const bool simd = rows;
#endif
    auto kernel = [&] {
#if defined(SPARQ_HAS_NM_PANELS_KERNEL)
        if (!rows) return xsimd::spmm_nm_f32(x, w, y, 0, w.panels());
#endif
        const std::size_t bytes = xsimd::nm_rows_scratch_bytes(w);
        if (ctx.scratch != nullptr && ctx.scratch->can_allocate(bytes, 64)) {
            arena::scope keep(*ctx.scratch);
            xsimd::spmm_nm_rows_f32(x, w, y, static_cast<float*>(ctx.scratch->allocate(bytes, 64)));
        } else {
            xsimd::spmm_nm_rows_f32(x, w, y, nullptr);
        }
    };
#else
    constexpr bool simd = false;
    auto kernel = [] {};
#endif
    SPARQ_TRY(detail::run_packed(ctx, x, y, "spmm (n:m packed)", simd, kernel, [&] { scalar::spmm(x, w, y); }));
    detail::count_sparse<float, float, float>(ctx, x.extent(0), w.rows, w.cols, w.nnz(), w.index_bytes());
    return status::success();
}

// ---- matvec: y[N] = W x[K] ---------------------------------------------------------------
template <class X, class W, class Y>
status spmv(const context& ctx, const vector_view<const X>& x, const W& w, const vector_view<Y>& y) noexcept {
    const matrix_view<const X> xm(x.data(), {1, x.extent(0)}, {x.extent(0), x.stride(0)});
    const matrix_view<Y> ym(y.data(), {1, y.extent(0)}, {y.extent(0), y.stride(0)});
    return spmm(ctx, xm, w, ym);
}

}  // namespace sparq::kernels
