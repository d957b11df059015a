//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_RUN_BLOCKING_HPP
#define SPINDLE_RUN_BLOCKING_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/completion.hpp>
#include <spindle/error.hpp>
#include <spindle/timer.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

namespace spindle {

class system;

/** Configuration of a @ref blocking_pool. */
struct blocking_pool_options
{
    /// The most threads the pool starts (lazily, as jobs need them);
    /// 0 = twice the hardware threads, at least 4.
    unsigned threads = 0;

    /// The most jobs that may wait for a thread; a submission beyond it
    /// fails at once.
    std::size_t queue_capacity = 1024;

    /// Name of the pool's threads (Linux keeps the first 15 characters).
    std::string name = "spindle-block";
};

/** What a @ref blocking_pool is doing (each value may be stale on return). */
struct blocking_pool_stats
{
    std::size_t threads = 0;     ///< threads started and not yet ended
    std::size_t queued = 0;      ///< jobs waiting for a thread
    std::size_t running = 0;     ///< jobs running now
    std::uint64_t submitted = 0; ///< jobs accepted since construction
    std::uint64_t completed = 0; ///< jobs that ran to the end (returned or threw)
    std::uint64_t rejected = 0;  ///< submissions refused because the queue was full
};

/** The pending result of a job run by @ref run_blocking.

    Waiting is fiber-aware: a fiber parks (its worker thread keeps running
    other fibers), a plain thread blocks. The future completes once: with
    the job's value, with the exception it threw, or with
    `error::cancelled` if the pool shut down before the job started.

    It is a *completion handle* for @ref when_all and @ref when_any "when_any": it has
    `wait()`, `ready()`, `result()` and `on_complete(fn)`.

    @tparam T The job's result type (`void` allowed).

    @par Thread safety
    Distinct futures may be used concurrently. One future is used by one
    fiber at a time, except @ref ready and @ref on_complete, which may be
    called concurrently with a wait.
*/
template<class T>
class blocking_future
{
    std::shared_ptr<detail::completion_state<T>> state_;

    detail::wake_status wait_impl(detail::wait_deadline const& dl, std::stop_token const& st) const
    {
        if(!state_)
            return detail::wake_status::done;
        return state_->wait(dl, st);
    }

public:
    /// The job's result type.
    using value_type = T;

    /// An empty future (`valid() == false`).
    blocking_future() = default;

    /// Wraps a shared state (used by the pool).
    explicit blocking_future(std::shared_ptr<detail::completion_state<T>> st) noexcept : state_(std::move(st)) {}

    /** Tells whether the future still refers to a job (until @ref result
        or @ref get took the outcome).

        @par Thread safety
        See the class.
    */
    bool valid() const noexcept { return state_ != nullptr; }

    /** Tells whether the job has finished (or was cancelled); never waits.

        @return False for an empty future.

        @par Thread safety
        May be called concurrently with a wait.
    */
    bool ready() const noexcept { return state_ && state_->ready(); }

    /** Waits until the job has finished. Returns at once for an empty future.

        @par Thread safety
        See the class.
    */
    void wait() const { wait_impl(detail::wait_deadline::never(), {}); }

    /** Waits until the job has finished or a stop is requested. The job
        itself is not stopped: blocking code cannot be interrupted.

        @param st The stop token.
        @param ec Set to `error::cancelled` if the stop request ended the
        wait; cleared otherwise.

        @par Thread safety
        See the class.
    */
    void wait(std::stop_token st, boost::system::error_code& ec) const
    {
        if(wait_impl(detail::wait_deadline::never(), st) == detail::wake_status::done)
            ec = {};
        else
            ec = error::cancelled;
    }

    /** Waits until the job has finished or a stop is requested.

        @param st The stop token.
        @throws spindle::system_error with `error::cancelled` if the stop
        request ended the wait.

        @par Thread safety
        See the class.
    */
    void wait(std::stop_token st) const
    {
        boost::system::error_code ec;
        wait(std::move(st), ec);
        if(ec)
            detail::throw_error(ec, "spindle::blocking_future::wait");
    }

    /** Waits at most `d` (steady clock) for the job to finish.

        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return True if the job finished; false on timeout or stop request.

        @par Thread safety
        See the class.
    */
    [[nodiscard]] bool wait_for(std::chrono::nanoseconds d, std::stop_token st = {}) const
    {
        return wait_impl(detail::wait_deadline::after(d), st) == detail::wake_status::done;
    }

    /** Waits until `deadline` (steady clock) for the job to finish.

        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return True if the job finished; false on timeout or stop request.

        @par Thread safety
        See the class.
    */
    [[nodiscard]] bool wait_until(std::chrono::steady_clock::time_point deadline, std::stop_token st = {}) const
    {
        return wait_impl(detail::wait_deadline::at(deadline), st) == detail::wake_status::done;
    }

    /** Waits at most `d` on `timers`' clock for the job to finish.

        @param timers The time base (a manual clock in tests).
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return True if the job finished; false on timeout or stop request.
        @throws std::bad_alloc if the timeout cannot be armed.

        @par Thread safety
        See the class.
    */
    [[nodiscard]] bool wait_for(timer_service& timers, std::chrono::nanoseconds d, std::stop_token st = {}) const
    {
        return wait_impl(detail::wait_deadline::after(timers, d), st) == detail::wake_status::done;
    }

    /** Waits for the job and takes its outcome without throwing.

        @return The value; `error::handler_failed` if the job threw (see
        @ref exception for what), `error::cancelled` if it never ran,
        `error::invalid_argument` for an empty future. The future becomes
        empty.

        @par Thread safety
        See the class.
    */
    boost::system::result<T> result()
    {
        if(!state_)
            return boost::system::result<T>(boost::system::in_place_error, error::invalid_argument);
        wait();
        auto st = std::move(state_);
        return st->take();
    }

    /** Waits for the job and returns its value.

        @return The value. The future becomes empty.
        @throws The exception the job threw; spindle::system_error with
        `error::cancelled` if the job never ran, `error::invalid_argument`
        for an empty future.

        @par Thread safety
        See the class.
    */
    T get()
    {
        if(!state_)
            detail::throw_error(error::invalid_argument, "spindle::blocking_future::get: empty future");
        wait();
        auto st = std::move(state_);
        if(auto e = st->exception())
            std::rethrow_exception(e);
        auto r = st->take();
        if(!r)
            detail::throw_error(r.error(), "spindle::blocking_future::get");
        if constexpr(!std::is_void_v<T>)
            return std::move(*r);
    }

    /** Waits for the job and returns its value, reporting failure through `ec`.

        @param ec Set as @ref result describes, or cleared.
        @return The value, or a value-initialised `T` on error.

        @par Thread safety
        See the class.
    */
    T get(boost::system::error_code& ec)
    {
        auto r = result();
        if(!r)
        {
            ec = r.error();
            if constexpr(!std::is_void_v<T>)
                return T{};
            else
                return;
        }
        ec = {};
        if constexpr(!std::is_void_v<T>)
            return std::move(*r);
    }

    /** Returns the exception the job threw, or null (not finished yet, no
        exception, or empty future). Never waits.

        @par Thread safety
        See the class.
    */
    std::exception_ptr exception() const noexcept { return state_ ? state_->exception() : nullptr; }

    /** Calls `fn()` once when the job has finished: at once, on the calling
        thread, if it already has; otherwise on the pool thread that
        finishes it. `fn` must be short, must not block and must not throw
        (an exception is caught and dropped). Does nothing for an empty
        future.

        @param fn A callable taking no arguments.
        @throws std::bad_alloc if `fn` cannot be stored.

        @par Thread safety
        See the class.
    */
    template<class F>
        requires std::invocable<std::decay_t<F>&>
    void on_complete(F&& fn) const
    {
        if(state_)
            state_->on_complete(std::function<void()>(std::forward<F>(fn)));
    }
};

namespace detail {

/// A job of the pool: completes its future with the callable's outcome, or
/// with `cancelled` when destroyed without having run (pool shut down).
template<class R, class F>
struct blocking_job
{
    std::shared_ptr<completion_state<R>> state;
    F fn;

    blocking_job(std::shared_ptr<completion_state<R>> s, F&& f) : state(std::move(s)), fn(std::move(f)) {}
    blocking_job(std::shared_ptr<completion_state<R>> s, F const& f) : state(std::move(s)), fn(f) {}
    blocking_job(blocking_job&&) = default;
    blocking_job& operator=(blocking_job&&) = delete;

    ~blocking_job()
    {
        if(state)
            state->set_error(error::cancelled);
    }

    void operator()() noexcept
    {
        auto s = std::move(state);
        try
        {
            if constexpr(std::is_void_v<R>)
            {
                fn();
                s->set_value();
            }
            else
            {
                s->set_value(fn());
            }
        }
        catch(...)
        {
            s->set_exception(std::current_exception());
        }
    }
};

} // namespace detail

/** A bounded pool of plain threads for blocking code: syscalls, legacy
    clients, anything that would stall a fiber worker.

    Threads start lazily, one when a job finds no idle thread, up to
    `blocking_pool_options::threads`; they then stay until shutdown. Jobs
    beyond the running ones wait in a FIFO queue of bounded capacity; a
    submission to a full queue fails at once with
    `boost::system::errc::resource_unavailable_try_again`, and after
    @ref shutdown with `error::system_stopped`.

    Most code uses the pool of its actor system, `run_blocking(sys, fn)`;
    a separate pool isolates a slow dependency from the rest.

    @par Thread safety
    All members may be called concurrently from any fiber or thread, except
    the destructor.
*/
class blocking_pool
{
public:
    /** Constructs a pool; no thread starts before the first job.

        @param opts The options.
        @throws spindle::system_error with `error::invalid_argument` if
        `opts.queue_capacity` is zero.
    */
    SPINDLE_DECL explicit blocking_pool(blocking_pool_options opts = {});

    /** Calls @ref shutdown.

        @par Thread safety
        No other member may be in progress. Blocks the calling thread (not
        only the fiber) until running jobs return.
    */
    SPINDLE_DECL ~blocking_pool();

    /// Not copyable: jobs belong to one pool.
    blocking_pool(blocking_pool const&) = delete;
    /// Not copyable: jobs belong to one pool.
    blocking_pool& operator=(blocking_pool const&) = delete;

    /** Runs `fn()` on a pool thread.

        @param fn The job: a callable taking no arguments, moved (or
        copied) into the pool. Exceptions it throws reach the future.
        @param ec Set to `errc::resource_unavailable_try_again` if the queue
        is full, `error::system_stopped` after shutdown (an empty future is
        returned then); cleared otherwise.
        @return The future of its result.
        @throws std::bad_alloc if the job cannot be stored.

        @par Thread safety
        Safe to call concurrently, from fibers and threads.
    */
    template<class F>
        requires std::invocable<std::decay_t<F>&>
    auto submit(F&& fn, boost::system::error_code& ec)
        -> blocking_future<std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>>
    {
        using result_type = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>;
        auto state = std::make_shared<detail::completion_state<result_type>>();
        blocking_future<result_type> f(state);
        post(detail::blocking_job<result_type, std::decay_t<F>>(std::move(state), std::forward<F>(fn)), ec);
        if(ec)
            return {};
        return f;
    }

    /** Runs `fn()` on a pool thread.

        @param fn The job; exceptions it throws reach the future.
        @return The future of its result.
        @throws spindle::system_error with `errc::resource_unavailable_try_again`
        if the queue is full, or `error::system_stopped` after shutdown;
        std::bad_alloc if the job cannot be stored.

        @par Thread safety
        Safe to call concurrently, from fibers and threads.
    */
    template<class F>
        requires std::invocable<std::decay_t<F>&>
    auto submit(F&& fn) -> blocking_future<std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>>
    {
        boost::system::error_code ec;
        auto f = submit(std::forward<F>(fn), ec);
        if(ec)
            throw_submit_error(ec);
        return f;
    }

    /** Stops the pool: refuses new jobs, completes the queued ones with
        `error::cancelled` without running them, waits for the running ones
        to return and joins the threads. Idempotent.

        @par Thread safety
        Safe to call concurrently. Blocks the calling thread (not only the
        fiber) while jobs are running; call it from a plain thread when jobs
        may run long. Called from a job, it does not wait for that job.
    */
    SPINDLE_DECL void shutdown() noexcept;

    /** Returns the options in force (`threads` resolved).

        @par Thread safety
        Safe to call concurrently.
    */
    SPINDLE_DECL blocking_pool_options const& options() const noexcept;

    /** Returns what the pool is doing.

        @par Thread safety
        Safe to call concurrently.
    */
    SPINDLE_DECL blocking_pool_stats stats() const noexcept;

private:
    struct impl; // shared with the pool's threads

    SPINDLE_DECL void post(detail::timer_callback job, boost::system::error_code& ec);
    [[noreturn]] SPINDLE_DECL void throw_submit_error(boost::system::error_code const& ec) const;

    std::shared_ptr<impl> impl_;
};

/** Returns the blocking pool of an actor system, creating it (with default
    options) on first use. It lives as long as the system's state: the
    system's destructor shuts it down, waiting for running jobs. Its load is
    published in the system's metrics registry
    (`spindle_blocking_pool_threads`, `spindle_blocking_pool_jobs`,
    `spindle_blocking_pool_rejected_total`).

    @param sys The system.
    @param ec Set to `error::system_stopped` if the system is shutting down;
    cleared otherwise.
    @return The pool, or null on error.
    @throws std::bad_alloc if the pool cannot be created.

    @par Thread safety
    Safe to call concurrently, from fibers and threads.
*/
SPINDLE_DECL blocking_pool* blocking_pool_of(system& sys, boost::system::error_code& ec);

/** Returns the blocking pool of an actor system, creating it on first use.

    @param sys The system.
    @return The pool.
    @throws spindle::system_error with `error::system_stopped` if the system
    is shutting down; std::bad_alloc if the pool cannot be created.

    @par Thread safety
    Safe to call concurrently, from fibers and threads.
*/
SPINDLE_DECL blocking_pool& blocking_pool_of(system& sys);

/** Runs blocking code on `pool` and returns a fiber-aware future of its
    result, so no fiber worker ever blocks on it.

    @param pool The pool.
    @param fn The job: a callable taking no arguments; it may block the
    thread it runs on as long as it likes. Exceptions it throws reach the
    future.
    @param ec Set to `errc::resource_unavailable_try_again` if the pool's
    queue is full, `error::system_stopped` if the pool has shut down;
    cleared otherwise.
    @return The future (empty on error).
    @throws std::bad_alloc if the job cannot be stored.

    @par Thread safety
    Safe to call concurrently, from fibers and threads.
*/
template<class F>
    requires std::invocable<std::decay_t<F>&>
auto run_blocking(blocking_pool& pool, F&& fn, boost::system::error_code& ec)
{
    return pool.submit(std::forward<F>(fn), ec);
}

/** Runs blocking code on `pool` and returns a fiber-aware future of its result.

    @param pool The pool.
    @param fn The job; exceptions it throws reach the future.
    @return The future.
    @throws spindle::system_error with `errc::resource_unavailable_try_again`
    if the pool's queue is full, `error::system_stopped` if the pool has
    shut down; std::bad_alloc if the job cannot be stored.

    @par Thread safety
    Safe to call concurrently, from fibers and threads.
*/
template<class F>
    requires std::invocable<std::decay_t<F>&>
auto run_blocking(blocking_pool& pool, F&& fn)
{
    return pool.submit(std::forward<F>(fn));
}

/** Runs blocking code on the blocking pool of `sys` (see
    @ref blocking_pool_of) and returns a fiber-aware future of its result.

    @par Example
    @code
    // inside a handler: the actor's fiber parks, the worker keeps running others
    std::string body = spindle::run_blocking(system(), [&] { return legacy_client.fetch(url); }).get();
    @endcode

    @param sys The system.
    @param fn The job; exceptions it throws reach the future.
    @param ec Set to `error::system_stopped` if the system is shutting down,
    `errc::resource_unavailable_try_again` if the pool's queue is full;
    cleared otherwise.
    @return The future (empty on error).
    @throws std::bad_alloc if the pool or the job cannot be allocated.

    @par Thread safety
    Safe to call concurrently, from fibers and threads.
*/
template<class F>
    requires std::invocable<std::decay_t<F>&>
auto run_blocking(system& sys, F&& fn, boost::system::error_code& ec)
    -> blocking_future<std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>>
{
    blocking_pool* pool = blocking_pool_of(sys, ec);
    if(!pool)
        return {};
    return pool->submit(std::forward<F>(fn), ec);
}

/** Runs blocking code on the blocking pool of `sys` and returns a
    fiber-aware future of its result.

    @param sys The system.
    @param fn The job; exceptions it throws reach the future.
    @return The future.
    @throws spindle::system_error with `error::system_stopped` if the system
    is shutting down, `errc::resource_unavailable_try_again` if the pool's
    queue is full; std::bad_alloc if the pool or the job cannot be allocated.

    @par Thread safety
    Safe to call concurrently, from fibers and threads.
*/
template<class F>
    requires std::invocable<std::decay_t<F>&>
auto run_blocking(system& sys, F&& fn)
{
    return blocking_pool_of(sys).submit(std::forward<F>(fn));
}

} // namespace spindle

#endif
