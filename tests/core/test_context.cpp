#include <doctest/doctest.h>

#include <string>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"

using namespace sparq;

TEST_CASE("context: defaults and fluent setters") {
    context ctx;
    CHECK(ctx.preferred == backend::automatic);
    CHECK(ctx.threads == 1);
    CHECK(ctx.scratch == nullptr);
    CHECK(ctx.energy == nullptr);
    ctx.with_backend(backend::scalar, false).with_threads(0);
    CHECK(ctx.preferred == backend::scalar);
    CHECK_FALSE(ctx.allow_fallback);
    CHECK(ctx.threads == 1);
}

TEST_CASE("context: backends not compiled in say so") {
    CHECK(check_backend(backend::scalar).ok());
    CHECK(check_backend(backend::automatic).ok());
#if defined(SPARQ_WITH_DNNL)
    CHECK(check_backend(backend::dnnl).ok());
#else
    auto s = check_backend(backend::dnnl);
    CHECK(s.code() == errc::not_available);
    CHECK(std::string(s.message()).find("SPARQ_WITH_DNNL=ON") != std::string::npos);
#endif
#if defined(SPARQ_WITH_XSIMD)
    CHECK(check_backend(backend::xsimd).ok());
#else
    CHECK(check_backend(backend::xsimd).code() == errc::not_available);
#endif
}

TEST_CASE("context: scratch requirements") {
    context ctx;
    CHECK(ctx.require_scratch(64, "conv2d").code() == errc::invalid_argument);
    alignas(64) static unsigned char buf[128];
    arena a(buf, sizeof buf);
    ctx.with_scratch(a);
    CHECK(ctx.require_scratch(128, "conv2d").ok());
    auto s = ctx.require_scratch(129, "conv2d");
    CHECK(s.code() == errc::out_of_memory);
    CHECK(std::string(s.message()) ==
          "conv2d needs 129 bytes of scratch memory at 64-byte alignment; the arena has 128 of 128 free");
    alignas(64) static unsigned char odd[129];
    arena shifted(odd + 1, 128);
    ctx.with_scratch(shifted);
    CHECK(ctx.require_scratch(128, "conv2d").code() == errc::out_of_memory);  // padding counts
}
