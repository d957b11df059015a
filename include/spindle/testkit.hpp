//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TESTKIT_HPP
#define SPINDLE_TESTKIT_HPP

#include <spindle/detail/config.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/monitor.hpp>
#include <spindle/system.hpp>

#include <boost/core/demangle.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <chrono>
#include <concepts>
#include <deque>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <variant>

/** Helpers for users' own tests: a probe actor that records what it gets,
    and (from `<spindle/manual_clock.hpp>`) the manual clock.
*/
namespace spindle::testkit {

/// Thrown by the `expect_*` helpers; its text says what was expected and what came.
class expectation_failed : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

/// A demangled type name without `(anonymous namespace)::` parts.
inline std::string readable_name(std::type_info const& t)
{
    std::string s = boost::core::demangle(t.name());
    static constexpr std::string_view anon = "(anonymous namespace)::";
    for(auto p = s.find(anon); p != std::string::npos; p = s.find(anon, p))
        s.erase(p, anon.size());
    return s;
}

template<class... Ms>
struct probe_inbox
{
    boost::fibers::mutex mtx;
    boost::fibers::condition_variable cv;
    std::deque<std::variant<Ms...>> queue;
    std::deque<down> downs; ///< death notices of watched actors
    std::size_t received = 0;
};

/// Asks a probe to monitor an actor (from its own fiber).
struct probe_watch
{
    basic_actor_ref target;
};

template<class Self, class Inbox, class M>
struct probe_handler
{
    void on(M m)
    {
        auto& inbox = *static_cast<Self*>(this)->inbox_;
        {
            std::lock_guard lk(inbox.mtx);
            inbox.queue.emplace_back(std::in_place_type<M>, std::move(m));
            ++inbox.received;
        }
        inbox.cv.notify_all();
    }
};

} // namespace detail

/** The actor behind a @ref probe "probe": it accepts `Ms...` and records them in order. */
template<class... Ms>
class probe_actor
    : public actor<probe_actor<Ms...>, detail::probe_watch, Ms...>
    , public detail::probe_handler<probe_actor<Ms...>, detail::probe_inbox<Ms...>, Ms>...
{
public:
    using detail::probe_handler<probe_actor<Ms...>, detail::probe_inbox<Ms...>, Ms>::on...;

    /// Records into `inbox` (made by the @ref probe that spawns it).
    explicit probe_actor(std::shared_ptr<detail::probe_inbox<Ms...>> inbox) : inbox_(std::move(inbox)) {}

    /// Monitors the target (the `down` arrives in `on_down`).
    void on(detail::probe_watch const& w) { this->monitor(w.target); }

    void on_down(down const& d) override
    {
        {
            std::lock_guard lk(inbox_->mtx);
            inbox_->downs.push_back(d);
        }
        inbox_->cv.notify_all();
    }

    /// What it received, shared with its @ref probe.
    std::shared_ptr<detail::probe_inbox<Ms...>> inbox_;
};

/** A test probe: an actor that records every message it receives, and
    helpers to assert on them in order.

    @code
    spindle::testkit::probe<pong> p(sys);
    server.tell(ping{p.ref()});
    auto reply = p.expect_msg<pong>();
    p.expect_no_msg(50ms);
    @endcode

    Waiting is in real time (deliveries come from worker threads), so the
    timeouts are upper bounds for a failing test, never timing assertions.

    @par Thread safety
    One test thread (or fiber) uses a probe; any actor may send to it.
*/
template<class... Ms>
class probe
{
    std::shared_ptr<detail::probe_inbox<Ms...>> inbox_;
    actor_ref<probe_actor<Ms...>> ref_;

    template<class M>
    static std::string name_of()
    {
        return detail::readable_name(typeid(M));
    }

public:
    /** Spawns the probe actor in `sys`.

        @param sys The system.
        @param name Optional registry name.
    */
    explicit probe(system& sys, std::string name = {})
        : inbox_(std::make_shared<detail::probe_inbox<Ms...>>())
    {
        spawn_options o;
        o.name = std::move(name);
        ref_ = sys.spawn_with<probe_actor<Ms...>>(o, inbox_);
    }

    /// The probe's reference, to hand to the actors under test.
    actor_ref<probe_actor<Ms...>> const& ref() const noexcept { return ref_; }

    /// Messages received so far (including those already taken).
    std::size_t received() const
    {
        std::lock_guard lk(inbox_->mtx);
        return inbox_->received;
    }

    /** Takes the next message, which must be an `M`.

        @param timeout How long to wait for it (real time).
        @return The message.
        @throws expectation_failed on timeout or if another type comes first.
    */
    template<class M>
    M expect_msg(std::chrono::nanoseconds timeout = std::chrono::seconds(5))
    {
        std::unique_lock lk(inbox_->mtx);
        if(!inbox_->cv.wait_for(lk, timeout, [&] { return !inbox_->queue.empty(); }))
            throw expectation_failed("spindle::testkit::probe: expected " + name_of<M>() + ", got nothing");
        auto v = std::move(inbox_->queue.front());
        inbox_->queue.pop_front();
        if(auto* m = std::get_if<M>(&v))
            return std::move(*m);
        std::string got = std::visit([](auto const& x) { return name_of<std::decay_t<decltype(x)>>(); }, v);
        throw expectation_failed("spindle::testkit::probe: expected " + name_of<M>() + ", got " + got);
    }

    /** Takes the next message, which must be an `M` satisfying `pred`.

        @throws expectation_failed on timeout, another type, or `pred` false.
    */
    template<class M, class Pred>
        requires std::predicate<Pred&, M const&>
    M expect_msg(Pred pred, std::chrono::nanoseconds timeout = std::chrono::seconds(5))
    {
        M m = expect_msg<M>(timeout);
        if(!pred(m))
            throw expectation_failed("spindle::testkit::probe: " + name_of<M>() + " did not match");
        return m;
    }

    /** Monitors `target` (Akka's `watch`): its end can then be awaited
        with `expect_terminated`. Watching an actor that has already stopped
        gives its notice at once.
    */
    void watch(basic_actor_ref const& target)
    {
        ref_.tell(detail::probe_watch{target});
    }

    /** Waits until a watched actor has stopped (Akka's `expectTerminated`).

        @param target An actor passed to `watch` before.
        @param timeout How long to wait (real time).
        @return Its death notice: the reason and, for a failure or a stop
        with a reason, the text.
        @throws expectation_failed on timeout, naming the actor.
    */
    down expect_terminated(basic_actor_ref const& target, std::chrono::nanoseconds timeout = std::chrono::seconds(5))
    {
        std::unique_lock lk(inbox_->mtx);
        auto find = [&] {
            for(auto it = inbox_->downs.begin(); it != inbox_->downs.end(); ++it)
                if(it->actor == target.id())
                    return it;
            return inbox_->downs.end();
        };
        if(!inbox_->cv.wait_for(lk, timeout, [&] { return find() != inbox_->downs.end(); }))
        {
            std::ostringstream os;
            os << "spindle::testkit::probe: expected the termination of " << target << ", got none";
            throw expectation_failed(os.str());
        }
        auto it = find();
        down d = std::move(*it);
        inbox_->downs.erase(it);
        return d;
    }

    /** Asserts that no message arrives within `d` (real time).

        @throws expectation_failed naming the message type that came.
    */
    void expect_no_msg(std::chrono::nanoseconds d = std::chrono::milliseconds(100))
    {
        std::unique_lock lk(inbox_->mtx);
        if(inbox_->cv.wait_for(lk, d, [&] { return !inbox_->queue.empty(); }))
        {
            std::string got = std::visit(
                [](auto const& x) { return name_of<std::decay_t<decltype(x)>>(); }, inbox_->queue.front());
            throw expectation_failed("spindle::testkit::probe: expected no message, got " + got);
        }
    }
};

} // namespace spindle::testkit

#endif
