//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_CHANNEL_HPP
#define SPINDLE_CHANNEL_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>
#include <spindle/timer.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <ostream>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace spindle {

/** What a channel operation did, in the manner of
    `boost::fibers::channel_op_status` (plus `cancelled`).
*/
enum class channel_status
{
    success = 1, ///< the value was pushed or popped
    empty,       ///< `try_pop`: nothing to pop, and the channel is open
    full,        ///< `try_push`: no room
    closed,      ///< push: the channel is closed; pop: closed and drained
    timeout,     ///< the deadline passed first
    cancelled    ///< the stop token was triggered first
};

/** Writes the enumerator's name (`success`, `empty`, ...).

    @param os The stream.
    @param s The status.
    @return `os`.
*/
inline std::ostream& operator<<(std::ostream& os, channel_status s)
{
    switch(s)
    {
    case channel_status::success:
        return os << "success";
    case channel_status::empty:
        return os << "empty";
    case channel_status::full:
        return os << "full";
    case channel_status::closed:
        return os << "closed";
    case channel_status::timeout:
        return os << "timeout";
    case channel_status::cancelled:
        return os << "cancelled";
    }
    return os << "channel_status(" << static_cast<int>(s) << ")";
}

/** A multi-producer multi-consumer channel for fibers and plain threads,
    bounded or unbounded.

    A bounded channel holds exactly `capacity` values (any capacity from 1:
    Boost.Fiber's `buffered_channel` needs a power of two and holds one less).
    A push waits while the channel is full, a pop while it is empty; waiting
    parks only the calling fiber (a plain thread blocks). Waiters are served
    in arrival order, and a value pushed while a consumer waits is handed to
    that consumer directly.

    @ref close ends the channel: pushes fail with `closed` at once, pops
    return the values still buffered and then `closed`, and every waiter is
    released. Closing is idempotent.

    A push never loses its value: it is moved from only when the push
    succeeds, so on `full`, `closed`, `timeout` or `cancelled` the caller
    still has it.

    Waits can be bounded by a deadline on the steady clock or on a
    @ref timer_service (a manual clock in tests) and ended by a
    `std::stop_token`, which is checked only when the call would wait.

    @tparam T The value type; must be nothrow move constructible (values
    move under the channel's lock).

    @par Example
    @code
    spindle::channel<job> jobs(64);
    // producers:  if(jobs.push(std::move(j)) == spindle::channel_status::closed) return;
    // consumers:
    job j;
    while(jobs.pop(j) == spindle::channel_status::success)
        run(j);
    @endcode

    @par Thread safety
    All members may be called concurrently from any fiber or thread, except
    the destructor: no call may be in progress when the channel is destroyed.
*/
template<class T>
class channel
{
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "spindle::channel<T>: T must be nothrow move constructible");
    static_assert(!std::is_reference_v<T> && std::is_same_v<T, std::remove_cv_t<T>>,
                  "spindle::channel<T>: T must be a non-const object type");

public:
    /// The type of the values.
    using value_type = T;

    /// The capacity of an unbounded channel.
    static constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();

    /** Constructs an open channel.

        @param capacity How many values it holds; @ref unbounded (the
        default) for no limit.
        @throws spindle::system_error with `error::invalid_argument` if
        `capacity` is zero (a channel without room could never accept a
        value).
    */
    explicit channel(std::size_t capacity = unbounded) : capacity_(capacity)
    {
        if(capacity == 0)
            detail::throw_error(error::invalid_argument,
                                "spindle::channel: capacity must be at least 1 (channel<T>::unbounded for no limit)");
    }

    /// Not copyable: producers and consumers refer to one channel by identity.
    channel(channel const&) = delete;
    /// Not copyable: producers and consumers refer to one channel by identity.
    channel& operator=(channel const&) = delete;

    /** Returns the capacity given at construction.

        @par Thread safety
        Safe to call concurrently.
    */
    std::size_t capacity() const noexcept { return capacity_; }

    /** Returns how many values are buffered now (it may change as soon as it
        is read).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    std::size_t size() const noexcept
    {
        std::lock_guard<detail::spinlock> lk(lock_);
        return buffer_.size();
    }

    /** Tells whether @ref close has been called.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    bool is_closed() const noexcept
    {
        std::lock_guard<detail::spinlock> lk(lock_);
        return closed_;
    }

    /** Closes the channel: later pushes fail, pops drain what is buffered,
        every waiting push returns `closed` (keeping its value) and every
        waiting pop returns `closed`. Idempotent; never waits.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    void close() noexcept
    {
        detail::wake_batch released;
        std::lock_guard<detail::spinlock> lk(lock_);
        closed_ = true;
        released.complete_all(pushers_, detail::wake_status::closed);
        released.complete_all(poppers_, detail::wake_status::closed);
    }

    /** Pushes `v`, waiting while the channel is full.

        @param v The value (or the arguments of one: anything `T` can be
        constructed from); an rvalue `T` is moved from only on success.
        @return `success` or `closed`.
        @throws std::bad_alloc if the buffer cannot grow.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    template<class U>
        requires std::constructible_from<T, U&&>
    channel_status push(U&& v)
    {
        return push_any(std::forward<U>(v), detail::wait_deadline::never(), {}, true);
    }

    /** Pushes `v`, waiting while the channel is full, until a stop request.

        @param v The value; an rvalue `T` is moved from only on success.
        @param st The stop token; checked only when the push would wait.
        @return `success`, `closed` or `cancelled`.
        @throws std::bad_alloc if the buffer cannot grow.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    template<class U>
        requires std::constructible_from<T, U&&>
    channel_status push(U&& v, std::stop_token st)
    {
        return push_any(std::forward<U>(v), detail::wait_deadline::never(), st, true);
    }

    /** Pushes `v` if there is room. Never waits.

        @param v The value; an rvalue `T` is moved from only on success.
        @return `success`, `full` or `closed`.
        @throws std::bad_alloc if the buffer cannot grow.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    template<class U>
        requires std::constructible_from<T, U&&>
    channel_status try_push(U&& v)
    {
        return push_any(std::forward<U>(v), detail::wait_deadline::never(), {}, false);
    }

    /** Pushes `v`, waiting at most `d` (steady clock) for room.

        @param v The value; an rvalue `T` is moved from only on success.
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws std::bad_alloc if the buffer cannot grow.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    template<class U>
        requires std::constructible_from<T, U&&>
    channel_status push_for(U&& v, std::chrono::nanoseconds d, std::stop_token st = {})
    {
        return push_any(std::forward<U>(v), detail::wait_deadline::after(d), st, true);
    }

    /** Pushes `v`, waiting until `deadline` (steady clock) for room.

        @param v The value; an rvalue `T` is moved from only on success.
        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws std::bad_alloc if the buffer cannot grow.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    template<class U>
        requires std::constructible_from<T, U&&>
    channel_status push_until(U&& v, std::chrono::steady_clock::time_point deadline, std::stop_token st = {})
    {
        return push_any(std::forward<U>(v), detail::wait_deadline::at(deadline), st, true);
    }

    /** Pushes `v`, waiting at most `d` on `timers`' clock for room.

        @param v The value; an rvalue `T` is moved from only on success.
        @param timers The time base (a manual clock in tests).
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws std::bad_alloc if the buffer cannot grow or the timeout
        cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    template<class U>
        requires std::constructible_from<T, U&&>
    channel_status push_for(U&& v, timer_service& timers, std::chrono::nanoseconds d, std::stop_token st = {})
    {
        return push_any(std::forward<U>(v), detail::wait_deadline::after(timers, d), st, true);
    }

    /** Pushes `v`, waiting until `deadline` on `timers`' clock for room.

        @param v The value; an rvalue `T` is moved from only on success.
        @param timers The time base (a manual clock in tests).
        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws std::bad_alloc if the buffer cannot grow or the timeout
        cannot be armed.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    template<class U>
        requires std::constructible_from<T, U&&>
    channel_status push_until(U&& v, timer_service& timers, timer_service::time_point deadline,
                              std::stop_token st = {})
    {
        return push_any(std::forward<U>(v), detail::wait_deadline::at(timers, deadline), st, true);
    }

    /** Pops the oldest value into `out`, waiting while the channel is empty.

        @param out Receives the value (move-assigned) on success; untouched
        otherwise.
        @return `success`, or `closed` once the channel is closed and drained.
        @throws Whatever `T`'s move assignment throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    channel_status pop(T& out) { return pop_into(out, detail::wait_deadline::never(), {}, true); }

    /** Pops the oldest value into `out`, waiting while the channel is empty,
        until a stop request.

        @param out Receives the value on success; untouched otherwise.
        @param st The stop token; checked only when the pop would wait.
        @return `success`, `closed` or `cancelled`.
        @throws Whatever `T`'s move assignment throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    channel_status pop(T& out, std::stop_token st) { return pop_into(out, detail::wait_deadline::never(), st, true); }

    /** Pops the oldest value into `out` if there is one. Never waits.

        @param out Receives the value on success; untouched otherwise.
        @return `success`, `empty`, or `closed` once closed and drained.
        @throws Whatever `T`'s move assignment throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    channel_status try_pop(T& out) { return pop_into(out, detail::wait_deadline::never(), {}, false); }

    /** Pops the oldest value into `out`, waiting at most `d` (steady clock).

        @param out Receives the value on success; untouched otherwise.
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws Whatever `T`'s move assignment throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    channel_status pop_for(T& out, std::chrono::nanoseconds d, std::stop_token st = {})
    {
        return pop_into(out, detail::wait_deadline::after(d), st, true);
    }

    /** Pops the oldest value into `out`, waiting until `deadline` (steady clock).

        @param out Receives the value on success; untouched otherwise.
        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws Whatever `T`'s move assignment throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    channel_status pop_until(T& out, std::chrono::steady_clock::time_point deadline, std::stop_token st = {})
    {
        return pop_into(out, detail::wait_deadline::at(deadline), st, true);
    }

    /** Pops the oldest value into `out`, waiting at most `d` on `timers`' clock.

        @param out Receives the value on success; untouched otherwise.
        @param timers The time base (a manual clock in tests).
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws std::bad_alloc if the timeout cannot be armed; whatever
        `T`'s move assignment throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    channel_status pop_for(T& out, timer_service& timers, std::chrono::nanoseconds d, std::stop_token st = {})
    {
        return pop_into(out, detail::wait_deadline::after(timers, d), st, true);
    }

    /** Pops the oldest value into `out`, waiting until `deadline` on
        `timers`' clock.

        @param out Receives the value on success; untouched otherwise.
        @param timers The time base (a manual clock in tests).
        @param deadline When to give up.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws std::bad_alloc if the timeout cannot be armed; whatever
        `T`'s move assignment throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    channel_status pop_until(T& out, timer_service& timers, timer_service::time_point deadline,
                             std::stop_token st = {})
    {
        return pop_into(out, detail::wait_deadline::at(timers, deadline), st, true);
    }

    /** Pops the oldest value, waiting while the channel is empty.

        @return The value.
        @throws spindle::system_error with `error::cancelled` if `st` ended
        the wait, or with `boost::system::errc::broken_pipe` ("closed") once
        the channel is closed and drained.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    T value_pop(std::stop_token st = {})
    {
        std::optional<T> v;
        switch(pop_impl(v, detail::wait_deadline::never(), st, true))
        {
        case channel_status::success:
            return std::move(*v);
        case channel_status::cancelled:
            detail::throw_error(error::cancelled, "spindle::channel::value_pop");
        default:
            detail::throw_error(make_error_code(boost::system::errc::broken_pipe),
                                "spindle::channel::value_pop: channel closed");
        }
    }

private:
    template<class U>
    channel_status push_any(U&& v, detail::wait_deadline const& dl, std::stop_token const& st, bool wait)
    {
        if constexpr(std::is_same_v<U&&, T&&>)
        {
            return push_impl(v, dl, st, wait);
        }
        else
        {
            // an lvalue or another type: push a copy, the caller's value stays as it was
            T tmp(std::forward<U>(v));
            return push_impl(tmp, dl, st, wait);
        }
    }

    channel_status push_impl(T& v, detail::wait_deadline const& dl, std::stop_token const& st, bool wait)
    {
        detail::wake_batch consumer;
        std::unique_lock<detail::spinlock> lk(lock_);
        if(closed_)
            return channel_status::closed;
        if(detail::wait_node* n = poppers_.front())
        {
            // a consumer waits, so the buffer is empty: hand the value over
            static_cast<std::optional<T>*>(n->payload_)->emplace(std::move(v));
            consumer.complete(*n, detail::wake_status::done);
            return channel_status::success;
        }
        if(buffer_.size() < capacity_)
        {
            buffer_.push_back(std::move(v)); // strong guarantee: on bad_alloc `v` is intact
            return channel_status::success;
        }
        if(!wait)
            return channel_status::full;
        detail::wait_node n;
        n.lock_ = &lock_;
        n.payload_ = &v; // a consumer moves it into the buffer when it makes room
        pushers_.push_back(n);
        return to_status(detail::park(lk, n, dl, st));
    }

    channel_status pop_into(T& out, detail::wait_deadline const& dl, std::stop_token const& st, bool wait)
    {
        std::optional<T> v;
        channel_status const s = pop_impl(v, dl, st, wait);
        if(s == channel_status::success)
            out = std::move(*v);
        return s;
    }

    channel_status pop_impl(std::optional<T>& out, detail::wait_deadline const& dl, std::stop_token const& st,
                            bool wait)
    {
        detail::wake_batch producer;
        std::unique_lock<detail::spinlock> lk(lock_);
        if(!buffer_.empty())
        {
            if(detail::wait_node* n = pushers_.front())
            {
                // A producer waits for room: its value takes the freed slot.
                // Appended first, so a failed allocation changes nothing.
                buffer_.push_back(std::move(*static_cast<T*>(n->payload_)));
                producer.complete(*n, detail::wake_status::done);
            }
            out.emplace(std::move(buffer_.front()));
            buffer_.pop_front();
            return channel_status::success;
        }
        if(closed_)
            return channel_status::closed;
        if(!wait)
            return channel_status::empty;
        detail::wait_node n;
        n.lock_ = &lock_;
        n.payload_ = &out; // a producer emplaces its value here
        poppers_.push_back(n);
        return to_status(detail::park(lk, n, dl, st));
    }

    static channel_status to_status(detail::wake_status s) noexcept
    {
        switch(s)
        {
        case detail::wake_status::done:
            return channel_status::success;
        case detail::wake_status::closed:
            return channel_status::closed;
        case detail::wake_status::cancelled:
            return channel_status::cancelled;
        default:
            return channel_status::timeout;
        }
    }

    mutable detail::spinlock lock_;
    detail::wait_queue pushers_;
    detail::wait_queue poppers_;
    std::deque<T> buffer_;
    std::size_t const capacity_;
    bool closed_ = false;
};

} // namespace spindle

#endif
