//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Backpressure as users rely on it: `block` suspends only the producing
// fiber (an actor on the same, only worker keeps answering), `buffer`
// drops the oldest items, `drop` the newest, `wait` fails with "sink full"
// after its wait on the system clock (and goes on if room comes in time),
// the threshold counts backpressure events, and under every strategy the
// counts add up item by item, through flat_map and batch.

#include <spindle/stream.hpp>

#include <boost/test/unit_test.hpp>

#include "stream_support.hpp"
#include "support.hpp"

#include <spindle/manual_clock.hpp>
#include <spindle/system.hpp>

#include <boost/fiber/operations.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace stream_test;
using spindle_test::eventually;

namespace {

struct ping
{
};

struct echo : spindle::actor<echo, ping>
{
    int on(ping) { return 42; }
};

std::vector<int> iota_vec(int n)
{
    std::vector<int> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

/// A sink that records items and stops at the gate on item 0.
auto gated_sink(std::shared_ptr<spindle_test::gate> g, std::shared_ptr<spindle_test::history<int>> seen)
{
    return [g = std::move(g), seen = std::move(seen)](int x) {
        seen->push(x);
        if(x == 0)
            g->pass();
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream_backpressure)

BOOST_AUTO_TEST_CASE(block_never_blocks_a_worker_thread)
{
    // one worker thread: the stream's fibers and the actor below share it
    spindle::system sys(spindle_test::workers(1));
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto h = spindle::from_range(iota_vec(100))
                 .for_each(gated_sink(gate.g, seen), buffered(buffer(4, spindle::backpressure::block)))
                 .run(sys);
    // The sink waits at the gate with item 0, items 1-4 fill its buffer, and
    // the source is suspended pushing item 5.
    BOOST_REQUIRE(eventually([&] {
        auto const s = h.stats();
        return gate->entered() == 1 && s.stages.back().buffer_depth == 4 && s.stages.front().out == 6;
    }));
    auto e = sys.spawn<echo>();
    {
        spindle_test::watchdog w("an actor on the blocked stream's worker");
        BOOST_TEST(e.ask(ping{}).get() == 42);
    }
    BOOST_TEST(h.stats().stages.front().out == 6u); // still suspended: nothing was lost or pushed past the limit
    BOOST_TEST(!h.ready());
    gate->open();
    spindle_test::watchdog w("block");
    h.get();
    BOOST_TEST(seen->snapshot() == iota_vec(100), boost::test_tools::per_element());
    auto const s = h.stats();
    BOOST_TEST(s.dropped == 0u);
    check_accounting(s);
}

BOOST_AUTO_TEST_CASE(buffer_drops_the_oldest)
{
    spindle::system sys(spindle_test::workers(2));
    spindle::push_source<int> src(100);
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto h = spindle::from_source(src)
                 .for_each(gated_sink(gate.g, seen), buffered(buffer(3, spindle::backpressure::buffer)))
                 .run(sys);
    spindle_test::watchdog w("drop oldest");
    src.push(0);
    BOOST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
    for(int i = 1; i < 10; ++i)
        src.push(i);
    // nine items into a buffer of three: six dropped, the newest kept
    BOOST_REQUIRE(eventually([&] { return h.stats().stages.back().dropped == 6; }));
    BOOST_TEST(h.stats().stages.back().buffer_depth == 3u);
    gate->open();
    src.close();
    h.get();
    BOOST_TEST(seen->snapshot() == (std::vector<int>{0, 7, 8, 9}), boost::test_tools::per_element());
    auto const s = h.stats();
    BOOST_TEST(s.dropped == 6u);
    BOOST_TEST(s.out == 4u);
    check_accounting(s);
}

BOOST_AUTO_TEST_CASE(drop_drops_the_newest)
{
    spindle::system sys(spindle_test::workers(2));
    spindle::push_source<int> src(100);
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto h = spindle::from_source(src)
                 .for_each(gated_sink(gate.g, seen), buffered(buffer(3, spindle::backpressure::drop)))
                 .run(sys);
    spindle_test::watchdog w("drop newest");
    src.push(0);
    BOOST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
    for(int i = 1; i < 10; ++i)
        src.push(i);
    BOOST_REQUIRE(eventually([&] { return h.stats().stages.back().dropped == 6; }));
    gate->open();
    src.close();
    h.get();
    BOOST_TEST(seen->snapshot() == (std::vector<int>{0, 1, 2, 3}), boost::test_tools::per_element());
    auto const s = h.stats();
    BOOST_TEST(s.dropped == 6u);
    BOOST_TEST(s.stages.back().dropped == 6u);
    BOOST_TEST(s.out == 4u);
    BOOST_TEST(s.in == 10u);
    check_accounting(s);
}

// issue 19, item 6: drop and buffer must be seen to drop, by exact counts,
// also when the buffer holds batches (each dropped batch counts its items)
BOOST_AUTO_TEST_CASE(drop_and_buffer_drop_exact_counts_of_batches)
{
    for(auto strategy : {spindle::backpressure::drop, spindle::backpressure::buffer})
    {
        BOOST_TEST_CONTEXT("strategy " << strategy)
        {
            spindle::system sys(spindle_test::workers(2));
            spindle::push_source<int> src(100);
            spindle_test::scoped_gate gate;
            auto seen = std::make_shared<spindle_test::history<int>>();
            auto g = gate.g;
            auto h = spindle::from_source(src)
                         .batch(2, 1h)
                         .for_each(
                             [g, seen](std::vector<int> v) {
                                 for(int x : v)
                                     seen->push(x);
                                 if(v.front() == 0)
                                     g->pass();
                             },
                             buffered(buffer(2, strategy)))
                         .run(sys);
            spindle_test::watchdog w("drop batches");
            src.push(0);
            src.push(1);
            BOOST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
            // five batches of two into a buffer of two: three batches dropped
            for(int i = 2; i < 12; ++i)
                src.push(i);
            BOOST_REQUIRE(eventually([&] { return h.stats().stages.back().dropped == 6; }));
            BOOST_TEST(h.stats().stages.back().buffer_depth == 2u);
            gate->open();
            src.close();
            h.get();
            auto const expect = strategy == spindle::backpressure::drop ? std::vector<int>{0, 1, 2, 3, 4, 5}
                                                                        : std::vector<int>{0, 1, 8, 9, 10, 11};
            BOOST_TEST(seen->snapshot() == expect, boost::test_tools::per_element());
            auto const s = h.stats();
            BOOST_TEST(s.in == 12u);
            BOOST_TEST(s.dropped == 6u);
            BOOST_TEST(s.out == 6u);
            BOOST_TEST(s.discarded == 0u);
            check_accounting(s);
        }
    }
}

BOOST_AUTO_TEST_CASE(wait_fails_after_its_wait)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    spindle::push_source<int> src(100);
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto b = buffer(2, spindle::backpressure::wait);
    b.wait = 100ms;
    auto h = spindle::from_source(src).for_each(gated_sink(gate.g, seen), buffered(b, "slow")).run(sys, stream_named("w"));
    spindle_test::watchdog w("wait");
    src.push(0);
    BOOST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
    for(int i = 1; i < 4; ++i)
        src.push(i);
    // items 1 and 2 fill the buffer; the source waits to push 3, on the system clock
    BOOST_REQUIRE(eventually([&] { return sys.timers().pending() == 1; }));
    clock->advance(99ms);
    BOOST_TEST(h.failed_stage().empty());
    BOOST_TEST(!h.ready());
    clock->advance(1ms);
    BOOST_REQUIRE(eventually([&] { return h.failed_stage() == "slow"; }));
    gate->open(); // the sink's function ignores the stream's stop token: the end waits for it
    auto const& r = h.result();
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == make_error_code(spindle::stream_error::sink_full));
    BOOST_TEST(h.failure_message() ==
               "stream 'w': stage 'slow' failed: sink full: its buffer of 2 items stayed full for 100 ms");
}

// issue 19, item 5: behind batch() the buffer holds batches, and says so
BOOST_AUTO_TEST_CASE(wait_names_batches_as_batches)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    spindle::push_source<int> src(100);
    spindle_test::scoped_gate gate;
    auto g = gate.g;
    auto b = buffer(2, spindle::backpressure::wait);
    b.wait = 100ms;
    auto h = spindle::from_source(src)
                 .batch(3, 1h)
                 .for_each(
                     [g](std::vector<int> v) {
                         if(v.front() == 0)
                             g->pass();
                     },
                     buffered(b, "slow"))
                 .run(sys, stream_named("wb"));
    spindle_test::watchdog w("wait batches");
    for(int i = 0; i < 3; ++i)
        src.push(i);
    BOOST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
    for(int i = 3; i < 12; ++i)
        src.push(i);
    // two batches fill the buffer; the batch stage waits to push the third
    BOOST_REQUIRE(eventually([&] {
        auto const st = h.stats();
        return st.stages.back().buffer_depth == 2 && st.stages[1].out == 12; // counted before the push
    }));
    // the wait's timer may be armed just after: advance until it fired
    BOOST_REQUIRE(eventually([&] {
        clock->advance(100ms);
        return h.failed_stage() == "slow";
    }));
    gate->open();
    src.close();
    auto const& r = h.result();
    BOOST_REQUIRE(!r);
    BOOST_TEST(h.failure_message() ==
               "stream 'wb': stage 'slow' failed: sink full: its buffer of 2 batches (of up to 3 source items "
               "each, so up to 6 source items; the stream's counts are in source items) stayed full for 100 ms");
    // and what the failure left behind is counted
    auto const s = h.stats();
    BOOST_TEST(s.in == 12u);
    BOOST_TEST(s.in == s.out + s.filtered + s.dropped + s.errors + s.discarded);
    BOOST_TEST(s.discarded > 0u);
}

BOOST_AUTO_TEST_CASE(wait_goes_on_when_room_comes_in_time)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    spindle::push_source<int> src(100);
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto b = buffer(2, spindle::backpressure::wait);
    b.wait = 100ms;
    auto h = spindle::from_source(src).for_each(gated_sink(gate.g, seen), buffered(b)).run(sys);
    spindle_test::watchdog w("wait in time");
    src.push(0);
    BOOST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
    for(int i = 1; i < 4; ++i)
        src.push(i);
    BOOST_REQUIRE(eventually([&] { return sys.timers().pending() == 1; }));
    clock->advance(50ms);
    gate->open(); // the sink catches up before the wait is over
    BOOST_REQUIRE(eventually([&] { return seen->size() == 4; }));
    src.close();
    h.get();
    BOOST_TEST(seen->snapshot() == iota_vec(4), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_threshold_counts_backpressure_events)
{
    spindle::system sys(spindle_test::workers(2));
    spindle::push_source<int> src(100);
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto b = buffer(10);
    b.threshold = 0.5;
    auto h = spindle::from_source(src).for_each(gated_sink(gate.g, seen), buffered(b)).run(sys);
    spindle_test::watchdog w("threshold");
    src.push(0);
    BOOST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
    auto sink = [&] { return h.stats().stages.back(); };
    for(int i = 1; i <= 4; ++i)
        src.push(i);
    BOOST_REQUIRE(eventually([&] { return sink().buffer_depth == 4; }));
    BOOST_TEST(sink().backpressure_events == 0u); // below half full
    src.push(5);
    BOOST_REQUIRE(eventually([&] { return sink().buffer_depth == 5; }));
    BOOST_TEST(sink().backpressure_events == 1u); // passed it
    for(int i = 6; i < 10; ++i)
        src.push(i);
    BOOST_REQUIRE(eventually([&] { return sink().buffer_depth == 9; }));
    BOOST_TEST(sink().backpressure_events == 1u); // still above: the same event
    BOOST_TEST(h.stats().backpressure_events == 1u);
    gate->open();
    src.close();
    h.get();
    BOOST_TEST(seen->snapshot() == iota_vec(10), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(counts_add_up_under_every_strategy)
{
    int const n = 20000;
    // what the stages do, computed here item by item
    std::uint64_t created = 0, filtered = 0, errors = 0, delivered = 0;
    for(int x = 0; x < n; ++x)
    {
        if(x % 10 == 0)
        {
            ++filtered; // flat_map makes nothing of it
            continue;
        }
        int const copies = x % 3 == 0 ? 2 : 1;
        created += static_cast<std::uint64_t>(copies - 1);
        for(int c = 0; c < copies; ++c)
        {
            if(x % 7 == 0)
                ++filtered;
            else if(x % 11 == 0)
                ++errors;
            else
                ++delivered;
        }
    }
    for(auto strategy : {spindle::backpressure::block, spindle::backpressure::wait, spindle::backpressure::drop,
                         spindle::backpressure::buffer})
    {
        BOOST_TEST_CONTEXT("strategy " << strategy)
        {
            spindle::system sys(spindle_test::workers(2));
            auto got = std::make_shared<std::atomic<std::uint64_t>>(0);
            auto b = buffer(4, strategy);
            b.wait = std::chrono::hours(1);
            auto h = spindle::from_range(iota_vec(n))
                         .flat_map([](int x) {
                             if(x % 10 == 0)
                                 return std::vector<int>{};
                             if(x % 3 == 0)
                                 return std::vector<int>{x, x};
                             return std::vector<int>{x};
                         })
                         .filter([](int x) { return x % 7 != 0; })
                         .map(
                             [](int x) {
                                 if(x % 11 == 0)
                                     throw std::runtime_error("bad");
                                 return x;
                             },
                             on_error(spindle::error_action::skip))
                         .batch(8, 1h)
                         .for_each(
                             [got](std::vector<int> v) {
                                 got->fetch_add(v.size());
                                 boost::this_fiber::yield(); // a slower sink
                             },
                             buffered(b))
                         .run(sys);
            spindle_test::watchdog w("counts add up");
            h.get();
            auto const s = h.stats();
            check_accounting(s);
            BOOST_TEST(s.in == static_cast<std::uint64_t>(n) + created);
            BOOST_TEST(s.filtered == filtered);
            BOOST_TEST(s.errors == errors);
            BOOST_TEST(s.out == got->load()); // counted per item, not per batch
            BOOST_TEST(s.out + s.dropped == delivered);
            if(strategy == spindle::backpressure::block || strategy == spindle::backpressure::wait)
                BOOST_TEST(s.dropped == 0u);
            // (how many drop and buffer drop here depends on the speed of
            // the sink: drop_and_buffer_drop_exact_counts_of_batches pins it)
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
