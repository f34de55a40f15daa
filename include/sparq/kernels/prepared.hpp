// prepared_matmul: a layer's weights made ready, once, for the backend the context asks for,
// so that the call itself picks the backend from the context like every other op: sparq's
// packed layout always (xsimd or scalar), plus oneDNN's reordered weights and cached primitive
// when the preparing context prefers oneDNN and it is compiled in. When oneDNN declines the
// weights (int8 it would not multiply exactly on this CPU: dnnl/int8_exact.hpp), the layer runs
// on sparq's own kernel if the context allows fallback, and dnnl_declined() says why.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

#include "sparq/kernels/dnnl/matmul.hpp"
#include "sparq/kernels/matmul.hpp"

namespace sparq::kernels {

template <class T>
class prepared_matmul {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, std::int8_t>, "float or int8 weights");
    using out_t = std::conditional_t<std::is_same_v<T, float>, float, std::int32_t>;

public:
    static result<prepared_matmul> make(const context& ctx, const matrix_view<const T>& w) {
        prepared_matmul p;
        auto packed = pack_weights(w);
        if (!packed) return packed.error();
        p.packed_ = std::move(*packed);
        if (ctx.preferred == backend::dnnl) {
#if defined(SPARQ_WITH_DNNL)
            auto d = dnnl_backend::matmul<T, T, out_t>::make(w);
            if (d) {
                p.dnnl_.emplace(std::move(*d));
            } else {
                if (!ctx.allow_fallback) return d.error();
                p.dnnl_declined_ = d.error();  // run() then takes sparq's kernel
            }
#else
            if (!ctx.allow_fallback) return check_backend(backend::dnnl);
            p.dnnl_declined_ = check_backend(backend::dnnl);
#endif
        }
        return p;
    }

    // y = x * w^T on the context's backend: oneDNN if asked for and prepared, else xsimd / scalar.
    status run(const context& ctx, const matrix_view<const T>& x, const matrix_view<out_t>& y) const noexcept {
#if defined(SPARQ_WITH_DNNL)
        if (ctx.preferred == backend::dnnl) {
            if (dnnl_) return dnnl_->run(ctx, x, y);
            if (!ctx.allow_fallback)
                return status(errc::unsupported, "matmul: prepared without oneDNN (prepare with a context preferring dnnl)");
        }
#endif
        if constexpr (std::is_same_v<T, float>) return matmul(ctx, x, packed_, y);
        else return matmul_s8(ctx, x, packed_, y);
    }

    const packed_weights<T>& packed() const noexcept { return packed_; }
    // Why oneDNN was asked for and not prepared (the call then runs sparq's kernel); ok otherwise.
    const status& dnnl_declined() const noexcept {
        return dnnl_declined_;
    }
    bool has_dnnl() const noexcept {
#if defined(SPARQ_WITH_DNNL)
        return dnnl_.has_value();
#else
        return false;
#endif
    }

private:
    packed_weights<T> packed_;
    status dnnl_declined_;
#if defined(SPARQ_WITH_DNNL)
    std::optional<dnnl_backend::matmul<T, T, out_t>> dnnl_;
#endif
};

}  // namespace sparq::kernels
