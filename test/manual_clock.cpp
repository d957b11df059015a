//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/manual_clock.hpp>

#include <boost/test/unit_test.hpp>

#include <spindle/timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using spindle::manual_clock;
using spindle::timer_service;

namespace {

struct fixture
{
    std::shared_ptr<manual_clock> clock = std::make_shared<manual_clock>();
    timer_service timers{clock};
};

} // namespace

BOOST_AUTO_TEST_CASE(starts_at_its_epoch_and_moves_only_when_advanced)
{
    manual_clock c;
    BOOST_TEST((c.now() == manual_clock::default_epoch));
    BOOST_TEST((c.now() > manual_clock::time_point{}));

    auto const start = manual_clock::time_point{} + 42s;
    manual_clock d(start);
    BOOST_TEST((d.now() == start));
    d.advance(1500ms);
    BOOST_TEST((d.now() == start + 1500ms));
    d.advance_to(start + 10s);
    BOOST_TEST((d.now() == start + 10s));
    d.advance_to(start + 10s); // same time is allowed
    d.advance(0ns);
    BOOST_TEST((d.now() == start + 10s));
}

BOOST_AUTO_TEST_CASE(refuses_to_go_backwards)
{
    manual_clock c;
    auto const before = c.now();
    boost::system::error_code ec;
    c.advance(-1ns, ec);
    BOOST_TEST((ec == spindle::error::invalid_argument));
    c.advance_to(before - 1ns, ec);
    BOOST_TEST((ec == spindle::error::invalid_argument));
    BOOST_TEST((c.now() == before));

    c.advance(1ms, ec);
    BOOST_TEST(!ec);

    BOOST_CHECK_EXCEPTION(c.advance(-1ms), spindle::system_error,
                          [](auto const& e) { return e.code() == spindle::error::invalid_argument; });
    BOOST_CHECK_EXCEPTION(c.advance_to(before), spindle::system_error,
                          [](auto const& e) { return e.code() == spindle::error::invalid_argument; });
    BOOST_TEST((c.now() == before + 1ms));
}

BOOST_FIXTURE_TEST_CASE(fires_in_deadline_order_with_ties_in_start_order, fixture)
{
    std::vector<int> order;
    timers.start(30ms, [&] { order.push_back(30); });
    timers.start(10ms, [&] { order.push_back(10); });
    timers.start(20ms, [&] { order.push_back(21); });
    timers.start(20ms, [&] { order.push_back(22); });
    timers.start_at(clock->now() + 20ms, [&] { order.push_back(23); });
    timers.start(40ms, [&] { order.push_back(40); });

    clock->advance(35ms);
    BOOST_TEST(order == (std::vector<int>{10, 21, 22, 23, 30}), boost::test_tools::per_element());
    BOOST_TEST(timers.pending() == 1u);
    clock->advance(5ms);
    BOOST_TEST(order.back() == 40);
    BOOST_TEST(timers.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(orders_timers_of_several_services_on_one_clock)
{
    auto clock = std::make_shared<manual_clock>();
    timer_service a(clock);
    timer_service b(clock);
    std::vector<int> order;
    b.start(20ms, [&] { order.push_back(1); });
    a.start(20ms, [&] { order.push_back(2); });
    a.start(10ms, [&] { order.push_back(0); });
    b.start(20ms, [&] { order.push_back(3); });
    clock->advance(1s);
    BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(now_is_the_deadline_while_a_callback_runs, fixture)
{
    auto const t0 = clock->now();
    std::vector<manual_clock::time_point> seen;
    timers.start(7ms, [&] { seen.push_back(clock->now()); });
    timers.start(3ms, [&] { seen.push_back(timers.now()); });
    clock->advance(1s);
    BOOST_REQUIRE(seen.size() == 2u);
    BOOST_TEST((seen[0] == t0 + 3ms));
    BOOST_TEST((seen[1] == t0 + 7ms));
    BOOST_TEST((clock->now() == t0 + 1s));
}

BOOST_FIXTURE_TEST_CASE(periodic_fires_once_per_period_advanced, fixture)
{
    auto const t0 = clock->now();
    std::vector<manual_clock::time_point> seen;
    timers.start_periodic(10ms, 10ms, [&] { seen.push_back(clock->now()); });

    clock->advance(100ms);
    BOOST_REQUIRE(seen.size() == 10u);
    for(std::size_t i = 0; i < seen.size(); ++i)
        BOOST_TEST((seen[i] == t0 + (i + 1) * 10ms));

    clock->advance(9ms);
    BOOST_TEST(seen.size() == 10u);
    clock->advance(1ms);
    BOOST_TEST(seen.size() == 11u);

    // Small steps give the same count as one big step.
    for(int i = 0; i < 40; ++i)
        clock->advance(2500us);
    BOOST_TEST(seen.size() == 21u);
    BOOST_TEST(timers.pending() == 1u);
}

BOOST_FIXTURE_TEST_CASE(timer_started_by_a_callback_fires_in_the_same_advance, fixture)
{
    auto const t0 = clock->now();
    std::vector<manual_clock::time_point> seen;
    timers.start(10ms, [&] {
        seen.push_back(clock->now());
        timers.start(15ms, [&] {
            seen.push_back(clock->now());
            timers.start(100ms, [&] { seen.push_back(clock->now()); }); // beyond the advance
        });
    });
    clock->advance(50ms);
    BOOST_REQUIRE(seen.size() == 2u);
    BOOST_TEST((seen[0] == t0 + 10ms));
    BOOST_TEST((seen[1] == t0 + 25ms));
    BOOST_TEST(timers.pending() == 1u);
    clock->advance(75ms);
    BOOST_REQUIRE(seen.size() == 3u);
    BOOST_TEST((seen[2] == t0 + 125ms));
}

BOOST_FIXTURE_TEST_CASE(past_deadline_fires_at_next_advance_without_moving_time_back, fixture)
{
    clock->advance(1s);
    auto const now = clock->now();
    int fired = 0;
    manual_clock::time_point seen;
    timers.start_at(now - 500ms, [&] {
        ++fired;
        seen = clock->now();
    });
    timers.start(-5s, [&] { ++fired; }); // negative delay counts as zero
    BOOST_TEST(fired == 0); // starting never fires synchronously
    clock->advance(0ns);
    BOOST_TEST(fired == 2);
    BOOST_TEST((seen == now));
    BOOST_TEST((clock->now() == now));
}

BOOST_FIXTURE_TEST_CASE(callback_may_advance_the_clock_again, fixture)
{
    auto const t0 = clock->now();
    std::vector<int> order;
    timers.start(10ms, [&] {
        order.push_back(1);
        clock->advance(10ms); // nested: fires the 15 ms timer
        order.push_back(3);
    });
    timers.start(15ms, [&] { order.push_back(2); });
    timers.start(30ms, [&] { order.push_back(4); });
    clock->advance(30ms);
    BOOST_TEST(order == (std::vector<int>{1, 2, 3, 4}), boost::test_tools::per_element());
    BOOST_TEST((clock->now() == t0 + 30ms));
}

BOOST_FIXTURE_TEST_CASE(concurrent_advances_are_serialised, fixture)
{
    auto const t0 = clock->now();
    std::atomic<int> ticks{0};
    std::atomic<int> inside{0};
    std::atomic<bool> overlapped{false};
    timers.start_periodic(1ms, 1ms, [&] {
        if(inside.fetch_add(1) != 0)
            overlapped = true;
        ticks.fetch_add(1, std::memory_order_relaxed);
        inside.fetch_sub(1);
    });
    auto advancer = [&] {
        for(int i = 0; i < 500; ++i)
            clock->advance(1ms);
    };
    std::thread a(advancer);
    std::thread b(advancer);
    a.join();
    b.join();
    BOOST_TEST(ticks.load() == 1000);
    BOOST_TEST(!overlapped.load());
    BOOST_TEST((clock->now() == t0 + 1000ms));
}

BOOST_FIXTURE_TEST_CASE(other_threads_start_and_cancel_while_one_advances, fixture)
{
    constexpr int per_thread = 2000;
    std::atomic<int> fired{0};
    std::atomic<int> cancelled{0};
    std::atomic<bool> done{false};
    std::atomic<bool> went_back{false};
    std::thread advancer([&] {
        while(!done.load())
            clock->advance(1ms);
    });
    auto worker = [&](int salt) {
        for(int i = 0; i < per_thread; ++i)
        {
            auto id = timers.start(std::chrono::milliseconds((i * 7 + salt) % 5), [&] { fired.fetch_add(1); });
            if(i % 3 == 0 && timers.cancel(id))
                cancelled.fetch_add(1);
            if(clock->now() < manual_clock::default_epoch)
                went_back = true; // Boost.Test assertions are not thread-safe
        }
    };
    std::thread w1(worker, 1);
    std::thread w2(worker, 2);
    w1.join();
    w2.join();
    done = true;
    advancer.join();
    clock->advance(1s);
    // Every timer either fired exactly once or was cancelled.
    BOOST_TEST(fired.load() + cancelled.load() == 2 * per_thread);
    BOOST_TEST(timers.pending() == 0u);
    BOOST_TEST(!went_back.load());
}

BOOST_AUTO_TEST_CASE(advancing_after_a_service_is_gone_is_fine)
{
    auto clock = std::make_shared<manual_clock>();
    int fired = 0;
    {
        timer_service gone(clock);
        gone.start(1ms, [&] { ++fired; });
    }
    timer_service alive(clock);
    alive.start(2ms, [&] { fired += 10; });
    clock->advance(5ms);
    BOOST_TEST(fired == 10);
}
