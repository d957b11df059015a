//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The task executor: lanes (actors that run tasks inside their handler, so
// tasks reuse the workers' runner fibers), the per-priority TBB queues,
// timeouts by one watch timer per lane, retries on the system clock, and
// the fiber-aware waits of task handles.

#include <spindle/executor.hpp>

#include "system_state.hpp"

#include <spindle/event_stream.hpp>

#include <spindle/actor.hpp>
#include <spindle/log.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>
#include <spindle/timer.hpp>

#include <boost/fiber/context.hpp>
#include <boost/fiber/future.hpp>

#include <tbb/concurrent_queue.h>

#include <algorithm>
#include <sstream>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace spindle {

//------------------------------------------------------------------------------
// errors, names, retry policy

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

std::chrono::nanoseconds retry_policy::delay(std::size_t retry, double u) const noexcept
{
    if(base_delay.count() <= 0)
        return std::chrono::nanoseconds(0);
    double const cap = static_cast<double>(std::max(max_delay, base_delay).count());
    double const m = multiplier >= 1.0 && std::isfinite(multiplier) ? multiplier : 1.0;
    double d = static_cast<double>(base_delay.count()) * std::pow(m, static_cast<double>(retry > 0 ? retry - 1 : 0));
    if(!(d <= cap))
        d = cap;
    double const j = jitter > 0.0 ? std::min(jitter, 1.0) : 0.0; // NaN reads as 0
    double const r = u > 0.0 ? std::min(u, 1.0) : 0.0;
    d *= 1.0 - j * r;
    return std::chrono::nanoseconds(static_cast<std::int64_t>(d));
}

bool retry_policy::validate(boost::system::error_code& ec) const noexcept
{
    bool const ok = max_attempts >= 1 && base_delay.count() >= 0 && max_delay >= base_delay &&
                    multiplier >= 1.0 && std::isfinite(multiplier) && jitter >= 0.0 && jitter <= 1.0;
    if(ok)
        ec = {};
    else
        ec = error::invalid_argument;
    return ok;
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
// fiber-aware waiting

namespace {

/** One waiter parked on a fiber promise. Whoever signals first (the
    completer, a stop request, a timeout) sets the promise; the completer
    then sets `released_` as its very last access, so a waiter that was
    taken off a list by someone else knows when it may free the node (it
    lives on the waiter's stack). The same wait covers boostorg/fiber#319:
    a plain thread must not exit while the waker is still inside the
    promise's wake-up.
*/
struct task_waiter final : task_continuation
{
    boost::fibers::promise<void> promise_;
    std::atomic<int> fired_{0}; // 0 waiting, 1 completion / room, 2 stop
    std::atomic<bool> released_{false};

    bool signal(int how) noexcept
    {
        int expected = 0;
        if(!fired_.compare_exchange_strong(expected, how, std::memory_order_acq_rel))
            return false;
        try
        {
            promise_.set_value();
        }
        catch(...)
        {
            // set_value throws only if already satisfied, which fired_ excludes
        }
        return true;
    }

    /// Signals as the completer and releases the node. @return True if this call woke the waiter.
    bool release_signal() noexcept
    {
        bool const won = signal(1);
        released_.store(true, std::memory_order_release);
        return won;
    }

    void fire() noexcept override { release_signal(); }

    void await_release() const noexcept
    {
        while(!released_.load(std::memory_order_acquire))
            std::this_thread::yield();
    }
};

struct waiter_stop
{
    task_waiter* w;
    void operator()() const noexcept { w->signal(2); }
};

/// Parks until `w` is signalled or `st` is stopped. The node must already
/// be visible to its signallers.
void park(task_waiter& w, boost::fibers::future<void>& f, std::stop_token const& st)
{
    std::optional<std::stop_callback<waiter_stop>> on_stop;
    if(st.stop_possible())
        on_stop.emplace(st, waiter_stop{&w});
    f.wait();
    // leaving the scope waits for a stop callback running on another thread
}

struct stop_on_fire
{
    std::stop_source src;
    void operator()() noexcept { src.request_stop(); }
};

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept
{
    if(b > 0 && a > std::numeric_limits<std::int64_t>::max() - b)
        return std::numeric_limits<std::int64_t>::max();
    if(b < 0 && a < std::numeric_limits<std::int64_t>::min() - b)
        return std::numeric_limits<std::int64_t>::min();
    return a + b;
}

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

double uniform01() noexcept
{
    thread_local std::minstd_rand rng(static_cast<unsigned>(
        std::hash<std::thread::id>()(std::this_thread::get_id()) ^
        static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
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
    park(w, f, st);
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

//------------------------------------------------------------------------------
// the executor

class executor_impl;

/// The message that makes a lane take tasks from the queue (untraced: each
/// task carries its submitter's context and makes its own span).
struct lane_drain
{
    using spindle_untraced = void;
};

/** A lane: an actor whose handler runs tasks one after another. Its
    spawn arguments hold the executor weakly (the runtime keeps them for
    restarts, and the executor holds the lane's reference: no cycle).
*/
class lane_actor : public actor<lane_actor, lane_drain>
{
    std::shared_ptr<executor_impl> ex_;
    std::size_t slot_;

public:
    lane_actor(std::weak_ptr<executor_impl> const& ex, std::size_t slot) : ex_(ex.lock()), slot_(slot) {}
    void pre_start() override;
    void on(lane_drain);
};

namespace {

constexpr std::int64_t no_deadline = std::numeric_limits<std::int64_t>::max();

/// No worker's shard: the calling thread is not a worker of the system.
constexpr std::size_t no_shard = std::numeric_limits<std::size_t>::max();

/// No clock read to reuse (see executor_impl::run).
constexpr std::int64_t no_clock = std::numeric_limits<std::int64_t>::min();

/// Tasks a lane runs per message before it re-queues itself (fairness
/// towards the worker's other actors, together with the system's throughput).
constexpr unsigned drain_batch = 32;

/// Largest `max_concurrent`: the lane table is allocated up front, and
/// busy lanes are counted in 16 bits.
constexpr std::size_t max_lanes = 65535;

/// Largest `queue_capacity`: slots are counted in 24 bits, and retries may
/// re-enter a full queue, so half the range stays free for them.
constexpr std::size_t max_queue_capacity = std::size_t(1) << 23;

/// States of tasks cancelled while queued that may wait in the queue for a
/// lane to skip them without taking a slot: with the largest capacity this
/// keeps a quarter of the 24-bit slot count for retries.
constexpr std::int64_t max_cancelled_states = std::int64_t(1) << 22;

// Executor names in use, per metrics registry (their metric series and
// collectors are keyed by name, and a registry refuses duplicate collectors).
std::mutex names_mtx;
std::set<std::pair<void const*, std::string>> names_in_use;
std::atomic<std::uint64_t> next_executor_number{1};

} // namespace

/** Bounds of the task run-time histogram, in seconds: a 1-2.5-5 sequence
    from 1 microsecond to 100 seconds, then 5 and 10 minutes.
*/
constexpr double duration_bounds[] = {
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 300, 600};

constexpr std::size_t priority_count = 4;

/// The index of a priority; an invalid one (refused by `check`) counts as normal.
std::size_t priority_index(task_priority p) noexcept
{
    auto const i = static_cast<std::size_t>(p);
    return i < priority_count ? i : static_cast<std::size_t>(task_priority::normal);
}

/// One lane's shared record: the task it runs now and its watch timer.
struct alignas(SPINDLE_CACHELINE) lane_slot
{
    spinlock lock;
    task_core* current = nullptr;
    std::int64_t deadline = no_deadline; ///< of the current attempt (ns on the system clock)
    std::uint64_t watch_gen = 0;         ///< identifies the armed watch; stale firings are ignored
    std::int64_t watch_at = 0;           ///< deadline the watch is armed for; 0 = none
    timer_id watch_id{};
    std::int64_t stop_seen_at = -1; ///< when the watchdog first saw the current task asked to stop
    bool reported = false;          ///< the current task was reported unresponsive
    /// The breaker permit of the current attempt: a timeout reports it at
    /// once (the task may ignore its stop token), else the lane does.
    circuit_breaker::permit permit;
    actor_ref<lane_actor> ref;
    /// The run time of the lane's last attempt (ns): a lane running slow
    /// tasks wakes a blocked submitter per freed slot (see pop).
    std::int64_t last_run_ns = 0;
};

class executor_impl : public std::enable_shared_from_this<executor_impl>, public task_queue_hook
{
public:
    spindle::system& sys_;
    timer_service& timers_;
    executor_options opts_;
    metrics::registry& reg_;

    std::array<tbb::concurrent_queue<task_core*>, 4> queues_;

    /** Queue and lane accounting in one word, so submitters and lanes
        touch one cache line:
        - bits 40..63: taken queue slots (queued, or being pushed);
        - bits 24..39: busy lanes (between claiming a task and finishing it);
        - bits 0..23: published tasks (pushed, not yet claimed).
        A lane claims a published task before it pops, so it never waits
        inside TBB for a push still in flight; the claim also marks the lane
        busy, for free. A new lane is activated only while every activated
        lane is busy: blocked tasks get fresh lanes, short ones do not fan
        out over lanes that would only take turns on the same workers.
    */
    alignas(SPINDLE_CACHELINE) std::atomic<std::uint64_t> counts_{0};
    static constexpr std::uint64_t ready_one = 1;
    static constexpr std::uint64_t busy_one = std::uint64_t(1) << 24;
    static constexpr std::uint64_t slot_one = std::uint64_t(1) << 40;
    static constexpr std::uint64_t ready_mask = busy_one - 1;
    static std::uint64_t ready_of(std::uint64_t c) noexcept { return c & ready_mask; }
    static std::uint64_t busy_of(std::uint64_t c) noexcept { return (c >> 24) & 0xffff; }
    static std::uint64_t slots_of(std::uint64_t c) noexcept { return c >> 40; }
    /// Queue slots of tasks cancelled while queued: free for new tasks,
    /// although their states wait in the queue for a lane to skip them.
    alignas(SPINDLE_CACHELINE) std::atomic<std::int64_t> freed_slots_{0};
    alignas(SPINDLE_CACHELINE) std::atomic<std::size_t> active_{0};
    alignas(SPINDLE_CACHELINE) std::atomic<bool> stopping_{false};
    std::atomic<bool> closed_{false};
    std::atomic<bool> shutdown_started_{false};
    std::atomic<int> room_waiting_{0};
    /// The name of its tasks' attempt spans: `task <name>`.
    std::string task_span_name_;
    /// Free slots that make a lane wake a blocked submitter after a fast
    /// task: a quarter of the queue (at least 1).
    std::int64_t room_wake_batch_ = 1;
    /// A task this long (ns) or longer is slow (see room_for_a_waiter).
    static constexpr std::int64_t slow_task_ns = 20'000;

    std::unique_ptr<lane_slot[]> lanes_;
    std::atomic<std::size_t> lanes_spawned_{0};
    spinlock idle_lock_;
    std::vector<std::size_t> idle_;

    // submitters waiting for room: an intrusive FIFO (nothing allocates under the lock)
    spinlock room_lock_;
    task_continuation* room_head_ = nullptr;
    task_continuation* room_tail_ = nullptr;

    spinlock quiet_lock_;
    task_waiter* quiet_waiter_ = nullptr;

    // tasks waiting for a retry, linked through their task_policy
    spinlock backoff_lock_;
    task_core* backoff_head_ = nullptr;
    std::atomic<std::size_t> backoff_count_{0};

    template<class C>
    using by_priority = std::array<C*, priority_count>;

    // the outcomes, by task priority
    by_priority<metrics::striped_counter> submitted_;
    /// Sharded by worker: counted by the lanes, which run on the workers.
    by_priority<metrics::sharded_counter> completed_;
    by_priority<metrics::sharded_histogram> durations_;
    by_priority<metrics::counter> rejected_;
    by_priority<metrics::counter> failed_;
    by_priority<metrics::counter> timed_out_;
    by_priority<metrics::counter> cancelled_;
    metrics::counter& retries_;
    metrics::counter& exceptions_;
    metrics::counter& unresponsive_;
    metrics::collector_id running_collector_{};
    metrics::collector_id queued_collector_{};
    detail::system_state const& state_;
    /// Consecutive tasks on a lane share a clock read (one task's end is the
    /// next one's start) on the real clock; never on a manual one, which a
    /// test may move between two tasks.
    bool chain_clock_reads_;
    bool name_claimed_ = false;

    timer_id watchdog_{};
    std::atomic<bool> stop_hook_set_{false};
    struct system_stop_hook
    {
        executor_impl* ex;
        void operator()() const noexcept { ex->on_system_stop(); }
    };
    // last member: destroyed first, so a hook running on another thread is
    // waited for while every other member is still alive
    std::optional<std::stop_callback<system_stop_hook>> stop_hook_;

    static metrics::labels_type labels(std::string const& name) { return {{"executor", name}}; }

    static metrics::labels_type labels(std::string const& name, std::size_t priority)
    {
        return {{"executor", name}, {"priority", std::string(to_string(static_cast<task_priority>(priority)))}};
    }

    /// Registers one counter family with a series per priority, all there from the start.
    template<class C>
    by_priority<C> per_priority_series(char const* name, char const* help)
    {
        by_priority<C> r{};
        for(std::size_t p = 0; p < priority_count; ++p)
        {
            if constexpr(std::is_same_v<C, metrics::striped_counter>)
                r[p] = &reg_.striped_counter(name, help, labels(opts_.name, p));
            else if constexpr(std::is_same_v<C, metrics::sharded_counter>)
                r[p] = &reg_.sharded_counter(name, help, sys_.options().worker_threads, labels(opts_.name, p));
            else if constexpr(std::is_same_v<C, metrics::sharded_histogram>)
                r[p] = &reg_.sharded_histogram(name, help, duration_bounds, sys_.options().worker_threads,
                                               labels(opts_.name, p));
            else
                r[p] = &reg_.counter(name, help, labels(opts_.name, p));
        }
        return r;
    }

    template<class C>
    static std::uint64_t total(by_priority<C> const& c) noexcept
    {
        std::uint64_t n = 0;
        for(auto* x : c)
            n += x->value();
        return n;
    }

    executor_impl(spindle::system& sys, executor_options opts)
        : sys_(sys)
        , timers_(sys.timers())
        , opts_(std::move(opts))
        , reg_(sys.metrics())
        , submitted_(per_priority_series<metrics::striped_counter>(
              "spindle_executor_tasks_submitted_total", "Tasks accepted by an executor, by priority"))
        , completed_(per_priority_series<metrics::sharded_counter>(
              "spindle_executor_tasks_completed_total", "Tasks that finished with a value, by priority"))
        , durations_(per_priority_series<metrics::sharded_histogram>(
              "spindle_executor_task_duration_seconds",
              "Run time of task attempts on a lane, from start to return, by priority (per attempt: a retried "
              "task is observed once per attempt)"))
        , rejected_(per_priority_series<metrics::counter>(
              "spindle_executor_tasks_rejected_total",
              "Submissions refused (queue full, executor stopped, invalid options), by priority (an invalid "
              "priority counts as normal)"))
        , failed_(per_priority_series<metrics::counter>(
              "spindle_executor_tasks_failed_total",
              "Tasks that finished with an error (failed, retries exhausted, circuit open), by priority"))
        , timed_out_(per_priority_series<metrics::counter>(
              "spindle_executor_tasks_timed_out_total", "Task attempts that ran past their timeout, by priority"))
        , cancelled_(per_priority_series<metrics::counter>(
              "spindle_executor_tasks_cancelled_total", "Tasks cancelled by their handle or by a shutdown, by priority"))
        , retries_(reg_.counter("spindle_executor_retries_total", "Task retries scheduled", labels(opts_.name)))
        , exceptions_(reg_.counter("spindle_executor_exceptions_total",
                                   "Exceptions thrown by tasks and contained",
                                   labels(opts_.name)))
        , unresponsive_(reg_.counter("spindle_executor_unresponsive_total",
                                     "Tasks still running stop_grace after being asked to stop",
                                     labels(opts_.name)))
        , state_(sys.state())
        , chain_clock_reads_(!sys.options().clock)
    {
        lanes_ = std::make_unique<lane_slot[]>(opts_.max_concurrent);
        task_span_name_ = "task " + opts_.name;
        room_wake_batch_ = std::max<std::int64_t>(1, static_cast<std::int64_t>(opts_.queue_capacity / 4));
        idle_.reserve(opts_.max_concurrent);
    }

    ~executor_impl()
    {
        // every task left at shutdown; this only runs if construction failed half-way
        for(auto& q : queues_)
        {
            task_core* t;
            while(q.try_pop(t))
            {
                settle_popped(t);
                t->complete_error(task_error::executor_stopped);
                retire(t);
            }
        }
    }

    std::int64_t now_ns() const noexcept { return timers_.now().time_since_epoch().count(); }

    static void retire(task_core* t) noexcept
    {
        t->drop_callable();
        intrusive_ptr_release(t);
    }

    /** Ends `t` with `e` if nobody did yet: counts it in `c`, then publishes
        (so a waiter that sees the result also sees the count).
        @return True if this call ended the task.
    */
    bool finish(task_core* t, task_error e, by_priority<metrics::counter> const& c) noexcept
    {
        if(!t->claim_error(e))
            return false;
        c[priority_index(t->priority_)]->inc();
        task_event(e == task_error::timed_out ? event_type::task_timed_out : event_type::task_failed, t, e);
        t->publish();
        return true;
    }

    /// Publishes a task's end on the system's event stream, if anyone wants it.
    void task_event(event_type type, task_core* t, task_error e) noexcept
    {
        auto& ev = sys_.events();
        if(!ev.wants(type))
            return;
        try
        {
            event x;
            x.type = type;
            x.source_name = "executor/" + opts_.name;
            std::ostringstream os;
            os << "task " << t->id() << ": ";
            if(e == task_error::task_failed || e == task_error::retries_exhausted)
            {
                if(e == task_error::retries_exhausted)
                    os << make_error_code(e).message() << "; the last attempt: ";
                os << describe_task_exception(t->last_exception());
            }
            else
                os << make_error_code(e).message();
            x.detail = os.str();
            ev.publish(std::move(x));
        }
        catch(...)
        {
        }
    }

    /// Counts a cancellation done through the handle, once the executor sees it.
    void count_if_cancelled(task_core* t) noexcept
    {
        if(t->outcome() == task_outcome::cancelled)
            cancelled_[priority_index(t->priority_)]->inc();
    }

    std::size_t queued_count() const noexcept
    {
        auto const slots = static_cast<std::int64_t>(slots_of(counts_.load(std::memory_order_relaxed)));
        return static_cast<std::size_t>(std::max<std::int64_t>(0, slots - freed_slots_.load(std::memory_order_relaxed)));
    }

    /// A queued task was cancelled (on the cancelling thread): its slot is free.
    void on_queued_cancel() noexcept override
    {
        freed_slots_.fetch_add(1, std::memory_order_seq_cst);
        if(room_waiting_.load(std::memory_order_seq_cst) > 0)
            wake_room_waiter();
    }

    /** Takes a popped task out of the queue's books: a task cancelled while
        queued gave its slot back already. Waits for a cancel in progress to
        have told this executor (a few instructions), so that no canceller
        touches the executor after the task left the queue.
    */
    void settle_popped(task_core* t) noexcept
    {
        queue_state q = queue_state::queued;
        if(t->queue_state_.compare_exchange_strong(q, queue_state::none, std::memory_order_acq_rel))
            return;
        while(t->queue_state_.load(std::memory_order_acquire) == queue_state::cancelling)
            spin_pause();
        freed_slots_.fetch_sub(1, std::memory_order_seq_cst);
        t->queue_state_.store(queue_state::none, std::memory_order_relaxed);
    }

    bool has_ready() const noexcept { return ready_of(counts_.load(std::memory_order_seq_cst)) != 0; }

    /// Counts a pushed task's slot and makes it available to lanes.
    void publish_one() noexcept { counts_.fetch_add(slot_one + ready_one, std::memory_order_seq_cst); }

    /** Takes the right to pop one published task and frees its slot. A lane
        passes `mark_busy` on the first claim of a streak: it counts as busy
        until its `end_busy`, and later claims of the streak leave that be.
    */
    bool claim(bool mark_busy) noexcept
    {
        std::uint64_t const delta = slot_one + ready_one - (mark_busy ? busy_one : 0);
        std::uint64_t c = counts_.load(std::memory_order_relaxed);
        do
        {
            if(ready_of(c) == 0)
                return false;
        } while(!counts_.compare_exchange_weak(c, c - delta, std::memory_order_seq_cst));
        return true;
    }

    void end_busy() noexcept { counts_.fetch_sub(busy_one, std::memory_order_seq_cst); }

    /// Pops the task a claim entitles to: one is in the queues (or being
    /// pushed by another submitter, which TBB waits for).
    task_core* pop_claimed() noexcept
    {
        for(;;)
        {
            for(std::size_t p = queues_.size(); p-- > 0;)
            {
                task_core* t;
                if(queues_[p].try_pop(t))
                {
                    settle_popped(t);
                    return t;
                }
            }
            spin_pause();
        }
    }

    //--------------------------------------------------------------------------
    // setup and metrics

    void start()
    {
        register_metrics();
        // Lane 0 exists from the start: its pre_start hooks the executor to
        // the system's shutdown (only an actor can see the system's stop token).
        std::size_t const slot = lanes_spawned_.fetch_add(1);
        boost::system::error_code ec;
        if(!spawn_lane(slot, ec))
            detail::throw_error(ec, "spindle::executor");
        {
            std::lock_guard lk(idle_lock_);
            idle_.push_back(slot);
        }
        std::weak_ptr<executor_impl> weak = weak_from_this();
        watchdog_ = timers_.start_periodic(opts_.stop_grace, opts_.stop_grace, [weak] {
            if(auto ex = weak.lock())
                ex->watchdog_tick();
        });
    }

    void register_metrics()
    {
        running_collector_ = reg_.add_collector(
            "spindle_executor_tasks_running", "Tasks running on a lane now", metrics::metric_type::gauge,
            [this](std::vector<metrics::sample>& out) {
                out.emplace_back(labels(opts_.name), static_cast<double>(running_count()));
            });
        queued_collector_ = reg_.add_collector(
            "spindle_executor_tasks_queued", "Tasks waiting to start", metrics::metric_type::gauge,
            [this](std::vector<metrics::sample>& out) {
                out.emplace_back(labels(opts_.name), static_cast<double>(queued_count()));
            });
    }

    void unregister_metrics() noexcept
    {
        if(running_collector_ != metrics::collector_id{})
            reg_.remove_collector(running_collector_);
        if(queued_collector_ != metrics::collector_id{})
            reg_.remove_collector(queued_collector_);
        running_collector_ = queued_collector_ = metrics::collector_id{};
        if(name_claimed_)
        {
            std::lock_guard lk(names_mtx);
            names_in_use.erase({&reg_, opts_.name});
            name_claimed_ = false;
        }
    }

    bool spawn_lane(std::size_t slot, boost::system::error_code& ec)
    {
        auto ref = sys_.spawn_with<lane_actor>(spawn_options{}, ec, weak_from_this(), slot);
        if(ec)
            return false;
        std::lock_guard lk(lanes_[slot].lock);
        lanes_[slot].ref = std::move(ref);
        return true;
    }

    void attach_system_stop(std::stop_token st)
    {
        if(stop_hook_set_.exchange(true))
            return;
        stop_hook_.emplace(st, system_stop_hook{this});
    }

    //--------------------------------------------------------------------------
    // submission

    bool check(task_options const& o, boost::system::error_code& ec) noexcept
    {
        bool const ok = static_cast<unsigned>(o.priority) <= static_cast<unsigned>(task_priority::critical) &&
                        static_cast<unsigned>(o.on_error) <= static_cast<unsigned>(error_strategy::circuit_breaker) &&
                        o.timeout.count() > 0 &&
                        (o.on_error == error_strategy::circuit_breaker) == (o.breaker != nullptr) &&
                        o.retry.validate(ec);
        if(ok)
            return true;
        ec = error::invalid_argument;
        rejected_[priority_index(o.priority)]->inc();
        return false;
    }

    /** True if the queue has room. Checked before the push and counted
        after it (one atomic operation per submission), so submissions in
        progress at the same moment may overshoot the capacity by their number.
    */
    bool has_room() const noexcept
    {
        // the states of cancelled tasks still take room in the queue itself,
        // and in the 24 bits that count it: up to max_cancelled_states of them
        auto const slots = static_cast<std::int64_t>(slots_of(counts_.load(std::memory_order_seq_cst)));
        auto const cap = static_cast<std::int64_t>(opts_.queue_capacity);
        return slots - freed_slots_.load(std::memory_order_seq_cst) < cap && slots < cap + max_cancelled_states;
    }

    /** Whether a lane that just made room should wake a blocked submitter
        (when its tasks are fast; after a slow task it always does): once
        `room_wake_batch_` slots are free. Waking one per freed slot costs
        a sleep and a wake-up per task when plain threads submit faster than
        the lanes run (the submitter fills the one slot and blocks again);
        a batch lets a woken submitter queue many tasks per wake-up. After
        a task of `slow_task_ns` or more, the wake-up costs little beside
        it, and a submitter must not wait for a batch of slow tasks.
    */
    bool room_for_a_waiter() const noexcept
    {
        auto const slots = static_cast<std::int64_t>(slots_of(counts_.load(std::memory_order_seq_cst)));
        auto const queued = slots - freed_slots_.load(std::memory_order_seq_cst);
        return static_cast<std::int64_t>(opts_.queue_capacity) - queued >= room_wake_batch_;
    }

    bool enqueue(task_core* t, bool may_wait, boost::system::error_code& ec)
    {
        if(stopping_.load(std::memory_order_acquire))
        {
            ec = task_error::executor_stopped;
            rejected_[priority_index(t->priority_)]->inc();
            return false;
        }
        if(!has_room() && !(may_wait && wait_for_room(ec)))
        {
            if(!ec)
                ec = task_error::queue_full;
            rejected_[priority_index(t->priority_)]->inc();
            return false;
        }
        ec = {};
        // the submitter's trace context, for the attempts' spans (one
        // relaxed load when no tracing component is installed; none for
        // an executor whose tasks are not traced)
        if(trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire)) [[unlikely]]
        {
            if(!t->trace_ && opts_.trace_tasks)
                t->trace_ = h->capture();
        }
        intrusive_ptr_add_ref(t); // the queue's reference
        try
        {
            push(t);
        }
        catch(...)
        {
            intrusive_ptr_release(t);
            throw; // std::bad_alloc from the queue: nothing was queued
        }
        submitted_[priority_index(t->priority_)]->inc();
        return true;
    }

    /** Puts a task into its queue and counts it.

        @throws std::bad_alloc if the queue cannot grow (nothing was queued).
    */
    void push(task_core* t)
    {
        t->queue_hook_ = this;
        t->queue_state_.store(queue_state::queued, std::memory_order_release);
        try
        {
            queues_[static_cast<std::size_t>(t->priority_)].push(t);
        }
        catch(...)
        {
            // not queued: a cancel from now on frees no slot (one that came
            // meanwhile is undone)
            if(t->queue_state_.exchange(queue_state::none) != queue_state::queued)
                freed_slots_.fetch_sub(1, std::memory_order_seq_cst);
            throw;
        }
        // seq_cst with go_idle's decrement of active_: either this thread
        // sees the lane go idle, or the lane sees this task
        publish_one();
        if(closed_.load(std::memory_order_seq_cst))
        {
            drain_queues(); // raced with the end of a shutdown: no lane will take it
            return;
        }
        maybe_activate();
    }

    /** Waits (fiber-aware) for room in the queue, up to `submit_timeout`
        on the system clock. @return True once there is room.
    */
    bool wait_for_room(boost::system::error_code& ec)
    {
        std::stop_source deadline;
        boost::system::error_code tec;
        timer_id const tid = timers_.start(opts_.submit_timeout, stop_on_fire{deadline}, tec);
        if(tec)
            deadline.request_stop(); // the system is shutting down: do not wait
        for(;;)
        {
            task_waiter w;
            boost::fibers::future<void> f = w.promise_.get_future();
            {
                std::lock_guard lk(room_lock_);
                w.next_ = nullptr;
                if(room_tail_)
                    room_tail_->next_ = &w;
                else
                    room_head_ = &w;
                room_tail_ = &w;
                room_waiting_.fetch_add(1, std::memory_order_seq_cst);
            }
            // re-check after registering: a slot freed before we were listed woke nobody
            bool got = false;
            if(!stopping_.load(std::memory_order_seq_cst))
            {
                got = has_room();
                if(!got)
                    park(w, f, deadline.get_token());
            }
            bool const room_signal = leave_room_list(w);
            if(stopping_.load(std::memory_order_seq_cst))
            {
                timers_.cancel(tid);
                ec = task_error::executor_stopped;
                return false;
            }
            if(got || has_room())
            {
                timers_.cancel(tid);
                return true;
            }
            if(deadline.stop_requested())
            {
                if(room_signal)
                    wake_room_waiter(); // pass on the wake-up this waiter did not use
                ec = task_error::queue_full;
                return false;
            }
        }
    }

    /// Unlists `w`. @return True if a freed slot had woken it.
    bool leave_room_list(task_waiter& w) noexcept
    {
        bool listed = false;
        {
            std::lock_guard lk(room_lock_);
            task_continuation* prev = nullptr;
            for(task_continuation* c = room_head_; c; prev = c, c = c->next_)
            {
                if(c != &w)
                    continue;
                (prev ? prev->next_ : room_head_) = c->next_;
                if(room_tail_ == c)
                    room_tail_ = prev;
                room_waiting_.fetch_sub(1, std::memory_order_relaxed);
                listed = true;
                break;
            }
        }
        if(!listed)
            w.await_release();
        return w.fired_.load(std::memory_order_acquire) == 1;
    }

    void wake_room_waiter() noexcept
    {
        for(;;)
        {
            task_waiter* w = nullptr;
            {
                std::lock_guard lk(room_lock_);
                if(!room_head_)
                    return;
                w = static_cast<task_waiter*>(room_head_);
                room_head_ = w->next_;
                if(!room_head_)
                    room_tail_ = nullptr;
                room_waiting_.fetch_sub(1, std::memory_order_relaxed);
            }
            if(w->release_signal())
                return; // else it had already timed out: wake the next one
        }
    }

    void wake_all_room_waiters() noexcept
    {
        task_continuation* all;
        {
            std::lock_guard lk(room_lock_);
            all = std::exchange(room_head_, nullptr);
            room_tail_ = nullptr;
            room_waiting_.store(0, std::memory_order_relaxed);
        }
        while(all)
        {
            auto* w = static_cast<task_waiter*>(all);
            all = all->next_; // read first: the waiter may leave once released
            w->release_signal();
        }
    }

    //--------------------------------------------------------------------------
    // lanes

    /** Activates one more lane if tasks wait and every activated lane is busy.
        @return True if it did (it took a message, maybe a spawn).
    */
    bool maybe_activate() noexcept
    {
        std::size_t a = active_.load(std::memory_order_seq_cst);
        for(;;)
        {
            std::uint64_t const c = counts_.load(std::memory_order_seq_cst);
            if(a >= opts_.max_concurrent || ready_of(c) == 0 || busy_of(c) < a)
                return false; // nothing waits, or an activated lane is free to take it
            if(active_.compare_exchange_weak(a, a + 1, std::memory_order_seq_cst))
                break;
        }
        activate_one();
        return true;
    }

    /// Gives the activation just counted in `active_` to an idle or new lane.
    void activate_one() noexcept
    {
        std::size_t slot = 0;
        bool found = false;
        {
            std::lock_guard lk(idle_lock_);
            if(!idle_.empty())
            {
                slot = idle_.back();
                idle_.pop_back();
                found = true;
            }
        }
        try
        {
            if(!found)
            {
                // every lane not idle holds an activation, so there are fewer
                // than max_concurrent lanes here
                slot = lanes_spawned_.fetch_add(1, std::memory_order_relaxed);
                boost::system::error_code ec;
                if(slot >= opts_.max_concurrent || !spawn_lane(slot, ec))
                {
                    lanes_unavailable();
                    return;
                }
            }
            if(lanes_[slot].ref.tell(lane_drain{}) == send_status::ok)
                return;
        }
        catch(...)
        {
            // out of memory: the tasks stay queued for the next activation
        }
        if(found)
        {
            std::lock_guard lk(idle_lock_);
            idle_.push_back(slot);
        }
        lanes_unavailable();
    }

    /// A lane could not be spawned or reached (the system is going down, or
    /// memory ran out): gives the activation back.
    void lanes_unavailable() noexcept
    {
        active_.fetch_sub(1, std::memory_order_seq_cst);
        if(sys_.stopping())
            on_system_stop();
    }

    void go_idle(std::size_t slot) noexcept
    {
        {
            std::lock_guard lk(idle_lock_);
            idle_.push_back(slot);
        }
        active_.fetch_sub(1, std::memory_order_seq_cst);
        if(has_ready())
            maybe_activate();
        else
            check_quiet();
    }

    /// The handler of a lane: runs up to `drain_batch` tasks.
    void drain(std::size_t slot) noexcept
    {
        lane_slot& s = lanes_[slot];
        bool busy = false; // counted busy from the first claim to the end of this batch
        // the last clock read (ns), made when the previous task returned;
        // no_clock when the time since may be more than the lane's bookkeeping
        std::int64_t clock = no_clock;
        for(unsigned n = 0; n < drain_batch; ++n)
        {
            bool slow = false;
            task_core* t = pop(busy, slow, s.last_run_ns >= slow_task_ns);
            if(!t)
            {
                if(busy)
                    end_busy();
                go_idle(slot);
                return;
            }
            // this lane is busy now: if tasks still wait and no other
            // activated lane is free, wake one (this task may block)
            if(maybe_activate() || slow || !chain_clock_reads_)
                clock = no_clock;
            run(s, slot, t, clock);
        }
        if(busy)
            end_busy();
        // keep the activation; the message lets the worker serve other actors
        bool told = false;
        try
        {
            told = s.ref.tell(lane_drain{}) == send_status::ok;
        }
        catch(...)
        {
        }
        if(!told)
            go_idle(slot);
    }

    /// Claims and pops the next task to run; `busy` becomes true with the
    /// lane's first claim (the lane then owes one `end_busy`); `slow`
    /// becomes true if it woke a submitter.
    task_core* pop(bool& busy, bool& slow, bool slow_tasks) noexcept
    {
        while(claim(!busy))
        {
            busy = true;
            task_core* t = pop_claimed();
            if(room_waiting_.load(std::memory_order_seq_cst) > 0 && (slow_tasks || room_for_a_waiter()))
            {
                wake_room_waiter();
                slow = true;
            }
            if(t->claimed())
            {
                count_if_cancelled(t); // cancelled while queued: never runs
                retire(t);
                continue;
            }
            if(closed_.load(std::memory_order_acquire))
            {
                finish(t, task_error::executor_stopped, cancelled_);
                retire(t);
                continue;
            }
            return t;
        }
        return nullptr;
    }

    void set_current(lane_slot& s, std::size_t slot, task_core* t, std::int64_t deadline,
                     circuit_breaker::permit&& permit) noexcept
    {
        bool arm = false;
        std::uint64_t gen = 0;
        timer_id old{};
        {
            std::lock_guard lk(s.lock);
            s.current = t;
            if(permit)
                s.permit = std::move(permit);
            s.deadline = deadline;
            s.stop_seen_at = -1;
            s.reported = false;
            // one watch per lane: armed for the earliest deadline it must see,
            // and re-armed when it fires early for a later task
            if(deadline != no_deadline && (s.watch_at == 0 || s.watch_at > deadline))
            {
                arm = true;
                gen = ++s.watch_gen;
                s.watch_at = deadline;
                old = s.watch_id;
                s.watch_id = {};
            }
        }
        if(arm)
            arm_watch(s, slot, gen, deadline, old);
    }

    void arm_watch(lane_slot& s, std::size_t slot, std::uint64_t gen, std::int64_t deadline, timer_id old) noexcept
    {
        if(old)
            timers_.cancel(old);
        boost::system::error_code ec;
        timer_id id{};
        try
        {
            std::weak_ptr<executor_impl> weak = weak_from_this();
            id = timers_.start_at(
                timer_service::time_point(std::chrono::nanoseconds(deadline)),
                [weak, slot, gen] {
                    if(auto ex = weak.lock())
                        ex->on_watch(slot, gen);
                },
                ec);
        }
        catch(...)
        {
            ec = error::system_stopped; // out of memory: this attempt runs unwatched
        }
        std::lock_guard lk(s.lock);
        if(s.watch_gen == gen)
        {
            if(ec)
                s.watch_at = 0; // timers are down (system stopping): nothing to watch with
            else
                s.watch_id = id;
        }
    }

    void on_watch(std::size_t slot, std::uint64_t gen) noexcept
    {
        lane_slot& s = lanes_[slot];
        task_core* expired = nullptr;
        std::int64_t rearm_at = 0;
        std::uint64_t rearm_gen = 0;
        circuit_breaker::permit permit;
        {
            std::lock_guard lk(s.lock);
            if(s.watch_gen != gen)
                return; // superseded by a watch for an earlier deadline
            s.watch_at = 0;
            s.watch_id = {};
            if(!s.current || s.deadline == no_deadline)
                return;
            std::int64_t const now = now_ns();
            if(s.deadline <= now)
            {
                expired = s.current;
                intrusive_ptr_add_ref(expired);
                s.stop_seen_at = now;
                permit = std::move(s.permit);
            }
            else
            {
                rearm_gen = ++s.watch_gen;
                rearm_at = s.watch_at = s.deadline;
            }
        }
        if(expired)
        {
            finish(expired, task_error::timed_out, timed_out_);
            // whoever ended the task first (this timeout, or the task
            // itself just before it) decides what the breaker hears
            report_ended(permit, expired);
            intrusive_ptr_release(expired);
        }
        else
        {
            arm_watch(s, slot, rearm_gen, rearm_at, timer_id{});
        }
    }

    /// @return The attempt's permit, unless its timeout took it.
    circuit_breaker::permit clear_current(lane_slot& s) noexcept
    {
        std::lock_guard lk(s.lock);
        s.current = nullptr;
        return std::move(s.permit);
    }

    /** Reports to a breaker the outcome of an attempt of `t`, which has a
        result: its value is a success; a timeout and a cancellation are
        what the breaker's options say; a shutdown is not reported.
    */
    static void report_ended(circuit_breaker::permit& permit, task_core* t) noexcept
    {
        if(!permit)
            return;
        auto const& o = t->policy_->breaker->options();
        switch(t->outcome())
        {
        case task_outcome::value: permit.success(); break;
        case task_outcome::timed_out: permit.report(o.on_timeout); break;
        case task_outcome::cancelled: permit.report(o.on_cancel); break;
        default: permit.report(circuit_outcome::ignored); break;
        }
    }

    /** The span of one attempt of a task submitted with a trace context:
        a child of the submitter's span, current while the task runs (so
        what it sends carries it), named `task <executor>`, with the
        executor, the task's id and the attempt's number as attributes and
        an error status if the attempt threw. Nothing without a context.
        `run` (noexcept) always calls `end`.
    */
    class attempt_span
    {
        trace_hooks const* h_ = nullptr;
        void* span_ = nullptr;
        void* token_ = nullptr;

    public:
        attempt_span(executor_impl const& ex, task_core* t) noexcept
        {
            if(!t->trace_)
                return;
            trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire);
            if(!h)
                return;
            char tp[traceparent_size + 1];
            std::string state;
            if(!h->inject(t->trace_, tp, state))
                return;
            span_ = h->start(ex.task_span_name_, 1 /* internal */, std::string_view(tp, traceparent_size), state);
            if(!span_)
                return;
            h_ = h;
            h->set_string(span_, "executor.name", ex.opts_.name);
            char id[36];
            uuid_to_chars(t->id().uuid(), id);
            h->set_string(span_, "task.id", std::string_view(id, sizeof id));
            h->set_int(span_, "task.attempt", static_cast<long long>(t->attempts_));
            token_ = h->activate(span_);
        }

        attempt_span(attempt_span const&) = delete;
        attempt_span& operator=(attempt_span const&) = delete;

        /// Ends the span with the attempt's outcome.
        void end(invoke_status r, task_core* t) noexcept
        {
            if(!h_)
                return;
            h_->leave(token_);
            bool const failed = r == invoke_status::failed;
            std::string message;
            if(failed)
            {
                try
                {
                    message = describe_task_exception(t->last_exception());
                }
                catch(...)
                {
                }
            }
            else if(r != invoke_status::succeeded)
            {
                h_->set_string(span_, "task.outcome", t->claimed() ? "stopped" : "discarded");
            }
            h_->finish(span_, failed, message);
            h_ = nullptr;
        }
    };

    /** Runs one attempt of `t` on the calling lane, then decides its fate.

        @param clock A clock read (ns) to take as the attempt's start, or
        `no_clock` to read the clock; set to the read made when the attempt
        returned, or `no_clock` if what followed may have taken long.
    */
    void run(lane_slot& s, std::size_t slot, task_core* t, std::int64_t& clock) noexcept
    {
        ++t->attempts_;
        circuit_breaker::permit permit;
        if(t->policy_ && t->policy_->breaker)
        {
            boost::system::error_code ec;
            permit = t->policy_->breaker->try_acquire(ec);
            if(ec)
            {
                if(!finish(t, task_error::circuit_open, failed_))
                    count_if_cancelled(t);
                retire(t);
                clock = no_clock;
                return;
            }
        }
        // one clock read per attempt: at its end, which is also the start
        // of the next attempt on this lane unless something slow came between
        std::int64_t const start = clock != no_clock ? clock : now_ns();
        std::int64_t deadline = no_deadline;
        if(t->timeout_ != std::chrono::nanoseconds::max())
            deadline = saturating_add(start, t->timeout_.count());
        set_current(s, slot, t, deadline, std::move(permit));
        attempt_span span(*this, t);
        invoke_status const r = t->invoke();
        std::int64_t const end = now_ns();
        // (a system on a custom clock, a manual one in tests, tells nothing
        // of real run times: every task counts as slow there, as before)
        s.last_run_ns = chain_clock_reads_ ? end - start : slow_task_ns;
        span.end(r, t);
        std::size_t const priority = priority_index(t->priority_);
        // a lane runs on a worker of the system, so the worker's shard is
        // this thread's own; counted before the task's end is published, so
        // whoever sees the result sees it counted
        detail::worker const* const w = detail::current_worker();
        std::size_t const shard = w && w->sys_ == &state_ ? w->index_ : no_shard;
        // (a multiplication, not a division, which would cost a trivial task
        // 4%: it gives every bound exactly, e.g. 100 ms on a manual clock is
        // 0.1, except 1000 ns, one ulp above 1e-6, so counted in le=2.5e-6)
        if(shard != no_shard)
            durations_[priority]->observe(shard, static_cast<double>(std::max<std::int64_t>(end - start, 0)) * 1e-9);
        permit = clear_current(s);
        // waking a waiter may take a while, and so may a failure's handling
        // (a retry's timer, a log line)
        clock = t->has_continuations() || r == invoke_status::failed ? no_clock : end;

        if(r != invoke_status::failed)
        {
            // succeeded: the value; discarded: timed out, cancelled or
            // stopped while it ran
            report_ended(permit, t);
            if(r == invoke_status::succeeded)
            {
                if(shard != no_shard)
                    completed_[priority]->inc(shard);
                t->publish();
            }
            else
            {
                count_if_cancelled(t);
            }
            retire(t);
            return;
        }
        if(t->claimed())
            report_ended(permit, t); // it threw after it was asked to stop
        else if(permit)
            permit.failure();
        exceptions_.inc();
        if(t->claimed()) // timed out or cancelled meanwhile: no retry
        {
            count_if_cancelled(t);
            retire(t);
            return;
        }
        bool const retrying =
            t->strategy_ == error_strategy::retry_with_backoff || t->strategy_ == error_strategy::circuit_breaker;
        if(retrying && t->attempts_ < t->policy_->retry.max_attempts && !closed_.load(std::memory_order_acquire))
        {
            schedule_retry(t);
            return;
        }
        task_error const e =
            retrying && t->policy_->retry.max_attempts > 1 ? task_error::retries_exhausted : task_error::task_failed;
        if(t->strategy_ == error_strategy::log_and_continue)
        {
            try
            {
                SPINDLE_LOG(warning, "executor") << "executor " << opts_.name << ": task " << t->id() << " failed: "
                                                 << describe_task_exception(t->last_exception());
            }
            catch(...)
            {
            }
        }
        if(!finish(t, e, failed_))
            count_if_cancelled(t);
        retire(t);
    }

    //--------------------------------------------------------------------------
    // retries

    /// The backoff timer's callback; owns a reference to the task. Destroyed
    /// unfired (timer cancelled, timers shut down) it ends the task.
    struct retry_due
    {
        std::weak_ptr<executor_impl> ex;
        boost::intrusive_ptr<task_core> t;

        retry_due(std::weak_ptr<executor_impl> e, task_core* task) noexcept : ex(std::move(e)), t(task, false) {}
        retry_due(retry_due&&) noexcept = default;
        retry_due& operator=(retry_due&&) = delete;

        void operator()()
        {
            auto task = std::move(t);
            if(auto e = ex.lock())
                e->on_retry_due(std::move(task));
            else
                task->complete_error(task_error::executor_stopped);
        }

        ~retry_due()
        {
            if(!t)
                return;
            if(auto e = ex.lock())
                e->on_retry_dropped(t.get());
            else
                t->complete_error(task_error::executor_stopped);
        }
    };

    void schedule_retry(task_core* t) noexcept
    {
        auto const delay = t->policy_->retry.delay(t->attempts_, uniform01());
        {
            std::lock_guard lk(backoff_lock_);
            task_policy& p = *t->policy_;
            p.in_backoff = true;
            p.backoff_prev = nullptr;
            p.backoff_next = backoff_head_;
            if(backoff_head_)
                backoff_head_->policy_->backoff_prev = t;
            backoff_head_ = t;
            backoff_count_.fetch_add(1, std::memory_order_seq_cst);
        }
        boost::system::error_code ec;
        try
        {
            // the lane's reference moves to the timer callback
            timers_.start(delay, retry_due(weak_from_this(), t), ec);
        }
        catch(...)
        {
            ec = error::system_stopped; // out of memory; the callback ended the task
        }
        // on error the callback was destroyed unfired, which ended the task;
        // counted once armed, so an observer of the count sees the timer set
        if(!ec)
            retries_.inc();
    }

    /// Takes `t` out of the backoff set. @return False if a shutdown took it first.
    bool take_backoff(task_core* t) noexcept
    {
        std::lock_guard lk(backoff_lock_);
        task_policy& p = *t->policy_;
        if(!p.in_backoff)
            return false;
        p.in_backoff = false;
        if(p.backoff_prev)
            p.backoff_prev->policy_->backoff_next = p.backoff_next;
        else
            backoff_head_ = p.backoff_next;
        if(p.backoff_next)
            p.backoff_next->policy_->backoff_prev = p.backoff_prev;
        backoff_count_.fetch_sub(1, std::memory_order_seq_cst);
        return true;
    }

    void on_retry_due(boost::intrusive_ptr<task_core> t)
    {
        if(!take_backoff(t.get()))
            return;
        if(t->claimed() || closed_.load(std::memory_order_acquire))
        {
            if(!finish(t.get(), task_error::executor_stopped, cancelled_))
                count_if_cancelled(t.get());
            t->drop_callable();
            check_quiet();
            return;
        }
        // a retry was accepted before: it re-enters even a full queue
        try
        {
            push(t.get());
            t.detach(); // the queue holds the reference now
        }
        catch(...)
        {
            finish(t.get(), task_error::task_failed, failed_);
            t->drop_callable();
            check_quiet();
        }
    }

    void on_retry_dropped(task_core* t) noexcept
    {
        if(!take_backoff(t))
            return;
        if(!finish(t, task_error::executor_stopped, cancelled_))
            count_if_cancelled(t);
        t->drop_callable();
        check_quiet();
    }

    //--------------------------------------------------------------------------
    // stopping

    std::size_t running_count() const noexcept
    {
        std::size_t n = 0;
        std::size_t const lanes = std::min(lanes_spawned_.load(std::memory_order_acquire), opts_.max_concurrent);
        for(std::size_t i = 0; i < lanes; ++i)
        {
            std::lock_guard lk(lanes_[i].lock);
            if(lanes_[i].current)
                ++n;
        }
        return n;
    }

    bool quiet() const noexcept
    {
        return slots_of(counts_.load(std::memory_order_seq_cst)) == 0 && active_.load(std::memory_order_seq_cst) == 0 &&
               backoff_count_.load(std::memory_order_seq_cst) == 0;
    }

    void check_quiet() noexcept
    {
        if(!stopping_.load(std::memory_order_acquire) || !quiet())
            return;
        task_waiter* w;
        {
            std::lock_guard lk(quiet_lock_);
            w = quiet_waiter_;
            quiet_waiter_ = nullptr;
        }
        if(w)
            w->release_signal();
    }

    /// Completes every queued task with `executor_stopped`. @return How many.
    std::size_t drain_queues() noexcept
    {
        std::size_t n = 0;
        // tasks still being pushed are drained by their submitters, which
        // see closed_ after publishing
        while(claim(false))
        {
            task_core* t = pop_claimed();
            if(finish(t, task_error::executor_stopped, cancelled_))
                ++n;
            else
                count_if_cancelled(t);
            retire(t);
        }
        check_quiet();
        return n;
    }

    /// Completes every task waiting for a retry with `executor_stopped`. @return How many.
    std::size_t sweep_backoff() noexcept
    {
        task_core* taken;
        {
            std::lock_guard lk(backoff_lock_);
            taken = std::exchange(backoff_head_, nullptr);
            for(task_core* t = taken; t; t = t->policy_->backoff_next)
            {
                t->policy_->in_backoff = false;
                intrusive_ptr_add_ref(t); // the timer callback may drop its own at any moment
            }
            backoff_count_.store(0, std::memory_order_seq_cst);
        }
        std::size_t n = 0;
        while(taken)
        {
            task_core* t = taken;
            taken = t->policy_->backoff_next;
            if(finish(t, task_error::executor_stopped, cancelled_))
                ++n;
            else
                count_if_cancelled(t);
            t->drop_callable();
            intrusive_ptr_release(t);
        }
        return n;
    }

    /// Asks every running task to stop. @return The ids of the running tasks.
    std::vector<task_id> stop_running() noexcept
    {
        std::vector<task_id> ids;
        std::size_t const lanes = std::min(lanes_spawned_.load(std::memory_order_acquire), opts_.max_concurrent);
        for(std::size_t i = 0; i < lanes; ++i)
        {
            task_core* t = nullptr;
            {
                std::lock_guard lk(lanes_[i].lock);
                t = lanes_[i].current;
                if(t)
                    intrusive_ptr_add_ref(t);
            }
            if(!t)
                continue;
            finish(t, task_error::executor_stopped, cancelled_);
            try
            {
                ids.push_back(t->id());
            }
            catch(...)
            {
            }
            intrusive_ptr_release(t);
        }
        return ids;
    }

    void on_system_stop() noexcept
    {
        stopping_.store(true, std::memory_order_seq_cst);
        closed_.store(true, std::memory_order_seq_cst);
        wake_all_room_waiters();
        drain_queues();
        sweep_backoff();
        stop_running();
        check_quiet();
    }

    void watchdog_tick()
    {
        std::int64_t const now = now_ns();
        std::int64_t const grace = opts_.stop_grace.count();
        std::size_t const lanes = std::min(lanes_spawned_.load(std::memory_order_acquire), opts_.max_concurrent);
        for(std::size_t i = 0; i < lanes; ++i)
        {
            lane_slot& s = lanes_[i];
            std::optional<task_id> report;
            {
                std::lock_guard lk(s.lock);
                if(!s.current || !s.current->claimed() || s.reported)
                    continue;
                if(s.stop_seen_at < 0)
                    s.stop_seen_at = now;
                else if(now - s.stop_seen_at >= grace)
                {
                    s.reported = true;
                    report = s.current->id();
                }
            }
            if(report)
            {
                unresponsive_.inc();
                try
                {
                    SPINDLE_LOG(warning, "executor") << "executor " << opts_.name << ": task " << *report
                                                     << " ignores its stop request and keeps its lane";
                }
                catch(...)
                {
                }
            }
        }
    }

    executor_shutdown_report shutdown(std::chrono::nanoseconds deadline)
    {
        executor_shutdown_report report;
        if(shutdown_started_.exchange(true))
            return report;
        auto const finished_before = finished_total();
        stopping_.store(true, std::memory_order_seq_cst);
        wake_all_room_waiters();

        if(!quiet() && deadline > std::chrono::nanoseconds::zero() && !closed_.load())
        {
            // real time, like system::shutdown: a test's manual clock must not
            // be able to make a destructor wait forever
            task_waiter w;
            boost::fibers::future<void> f = w.promise_.get_future();
            {
                std::lock_guard lk(quiet_lock_);
                quiet_waiter_ = &w;
            }
            check_quiet();
            f.wait_for(deadline);
            bool removed = false;
            {
                std::lock_guard lk(quiet_lock_);
                if(quiet_waiter_ == &w)
                {
                    quiet_waiter_ = nullptr;
                    removed = true;
                }
            }
            if(!removed)
                w.await_release();
        }
        report.finished = static_cast<std::size_t>(finished_total() - finished_before);

        closed_.store(true, std::memory_order_seq_cst);
        report.cancelled += drain_queues();
        report.cancelled += sweep_backoff();
        report.unfinished = stop_running();

        timers_.cancel(watchdog_);
        std::size_t const lanes = std::min(lanes_spawned_.load(std::memory_order_acquire), opts_.max_concurrent);
        for(std::size_t i = 0; i < lanes; ++i)
        {
            actor_ref<lane_actor> ref;
            {
                std::lock_guard lk(lanes_[i].lock);
                ref = lanes_[i].ref;
            }
            if(ref)
                ref.stop();
        }
        return report;
    }

    std::uint64_t finished_total() const noexcept
    {
        return total(completed_) + total(failed_) + total(timed_out_) + total(cancelled_);
    }

    executor_stats stats() const noexcept
    {
        executor_stats s;
        s.submitted = total(submitted_);
        s.rejected = total(rejected_);
        s.completed = total(completed_);
        s.failed = total(failed_);
        s.timed_out = total(timed_out_);
        s.cancelled = total(cancelled_);
        s.retries = retries_.value();
        s.exceptions = exceptions_.value();
        s.unresponsive = unresponsive_.value();
        s.running = running_count();
        s.queued = queued_count();
        s.waiting = static_cast<std::size_t>(std::max(0, room_waiting_.load(std::memory_order_relaxed)));
        return s;
    }
};

void lane_actor::pre_start()
{
    if(ex_ && slot_ == 0)
        ex_->attach_system_stop(stop_token());
}

void lane_actor::on(lane_drain)
{
    // drain() handles its own failures: a lane never throws, so the runtime
    // never restarts one with its activation lost
    if(ex_)
        ex_->drain(slot_);
}

} // namespace detail

//------------------------------------------------------------------------------
// executor

namespace {

void validate_options(executor_options const& o)
{
    char const* bad = nullptr;
    if(o.max_concurrent == 0 || o.max_concurrent > detail::max_lanes)
        bad = "spindle::executor: max_concurrent must be between 1 and 65535";
    else if(o.queue_capacity == 0 || o.queue_capacity > detail::max_queue_capacity)
        bad = "spindle::executor: queue_capacity must be between 1 and 8388608";
    else if(o.submit_timeout.count() < 0)
        bad = "spindle::executor: submit_timeout must not be negative";
    else if(o.stop_grace.count() <= 0)
        bad = "spindle::executor: stop_grace must be positive";
    else if(o.shutdown_deadline.count() < 0)
        bad = "spindle::executor: shutdown_deadline must not be negative";
    if(bad)
        detail::throw_error(error::invalid_argument, bad);
}

} // namespace

executor::executor(spindle::system& sys, executor_options opts)
{
    validate_options(opts);
    if(sys.stopping())
        detail::throw_error(error::system_stopped, "spindle::executor");
    if(opts.name.empty())
        opts.name = "executor-" + std::to_string(detail::next_executor_number.fetch_add(1));
    std::string const name = opts.name;
    {
        std::lock_guard lk(detail::names_mtx);
        if(!detail::names_in_use.emplace(&sys.metrics(), name).second)
            detail::throw_error(error::invalid_argument, "spindle::executor: name already in use in this system");
    }
    try
    {
        impl_ = std::make_shared<detail::executor_impl>(sys, std::move(opts));
        impl_->name_claimed_ = true;
        impl_->start();
    }
    catch(...)
    {
        if(impl_)
        {
            impl_->shutdown(std::chrono::nanoseconds::zero());
            impl_->unregister_metrics();
        }
        else
        {
            std::lock_guard lk(detail::names_mtx);
            detail::names_in_use.erase({&sys.metrics(), name});
        }
        throw;
    }
}

executor::~executor()
{
    if(!impl_)
        return;
    impl_->shutdown(impl_->opts_.shutdown_deadline);
    impl_->unregister_metrics();
}

bool executor::check(task_options const& opts, boost::system::error_code& ec) noexcept
{
    return impl_->check(opts, ec);
}

bool executor::enqueue(detail::task_core* t, bool may_wait, boost::system::error_code& ec)
{
    return impl_->enqueue(t, may_wait, ec);
}

timer_service* executor::timers() const noexcept
{
    return &impl_->timers_;
}

executor_shutdown_report executor::shutdown(std::chrono::nanoseconds deadline)
{
    return impl_->shutdown(deadline);
}

executor_shutdown_report executor::shutdown()
{
    return impl_->shutdown(impl_->opts_.shutdown_deadline);
}

bool executor::stopped() const noexcept
{
    return impl_->stopping_.load(std::memory_order_acquire);
}

executor_stats executor::stats() const noexcept
{
    return impl_->stats();
}

executor_options const& executor::options() const noexcept
{
    return impl_->opts_;
}

} // namespace spindle
