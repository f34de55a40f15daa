// Compile-time configuration: which language features and SIMD instructions this translation
// unit may use. Everything is decided from the compiler's own macros (the target flags), so a
// build for an older CPU simply sees fewer paths; nothing is detected at run time here.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace sparq {
// The alignment sparq gives the buffers it allocates: one cache line, one AVX-512 register.
inline constexpr std::size_t default_alignment = 64;
}  // namespace sparq

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define SPARQ_HAS_EXCEPTIONS 1
#else
#define SPARQ_HAS_EXCEPTIONS 0
#endif

// Whether a status formats its message with vsnprintf. Bare-metal C libraries (newlib's, on a
// Cortex-M) implement it with malloc, so there a status keeps its format string as the message:
// still names the problem, without the values, and links no heap. Override with -D.
#ifndef SPARQ_STATUS_FORMAT
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define SPARQ_STATUS_FORMAT 0
#else
#define SPARQ_STATUS_FORMAT 1
#endif
#endif

// Checks that cost time in hot paths (bounds, view invariants) run in debug builds, or when
// the user asks with SPARQ_ENABLE_CHECKS=1; input validation that returns a status always runs.
#ifndef SPARQ_ENABLE_CHECKS
#ifdef NDEBUG
#define SPARQ_ENABLE_CHECKS 0
#else
#define SPARQ_ENABLE_CHECKS 1
#endif
#endif

// Sanitizer builds (GCC's __SANITIZE_*__, clang's __has_feature): the kernels whose fully
// unrolled variants take GCC many minutes per translation unit at -O1 with ASan / TSan
// instrumentation (the int8 depthwise VNNI rows) are left out there; their portable paths run.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPARQ_SANITIZED_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SPARQ_SANITIZED_BUILD 1
#endif
#endif

// Full unrolling of a short constant-trip loop (register-blocked micro-kernels).
#if defined(__clang__)
#define SPARQ_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define SPARQ_UNROLL _Pragma("GCC unroll 32")
#else
#define SPARQ_UNROLL
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SPARQ_ALWAYS_INLINE inline __attribute__((always_inline))
#define SPARQ_ALWAYS_INLINE_LAMBDA __attribute__((always_inline))  // after a lambda's parameter list
#define SPARQ_NOINLINE_LAMBDA __attribute__((noinline))             // after a lambda's parameter list
#define SPARQ_PRINTF_FORMAT(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))
#define SPARQ_LIKELY(x) __builtin_expect(!!(x), 1)
#define SPARQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SPARQ_ALWAYS_INLINE inline
#define SPARQ_ALWAYS_INLINE_LAMBDA
#define SPARQ_NOINLINE_LAMBDA
#define SPARQ_PRINTF_FORMAT(fmt_index, args_index)
#define SPARQ_LIKELY(x) (x)
#define SPARQ_UNLIKELY(x) (x)
#endif

// ---- instruction sets the target flags enable (x86) ----
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define SPARQ_ARCH_X86 1
#if defined(__F16C__)
#define SPARQ_ARCH_F16C 1
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define SPARQ_ARCH_AVX512 1
#endif
#if defined(SPARQ_ARCH_AVX512) && defined(__AVX512BF16__)
#define SPARQ_ARCH_AVX512BF16 1
#endif
#endif

// ---- (Arm) ----
// Every AArch64 core has FCVTN / FCVTL (float <-> half); 32-bit Arm needs the fp16 extension.
#if defined(__aarch64__) && defined(__ARM_NEON)
#define SPARQ_ARCH_NEON 1
#define SPARQ_ARCH_NEON_FP16_CONVERT 1
#endif

// GCC 12 reports "(may be) used uninitialized" on the _mm512_undefined_* pass-through operands of
// AVX-512 intrinsics once they are inlined (GCC bug 105593, fixed in GCC 13): a false positive
// that breaks -Werror builds at -O1. Headers with AVX-512 code wrap themselves in these.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define SPARQ_INTRINSICS_BEGIN                                        \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
        _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define SPARQ_INTRINSICS_END _Pragma("GCC diagnostic pop")
#else
#define SPARQ_INTRINSICS_BEGIN
#define SPARQ_INTRINSICS_END
#endif

namespace sparq::detail {

[[noreturn]] inline void check_failed(const char* file, int line, const char* expr, const char* what) noexcept {
    std::fprintf(stderr, "%s:%d: sparq check failed: %s (%s)\n", file, line, expr, what);
    std::abort();
}

}  // namespace sparq::detail

// A broken invariant inside sparq (a caller violating a documented precondition of a hot-path
// function): abort with the place, never undefined behaviour. Compiled out when checks are off.
#if SPARQ_ENABLE_CHECKS
#define SPARQ_CHECK(cond, what)                                                  \
    (SPARQ_LIKELY(cond) ? static_cast<void>(0)                                  \
                        : ::sparq::detail::check_failed(__FILE__, __LINE__, #cond, what))
#else
#define SPARQ_CHECK(cond, what) static_cast<void>(0)
#endif

// The same, in every build: for checks that cost one branch outside any loop and guard
// against undefined behaviour a caller could not see coming (reading an error's value).
#define SPARQ_ALWAYS_CHECK(cond, what)                                           \
    (SPARQ_LIKELY(cond) ? static_cast<void>(0)                                  \
                        : ::sparq::detail::check_failed(__FILE__, __LINE__, #cond, what))
