//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TIMER_HPP
#define SPINDLE_TIMER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/error.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace spindle {

class manual_clock;

namespace detail {
class timer_service_impl;

/** A move-only `void()` callable with inline storage.

    Callables up to 40 bytes that are nothrow-move-constructible (a lambda
    capturing a `shared_ptr` and a few words) are stored inline, so starting
    a timer allocates nothing beyond the service's own amortised storage;
    larger ones are allocated on the heap. Unlike `std::function` it accepts
    move-only callables (a captured promise or `unique_ptr`).
*/
class timer_callback
{
    static constexpr std::size_t capacity = 5 * sizeof(void*);

    struct ops_type
    {
        void (*call)(void*);
        // Move-constructs into `to` and destroys `from`.
        void (*relocate)(void* from, void* to) noexcept;
        void (*destroy)(void*) noexcept;
    };

    template<class F>
    static constexpr bool is_local = sizeof(F) <= capacity &&
                                     alignof(F) <= alignof(std::max_align_t) &&
                                     std::is_nothrow_move_constructible_v<F>;

    template<class F>
    struct local_ops
    {
        static void call(void* p) { (*static_cast<F*>(p))(); }
        static void relocate(void* from, void* to) noexcept
        {
            F* f = static_cast<F*>(from);
            ::new(to) F(std::move(*f));
            f->~F();
        }
        static void destroy(void* p) noexcept { static_cast<F*>(p)->~F(); }
        static constexpr ops_type table{&call, &relocate, &destroy};
    };

    template<class F>
    struct heap_ops
    {
        static void call(void* p) { (**static_cast<F**>(p))(); }
        static void relocate(void* from, void* to) noexcept { ::new(to) F*(*static_cast<F**>(from)); }
        static void destroy(void* p) noexcept { delete *static_cast<F**>(p); }
        static constexpr ops_type table{&call, &relocate, &destroy};
    };

    alignas(std::max_align_t) unsigned char storage_[capacity];
    ops_type const* ops_ = nullptr;

public:
    /// An empty callback.
    timer_callback() noexcept = default;

    /** Wraps `f`. An empty `std::function` or a null function pointer gives
        an empty callback.

        @throws std::bad_alloc if `f` does not fit inline and allocation fails.
    */
    template<class F>
        requires(!std::is_same_v<std::decay_t<F>, timer_callback> &&
                 std::is_invocable_v<std::decay_t<F>&> &&
                 std::is_constructible_v<std::decay_t<F>, F>)
    timer_callback(F&& f) // NOLINT: implicit on purpose, like std::function
    {
        using fn_type = std::decay_t<F>;
        if constexpr(std::is_constructible_v<bool, fn_type const&>)
        {
            if(!static_cast<bool>(f))
                return;
        }
        if constexpr(is_local<fn_type>)
        {
            ::new(static_cast<void*>(storage_)) fn_type(std::forward<F>(f));
            ops_ = &local_ops<fn_type>::table;
        }
        else
        {
            ::new(static_cast<void*>(storage_)) fn_type*(new fn_type(std::forward<F>(f)));
            ops_ = &heap_ops<fn_type>::table;
        }
    }

    /// Takes the callable of `other`, which becomes empty.
    timer_callback(timer_callback&& other) noexcept : ops_(other.ops_)
    {
        if(ops_)
        {
            ops_->relocate(other.storage_, storage_);
            other.ops_ = nullptr;
        }
    }

    /// Destroys the held callable, then takes the one of `other`.
    timer_callback& operator=(timer_callback&& other) noexcept
    {
        if(this != &other)
        {
            reset();
            if(other.ops_)
            {
                other.ops_->relocate(other.storage_, storage_);
                ops_ = other.ops_;
                other.ops_ = nullptr;
            }
        }
        return *this;
    }

    /// Destroys the held callable.
    ~timer_callback() { reset(); }

    /// Destroys the held callable; the callback becomes empty.
    void reset() noexcept
    {
        if(ops_)
        {
            ops_type const* ops = ops_;
            ops_ = nullptr;
            ops->destroy(storage_);
        }
    }

    /// True if a callable is held.
    explicit operator bool() const noexcept { return ops_ != nullptr; }

    /// Invokes the held callable (precondition: not empty).
    void operator()() { ops_->call(storage_); }
};

} // namespace detail

/** Identifies one timer of a @ref timer_service.

    A value-initialised id (value 0) is invalid: `start` returns it when it
    fails, and `cancel` of it returns false. An id is never reused while its
    timer is pending, and a stale id matches a later timer only after 2^32
    further timers have used the same internal slot.

    @par Thread safety
    A plain value; copies may be used from any thread.
*/
class timer_id
{
    std::uint64_t value_ = 0;

public:
    /// The invalid id.
    constexpr timer_id() noexcept = default;

    /** Wraps a raw value (for the service and for serialisation).

        @param value The raw value; 0 is the invalid id.
    */
    constexpr explicit timer_id(std::uint64_t value) noexcept : value_(value) {}

    /// @return The raw value (0 for the invalid id).
    constexpr std::uint64_t value() const noexcept { return value_; }

    /// @return True unless this is the invalid id.
    constexpr explicit operator bool() const noexcept { return value_ != 0; }

    /// Ids compare by value.
    friend constexpr bool operator==(timer_id, timer_id) noexcept = default;
    /// Ids order by value (for ordered containers; the order means nothing else).
    friend constexpr auto operator<=>(timer_id, timer_id) noexcept = default;
};

/** The one time base of an actor system: timers, ask timeouts (on a
    manual clock, and for `async_ask`), delayed sends and sleeps.

    A service runs either in real time, with one dedicated plain thread
    (never a fiber worker) that sleeps until the next deadline, or on a
    @ref manual_clock, with no thread at all: the clock's `advance` fires the
    due timers in the advancing thread. Code written against the service
    (including @ref sleep_for) therefore runs unchanged under a test clock.

    Timers are kept in a binary heap indexed by id: starting and cancelling
    cost O(log n) under one short critical section each, and allocate
    nothing for a small callback once the service has warmed up. Starting a
    timer wakes the timer thread only if it is due before the thread would
    wake anyway, so the usual `async_ask` timeout (start, then cancel) does
    not. (An `ask` whose future is waited on keeps its own deadline on the
    real clock and arms no timer here.)

    Callbacks run without any lock of the service held, so a callback may
    start and cancel timers, including its own. They should be short and must
    not block: in real-time mode they delay every later timer; they run on a
    plain thread (or the advancing thread), so they must not wait on fiber
    primitives either. An exception thrown by a callback is caught and
    counted (see @ref exceptions); it never escapes the timer thread.

    Equal deadlines fire in the order the timers were started; a periodic
    timer keeps its place in that order for all its periods.

    @par Thread safety
    All members may be called concurrently from any thread or fiber, and
    from inside callbacks, except the destructor (no other call may overlap
    it) and the sleeps (never from a callback).
*/
class timer_service
{
public:
    /// The clock the service measures real time with.
    using clock_type = std::chrono::steady_clock;
    /// A point on the service's clock (a manual clock uses the same type).
    using time_point = clock_type::time_point;
    /// Delays and periods.
    using duration = std::chrono::nanoseconds;

    /** The callback of a timer: any callable `void()` (its result, if any, is
        discarded), including move-only ones. It runs at most once per firing
        and is destroyed when the timer fires (one-shot), is cancelled, or the
        service shuts down; the destruction happens without service locks
        held.
    */
    using callback_type = detail::timer_callback;

    /** Constructs a real-time service and starts its timer thread.

        @throws std::system_error if the thread cannot be started.

        @par Thread safety
        Not applicable (construction).
    */
    SPINDLE_DECL timer_service();

    /** Constructs a service on a manual clock. It starts no thread: the
        clock's `advance` fires its timers.

        @param clock The clock; the service shares its ownership.
        @throws spindle::system_error with `error::invalid_argument` if
        `clock` is null.

        @par Thread safety
        Not applicable (construction).
    */
    SPINDLE_DECL explicit timer_service(std::shared_ptr<manual_clock> clock);

    /** Calls @ref shutdown.

        @par Thread safety
        No other member may run concurrently, except callbacks of this
        service on another thread, which are waited for.
    */
    SPINDLE_DECL ~timer_service();

    /// Not copyable: timers belong to one service.
    timer_service(timer_service const&) = delete;
    /// Not copyable: timers belong to one service.
    timer_service& operator=(timer_service const&) = delete;

    /** Returns the current time of the service's clock.

        @return `steady_clock::now()` in real-time mode, the manual clock's
        `now()` otherwise.

        @par Thread safety
        Safe to call concurrently.
    */
    SPINDLE_DECL time_point now() const noexcept;

    /** Starts a one-shot timer firing `delay` from now.

        @param delay The delay; negative counts as zero (due at once: fires as
        soon as the timer thread gets to it, or at the next advance of a
        manual clock).
        @param cb The callback.
        @param ec Set to `error::system_stopped` after @ref shutdown, or to
        `error::invalid_argument` if `cb` is empty; cleared on success.
        @return The new timer's id, or the invalid id on error.
        @throws std::bad_alloc if storage for the timer cannot be allocated.

        @par Thread safety
        Safe to call concurrently, and from callbacks.
    */
    SPINDLE_DECL timer_id start(duration delay, callback_type cb, boost::system::error_code& ec);

    /** Starts a one-shot timer firing `delay` from now.

        @param delay The delay; negative counts as zero.
        @param cb The callback.
        @return The new timer's id.
        @throws spindle::system_error with `error::system_stopped` after
        @ref shutdown or `error::invalid_argument` if `cb` is empty;
        std::bad_alloc if storage cannot be allocated.

        @par Thread safety
        Safe to call concurrently, and from callbacks.
    */
    SPINDLE_DECL timer_id start(duration delay, callback_type cb);

    /** Starts a one-shot timer firing at `deadline` on the service's clock.

        @param deadline When to fire; a past deadline is due at once.
        @param cb The callback.
        @param ec As for @ref start.
        @return The new timer's id, or the invalid id on error.
        @throws std::bad_alloc if storage cannot be allocated.

        @par Thread safety
        Safe to call concurrently, and from callbacks.
    */
    SPINDLE_DECL timer_id start_at(time_point deadline, callback_type cb, boost::system::error_code& ec);

    /** Starts a one-shot timer firing at `deadline` on the service's clock.

        @param deadline When to fire; a past deadline is due at once.
        @param cb The callback.
        @return The new timer's id.
        @throws spindle::system_error as @ref start.

        @par Thread safety
        Safe to call concurrently, and from callbacks.
    */
    SPINDLE_DECL timer_id start_at(time_point deadline, callback_type cb);

    /** Starts a periodic timer: first due `initial_delay` from now, then
        every `period` after its previous deadline (fixed rate, no drift).

        On a manual clock every period fires, so advancing over n periods
        fires n times. In real time, periods the timer thread missed (it was
        descheduled, or a callback ran long) are skipped rather than fired
        in a burst; the phase is kept.

        @param initial_delay Delay of the first firing; negative counts as zero.
        @param period The period; must be positive.
        @param cb The callback, invoked once per period (never concurrently
        with itself).
        @param ec As for @ref start; also `error::invalid_argument` if
        `period <= 0`.
        @return The new timer's id, or the invalid id on error.
        @throws std::bad_alloc if storage cannot be allocated.

        @par Thread safety
        Safe to call concurrently, and from callbacks.
    */
    SPINDLE_DECL timer_id start_periodic(duration initial_delay, duration period, callback_type cb,
                                         boost::system::error_code& ec);

    /** Starts a periodic timer (see the `error_code` overload).

        @param initial_delay Delay of the first firing; negative counts as zero.
        @param period The period; must be positive.
        @param cb The callback.
        @return The new timer's id.
        @throws spindle::system_error with `error::system_stopped` after
        @ref shutdown, `error::invalid_argument` if `period <= 0` or `cb` is
        empty; std::bad_alloc if storage cannot be allocated.

        @par Thread safety
        Safe to call concurrently, and from callbacks.
    */
    SPINDLE_DECL timer_id start_periodic(duration initial_delay, duration period, callback_type cb);

    /** Cancels a timer.

        When it returns true, the callback will not start again: a one-shot
        timer never ran, a periodic one fires no further period. Its callback
        may however be running right now on the timer thread (a periodic
        timer in the middle of a period, or any timer cancelling itself from
        its own callback); cancel does not wait for it.

        For a one-shot timer that has not been cancelled before, while the
        service runs, false means the callback has already started (it may
        still be running, or just about to be invoked by the timer thread) or
        has finished: exactly one of "cancel won" and "callback ran" happens.
        Ask timeouts rely on this. After @ref shutdown every cancel returns
        false, and callbacks that were pending never run.

        @param id The timer.
        @return True if the timer was pending (for a periodic one: not yet
        cancelled) and is now cancelled; false for an invalid or unknown id,
        a one-shot timer that already fired, or one already cancelled.

        @par Thread safety
        Safe to call concurrently, and from any callback, including the
        timer's own.
    */
    SPINDLE_DECL bool cancel(timer_id id) noexcept;

    /** Parks the calling fiber until `deadline` on this service's clock.

        Only the fiber waits (its worker thread keeps running other fibers);
        called from a plain thread, it blocks that thread. On a manual clock
        it returns once a test advances the clock to `deadline`.

        Must not be called from a timer callback (the timer that would wake it
        cannot fire while its thread waits).

        @param deadline When to wake up; a deadline already reached returns
        at once, without yielding (true unless `st` is triggered or the
        service is shut down).
        @param st A stop token; when stop is requested the sleep ends early.
        @return True if the deadline was reached; false if `st` was triggered
        (before or during the sleep) or the service is shut down (before or
        during the sleep).
        @throws std::bad_alloc if the sleep's state cannot be allocated.

        @par Thread safety
        Safe to call concurrently from any number of fibers and threads.
    */
    SPINDLE_DECL bool sleep_until(time_point deadline, std::stop_token st = {});

    /** Parks the calling fiber for `d` on this service's clock.

        @param d How long; zero or negative returns at once (true unless
        `st` is triggered or the service is shut down).
        @param st A stop token; when stop is requested the sleep ends early.
        @return As @ref sleep_until.
        @throws std::bad_alloc if the sleep's state cannot be allocated.

        @par Thread safety
        Safe to call concurrently from any number of fibers and threads.
    */
    SPINDLE_DECL bool sleep_for(duration d, std::stop_token st = {});

    /** Stops the service: cancels every pending timer (their callbacks are
        destroyed without being invoked; sleeps return false), refuses
        further starts with `error::system_stopped`, waits for a callback
        running on another thread to return, and joins the timer thread.

        Idempotent. Called from inside a callback of this service, it does
        not wait for that callback (it is the caller); the timer thread then
        ends once the callback returns.

        @par Thread safety
        Safe to call concurrently and from callbacks. It blocks the calling
        thread (not only the fiber) while it waits.
    */
    SPINDLE_DECL void shutdown() noexcept;

    /** Tells whether @ref shutdown has been called.

        @par Thread safety
        Safe to call concurrently.
    */
    SPINDLE_DECL bool stopped() const noexcept;

    /** Returns the number of timers that may still fire: one-shot timers not
        yet fired or cancelled and periodic timers not cancelled.

        @par Thread safety
        Safe to call concurrently (the value may be stale on return).
    */
    SPINDLE_DECL std::size_t pending() const noexcept;

    /** Returns how many exceptions callbacks have thrown (and the service
        has caught) since construction.

        @par Thread safety
        Safe to call concurrently.
    */
    SPINDLE_DECL std::uint64_t exceptions() const noexcept;

private:
    std::shared_ptr<detail::timer_service_impl> impl_;
};

} // namespace spindle

/// Hashes a @ref spindle::timer_id by its value.
template<>
struct std::hash<spindle::timer_id>
{
    /// @return The hash of `id.value()`.
    std::size_t operator()(spindle::timer_id id) const noexcept { return std::hash<std::uint64_t>{}(id.value()); }
};

#endif
