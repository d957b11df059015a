//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/when.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/run_blocking.hpp>
#include <spindle/system.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <variant>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

struct get_value
{
    int n;
};
struct get_name
{
};

/// Answers after its gate opens (a slow replica); `fast` answers at once.
struct replica : spindle::actor<replica, get_value, get_name>
{
    std::shared_ptr<gate> gate_;
    std::string name_;

    replica(std::shared_ptr<gate> g, std::string name) : gate_(std::move(g)), name_(std::move(name)) {}

    int on(get_value v)
    {
        if(gate_)
            gate_->pass();
        return v.n;
    }

    std::string on(get_name)
    {
        if(gate_)
            gate_->pass();
        return name_;
    }
};

/** A minimal completion handle whose on_complete passes the value to the
    callback, as some task handles do: when_any must not care.
*/
class manual_task
{
    struct state
    {
        std::mutex m;
        bool done = false;
        int value = 0;
        std::vector<std::function<void(int const&)>> callbacks;
        boost::fibers::promise<void> p;
        boost::fibers::shared_future<void> f = p.get_future().share();
    };
    std::shared_ptr<state> s_ = std::make_shared<state>();

public:
    void complete(int v)
    {
        std::vector<std::function<void(int const&)>> cbs;
        {
            std::lock_guard lk(s_->m);
            s_->done = true;
            s_->value = v;
            cbs.swap(s_->callbacks);
        }
        s_->p.set_value();
        for(auto& cb : cbs)
            cb(v);
    }
    bool ready() const
    {
        std::lock_guard lk(s_->m);
        return s_->done;
    }
    void wait() const { s_->f.wait(); }
    int result() const
    {
        wait();
        return s_->value;
    }
    void on_complete(std::function<void(int const&)> cb)
    {
        {
            std::lock_guard lk(s_->m);
            if(!s_->done)
            {
                s_->callbacks.push_back(std::move(cb));
                return;
            }
        }
        cb(s_->value);
    }
};

static_assert(spindle::completion_handle<manual_task>);
static_assert(spindle::completion_handle<spindle::blocking_future<int>>);
static_assert(spindle::awaitable_result<spindle::ask_future<int>>);
static_assert(!spindle::completion_handle<spindle::ask_future<int>>);

} // namespace

BOOST_AUTO_TEST_CASE(when_all_over_asks_and_blocking_futures)
{
    spindle::system sys(workers(2));
    auto a = sys.spawn<replica>(nullptr, "a");
    auto ask_n = a.ask(get_value{5}, 1h);
    auto ask_name = a.ask(get_name{}, 1h);
    auto job = spindle::run_blocking(sys, [] { return 2.5; });
    watchdog w("when_all");
    auto [n, name, x] = spindle::when_all(ask_n, ask_name, job);
    BOOST_TEST(n.value() == 5);
    BOOST_TEST(name.value() == "a");
    BOOST_TEST(x.value() == 2.5);

    std::vector<spindle::ask_future<int>> asks;
    for(int i = 0; i < 20; ++i)
        asks.push_back(a.ask(get_value{i}, 1h));
    auto all = spindle::when_all(asks);
    BOOST_TEST_REQUIRE(all.size() == 20u);
    for(int i = 0; i < 20; ++i)
        BOOST_TEST(all[i].value() == i); // in input order
}

BOOST_AUTO_TEST_CASE(when_any_over_handles_reports_the_first_and_consumes_nothing)
{
    manual_task slow, fast, never;
    std::atomic<std::size_t> winner{99};
    std::thread waiter([&] { winner = spindle::when_any(slow, fast, never); });
    fast.complete(2);
    waiter.join();
    BOOST_TEST(winner.load() == 1u);
    BOOST_TEST(fast.result() == 2);
    slow.complete(1); // the callbacks left behind fire harmlessly
    BOOST_TEST(slow.result() == 1);
    BOOST_TEST(!never.ready());

    // several already complete: the first in argument order wins, without waiting
    BOOST_TEST(spindle::when_any(never, fast, slow) == 1u);

    std::vector<manual_task> tasks(5);
    std::thread completer([&] { tasks[3].complete(3); });
    BOOST_TEST(spindle::when_any(tasks) == 3u);
    completer.join();
    std::vector<manual_task> none;
    BOOST_CHECK_EXCEPTION(spindle::when_any(none), spindle::system_error,
                          has_code(spindle::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(when_any_and_when_all_honour_a_stop_token)
{
    manual_task a, b;
    std::stop_source stop;
    boost::system::result<std::size_t> any = 0u;
    std::thread waiter([&] { any = spindle::when_any(stop.get_token(), a, b); });
    stop.request_stop();
    waiter.join();
    BOOST_TEST(any.error() == code(spindle::error::cancelled));
    auto all = spindle::when_all(stop.get_token(), a, b);
    BOOST_TEST(all.error() == code(spindle::error::cancelled));
    a.complete(1);
    b.complete(2);
    std::stop_source idle;
    auto done = spindle::when_all(idle.get_token(), a, b);
    BOOST_TEST_REQUIRE(done.has_value());
    BOOST_TEST(std::get<0>(*done) == 1);
    BOOST_TEST(std::get<1>(*done) == 2);
    std::vector<manual_task> ts{a, b};
    auto v = spindle::when_all(idle.get_token(), ts);
    BOOST_TEST_REQUIRE(v.has_value());
    BOOST_TEST((*v == std::vector<int>{1, 2}));
}

BOOST_AUTO_TEST_CASE(when_any_over_asks_returns_the_first_reply)
{
    spindle::system sys(workers(2));
    scoped_gate slow_gate;
    auto slow = sys.spawn<replica>(slow_gate.g, "slow");
    auto fast = sys.spawn<replica>(nullptr, "fast");
    watchdog w("when_any over asks");

    auto r = spindle::when_any(slow.ask(get_value{1}, 1h), fast.ask(get_name{}, 1h));
    BOOST_TEST(r.index == 1u);
    BOOST_TEST_REQUIRE(r.value.index() == 1u);
    BOOST_TEST(std::get<1>(r.value).value() == "fast");

    std::vector<spindle::ask_future<int>> asks;
    asks.push_back(slow.ask(get_value{10}, 1h));
    asks.push_back(slow.ask(get_value{11}, 1h));
    asks.push_back(fast.ask(get_value{12}, 1h));
    auto v = spindle::when_any(std::move(asks));
    BOOST_TEST(v.index == 2u);
    BOOST_TEST(v.value.value() == 12);

    // a stop request ends the race; the asks are the race's and complete later
    std::stop_source stop;
    stop.request_stop();
    auto c = spindle::when_any(stop.get_token(), slow.ask(get_value{20}, 1h));
    BOOST_TEST(c.error() == code(spindle::error::cancelled));
    slow_gate->open(); // the losers' fibers finish
    BOOST_REQUIRE(eventually([&] { return slow_gate->entered() == 4; }));
}

BOOST_AUTO_TEST_CASE(when_any_over_asks_from_inside_a_handler)
{
    struct race
    {
    };
    struct racer : spindle::actor<racer, race>
    {
        spindle::actor_ref<replica> a, b;
        racer(spindle::actor_ref<replica> x, spindle::actor_ref<replica> y) : a(std::move(x)), b(std::move(y)) {}
        std::size_t on(race)
        {
            // parks this actor's fiber; the waiting fibers run on the same worker
            return spindle::when_any(a.ask(get_value{1}, 1h), b.ask(get_value{2}, 1h)).index;
        }
    };
    spindle::system sys(workers(2));
    scoped_gate slow_gate;
    auto slow = sys.spawn<replica>(slow_gate.g, "slow");
    auto fast = sys.spawn<replica>(nullptr, "fast");
    auto r = sys.spawn<racer>(slow, fast);
    watchdog w("race in a handler");
    BOOST_TEST(r.ask(race{}, 1h).get() == 1u);
    slow_gate->open();
}
