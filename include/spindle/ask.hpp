//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ASK_HPP
#define SPINDLE_ASK_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/reply.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/error.hpp>

#include <boost/fiber/future.hpp>
#include <boost/intrusive_ptr.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <stop_token>
#include <utility>

namespace spindle {

namespace detail {

template<class R>
class promise_reply;

/// The reply state behind an @ref ask_future "ask_future": a fiber promise.
template<class R>
class promise_reply final : public reply_state<R>
{
    boost::fibers::promise<boost::system::result<R>> p_;

    void deliver(boost::system::result<R>&& r) noexcept override
    {
        try
        {
            p_.set_value(std::move(r));
        }
        catch(...)
        {
            // set_value throws only if already satisfied, which complete() excludes
        }
    }

public:
    boost::fibers::future<boost::system::result<R>> get_future() { return p_.get_future(); }
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
    boost::fibers::future<boost::system::result<R>> f_;
    boost::intrusive_ptr<detail::promise_reply<R>> state_;

public:
    /// The value type of the reply.
    using value_type = R;

    /// An empty future (`valid() == false`).
    ask_future() = default;

    /// Wraps the reply state of an ask (used by the runtime).
    explicit ask_future(detail::promise_reply<R>* st) : f_(st->get_future()), state_(st) {}

    /// True until the result has been taken.
    bool valid() const noexcept { return f_.valid(); }

    /** Waits for the reply and returns it without throwing.

        @return The reply or the error; the future becomes invalid.
    */
    boost::system::result<R> result()
    {
        if(!f_.valid())
            return boost::system::result<R>(boost::system::in_place_error, error::no_reply);
        auto r = f_.get();
        // see reply_state::delivered: the completer may still be inside
        // Boost.Fiber's wake-up of this thread for a few instructions
        if(state_)
            detail::spin_until([this] { return state_->delivered(); });
        state_.reset();
        return r;
    }

    /** Waits for the reply, or until `stop` is requested: then the ask ends
        at once with `error::cancelled` (the request may still reach the
        actor; its reply is discarded). A task or stream stage passes its
        own stop token, so a cancelled or timed-out task does not wait for
        the ask's timeout.

        @return The reply, the error, or `error::cancelled`.
    */
    boost::system::result<R> result(std::stop_token stop)
    {
        if(!f_.valid())
            return boost::system::result<R>(boost::system::in_place_error, error::no_reply);
        boost::intrusive_ptr<detail::promise_reply<R>> st = state_;
        std::stop_callback on_stop(std::move(stop), [st]() noexcept {
            st->complete(boost::system::result<R>(boost::system::in_place_error, error::cancelled));
        });
        return result();
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

    /** Waits until the reply is there (or the future is empty). */
    void wait() const
    {
        if(f_.valid())
            f_.wait();
    }
};

} // namespace spindle

#endif
