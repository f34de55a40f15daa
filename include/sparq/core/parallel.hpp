// parallel: the one rule for when and how an op splits its work over context::threads.
//
// An op names its items (rows, planes, pixels, values: whatever it can compute independently)
// and what one item costs in work units; split_range cuts [0, n) into contiguous chunks of at
// least parallel_grain units each (a smaller range is not split: waking a thread costs more
// than it saves), at most parallel_chunks_per_thread chunks a thread, and parallel_range runs
// them. A work unit is about one value through a plain memory-bound loop (load, an operation,
// store): ~0.1 ns on the Xeon this was measured on (a ReLU over an L2-sized array runs at about
// 10 values/ns); heavier items say how many units they are worth, each op from its own measured
// time per value (SiLU 4, a depthwise multiply-add 1, an NCHW pooling tap 8, ...).
//
// The chunks run on up to `tasks` threads (the calling thread and pool workers), each task taking
// the next chunk until none is left, so a thread that wakes late takes fewer; task t in
// [0, tasks) runs on one thread at a time, so it may own a buffer (an arena slice per task).
// Nothing here changes what an item computes: any split gives the same bits as one thread, and
// energy is the caller's to count, once, from the shapes.
//
// This header starts no thread and includes no thread header (nn/firmware.hpp's small ops use
// it): the shared pool of core/thread_pool.hpp installs itself as the runner when that header is
// in the program (every kernel that threads includes it, so compiled models do). Without it, or
// without threads on the platform (SPARQ_HAS_THREADS 0: a firmware build), every chunk runs on
// the calling thread, in order. Calls from inside a task run inline (the pool does that).
#pragma once

#include <cstdint>

#include "sparq/core/config.hpp"  // SPARQ_NOINLINE_LAMBDA
#include "sparq/core/context.hpp"
#include "sparq/core/shape.hpp"

// std::thread where the platform has it (not on a bare-metal firmware build).
#if !defined(SPARQ_HAS_THREADS)
#if defined(__has_include) && __has_include(<thread>) && !defined(__arm__) && !defined(__ARM_ARCH_7M__) && \
    !defined(__ARM_ARCH_7EM__) && !defined(__ARM_ARCH_6M__) && !defined(__ARM_ARCH_8M_MAIN__)
#define SPARQ_HAS_THREADS 1
#else
#define SPARQ_HAS_THREADS 0
#endif
#endif

#if SPARQ_HAS_THREADS
#include <atomic>
#endif

namespace sparq {

// The least work a chunk holds, in work units (above): 2^18 units, ~26 us of a ReLU here. Handing
// two tasks to a pool worker that is awake costs ~2 us, but on these VMs a worker asleep between
// calls often takes 40-55 us to start (more while the other vCPU is busy), and the caller waits
// for it to check in even when it ran every chunk itself: bench/bench_parallel.cpp's
// parallel_for/pool/2 and relu_f32/sparq_split rows (a ReLU cut in two at 16K-1M values) showed
// two threads losing below ~256K values, 0.9-1.5x at 512K and 1.05-1.55x at 1M, run to run. A
// split needs two grains (~52 us of work, 512K ReLU values); the GEMMs' 2^20-MAC rule is alike.
inline constexpr std::uint64_t parallel_grain = std::uint64_t(1) << 18;
// Chunks per thread at most: spare chunks let a thread that starts early take a late one's share.
inline constexpr index_t parallel_chunks_per_thread = 4;

// How a range is cut: `chunks` chunks of `chunk` items (the last may hold fewer) over `tasks` tasks.
struct range_split {
    index_t items = 0, chunk = 0, chunks = 0, tasks = 1;
};

// Runs call(fn, t) for each task t in [0, tasks), on up to ctx.threads threads, returning when
// all are done (core/thread_pool.hpp installs the shared pool's).
using parallel_runner = void (*)(const context& ctx, index_t tasks, void (*call)(void*, index_t), void* fn);

namespace detail {
inline parallel_runner& installed_parallel_runner() noexcept {
    static parallel_runner runner = nullptr;  // constant-initialised: no guard, no race
    return runner;
}
}  // namespace detail

// The split of n items of `cost` units each (0 counts as 1) over `threads` threads: one chunk
// unless there are two grains of work and more than one thread; chunks a multiple of `align`
// items (16 floats: a cache line, so no two threads write one line); at most max_tasks tasks
// (as many buffers as the caller has). A pure function of its arguments: scratch-size functions
// use it to know how many task buffers a call on `threads` threads takes.
constexpr range_split split_range(index_t n, std::uint64_t cost, int threads, index_t align = 1,
                                  index_t max_tasks = index_t(1) << 20) noexcept {
    range_split s;
    s.items = n > 0 ? n : 0;
    s.chunk = s.items;
    s.chunks = s.items > 0 ? 1 : 0;
    if (threads <= 1 || max_tasks <= 1 || s.items <= 1) return s;
    if (align < 1) align = 1;
    cost = cost ? cost : 1;
    const std::uint64_t items = std::uint64_t(s.items);
    const std::uint64_t work = items > ~std::uint64_t(0) / cost ? ~std::uint64_t(0) : items * cost;
    std::uint64_t chunks = work / parallel_grain;
    const std::uint64_t most = std::uint64_t(threads) * std::uint64_t(parallel_chunks_per_thread);
    if (chunks > most) chunks = most;
    const std::uint64_t aligned = (items + std::uint64_t(align) - 1) / std::uint64_t(align);  // runs of `align` items
    if (chunks > aligned) chunks = aligned;
    if (chunks <= 1) return s;
    s.chunk = index_t((aligned + chunks - 1) / chunks) * align;
    s.chunks = (s.items + s.chunk - 1) / s.chunk;
    s.tasks = s.chunks < index_t(threads) ? s.chunks : index_t(threads);
    if (s.tasks > max_tasks) s.tasks = max_tasks;
    return s;
}

// The threads parallel_range may use on ctx: ctx.threads, or 1 where nothing runs tasks on threads.
inline int parallel_range_threads(const context& ctx) noexcept {
    return SPARQ_HAS_THREADS && detail::installed_parallel_runner() && ctx.threads > 1 ? ctx.threads : 1;
}

// The split of n items of `cost` units each on ctx (split_range above, with its threads).
inline range_split split_range(const context& ctx, index_t n, std::uint64_t cost, index_t align = 1,
                               index_t max_tasks = index_t(1) << 20) noexcept {
    return split_range(n, cost, parallel_range_threads(ctx), align, max_tasks);
}

// f(task, begin, end) for every chunk [begin, end) of s; a task runs its chunks one after another
// on one thread. With one task (or no runner) the chunks run in order on the calling thread.
template <class F>
void parallel_range(const context& ctx, const range_split& s, F&& f) {
#if SPARQ_HAS_THREADS
    std::atomic<index_t> next{0};
    auto task = [&](index_t t) {
        for (index_t c = next.fetch_add(1, std::memory_order_relaxed); c < s.chunks;
             c = next.fetch_add(1, std::memory_order_relaxed)) {
            const index_t begin = c * s.chunk, end = begin + s.chunk < s.items ? begin + s.chunk : s.items;
            f(t, begin, end);
        }
    };
    // Both paths run the chunks through `run`, one function (never inlined), so an op's body is
    // compiled once, as it was in the op's own loop before threads (twice, the depthwise
    // kernel's body grew past what GCC inlines).
    void (*const run)(void*, index_t) = [](void* fn, index_t t) SPARQ_NOINLINE_LAMBDA {
        (*static_cast<decltype(task)*>(fn))(t);
    };
    const parallel_runner runner = detail::installed_parallel_runner();
    if (s.tasks <= 1 || !runner) run(&task, 0);
    else runner(ctx, s.tasks, run, &task);
#else
    (void)ctx;
    for (index_t c = 0; c < s.chunks; ++c) {
        const index_t begin = c * s.chunk, end = begin + s.chunk < s.items ? begin + s.chunk : s.items;
        f(index_t(0), begin, end);
    }
#endif
}

// f(begin, end) over [0, n) split as split_range(ctx, n, cost, align) says.
template <class F>
void parallel_range(const context& ctx, index_t n, std::uint64_t cost, F&& f, index_t align = 1) {
    parallel_range(ctx, split_range(ctx, n, cost, align), [&](index_t, index_t begin, index_t end) { f(begin, end); });
}

}  // namespace sparq
