//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ASYNC_ASK_HPP
#define SPINDLE_ASYNC_ASK_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor_ref.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <optional>
#include <type_traits>
#include <utility>

namespace spindle {
namespace detail {

template<class R>
struct ask_signature
{
    using type = void(boost::system::error_code, R);
};

template<>
struct ask_signature<void>
{
    using type = void(boost::system::error_code);
};

/// Reply state that posts an Asio completion handler to its executor.
template<class R, class Handler>
class handler_reply final : public reply_state<R>
{
    using executor_type = boost::asio::associated_executor_t<Handler>;

    std::optional<Handler> handler_;
    boost::asio::executor_work_guard<executor_type> work_;

    void deliver(boost::system::result<R>&& r) noexcept override
    {
        try
        {
            auto ex = work_.get_executor();
            // post, never dispatch: the reply arrives on a worker fiber, and
            // the user's handler must run on its own executor, not there
            boost::asio::post(ex, [h = std::move(*handler_), r = std::move(r)]() mutable {
                if constexpr(std::is_void_v<R>)
                    std::move(h)(r ? boost::system::error_code() : r.error());
                else if(r)
                    std::move(h)(boost::system::error_code(), std::move(*r));
                else
                    std::move(h)(r.error(), R{});
            });
        }
        catch(...)
        {
            // out of memory while posting: nothing left to tell the handler with
        }
        handler_.reset();
        work_.reset();
    }

public:
    explicit handler_reply(Handler&& h)
        : handler_(std::move(h)), work_(boost::asio::get_associated_executor(*handler_))
    {
    }
};

} // namespace detail

/** Asks an actor without blocking: the reply completes an Asio token.

    The completion signature is `void(boost::system::error_code, R)` (or
    `void(boost::system::error_code)` when the handler returns `void`),
    where `R` is the handler's return type; on error `R` is
    value-initialised. Errors are those of `actor_ref::ask`; a full mailbox
    under `overflow_policy::block` fails at once with `error::mailbox_full`
    (as `try_tell` does) rather than block the caller's thread. The handler is
    posted to its associated executor (an `io_context`'s for handlers bound
    to one, `use_awaitable`'s coroutine executor, the system executor for a
    plain callback or `use_future`), so an `io_context` thread never waits.

    @code
    spindle::async_ask(counter, total{}, 1s,
        [](boost::system::error_code ec, long n) { ... });
    auto n = co_await spindle::async_ask(counter, total{}, 1s, boost::asio::use_awaitable);
    @endcode

    @param ref The actor.
    @param m The message (must be in `A`'s message set).
    @param timeout Fails with `error::ask_timeout` after this, on the system clock.
    @param token An Asio completion token.
*/
template<class A, class M, class CompletionToken>
auto async_ask(actor_ref<A> const& ref, M&& m, std::chrono::nanoseconds timeout, CompletionToken&& token)
{
    using msg_type = std::remove_cvref_t<M>;
    if constexpr(!detail::accepts_v<A, msg_type>)
    {
        return actor_does_not_handle_message<A, msg_type>{};
    }
    else
    {
        using result_type = std::remove_cvref_t<detail::handler_result_t<A, msg_type>>;
        using signature = typename detail::ask_signature<result_type>::type;
        return boost::asio::async_initiate<CompletionToken, signature>(
            // the reference travels by value: a deferred token (use_awaitable)
            // runs this later, when the caller's reference may be gone
            [](auto handler, actor_ref<A> r, msg_type msg, std::chrono::nanoseconds t) {
                auto* st = new detail::handler_reply<result_type, decltype(handler)>(std::move(handler));
                // never wait for room in a full mailbox: this is an io_context thread
                detail::send_ask<A, msg_type>(r.cell(), std::move(msg), t, st, false);
            },
            token,
            ref,
            msg_type(std::forward<M>(m)),
            timeout);
    }
}

} // namespace spindle

#endif
