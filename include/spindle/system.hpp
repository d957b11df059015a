//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_SYSTEM_HPP
#define SPINDLE_SYSTEM_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/defaults.hpp>
#include <spindle/detail/runtime.hpp>
#include <spindle/error.hpp>
#include <spindle/event_stream.hpp>
#include <spindle/id.hpp>
#include <spindle/mailbox.hpp>
#include <spindle/restart_intensity.hpp>
#include <spindle/timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace spindle {

class manual_clock;
namespace metrics {
class registry;
}

/** Configuration of an actor system. Every field has a sensible default. */
struct system_options
{
    /// Worker threads, each running a fiber scheduler; 0 = hardware threads.
    unsigned worker_threads = 0;

    /// Stack size of each fiber that runs handlers (rounded up to pages).
    std::size_t stack_size = defaults::fiber_stack_size;

    /// Put a guard page under each stack, so an overflow is a clear crash.
    bool stack_guard = true;

    /// Mailbox of actors spawned without their own `mailbox_options`.
    mailbox_options mailbox{};

    /// Messages one actor handles per activation before others get a turn.
    std::uint32_t throughput = static_cast<std::uint32_t>(defaults::throughput);

    /// Timeout of `ask` calls that give none.
    std::chrono::nanoseconds ask_timeout = defaults::ask_timeout;

    /// How long an idle worker spins looking for work before it sleeps.
    std::chrono::nanoseconds spin_before_sleep = defaults::spin_before_sleep;

    /** An idle worker leaves a busy worker's one queued actor alone (it is
        most likely the partner of the actor running there). When that
        worker has started no activation for this long — a handler blocked
        its OS thread — the idle ones take its queued actors too, so one
        blocking handler cannot strand the actors queued behind it.
    */
    std::chrono::nanoseconds steal_stalled_after = defaults::steal_stalled_after;

    /** What the root guardian does when a handler of an actor spawned with
        `spawn` throws, or the `pre_start` of one of its restarts: `restart`
        (in place, same reference; the default), `stop` (also for
        `escalate`: the root has no parent) or `resume`. A failing first
        `pre_start` stops the actor. Actors under a @ref supervisor follow
        their supervisor.
    */
    directive on_failure = directive::restart;

    /** The root guardian's limit, per actor: past `max_restarts` restarts
        within `window` (system clock) it stops that actor for good and
        reports it (failure hooks, a `supervisor_escalated` event) — never
        the rest of the system.
    */
    restart_intensity root_intensity{};

    /// The deadline the destructor gives `shutdown`.
    std::chrono::nanoseconds shutdown_deadline = defaults::shutdown_deadline;

    /// A manual clock for the timer service (tests); null = real time.
    std::shared_ptr<manual_clock> clock;

    /// Name of the system, used in logs and metrics labels.
    std::string name = "spindle";
};

/** A message that could not be delivered, as reported to dead-letter hooks. */
struct dead_letter
{
    /// The actor it was sent to.
    actor_id receiver;
    /// The message's type.
    std::type_info const* message_type;
    /// `error::actor_stopped`, `error::mailbox_full` (refused), `error::message_dropped`,
    /// `error::handler_failed` (its handler threw; not redelivered).
    error reason;
    /// The actor whose handler sent it; nil if it was sent from outside any
    /// actor's handler (a plain thread, `main`, a fiber of the user's own).
    actor_id sender{};
};

/** A handler (or `pre_start`) that threw. */
struct actor_failure
{
    /// The actor whose handler (or hook) threw.
    actor_id actor;
    /// Its type.
    std::type_info const* actor_type;
    /// The exception's `what()`, or a description for non-standard exceptions.
    std::string what;
    /// What the runtime did: restart, stop, resume (a decider kept the
    /// actor), or escalate (its supervisor gave up and failed to its parent).
    directive action;
};

/** An actor that had not stopped when a shutdown's deadline passed. */
struct stuck_actor
{
    actor_id id;      ///< its id
    std::string name; ///< its registered name (empty if none)
    std::string type; ///< demangled C++ type
    std::size_t mailbox_depth; ///< user messages still queued
};

/** What `system::shutdown` did. */
struct shutdown_report
{
    /// Actors stopped normally during this shutdown.
    std::size_t stopped = 0;
    /// Actors that missed the deadline: their fibers are abandoned (see `shutdown`).
    std::vector<stuck_actor> stuck;
    /// Worker threads left running because a fiber on them never finished.
    unsigned abandoned_workers = 0;
    /// True if everything stopped before the deadline.
    bool clean() const noexcept { return stuck.empty() && abandoned_workers == 0; }
};

/** Running totals of the runtime (also exported through `metrics()`). */
struct system_stats
{
    std::uint64_t messages = 0;      ///< user messages handled
    std::uint64_t activations = 0;   ///< times an actor got a worker
    std::uint64_t dead_letters = 0;  ///< messages not delivered (all reasons)
    std::uint64_t dropped = 0;       ///< of which dropped by overflow policies (`drop_newest`, `drop_oldest`)
    std::uint64_t refused = 0;       ///< of which refused by a full mailbox (`fail`, `block`)
    std::uint64_t failures = 0;      ///< exceptions out of handlers and hooks
    std::uint64_t restarts = 0;      ///< restarts by supervisors and the root guardian
    std::uint64_t spawned = 0;       ///< actors spawned since the system started
    std::uint64_t steals = 0;        ///< actors taken by an idle worker
    std::uint64_t actors = 0;        ///< alive now
    std::uint64_t fibers = 0;        ///< handler fibers alive now
};

/** An actor system: worker threads running fibers, actors, timers, metrics.

    Several systems may live in one process, and a new one can be created
    after another shut down. Any thread may use it: plain threads `tell` and
    block on `ask(...).get()`; fibers park instead.

    @par Thread safety
    All member functions are thread-safe. `shutdown` (and the destructor)
    must not be called from one of the system's own actors.
*/
class SPINDLE_DECL system
{
    std::shared_ptr<detail::system_state> state_;

public:
    /** Starts the worker threads and the timer service.

        @throws spindle::system_error `invalid_argument` for a bad option.
    */
    explicit system(system_options opts = {});

    /// Calls `shutdown(options().shutdown_deadline)`.
    ~system();

    system(system const&) = delete;
    system& operator=(system const&) = delete;

    /** Spawns an actor of type `A`, constructed from `args` (which are
        copied and kept, so a restart builds a fresh `A` from them).

        @return A typed reference; the actor runs `pre_start` on a worker.
        @throws spindle::system_error (`system_stopped`, `name_taken`) or
        whatever `A`'s constructor throws.
    */
    template<class A, class... Args>
    actor_ref<A> spawn(Args&&... args);

    /// `spawn` with options (name, mailbox).
    template<class A, class... Args>
    actor_ref<A> spawn_with(spawn_options const& opts, Args&&... args);

    /// Non-throwing `spawn_with`: an empty reference and `ec` on failure.
    template<class A, class... Args>
    actor_ref<A> spawn_with(spawn_options const& opts, boost::system::error_code& ec, Args&&... args);

    /** Registers `ref` under `name` (names are unique among live actors;
        a stopped actor's name becomes free again).

        @param name The name.
        @param ref The actor.
        @param ec `name_taken`, `actor_stopped`, `invalid_argument` (empty name).

        @par Thread safety
        Safe to call concurrently from any thread or fiber.
    */
    void register_name(std::string_view name, basic_actor_ref const& ref, boost::system::error_code& ec);
    /// Throwing form of `register_name`.
    void register_name(std::string_view name, basic_actor_ref const& ref);

    /// Removes a name. @return true if it was registered.
    bool unregister_name(std::string_view name);

    /** Finds a live actor by name.

        @tparam A The actor type expected.
        @param name The name.
        @param ec `unknown_actor` if there is none, or it is not an `A`.
        @return The reference, empty on error.

        @par Thread safety
        Safe to call concurrently from any thread or fiber.
    */
    template<class A>
    actor_ref<A> lookup(std::string_view name, boost::system::error_code& ec) const;
    /// Throwing form of `lookup`.
    template<class A>
    actor_ref<A> lookup(std::string_view name) const;

    /// Untyped lookup. @return an empty reference if unknown.
    basic_actor_ref lookup_any(std::string_view name) const;

    /** Sends `msg` to `to` after `delay` on the system clock.

        @return The timer, cancellable with `timers().cancel(id)`.
    */
    template<class A, class M>
    timer_id send_after(actor_ref<A> const& to, std::chrono::nanoseconds delay, M msg);

    /** Sends a copy of `msg` to `to` every `period` (first after `period`),
        until cancelled or the actor stops.
    */
    template<class A, class M>
    timer_id send_periodically(actor_ref<A> const& to, std::chrono::nanoseconds period, M msg);

    /// The timer service (real time, or the manual clock given in the options).
    timer_service& timers() noexcept;

    /// The metrics registry every component registers into.
    metrics::registry& metrics() noexcept;

    /// Observes every dead letter (called on the thread that failed to deliver).
    void on_dead_letter(std::function<void(dead_letter const&)> fn);

    /// Observes every actor failure (called on the failing actor's fiber,
    /// or its supervisor's once the supervisor has decided).
    void on_failure(std::function<void(actor_failure const&)> fn);

    /** The event stream: lifecycle and supervision events of this system
        (started, stopped, failed, restarted, escalated, dead letters, ...).
    */
    event_stream& events() noexcept;

    /// Running totals.
    system_stats stats() const noexcept;

    /// The options in force (worker_threads resolved).
    system_options const& options() const noexcept;

    /// Live actors.
    std::size_t actor_count() const noexcept;

    /// True once `shutdown` began.
    bool stopping() const noexcept;

    /** Stops every actor, runs their `post_stop`, stops timers and joins the
        workers, waiting at most `deadline` (real time).

        Queued messages go to dead letters; pending asks fail with
        `actor_stopped`. Boost.Fiber cannot kill a fiber: an actor still
        inside a handler at the deadline is named in the report and
        abandoned — its fiber, stack and behaviour object are leaked, and its
        worker thread is detached and left parked (it costs no CPU). A
        worker that hosts no stuck actor is waited for past the deadline
        (as long again, at least 5 s, ending as soon as it exits): only a
        fiber of the caller's own that never ends can keep it, and then it is
        abandoned too (`abandoned_workers`).
        Idempotent: later calls return the first report.
    */
    shutdown_report shutdown(std::chrono::nanoseconds deadline);
    /// `shutdown(options().shutdown_deadline)`.
    shutdown_report shutdown();

    /// The runtime state (for extensions in other components).
    detail::system_state& state() const noexcept { return *state_; }
};

} // namespace spindle

#include <spindle/impl/system.hpp>

#endif
