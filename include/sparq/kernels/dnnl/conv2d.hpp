// oneDNN backend for conv2d: NCHW activations (plain, as sparq's views are), weights
// [O, C / groups, KH, KW] reordered once into the layout the primitive picks; primitives and
// memory objects cached per input shape. f32 runs on NCHW directly; int8 needs channels-last
// activations for oneDNN's JIT kernels (on NCHW it falls back to its reference code, ~1000x
// slower), so int8 inputs and outputs are reordered NCHW <-> NHWC around the primitive. int8
// weights that oneDNN cannot multiply exactly on this CPU are refused at make()
// (dnnl/int8_exact.hpp says which). Compiled only with SPARQ_WITH_DNNL (oneDNN 2.x API).
#pragma once

#if defined(SPARQ_WITH_DNNL)
#include <dnnl.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/tensor_view.hpp"
#include "sparq/energy/counter.hpp"
#include "sparq/kernels/conv2d_params.hpp"
#include "sparq/kernels/dnnl/data_type.hpp"
#include "sparq/kernels/dnnl/int8_exact.hpp"

namespace sparq::kernels::dnnl_backend {

template <class X, class W, class Y>
class conv2d {
    static_assert((std::is_same_v<X, float> && std::is_same_v<W, float> && std::is_same_v<Y, float>) ||
                      (std::is_same_v<X, std::int8_t> && std::is_same_v<W, std::int8_t> && std::is_same_v<Y, std::int32_t>),
                  "oneDNN conv2d here: f32 x f32 -> f32, or s8 x s8 -> s32");
    using dims = ::dnnl::memory::dims;

public:
    // Keeps the weights [O, C / groups, KH, KW]. int8: errc::unsupported, naming the rule, when
    // oneDNN on this CPU would not give the exact sums for them (use sparq's own kernel then).
    static result<conv2d> make(const tensor_view<const W, 4>& w, const conv2d_params& p) noexcept {
        conv2d c;
        c.w_ = w.extents();
        c.p_ = p;
        if (p.groups < 1 || w.extent(0) % p.groups)
            return status(errc::invalid_argument, "dnnl conv2d: %td output channels do not split into %td groups",
                          w.extent(0), p.groups);
        if constexpr (std::is_same_v<W, std::int8_t>) {
            s8_weight_facts facts;
            for (index_t o = 0; o < w.extent(0); ++o)
                facts.add_output([&](auto visit) {
                    for (index_t ci = 0; ci < w.extent(1); ++ci)
                        for (index_t kh = 0; kh < w.extent(2); ++kh)
                            for (index_t kw = 0; kw < w.extent(3); ++kw) visit(w(o, ci, kh, kw));
                });
            // Every input shape's primitive runs on the same ISA (fixed at oneDNN's first use).
            SPARQ_TRY(int8_exact(int8_op::conv2d, facts, ::dnnl::get_effective_cpu_isa()));
        }
#if SPARQ_HAS_EXCEPTIONS
        try {
#endif
            c.state_ = std::make_unique<state>();
            // The plain weights are kept; each input shape's primitive gets them reordered into
            // the layout it picks, once, when that shape is first seen (oneDNN's int8 JIT
            // kernels want different weight layouts for different spatial sizes).
            ::dnnl::memory plain(c.weights_md(::dnnl::memory::format_tag::undef), c.state_->eng);
            auto* dst = static_cast<W*>(plain.get_data_handle());
            index_t i = 0;
            for (index_t o = 0; o < w.extent(0); ++o)
                for (index_t ci = 0; ci < w.extent(1); ++ci)
                    for (index_t kh = 0; kh < w.extent(2); ++kh)
                        for (index_t kw = 0; kw < w.extent(3); ++kw) dst[i++] = w(o, ci, kh, kw);
            c.state_->plain_weights = plain;
#if SPARQ_HAS_EXCEPTIONS
        } catch (const ::dnnl::error& e) {
            return status(errc::unsupported, "oneDNN refused the conv2d weights: %s", e.what());
        }
#endif
        return c;
    }

    // y = conv2d(x); x [N, C, H, W] and y [N, O, OH, OW], both contiguous.
    status run(const context& ctx, const tensor_view<const X, 4>& x, const tensor_view<Y, 4>& y) const noexcept {
        auto out = conv2d_output(x.extents(), w_, p_);
        if (!out) return out.error();
        if (*out != y.extents()) {
            char a[64], b[64];
            return status(errc::shape_mismatch, "dnnl conv2d: the output is %s, y is %s", format_extents(*out, a, sizeof a),
                          format_extents(y.extents(), b, sizeof b));
        }
        if (!x.is_contiguous() || !y.is_contiguous())
            return status(errc::invalid_argument, "dnnl conv2d: x and y must be contiguous NCHW");
        if (x.empty() || y.empty()) return status::success();
#if SPARQ_HAS_EXCEPTIONS
        try {
#endif
            entry& e = entry_for(x.extents());
            e.user_src.set_data_handle(const_cast<X*>(x.data()));
            e.user_dst.set_data_handle(y.data());
            if (e.reorder_in) e.reorder_in.execute(state_->str, e.user_src, e.src);
            e.prim.execute(state_->str, {{DNNL_ARG_SRC, e.reorder_in ? e.src : e.user_src},
                                         {DNNL_ARG_WEIGHTS, e.weights},
                                         {DNNL_ARG_DST, e.reorder_out ? e.dst : e.user_dst}});
            if (e.reorder_out) e.reorder_out.execute(state_->str, e.dst, e.user_dst);
            state_->str.wait();
#if SPARQ_HAS_EXCEPTIONS
        } catch (const ::dnnl::error& err) {
            return status(errc::unsupported, "oneDNN conv2d failed: %s", err.what());
        }
#endif
        energy::count_conv(ctx.energy, std::is_same_v<X, float> ? dtype::f32 : dtype::s8, dtype_of_v<W>, dtype_of_v<X>,
                           dtype_of_v<Y>, std::uint64_t(x.size()), std::uint64_t(y.size()), std::uint64_t(w_[0]),
                           std::uint64_t(w_[1] * w_[2] * w_[3]));
        return status::success();
    }

    const char* implementation(const extents_t<4>& in) const { return entry_for(in).impl.c_str(); }

private:
    // Weights as oneDNN sees them: [O, C/g, KH, KW], or [g, O/g, C/g, KH, KW] with groups;
    // `undef` asks for the plain (oihw / goihw) layout, `any` lets the primitive choose.
    ::dnnl::memory::desc weights_md(::dnnl::memory::format_tag tag) const {
        using ft = ::dnnl::memory::format_tag;
        const bool grouped = p_.groups > 1;
        const dims d = grouped ? dims{p_.groups, w_[0] / p_.groups, w_[1], w_[2], w_[3]} : dims{w_[0], w_[1], w_[2], w_[3]};
        return {d, data_type_of<W>(), tag == ft::undef ? (grouped ? ft::goihw : ft::oihw) : tag};
    }

    struct entry {
        extents_t<4> in;
        ::dnnl::convolution_forward prim;
        ::dnnl::memory user_src, user_dst;  // NCHW, the caller's buffers
        ::dnnl::memory src, dst;            // the primitive's layout when it differs (int8: NHWC)
        ::dnnl::reorder reorder_in, reorder_out;
        ::dnnl::memory weights;
        std::string impl;
    };
    static constexpr ::dnnl::memory::format_tag activation_tag() noexcept {
        return std::is_same_v<X, float> ? ::dnnl::memory::format_tag::nchw : ::dnnl::memory::format_tag::nhwc;
    }
    struct state {
        ::dnnl::engine eng{::dnnl::engine::kind::cpu, 0};
        ::dnnl::stream str{eng};
        ::dnnl::memory plain_weights;
        std::vector<entry> cache;
    };

    ::dnnl::convolution_forward::primitive_desc primitive_for(const extents_t<4>& in) const {
        using ft = ::dnnl::memory::format_tag;
        const extents_t<4> out = *conv2d_output(in, w_, p_);
        const ::dnnl::memory::desc src({in[0], in[1], in[2], in[3]}, data_type_of<X>(), activation_tag());
        const ::dnnl::memory::desc dst({out[0], out[1], out[2], out[3]}, data_type_of<Y>(), activation_tag());
        (void)ft::nchw;
        const ::dnnl::convolution_forward::desc d(
            ::dnnl::prop_kind::forward_inference, ::dnnl::algorithm::convolution_direct, src,
            weights_md(ft::any), dst, dims{p_.stride_h, p_.stride_w},
            dims{p_.dilation_h - 1, p_.dilation_w - 1}, dims{p_.pad_top, p_.pad_left}, dims{p_.pad_bottom, p_.pad_right});
        return ::dnnl::convolution_forward::primitive_desc(d, state_->eng);
    }

    entry& entry_for(const extents_t<4>& in) const {
        for (entry& e : state_->cache)
            if (e.in == in) return e;
        const auto pd = primitive_for(in);
        using ft = ::dnnl::memory::format_tag;
        const extents_t<4> out = *conv2d_output(in, w_, p_);
        entry e{in, ::dnnl::convolution_forward(pd),
                ::dnnl::memory({{in[0], in[1], in[2], in[3]}, data_type_of<X>(), ft::nchw}, state_->eng, nullptr),
                ::dnnl::memory({{out[0], out[1], out[2], out[3]}, data_type_of<Y>(), ft::nchw}, state_->eng, nullptr),
                {}, {}, {}, {}, ::dnnl::memory(pd.weights_desc(), state_->eng), pd.impl_info_str()};
        ::dnnl::reorder(state_->plain_weights, e.weights).execute(state_->str, state_->plain_weights, e.weights);
        state_->str.wait();
        if (activation_tag() != ft::nchw) {
            e.src = ::dnnl::memory(pd.src_desc(), state_->eng);  // owned scratch in the primitive's layout
            e.dst = ::dnnl::memory(pd.dst_desc(), state_->eng);
            e.reorder_in = ::dnnl::reorder(e.user_src, e.src);
            e.reorder_out = ::dnnl::reorder(e.dst, e.user_dst);
        }
        state_->cache.push_back(std::move(e));
        return state_->cache.back();
    }

    extents_t<4> w_{};
    conv2d_params p_;
    std::unique_ptr<state> state_;
};

using conv2d_f32 = conv2d<float, float, float>;
using conv2d_s8 = conv2d<std::int8_t, std::int8_t, std::int32_t>;

}  // namespace sparq::kernels::dnnl_backend
#endif
