// thread_pool: the threads that run a call's work in parallel, started once per process and
// reused by every call (starting a thread costs ~20 us, more than many layers take).
//
// parallel_for(ctx, tasks, f) runs f(task) for every task in [0, tasks) on the calling thread and
// up to ctx.threads - 1 pool workers, each taking the next task until none is left, and returns
// when all are done. One job runs on the pool at a time: a call made while it is busy (another
// thread's model, or a task calling parallel_for itself) runs its tasks on its own thread, so
// nothing waits on itself. Where the platform has no threads (SPARQ_HAS_THREADS 0: a firmware
// build) every task runs on the calling thread. Ops that split a range of items use
// core/parallel.hpp's parallel_range, which runs its chunks here.
//
// Between jobs a worker spins for a while (spin_for) before it sleeps on the condition
// variable, and so does the caller waiting for the last task: a model's layers follow each
// other microseconds apart, and a futex wake-up on this VM took 50-100 us a layer (two threads
// gained 1.70x on resnet18 instead of the work's ~1.9x), as OpenMP's and ONNX Runtime's pools
// spin before they block.
#pragma once

#include <cstdint>

#include "sparq/core/context.hpp"
#include "sparq/core/parallel.hpp"  // SPARQ_HAS_THREADS; the split rule ops use (parallel_range)
#include "sparq/core/shape.hpp"

#if SPARQ_HAS_THREADS
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace sparq {

#if SPARQ_HAS_THREADS

class thread_pool {
public:
    explicit thread_pool(int workers) {
        for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { work(i); });
    }
    ~thread_pool() {
        {
            std::lock_guard<std::mutex> lock(m_);
            stop_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : threads_) t.join();
    }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    int workers() const noexcept { return int(threads_.size()); }

    // f(task) for each task, on this thread and up to `helpers` workers (fewer if busy).
    template <class F>
    void run(index_t tasks, int helpers, F& f) {
        helpers = std::min({helpers, workers(), int(tasks) - 1});
        // a task calling parallel_for runs its tasks itself (it may hold the job already)
        if (helpers <= 0 || in_task()) {
            for (index_t t = 0; t < tasks; ++t) f(t);
            return;
        }
        std::unique_lock<std::mutex> job(run_m_, std::try_to_lock);
        if (!job.owns_lock()) {  // another thread's job is on the pool
            for (index_t t = 0; t < tasks; ++t) f(t);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(m_);
            call_ = [](void* fn, index_t t) { (*static_cast<F*>(fn))(t); };
            fn_ = &f;
            tasks_ = tasks;
            next_.store(0, std::memory_order_relaxed);
            helpers_ = helpers;
            busy_.store(helpers, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();  // (no system call when every worker is still spinning)
        take_tasks(call_, fn_, tasks);
        spin_until([&] { return busy_.load(std::memory_order_acquire) == 0; });
        std::unique_lock<std::mutex> lock(m_);
        done_.wait(lock, [&] { return busy_.load(std::memory_order_relaxed) == 0; });
    }

private:
    // How long a thread polls before it sleeps: longer than the gap between two layers, short
    // enough that an idle process stops burning a core at once.
    static constexpr std::chrono::microseconds spin_for{200};

    static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }
    // Polls ready() (an atomic load) until it holds or spin_for has passed; whether it held.
    template <class P>
    static bool spin_until(P&& ready) noexcept {
        const auto until = std::chrono::steady_clock::now() + spin_for;
        for (unsigned i = 1;; ++i) {
            if (ready()) return true;
            relax();
            if (i % 64 == 0 && std::chrono::steady_clock::now() > until) return ready();
        }
    }

    static bool& in_task() noexcept {
        static thread_local bool inside = false;
        return inside;
    }
    void take_tasks(void (*call)(void*, index_t), void* fn, index_t tasks) {
        in_task() = true;
        for (index_t t = next_.fetch_add(1, std::memory_order_relaxed); t < tasks; t = next_.fetch_add(1, std::memory_order_relaxed))
            call(fn, t);
        in_task() = false;
    }
    void work(int index) {
        std::uint64_t seen = 0;
        for (;;) {
            void (*call)(void*, index_t) = nullptr;
            void* fn = nullptr;
            index_t tasks = 0;
            spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
            {
                std::unique_lock<std::mutex> lock(m_);
                wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
                if (stop_) return;
                seen = generation_.load(std::memory_order_relaxed);
                if (index >= helpers_) continue;  // not needed for this job
                call = call_, fn = fn_, tasks = tasks_;
            }
            take_tasks(call, fn, tasks);
            std::lock_guard<std::mutex> lock(m_);
            if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.notify_one();
        }
    }

    std::mutex run_m_;  // held by the caller whose job the pool runs
    std::mutex m_;      // guards everything below but next_
    std::condition_variable wake_, done_;
    std::vector<std::thread> threads_;
    std::atomic<std::uint64_t> generation_{0};  // written under m_, polled without it
    bool stop_ = false;
    void (*call_)(void*, index_t) = nullptr;
    void* fn_ = nullptr;
    index_t tasks_ = 0;
    int helpers_ = 0;
    std::atomic<int> busy_{0};  // written under m_, polled without it
    std::atomic<index_t> next_{0};
};

// The process's pool: one worker per hardware thread beyond the caller's, started on first use
// and never destroyed (its workers sleep until the process ends: joining them from a static
// destructor could race a model still running in another static's destructor).
inline thread_pool& shared_thread_pool() {
    static thread_pool* pool = new thread_pool(std::max(1, int(std::thread::hardware_concurrency())) - 1);
    return *pool;
}

// How many threads parallel_for would use for `tasks` tasks on ctx.
inline int parallel_threads(const context& ctx, index_t tasks) {
    if (ctx.threads <= 1 || tasks <= 1) return 1;
    return std::min({ctx.threads, shared_thread_pool().workers() + 1, int(std::min<index_t>(tasks, 1 << 20))});
}

template <class F>
void parallel_for(const context& ctx, index_t tasks, F&& f) {
    if (ctx.threads <= 1 || tasks <= 1) {
        for (index_t t = 0; t < tasks; ++t) f(t);
        return;
    }
    shared_thread_pool().run(tasks, ctx.threads - 1, f);
}

namespace detail {
// parallel_range's runner (core/parallel.hpp): the shared pool, installed once this header is in
// the program (before main, or on this header's first use in a static initialiser's TU).
inline void run_on_shared_pool(const context& ctx, index_t tasks, void (*call)(void*, index_t), void* fn) {
    parallel_for(ctx, tasks, [call, fn](index_t t) { call(fn, t); });
}
inline const bool shared_pool_installed = (installed_parallel_runner() = &run_on_shared_pool, true);
}  // namespace detail

#else

inline int parallel_threads(const context&, index_t) { return 1; }

template <class F>
void parallel_for(const context&, index_t tasks, F&& f) {
    for (index_t t = 0; t < tasks; ++t) f(t);
}

#endif

}  // namespace sparq
