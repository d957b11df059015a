//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ASK_HPP
#define SPINDLE_ASK_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/reply.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>

#include <boost/intrusive_ptr.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

namespace spindle {

namespace detail {

/** The reply state behind an @ref ask_future: the reply and at most one
    parked waiter, under one spinlock. Waiting goes through core's one
    parking primitive (`detail::park`), which parks a fiber or blocks a
    plain thread, takes a stop token, and holds the one fix for
    Boost.Fiber #319 (a waker still inside `notify` when the waiter leaves).

    On a system with the real clock the ask's timeout is the waiter's own
    deadline (`deadline_`), not a timer of the service: the asking side
    pays neither the service's lock nor its heap. Whoever waits gives up at
    the deadline and completes the ask with `ask_timeout`; a reply that
    arrives after the deadline while no one waits is stored as
    `ask_timeout` too, as if a timer had fired first; a future dropped
    unwaited abandons the ask (`cancelled`), so nothing keeps its state
    alive for a reply that never comes. With a manual clock the timeout
    stays a timer of the service (armed by `send_ask`), so a test that
    advances the clock sees it fire.
*/
template<class R>
class promise_reply final : public reply_state<R>
{
    mutable spinlock lock_;
    mutable wait_queue waiters_;
    std::optional<boost::system::result<R>> value_; // set once, under lock_
    wait_deadline deadline_; // the waiter's deadline; never when a timer is armed

    static bool from_waiter(boost::system::result<R> const& r) noexcept
    {
        return !r && (r.error() == error::ask_timeout || r.error() == error::cancelled);
    }

    void deliver(boost::system::result<R>&& r) noexcept override
    {
        wake_batch woken; // wakes after the guard below unlocks
        std::lock_guard<spinlock> lk(lock_);
        if(waiters_.empty() && deadline_.kind_ != wait_deadline::kind::none && !from_waiter(r) &&
           deadline_.passed()) [[unlikely]]
            value_.emplace(boost::system::in_place_error, error::ask_timeout); // too late, as a timer would have said
        else
            value_.emplace(std::move(r));
        woken.complete_all(waiters_, wake_status::done);
    }

    /// Parks until the reply is there: `done`, or `timeout` / `cancelled`
    /// if `dl` passed or `st` was triggered first.
    wake_status park_until_ready(std::stop_token const& st, wait_deadline const& dl) const
    {
        std::unique_lock<spinlock> lk(lock_);
        while(!value_)
        {
            wait_node n;
            n.lock_ = &lock_;
            waiters_.push_back(n);
            auto const s = park(lk, n, dl, st);
            if(s == wake_status::cancelled || s == wake_status::timeout)
                return s;
            lk.lock();
        }
        return wake_status::done;
    }

    /// Waits until the value is there; a deadline or a stop that comes
    /// first completes the ask with its error.
    void settle(std::stop_token const& st)
    {
        auto const s = park_until_ready(st, deadline_);
        if(s == wake_status::done)
            return;
        this->complete(boost::system::result<R>(
            boost::system::in_place_error, s == wake_status::timeout ? error::ask_timeout : error::cancelled));
        park_until_ready({}, wait_deadline::never()); // that error, or the reply that won the race
    }

public:
    /// Makes `dl` the ask's timeout (before the request is posted).
    void wait_until(wait_deadline const& dl) noexcept { deadline_ = dl; }

    /** Waits for the reply and takes it. A stop requested through `st`
        first completes the ask with `error::cancelled`, the deadline with
        `error::ask_timeout` (a reply arriving later is discarded).
    */
    boost::system::result<R> take(std::stop_token const& st)
    {
        settle(st);
        std::lock_guard<spinlock> lk(lock_);
        return std::move(*value_);
    }

    /// Waits until the reply (or the timeout) is there.
    void wait() { settle({}); }

    /// The future was dropped unwaited: no one will read the reply.
    void abandon() noexcept
    {
        this->complete(boost::system::result<R>(boost::system::in_place_error, error::cancelled));
    }
};

} // namespace detail

/** The pending reply of an `ask`.

    Waiting is fiber-aware: inside an actor's handler or any fiber, `get()`
    parks only that fiber (the actor's mailbox keeps filling in order and
    other actors on the same worker keep running); on a plain thread it
    blocks that thread. For Asio code that must never block, use
    `async_ask` (`<spindle/async_ask.hpp>`).

    The future completes exactly once: with the handler's return value, or
    with `error::ask_timeout` when the timeout expires first,
    `error::actor_stopped`, `error::mailbox_full` (refused) or
    `error::message_dropped` (dropped by an overflow policy) when the request
    could not be delivered (also `actor_stopped` for an ask still queued at an actor
    abandoned by a shutdown), `error::system_stopped` when the system had
    shut down before the ask, or `error::handler_failed` when the handler threw.

    @tparam R The handler's return type (`void` allowed).

    @par Thread safety
    A future is used by one waiter at a time; it may be moved between threads.
*/
template<class R>
class ask_future
{
    boost::intrusive_ptr<detail::promise_reply<R>> state_;

public:
    /// The value type of the reply.
    using value_type = R;

    /// An empty future (`valid() == false`).
    ask_future() = default;

    /// Wraps the reply state of an ask (used by the runtime).
    explicit ask_future(detail::promise_reply<R>* st) : state_(st) {}

    /// Moves the pending reply; `other` becomes empty.
    ask_future(ask_future&& other) noexcept = default;

    /// Abandons this future's ask (as the destructor does), then takes `other`'s.
    ask_future& operator=(ask_future&& other) noexcept
    {
        if(this != &other)
        {
            if(state_)
                state_->abandon();
            state_ = std::move(other.state_);
        }
        return *this;
    }

    /** Abandons an ask whose result was never taken: its reply, if one
        comes, is discarded (the request itself may still be handled).
    */
    ~ask_future()
    {
        if(state_)
            state_->abandon();
    }

    /// True until the result has been taken.
    bool valid() const noexcept { return state_ != nullptr; }

    /** Waits for the reply and returns it without throwing.

        @return The reply or the error; the future becomes invalid.
    */
    boost::system::result<R> result() { return result(std::stop_token{}); }

    /** Waits for the reply, or until `stop` is requested: then the ask ends
        at once with `error::cancelled` (the request may still reach the
        actor; its reply is discarded). A task or stream stage passes its
        own stop token, so a cancelled or timed-out task does not wait for
        the ask's timeout.

        @return The reply, the error, or `error::cancelled`; the future
        becomes invalid.
    */
    boost::system::result<R> result(std::stop_token stop)
    {
        if(!state_)
            return boost::system::result<R>(boost::system::in_place_error, error::no_reply);
        auto r = state_->take(stop);
        state_.reset();
        return r;
    }

    /** Waits for the reply or for `stop` (see `result(std::stop_token)`).

        @throws spindle::system_error with the error code, `cancelled` if
        stop was requested first.
    */
    R get(std::stop_token stop)
    {
        auto r = result(std::move(stop));
        if(!r)
            detail::throw_error(r.error(), "spindle::ask");
        if constexpr(!std::is_void_v<R>)
            return std::move(*r);
    }

    /** Waits for the reply.

        @return The handler's return value.
        @throws spindle::system_error with the error code described above.
    */
    R get()
    {
        auto r = result();
        if(!r)
            detail::throw_error(r.error(), "spindle::ask");
        if constexpr(!std::is_void_v<R>)
            return std::move(*r);
    }

    /** Waits for the reply, reporting failure through `ec`.

        @param ec Set to the error, or cleared.
        @return The value, or a value-initialised `R` on error.
    */
    R get(boost::system::error_code& ec)
    {
        auto r = result();
        if(!r)
        {
            ec = r.error();
            if constexpr(!std::is_void_v<R>)
                return R{};
            else
                return;
        }
        ec = {};
        if constexpr(!std::is_void_v<R>)
            return std::move(*r);
    }

    /** Waits until the reply (or the timeout) is there, or returns at once
        if the future is empty. */
    void wait() const
    {
        if(state_)
            state_->wait();
    }
};

} // namespace spindle

#endif
