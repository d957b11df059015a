//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Tasks: the task error category, priority names, the per-thread cache of
// task state blocks, and a task's completion (publish, continuations, id)
// and its fiber-aware waits.

#include <spindle/task.hpp>

#include "task_waiter.hpp"

#include <spindle/timer.hpp>

#include <boost/fiber/context.hpp>
#include <boost/fiber/future.hpp>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stop_token>
#include <string>

namespace spindle {

//------------------------------------------------------------------------------
// errors and names

namespace {

class task_category_impl final : public boost::system::error_category
{
public:
    constexpr task_category_impl() noexcept : boost::system::error_category(0x5e1d1e0c0ffee006ULL) {}

    char const* name() const noexcept override { return "spindle.task"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    char const* message(int ev, char*, std::size_t) const noexcept override
    {
        switch(static_cast<task_error>(ev))
        {
        case task_error::queue_full: return "task queue full";
        case task_error::timed_out: return "task timed out";
        case task_error::cancelled: return "task cancelled";
        case task_error::circuit_open: return "circuit breaker open";
        case task_error::executor_stopped: return "executor stopped";
        case task_error::task_failed: return "the task threw";
        case task_error::retries_exhausted: return "task failed on every retry attempt";
        }
        return "unknown task error";
    }
};

constexpr task_category_impl the_task_category;

} // namespace

boost::system::error_category const& task_category() noexcept
{
    return the_task_category;
}

std::string_view to_string(task_priority p) noexcept
{
    switch(p)
    {
    case task_priority::low: return "low";
    case task_priority::normal: return "normal";
    case task_priority::high: return "high";
    case task_priority::critical: return "critical";
    }
    return "unknown";
}

namespace detail {

//------------------------------------------------------------------------------
// task state blocks

namespace {

// Under a sanitizer every state goes through operator new and delete, so
// that a use after free is still caught.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool block_cache_enabled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool block_cache_enabled = false;
#else
constexpr bool block_cache_enabled = true;
#endif
#else
constexpr bool block_cache_enabled = true;
#endif

/** Size classes of blocks: 16k - 8 bytes for k = 2 .. block_classes + 1,
    what glibc's malloc gives for such requests (a 16-byte granule less its
    8-byte header), so rounding up wastes nothing there.
*/
constexpr std::size_t block_classes = 16;
constexpr std::size_t block_max = 16 * (block_classes + 1) - 8;

/// Class of a block of `n` bytes (0 < n <= block_max) and its size.
constexpr std::size_t block_class(std::size_t n) noexcept
{
    return n <= 24 ? 0 : (n + 8 - 1) / 16 - 1;
}
constexpr std::size_t block_size(std::size_t c) noexcept
{
    return 16 * (c + 2) - 8;
}
static_assert(block_class(24) == 0 && block_class(25) == 1 && block_class(40) == 1 && block_class(41) == 2);
static_assert(block_class(block_max) == block_classes - 1 && block_size(block_classes - 1) == block_max);
static_assert(block_size(block_class(152)) == 152 && block_size(block_class(153)) == 168);

/// Bytes a thread's cache may hold: a full default queue of small states.
constexpr std::size_t block_cache_limit = 256 * 1024;

/** Free blocks of task states, per thread and size class. Only its own
    thread touches it (a fiber never suspends inside), so it needs no
    synchronisation; blocks travel between threads as the tasks do.
*/
struct block_cache
{
    struct block
    {
        block* next;
    };
    block* free_[block_classes] = {};
    std::size_t bytes_ = 0;

    ~block_cache();
};

// Trivially destructible, so it stays readable while the thread's other
// thread_local objects are destroyed (one of them may free a task).
thread_local bool tl_block_cache_gone = false;
thread_local block_cache tl_block_cache;

block_cache::~block_cache()
{
    tl_block_cache_gone = true;
    for(block*& head : free_)
        while(block* b = head)
        {
            head = b->next;
            ::operator delete(b);
        }
}

} // namespace

void* allocate_task_block(std::size_t n)
{
    if(block_cache_enabled && n > 0 && n <= block_max && !tl_block_cache_gone)
    {
        std::size_t const c = block_class(n);
        block_cache& cache = tl_block_cache;
        if(block_cache::block* b = cache.free_[c])
        {
            cache.free_[c] = b->next;
            cache.bytes_ -= block_size(c);
            return b;
        }
        return ::operator new(block_size(c));
    }
    return ::operator new(n);
}

void free_task_block(void* p, std::size_t n) noexcept
{
    if(block_cache_enabled && p && n > 0 && n <= block_max && !tl_block_cache_gone)
    {
        std::size_t const c = block_class(n);
        std::size_t const size = block_size(c);
        block_cache& cache = tl_block_cache;
        if(cache.bytes_ + size <= block_cache_limit)
        {
            auto* b = static_cast<block_cache::block*>(p);
            b->next = cache.free_[c];
            cache.free_[c] = b;
            cache.bytes_ += size;
            return;
        }
    }
    ::operator delete(p);
}

//------------------------------------------------------------------------------
// completion and waiting

namespace {

std::string describe(std::exception_ptr const& e)
{
    if(!e)
        return "no exception";
    try
    {
        std::rethrow_exception(e);
    }
    catch(std::exception const& x)
    {
        return x.what();
    }
    catch(...)
    {
        return "a non-standard exception";
    }
}

} // namespace

std::string describe_task_exception(std::exception_ptr const& e)
{
    if(!e)
        return "the task threw";
    return "the task threw: " + describe(e);
}

void task_core::publish() noexcept
{
    // seq_cst against add_continuation: either it sees done_, or this
    // thread sees its flag and takes the list under the lock
    done_.store(true, std::memory_order_seq_cst);
    if(!has_continuations_.load(std::memory_order_seq_cst))
        return;
    task_continuation* list;
    {
        std::lock_guard lk(lock_);
        list = continuations_;
        continuations_ = nullptr;
    }
    task_continuation* oldest_first = nullptr;
    while(list)
    {
        task_continuation* next = list->next_;
        list->next_ = oldest_first;
        oldest_first = list;
        list = next;
    }
    while(oldest_first)
    {
        task_continuation* next = oldest_first->next_; // fire() may free the node
        oldest_first->fire();
        oldest_first = next;
    }
}

bool task_core::add_continuation(task_continuation* c) noexcept
{
    std::lock_guard lk(lock_);
    has_continuations_.store(true, std::memory_order_seq_cst);
    if(done_.load(std::memory_order_seq_cst))
        return false;
    c->next_ = continuations_;
    continuations_ = c;
    return true;
}

bool task_core::remove_continuation(task_continuation* c) noexcept
{
    std::lock_guard lk(lock_);
    for(task_continuation** p = &continuations_; *p; p = &(*p)->next_)
    {
        if(*p == c)
        {
            *p = c->next_;
            return true;
        }
    }
    return false;
}

task_id task_core::id() const noexcept
{
    if(has_id_.load(std::memory_order_acquire))
        return id_;
    // generated outside the lock (it may touch the thread's generator for
    // the first time); the first one published wins
    task_id fresh;
    try
    {
        fresh = task_id::generate();
    }
    catch(...)
    {
        // no entropy for a seed: still unique within the process
        static std::atomic<std::uint64_t> fallback{1};
        boost::uuids::uuid u{};
        std::uint64_t const n = fallback.fetch_add(1, std::memory_order_relaxed);
        std::memcpy(u.data + 8, &n, sizeof n);
        u.data[6] = 0x40; // version 4
        fresh = task_id(u);
    }
    std::lock_guard lk(lock_);
    if(!has_id_.load(std::memory_order_relaxed))
    {
        id_ = fresh;
        has_id_.store(true, std::memory_order_release);
    }
    return id_;
}

namespace {

/// True on a thread that is not running one of Boost.Fiber's worker fibers
/// (a plain thread). Spinning there costs no other fiber anything.
bool on_plain_thread() noexcept
{
    return boost::fibers::context::active()->is_context(boost::fibers::type::main_context);
}

} // namespace

bool task_core::wait(std::stop_token st)
{
    if(done())
        return true;
    if(st.stop_requested())
        return false;
    // A plain thread waiting for a short task would pay a sleep and a
    // cross-thread wake-up; a brief spin usually sees the result first.
    // A fiber parks at once: spinning would hold up its whole worker.
    if(on_plain_thread())
    {
        for(int i = 0; i < 512; ++i)
        {
            spin_pause();
            if(done())
                return true;
        }
    }
    task_waiter w;
    boost::fibers::future<void> f = w.promise_.get_future();
    if(!add_continuation(&w))
        return true;
    park_waiter(w, f, st);
    if(!remove_continuation(&w))
        w.await_release(); // the completer took the node: let it finish with it
    return done();
}

bool task_core::wait_for(std::chrono::nanoseconds d)
{
    if(done())
        return true;
    if(d <= std::chrono::nanoseconds::zero())
        return false;
    if(!timers_)
        return wait(std::stop_token());
    std::stop_source src;
    boost::system::error_code ec;
    timer_id const id = timers_->start(d, stop_on_fire{src}, ec);
    if(ec) // the system's timers are down: so is the system, which completes every task
        return wait(std::stop_token());
    bool const r = wait(src.get_token());
    timers_->cancel(id);
    return r;
}

} // namespace detail
} // namespace spindle
