// core/thread_pool.hpp: every task runs exactly once on any thread count, nested and concurrent
// calls finish (run inline instead of waiting on a busy pool), the pool is reused.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "sparq/core/thread_pool.hpp"

using namespace sparq;

TEST_CASE("parallel_for runs every task once, on any thread count") {
    for (int threads : {1, 2, 3, 8}) {
        for (index_t tasks : {0, 1, 2, 7, 1000}) {
            context ctx;
            ctx.with_threads(threads);
            std::vector<std::atomic<int>> hits(static_cast<std::size_t>(tasks));
            for (auto& h : hits) h = 0;
            parallel_for(ctx, tasks, [&](index_t t) { hits[std::size_t(t)].fetch_add(1); });
            for (auto& h : hits) CHECK(h.load() == 1);
        }
    }
}

TEST_CASE("parallel_for: a task calling parallel_for, and two callers at once, both finish") {
    context ctx;
    ctx.with_threads(4);
    std::atomic<int> inner{0};
    parallel_for(ctx, 4, [&](index_t) { parallel_for(ctx, 5, [&](index_t) { inner.fetch_add(1); }); });
    CHECK(inner.load() == 20);
    std::atomic<int> total{0};
    auto caller = [&] {
        for (int r = 0; r < 200; ++r) parallel_for(ctx, 3, [&](index_t) { total.fetch_add(1); });
    };
    std::thread a(caller), b(caller);
    a.join();
    b.join();
    CHECK(total.load() == 2 * 200 * 3);
#if SPARQ_HAS_THREADS
    CHECK(shared_thread_pool().workers() == std::max(1, int(std::thread::hardware_concurrency())) - 1);
    CHECK(parallel_threads(ctx, 100) <= shared_thread_pool().workers() + 1);
#endif
    CHECK(parallel_threads(context(), 100) == 1);
}
