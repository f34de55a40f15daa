// Masks: one byte per weight with the weight's shape, 1 keeps the weight and 0 prunes it.
// Applying, combining and counting them, and masking gradients so that fine-tuning keeps a
// pruned weight at zero. A mask alone saves no time or memory: sparse/ turns a masked weight
// into a format kernels run faster.
//
// Every function checks shapes (and that views are contiguous, the layout masks and weights
// are made in) before it writes anything: a bad call returns a status and modifies nothing.
#pragma once

#include <cstdint>

#include "sparq/core/rows.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/core/tensor_view.hpp"

namespace sparq::prune {

template <std::size_t Rank>
using mask = tensor<std::uint8_t, Rank>;
template <std::size_t Rank>
using mask_view = tensor_view<const std::uint8_t, Rank>;

namespace detail {

template <class T, std::size_t Rank>
status check_contiguous(const tensor_view<T, Rank>& v, const char* what, const char* op) noexcept {
    if (v.is_contiguous()) return status::success();
    return status(errc::invalid_argument, "%s: %s must be a contiguous (row-major) view", op, what);
}

// The checks every mask operation starts with: equal extents, both contiguous.
template <class A, class B, std::size_t Rank>
status check_mask_pair(const tensor_view<A, Rank>& a, const tensor_view<B, Rank>& b, const char* op) noexcept {
    SPARQ_TRY(check_same_shape(a, b, op));
    SPARQ_TRY(check_contiguous(a, "the first view", op));
    return check_contiguous(b, "the second view", op);
}

}  // namespace detail

// A mask that keeps everything, with the weight's extents.
template <std::size_t Rank>
result<mask<Rank>> make_mask(const extents_t<Rank>& extents) noexcept {
    auto m = mask<Rank>::make(extents);
    if (m) m->fill(1);
    return m;
}

// w[i] = 0 where m[i] == 0. The same call masks a gradient (gradient masking): the optimizer
// then never moves a pruned weight away from zero.
template <class T, std::size_t Rank>
status apply_mask(const mask_view<Rank>& m, const tensor_view<T, Rank>& w) noexcept {
    SPARQ_TRY(detail::check_mask_pair(m, w, "apply_mask"));
    const std::uint8_t* mp = m.data();
    T* wp = w.data();
    for (index_t i = 0, n = w.size(); i < n; ++i)
        if (mp[i] == 0) wp[i] = T(0);
    return status::success();
}
template <class T, std::size_t Rank>
status mask_gradient(const mask_view<Rank>& m, const tensor_view<T, Rank>& grad) noexcept {
    return apply_mask(m, grad);
}

// out = a AND b (a weight survives only if both keep it); out may alias a or b.
template <std::size_t Rank>
status combine_masks(const mask_view<Rank>& a, const mask_view<Rank>& b,
                     const tensor_view<std::uint8_t, Rank>& out) noexcept {
    SPARQ_TRY(detail::check_mask_pair(a, b, "combine_masks"));
    SPARQ_TRY(detail::check_mask_pair(a, out, "combine_masks"));
    for (index_t i = 0, n = a.size(); i < n; ++i) out.data()[i] = std::uint8_t(a.data()[i] != 0 && b.data()[i] != 0);
    return status::success();
}

// Weights a mask keeps (any nonzero byte keeps), and the fraction it prunes.
template <std::size_t Rank>
index_t count_kept(const mask_view<Rank>& m) noexcept {
    index_t kept = 0;
    for_each_row(m, [&](auto row, const auto&) {
        for (index_t i = 0; i < row.extent(0); ++i) kept += row(i) != 0;
    });
    return kept;
}
template <std::size_t Rank>
double sparsity(const mask_view<Rank>& m) noexcept {
    return m.empty() ? 0.0 : 1.0 - double(count_kept(m)) / double(m.size());
}

// The fraction of exact zeros in a weight (what a mask left behind, or natural sparsity).
template <class T, std::size_t Rank>
double zero_fraction(const tensor_view<const T, Rank>& w) noexcept {
    if (w.empty()) return 0.0;
    index_t zeros = 0;
    for_each_row(w, [&](auto row, const auto&) {
        for (index_t i = 0; i < row.extent(0); ++i) zeros += row(i) == T(0);
    });
    return double(zeros) / double(w.size());
}

}  // namespace sparq::prune
