//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/barrier.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <stdexcept>
#include <stop_token>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {


} // namespace

BOOST_AUTO_TEST_CASE(phases_of_many_fibers_on_two_workers)
{
    spindle::system sys(workers(2));
    constexpr int n = 32;
    constexpr int phases = 40;
    std::array<std::atomic<int>, phases> arrivals{};
    std::atomic<int> completions{0}, leaders{0}, torn{0};
    spindle::barrier b(n, [&] {
        // runs once per phase, while every participant is held
        if(arrivals[completions.load()].load() != n)
            ++torn;
        ++completions;
    });
    auto done = start_in_actors(sys, n, [&](int) {
        for(int p = 0; p < phases; ++p)
        {
            ++arrivals[p];
            if(b.arrive_and_wait())
                ++leaders;
            // nobody passes phase p before everyone arrived at it
            if(arrivals[p].load() != n)
                ++torn;
            if(completions.load() < p + 1)
                ++torn;
        }
    });
    BOOST_TEST(finish(done, "barrier test handlers"));
    BOOST_TEST(torn.load() == 0);
    BOOST_TEST(completions.load() == phases);
    BOOST_TEST(leaders.load() == phases); // exactly one per phase
    BOOST_TEST(b.phase() == static_cast<std::uint64_t>(phases));
}

BOOST_AUTO_TEST_CASE(a_stopped_participant_withdraws_its_arrival)
{
    spindle::barrier b(2);
    std::stop_source stop;
    boost::system::error_code ec;
    int released = 0;
    boost::fibers::fiber quitter(boost::fibers::launch::dispatch, [&] { b.arrive_and_wait(stop.get_token(), ec); });
    stop.request_stop();
    quitter.join();
    BOOST_TEST(ec == code(spindle::error::cancelled));
    BOOST_TEST(b.phase() == 0u);
    // the phase still needs two arrivals: one alone waits
    boost::fibers::fiber first(boost::fibers::launch::dispatch, [&] {
        b.arrive_and_wait();
        ++released;
    });
    boost::this_fiber::yield();
    BOOST_TEST(released == 0);
    BOOST_TEST(b.phase() == 0u);
    b.arrive_and_wait(); // the second arrival completes it
    first.join();
    BOOST_TEST(released == 1);
    BOOST_TEST(b.phase() == 1u);
    BOOST_CHECK_EXCEPTION(b.arrive_and_wait(stop.get_token()), spindle::system_error,
                          has_code(spindle::error::cancelled));
    BOOST_TEST(b.phase() == 1u);
}

BOOST_AUTO_TEST_CASE(arrive_and_drop_shrinks_later_phases)
{
    spindle::barrier b(3);
    int passed = 0;
    std::vector<boost::fibers::fiber> fibers;
    for(int i = 0; i < 2; ++i)
        fibers.emplace_back(boost::fibers::launch::dispatch, [&] {
            b.arrive_and_wait(); // phase 0 (completed by the drop)
            ++passed;
            b.arrive_and_wait(); // phase 1 needs only these two
            ++passed;
        });
    BOOST_TEST(b.arrive_and_drop()); // the third arrival completes phase 0
    BOOST_TEST(b.participants() == 2u);
    for(auto& f : fibers)
        f.join();
    BOOST_TEST(passed == 4);
    BOOST_TEST(b.phase() == 2u);

    spindle::barrier alone(1);
    BOOST_TEST(alone.arrive_and_drop());
    BOOST_CHECK_EXCEPTION(alone.arrive_and_wait(), spindle::system_error,
                          has_code(spindle::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_throwing_completion_reaches_the_last_arrival_and_the_phase_completes)
{
    spindle::barrier b(2, [] { throw std::runtime_error("completion"); });
    bool released = false;
    boost::fibers::fiber waiter(boost::fibers::launch::dispatch, [&] {
        b.arrive_and_wait();
        released = true;
    });
    BOOST_CHECK_THROW(b.arrive_and_wait(), std::runtime_error);
    waiter.join();
    BOOST_TEST(released);
    BOOST_TEST(b.phase() == 1u);
    BOOST_CHECK_EXCEPTION(spindle::barrier(0), spindle::system_error, has_code(spindle::error::invalid_argument));
}
