//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_MANUAL_CLOCK_HPP
#define SPINDLE_MANUAL_CLOCK_HPP

#include <spindle/detail/config.hpp>
#include <spindle/error.hpp>

#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

namespace spindle {

namespace detail {
class timer_service_impl;
} // namespace detail

/** A clock that moves only when a test tells it to.

    A @ref timer_service constructed with a `manual_clock` has no thread of
    its own: its timers fire inside @ref advance and @ref advance_to, in the
    calling thread, so time-dependent behaviour (timeouts, periodic ticks,
    delayed sends, sleeps) is tested without sleeping and without races
    against the wall clock.

    Advancing fires every due timer of every service attached to the clock,
    in deadline order (equal deadlines in the order the timers were started),
    and while a callback runs `now()` equals that timer's deadline. Hence a
    periodic timer advanced over ten periods fires exactly ten times, and a
    callback that starts a timer due within the advanced range sees it fire
    in the same advance.

    The clock never goes backwards. A timer started with a deadline that has
    already passed fires at the next advance (even `advance(0ns)`), while
    `now()` stays where it is.

    Create it with `std::make_shared`; each attached service shares
    ownership of it.

    @par Thread safety
    All members may be called concurrently. Concurrent advances are
    serialised (the later one blocks its thread until the earlier one has
    returned); a timer callback may itself call `advance` (the nested
    advance runs in the same thread). Other threads may read `now()` and
    start or cancel timers while one thread advances.
*/
class manual_clock
{
public:
    /// The clock whose time points this clock produces.
    using clock_type = std::chrono::steady_clock;
    /// A point on this clock.
    using time_point = clock_type::time_point;
    /// The resolution of this clock.
    using duration = std::chrono::nanoseconds;

    static_assert(std::is_same_v<clock_type::duration, duration>,
                  "spindle assumes steady_clock counts nanoseconds");

    /// Where a default-constructed clock starts: an arbitrary fixed point,
    /// one hour after the steady clock's epoch (so `now() - 1min` is valid).
    static constexpr time_point default_epoch = time_point{} + std::chrono::hours(1);

    /** Constructs a clock reading @ref default_epoch.

        @par Thread safety
        Not applicable (construction).
    */
    manual_clock() noexcept : manual_clock(default_epoch) {}

    /** Constructs a clock reading `start`.

        @param start The initial value of `now()`.

        @par Thread safety
        Not applicable (construction).
    */
    explicit manual_clock(time_point start) noexcept : now_(start.time_since_epoch().count()) {}

    /// Not copyable: services refer to one clock by identity.
    manual_clock(manual_clock const&) = delete;
    /// Not copyable: services refer to one clock by identity.
    manual_clock& operator=(manual_clock const&) = delete;

    /** Returns the current time of this clock.

        @return The time set by the last advance; inside a timer callback
        fired by an advance, that timer's deadline.

        @par Thread safety
        May be called concurrently with anything, including from callbacks.
    */
    time_point now() const noexcept { return time_point(duration(now_.load(std::memory_order_acquire))); }

    /** Moves the clock forward by `d`, firing every timer that falls due.

        Equivalent to `advance_to(now() + d)` evaluated after any concurrent
        advance has finished. Callbacks run in the calling thread; an
        exception from a callback is contained by its service.

        @param d How far to move; must not be negative.
        @param ec Set to `error::invalid_argument` if `d` is negative
        (nothing happens then), cleared otherwise.

        @par Thread safety
        Serialised with other advances; blocks the calling thread (not only
        the fiber) while another thread advances.
    */
    SPINDLE_DECL void advance(duration d, boost::system::error_code& ec);

    /** Moves the clock forward by `d`, firing every timer that falls due.

        @param d How far to move; must not be negative.
        @throws spindle::system_error with `error::invalid_argument` if `d`
        is negative.

        @par Thread safety
        As the `error_code` overload.
    */
    SPINDLE_DECL void advance(duration d);

    /** Moves the clock forward to `t`, firing every timer due at or before `t`.

        @param t The new time; must not be earlier than `now()`. Equal to
        `now()` fires the timers that are already due without moving time.
        @param ec Set to `error::invalid_argument` if `t < now()` (nothing
        happens then), cleared otherwise.

        @par Thread safety
        As @ref advance.
    */
    SPINDLE_DECL void advance_to(time_point t, boost::system::error_code& ec);

    /** Moves the clock forward to `t`, firing every timer due at or before `t`.

        @param t The new time; must not be earlier than `now()`.
        @throws spindle::system_error with `error::invalid_argument` if
        `t < now()`.

        @par Thread safety
        As @ref advance.
    */
    SPINDLE_DECL void advance_to(time_point t);

private:
    friend class detail::timer_service_impl;

    // Used by timer_service_impl only.
    void attach(std::weak_ptr<detail::timer_service_impl> service);
    std::uint64_t next_sequence() noexcept { return sequence_.fetch_add(1, std::memory_order_relaxed); }
    void raise_now(std::int64_t ns) noexcept;
    void advance_locked(std::int64_t target);

    std::atomic<std::int64_t> now_;
    // One counter for every service on this clock, so equal deadlines of
    // different services still fire in the order the timers were started.
    std::atomic<std::uint64_t> sequence_{0};
    // Recursive because a callback fired by an advance may advance again.
    std::recursive_mutex advance_mutex_;
    std::mutex services_mutex_;
    std::vector<std::weak_ptr<detail::timer_service_impl>> services_;
};

} // namespace spindle

#endif
