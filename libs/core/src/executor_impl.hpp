//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The executor's implementation, shared by its sources: executor.cpp
// (setup, submission, lanes), executor_watchdog.cpp (attempt deadlines and
// the stop-grace watchdog), executor_retry.cpp (tasks waiting for a retry)
// and executor_shutdown.cpp (stopping, shutdown, statistics). The small
// functions on the submit and drain paths are defined here, inline, so
// that every caller keeps them inlined. Not installed.

#ifndef SPINDLE_SRC_EXECUTOR_IMPL_HPP
#define SPINDLE_SRC_EXECUTOR_IMPL_HPP

#include <spindle/executor.hpp>

#include "system_state.hpp"
#include "task_waiter.hpp"

#include <spindle/actor.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>
#include <spindle/timer.hpp>

#include <boost/config.hpp>

#include <tbb/concurrent_queue.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace spindle::detail {

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

constexpr std::size_t priority_count = 4;

/// The index of a priority; an invalid one (refused by `check`) counts as normal.
inline std::size_t priority_index(task_priority p) noexcept
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
    by_priority<C> per_priority_series(char const* name, char const* help);

    template<class C>
    static std::uint64_t total(by_priority<C> const& c) noexcept
    {
        std::uint64_t n = 0;
        for(auto* x : c)
            n += x->value();
        return n;
    }

    executor_impl(spindle::system& sys, executor_options opts);
    ~executor_impl();

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
    bool finish(task_core* t, task_error e, by_priority<metrics::counter> const& c) noexcept;

    /// Publishes a task's end on the system's event stream, if anyone wants it.
    void task_event(event_type type, task_core* t, task_error e) noexcept;

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
    void on_queued_cancel() noexcept override;

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
    // setup and metrics (executor.cpp)

    void start();
    void register_metrics();
    void unregister_metrics() noexcept;
    bool spawn_lane(std::size_t slot, boost::system::error_code& ec);
    void attach_system_stop(std::stop_token st);

    //--------------------------------------------------------------------------
    // submission (executor.cpp)

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

    bool enqueue(task_core* t, bool may_wait, boost::system::error_code& ec);

    /** Puts a task into its queue and counts it.

        @throws std::bad_alloc if the queue cannot grow (nothing was queued).
    */
    void push(task_core* t);

    /** Waits (fiber-aware) for room in the queue, up to `submit_timeout`
        on the system clock. @return True once there is room.
    */
    bool wait_for_room(boost::system::error_code& ec);

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

    void wake_room_waiter() noexcept;
    void wake_all_room_waiters() noexcept;

    /// Completes every queued task with `executor_stopped`. @return How many.
    std::size_t drain_queues() noexcept;

    //--------------------------------------------------------------------------
    // lanes (executor.cpp)

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
    void activate_one() noexcept;

    /// A lane could not be spawned or reached (the system is going down, or
    /// memory ran out): gives the activation back.
    void lanes_unavailable() noexcept;

    void go_idle(std::size_t slot) noexcept;

    /// The handler of a lane: runs up to `drain_batch` tasks.
    void drain(std::size_t slot) noexcept;

    /// Claims and pops the next task to run; `busy` becomes true with the
    /// lane's first claim (the lane then owes one `end_busy`); `slow`
    /// becomes true if it woke a submitter. Always inlined into `drain`,
    /// which GCC's limits no longer ensure once it is shared by a header.
    BOOST_FORCEINLINE task_core* pop(bool& busy, bool& slow, bool slow_tasks) noexcept
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
    static void report_ended(circuit_breaker::permit& permit, task_core* t) noexcept;

    /** The span of one attempt of a task submitted with a trace context:
        a child of the submitter's span, current while the task runs (so
        what it sends carries it), named `task <executor>`, with the
        executor, the task's id and the attempt's number as attributes and
        an error status if the attempt threw. Nothing without a context.
        `run` (noexcept) always calls `end`.
    */
    class attempt_span;

    /** Runs one attempt of `t` on the calling lane, then decides its fate.

        @param clock A clock read (ns) to take as the attempt's start, or
        `no_clock` to read the clock; set to the read made when the attempt
        returned, or `no_clock` if what followed may have taken long.
    */
    void run(lane_slot& s, std::size_t slot, task_core* t, std::int64_t& clock) noexcept;

    //--------------------------------------------------------------------------
    // attempt deadlines and the stop-grace watchdog (executor_watchdog.cpp)

    /// Arms the lane's watch timer for `deadline`, cancelling `old`.
    void arm_watch(lane_slot& s, std::size_t slot, std::uint64_t gen, std::int64_t deadline, timer_id old) noexcept;

    /// The watch timer of lane `slot` fired: times out its task or re-arms.
    void on_watch(std::size_t slot, std::uint64_t gen) noexcept;

    /// Counts and logs the tasks that ignore their stop request for `stop_grace`.
    void watchdog_tick();

    //--------------------------------------------------------------------------
    // retries (executor_retry.cpp)

    /// The backoff timer's callback; owns a reference to the task. Destroyed
    /// unfired (timer cancelled, timers shut down) it ends the task.
    struct retry_due;

    void schedule_retry(task_core* t) noexcept;
    /// Takes `t` out of the backoff set. @return False if a shutdown took it first.
    bool take_backoff(task_core* t) noexcept;
    void on_retry_due(boost::intrusive_ptr<task_core> t);
    void on_retry_dropped(task_core* t) noexcept;
    /// Completes every task waiting for a retry with `executor_stopped`. @return How many.
    std::size_t sweep_backoff() noexcept;

    //--------------------------------------------------------------------------
    // stopping (executor_shutdown.cpp)

    std::size_t running_count() const noexcept;

    bool quiet() const noexcept
    {
        return slots_of(counts_.load(std::memory_order_seq_cst)) == 0 && active_.load(std::memory_order_seq_cst) == 0 &&
               backoff_count_.load(std::memory_order_seq_cst) == 0;
    }

    void check_quiet() noexcept;
    /// Asks every running task to stop. @return The ids of the running tasks.
    std::vector<task_id> stop_running() noexcept;
    void on_system_stop() noexcept;
    executor_shutdown_report shutdown(std::chrono::nanoseconds deadline);
    std::uint64_t finished_total() const noexcept;
    executor_stats stats() const noexcept;
};

} // namespace spindle::detail

#endif
