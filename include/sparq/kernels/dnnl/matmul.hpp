// oneDNN backend for matmul: Y[M, N] = X[M, K] * W[N, K]^T through dnnl::matmul, f32 or
// s8 x s8 -> s32. Weights are reordered once into the layout the primitive picks
// (format_tag::any); primitives and memory objects are cached per row count M, so a repeated
// call costs one execute. int8 weights that oneDNN cannot multiply exactly on this CPU are
// refused at make() (dnnl/int8_exact.hpp says which). Compiled only with SPARQ_WITH_DNNL
// (oneDNN 2.x API).
#pragma once

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "sparq/core/context.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/dnnl/data_type.hpp"
#include "sparq/kernels/dnnl/int8_exact.hpp"

namespace sparq::kernels::dnnl_backend {

template <class X, class W, class Y>
class matmul {
    static_assert((std::is_same_v<X, float> && std::is_same_v<W, float> && std::is_same_v<Y, float>) ||
                      (std::is_same_v<X, std::int8_t> && std::is_same_v<W, std::int8_t> && std::is_same_v<Y, std::int32_t>),
                  "oneDNN matmul here: f32 x f32 -> f32, or s8 x s8 -> s32");

public:
    // Prepares the weights [N, K] (any strides): one reorder into oneDNN's blocked layout.
    // int8: errc::unsupported, naming the rule, when oneDNN on this CPU would not give the exact
    // sums for them (use sparq's own kernel then).
    static result<matmul> make(const matrix_view<const W>& w) noexcept {
        matmul m;
        m.n_ = w.extent(0);
        m.k_ = w.extent(1);
        if (m.n_ <= 0 || m.k_ <= 0)
            return status(errc::invalid_argument, "dnnl matmul: weights [%td, %td] are empty", m.n_, m.k_);
        if constexpr (std::is_same_v<W, std::int8_t>) {
            s8_weight_facts facts;
            for (index_t n = 0; n < m.n_; ++n)
                facts.add_output([&](auto visit) {
                    for (index_t k = 0; k < m.k_; ++k) visit(w(n, k));
                });
            // The ISA oneDNN dispatches to is fixed once it is first asked for (it caps it with
            // ONEDNN_MAX_CPU_ISA or set_max_cpu_isa before that), so the verdict holds for every
            // primitive this object later creates, whatever M picks.
            SPARQ_TRY(int8_exact(int8_op::matmul, facts, ::dnnl::get_effective_cpu_isa()));
        }
#if SPARQ_HAS_EXCEPTIONS
        try {
#endif
            m.state_ = std::make_unique<state>();
            state& st = *m.state_;
            // The weight layout is chosen by a primitive for a typical batch; every M reuses it.
            const auto pd = m.primitive_for(128);
            ::dnnl::memory plain({{m.k_, m.n_}, data_type_of<W>(), {1, m.k_}}, st.eng);  // W^T as K x N, strides (1, K)
            auto* dst = static_cast<W*>(plain.get_data_handle());
            for (index_t n = 0; n < m.n_; ++n)
                for (index_t k = 0; k < m.k_; ++k) dst[n * m.k_ + k] = w(n, k);
            st.weights = ::dnnl::memory(pd.weights_desc(), st.eng);
            ::dnnl::reorder(plain, st.weights).execute(st.str, plain, st.weights);
            st.str.wait();
#if SPARQ_HAS_EXCEPTIONS
        } catch (const ::dnnl::error& e) {
            return status(errc::unsupported, "oneDNN refused the matmul weights [%td, %td]: %s", m.n_, m.k_, e.what());
        }
#endif
        return m;
    }

    // Y = X * W^T; X [M, K] and Y [M, N] row-major (unit column stride, any row stride).
    // const: the primitive cache it fills is an implementation detail (not thread-safe: one
    // matmul object per thread, as with oneDNN's own primitives' memory objects).
    status run(const context& ctx, const matrix_view<const X>& x, const matrix_view<Y>& y) const noexcept {
        if (x.extent(1) != k_ || y.extent(0) != x.extent(0) || y.extent(1) != n_)
            return status(errc::shape_mismatch, "dnnl matmul: x [%td, %td], weights [%td, %td] and y [%td, %td] do not fit",
                          x.extent(0), x.extent(1), n_, k_, y.extent(0), y.extent(1));
        if (x.stride(1) != 1 || y.stride(1) != 1)
            return status(errc::invalid_argument, "dnnl matmul: x and y need unit column strides");
        if (x.extent(0) == 0) return status::success();
#if SPARQ_HAS_EXCEPTIONS
        try {
#endif
            entry& e = entry_for(x.extent(0), x.stride(0), y.stride(0));
            // Inference loops reuse their buffers: hand oneDNN a pointer only when it changed, and
            // the argument map built once per entry (a small call is ~1 us; these add ~10 %).
            if (e.src_ptr != x.data()) e.src.set_data_handle(const_cast<X*>(e.src_ptr = x.data()));
            if (e.dst_ptr != y.data()) e.dst.set_data_handle(e.dst_ptr = y.data());
            if (e.args.empty()) e.args = {{DNNL_ARG_SRC, e.src}, {DNNL_ARG_WEIGHTS, state_->weights}, {DNNL_ARG_DST, e.dst}};
            e.prim.execute(state_->str, e.args);
            state_->str.wait();
#if SPARQ_HAS_EXCEPTIONS
        } catch (const ::dnnl::error& err) {
            return status(errc::unsupported, "oneDNN matmul failed for M = %td: %s", x.extent(0), err.what());
        }
#endif
        energy::count_gemm(ctx.energy, std::is_same_v<X, float> ? dtype::f32 : dtype::s8, dtype_of_v<W>, dtype_of_v<X>,
                           dtype_of_v<Y>, std::uint64_t(x.extent(0)), std::uint64_t(n_), std::uint64_t(k_));
        return status::success();
    }

    index_t n() const noexcept { return n_; }
    index_t k() const noexcept { return k_; }
    // The implementation oneDNN picked for a batch of m rows (e.g. "brg:avx512_core_vnni").
    const char* implementation(index_t m) const { return entry_for(m, k_, n_).impl.c_str(); }

private:
    struct entry {
        index_t m, ldx, ldy;
        ::dnnl::matmul prim;
        ::dnnl::memory src, dst;
        std::string impl;
        const X* src_ptr = nullptr;
        Y* dst_ptr = nullptr;
        std::unordered_map<int, ::dnnl::memory> args;
    };
    struct state {
        ::dnnl::engine eng{::dnnl::engine::kind::cpu, 0};
        ::dnnl::stream str{eng};
        ::dnnl::memory weights;
        std::vector<entry> cache;
    };

    ::dnnl::matmul::primitive_desc primitive_for(index_t m, index_t ldx = 0, index_t ldy = 0) const {
        using md = ::dnnl::memory::desc;
        const md src({m, k_}, data_type_of<X>(), {ldx ? ldx : k_, 1});
        const md wei({k_, n_}, data_type_of<W>(), ::dnnl::memory::format_tag::any);
        const md dst({m, n_}, data_type_of<Y>(), {ldy ? ldy : n_, 1});
        return ::dnnl::matmul::primitive_desc(::dnnl::matmul::desc(src, wei, dst), state_->eng);
    }

    entry& entry_for(index_t m, index_t ldx, index_t ldy) const {
        for (entry& e : state_->cache)
            if (e.m == m && e.ldx == ldx && e.ldy == ldy) return e;
        const auto pd = primitive_for(m, ldx, ldy);
        if (pd.weights_desc() != state_->weights.get_desc()) {
            // This batch size prefers another weight layout: keep the prepared one (no per-call
            // reorder), asking for exactly that layout.
            using md = ::dnnl::memory::desc;
            const md src({m, k_}, data_type_of<X>(), {ldx, 1}), dst({m, n_}, data_type_of<Y>(), {ldy, 1});
            const ::dnnl::matmul::primitive_desc fixed(::dnnl::matmul::desc(src, state_->weights.get_desc(), dst), state_->eng);
            state_->cache.push_back({m, ldx, ldy, ::dnnl::matmul(fixed), ::dnnl::memory(src, state_->eng, nullptr),
                                     ::dnnl::memory(dst, state_->eng, nullptr), fixed.impl_info_str(), nullptr, nullptr, {}});
        } else {
            state_->cache.push_back({m, ldx, ldy, ::dnnl::matmul(pd), ::dnnl::memory(pd.src_desc(), state_->eng, nullptr),
                                     ::dnnl::memory(pd.dst_desc(), state_->eng, nullptr), pd.impl_info_str(), nullptr, nullptr, {}});
        }
        return state_->cache.back();
    }

    index_t n_ = 0, k_ = 0;
    std::unique_ptr<state> state_;
};

using matmul_f32 = matmul<float, float, float>;
using matmul_s8 = matmul<std::int8_t, std::int8_t, std::int32_t>;

}  // namespace sparq::kernels::dnnl_backend
#endif
