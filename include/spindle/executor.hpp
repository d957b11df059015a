//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_EXECUTOR_HPP
#define SPINDLE_EXECUTOR_HPP

#include <spindle/detail/config.hpp>
#include <spindle/circuit_breaker.hpp>
#include <spindle/defaults.hpp>
#include <spindle/error.hpp>
#include <spindle/id.hpp>
#include <spindle/retry.hpp>
#include <spindle/task.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace spindle {

class system;

namespace detail {
class executor_impl;
}

/** Configuration of an @ref executor. */
struct executor_options
{
    /// Tasks running at once, at most; 1 to 65535. Lanes are started only
    /// while every started lane is inside a task, so short tasks use few.
    std::size_t max_concurrent = defaults::max_concurrent_tasks;

    /// Tasks waiting to start, at most; 1 to 8388608. Submissions racing
    /// each other may overshoot it by their number (room is checked before
    /// and counted after the push). Retries waiting for their backoff do not
    /// count, and a retry re-enters the queue even when it is full. A task
    /// cancelled while queued stops counting at once (its state waits in
    /// the queue for a lane to skip it; beyond 4194304 such states,
    /// cancelled tasks count again until lanes skip them).
    std::size_t queue_capacity = defaults::task_queue_capacity;

    /// How long `submit` waits for room in a full queue (system clock).
    std::chrono::nanoseconds submit_timeout = defaults::task_submit_timeout;

    /** How long a task asked to stop (timeout, `cancel`, shutdown) may keep
        running before it is reported as unresponsive: counted in
        `spindle_executor_unresponsive_total` and logged at warning. The
        check runs every `stop_grace`, so the report comes between one and
        two `stop_grace` after the request. Positive.
    */
    std::chrono::nanoseconds stop_grace = defaults::task_stop_grace;

    /// The deadline the destructor gives `shutdown`.
    std::chrono::nanoseconds shutdown_deadline = defaults::shutdown_deadline;

    /// The `executor` label of its metrics; empty: `executor-<n>`. Names
    /// are unique per system (a taken name is an `invalid_argument`).
    std::string name;

    /** With `spindle::trace` installed, each attempt of a task runs in a
        span `task <name>`, a child of the span that was current where the
        task was submitted (doc/tracing.md). False: the executor's tasks
        carry no context and make no span (for an executor that is a
        component's machinery, such as a tool bus's, whose component
        traces the work itself). */
    bool trace_tasks = true;
};

/** Running totals and current levels of an executor (the same numbers are
    in the system's metrics registry, labelled `executor=<name>`).
*/
struct executor_stats
{
    std::uint64_t submitted = 0;    ///< accepted by submit / try_submit
    std::uint64_t rejected = 0;     ///< refused: queue full, stopped or invalid
    std::uint64_t completed = 0;    ///< finished with a value
    std::uint64_t failed = 0;       ///< finished with task_failed, retries_exhausted or circuit_open
    std::uint64_t timed_out = 0;    ///< attempts that ran past their timeout
    std::uint64_t cancelled = 0;    ///< cancelled by their handle, or by a shutdown (executor_stopped)
    std::uint64_t retries = 0;      ///< retries scheduled
    std::uint64_t exceptions = 0;   ///< exceptions caught from tasks (each failed attempt that threw)
    std::uint64_t unresponsive = 0; ///< tasks that ignored a stop request for `stop_grace`
    std::size_t running = 0;        ///< tasks on a lane now (those ignoring a stop included)
    std::size_t queued = 0;         ///< tasks waiting to start now
    std::size_t waiting = 0;        ///< submitters waiting for room in a full queue now
};

/** What `executor::shutdown` did. */
struct executor_shutdown_report
{
    /// Tasks that finished (with any result) while the shutdown waited.
    std::size_t finished = 0;
    /// Tasks that never ran, or were waiting for a retry, when the deadline
    /// passed: their handles completed with `task_error::executor_stopped`.
    std::size_t cancelled = 0;
    /// Tasks still running at the deadline: asked to stop, their handles
    /// completed with `executor_stopped`; each keeps its lane until it returns.
    std::vector<task_id> unfinished;

    /// @return True if all work finished before the deadline.
    bool clean() const noexcept { return cancelled == 0 && unfinished.empty(); }
};

/** Runs one-off tasks on an actor system's workers: bounded concurrency,
    a bounded priority queue, timeouts, retries, circuit breakers.

    @code
    spindle::executor exec(sys);
    auto h = exec.submit([](std::stop_token st) { return fetch(st); });
    auto v = h.get(); // fiber-aware
    @endcode

    @par How tasks run
    The executor owns up to `max_concurrent` lanes, actors spawned when
    first needed and kept afterwards. A lane takes tasks from the queue and
    runs them one after another inside its handler, so a task costs no
    fiber of its own: the worker's runner fibers are reused. A task may
    block fiber-style (ask, sleep, channel, another task's handle); only its
    lane waits, and the worker starts (or reuses) another runner for
    everything else. A task must not block its thread (no blocking
    syscalls, no `std::mutex` held across a wait).

    The queue is four TBB concurrent queues, one per @ref task_priority,
    used only through non-blocking operations; idle lanes are woken by a
    message, never by a blocked thread. Higher priorities start first, FIFO
    within a priority. A lane runs up to 32 tasks per message before it
    queues itself again behind the worker's other actors, so short tasks
    share workers with actors at the granularity of the system's
    `throughput` setting (messages per activation).

    @par Failures
    A task that throws fails with `task_error::task_failed`; its handle's
    `get` throws a `system_error` whose message ends in "the task threw:
    <what>", and `exception()` gives the exception itself. Under
    `error_strategy::circuit_breaker` every retry is another call through
    the breaker: the default retry policy (3 attempts) triples the calls to
    a failing dependency (see @ref error_strategy).

    @par Stopping tasks
    Each task gets a `std::stop_token` (when its callable takes one:
    `T(std::stop_token)`; `T()` callables are supported too). A timeout,
    `task_handle::cancel` and shutdowns request stop. Spindle's own waits
    honour it (`timer_service::sleep_for(d, token)`, `task_handle::wait(token)`).
    Boost.Fiber cannot interrupt a fiber: a task that ignores its token
    keeps its lane (and counts as running) until it returns, although its
    handle already reports `timed_out` / `cancelled`; after `stop_grace` it
    is reported as unresponsive (metric, log) and `shutdown` lists it.

    @par Memory
    A queued task costs its state (about 150 bytes for a small callable
    returning `void`) and a queue slot. Freed states are kept for reuse by
    the thread that freed them, up to 256 KB per thread (under ASan and
    TSan they go straight back to `operator delete`).

    @par Metrics
    In `sys.metrics()`, labelled `executor=<name>`:
    `spindle_executor_tasks_submitted_total`, `..._rejected_total`,
    `..._completed_total`, `..._failed_total`, `..._timed_out_total` and
    `..._cancelled_total`, each also labelled `priority` (`low`, `normal`,
    `high`, `critical`; all four series exist from the start, and a
    submission refused for an invalid priority counts as `normal`); the
    histogram `spindle_executor_task_duration_seconds{executor,priority}`
    of each attempt's run time on a lane, on the system clock (1 µs to
    10 min; a retried task is observed once per attempt; on the real clock,
    tasks in a row on one lane share a clock read, one attempt's end being
    the next one's start, so a start may be early by the lane's bookkeeping
    between the two, usually well under a microsecond);
    `spindle_executor_retries_total`, `spindle_executor_exceptions_total`
    (exceptions contained), `spindle_executor_unresponsive_total`, and the
    gauges `spindle_executor_tasks_running` and
    `spindle_executor_tasks_queued`. `stats()` gives the totals over the
    priorities. Circuit breakers export their own
    (`spindle_circuit_breaker_*`).

    @par Thread safety
    All members may be called concurrently from any thread or fiber, except
    the destructor. The executor must be destroyed before its system object
    (it may outlive `system::shutdown`, which also stops it: queued tasks
    complete with `executor_stopped`, running ones are asked to stop).
*/
class SPINDLE_DECL executor
{
    std::shared_ptr<detail::executor_impl> impl_;

    bool check(task_options const& opts, boost::system::error_code& ec) noexcept;
    bool enqueue(detail::task_core* t, bool may_wait, boost::system::error_code& ec);
    timer_service* timers() const noexcept;

    template<class F>
    auto make_task(F&& f, task_options const& opts, bool may_wait, boost::system::error_code& ec)
        -> task_handle<detail::task_result_t<std::decay_t<F>>>;

public:
    /** Creates an executor on `sys` (no lane is started before work comes,
        except one that watches for the system's shutdown).

        @param sys The system whose workers run the tasks; must outlive the executor.
        @param opts The options.
        @throws spindle::system_error `error::invalid_argument` for a bad
        option or a name already used in this system, `error::system_stopped`
        if the system is shutting down.
    */
    explicit executor(spindle::system& sys, executor_options opts = {});

    /// Calls `shutdown(options().shutdown_deadline)`.
    ~executor();

    executor(executor const&) = delete;
    executor& operator=(executor const&) = delete;

    /** Submits a task, waiting up to `submit_timeout` for room in a full
        queue (a fiber parks, a plain thread blocks). Called from inside one
        of this executor's tasks, the wait holds that task's slot: if every
        slot waits like this, only the timeout ends it.

        @param f A callable `T(std::stop_token)` or `T()`; moved or copied
        into the task. It may be called more than once (retries).
        @param opts How the task runs.
        @return The handle of the task.
        @throws spindle::system_error `task_error::queue_full` (still full
        after the wait), `task_error::executor_stopped`, or
        `error::invalid_argument` (bad options).
    */
    template<class F>
        requires detail::task_callable<std::decay_t<F>>
    auto submit(F&& f, task_options const& opts = {}) -> task_handle<detail::task_result_t<std::decay_t<F>>>;

    /** Submits a task, waiting up to `submit_timeout` for room.

        @param f The callable.
        @param opts How the task runs.
        @param ec Set as the throwing overload throws; cleared on success.
        @return The handle, or an empty handle on error.
    */
    template<class F>
        requires detail::task_callable<std::decay_t<F>>
    auto submit(F&& f, task_options const& opts, boost::system::error_code& ec)
        -> task_handle<detail::task_result_t<std::decay_t<F>>>;

    /** Submits a task if the queue has room now; never waits.

        @param f The callable.
        @param opts How the task runs.
        @return The handle of the task.
        @throws spindle::system_error `task_error::queue_full`,
        `task_error::executor_stopped` or `error::invalid_argument`.
    */
    template<class F>
        requires detail::task_callable<std::decay_t<F>>
    auto try_submit(F&& f, task_options const& opts = {}) -> task_handle<detail::task_result_t<std::decay_t<F>>>;

    /** Submits a task if the queue has room now; never waits.

        @param f The callable.
        @param opts How the task runs.
        @param ec Set as the throwing overload throws; cleared on success.
        @return The handle, or an empty handle on error.
    */
    template<class F>
        requires detail::task_callable<std::decay_t<F>>
    auto try_submit(F&& f, task_options const& opts, boost::system::error_code& ec)
        -> task_handle<detail::task_result_t<std::decay_t<F>>>;

    /** Stops accepting tasks and finishes the queued ones, waiting at most
        `deadline` (real time, as `system::shutdown`; a fiber parks, a plain
        thread blocks).

        Waiting submitters fail with `executor_stopped` at once. Queued tasks
        and due retries keep running until the queue is empty or the deadline
        passes; then what is still queued or waiting for a retry completes
        with `task_error::executor_stopped`, running tasks are asked to stop
        (their handles complete with `executor_stopped`), and the lanes are
        stopped (a lane inside a task stops when the task returns).
        `shutdown(0ns)` cancels everything at once. Idempotent: later calls
        return an empty report. Must not be called from one of this
        executor's tasks.

        @param deadline How long to let queued work run.
        @return What happened.
    */
    executor_shutdown_report shutdown(std::chrono::nanoseconds deadline);

    /// `shutdown(options().shutdown_deadline)`.
    executor_shutdown_report shutdown();

    /// @return True once `shutdown` began (or the system shut down).
    bool stopped() const noexcept;

    /// @return Totals and levels (a snapshot).
    executor_stats stats() const noexcept;

    /// @return The options in force (the name resolved).
    executor_options const& options() const noexcept;
};

} // namespace spindle

#include <spindle/impl/executor.hpp>

#endif
