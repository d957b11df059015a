//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/latch.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {


} // namespace

BOOST_AUTO_TEST_CASE(releases_many_fibers_on_two_workers_only_after_the_last_count_down)
{
    spindle::system sys(workers(2));
    constexpr int n = 200;
    spindle::latch ready(n);
    std::atomic<int> arrived{0}, early{0}, passed{0};
    auto done = start_in_actors(sys, n, [&](int) {
        ++arrived;
        ready.count_down();
        ready.wait();
        if(arrived.load() != n)
            ++early; // released before every fiber had counted down
        ++passed;
    });
    BOOST_TEST(finish(done, "latch test handlers"));
    BOOST_TEST(passed.load() == n);
    BOOST_TEST(early.load() == 0);
    BOOST_TEST(ready.try_wait());
    BOOST_TEST(ready.count() == 0);
}

BOOST_AUTO_TEST_CASE(waiters_stay_parked_until_it_opens)
{
    spindle::latch l(3);
    std::atomic<int> released{0};
    std::vector<boost::fibers::fiber> fibers;
    for(int i = 0; i < 4; ++i)
        fibers.emplace_back(boost::fibers::launch::dispatch, [&] {
            l.wait();
            ++released;
        });
    l.count_down(2);
    boost::this_fiber::yield();
    BOOST_TEST(released.load() == 0);
    BOOST_TEST(!l.try_wait());
    BOOST_TEST(l.count() == 1);
    l.count_down();
    for(auto& f : fibers)
        f.join();
    BOOST_TEST(released.load() == 4);
    l.wait(); // open: returns at once
    l.arrive_and_wait(0);
}

BOOST_AUTO_TEST_CASE(a_latch_may_be_destroyed_as_soon_as_its_wait_returns)
{
    // The opener is still inside count_down when the waiter can run; the
    // waiter destroys the latch at once. Run under the sanitizers.
    int rounds = 0;
    int open_when_released = 0;
    for(int round = 0; round < 500; ++round)
    {
        auto l = std::make_unique<spindle::latch>(1);
        std::thread opener([p = l.get()] { p->count_down(); });
        if(round % 2)
            l->wait();
        else
            while(!l->try_wait())
                std::this_thread::yield();
        // a wait that returned saw the latch open: its count is 0 for good
        if(l->count() == 0 && l->try_wait())
            ++open_when_released;
        l.reset();
        opener.join();
        ++rounds;
    }
    BOOST_TEST(rounds == 500);
    BOOST_TEST(open_when_released == 500);
}

BOOST_AUTO_TEST_CASE(timeout_on_the_manual_clock_and_stop_token)
{
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    spindle::latch l(1);
    std::stop_source stop;
    std::atomic<int> timed{-1}, stopped{-1};
    boost::system::error_code ec;
    std::size_t const before = sys.timers().pending();
    auto done = start_in_actors(sys, 3, [&](int i) {
        if(i == 0)
            timed = l.wait_for(sys.timers(), 10s) ? 1 : 0;
        else if(i == 1)
            stopped = l.wait_until(sys.timers(), clock->now() + 1h, stop.get_token()) ? 1 : 0;
        else
            l.wait(stop.get_token(), ec);
    });
    // three asks' timeouts, then the two timed waits' timers
    BOOST_REQUIRE(eventually([&] { return sys.timers().pending() >= before + 3 + 2; }));
    clock->advance(10s);
    BOOST_REQUIRE(eventually([&] { return timed.load() != -1; }));
    BOOST_TEST(timed.load() == 0);
    BOOST_TEST(stopped.load() == -1);
    stop.request_stop();
    BOOST_TEST(finish(done, "latch test handlers"));
    BOOST_TEST(stopped.load() == 0);
    BOOST_TEST(ec == code(spindle::error::cancelled));
    BOOST_CHECK_EXCEPTION(l.wait(stop.get_token()), spindle::system_error, has_code(spindle::error::cancelled));
    BOOST_TEST(!l.wait_for(1ms));
    l.count_down();
    BOOST_TEST(l.wait_for(sys.timers(), 1s, stop.get_token())); // open beats a stop request
}

BOOST_AUTO_TEST_CASE(counting_down_too_far_is_an_error)
{
    BOOST_CHECK_EXCEPTION(spindle::latch(-1), spindle::system_error, has_code(spindle::error::invalid_argument));
    spindle::latch l(2);
    BOOST_CHECK_EXCEPTION(l.count_down(3), spindle::system_error, has_code(spindle::error::invalid_argument));
    boost::system::error_code ec;
    l.count_down(-1, ec);
    BOOST_TEST(ec == code(spindle::error::invalid_argument));
    BOOST_TEST(l.count() == 2); // nothing changed
    l.count_down(2, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(l.try_wait());
    l.count_down(1, ec);
    BOOST_TEST(ec == code(spindle::error::invalid_argument));
    spindle::latch open(0);
    BOOST_TEST(open.try_wait());
}
