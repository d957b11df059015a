//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TASK_HPP
#define SPINDLE_TASK_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/error.hpp>
#include <spindle/id.hpp>
#include <spindle/retry.hpp>

#include <boost/intrusive_ptr.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <stop_token>
#include <string_view>
#include <type_traits>

/** @file
    One-off tasks: their options, their errors and the handle that waits for
    their results. The @ref spindle::executor (`<spindle/executor.hpp>`)
    runs them.
*/

namespace spindle {

class circuit_breaker;

/// The errors of tasks, executors and circuit breakers.
enum class task_error
{
    /// The executor's queue is at capacity (`try_submit`, or `submit` after waiting).
    queue_full = 1,
    /// An attempt ran past the task's timeout; the task was asked to stop.
    timed_out,
    /// `task_handle::cancel` was called before the task finished.
    cancelled,
    /// A circuit breaker is open (or half-open with all trial calls taken).
    circuit_open,
    /// The executor is shutting down or has shut down; the task never ran or was abandoned.
    executor_stopped,
    /// The task threw; see `task_handle::exception` (`get` names its `what()`:
    /// "the task threw: <what>").
    task_failed,
    /// Every attempt the retry policy allows failed; see `task_handle::exception`.
    retries_exhausted
};

/// The category of @ref task_error. Its `name()` is `"spindle.task"`.
SPINDLE_DECL boost::system::error_category const& task_category() noexcept;

/// Makes an `error_code` from a @ref task_error (found by ADL).
inline boost::system::error_code make_error_code(task_error e) noexcept
{
    return {static_cast<int>(e), task_category()};
}

/** The priority of a task. Queued tasks of a higher priority start before
    those of a lower one; tasks of one priority start in submission order.
    A steady stream of higher-priority work starves lower priorities.
*/
enum class task_priority : std::uint8_t
{
    low,
    normal,
    high,
    critical
};

/// @return `"low"`, `"normal"`, `"high"` or `"critical"`.
SPINDLE_DECL std::string_view to_string(task_priority p) noexcept;

/** What the executor does when an attempt of a task throws.

    Whatever the strategy, the exception never leaves the executor: it is
    counted (metric `spindle_executor_exceptions_total`) and kept for
    `task_handle::exception`.
*/
enum class error_strategy : std::uint8_t
{
    /// The first failure is the result: `task_error::task_failed`.
    stop_on_error,
    /// As `stop_on_error`, and the failure is logged (Spindle's log, warning),
    /// for fire-and-forget tasks nobody waits for.
    log_and_continue,
    /// Retry per `task_options::retry`, waiting the backoff delays between
    /// attempts (without holding a concurrency slot); when every attempt
    /// failed the result is `task_error::retries_exhausted`.
    retry_with_backoff,
    /** Every attempt first asks `task_options::breaker` for a permit (an open
        circuit fails the task at once with `task_error::circuit_open`) and
        reports its outcome to it; failures are retried per
        `task_options::retry` as with `retry_with_backoff`.

        Mind the multiplication: with the default retry policy (3 attempts)
        each task calls a failing dependency up to 3 times, so the breaker
        sees up to 3 failures per task and opens after
        `failure_threshold / 3` tasks. Set `retry.max_attempts = 1` to let
        the breaker alone decide (one call per task), or keep retries for
        transient faults knowing that each one is a call. A timed-out or
        cancelled attempt is never retried; what it reports to the breaker
        is the breaker's `on_timeout` / `on_cancel` (a failure by default).
    */
    circuit_breaker
};

/** How one task runs. Every field has a default; the defaults run a task
    once, at normal priority, with the default timeout.
*/
struct task_options
{
    /// Where the task goes in the queue.
    task_priority priority = task_priority::normal;

    /** How long one attempt may run (on the system clock), from the moment
        it starts; queueing and backoff do not count. When it expires the
        task's handle completes with `task_error::timed_out` and the task's
        stop token is triggered; a timed-out task is not retried.
        `std::chrono::nanoseconds::max()` means no timeout; zero or negative
        is invalid.
    */
    std::chrono::nanoseconds timeout = defaults::task_timeout;

    /// What a failure does (see @ref error_strategy).
    error_strategy on_error = error_strategy::stop_on_error;

    /// Attempts and backoff, for `retry_with_backoff` and `circuit_breaker`
    /// (where every attempt is a call through the breaker: see
    /// `error_strategy::circuit_breaker`).
    retry_policy retry{};

    /// The breaker of `error_strategy::circuit_breaker` (required then, and
    /// only allowed then). Tasks may share one breaker.
    std::shared_ptr<spindle::circuit_breaker> breaker;
};

} // namespace spindle

/// @cond
template<>
struct boost::system::is_error_code_enum<spindle::task_error> : std::true_type
{
};
/// @endcond

#include <spindle/impl/task.hpp>

namespace spindle {

/** The pending result of a task submitted to an @ref executor.

    A handle is a shared reference to the task's state: copies refer to the
    same task, and the state lives as long as any copy (or the executor)
    needs it. The result is set exactly once: the task's value, or an error
    (`task_error::timed_out`, `cancelled`, `circuit_open`,
    `executor_stopped`, `task_failed`, `retries_exhausted`).

    Waiting is fiber-aware: in a fiber (an actor's handler, another task)
    only that fiber parks; on a plain thread the thread blocks. A task that
    waits for another task holds its own concurrency slot meanwhile: tasks
    that all wait for tasks still queued behind them deadlock when they fill
    `max_concurrent`.

    @tparam T The task's return type (`void` allowed).

    @par Thread safety
    Distinct handles: safe. One handle: all const members may be called
    concurrently from any thread or fiber.
*/
template<class T>
class task_handle
{
    boost::intrusive_ptr<detail::task_state<T>> st_;

    [[noreturn]] void fail(boost::system::error_code const& ec) const
    {
        std::exception_ptr e;
        if(ec == task_error::task_failed || ec == task_error::retries_exhausted)
            e = st_->last_exception();
        if(!e)
            detail::throw_error(ec, "spindle::task_handle::get");
        detail::throw_error(ec, ("spindle::task_handle::get: " + detail::describe_task_exception(e)).c_str());
    }

public:
    /// The task's value type.
    using value_type = T;

    /// An empty handle (`valid() == false`).
    task_handle() noexcept = default;

    /// Wraps a task's state (used by the executor).
    explicit task_handle(boost::intrusive_ptr<detail::task_state<T>> st) noexcept : st_(std::move(st)) {}

    /// @return True if the handle refers to a task.
    bool valid() const noexcept { return st_ != nullptr; }

    /// @return True if the handle refers to a task.
    explicit operator bool() const noexcept { return valid(); }

    /// @return The task's id (nil for an empty handle).
    task_id id() const noexcept { return st_ ? st_->id() : task_id(); }

    /** Tells whether the result is there; never waits.

        @return True once the task has a result (or for an empty handle).
    */
    bool ready() const noexcept { return !st_ || st_->done(); }

    /** Waits until the task has a result (returns at once for an empty handle).

        @throws std::bad_alloc if the waiter's state cannot be allocated.
    */
    void wait() const
    {
        if(st_)
            st_->wait(std::stop_token());
    }

    /** Waits until the task has a result or stop is requested on `st`.

        @param st A stop token; a stop request ends the wait early.
        @return True if the result is there.
        @throws std::bad_alloc if the waiter's state cannot be allocated.
    */
    bool wait(std::stop_token st) const { return !st_ || st_->wait(std::move(st)); }

    /** Waits at most `d` on the clock of the executor's system.

        The system must still be alive (it is, as long as the executor is).

        @param d How long to wait.
        @return True if the result is there.
        @throws std::bad_alloc if the waiter's state cannot be allocated.
    */
    bool wait_for(std::chrono::nanoseconds d) const { return !st_ || st_->wait_for(d); }

    /** Waits for the result and returns it without throwing.

        @return The value or the error (`error::invalid_argument` for an
        empty handle). The reference is valid as long as this handle.
    */
    boost::system::result<T> const& result() const
    {
        if(!st_)
            return detail::empty_handle_result<T>();
        st_->wait(std::stop_token());
        return st_->stored_result();
    }

    /** Waits for the result and returns the value.

        @return The value (a reference valid as long as this handle; nothing
        for `task_handle<void>`).
        @throws spindle::system_error with the task's error code; for a
        task that threw, its message ends in "the task threw: <what>".
    */
    std::add_lvalue_reference_t<T const> get() const&
    {
        auto const& r = result();
        if(!r)
            fail(r.error());
        if constexpr(!std::is_void_v<T>)
            return *r;
    }

    /** Waits for the result and moves the value out (for a temporary handle:
        `exec.submit(f).get()`). Other copies of the handle then see a
        moved-from value.

        @return The value.
        @throws spindle::system_error with the task's error code.
    */
    T get() &&
    {
        auto const& r = result();
        if(!r)
            fail(r.error());
        if constexpr(!std::is_void_v<T>)
            return std::move(st_->stored_result_mutable()).value();
    }

    /** Returns the exception the task's last failed attempt threw.

        Waits for the result first. Useful with `task_failed` and
        `retries_exhausted`, whose error codes cannot carry the exception.

        @return The exception, or null if no attempt threw.
    */
    std::exception_ptr exception() const
    {
        if(!st_)
            return nullptr;
        st_->wait(std::stop_token());
        return st_->last_exception();
    }

    /** Cancels the task: its handle completes with `task_error::cancelled`
        at once and its stop token is triggered.

        A queued task never runs, and its queue slot is free at once (a
        submitter waiting for room is woken; the task's state stays in the
        queue until a lane skips it, without running it). A task waiting for a retry is not
        retried. A running task keeps its concurrency slot until it returns:
        the executor cannot stop a fiber, so a task that ignores its stop
        token runs on (the executor reports it, see `executor_options::stop_grace`);
        whatever it returns is discarded.

        @return True if this call completed the handle; false if the task
        already had a result (or the handle is empty).
    */
    bool cancel() const noexcept { return st_ && st_->cancel(); }

    /** Calls `fn()` once the task has a result: at once, in the calling
        thread, if it already has one; otherwise on the thread that
        completes the task (a worker running the task, the timer thread for
        a timeout, the thread calling `cancel` or shutting down).

        `fn` must be short and must not block (not even fiber-style): it
        runs inside the completion path of another party. It may read the
        result (which does not wait then). Exceptions it throws are
        swallowed. There is no way to unregister it; it is destroyed right
        after it ran.

        @param fn A callable `void()`; moved into the task's state.
        @throws std::bad_alloc if the registration cannot be allocated
        (`fn` is then not called).
    */
    template<class F>
    void on_complete(F&& fn) const
    {
        if(!st_)
        {
            detail::invoke_noexcept(fn);
            return;
        }
        st_->on_complete(std::forward<F>(fn));
    }

    /// Handles are equal if they refer to the same task.
    friend bool operator==(task_handle const& a, task_handle const& b) noexcept { return a.st_ == b.st_; }

    /// The task's state (for composition utilities and the executor).
    detail::task_state<T>* state() const noexcept { return st_.get(); }
};

} // namespace spindle

#endif
