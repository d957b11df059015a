//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_SEMAPHORE_HPP
#define SPINDLE_SEMAPHORE_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>
#include <spindle/timer.hpp>

#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <limits>
#include <stop_token>

namespace spindle {

/** A counting semaphore that fibers and plain threads can acquire.

    It holds a number of permits. @ref acquire takes one, waiting while
    there are none; @ref release returns permits. Waiters are served in
    arrival order and a released permit is handed directly to the oldest
    waiter, so a stream of new acquirers cannot starve a waiting one.
    Boost.Fiber 1.81 has no semaphore; this one parks only the waiting
    fiber (a plain thread blocks), and its waits honour a `std::stop_token`
    and a deadline, on the steady clock or on a @ref timer_service (so a
    manual clock drives timeouts in tests).

    @par Example
    @code
    spindle::semaphore connections(8);     // at most 8 requests in flight
    connections.acquire();
    auto release = [&] { connections.release(); };
    // ... talk to the backend, then release()
    @endcode

    @par Thread safety
    All members may be called concurrently from any fiber or thread, except
    the destructor: no call may be in progress when the semaphore is
    destroyed.
*/
class semaphore
{
public:
    /** Returns the largest `max_permits` a semaphore accepts. */
    static constexpr std::ptrdiff_t max() noexcept { return std::numeric_limits<std::ptrdiff_t>::max(); }

    /** Constructs a semaphore holding `initial` permits.

        @param initial The permits available at first.
        @param max_permits The most permits it may ever hold; a release
        beyond it is an error.
        @throws spindle::system_error with `error::invalid_argument` if
        `initial` is negative or larger than `max_permits`, or `max_permits`
        is not positive.
    */
    SPINDLE_DECL explicit semaphore(std::ptrdiff_t initial, std::ptrdiff_t max_permits = max());

    /// Not copyable: waiters refer to one semaphore by identity.
    semaphore(semaphore const&) = delete;
    /// Not copyable: waiters refer to one semaphore by identity.
    semaphore& operator=(semaphore const&) = delete;

    /** Returns `n` permits, handing them to waiters first. Never waits.

        @param n How many permits; must not be negative and must not raise
        the permits beyond `max_permits`.
        @param ec Set to `error::invalid_argument` (and nothing changes) for
        a bad `n`; cleared otherwise.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void release(std::ptrdiff_t n, boost::system::error_code& ec) noexcept;

    /** Returns `n` permits, handing them to waiters first. Never waits.

        @param n How many permits; must not be negative and must not raise
        the permits beyond `max_permits`.
        @throws spindle::system_error with `error::invalid_argument` for a bad
        `n` (nothing changes then).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void release(std::ptrdiff_t n = 1);

    /** Takes a permit, waiting until one is available.

        Parks the calling fiber; blocks a plain thread.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void acquire();

    /** Takes a permit, waiting until one is available or a stop is requested.

        @param st The stop token; checked only when the call would wait.
        @param ec Set to `error::cancelled` if the stop request ended the
        wait (no permit taken); cleared when a permit was taken.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void acquire(std::stop_token st, boost::system::error_code& ec);

    /** Takes a permit, waiting until one is available or a stop is requested.

        @param st The stop token; checked only when the call would wait.
        @throws spindle::system_error with `error::cancelled` if the stop
        request ended the wait (no permit taken).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void acquire(std::stop_token st);

    /** Takes a permit if one is available and no one waits. Never waits.

        @return True if a permit was taken.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_acquire() noexcept;

    /** Takes a permit, waiting at most `d` (steady clock).

        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return True if a permit was taken; false on timeout or stop request
        (check `st` to tell them apart).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_acquire_for(std::chrono::nanoseconds d, std::stop_token st = {});

    /** Takes a permit, waiting until `deadline` (steady clock).

        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return True if a permit was taken; false on timeout or stop request.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_acquire_until(std::chrono::steady_clock::time_point deadline,
                                                      std::stop_token st = {});

    /** Takes a permit, waiting at most `d` on `timers`' clock.

        @param timers The time base (a manual clock in tests).
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return True if a permit was taken; false on timeout or stop request.
        @throws std::bad_alloc if the timeout cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_acquire_for(timer_service& timers, std::chrono::nanoseconds d,
                                                    std::stop_token st = {});

    /** Takes a permit, waiting until `deadline` on `timers`' clock.

        @param timers The time base (a manual clock in tests).
        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return True if a permit was taken; false on timeout or stop request.
        @throws std::bad_alloc if the timeout cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_acquire_until(timer_service& timers, timer_service::time_point deadline,
                                                      std::stop_token st = {});

    /** Returns the permits available now (it may change as soon as it is read).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    std::ptrdiff_t available() const noexcept { return count_.load(std::memory_order_relaxed); }

    /** Returns how many fibers and threads wait for a permit now.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    std::size_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }

private:
    detail::wake_status acquire_impl(detail::wait_deadline const& dl, std::stop_token const& st);
    static void on_give_up(detail::wait_node& n, detail::wake_batch&) noexcept;

    detail::spinlock lock_;
    detail::wait_queue waiters_;
    std::atomic<std::ptrdiff_t> count_;
    std::atomic<std::size_t> waiting_{0};
    std::ptrdiff_t const max_;
};

} // namespace spindle

#endif
