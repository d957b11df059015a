//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_WHEN_HPP
#define SPINDLE_WHEN_HPP

#include <spindle/detail/config.hpp>
#include <spindle/ask.hpp>
#include <spindle/defaults.hpp>
#include <spindle/error.hpp>
#include <spindle/latch.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/protected_fixedsize_stack.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace spindle {

namespace detail {

/// What `when_all` / `when_any` share with the completion callbacks they
/// register; owned jointly, so a callback firing after the call returned
/// touches nothing that is gone.
struct when_state
{
    latch done;
    std::atomic<std::size_t> first{static_cast<std::size_t>(-1)};
    bool any;

    when_state(std::size_t count, bool any_) : done(static_cast<std::ptrdiff_t>(any_ ? 1 : count)), any(any_) {}

    void signal(std::size_t index) noexcept
    {
        if(any)
        {
            std::size_t expected = static_cast<std::size_t>(-1);
            if(first.compare_exchange_strong(expected, index, std::memory_order_acq_rel))
                done.count_down(1, ignored_);
        }
        else
        {
            done.count_down(1, ignored_);
        }
    }

private:
    boost::system::error_code ignored_; // count_down cannot fail: one signal per handle
};

/** The completion callback `when_all` and `when_any` register. It accepts
    any arguments, so it fits whatever signature a handle's `on_complete`
    passes (nothing, the result, ...).
*/
struct when_signal
{
    std::shared_ptr<when_state> state;
    std::size_t index = 0;

    template<class... A>
    void operator()(A&&...) const noexcept
    {
        state->signal(index);
    }
};

/// What `when_all` stores of an input: its `result()`, as a value (a copy
/// when `result()` returns a reference into the handle).
template<class H>
using outcome_t = std::remove_cvref_t<decltype(std::declval<H&>().result())>;

template<class H>
outcome_t<H> wait_and_take(H& h)
{
    h.wait();
    return h.result();
}

} // namespace detail

/** Something `when_all` can wait for: `wait()` blocks fiber-style until the
    outcome is there, `result()` takes it. Both @ref spindle::ask_future and
    completion handles qualify.
*/
template<class H>
concept awaitable_result = requires(H& h) {
    h.wait();
    h.result();
};

/** A handle that can also say whether it is done and call back when it is:
    `ready()`, `on_complete(fn)`. Task handles of the executor and
    @ref spindle::blocking_future qualify; `when_any` and the stop-token forms of
    `when_all` need it, because they must not consume a handle they do not
    end up waiting for.
*/
template<class H>
concept completion_handle = awaitable_result<H> && requires(H& h, detail::when_signal const& cb) {
    { h.ready() } -> std::convertible_to<bool>;
    h.on_complete(cb);
};

/// The winner of `when_any` over asks: its position and its outcome.
template<class V>
struct when_any_result
{
    /// The position of the first input that completed.
    std::size_t index;
    /// Its outcome.
    V value;
};

//------------------------------------------------------------------------------
// when_all

/** Waits for every input and takes their outcomes, in argument order.

    Waiting is fiber-aware: a fiber parks, a plain thread blocks. The inputs
    are consumed (`result()` is called on each).

    @par Example
    @code
    auto [user, orders] = spindle::when_all(users_ask, orders_task);
    // user: boost::system::result<user_t>, orders: whatever orders_task.result() returns
    @endcode

    @param hs The inputs: asks, task handles, blocking futures.
    @return A tuple of each input's `result()` (a copy where `result()`
    returns a reference into its handle).

    @par Thread safety
    The inputs must not be used by anyone else during the call.
*/
template<awaitable_result... H>
    requires(sizeof...(H) > 0)
auto when_all(H&... hs)
{
    // braced initialisation evaluates left to right
    return std::tuple<detail::outcome_t<H>...>{detail::wait_and_take(hs)...};
}

/** Waits for every input, or until a stop is requested.

    @param st Ends the wait early; the inputs are then left untouched (none
    is consumed).
    @param hs The inputs (completion handles).
    @return The tuple of each input's `result()`, or `error::cancelled`.
    @throws std::bad_alloc if the callbacks cannot be registered.

    @par Thread safety
    The inputs must not be used by anyone else during the call.
*/
template<completion_handle... H>
    requires(sizeof...(H) > 0)
auto when_all(std::stop_token st, H&... hs) -> boost::system::result<std::tuple<detail::outcome_t<H>...>>
{
    using tuple_type = std::tuple<detail::outcome_t<H>...>;
    auto state = std::make_shared<detail::when_state>(sizeof...(H), false);
    std::size_t i = 0;
    (hs.on_complete(detail::when_signal{state, i++}), ...);
    boost::system::error_code ec;
    state->done.wait(st, ec);
    if(ec)
        return boost::system::result<tuple_type>(boost::system::in_place_error, ec);
    return boost::system::result<tuple_type>(boost::system::in_place_value, tuple_type{hs.result()...});
}

/** Waits for every input of a range and takes their outcomes, in order.

    @param hs The inputs.
    @return A vector of each input's `result()`.

    @par Thread safety
    The inputs must not be used by anyone else during the call.
*/
template<std::ranges::input_range R>
    requires awaitable_result<std::remove_reference_t<std::ranges::range_reference_t<R>>>
auto when_all(R&& hs)
{
    using value_type = detail::outcome_t<std::remove_reference_t<std::ranges::range_reference_t<R>>>;
    std::vector<value_type> out;
    if constexpr(std::ranges::sized_range<R>)
        out.reserve(std::ranges::size(hs));
    for(auto&& h : hs)
        out.push_back(detail::wait_and_take(h));
    return out;
}

/** Waits for every input of a range, or until a stop is requested.

    @param st Ends the wait early; the inputs are then left untouched.
    @param hs The inputs (completion handles).
    @return A vector of each input's `result()`, or `error::cancelled`.
    @throws std::bad_alloc if the callbacks cannot be registered.

    @par Thread safety
    The inputs must not be used by anyone else during the call.
*/
template<std::ranges::forward_range R>
    requires completion_handle<std::remove_reference_t<std::ranges::range_reference_t<R>>>
auto when_all(std::stop_token st, R&& hs)
    -> boost::system::result<std::vector<detail::outcome_t<std::remove_reference_t<std::ranges::range_reference_t<R>>>>>
{
    using value_type = detail::outcome_t<std::remove_reference_t<std::ranges::range_reference_t<R>>>;
    using vector_type = std::vector<value_type>;
    auto const n = static_cast<std::size_t>(std::ranges::distance(hs));
    auto state = std::make_shared<detail::when_state>(n, false);
    std::size_t i = 0;
    for(auto&& h : hs)
        h.on_complete(detail::when_signal{state, i++});
    boost::system::error_code ec;
    state->done.wait(st, ec);
    if(ec)
        return boost::system::result<vector_type>(boost::system::in_place_error, ec);
    vector_type out;
    out.reserve(n);
    for(auto&& h : hs)
        out.push_back(h.result());
    return boost::system::result<vector_type>(boost::system::in_place_value, std::move(out));
}

//------------------------------------------------------------------------------
// when_any over completion handles

namespace detail {

template<class... H>
std::optional<std::size_t> first_ready(H&... hs)
{
    std::size_t i = 0;
    std::optional<std::size_t> found;
    ((!found && static_cast<bool>(hs.ready()) ? void(found = i) : void(), ++i), ...);
    return found;
}

template<class... H>
std::size_t race(std::stop_token const& st, boost::system::error_code& ec, H&... hs)
{
    ec = {};
    if(auto i = first_ready(hs...))
        return *i;
    auto state = std::make_shared<when_state>(1, true);
    std::size_t i = 0;
    (hs.on_complete(when_signal{state, i++}), ...);
    state->done.wait(st, ec);
    return state->first.load(std::memory_order_acquire);
}

template<class R>
std::size_t race_range(std::stop_token const& st, boost::system::error_code& ec, R& hs)
{
    ec = {};
    std::size_t i = 0;
    for(auto&& h : hs)
    {
        if(h.ready())
            return i;
        ++i;
    }
    if(i == 0)
        detail::throw_error(error::invalid_argument, "spindle::when_any: empty range");
    auto state = std::make_shared<when_state>(1, true);
    i = 0;
    for(auto&& h : hs)
        h.on_complete(when_signal{state, i++});
    state->done.wait(st, ec);
    return state->first.load(std::memory_order_acquire);
}

} // namespace detail

/** Waits until one of the inputs has completed and tells which.

    The inputs are not consumed: take the winner's outcome with its
    `result()`, and keep (or cancel) the others. If several are complete
    already, the first in argument order wins. One completion callback is
    registered on each input that is not complete yet; it outlives the call
    harmlessly.

    @par Example
    @code
    switch(spindle::when_any(primary, fallback)) {
    case 0: use(primary.result()); fallback.cancel(); break;
    case 1: use(fallback.result()); primary.cancel(); break;
    }
    @endcode

    @param hs The inputs (completion handles).
    @return The position of the first input that completed.
    @throws std::bad_alloc if the callbacks cannot be registered.

    @par Thread safety
    The inputs may be waited on by others meanwhile, but not consumed.
*/
template<completion_handle... H>
    requires(sizeof...(H) > 0)
std::size_t when_any(H&... hs)
{
    boost::system::error_code ec;
    return detail::race(std::stop_token{}, ec, hs...);
}

/** Waits until one of the inputs has completed, or a stop is requested.

    @param st Ends the wait early.
    @param hs The inputs (completion handles); none is consumed.
    @return The position of the first input that completed, or
    `error::cancelled`.
    @throws std::bad_alloc if the callbacks cannot be registered.

    @par Thread safety
    The inputs may be waited on by others meanwhile, but not consumed.
*/
template<completion_handle... H>
    requires(sizeof...(H) > 0)
boost::system::result<std::size_t> when_any(std::stop_token st, H&... hs)
{
    boost::system::error_code ec;
    std::size_t const i = detail::race(st, ec, hs...);
    if(ec)
        return boost::system::result<std::size_t>(boost::system::in_place_error, ec);
    return i;
}

/** Waits until one input of a range has completed and tells which.

    @param hs The inputs (completion handles); none is consumed.
    @return The position in the range of the first input that completed.
    @throws spindle::system_error with `error::invalid_argument` for an
    empty range; std::bad_alloc if the callbacks cannot be registered.

    @par Thread safety
    The inputs may be waited on by others meanwhile, but not consumed.
*/
template<std::ranges::forward_range R>
    requires completion_handle<std::remove_reference_t<std::ranges::range_reference_t<R>>>
std::size_t when_any(R&& hs)
{
    boost::system::error_code ec;
    return detail::race_range(std::stop_token{}, ec, hs);
}

/** Waits until one input of a range has completed, or a stop is requested.

    @param st Ends the wait early.
    @param hs The inputs (completion handles); none is consumed.
    @return The position of the first input that completed, or
    `error::cancelled`.
    @throws spindle::system_error with `error::invalid_argument` for an
    empty range; std::bad_alloc if the callbacks cannot be registered.

    @par Thread safety
    The inputs may be waited on by others meanwhile, but not consumed.
*/
template<std::ranges::forward_range R>
    requires completion_handle<std::remove_reference_t<std::ranges::range_reference_t<R>>>
boost::system::result<std::size_t> when_any(std::stop_token st, R&& hs)
{
    boost::system::error_code ec;
    std::size_t const i = detail::race_range(st, ec, hs);
    if(ec)
        return boost::system::result<std::size_t>(boost::system::in_place_error, ec);
    return i;
}

//------------------------------------------------------------------------------
// when_any over asks

namespace detail {

/** A race between asks. An `ask_future` can only be waited on, so each
    input gets a small fiber on the calling thread that waits for it; the
    first to finish decides. The race owns the futures, so the losing
    fibers (which end when their asks complete, at the latest at the ask
    timeout) never touch anything of the caller's.
*/
template<class V, class Futures>
struct ask_race
{
    Futures futures;
    latch done{1};
    std::atomic<bool> decided{false};
    std::size_t index = 0;    // written by the winner before `done` opens
    std::optional<V> value;

    explicit ask_race(Futures f) : futures(std::move(f)) {}

    /// Input `I` of a tuple of futures finished waiting.
    template<std::size_t I>
    void finish() noexcept
    {
        settle(I, std::get<I>(futures), [&](auto&& r) { value.emplace(std::in_place_index<I>, std::move(r)); });
    }

    /// Input `i` of a vector of futures finished waiting.
    void finish_at(std::size_t i) noexcept
    {
        settle(i, futures[i], [&](auto&& r) { value.emplace(std::move(r)); });
    }

private:
    template<class F, class Store>
    void settle(std::size_t i, F& f, Store store) noexcept
    {
        using result_type = decltype(f.result());
        std::optional<result_type> r;
        try
        {
            r.emplace(f.result()); // waits for the reply
        }
        catch(...)
        {
            // the reply state broke (out of memory in Boost.Fiber's future)
            r.emplace(boost::system::in_place_error, error::no_reply);
        }
        if(!decided.exchange(true, std::memory_order_acq_rel))
        {
            index = i;
            store(std::move(*r));
            boost::system::error_code ignored;
            done.count_down(1, ignored);
        }
    }
};

template<class Race, class Body>
void launch_waiter(std::shared_ptr<Race> const& race, Body body)
{
    boost::fibers::fiber(boost::fibers::launch::post, std::allocator_arg,
                         boost::fibers::protected_fixedsize_stack(defaults::fiber_stack_size),
                         [race, body]() mutable noexcept { body(*race); })
        .detach();
}

template<class V, class Race>
boost::system::result<when_any_result<V>> finish_race(Race& race, std::stop_token const& st)
{
    boost::system::error_code ec;
    race.done.wait(st, ec);
    if(ec)
        return boost::system::result<when_any_result<V>>(boost::system::in_place_error, ec);
    return when_any_result<V>{race.index, std::move(*race.value)};
}

template<class... R, std::size_t... I>
auto race_asks(std::stop_token const& st, std::index_sequence<I...>, ask_future<R>&&... fs)
{
    using value_type = std::variant<boost::system::result<R>...>;
    using race_type = ask_race<value_type, std::tuple<ask_future<R>...>>;
    auto race = std::make_shared<race_type>(std::tuple<ask_future<R>...>(std::move(fs)...));
    (launch_waiter(race, [](race_type& r) { r.template finish<I>(); }), ...);
    return finish_race<value_type>(*race, st);
}

template<class R>
auto race_ask_vector(std::stop_token const& st, std::vector<ask_future<R>>&& fs)
{
    using value_type = boost::system::result<R>;
    using race_type = ask_race<value_type, std::vector<ask_future<R>>>;
    if(fs.empty())
        detail::throw_error(error::invalid_argument, "spindle::when_any: no asks");
    auto race = std::make_shared<race_type>(std::move(fs));
    for(std::size_t i = 0; i < race->futures.size(); ++i)
        launch_waiter(race, [i](race_type& r) { r.finish_at(i); });
    return finish_race<value_type>(*race, st);
}

} // namespace detail

/** Waits until the first of several asks completes and returns its outcome.

    The asks are consumed: each gets a small waiting fiber on the calling
    thread (an ask can only be waited on), which ends when its ask
    completes — at the latest at the ask's timeout — so the losers'
    replies are discarded without anyone waiting for them. On a plain
    thread those fibers run while the thread waits in fiber-aware calls.

    @par Example
    @code
    auto r = spindle::when_any(replica_a.ask(get{key}), replica_b.ask(get{key}));
    // r.index: 0 or 1; r.value: std::variant<result<value_t>, result<value_t>>
    @endcode

    @param fs The asks, moved in.
    @return The position of the first ask that completed and its outcome
    (`value` holds alternative `index`).
    @throws std::bad_alloc if the waiting fibers cannot be created.

    @par Thread safety
    Call from a fiber or a plain thread; the asks become the race's.
*/
template<class... R>
    requires(sizeof...(R) > 0)
when_any_result<std::variant<boost::system::result<R>...>> when_any(ask_future<R>&&... fs)
{
    return detail::race_asks(std::stop_token{}, std::index_sequence_for<R...>{}, std::move(fs)...).value();
}

/** Waits until the first of several asks completes, or a stop is requested.

    @param st Ends the wait early; the asks are consumed regardless.
    @param fs The asks, moved in.
    @return The winner (see the overload without a token), or
    `error::cancelled`.
    @throws std::bad_alloc if the waiting fibers cannot be created.

    @par Thread safety
    Call from a fiber or a plain thread; the asks become the race's.
*/
template<class... R>
    requires(sizeof...(R) > 0)
boost::system::result<when_any_result<std::variant<boost::system::result<R>...>>>
when_any(std::stop_token st, ask_future<R>&&... fs)
{
    return detail::race_asks(st, std::index_sequence_for<R...>{}, std::move(fs)...);
}

/** Waits until the first of a vector of asks completes and returns its
    outcome (see the variadic overload).

    @param fs The asks, moved in; must not be empty.
    @return The position of the first ask that completed and its outcome.
    @throws spindle::system_error with `error::invalid_argument` if `fs` is
    empty; std::bad_alloc if the waiting fibers cannot be created.

    @par Thread safety
    Call from a fiber or a plain thread; the asks become the race's.
*/
template<class R>
when_any_result<boost::system::result<R>> when_any(std::vector<ask_future<R>>&& fs)
{
    return detail::race_ask_vector(std::stop_token{}, std::move(fs)).value();
}

/** Waits until the first of a vector of asks completes, or a stop is
    requested.

    @param st Ends the wait early; the asks are consumed regardless.
    @param fs The asks, moved in; must not be empty.
    @return The winner, or `error::cancelled`.
    @throws spindle::system_error with `error::invalid_argument` if `fs` is
    empty; std::bad_alloc if the waiting fibers cannot be created.

    @par Thread safety
    Call from a fiber or a plain thread; the asks become the race's.
*/
template<class R>
boost::system::result<when_any_result<boost::system::result<R>>> when_any(std::stop_token st,
                                                                          std::vector<ask_future<R>>&& fs)
{
    return detail::race_ask_vector(st, std::move(fs));
}

} // namespace spindle

#endif
