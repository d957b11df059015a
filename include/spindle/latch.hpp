//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_LATCH_HPP
#define SPINDLE_LATCH_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>
#include <spindle/timer.hpp>

#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <stop_token>

namespace spindle {

/** A single-use countdown latch that fibers and plain threads can wait on.

    The counter starts at the value given to the constructor; @ref count_down
    decrements it, and once it reaches zero every waiter is released and
    later waits return at once. It cannot be reset. Boost.Fiber 1.81 has no
    latch; this one parks only the waiting fiber (a plain thread blocks) and
    its waits honour a `std::stop_token` and a deadline, either on the
    steady clock or on a @ref timer_service (so a manual clock drives it in
    tests).

    @par Example
    @code
    spindle::latch done(3);
    for(int i = 0; i < 3; ++i)
        workers[i].tell(job{&done});   // each handler calls done.count_down()
    done.wait();                       // parks this fiber until all three ran
    @endcode

    @par Thread safety
    All members may be called concurrently from any fiber or thread, except
    the destructor: no call may be in progress when the latch is destroyed.
    A waiter may destroy the latch as soon as its wait has returned.
*/
class latch
{
public:
    /** Constructs a latch expecting `count` arrivals.

        @param count The initial counter; zero gives a latch that is already
        open.
        @throws spindle::system_error with `error::invalid_argument` if
        `count` is negative.
    */
    SPINDLE_DECL explicit latch(std::ptrdiff_t count);

    /// Not copyable: waiters refer to one latch by identity.
    latch(latch const&) = delete;
    /// Not copyable: waiters refer to one latch by identity.
    latch& operator=(latch const&) = delete;

    /** Decrements the counter by `n`, releasing every waiter when it reaches
        zero. Never waits.

        @param n How much to decrement; must be in `[0, count()]`.
        @param ec Set to `error::invalid_argument` (and nothing changes) if
        `n` is negative or larger than the counter; cleared otherwise.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void count_down(std::ptrdiff_t n, boost::system::error_code& ec) noexcept;

    /** Decrements the counter by `n`, releasing every waiter when it reaches
        zero. Never waits.

        @param n How much to decrement; must be in `[0, count()]`.
        @throws spindle::system_error with `error::invalid_argument` if `n` is
        negative or larger than the counter (nothing changes then).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void count_down(std::ptrdiff_t n = 1);

    /** Tells whether the counter has reached zero. Never waits.

        @return True if the latch is open. After true the latch may be
        destroyed, even while the thread that opened it is still returning
        from `count_down`.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    bool try_wait() const noexcept
    {
        if(count_.load(std::memory_order_acquire) != 0)
            return false;
        // The opener stores zero under the lock: taking it once guarantees
        // the opener has left the object.
        std::lock_guard<detail::spinlock> lk(lock_);
        return true;
    }

    /** Returns the current counter (it may change as soon as it is read).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    std::ptrdiff_t count() const noexcept { return count_.load(std::memory_order_acquire); }

    /** Waits until the counter reaches zero.

        Parks the calling fiber; blocks a plain thread.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void wait() const;

    /** Waits until the counter reaches zero or a stop is requested.

        @param st The stop token; a stop already requested returns at once
        (unless the latch is open).
        @param ec Set to `error::cancelled` if the wait ended by the stop
        request; cleared if the latch opened.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void wait(std::stop_token st, boost::system::error_code& ec) const;

    /** Waits until the counter reaches zero or a stop is requested.

        @param st The stop token.
        @throws spindle::system_error with `error::cancelled` if the wait
        ended by the stop request.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void wait(std::stop_token st) const;

    /** Waits at most `d` (steady clock) for the counter to reach zero.

        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return True if the latch is open; false on timeout or stop request
        (check `st` to tell them apart).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool wait_for(std::chrono::nanoseconds d, std::stop_token st = {}) const;

    /** Waits until `deadline` (steady clock) for the counter to reach zero.

        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return True if the latch is open; false on timeout or stop request.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool wait_until(std::chrono::steady_clock::time_point deadline,
                                               std::stop_token st = {}) const;

    /** Waits at most `d`, measured on `timers`' clock, for the counter to
        reach zero.

        @param timers The time base (a manual clock in tests).
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return True if the latch is open; false on timeout or stop request.
        @throws std::bad_alloc if the timeout cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool wait_for(timer_service& timers, std::chrono::nanoseconds d,
                                             std::stop_token st = {}) const;

    /** Waits until `deadline` on `timers`' clock for the counter to reach zero.

        @param timers The time base (a manual clock in tests).
        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return True if the latch is open; false on timeout or stop request.
        @throws std::bad_alloc if the timeout cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool wait_until(timer_service& timers, timer_service::time_point deadline,
                                               std::stop_token st = {}) const;

    /** Decrements the counter by `n`, then waits until it reaches zero.

        @param n How much to decrement; must be in `[0, count()]`.
        @throws spindle::system_error with `error::invalid_argument` for a bad
        `n` (nothing changes and nothing waits then).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void arrive_and_wait(std::ptrdiff_t n = 1);

private:
    detail::wake_status wait_impl(detail::wait_deadline const& dl, std::stop_token const& st) const;

    mutable detail::spinlock lock_;
    mutable detail::wait_queue waiters_;
    std::atomic<std::ptrdiff_t> count_;
};

} // namespace spindle

#endif
