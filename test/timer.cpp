//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/timer.hpp>

#include <boost/test/unit_test.hpp>

#include <spindle/manual_clock.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <unordered_set>
#include <vector>

using namespace std::chrono_literals;
using spindle::manual_clock;
using spindle::timer_id;
using spindle::timer_service;

namespace {

struct fixture
{
    std::shared_ptr<manual_clock> clock = std::make_shared<manual_clock>();
    timer_service timers{clock};
};

// Counts how often it was invoked and destroyed (copies are not counted).
struct probe
{
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    std::shared_ptr<std::atomic<int>> destroyed = std::make_shared<std::atomic<int>>(0);

    struct callable
    {
        std::shared_ptr<std::atomic<int>> calls;
        std::shared_ptr<std::atomic<int>> destroyed;
        callable(std::shared_ptr<std::atomic<int>> c, std::shared_ptr<std::atomic<int>> d)
            : calls(std::move(c)), destroyed(std::move(d))
        {
        }
        callable(callable&&) noexcept = default;
        ~callable()
        {
            if(destroyed)
                destroyed->fetch_add(1);
        }
        void operator()() const { calls->fetch_add(1); }
    };

    callable make() const { return callable(calls, destroyed); }
};

// Polls (without any timing assertion) until `pred` holds.
template<class Pred>
void wait_until_true(Pred pred)
{
    while(!pred())
        std::this_thread::sleep_for(100us);
}

// A generous bound for real-time tests: they check that things happen, never
// how fast.
constexpr auto patience = 5s;

} // namespace

//------------------------------------------------------------------------------
// timer_id and callbacks

BOOST_AUTO_TEST_CASE(timer_id_is_a_small_value_type)
{
    timer_id none;
    BOOST_TEST(!none);
    BOOST_TEST(none.value() == 0u);
    timer_id a(7);
    BOOST_TEST(static_cast<bool>(a));
    BOOST_TEST((a == timer_id(7)));
    BOOST_TEST((a != none));
    BOOST_TEST((none < a));
    BOOST_TEST(std::hash<timer_id>{}(a) == std::hash<std::uint64_t>{}(7));
    static_assert(sizeof(timer_id) == sizeof(std::uint64_t));
    static_assert(std::is_trivially_copyable_v<timer_id>);
}

BOOST_FIXTURE_TEST_CASE(ids_are_distinct_and_valid, fixture)
{
    std::unordered_set<timer_id> ids;
    for(int i = 0; i < 100; ++i)
    {
        auto id = timers.start(1ms, [] {});
        BOOST_TEST(static_cast<bool>(id));
        ids.insert(id);
    }
    clock->advance(1ms); // frees the slots; new ids must still differ from old ones
    for(int i = 0; i < 100; ++i)
        ids.insert(timers.start(1ms, [] {}));
    BOOST_TEST(ids.size() == 200u);
}

BOOST_FIXTURE_TEST_CASE(accepts_move_only_and_large_callbacks, fixture)
{
    int got = 0;
    auto owned = std::make_unique<int>(5);
    timers.start(1ms, [&got, p = std::move(owned)] { got += *p; });

    std::array<char, 256> big{};
    big[255] = 3;
    timers.start(1ms, [&got, big] { got += big[255]; });

    std::function<void()> f = [&got] { got += 100; };
    timers.start(1ms, f);
    clock->advance(1ms);
    BOOST_TEST(got == 108);
}

BOOST_FIXTURE_TEST_CASE(rejects_empty_callbacks_and_bad_periods, fixture)
{
    boost::system::error_code ec;
    std::function<void()> empty;
    BOOST_TEST(!timers.start(1ms, empty, ec));
    BOOST_TEST((ec == spindle::error::invalid_argument));
    void (*null_fn)() = nullptr;
    BOOST_TEST(!timers.start_at(timers.now(), null_fn, ec));
    BOOST_TEST((ec == spindle::error::invalid_argument));
    BOOST_TEST(!timers.start_periodic(1ms, 0ns, [] {}, ec));
    BOOST_TEST((ec == spindle::error::invalid_argument));
    BOOST_TEST(!timers.start_periodic(1ms, -1ms, [] {}, ec));
    BOOST_TEST((ec == spindle::error::invalid_argument));
    BOOST_CHECK_EXCEPTION(timers.start_periodic(1ms, 0ns, [] {}), spindle::system_error,
                          [](auto const& e) { return e.code() == spindle::error::invalid_argument; });
    BOOST_TEST(timers.pending() == 0u);

    BOOST_CHECK_EXCEPTION(timer_service(std::shared_ptr<manual_clock>()), spindle::system_error,
                          [](auto const& e) { return e.code() == spindle::error::invalid_argument; });
}

//------------------------------------------------------------------------------
// firing and cancelling (manual clock)

BOOST_FIXTURE_TEST_CASE(one_shot_fires_exactly_once, fixture)
{
    probe p;
    timers.start(10ms, p.make());
    BOOST_TEST(timers.pending() == 1u);
    clock->advance(9ms);
    BOOST_TEST(p.calls->load() == 0);
    clock->advance(1ms);
    BOOST_TEST(p.calls->load() == 1);
    BOOST_TEST(p.destroyed->load() == 1); // released after it fired
    clock->advance(1h);
    BOOST_TEST(p.calls->load() == 1);
    BOOST_TEST(timers.pending() == 0u);
}

BOOST_FIXTURE_TEST_CASE(cancel_before_fire, fixture)
{
    probe p;
    auto id = timers.start(10ms, p.make());
    BOOST_TEST(timers.cancel(id));
    BOOST_TEST(p.destroyed->load() == 1); // released by cancel
    BOOST_TEST(!timers.cancel(id));       // second cancel: not pending
    BOOST_TEST(!timers.cancel(timer_id{}));
    BOOST_TEST(!timers.cancel(timer_id(0xdeadbeef00000003ULL)));
    BOOST_TEST(timers.pending() == 0u);
    clock->advance(1s);
    BOOST_TEST(p.calls->load() == 0);
}

BOOST_FIXTURE_TEST_CASE(cancel_after_fire_reports_that_the_callback_ran, fixture)
{
    int fired = 0;
    auto id = timers.start(1ms, [&] { ++fired; });
    clock->advance(1ms);
    BOOST_TEST(fired == 1);
    BOOST_TEST(!timers.cancel(id));

    // A stale id never cancels the timer that reuses its storage.
    auto later = timers.start(1ms, [&] { ++fired; });
    BOOST_TEST(!timers.cancel(id));
    clock->advance(1ms);
    BOOST_TEST(fired == 2);
    BOOST_TEST(!timers.cancel(later));
}

BOOST_FIXTURE_TEST_CASE(cancel_keeps_the_order_of_the_rest, fixture)
{
    std::vector<int> order;
    std::vector<timer_id> ids;
    for(int i = 0; i < 50; ++i)
        ids.push_back(timers.start(std::chrono::milliseconds((i * 37) % 50), [&order, i] { order.push_back(i); }));
    for(int i = 0; i < 50; i += 3)
        BOOST_TEST(timers.cancel(ids[i]));
    clock->advance(1s);
    std::vector<int> expected;
    for(int ms = 0; ms < 50; ++ms)
        for(int i = 0; i < 50; ++i)
            if((i * 37) % 50 == ms && i % 3 != 0)
                expected.push_back(i);
    BOOST_TEST(order == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(cancel_periodic_between_periods, fixture)
{
    probe p;
    auto id = timers.start_periodic(5ms, 10ms, p.make());
    clock->advance(25ms); // fires at 5 and 15, next due at 25: fires too
    BOOST_TEST(p.calls->load() == 3);
    BOOST_TEST(timers.pending() == 1u);
    BOOST_TEST(timers.cancel(id));
    BOOST_TEST(p.destroyed->load() == 1);
    BOOST_TEST(timers.pending() == 0u);
    clock->advance(1s);
    BOOST_TEST(p.calls->load() == 3);
    BOOST_TEST(!timers.cancel(id));
}

BOOST_FIXTURE_TEST_CASE(periodic_cancels_itself_from_its_callback, fixture)
{
    int calls = 0;
    bool cancel_result = false;
    timer_id id;
    id = timers.start_periodic(1ms, 1ms, [&] {
        if(++calls == 4)
            cancel_result = timers.cancel(id);
    });
    clock->advance(100ms);
    BOOST_TEST(calls == 4);
    BOOST_TEST(cancel_result);
    BOOST_TEST(timers.pending() == 0u);
}

BOOST_FIXTURE_TEST_CASE(one_shot_cancelling_itself_sees_it_already_fired, fixture)
{
    bool cancel_result = true;
    timer_id id;
    id = timers.start(1ms, [&] { cancel_result = timers.cancel(id); });
    clock->advance(1ms);
    BOOST_TEST(!cancel_result);
}

BOOST_FIXTURE_TEST_CASE(callback_cancels_a_timer_due_at_the_same_time, fixture)
{
    int second = 0;
    timer_id victim;
    timers.start(5ms, [&] { BOOST_TEST(timers.cancel(victim)); });
    victim = timers.start(5ms, [&] { ++second; });
    clock->advance(5ms);
    BOOST_TEST(second == 0);
}

BOOST_FIXTURE_TEST_CASE(periodic_restarting_itself_with_a_new_timer, fixture)
{
    // A callback may start timers on its own service while it runs.
    std::vector<manual_clock::time_point> seen;
    std::function<void()> again = [&] {
        seen.push_back(clock->now());
        if(seen.size() < 5)
            timers.start(3ms, again);
    };
    auto const t0 = clock->now();
    timers.start(3ms, again);
    clock->advance(100ms);
    BOOST_REQUIRE(seen.size() == 5u);
    BOOST_TEST((seen.back() == t0 + 15ms));
}

BOOST_FIXTURE_TEST_CASE(exceptions_are_contained_and_counted, fixture)
{
    int after = 0;
    timers.start(1ms, [] { throw std::runtime_error("boom"); });
    timers.start(2ms, [] { throw 42; });
    timers.start(3ms, [&] { ++after; });
    int ticks = 0;
    timers.start_periodic(1ms, 1ms, [&] {
        if(++ticks % 2 == 0)
            throw std::logic_error("even tick");
    });
    BOOST_CHECK_NO_THROW(clock->advance(10ms));
    BOOST_TEST(after == 1);
    BOOST_TEST(ticks == 10);                // the periodic timer survives its throws
    BOOST_TEST(timers.exceptions() == 7u); // 2 one-shots + 5 even ticks
}

//------------------------------------------------------------------------------
// shutdown

BOOST_FIXTURE_TEST_CASE(shutdown_cancels_pending_and_refuses_new_starts, fixture)
{
    probe p;
    timers.start(10ms, p.make());
    timers.start_periodic(1ms, 1ms, p.make());
    clock->advance(1ms);
    BOOST_TEST(p.calls->load() == 1);
    BOOST_TEST(timers.pending() == 2u);

    timers.shutdown();
    BOOST_TEST(timers.stopped());
    BOOST_TEST(timers.pending() == 0u);
    BOOST_TEST(p.destroyed->load() == 2); // released without being invoked
    clock->advance(1s);
    BOOST_TEST(p.calls->load() == 1);

    boost::system::error_code ec;
    BOOST_TEST(!timers.start(1ms, [] {}, ec));
    BOOST_TEST((ec == spindle::error::system_stopped));
    BOOST_TEST(!timers.start_at(timers.now(), [] {}, ec));
    BOOST_TEST((ec == spindle::error::system_stopped));
    BOOST_TEST(!timers.start_periodic(1ms, 1ms, [] {}, ec));
    BOOST_TEST((ec == spindle::error::system_stopped));
    BOOST_CHECK_EXCEPTION(timers.start(1ms, [] {}), spindle::system_error,
                          [](auto const& e) { return e.code() == spindle::error::system_stopped; });
    BOOST_CHECK_EXCEPTION(timers.start_periodic(1ms, 1ms, [] {}), spindle::system_error,
                          [](auto const& e) { return e.code() == spindle::error::system_stopped; });

    timers.shutdown(); // idempotent
    BOOST_TEST(timers.stopped());
}

BOOST_FIXTURE_TEST_CASE(shutdown_from_a_callback, fixture)
{
    int later = 0;
    timers.start(1ms, [&] { timers.shutdown(); });
    timers.start(2ms, [&] { ++later; });
    clock->advance(10ms);
    BOOST_TEST(timers.stopped());
    BOOST_TEST(later == 0);
}

BOOST_AUTO_TEST_CASE(real_time_shutdown_waits_for_a_running_callback)
{
    timer_service timers;
    std::promise<void> started;
    std::atomic<bool> finished{false};
    timers.start(0ns, [&] {
        started.set_value();
        std::this_thread::sleep_for(20ms); // gives shutdown a chance to overtake
        finished = true;
    });
    BOOST_REQUIRE(started.get_future().wait_for(patience) == std::future_status::ready);
    timers.shutdown();
    BOOST_TEST(finished.load());
}

BOOST_FIXTURE_TEST_CASE(shutdown_waits_for_a_callback_running_in_an_advance, fixture)
{
    std::promise<void> started;
    std::promise<void> release;
    std::atomic<bool> finished{false};
    timers.start(1ms, [&] {
        started.set_value();
        release.get_future().wait();
        finished = true;
    });
    std::thread advancer([&] { clock->advance(1ms); });
    started.get_future().wait();
    std::atomic<int> saw_finished{-1};
    std::thread stopper([&] {
        timers.shutdown();
        saw_finished = finished.load() ? 1 : 0;
    });
    std::this_thread::sleep_for(20ms); // lets a wrong shutdown return early
    release.set_value();
    stopper.join();
    advancer.join();
    BOOST_TEST(saw_finished.load() == 1);
}

BOOST_AUTO_TEST_CASE(real_time_shutdown_from_its_own_callback)
{
    auto timers = std::make_unique<timer_service>();
    std::promise<void> done;
    timers->start(1ms, [&] {
        timers->shutdown();
        done.set_value();
    });
    BOOST_REQUIRE(done.get_future().wait_for(patience) == std::future_status::ready);
    BOOST_TEST(timers->stopped());
    timers.reset();
}

//------------------------------------------------------------------------------
// real time (only "it happens", never "how fast")

BOOST_AUTO_TEST_CASE(real_time_one_shot_fires)
{
    timer_service timers;
    std::promise<timer_service::time_point> fired;
    auto const start = timers.now();
    timers.start(10ms, [&] { fired.set_value(timer_service::clock_type::now()); });
    auto f = fired.get_future();
    BOOST_REQUIRE(f.wait_for(patience) == std::future_status::ready);
    BOOST_TEST((f.get() >= start + 10ms)); // never early
    BOOST_TEST(timers.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(real_time_earlier_deadline_wakes_the_thread)
{
    timer_service timers;
    std::atomic<bool> late{false};
    timers.start(1h, [&] { late = true; });
    std::promise<void> fired;
    timers.start(10ms, [&] { fired.set_value(); });
    BOOST_REQUIRE(fired.get_future().wait_for(patience) == std::future_status::ready);
    BOOST_TEST(!late.load());
    BOOST_TEST(timers.pending() == 1u);
}

BOOST_AUTO_TEST_CASE(real_time_periodic_and_cancel)
{
    timer_service timers;
    std::atomic<int> ticks{0};
    std::promise<void> three;
    auto id = timers.start_periodic(1ms, 1ms, [&] {
        if(ticks.fetch_add(1) + 1 == 3)
            three.set_value();
    });
    BOOST_REQUIRE(three.get_future().wait_for(patience) == std::future_status::ready);
    BOOST_TEST(timers.cancel(id));
    // After cancel returns at most the period in flight completes.
    int const at_cancel = ticks.load();
    std::this_thread::sleep_for(20ms);
    BOOST_TEST(ticks.load() <= at_cancel + 1);
    BOOST_TEST(timers.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(real_time_cancel_before_fire)
{
    timer_service timers;
    probe p;
    auto id = timers.start(1h, p.make());
    BOOST_TEST(timers.cancel(id));
    BOOST_TEST(p.destroyed->load() == 1);
    BOOST_TEST(p.calls->load() == 0);
}

BOOST_AUTO_TEST_CASE(real_time_cancel_races_with_fire_exactly_one_wins)
{
    timer_service timers;
    constexpr int n = 2000;
    std::atomic<int> ran{0};
    int won = 0;
    std::vector<timer_id> ids;
    for(int i = 0; i < n; ++i)
        ids.push_back(timers.start(std::chrono::microseconds(i % 50), [&] { ran.fetch_add(1); }));
    for(auto id : ids)
        if(timers.cancel(id))
            ++won;
    timers.shutdown(); // waits for any callback still running
    BOOST_TEST(won + ran.load() == n);
}

BOOST_AUTO_TEST_CASE(real_time_concurrent_start_and_cancel)
{
    timer_service timers;
    std::atomic<int> ran{0};
    std::atomic<int> won{0};
    auto worker = [&] {
        for(int i = 0; i < 5000; ++i)
        {
            auto id = timers.start(std::chrono::microseconds(i % 100), [&] { ran.fetch_add(1); });
            if(i % 2 == 0 && timers.cancel(id))
                won.fetch_add(1);
        }
    };
    std::thread a(worker);
    std::thread b(worker);
    a.join();
    b.join();
    wait_until_true([&] { return timers.pending() == 0; });
    timers.shutdown();
    BOOST_TEST(ran.load() + won.load() == 10000);
}

//------------------------------------------------------------------------------
// sleep

BOOST_FIXTURE_TEST_CASE(fiber_sleep_returns_only_after_advance, fixture)
{
    std::atomic<bool> woke{false};
    bool result = false;
    manual_clock::time_point woke_at;
    auto const t0 = clock->now();

    // Boost.Test assertions are not thread-safe: the advancer records, the
    // main thread checks.
    std::atomic<bool> woke_early{true};
    std::atomic<std::size_t> pending_midway{0};
    std::thread advancer([&] {
        wait_until_true([&] { return timers.pending() == 1; });
        clock->advance(5ms);
        // The sleeper's timer has not fired, so nothing can have woken it.
        woke_early = woke.load();
        pending_midway = timers.pending();
        clock->advance(5ms);
    });
    boost::fibers::fiber sleeper([&] {
        result = timers.sleep_for(10ms);
        woke_at = clock->now();
        woke = true;
    });
    sleeper.join();
    advancer.join();
    BOOST_TEST(!woke_early.load());
    BOOST_TEST(pending_midway.load() == 1u);
    BOOST_TEST(result);
    BOOST_TEST((woke_at == t0 + 10ms));
    BOOST_TEST(timers.pending() == 0u);
}

BOOST_FIXTURE_TEST_CASE(sleeping_fiber_does_not_block_its_thread, fixture)
{
    // The second fiber runs on the same thread while the first one sleeps;
    // it is the one that advances the clock.
    bool result = false;
    boost::fibers::fiber sleeper([&] { result = timers.sleep_until(clock->now() + 1s); });
    boost::fibers::fiber other([&] {
        while(timers.pending() == 0)
            boost::this_fiber::yield();
        clock->advance(1s);
    });
    other.join();
    sleeper.join();
    BOOST_TEST(result);
}

BOOST_FIXTURE_TEST_CASE(sleep_from_a_plain_thread, fixture)
{
    std::atomic<int> result{-1};
    std::thread sleeper([&] { result = timers.sleep_for(1h) ? 1 : 0; });
    wait_until_true([&] { return timers.pending() == 1; });
    clock->advance(59min);
    BOOST_TEST(result.load() == -1);
    clock->advance(1min);
    sleeper.join();
    BOOST_TEST(result.load() == 1);
}

BOOST_FIXTURE_TEST_CASE(sleep_interrupted_by_stop_token, fixture)
{
    std::stop_source stop;
    bool result = true;
    std::thread requester([&] {
        wait_until_true([&] { return timers.pending() == 1; });
        stop.request_stop();
    });
    boost::fibers::fiber sleeper([&] { result = timers.sleep_for(1h, stop.get_token()); });
    sleeper.join();
    requester.join();
    BOOST_TEST(!result);
    BOOST_TEST(timers.pending() == 0u); // its timer was cancelled
    BOOST_TEST((clock->now() == manual_clock::default_epoch));
}

BOOST_FIXTURE_TEST_CASE(sleep_edge_cases, fixture)
{
    std::stop_source stop;
    stop.request_stop();
    BOOST_TEST(!timers.sleep_for(1h, stop.get_token())); // already stopped: false at once
    BOOST_TEST(timers.sleep_for(0ns));                    // nothing to wait for
    BOOST_TEST(timers.sleep_until(clock->now() - 1s));
    BOOST_TEST(timers.pending() == 0u);
}

BOOST_FIXTURE_TEST_CASE(sleep_ended_by_shutdown, fixture)
{
    std::atomic<int> result{-1};
    std::thread sleeper([&] { result = timers.sleep_for(1h) ? 1 : 0; });
    wait_until_true([&] { return timers.pending() == 1; });
    timers.shutdown();
    sleeper.join();
    BOOST_TEST(result.load() == 0);
    BOOST_TEST(!timers.sleep_for(1ms)); // stopped: false at once
}

BOOST_AUTO_TEST_CASE(real_time_sleep_in_fiber_and_thread)
{
    timer_service timers;
    auto const t0 = timers.now();
    bool in_fiber = false;
    boost::fibers::fiber f([&] { in_fiber = timers.sleep_for(5ms); });
    bool in_thread = timers.sleep_for(5ms);
    f.join();
    BOOST_TEST(in_fiber);
    BOOST_TEST(in_thread);
    BOOST_TEST((timers.now() >= t0 + 5ms));
}
