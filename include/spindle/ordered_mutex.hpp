//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ORDERED_MUTEX_HPP
#define SPINDLE_ORDERED_MUTEX_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>
#include <spindle/timer.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <stop_token>
#include <string>
#include <string_view>

namespace spindle {

/** A fiber-aware timed mutex with a declared lock order.

    Each mutex has a name and a level. A fiber may acquire a mutex only
    while every mutex it already holds has a *lower* level, so locks are
    always taken in increasing level order and two fibers can never wait
    for each other in a cycle. Acquiring out of order (or re-acquiring a
    mutex the fiber holds) is reported as an error at once, naming both
    mutexes, instead of deadlocking some day under load:
    `boost::system::errc::resource_deadlock_would_occur`, the code
    `std::mutex` uses for the same condition. Releasing may happen in any
    order.

    Waiting parks only the calling fiber (a plain thread blocks); waiters
    are served in arrival order and an unlock hands ownership directly to
    the oldest waiter. Lock attempts may be bounded by a deadline on the
    steady clock or on a @ref timer_service (a manual clock in tests) and
    ended by a `std::stop_token`.

    The order is tracked per fiber: per Boost.Fiber context, which for a
    plain thread is the thread. An actor's handler runs on a runner fiber
    that goes on to run other actors' handlers, so a handler must release
    what it locked before it returns.

    It meets the *TimedLockable* requirements, so `std::unique_lock` and
    `std::scoped_lock` work with it (`std::lock` of several ordered
    mutexes may try them out of order: lock them one by one, by level).

    @par Example
    @code
    spindle::ordered_mutex accounts("accounts", 1);
    spindle::ordered_mutex journal("journal", 2);
    std::unique_lock a(accounts);
    std::unique_lock j(journal);       // fine: 1 then 2
    // locking `accounts` while holding only `journal` throws
    // system_error(resource_deadlock_would_occur) naming both
    @endcode

    @par Thread safety
    All members may be called concurrently from any fiber or thread, except
    the destructor: the mutex must be unlocked and no call may be in
    progress when it is destroyed.
*/
class ordered_mutex
{
public:
    /** Constructs an unlocked mutex.

        @param name Names the mutex in error messages.
        @param level Its place in the lock order: a fiber holding mutexes
        may only lock one with a higher level than all of them.
    */
    SPINDLE_DECL ordered_mutex(std::string name, unsigned level);

    /// Not copyable: owners refer to one mutex by identity.
    ordered_mutex(ordered_mutex const&) = delete;
    /// Not copyable: owners refer to one mutex by identity.
    ordered_mutex& operator=(ordered_mutex const&) = delete;

    /** Returns the name given at construction.

        @par Thread safety
        Safe to call concurrently.
    */
    std::string const& name() const noexcept { return name_; }

    /** Returns the level given at construction.

        @par Thread safety
        Safe to call concurrently.
    */
    unsigned level() const noexcept { return level_; }

    /** Locks the mutex, waiting as long as it takes.

        @throws spindle::system_error with
        `errc::resource_deadlock_would_occur`, naming both mutexes, if the
        calling fiber holds a mutex of the same or a higher level (or this
        one); nothing waits then.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void lock();

    /** Locks the mutex, waiting as long as it takes.

        @param ec Set to `errc::resource_deadlock_would_occur` on an order
        violation (nothing locked); cleared when locked.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void lock(boost::system::error_code& ec);

    /** Locks the mutex, waiting until it is free or a stop is requested.

        @param st The stop token; checked only when the call would wait.
        @param ec Set to `errc::resource_deadlock_would_occur` on an order
        violation, `error::cancelled` if the stop request ended the wait
        (nothing locked either way); cleared when locked.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void lock(std::stop_token st, boost::system::error_code& ec);

    /** Locks the mutex, waiting until it is free or a stop is requested.

        @param st The stop token; checked only when the call would wait.
        @throws spindle::system_error with `errc::resource_deadlock_would_occur`
        (naming both mutexes) on an order violation, or `error::cancelled` if
        the stop request ended the wait.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void lock(std::stop_token st);

    /** Locks the mutex if it is free. Never waits.

        An out-of-order attempt is an error even though it could not
        deadlock: the declared order is the rule, whatever the call.

        @return True if locked.
        @throws spindle::system_error with `errc::resource_deadlock_would_occur`
        on an order violation.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_lock();

    /** Locks the mutex if it is free. Never waits.

        @param ec Set to `errc::resource_deadlock_would_occur` on an order
        violation; cleared otherwise.
        @return True if locked.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_lock(boost::system::error_code& ec);

    /** Locks the mutex, waiting at most `d` (steady clock).

        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return True if locked; false on timeout or stop request (check `st`
        to tell them apart).
        @throws spindle::system_error with `errc::resource_deadlock_would_occur`
        on an order violation.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_lock_for(std::chrono::nanoseconds d, std::stop_token st = {});

    /** Locks the mutex, waiting until `deadline` (steady clock).

        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return True if locked; false on timeout or stop request.
        @throws spindle::system_error with `errc::resource_deadlock_would_occur`
        on an order violation.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_lock_until(std::chrono::steady_clock::time_point deadline,
                                                   std::stop_token st = {});

    /** Locks the mutex, waiting at most `d` on `timers`' clock.

        @param timers The time base (a manual clock in tests).
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return True if locked; false on timeout or stop request.
        @throws spindle::system_error with `errc::resource_deadlock_would_occur`
        on an order violation; std::bad_alloc if the timeout cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_lock_for(timer_service& timers, std::chrono::nanoseconds d,
                                                 std::stop_token st = {});

    /** Locks the mutex, waiting until `deadline` on `timers`' clock.

        @param timers The time base (a manual clock in tests).
        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return True if locked; false on timeout or stop request.
        @throws spindle::system_error with `errc::resource_deadlock_would_occur`
        on an order violation; std::bad_alloc if the timeout cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_lock_until(timer_service& timers, timer_service::time_point deadline,
                                                   std::stop_token st = {});

    /** Locks the mutex, waiting at most `d` (steady clock), reporting an
        order violation through `ec`.

        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @param ec Set to `errc::resource_deadlock_would_occur` on an order
        violation; cleared otherwise.
        @return True if locked; false on timeout, stop request or error.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_lock_for(std::chrono::nanoseconds d, std::stop_token st,
                                                 boost::system::error_code& ec);

    /** Locks the mutex, waiting at most `d` on `timers`' clock, reporting
        an order violation through `ec`.

        @param timers The time base (a manual clock in tests).
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @param ec Set to `errc::resource_deadlock_would_occur` on an order
        violation; cleared otherwise.
        @return True if locked; false on timeout, stop request or error.
        @throws std::bad_alloc if the timeout cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    [[nodiscard]] SPINDLE_DECL bool try_lock_for(timer_service& timers, std::chrono::nanoseconds d,
                                                 std::stop_token st, boost::system::error_code& ec);

    /** Unlocks the mutex, handing it to the oldest waiter if there is one.

        @param ec Set to `errc::operation_not_permitted` (and nothing
        changes) if the calling fiber does not hold the mutex; cleared
        otherwise.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void unlock(boost::system::error_code& ec) noexcept;

    /** Unlocks the mutex, handing it to the oldest waiter if there is one.

        @throws spindle::system_error with `errc::operation_not_permitted`
        if the calling fiber does not hold the mutex.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL void unlock();

    /** Tells whether the calling fiber holds this mutex.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL bool held() const noexcept;

private:
    bool lock_impl(detail::wait_deadline const& dl, std::stop_token const& st, bool wait,
                   boost::system::error_code& ec, std::string* what);
    bool lock_or_throw(detail::wait_deadline const& dl, std::stop_token const& st, bool wait, char const* op);

    mutable detail::spinlock lock_;
    detail::wait_queue waiters_;
    void const* owner_ = nullptr; // the owning Boost.Fiber context
    std::string const name_;
    unsigned const level_;
};

} // namespace spindle

#endif
