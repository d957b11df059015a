//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The system's timers as actors use them, on a manual clock: delayed and
// periodic sends fire exactly when due, cancel works, a periodic send to a
// stopped actor cancels itself and ask timeouts leave no timers behind.

#include <spindle/system.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/manual_clock.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

struct note
{
    int value;
};
struct count {};
struct block {};

// Records the notes it gets.
struct recorder : spindle::actor<recorder, note, count, block>
{
    std::shared_ptr<gate> gate_;
    std::vector<int> notes;

    explicit recorder(std::shared_ptr<gate> g) : gate_(std::move(g)) {}

    void on(note n) { notes.push_back(n.value); }
    std::vector<int> on(count) { return notes; }
    int on(block)
    {
        gate_->pass();
        return 1;
    }
};

struct fixture
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys{manual_clock_options(2, clock)};
    scoped_gate held; // after the system, so it opens before the system shuts down
    spindle::actor_ref<recorder> rec = sys.spawn<recorder>(held.g);

    /** The notes the recorder has handled. The ask travels from this
        thread, which is also the thread whose advance() fires the timers,
        so it is queued behind every note a timer sent before it.
    */
    std::vector<int> notes()
    {
        watchdog wd("ask count");
        return rec.ask(count{}).get();
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(timers, fixture)

BOOST_AUTO_TEST_CASE(send_after_delivers_exactly_at_the_deadline)
{
    auto const id = sys.send_after(rec, 1s, note{42});
    BOOST_TEST(!!id);
    BOOST_TEST(sys.timers().pending() == 1u);

    clock->advance(1s - 1ns);
    BOOST_TEST(sys.timers().pending() == 1u);
    BOOST_TEST(notes().empty());

    clock->advance(1ns);
    BOOST_TEST(sys.timers().pending() == 0u);
    BOOST_TEST((notes() == std::vector<int>{42}));

    // a one-shot timer fires once
    clock->advance(1h);
    BOOST_TEST((notes() == std::vector<int>{42}));
    BOOST_TEST(!sys.timers().cancel(id)); // already fired
}

BOOST_AUTO_TEST_CASE(send_after_cancelled_before_the_deadline_delivers_nothing)
{
    auto const id = sys.send_after(rec, 1s, note{1});
    clock->advance(500ms);
    BOOST_TEST(sys.timers().cancel(id));
    BOOST_TEST(!sys.timers().cancel(id)); // only once
    BOOST_TEST(sys.timers().pending() == 0u);
    clock->advance(1h);
    BOOST_TEST(notes().empty());
}

BOOST_AUTO_TEST_CASE(send_periodically_fires_once_per_period)
{
    auto const id = sys.send_periodically(rec, 100ms, note{7});
    BOOST_TEST(sys.timers().pending() == 1u);

    clock->advance(100ms - 1ns);
    BOOST_TEST(notes().empty()); // the first firing is one period out

    clock->advance(1ns);
    BOOST_TEST(notes().size() == 1u);

    // four more periods in one advance fire four times, not once
    clock->advance(400ms);
    BOOST_TEST(notes().size() == 5u);

    for(int k = 0; k < 5; ++k)
        clock->advance(100ms);
    BOOST_TEST((notes() == std::vector<int>(10, 7)));

    clock->advance(99ms);
    BOOST_TEST(notes().size() == 10u);
    BOOST_TEST(sys.timers().pending() == 1u);

    BOOST_TEST(sys.timers().cancel(id));
    BOOST_TEST(sys.timers().pending() == 0u);
    clock->advance(10s);
    BOOST_TEST(notes().size() == 10u);
}

BOOST_AUTO_TEST_CASE(periodic_send_to_a_stopped_actor_cancels_itself)
{
    std::atomic<int> dead{0};
    sys.on_dead_letter([&](spindle::dead_letter const& d) {
        if(d.receiver == rec.id())
            dead.fetch_add(1);
    });
    sys.send_periodically(rec, 1s, note{1});
    clock->advance(3s);
    BOOST_TEST(notes().size() == 3u);

    rec.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !rec.alive(); }));
    BOOST_TEST(sys.timers().pending() == 1u);

    clock->advance(1s); // this tick finds the actor stopped
    BOOST_TEST(sys.timers().pending() == 0u);
    BOOST_TEST(dead.load() == 1);
    clock->advance(10s);
    BOOST_TEST(dead.load() == 1); // no further ticks
}

BOOST_AUTO_TEST_CASE(answered_asks_leave_no_pending_timers)
{
    BOOST_TEST(sys.timers().pending() == 0u);
    std::vector<spindle::ask_future<std::vector<int>>> futures;
    for(int i = 0; i < 100; ++i)
        futures.push_back(rec.ask(count{}, 1h));
    {
        watchdog wd("asks");
        for(auto& f : futures)
            BOOST_TEST(f.get().empty());
    }
    BOOST_TEST(sys.timers().pending() == 0u);
    // also with the system's default timeout
    BOOST_TEST(notes().empty());
    BOOST_TEST(sys.timers().pending() == 0u);
}

BOOST_AUTO_TEST_CASE(ask_times_out_exactly_at_its_timeout)
{
    auto f = rec.ask(block{}, 1s);
    BOOST_TEST_REQUIRE(eventually([&] { return held->entered() == 1; }));
    BOOST_TEST(sys.timers().pending() == 1u);

    clock->advance(1s - 1ns);
    BOOST_TEST(sys.timers().pending() == 1u); // not timed out yet

    clock->advance(1ns);
    BOOST_TEST(sys.timers().pending() == 0u);
    boost::system::error_code ec;
    {
        watchdog wd("get of a timed-out ask");
        f.get(ec);
    }
    BOOST_TEST(ec == make_error_code(spindle::error::ask_timeout));

    // the late reply is dropped quietly and the actor carries on
    held->open();
    BOOST_TEST(notes().empty());
    BOOST_TEST(sys.timers().pending() == 0u);
    BOOST_TEST(rec.alive());
}

BOOST_AUTO_TEST_CASE(send_after_to_an_actor_that_stopped_is_a_dead_letter)
{
    std::atomic<int> dead{0};
    sys.on_dead_letter([&](spindle::dead_letter const& d) {
        if(d.receiver == rec.id() && d.reason == spindle::error::actor_stopped)
            dead.fetch_add(1);
    });
    sys.send_after(rec, 1s, note{1});
    rec.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !rec.alive(); }));
    clock->advance(1s);
    BOOST_TEST(dead.load() == 1);
    BOOST_TEST(sys.timers().pending() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
