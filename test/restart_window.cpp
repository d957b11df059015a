//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The restart intensity's bookkeeping (issue 13, defect 6): each failure
// used to erase over every restart still in the window, which made a long
// run of restarts quadratic (11,000 crashes with max_restarts 1,000,000 took
// 6 s). detail::restart_window keeps the times in order and drops the
// expired prefix lazily; these tests hold its semantics and its bound on
// the work done (times moved), which the erase-per-failure version broke.

#include <spindle/detail/restart_window.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>

using spindle::detail::restart_window;
using namespace std::chrono_literals;

namespace {
restart_window::time_point at(std::chrono::milliseconds ms)
{
    return restart_window::time_point{} + ms;
}
} // namespace

BOOST_AUTO_TEST_CASE(times_leave_the_window_when_it_has_passed_them)
{
    restart_window w;
    BOOST_TEST(w.expire(at(0ms), 100ms) == 0u);
    w.record(at(0ms));
    w.record(at(10ms));
    w.record(at(50ms));
    BOOST_TEST(w.expire(at(99ms), 100ms) == 3u);
    BOOST_TEST(w.expire(at(100ms), 100ms) == 2u); // now - t >= window: out
    BOOST_TEST(w.expire(at(149ms), 100ms) == 1u);
    BOOST_TEST(w.expire(at(150ms), 100ms) == 0u);
    w.record(at(150ms));
    BOOST_TEST(w.size() == 1u);
    w.clear();
    BOOST_TEST(w.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_full_window_costs_no_work_per_failure)
{
    // a million restarts allowed, every failure inside the window: the
    // erase-per-failure version scanned the whole list on each
    restart_window w;
    constexpr std::size_t n = 200'000;
    for(std::size_t i = 0; i < n; ++i)
    {
        BOOST_TEST_REQUIRE(w.expire(at(std::chrono::milliseconds(i / 1000)), 1h) == i);
        w.record(at(std::chrono::milliseconds(i / 1000)));
    }
    BOOST_TEST(w.size() == n);
    BOOST_TEST(w.moved() == 0u);
}

BOOST_AUTO_TEST_CASE(a_sliding_window_moves_each_time_at_most_once)
{
    // one restart a millisecond, a window of 1,000 ms: before each record
    // the window holds the last 999, and compaction moves at most as many
    // times as were recorded
    restart_window w;
    constexpr std::size_t n = 500'000;
    for(std::size_t i = 0; i < n; ++i)
    {
        auto const now = at(std::chrono::milliseconds(i));
        BOOST_TEST_REQUIRE(w.expire(now, 1000ms) == std::min<std::size_t>(i, 999));
        w.record(now);
    }
    BOOST_TEST(w.size() == 1000u);
    BOOST_TEST(w.moved() <= n);
}
