// Narrowing stores and widening loads between int32 batches and 8-bit codes: the portable
// fallback (through a small buffer) for architectures without a dedicated header.
#pragma once

#include <cstdint>
#include "sparq/core/xsimd.hpp"

namespace sparq::kernels::xsimd::detail {

template <class Q, class A>
void store_narrow(::xsimd::batch<std::int32_t, A> v, Q* out, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    alignas(A::alignment()) std::int32_t tmp[::xsimd::batch<std::int32_t, A>::size];
    v.store_aligned(tmp);
    for (std::size_t i = 0; i < ::xsimd::batch<std::int32_t, A>::size; ++i) out[i] = static_cast<Q>(tmp[i]);
}

template <class A, class Q>
::xsimd::batch<std::int32_t, A> load_widen(const Q* in, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    alignas(A::alignment()) std::int32_t tmp[::xsimd::batch<std::int32_t, A>::size];
    for (std::size_t i = 0; i < ::xsimd::batch<std::int32_t, A>::size; ++i) tmp[i] = in[i];
    return ::xsimd::batch<std::int32_t, A>::load_aligned(tmp);
}

// The first n (< the batch's size) lanes: int32 loaded (the others 0), or narrowed and stored
// (nothing written past them). A block of columns' last, partial batch.
template <class A>
::xsimd::batch<std::int32_t, A> load_partial(const std::int32_t* in, std::size_t n, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    alignas(A::alignment()) std::int32_t tmp[::xsimd::batch<std::int32_t, A>::size] = {};
    for (std::size_t i = 0; i < n; ++i) tmp[i] = in[i];
    return ::xsimd::batch<std::int32_t, A>::load_aligned(tmp);
}

template <class Q, class A>
void store_narrow_partial(::xsimd::batch<std::int32_t, A> v, Q* out, std::size_t n, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    alignas(A::alignment()) std::int32_t tmp[::xsimd::batch<std::int32_t, A>::size];
    v.store_aligned(tmp);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Q>(tmp[i]);
}

// int4 codes, two per byte (the low nibble first), sign-extended into int32 lanes in k order.
template <class A>
::xsimd::batch<std::int32_t, A> load_nibbles(const std::uint8_t* in, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    alignas(A::alignment()) std::int32_t tmp[::xsimd::batch<std::int32_t, A>::size];
    for (std::size_t i = 0; i < ::xsimd::batch<std::int32_t, A>::size; ++i) {
        const int nibble = (i % 2 ? in[i / 2] >> 4 : in[i / 2]) & 0xF;
        tmp[i] = nibble >= 8 ? nibble - 16 : nibble;
    }
    return ::xsimd::batch<std::int32_t, A>::load_aligned(tmp);
}

// a * b + c in one rounding where the arch has an FMA (xsimd 8.1's fma is a multiply and an add
// on AVX-512, which sparq's -ffp-contract=off then keeps apart: half the GEMM's speed).
template <class A>
::xsimd::batch<float, A> fmadd(::xsimd::batch<float, A> a, ::xsimd::batch<float, A> b, ::xsimd::batch<float, A> c,
                               ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    return ::xsimd::fma(a, b, c);
}

// IEEE division, correctly rounded (x86's vdivps is).
template <class A>
::xsimd::batch<float, A> divide(::xsimd::batch<float, A> a, ::xsimd::batch<float, A> b,
                                ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    return a / b;
}

// 1 / d for d in [1, 1e38] (the logistic functions' denominators): a division here.
template <class A>
::xsimd::batch<float, A> reciprocal_logistic(::xsimd::batch<float, A> d, ::xsimd::kernel::requires_arch<::xsimd::generic>) noexcept {
    return ::xsimd::batch<float, A>(1.0f) / d;
}

}  // namespace sparq::kernels::xsimd::detail
