//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The runtime's private state: worker threads, their fiber scheduling
// algorithm, the live-actor list and the name registry. Not installed.

#ifndef SPINDLE_SRC_SYSTEM_STATE_HPP
#define SPINDLE_SRC_SYSTEM_STATE_HPP

#include <spindle/detail/actor_cell.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/detail/type_name.hpp>
#include <spindle/event_stream.hpp>
#include <spindle/introspection.hpp>
#include <spindle/metrics.hpp>
#include <spindle/stack_pool.hpp>
#include <spindle/system.hpp>
#include <spindle/timer.hpp>

#include "message_tally.hpp"
#include "run_queue.hpp"

#include <boost/fiber/context.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/intrusive_ptr.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace spindle::detail {

struct system_state;

/** One worker thread: a fiber scheduler whose ready fibers are "runners"
    that take actors from this worker's run queue and run their handlers.

    A runner runs one actor after another without any fiber switch; a new
    runner is needed only when a handler blocks (then the worker's main
    fiber creates one, so the others keep going). Idle runners park in
    `idle_runners_`, and the scheduling algorithm hands them out when work
    appears, so a message to an idle actor costs a queue push, not a fiber.
*/
struct worker
{
    system_state* sys_;
    unsigned index_;

    // --- the run queue: touched by other threads (pushes, steals) ---
    run_queue rq_;

    // --- sleeping and waking ---
    alignas(SPINDLE_CACHELINE) std::atomic<bool> notified_{false};
    std::atomic<bool> sleeping_{false};
    std::mutex sleep_mtx_;
    std::condition_variable sleep_cv_;

    // --- owned by the worker thread only ---
    alignas(SPINDLE_CACHELINE) std::vector<boost::fibers::context*> idle_runners_;
    boost::fibers::context* main_ctx_ = nullptr;
    bool main_parked_ = false;
    bool spawn_requested_ = false;
    bool exited_ = false;
    unsigned runners_alive_ = 0;
    /// Activations in a row of actors taken from the run queue's stack
    /// (see @ref push_local).
    unsigned stack_streak_ = 0;
    // written by the owner only (load + store), read by anyone
    std::atomic<std::uint64_t> messages_{0};
    std::atomic<std::uint64_t> activations_{0};
    std::atomic<std::uint64_t> steals_{0};
    /// True while a runner of this worker is inside an activation (owner
    /// writes, relaxed; others read to know it may stall).
    std::atomic<bool> busy_{false};
    message_tally tally_; ///< user messages by envelope table (actor and message type)

    // --- lifecycle, set by the system ---
    alignas(SPINDLE_CACHELINE) std::atomic<bool> stop_{false};
    std::atomic<bool> abandon_{false};
    std::atomic<int> exit_state_{0}; ///< 0 running, 1 all fibers done, 2 fibers left behind
    std::thread thread_;

    /// What this worker last saw of each other worker's progress (its own
    /// thread only): a victim whose activation count has not moved for
    /// `steal_stalled_after` while an actor waits in its queue is stalled.
    struct victim_watch
    {
        std::uint64_t activations = 0;
        std::chrono::steady_clock::time_point since{};
        bool watching = false;
    };
    mutable std::vector<victim_watch> watch_;
    bool stalled(worker const& v) const noexcept;
    /// Actors a victim may give up: two or more queued, or one if it is stalled.
    bool can_steal_from(worker const& v) const noexcept;
    /// True if some other worker is inside a handler or has an actor
    /// queued: an idle worker then sleeps no longer than
    /// `steal_stalled_after`, to look again (an idle system sleeps for good).
    bool others_may_stall() const noexcept;

    worker(system_state* s, unsigned index) : sys_(s), index_(index) { idle_runners_.reserve(8); }

    void thread_main(std::shared_ptr<system_state> keep) noexcept;
    void runner_main() noexcept;
    void start_runner();

    /** Local wake-ups run in at most this many activations in a row from
        the run queue's stack; the next one joins the FIFO queue, behind
        every actor waiting there (Go's runnext bounds its inherited time
        slice for the same reason: a local ping-pong must not starve the
        queue).
    */
    static constexpr unsigned stack_limit = 64;

    /// Queues an actor woken by a handler of this worker (stack, LIFO, bounded by `stack_limit`).
    void push_local(actor_cell* c) noexcept;
    /// Re-queues an actor that used up its budget with mail left (FIFO).
    void push_later(actor_cell* c) noexcept;
    /// Queues an actor woken from another thread (FIFO) and wakes this worker.
    void push_remote(actor_cell* c) noexcept;
    actor_cell* pop_local() noexcept;
    actor_cell* steal() noexcept;
    bool stealable() const noexcept;
    void wake() noexcept;

    boost::fibers::context* pick_parked() noexcept;
    bool can_run_now() const noexcept;
    void idle_wait(std::chrono::steady_clock::time_point tp) noexcept;

    static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept
    {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

/// The worker the calling thread runs, or null on a plain thread.
worker* current_worker() noexcept;

/** The actor whose handler the calling fiber runs, or null (a plain thread,
    a user's fiber, the worker between activations). Kept by the workers:
    each runner fiber records its actor, and every switch between fibers
    on a worker sets this from the fiber switched to, so a handler that
    blocks and resumes is still itself. Read when a message is posted, to
    stamp its sender.
*/
extern thread_local actor_cell const* tl_current_cell;

/** Runs on a supervisor's fiber when one of its children ended (failure or
    exit); defined with the supervisor. `incarnation` is the child's restart
    count when it ended, so a stale notice is recognised.
*/
void supervisor_child_exit(actor_base& sup, actor_cell* child, exit_reason why, std::string what,
                           std::uint32_t incarnation, directive decided);

/// Runs on a supervisor's fiber when its backoff timer fired.
void supervisor_restart_due(actor_base& sup);

/// The demangled type of an actor.
std::string type_name(actor_cell const& c);

/// "type: what" of a thrown exception, for failure reports.
std::string describe_exception(std::exception_ptr ep);

/// An actor's state as introspection reports it.
actor_state state_of(actor_cell const& c) noexcept;

struct system_state : std::enable_shared_from_this<system_state>
{
    system_options opts_;
    spindle::system* owner_ = nullptr;
    std::vector<std::unique_ptr<worker>> workers_;
    std::unique_ptr<timer_service> timers_;
    std::shared_ptr<stack_pool> stack_pool_;
    std::unique_ptr<metrics::registry> metrics_;
    std::stop_source stop_source_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> spawns_in_flight_{0};
    std::atomic<unsigned> next_home_{0};
    std::atomic<int> sleepers_{0};

    // live actors, sharded so spawns on different workers rarely meet
    struct alignas(SPINDLE_CACHELINE) shard
    {
        spinlock lock;
        actor_cell* head = nullptr;
    };
    static constexpr std::size_t shard_count = 16;
    std::array<shard, shard_count> shards_;
    std::atomic<std::uint64_t> live_{0};
    std::mutex live_mtx_;
    std::condition_variable live_cv_;

    // names
    mutable std::shared_mutex names_mtx_;
    std::unordered_map<std::string, boost::intrusive_ptr<actor_cell>> names_;

    // rare-path counters
    /// Mailbox refusals and drops by receiving actor type (the overflow
    /// path only): at most `overflow_types_cap` types, the rest as "other",
    /// so a system with many actor types cannot flood the metrics.
    static constexpr std::size_t overflow_types_cap = 100;
    struct overflow_counts
    {
        std::uint64_t refused = 0;
        std::uint64_t dropped = 0;
    };
    std::mutex overflow_mutex_;
    std::unordered_map<std::type_info const*, overflow_counts> overflow_by_type_;
    overflow_counts overflow_other_;
    void count_overflow(std::type_info const* type, bool dropped) noexcept;

    std::atomic<std::uint64_t> dead_letters_{0}, dropped_{0}, refused_{0}, failures_{0}, restarts_{0}, spawned_{0}, fibers_{0};

    // hooks
    mutable std::shared_mutex hooks_mtx_;
    std::vector<std::function<void(dead_letter const&)>> dead_letter_hooks_;
    std::vector<std::function<void(actor_failure const&)>> failure_hooks_;
    std::atomic<bool> has_dead_letter_hooks_{false};

    // shutdown
    std::mutex shutdown_mtx_;
    std::optional<shutdown_report> report_;
    std::mutex exit_mtx_;
    std::condition_variable exit_cv_;

    // metrics handles
    std::uint64_t collector_id_ = 0;

    // demangled (actor, message) type names of counted envelope tables,
    // filled on first sight and kept (a scrape must not demangle every time)
    std::mutex type_names_mtx_;
    std::unordered_map<envelope_vtable const*, std::pair<std::string, std::string>> type_names_;

    event_stream events_;

    explicit system_state(system_options opts);
    ~system_state();

    void start(std::shared_ptr<system_state> const& self);
    void register_metrics();
    void schedule(actor_cell* c) noexcept;
    void link(actor_cell* c) noexcept;
    void retire(actor_cell* c) noexcept;
    void unlink_name(actor_cell* c) noexcept;
    void dead_letter_(envelope* e, actor_cell const& to, error reason) noexcept;
    /// Accounts a message that is already gone (the one whose handler threw).
    void dead_letter_type(std::type_info const* type, actor_cell const& to, error reason, actor_id const& sender) noexcept;
    /// Publishes an event about `c` if anyone wants it.
    void publish(event_type t, actor_cell const& c, std::string detail = {}) noexcept;
    void report_failure(actor_cell const& c, std::string what, directive action) noexcept;
    void wake_sleeper(worker* except) noexcept;

    /** The stall monitor (like Go's sysmon): while a worker is inside a
        handler with actors queued behind it, it looks every
        `steal_stalled_after`, and wakes a sleeping worker when that worker
        has started no activation since — which then takes the queued
        actors (`worker::stalled`). It sleeps 10x longer while every worker
        is idle, and stops with the workers.
    */
    std::thread stall_monitor_;
    std::mutex stall_mtx_;
    std::condition_variable stall_cv_;
    bool stall_stop_ = false;
    void stall_monitor_main() noexcept;
    void stop_stall_monitor() noexcept;
    shutdown_report shutdown(std::chrono::nanoseconds deadline);
    system_stats stats() const noexcept;
    /// The workers' message tallies, added up by (actor type, message type).
    std::vector<message_count> message_counts();
    template<class F>
    void for_each_live(F&& f);
};

template<class F>
void system_state::for_each_live(F&& f)
{
    for(auto& s : shards_)
    {
        std::lock_guard lk(s.lock);
        for(auto* c = s.head; c; c = c->live_next_)
            f(*c);
    }
}

} // namespace spindle::detail

#endif
