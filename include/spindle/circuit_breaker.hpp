//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_CIRCUIT_BREAKER_HPP
#define SPINDLE_CIRCUIT_BREAKER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/enums.hpp>
#include <spindle/error.hpp>
#include <spindle/task.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace spindle {

class system;
class timer_service;

namespace detail {
class breaker_impl;
}

/** How an executor reports to a breaker an attempt that ended without an
    outcome of its own (see `circuit_breaker_options::on_timeout`).
*/
enum class circuit_outcome : std::uint8_t
{
    /// Reported as a failed call (counts towards opening; re-opens a half-open circuit).
    failure,
    /// Reported as a successful call.
    success,
    /// Not reported: the permit is given back (a half-open trial slot is freed).
    ignored
};

/** Configuration of a @ref circuit_breaker. */
struct circuit_breaker_options
{
    /// Consecutive failures (while closed) that open the circuit; at least 1.
    std::size_t failure_threshold = defaults::circuit_failure_threshold;

    /// How long the circuit stays open before it lets trial calls through
    /// (on the clock of the breaker's timer service); positive.
    std::chrono::nanoseconds recovery_timeout = defaults::circuit_recovery_timeout;

    /// Trial calls let through while half-open; when that many have
    /// succeeded the circuit closes, and any failure re-opens it. At least 1.
    std::size_t half_open_max_calls = defaults::circuit_half_open_max_calls;

    /** What an executor task (`error_strategy::circuit_breaker`) whose
        attempt ran past its timeout reports: by default a failure, so a
        dependency that hangs opens the circuit, and a timed-out trial
        re-opens a half-open one. Reported when the timeout fires, even if
        the task ignores its stop token and keeps running.
    */
    circuit_outcome on_timeout = circuit_outcome::failure;

    /** What an executor task whose running attempt was cancelled through
        its handle reports (when the attempt returns); by default a
        failure. An attempt abandoned by a shutdown is never reported (its
        permit is given back): it says nothing about the dependency.
    */
    circuit_outcome on_cancel = circuit_outcome::failure;

    /// The `breaker` label of its metrics and the name in its log records;
    /// empty: `breaker-<n>`. Give every breaker of a system its own name.
    std::string name;
};

/** One change of state, as reported to `on_transition` callbacks. */
struct circuit_transition
{
    circuit_state from; ///< the state before
    circuit_state to;   ///< the state after
};

/** Running totals of a breaker. */
struct circuit_breaker_stats
{
    std::uint64_t successes = 0; ///< calls reported successful
    std::uint64_t failures = 0;  ///< calls reported failed
    std::uint64_t rejected = 0;  ///< calls refused (open, or half-open and full)
    /// `transitions[from][to]`, indexed by `circuit_state`.
    std::uint64_t transitions[3][3] = {};

    /// @return How often the circuit went from `from` to `to`.
    std::uint64_t transition_count(circuit_state from, circuit_state to) const noexcept
    {
        return transitions[static_cast<int>(from)][static_cast<int>(to)];
    }
};

/** A circuit breaker: stops calling a failing dependency for a while, then
    probes it with a few trial calls.

    - closed → open after `failure_threshold` consecutive failures;
    - open → half-open after `recovery_timeout` (a timer on the breaker's
      timer service makes the change even if no call comes; a call that
      arrives later than the timer also makes it);
    - half-open: at most `half_open_max_calls` trial calls pass, the others
      are rejected; `half_open_max_calls` successes close the circuit, a
      failure re-opens it (with a fresh recovery timeout).

    Every call takes a @ref permit first and reports its outcome through
    it; @ref call does both around a callable. A permit taken in one state
    whose outcome arrives after the circuit moved on (say, a slow call
    admitted while closed that fails after the circuit opened) is counted in
    the stats but does not move the circuit again.

    Every transition is counted (@ref stats, and the metric
    `spindle_circuit_breaker_transitions_total{breaker,from,to}` when the
    breaker was made with a system) and reported to `on_transition`
    callbacks. An executor uses a breaker through
    `error_strategy::circuit_breaker`: an attempt that returns is a
    success, one that throws a failure, one that times out or is cancelled
    whatever `on_timeout` / `on_cancel` say (by default a failure).

    @par Thread safety
    All members may be called concurrently from any thread or fiber. The
    state is guarded by a spinlock held for a few instructions, never across
    a callback or a suspension, so no fiber's thread ever blocks on it for
    long. The breaker must outlive its permits, and its timer service must
    outlive the breaker.
*/
class SPINDLE_DECL circuit_breaker
{
public:
    /** The right to make one call, and the place to report its outcome.

        Move-only. Destroying a permit without reporting (an exception path
        that skipped it) gives a half-open trial slot back without counting
        an outcome.
    */
    class SPINDLE_DECL permit
    {
        detail::breaker_impl* b_ = nullptr;
        std::uint64_t generation_ = 0;
        bool trial_ = false;

        friend class detail::breaker_impl;
        permit(detail::breaker_impl* b, std::uint64_t gen, bool trial) noexcept
            : b_(b), generation_(gen), trial_(trial)
        {
        }

    public:
        /// An empty permit (what a rejected `try_acquire` returns).
        permit() noexcept = default;
        /// Takes over `other`'s permit; `other` becomes empty.
        permit(permit&& other) noexcept;
        /// Reports this permit's call as abandoned (if it had no outcome),
        /// then takes over `other`'s; `other` becomes empty.
        permit& operator=(permit&& other) noexcept;
        ~permit();

        /// @return True if the permit allows a call and has no outcome yet.
        explicit operator bool() const noexcept { return b_ != nullptr; }

        /// Reports that the call succeeded. Only the first report counts.
        void success() noexcept;

        /// Reports that the call failed. Only the first report counts.
        void failure() noexcept;

        /** Reports `o`: `success()`, `failure()`, or for
            `circuit_outcome::ignored` gives the permit back without an
            outcome (as destroying it does).
        */
        void report(circuit_outcome o) noexcept;
    };

    /** Constructs a breaker on the system's clock, with metrics in the
        system's registry (labelled `breaker=<name>`).

        @param sys The system; must outlive the breaker.
        @param opts The options.
        @throws spindle::system_error `error::invalid_argument` for a bad option.
    */
    explicit circuit_breaker(spindle::system& sys, circuit_breaker_options opts = {});

    /** Constructs a breaker on a timer service, without metrics (for use
        outside an actor system, or with a test's manual clock).

        @param timers The clock and timers; must outlive the breaker.
        @param opts The options.
        @throws spindle::system_error `error::invalid_argument` for a bad option.
    */
    explicit circuit_breaker(timer_service& timers, circuit_breaker_options opts = {});

    /// Cancels the recovery timer. Permits must not outlive the breaker.
    ~circuit_breaker();

    circuit_breaker(circuit_breaker const&) = delete;
    circuit_breaker& operator=(circuit_breaker const&) = delete;

    /** Asks to make a call.

        @param ec Cleared if the call may go ahead; `task_error::circuit_open`
        if the circuit is open, or half-open with all trial calls taken.
        @return A permit (empty when rejected).
    */
    permit try_acquire(boost::system::error_code& ec) noexcept;

    /** Asks to make a call.

        @return A permit.
        @throws spindle::system_error `task_error::circuit_open` when rejected.
    */
    permit acquire();

    /** Calls `f()` through the breaker: takes a permit, calls, and reports
        success if it returns, failure if it throws.

        @param f The call.
        @return What `f` returns.
        @throws spindle::system_error `task_error::circuit_open` without
        calling `f` when rejected; whatever `f` throws otherwise.
    */
    template<class F>
    std::invoke_result_t<F&> call(F&& f)
    {
        using result_type = std::invoke_result_t<F&>;
        permit p = acquire();
        try
        {
            if constexpr(std::is_void_v<result_type>)
            {
                std::invoke(f);
                p.success();
            }
            else
            {
                result_type r = std::invoke(f);
                p.success();
                if constexpr(std::is_reference_v<result_type>)
                    return static_cast<result_type>(r);
                else
                    return r;
            }
        }
        catch(...)
        {
            p.failure();
            throw;
        }
    }

    /** Returns the current state. A circuit whose recovery timeout has
        passed reads as half-open even if no timer or call moved it yet.
    */
    circuit_state state() const noexcept;

    /** Adds a callback run on every transition, on the thread that caused
        it (a caller, or the timer thread for open → half-open), after the
        breaker's lock is released. Transitions caused by different threads
        at the same moment may be reported in either order. Must not block;
        exceptions are swallowed.

        @param fn The callback.
    */
    void on_transition(std::function<void(circuit_transition const&)> fn);

    /// @return The totals so far.
    circuit_breaker_stats stats() const noexcept;

    /** Forces the circuit closed (an operator override), counting the
        transition if it was not closed.
    */
    void reset() noexcept;

    /// @return The name (given, or generated).
    std::string const& name() const noexcept;

    /// @return The options in force.
    circuit_breaker_options const& options() const noexcept;

private:
    std::shared_ptr<detail::breaker_impl> impl_;
};

} // namespace spindle

#endif
