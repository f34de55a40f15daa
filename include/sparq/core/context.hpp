// context: how a call should run. The backend preference, threads, the scratch arena and the
// energy counter travel together on it, explicitly; nothing in sparq reads global state.
#pragma once

#include <cstdint>

#include "sparq/core/status.hpp"

namespace sparq {

class arena;  // core/arena.hpp; a context only points to one (firmware includes this without it)

namespace energy {
class counter;  // energy/counter.hpp; core needs only the pointer
}

enum class backend : std::uint8_t {
    automatic,  // the fastest compiled-in backend that can do the op
    scalar,     // the reference kernels: always there
    xsimd,      // portable SIMD (SPARQ_WITH_XSIMD)
    dnnl,       // oneDNN primitives (SPARQ_WITH_DNNL)
};

constexpr const char* to_string(backend b) noexcept {
    switch (b) {
        case backend::automatic: return "automatic";
        case backend::scalar: return "scalar";
        case backend::xsimd: return "xsimd";
        case backend::dnnl: return "dnnl";
    }
    return "?";
}

// Whether this build has the backend at all (a compile-time fact of the flags it was built with).
constexpr bool backend_compiled(backend b) noexcept {
    switch (b) {
        case backend::automatic:
        case backend::scalar: return true;
#if defined(SPARQ_WITH_XSIMD)
        case backend::xsimd: return true;
#else
        case backend::xsimd: return false;
#endif
#if defined(SPARQ_WITH_DNNL)
        case backend::dnnl: return true;
#else
        case backend::dnnl: return false;
#endif
    }
    return false;
}

inline status check_backend(backend b) noexcept {
    if (backend_compiled(b)) return status::success();
    const char* how = b == backend::dnnl ? "SPARQ_WITH_DNNL=ON with libdnnl-dev" : "SPARQ_WITH_XSIMD=ON with libxsimd-dev";
    return status(errc::not_available, "backend '%s' is not compiled into this build (configure with %s)",
                  to_string(b), how);
}

struct context {
    backend preferred = backend::automatic;
    bool allow_fallback = true;         // if the preferred backend cannot do an op: fall back, or fail
    int threads = 1;                    // single-threaded unless asked
    arena* scratch = nullptr;           // kernels that need scratch memory take it from here
    energy::counter* energy = nullptr;  // when set, kernels add their work to it

    context& with_backend(backend b, bool fallback = true) noexcept {
        preferred = b;
        allow_fallback = fallback;
        return *this;
    }
    context& with_threads(int n) noexcept {
        threads = n < 1 ? 1 : n;
        return *this;
    }
    context& with_scratch(arena& a) noexcept {
        scratch = &a;
        return *this;
    }
    context& with_energy(energy::counter& c) noexcept {
        energy = &c;
        return *this;
    }

    // The arena, or a status telling the caller that this call needs `bytes` of it at `alignment`
    // (defined in core/arena.hpp, which kernels that take scratch memory include).
    status require_scratch(std::size_t bytes, const char* what, std::size_t alignment = default_alignment) const noexcept;
};

}  // namespace sparq
