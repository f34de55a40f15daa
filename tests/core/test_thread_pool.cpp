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

TEST_CASE("split_range: no split below two grains or on one thread; chunks of whole grains and aligned runs") {
    // one thread, or too little work: one chunk of everything
    for (index_t n : {0, 1, 5, 1000}) {
        const range_split s = split_range(n, 1, 1);
        CHECK(s.chunks == (n ? 1 : 0));
        CHECK(s.tasks == 1);
        CHECK(s.chunk == n);
    }
    CHECK(split_range(index_t(2 * parallel_grain - 1), 1, 8).chunks == 1);
    CHECK(split_range(index_t(2 * parallel_grain), 1, 8).chunks == 2);
    CHECK(split_range(1, parallel_grain * 100, 8).chunks == 1);  // one item is never split
    for (int threads : {2, 3, 8}) {
        for (index_t n : {index_t(3), index_t(1000), index_t(1 << 20), index_t(12345677)}) {
            for (std::uint64_t cost : {std::uint64_t(1), std::uint64_t(7), parallel_grain / 3, parallel_grain * 5}) {
                for (index_t align : {1, 16, 64}) {
                    CAPTURE(threads);
                    CAPTURE(n);
                    CAPTURE(cost);
                    CAPTURE(align);
                    const range_split s = split_range(n, cost, threads, align);
                    CHECK(s.chunks >= 1);
                    CHECK(s.chunk * s.chunks >= n);              // covers the range
                    CHECK(s.chunk * (s.chunks - 1) < n);         // no empty chunk
                    CHECK(s.tasks <= threads);
                    CHECK(s.tasks <= s.chunks);
                    CHECK(s.chunks <= threads * parallel_chunks_per_thread);
                    if (s.chunks > 1) {
                        CHECK(s.chunk % align == 0);
                        // every chunk but the last holds a grain of work at least
                        CHECK(std::uint64_t(s.chunk) * cost >= parallel_grain);
                    }
                }
            }
        }
    }
    CHECK(split_range(1 << 22, 1, 8, 1, 3).tasks == 3);  // max_tasks: as many buffers as the caller has
    CHECK(split_range(1 << 22, 1, 8, 1, 0).chunks == 1);
    // through a context: its threads, or one where nothing runs tasks on threads
    context ctx;
    ctx.with_threads(3);
    CHECK(split_range(ctx, 1 << 22, 1).tasks == (SPARQ_HAS_THREADS ? 3 : 1));
    CHECK(split_range(context(), 1 << 22, 1).tasks == 1);
}

TEST_CASE("parallel_range: every item once, a task on one thread at a time, nested calls inline") {
    for (int threads : {1, 2, 3, 8}) {
        for (index_t n : {index_t(0), index_t(1), index_t(2 * parallel_grain + 5), index_t(1 << 20)}) {
            context ctx;
            ctx.with_threads(threads);
            const range_split s = split_range(ctx, n, 1, 16);
            std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
            for (auto& h : hits) h = 0;
            std::vector<std::atomic<int>> busy(static_cast<std::size_t>(s.tasks));
            for (auto& b : busy) b = 0;
            std::atomic<int> overlaps{0}, bad_task{0};
            parallel_range(ctx, s, [&](index_t task, index_t begin, index_t end) {
                if (task < 0 || task >= s.tasks) {
                    bad_task.fetch_add(1);
                    return;
                }
                if (busy[std::size_t(task)].fetch_add(1) != 0) overlaps.fetch_add(1);
                // a nested split runs on this thread (the pool is busy with this call)
                parallel_range(ctx, end - begin, 1, [&](index_t b, index_t e) {
                    for (index_t i = begin + b; i < begin + e; ++i) hits[std::size_t(i)].fetch_add(1);
                });
                busy[std::size_t(task)].fetch_sub(1);
            });
            CHECK(bad_task.load() == 0);
            CHECK(overlaps.load() == 0);
            for (auto& h : hits) REQUIRE(h.load() == 1);
        }
    }
}
