//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// map_parallel as users rely on it: ordered keeps the input order (a
// million items under two workers, with completions shuffled by fibers that
// yield), unordered keeps every item, exactly n items are in flight at
// once (proven with a latch that only n concurrent items can open), and a
// failing item is skipped or names the stage.

#include <spindle/stream.hpp>

#include <boost/test/unit_test.hpp>

#include "stream_support.hpp"
#include "support.hpp"

#include <spindle/latch.hpp>
#include <spindle/system.hpp>

#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

using namespace stream_test;
using spindle_test::eventually;

BOOST_AUTO_TEST_SUITE(stream_map_parallel)

BOOST_AUTO_TEST_CASE(ordered_keeps_the_order_of_a_million_items_under_two_workers)
{
    spindle::system sys(spindle_test::workers(2));
    constexpr std::uint64_t n = 1'000'000;
    auto next = std::make_shared<std::uint64_t>(0);
    auto out_of_order = std::make_shared<std::uint64_t>(0);
    auto h = spindle::from_range(stream_test::iota_vec(n))
                 .map_parallel(8,
                               [](std::uint64_t x) {
                                   // some items take longer: completions come out of order
                                   if(x % 3 == 0)
                                       boost::this_fiber::yield();
                                   return x * 2;
                               })
                 .for_each([next, out_of_order](std::uint64_t v) {
                     if(v != *next * 2)
                         ++*out_of_order;
                     ++*next;
                 })
                 .run(sys);
    spindle_test::watchdog w("ordered map_parallel");
    h.get();
    BOOST_TEST(*next == n);
    BOOST_TEST(*out_of_order == 0u);
    auto const s = h.stats();
    BOOST_TEST(s.out == n);
    check_accounting(s);
}

BOOST_AUTO_TEST_CASE(exactly_n_items_are_in_flight)
{
    spindle::system sys(spindle_test::workers(2));
    constexpr int width = 4;
    // The first `width` items wait for each other at a latch: the stream
    // ends only if all four run at once.
    auto all_in = std::make_shared<spindle::latch>(width);
    auto running = std::make_shared<std::atomic<int>>(0);
    auto most = std::make_shared<std::atomic<int>>(0);
    auto h = spindle::from_range(stream_test::iota_vec(2000))
                 .map_parallel(
                     width,
                     [all_in, running, most](int x) {
                         int const now = running->fetch_add(1) + 1;
                         int seen = most->load();
                         while(now > seen && !most->compare_exchange_weak(seen, now))
                         {
                         }
                         if(x < width)
                             all_in->arrive_and_wait();
                         else if(x % 5 == 0)
                             boost::this_fiber::yield();
                         running->fetch_sub(1);
                         return x;
                     },
                     spindle::ordering::unordered)
                 .collect()
                 .run(sys);
    spindle_test::watchdog w("in flight");
    auto v = std::move(h).get();
    BOOST_TEST(most->load() == width); // never more than n
    std::sort(v.begin(), v.end());
    std::vector<int> expected(2000);
    for(int i = 0; i < 2000; ++i)
        expected[static_cast<std::size_t>(i)] = i;
    BOOST_TEST(v == expected, boost::test_tools::per_element()); // unordered, but every item once
}

BOOST_AUTO_TEST_CASE(ordered_results_wait_for_a_slow_first_item)
{
    spindle::system sys(spindle_test::workers(2));
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto h = spindle::from_range(stream_test::iota_vec(6))
                 .map_parallel(3,
                               [g = gate.g](int x) {
                                   if(x == 0)
                                       g->pass(); // item 0 is slow
                                   return x;
                               })
                 .for_each([seen](int x) { seen->push(x); })
                 .run(sys);
    spindle_test::watchdog w("slow first");
    // items 1 and 2 are done, but nothing may pass item 0
    BOOST_REQUIRE(eventually([&] { return gate->entered() == 1 && h.stats().stages[1].in == 3; }));
    BOOST_TEST(seen->size() == 0u);
    gate->open();
    h.get();
    BOOST_TEST(seen->snapshot() == (std::vector<int>{0, 1, 2, 3, 4, 5}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(failures_are_skipped_or_name_the_stage)
{
    spindle::system sys(spindle_test::workers(2));
    spindle_test::watchdog w("map_parallel failures");
    auto thrower = [](int x) {
        if(x % 10 == 7)
            throw std::runtime_error("lane failed on " + std::to_string(x));
        return x;
    };
    auto skipped = spindle::from_range(stream_test::iota_vec(100))
                       .map_parallel(4, thrower, spindle::ordering::ordered, on_error(spindle::error_action::skip))
                       .collect()
                       .run(sys);
    auto const& v = skipped.get();
    BOOST_TEST(v.size() == 90u);
    BOOST_TEST(std::is_sorted(v.begin(), v.end()));
    BOOST_TEST(skipped.stats().errors == 10u);
    check_accounting(skipped.stats());

    auto stopped = spindle::from_range(stream_test::iota_vec(100))
                       .map_parallel(4, thrower, spindle::ordering::unordered, named("lookup"))
                       .collect()
                       .run(sys);
    BOOST_TEST(stopped.result().error() == make_error_code(spindle::stream_error::stage_failed));
    BOOST_TEST(stopped.failed_stage() == "lookup");
    BOOST_TEST(stopped.failure_message().find("lane failed on") != std::string::npos);
    BOOST_TEST(stopped.stats().fibers == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
