//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/semaphore.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {


void raise_max(std::atomic<int>& max, int v)
{
    int m = max.load();
    while(v > m && !max.compare_exchange_weak(m, v))
    {
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(bounds_concurrency_of_many_fibers_on_two_workers)
{
    spindle::system sys(workers(2));
    spindle::semaphore permits(3);
    std::atomic<int> inside{0}, most{0}, passes{0};
    auto done = start_in_actors(sys, 200, [&](int) {
        for(int k = 0; k < 5; ++k)
        {
            permits.acquire();
            raise_max(most, ++inside);
            boost::this_fiber::yield(); // let the other fibers of this worker try meanwhile
            --inside;
            ++passes;
            permits.release();
        }
    });
    BOOST_TEST(finish(done, "semaphore test handlers"));
    BOOST_TEST(passes.load() == 1000);
    BOOST_TEST(most.load() <= 3);
    BOOST_TEST(most.load() >= 1);
    BOOST_TEST(permits.available() == 3);
    BOOST_TEST(permits.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(waiters_are_served_in_arrival_order_and_newcomers_do_not_barge)
{
    spindle::semaphore s(0);
    std::vector<int> order;
    std::vector<boost::fibers::fiber> fibers;
    for(int i = 0; i < 5; ++i)
    {
        // dispatch: each fiber runs until it parks in acquire, so they queue in order
        fibers.emplace_back(boost::fibers::launch::dispatch, [&, i] {
            s.acquire();
            order.push_back(i);
        });
    }
    BOOST_TEST(s.waiting() == 5u);
    s.release(1);
    // the permit went to the oldest waiter, not to whoever asks next
    BOOST_TEST(!s.try_acquire());
    BOOST_TEST(s.available() == 0);
    s.release(4);
    for(auto& f : fibers)
        f.join();
    BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4}));
    BOOST_TEST(s.available() == 0);
}

BOOST_AUTO_TEST_CASE(timeout_on_the_manual_clock)
{
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    spindle::semaphore s(0);
    std::size_t const timers_before = sys.timers().pending();
    std::atomic<int> outcome{-1};
    auto done = start_in_actors(sys, 1, [&](int) { outcome = s.try_acquire_for(sys.timers(), 5s) ? 1 : 0; });
    BOOST_REQUIRE(eventually([&] { return s.waiting() == 1; }));
    clock->advance(4s);
    BOOST_TEST(s.waiting() == 1u); // not yet due
    BOOST_TEST(outcome.load() == -1);
    clock->advance(1s);
    BOOST_TEST(finish(done, "semaphore test handlers"));
    BOOST_TEST(outcome.load() == 0);
    BOOST_TEST(s.waiting() == 0u);
    BOOST_TEST(sys.timers().pending() == timers_before);
    // the timed-out waiter took nothing: a later release is still there
    s.release();
    BOOST_TEST(s.available() == 1);
}

BOOST_AUTO_TEST_CASE(timed_acquire_succeeds_before_the_deadline_and_disarms_its_timer)
{
    auto opts = manual_clock_options(2);
    spindle::system sys(opts);
    spindle::semaphore s(0);
    std::size_t const timers_before = sys.timers().pending();
    std::atomic<int> outcome{-1};
    auto done = start_in_actors(sys, 1, [&](int) { outcome = s.try_acquire_for(sys.timers(), 5s) ? 1 : 0; });
    BOOST_REQUIRE(eventually([&] { return s.waiting() == 1; }));
    s.release();
    BOOST_TEST(finish(done, "semaphore test handlers"));
    BOOST_TEST(outcome.load() == 1);
    BOOST_TEST(s.available() == 0);
    BOOST_TEST(sys.timers().pending() == timers_before);
}

BOOST_AUTO_TEST_CASE(a_timer_service_shut_down_ends_the_wait)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::timer_service timers(clock);
    spindle::semaphore s(0);
    std::atomic<int> outcome{-1};
    std::thread waiter([&] { outcome = s.try_acquire_for(timers, 1h) ? 1 : 0; });
    BOOST_REQUIRE(eventually([&] { return s.waiting() == 1; }));
    timers.shutdown(); // the timer can never fire now: the wait must not hang
    waiter.join();
    BOOST_TEST(outcome.load() == 0);
}

BOOST_AUTO_TEST_CASE(steady_clock_timeout)
{
    spindle::semaphore s(0);
    BOOST_TEST(!s.try_acquire_for(1ms));
    BOOST_TEST(!s.try_acquire_until(std::chrono::steady_clock::now() - 1s)); // already passed
    s.release();
    BOOST_TEST(s.try_acquire_for(1h));
    BOOST_TEST(s.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(stop_token_cancels_a_waiting_acquire)
{
    spindle::system sys(workers(2));
    spindle::semaphore s(0);
    std::stop_source stop;
    boost::system::error_code seen;
    std::atomic<bool> threw{false};
    auto done = start_in_actors(sys, 2, [&](int i) {
        if(i == 0)
            s.acquire(stop.get_token(), seen);
        else
        {
            try
            {
                s.acquire(stop.get_token());
            }
            catch(spindle::system_error const& e)
            {
                threw = e.code() == code(spindle::error::cancelled);
            }
        }
    });
    BOOST_REQUIRE(eventually([&] { return s.waiting() == 2; }));
    stop.request_stop();
    BOOST_TEST(finish(done, "semaphore test handlers"));
    BOOST_TEST(seen == code(spindle::error::cancelled));
    BOOST_TEST(threw.load());
    BOOST_TEST(s.waiting() == 0u);
    s.release();
    BOOST_TEST(s.available() == 1); // the cancelled waiters took nothing

    // a stop already requested only matters when the call would wait
    boost::system::error_code ec;
    s.acquire(stop.get_token(), ec);
    BOOST_TEST(!ec);
    s.acquire(stop.get_token(), ec);
    BOOST_TEST(ec == code(spindle::error::cancelled));
}

BOOST_AUTO_TEST_CASE(plain_threads_and_fibers_share_it)
{
    spindle::system sys(workers(2));
    spindle::semaphore s(0);
    std::atomic<int> got{0};
    std::vector<std::thread> threads;
    for(int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            for(int k = 0; k < 100; ++k)
            {
                s.acquire();
                ++got;
            }
        });
    auto done = start_in_actors(sys, 8, [&](int) {
        for(int k = 0; k < 50; ++k)
        {
            s.release();
            boost::this_fiber::yield();
        }
    });
    BOOST_TEST(finish(done, "semaphore test handlers"));
    for(auto& t : threads)
        t.join();
    BOOST_TEST(got.load() == 400);
    BOOST_TEST(s.available() == 0);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_errors)
{
    BOOST_CHECK_EXCEPTION(spindle::semaphore(-1), spindle::system_error, has_code(spindle::error::invalid_argument));
    BOOST_CHECK_EXCEPTION(spindle::semaphore(3, 2), spindle::system_error, has_code(spindle::error::invalid_argument));
    BOOST_CHECK_EXCEPTION(spindle::semaphore(0, 0), spindle::system_error, has_code(spindle::error::invalid_argument));
    spindle::semaphore s(1, 2);
    s.release();
    BOOST_TEST(s.available() == 2);
    BOOST_CHECK_EXCEPTION(s.release(), spindle::system_error, has_code(spindle::error::invalid_argument));
    boost::system::error_code ec;
    s.release(-1, ec);
    BOOST_TEST(ec == code(spindle::error::invalid_argument));
    BOOST_TEST(s.available() == 2);
    BOOST_TEST(s.try_acquire());
    s.release(1, ec);
    BOOST_TEST(!ec);
}
