#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "sparq/core/arena.hpp"

using namespace sparq;

TEST_CASE("arena over a static buffer: aligned bumps, bounded, never the heap") {
    alignas(64) static std::byte buffer[1024];
    arena a(buffer, sizeof buffer);
    CHECK(a.capacity() == 1024);

    void* p = a.allocate(10);
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
    void* q = a.allocate(8, 8);
    CHECK(reinterpret_cast<std::uintptr_t>(q) % 8 == 0);
    CHECK(static_cast<std::byte*>(q) >= static_cast<std::byte*>(p) + 10);

    CHECK(a.allocate(2000) == nullptr);  // does not fit: nothing changes
    const std::size_t used = a.used();
    CHECK(a.allocate(static_cast<std::size_t>(-1)) == nullptr);  // absurd size: no wrap-around
    CHECK(a.used() == used);

    auto v = a.allocate_view<float, 2>({100, 100});
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().code() == errc::out_of_memory);
    CHECK(std::string(v.error().message()).find("40000 bytes for shape [100, 100] do not fit") != std::string::npos);
}

TEST_CASE("arena: marks, scopes, reset and peak") {
    auto made = arena::with_capacity(4096);
    REQUIRE(made.ok());
    arena a = std::move(*made);
    {
        arena::scope s(a);
        auto v = a.allocate_view<float, 1>({256});
        REQUIRE(v.ok());
        CHECK(v->extent(0) == 256);
        (*v)(255) = 1.0f;
        CHECK(a.used() >= 1024);
    }
    CHECK(a.used() == 0);
    CHECK(a.peak() >= 1024);

    auto m = a.mark();
    CHECK(a.allocate(100) != nullptr);
    a.release(m);
    CHECK(a.used() == m);
    CHECK(a.allocate(100) != nullptr);
    a.reset();
    CHECK(a.used() == 0);
}

TEST_CASE("arena: alignment is at least the element's, padding is accounted for") {
    alignas(64) static std::byte buffer[256];
    arena a(buffer + 1, 127);  // a misaligned buffer is fine: allocations pad
    auto d = a.allocate_view<double, 1>({4}, /*alignment=*/1);
    REQUIRE(d.ok());
    CHECK(reinterpret_cast<std::uintptr_t>(d->data()) % alignof(double) == 0);
    CHECK(a.allocate_view<float, 1>({1}, 3).error().code() == errc::invalid_argument);
    CHECK(a.allocate(8, 3) == nullptr);

    arena b(buffer + 1, 127);
    CHECK_FALSE(b.can_allocate(100, 64));  // 63 bytes of padding first
    CHECK(b.allocate(100, 64) == nullptr);
    CHECK(b.can_allocate(64, 64));
    CHECK(b.allocate(64, 64) != nullptr);
}

TEST_CASE("arena: empty arena and bad shapes fail cleanly") {
    arena none;
    CHECK(none.allocate(1) == nullptr);
    CHECK(none.allocate_view<int, 1>({0}).ok());  // nothing to allocate
    CHECK(none.allocate_view<int, 1>({-1}).error().code() == errc::invalid_argument);
    const index_t big = index_t(1) << 62;
    CHECK(none.allocate_view<int, 1>({big}).error().code() == errc::overflow);
}
