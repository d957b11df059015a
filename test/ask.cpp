//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/ask.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <boost/fiber/fiber.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

// --- messages and actors ---

struct add
{
    int n;
};
struct total
{
};
struct name_q
{
};
struct wait_q
{
    int n;
};
struct fail_q
{
    std::string why;
};

/// Sums `add`s; `wait_q` waits at the gate and then answers `n`.
struct counter : spindle::actor<counter, add, total, name_q, wait_q, fail_q>
{
    std::shared_ptr<gate> gate_;
    std::shared_ptr<std::atomic<int>> handled_;
    std::string name_ = "counter";
    long sum_ = 0;

    explicit counter(std::shared_ptr<gate> g = std::make_shared<gate>(),
                     std::shared_ptr<std::atomic<int>> handled = std::make_shared<std::atomic<int>>(0))
        : gate_(std::move(g)), handled_(std::move(handled))
    {
    }

    void on(add const& a)
    {
        ++*handled_;
        sum_ += a.n;
    }

    long on(total)
    {
        ++*handled_;
        return sum_;
    }

    // a reference return: the reply must be a copy, not a dangling reference
    std::string const& on(name_q)
    {
        ++*handled_;
        return name_;
    }

    int on(wait_q w)
    {
        ++*handled_;
        gate_->pass();
        return w.n;
    }

    int on(fail_q f)
    {
        ++*handled_;
        throw std::runtime_error(f.why);
    }
};

static_assert(std::is_same_v<decltype(std::declval<spindle::actor_ref<counter>&>().ask(total{})),
                             spindle::ask_future<long>>);
static_assert(std::is_same_v<decltype(std::declval<spindle::actor_ref<counter>&>().ask(add{1})),
                             spindle::ask_future<void>>);
static_assert(std::is_same_v<decltype(std::declval<spindle::actor_ref<counter>&>().ask(name_q{}, 1s)),
                             spindle::ask_future<std::string>>);

} // namespace

BOOST_AUTO_TEST_CASE(ask_returns_the_handler_value)
{
    spindle::system sys(manual_clock_options());
    auto c = sys.spawn<counter>();
    for(int i = 1; i <= 10; ++i)
        BOOST_TEST(c.tell(add{i}) == spindle::send_status::ok);
    // tells and the ask come from one sender: FIFO puts all the adds first
    BOOST_TEST(c.ask(total{}).get() == 55);

    boost::system::error_code ec = spindle::error::cancelled;
    BOOST_TEST(c.ask(total{}).get(ec) == 55);
    BOOST_TEST(!ec);

    auto r = c.ask(total{}).result();
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(*r == 55);
}

BOOST_AUTO_TEST_CASE(ask_of_void_handler_completes_after_the_handler)
{
    spindle::system sys(manual_clock_options());
    auto c = sys.spawn<counter>();
    spindle::ask_future<void> f = c.ask(add{5});
    BOOST_TEST(f.valid());
    f.get();
    BOOST_TEST(!f.valid());

    boost::system::error_code ec = spindle::error::cancelled;
    c.ask(add{6}).get(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(c.ask(add{7}).result().has_value());
    BOOST_TEST(c.ask(total{}).get() == 18);
}

BOOST_AUTO_TEST_CASE(reply_type_is_deduced_from_the_handler)
{
    // the static_asserts above pin the types; this checks the values
    spindle::system sys(manual_clock_options());
    auto c = sys.spawn<counter>();
    auto f = c.ask(name_q{});
    std::string name = f.get();
    BOOST_TEST(name == "counter");
    // a result taken twice is an error, not a crash
    auto again = f.result();
    BOOST_REQUIRE(again.has_error());
    BOOST_TEST(again.error() == code(spindle::error::no_reply));
}

BOOST_AUTO_TEST_CASE(ask_timeout_on_manual_clock)
{
    auto opts = manual_clock_options();
    auto clock = opts.clock;
    spindle::system sys(opts);
    scoped_gate g;
    auto handled = std::make_shared<std::atomic<int>>(0);
    auto c = sys.spawn<counter>(g.g, handled);

    auto f1 = c.ask(wait_q{1}, 5s); // handled now, blocked at the gate
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    auto f2 = c.ask(wait_q{2}, 5s); // queued behind it
    auto f3 = c.ask(wait_q{3}, 5s);

    clock->advance(5s);

    boost::system::error_code ec;
    BOOST_TEST(f1.get(ec) == 0);
    BOOST_TEST(ec == code(spindle::error::ask_timeout));
    auto r2 = f2.result();
    BOOST_REQUIRE(r2.has_error());
    BOOST_TEST(r2.error() == code(spindle::error::ask_timeout));
    BOOST_CHECK_EXCEPTION(f3.get(), spindle::system_error, has_code(spindle::error::ask_timeout));

    // the late replies find their asks already completed: nothing happens
    g->open();
    BOOST_TEST(c.ask(total{}).get() == 0);
    BOOST_TEST(handled->load() == 4);
    BOOST_TEST(c.alive());
    auto const s = sys.stats();
    BOOST_TEST(s.failures == 0u);
    BOOST_TEST(s.dead_letters == 0u);

    // and advancing further does not touch completed asks
    clock->advance(1h);
    BOOST_TEST(c.ask(wait_q{4}, 5s).get() == 4);
}

BOOST_AUTO_TEST_CASE(ask_timeout_on_the_real_clock_is_the_waiters_deadline)
{
    spindle::system sys; // the real clock: the waiter keeps the deadline, no timer is armed
    scoped_gate g;
    auto handled = std::make_shared<std::atomic<int>>(0);
    auto c = sys.spawn<counter>(g.g, handled);
    std::size_t const timers_before = sys.timers().pending();

    auto f = c.ask(wait_q{1}, 50ms); // handled now, blocked at the gate: no reply in time
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    BOOST_TEST(sys.timers().pending() == timers_before);
    boost::system::error_code ec;
    BOOST_TEST(f.get(ec) == 0);
    BOOST_TEST(ec == code(spindle::error::ask_timeout));

    // a reply that comes after the deadline while no one waits is a timeout
    // too, as if a timer had fired first
    auto late = c.ask(wait_q{2}, 1ms);
    std::this_thread::sleep_for(20ms); // the deadline passes; the handler cannot run before the gate opens
    {
        auto dropped = c.ask(wait_q{3}, 1h); // dropped unwaited: abandoned, still handled
    }
    g->open();
    BOOST_REQUIRE(eventually([&] { return handled->load() == 3; }));
    auto r = late.result();
    BOOST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == code(spindle::error::ask_timeout));

    // an answer in time is the answer, with or without a waiter yet
    auto early = c.ask(wait_q{4}, 1h);
    BOOST_REQUIRE(eventually([&] { return handled->load() == 4; }));
    BOOST_TEST(early.get() == 4);
    BOOST_TEST(c.ask(wait_q{5}, 1h).get() == 5);
    auto const s = sys.stats();
    BOOST_TEST(s.failures == 0u);
    BOOST_TEST(s.dead_letters == 0u);
}

BOOST_AUTO_TEST_CASE(a_stop_token_ends_the_wait_with_cancelled)
{
    spindle::system sys;
    scoped_gate g;
    auto c = sys.spawn<counter>(g.g);
    auto f = c.ask(wait_q{1}, 1h); // the handler waits at the gate: no reply for an hour
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));

    std::stop_source stop;
    std::thread canceller([&] { stop.request_stop(); });
    auto r = f.result(stop.get_token()); // returns once stop is requested, not after an hour
    canceller.join();
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == code(spindle::error::cancelled));

    // already requested: the ask ends at once; the late reply is discarded
    BOOST_CHECK_EXCEPTION(c.ask(wait_q{2}, 1h).get(stop.get_token()), spindle::system_error,
                          has_code(spindle::error::cancelled));
    g->open();
    BOOST_TEST(c.ask(total{}).get(std::stop_token{}) == 0); // a token never stopped changes nothing
    BOOST_TEST(c.alive());
}

BOOST_AUTO_TEST_CASE(reply_just_before_the_timeout_wins)
{
    auto opts = manual_clock_options();
    auto clock = opts.clock;
    spindle::system sys(opts);
    scoped_gate g;
    auto c = sys.spawn<counter>(g.g);

    auto f = c.ask(wait_q{9}, 5s);
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    clock->advance(5s - 1ns);
    g->open();
    BOOST_TEST(f.get() == 9);
    clock->advance(1h);
    BOOST_TEST(sys.stats().failures == 0u);
}

BOOST_AUTO_TEST_CASE(ask_to_stopped_actor_fails_at_once)
{
    spindle::system sys(manual_clock_options());
    auto c = sys.spawn<counter>();
    BOOST_TEST(c.ask(total{}).get() == 0);
    c.stop();
    BOOST_REQUIRE(eventually([&] { return !c.alive(); }));

    auto const before = sys.stats().dead_letters;
    // the clock never moves: only the refusal can complete these
    auto r = within([&] { return c.ask(total{}).result(); });
    BOOST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == code(spindle::error::actor_stopped));
    BOOST_CHECK_EXCEPTION(within([&] { return c.ask(add{1}).get(); }), spindle::system_error,
                          has_code(spindle::error::actor_stopped));
    BOOST_TEST(sys.stats().dead_letters == before + 2);

    // an empty reference too
    spindle::actor_ref<counter> empty;
    auto re = within([&] { return empty.ask(total{}).result(); });
    BOOST_REQUIRE(re.has_error());
    BOOST_TEST(re.error() == code(spindle::error::actor_stopped));
}

BOOST_AUTO_TEST_CASE(ask_whose_handler_throws_gives_handler_failed)
{
    spindle::system sys(manual_clock_options());
    auto c = sys.spawn<counter>();
    boost::system::error_code ec;
    BOOST_TEST(c.ask(fail_q{"bad input"}).get(ec) == 0);
    BOOST_TEST(ec == code(spindle::error::handler_failed));
    BOOST_CHECK_EXCEPTION(c.ask(fail_q{"again"}).get(), spindle::system_error,
                          has_code(spindle::error::handler_failed));
    // the actor was restarted (the default) and still answers
    BOOST_TEST(c.ask(total{}).get() == 0);
    BOOST_TEST(sys.stats().failures == 2u);
}

BOOST_AUTO_TEST_CASE(asks_in_flight_fail_when_the_actor_stops)
{
    spindle::system sys(manual_clock_options());
    scoped_gate g;
    auto handled = std::make_shared<std::atomic<int>>(0);
    auto c = sys.spawn<counter>(g.g, handled);

    auto running = c.ask(wait_q{1});
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    std::vector<spindle::ask_future<long>> queued;
    for(int i = 0; i < 5; ++i)
        queued.push_back(c.ask(total{}));
    auto queued_void = c.ask(add{1});

    c.stop(); // takes effect when the running handler returns
    g->open();

    BOOST_TEST(running.get() == 1); // the handler in progress finishes normally
    for(auto& f : queued)
    {
        auto r = within([&] { return f.result(); });
        BOOST_REQUIRE(r.has_error());
        BOOST_TEST(r.error() == code(spindle::error::actor_stopped));
    }
    auto rv = within([&] { return queued_void.result(); });
    BOOST_REQUIRE(rv.has_error());
    BOOST_TEST(rv.error() == code(spindle::error::actor_stopped));
    BOOST_TEST(handled->load() == 1);
    BOOST_REQUIRE(eventually([&] { return !c.alive(); }));
    BOOST_TEST(sys.stats().dead_letters == 6u);
}

namespace {

struct double_total
{
};

/// Answers by asking a counter from inside its own handler.
struct relay : spindle::actor<relay, double_total>
{
    spindle::actor_ref<counter> to_;
    explicit relay(spindle::actor_ref<counter> to) : to_(std::move(to)) {}
    long on(double_total) { return 2 * to_.ask(total{}).get(); }
};

} // namespace

BOOST_AUTO_TEST_CASE(blocking_ask_inside_a_handler)
{
    // one worker: the relay's wait must park its fiber, not the thread, or
    // the counter could never answer
    spindle::system sys(manual_clock_options(1));
    auto c = sys.spawn<counter>();
    auto r = sys.spawn<relay>(c);
    BOOST_TEST(c.tell(add{20}) == spindle::send_status::ok);
    BOOST_TEST(c.tell(add{1}) == spindle::send_status::ok);
    BOOST_TEST(within([&] { return r.ask(double_total{}).get(); }) == 42);
    std::vector<spindle::ask_future<long>> many;
    for(int i = 0; i < 100; ++i)
        many.push_back(r.ask(double_total{}));
    for(auto& f : many)
        BOOST_TEST(within([&] { return f.get(); }) == 42);
}

namespace {

struct echo
{
    std::uint64_t n;
};

struct echoer : spindle::actor<echoer, echo>
{
    std::shared_ptr<std::atomic<std::uint64_t>> handled_;
    explicit echoer(std::shared_ptr<std::atomic<std::uint64_t>> h) : handled_(std::move(h)) {}
    std::uint64_t on(echo e)
    {
        handled_->fetch_add(1);
        return e.n * 3 + 1;
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(ten_thousand_concurrent_asks_answered_exactly_once)
{
    constexpr unsigned threads = 4;
    constexpr unsigned fibers_per_thread = 25;
    constexpr unsigned asks_per_fiber = 100;
    constexpr std::uint64_t total_asks = std::uint64_t(threads) * fibers_per_thread * asks_per_fiber;
    static_assert(total_asks == 10'000);

    spindle::system sys(manual_clock_options());
    auto handled = std::make_shared<std::atomic<std::uint64_t>>(0);
    std::vector<spindle::actor_ref<echoer>> echoers;
    for(int i = 0; i < 4; ++i)
        echoers.push_back(sys.spawn<echoer>(handled));

    // answers[n] counts how often ask number n was answered, correctly
    std::vector<std::atomic<int>> answers(total_asks);
    std::atomic<std::uint64_t> wrong{0}, errors{0};
    std::vector<std::thread> pool;
    for(unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            std::vector<boost::fibers::fiber> fibers;
            for(unsigned f = 0; f < fibers_per_thread; ++f)
                fibers.emplace_back([&, t, f] {
                    std::uint64_t const base = (std::uint64_t(t) * fibers_per_thread + f) * asks_per_fiber;
                    // all of a fiber's asks are in flight at once
                    std::vector<spindle::ask_future<std::uint64_t>> pending;
                    for(unsigned i = 0; i < asks_per_fiber; ++i)
                        pending.push_back(echoers[(base + i) % echoers.size()].ask(echo{base + i}));
                    for(unsigned i = 0; i < asks_per_fiber; ++i)
                    {
                        auto r = pending[i].result();
                        if(!r)
                            errors.fetch_add(1);
                        else if(*r != (base + i) * 3 + 1)
                            wrong.fetch_add(1);
                        else
                            answers[base + i].fetch_add(1);
                    }
                });
            for(auto& f : fibers)
                f.join();
        });
    for(auto& t : pool)
        t.join();

    BOOST_TEST(errors.load() == 0u);
    BOOST_TEST(wrong.load() == 0u);
    std::uint64_t once = 0;
    for(auto const& a : answers)
        once += a.load() == 1;
    BOOST_TEST(once == total_asks);
    BOOST_TEST(handled->load() == total_asks);
    BOOST_TEST(sys.stats().dead_letters == 0u);
}
