//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_IMPL_ACTOR_REF_HPP
#define SPINDLE_IMPL_ACTOR_REF_HPP

#include <spindle/detail/runtime.hpp>
#include <spindle/detail/type_list.hpp>
#include <spindle/timer.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace spindle {
namespace detail {

template<class A, class M>
inline constexpr bool accepts_v = contains_v<M, typename A::message_types>;

/** What an `ask` that does not compile returns: anything the caller then
    does with it compiles, so the compiler prints the one error that matters.
*/
struct unsendable_reply
{
    struct any_value
    {
        template<class T>
        operator T() const
        {
            return T();
        }
    };
    any_value get() const { return {}; }
    any_value get(boost::system::error_code&) const { return {}; }
    any_value result() const { return {}; }
    void wait() const {}
    bool valid() const { return false; }
};

template<class A, class M>
concept handles = requires(A& a, M&& m) { a.on(std::move(m)); };

/// The message is declared and has a handler (a missing handler is reported by spawn).
template<class A, class M>
inline constexpr bool sendable_v = accepts_v<A, M> && handles<A, M>;

template<class A, class M>
using handler_result_t = decltype(std::declval<A&>().on(std::declval<M&&>()));

template<class A, class M>
struct tell_envelope final : envelope
{
    M msg_;

    template<class U>
    explicit tell_envelope(U&& u) : msg_(std::forward<U>(u))
    {
        vtable_ = &table;
    }

    static void invoke(envelope* e, actor_base& self)
    {
        std::unique_ptr<tell_envelope> p(static_cast<tell_envelope*>(e));
        static_cast<A&>(self).on(std::move(p->msg_));
    }

    static void discard(envelope* e, error) noexcept { delete static_cast<tell_envelope*>(e); }

    static void* payload(envelope* e) noexcept { return &static_cast<tell_envelope*>(e)->msg_; }

    static void destroy(envelope* e) noexcept { delete static_cast<tell_envelope*>(e); }

    static constinit inline envelope_vtable table{
        &invoke, &discard, &typeid(M), &typeid(A), {0}, &payload, nullptr, &destroy, traced_message_v<M>};
};

template<class A, class M, class R>
struct ask_envelope final : envelope
{
    M msg_;
    boost::intrusive_ptr<reply_state<R>> reply_;

    template<class U>
    ask_envelope(U&& u, reply_state<R>* r) : msg_(std::forward<U>(u)), reply_(r)
    {
        vtable_ = &table;
    }

    static void invoke(envelope* e, actor_base& self)
    {
        std::unique_ptr<ask_envelope> p(static_cast<ask_envelope*>(e));
        try
        {
            if constexpr(std::is_void_v<R>)
            {
                static_cast<A&>(self).on(std::move(p->msg_));
                p->reply_->complete(boost::system::result<void>());
            }
            else
            {
                p->reply_->complete(boost::system::result<R>(static_cast<A&>(self).on(std::move(p->msg_))));
            }
        }
        catch(...)
        {
            p->reply_->complete(boost::system::result<R>(boost::system::in_place_error, error::handler_failed));
            throw;
        }
    }

    static void discard(envelope* e, error reason) noexcept
    {
        std::unique_ptr<ask_envelope> p(static_cast<ask_envelope*>(e));
        p->reply_->complete(boost::system::result<R>(boost::system::in_place_error, reason));
    }

    static void* payload(envelope* e) noexcept { return &static_cast<ask_envelope*>(e)->msg_; }

    static void* reply(envelope* e) noexcept { return static_cast<ask_envelope*>(e)->reply_.get(); }

    static void destroy(envelope* e) noexcept { delete static_cast<ask_envelope*>(e); }

    static constinit inline envelope_vtable table{
        &invoke, &discard, &typeid(M), &typeid(A), {0}, &payload, &reply, &destroy, traced_message_v<M>};
};

template<class R>
struct timeout_callback
{
    boost::intrusive_ptr<reply_state<R>> r;
    explicit timeout_callback(reply_state<R>* p) : r(p) {}
    timeout_callback(timeout_callback&&) noexcept = default;
    ~timeout_callback()
    {
        if(r) // destroyed unfired: the timer service shut down under the ask
            r->complete(boost::system::result<R>(boost::system::in_place_error, error::actor_stopped), true);
    }
    void operator()()
    {
        r->complete(boost::system::result<R>(boost::system::in_place_error, error::ask_timeout), true);
        r.reset();
    }
};

/** Posts an ask: arms the timeout on the system clock, then posts the
    envelope. Adopts the creation reference of `st`; every failure completes
    `st` with its error.

    @param may_block false for `async_ask`: a full `block` mailbox fails the
    ask at once instead of making the caller's thread wait.
    @param waited true when `st` is a `promise_reply` (the state of an
    `ask` future): on the real clock its waiter keeps the deadline and no
    timer is armed.
*/
template<class A, class M, class U, class R>
void send_ask(actor_cell* cell, U&& m, std::chrono::nanoseconds timeout, reply_state<R>* st, bool may_block = true,
              bool waited = false)
{
    auto fail = [st](error why) {
        st->complete(boost::system::result<R>(boost::system::in_place_error, why));
        intrusive_ptr_release(st);
    };
    if(!cell)
        return fail(error::actor_stopped);
    auto& timers = timers_of(*cell->sys_);
    ask_clock const clock = ask_clock_of(*cell->sys_);
    if(clock == ask_clock::stopped)
        return fail(error::system_stopped);
    if(waited && clock == ask_clock::steady)
    {
        // (the state passed once: GCC 12 warns of a false overflow when the
        // same pointer also comes as a promise_reply<R>*)
        static_cast<promise_reply<R>*>(st)->wait_until(wait_deadline::after(timeout));
    }
    else
    {
        boost::system::error_code ec;
        auto tid = timers.start(timeout, timeout_callback<R>(st), ec);
        if(ec)
            return fail(error::system_stopped); // the timer service only refuses after shutdown
        st->arm(timers, tid);
    }
    auto* env = new ask_envelope<A, M, R>(std::forward<U>(m), st);
    intrusive_ptr_release(st); // the envelope (and the timer) hold it now
    cell->post(env, may_block);
}

} // namespace detail

template<class Actor>
template<class M>
send_status actor_ref<Actor>::tell(M&& m) const
{
    using msg_type = std::remove_cvref_t<M>;
    if constexpr(!detail::accepts_v<Actor, msg_type>)
    {
        return actor_does_not_handle_message<Actor, msg_type>{};
    }
    else if constexpr(!detail::handles<Actor, msg_type>)
    {
        return send_status::stopped; // spawn<Actor> reports the missing handler
    }
    else
    {
        if(!cell_)
            return send_status::stopped;
        return cell_->post(new detail::tell_envelope<Actor, msg_type>(std::forward<M>(m)), true);
    }
}

template<class Actor>
template<class M>
send_status actor_ref<Actor>::try_tell(M&& m) const
{
    using msg_type = std::remove_cvref_t<M>;
    if constexpr(!detail::accepts_v<Actor, msg_type>)
    {
        return actor_does_not_handle_message<Actor, msg_type>{};
    }
    else if constexpr(!detail::handles<Actor, msg_type>)
    {
        return send_status::stopped; // spawn<Actor> reports the missing handler
    }
    else
    {
        if(!cell_)
            return send_status::stopped;
        return cell_->post(new detail::tell_envelope<Actor, msg_type>(std::forward<M>(m)), false);
    }
}

template<class Actor>
template<class M>
auto actor_ref<Actor>::ask(M&& m, std::chrono::nanoseconds timeout) const
{
    using msg_type = std::remove_cvref_t<M>;
    if constexpr(!detail::accepts_v<Actor, msg_type>)
    {
        // the whole call is the one error: nothing done with its result adds another
        return actor_does_not_handle_message<Actor, msg_type>{};
    }
    else if constexpr(!detail::handles<Actor, msg_type>)
    {
        return detail::unsendable_reply(); // spawn<Actor> reports the missing handler
    }
    else
    {
        using result_type = std::remove_cvref_t<detail::handler_result_t<Actor, msg_type>>;
        auto* st = new detail::promise_reply<result_type>();
        ask_future<result_type> fut(st);
        detail::send_ask<Actor, msg_type>(cell_.get(), std::forward<M>(m), timeout, st, true, true);
        return fut;
    }
}

template<class Actor>
template<class M>
auto actor_ref<Actor>::ask(M&& m) const
{
    return ask(std::forward<M>(m), cell_ ? detail::ask_timeout_of(*cell_->sys_) : std::chrono::seconds(5));
}

template<class Self, class... Messages>
actor_ref<Self> actor<Self, Messages...>::self() const noexcept
{
    return actor_ref<Self>(boost::intrusive_ptr<detail::actor_cell>(this->cell_));
}

} // namespace spindle

#endif
