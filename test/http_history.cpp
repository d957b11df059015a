//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// system_history: the last minutes of a system's figures, sampled
// server-side for the live page's sparklines.

#include <spindle/http/history.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/actor.hpp>
#include <spindle/error.hpp>
#include <spindle/system.hpp>

#include <chrono>
#include <thread>

using namespace std::chrono_literals;
namespace http = spindle::http;

namespace {

struct hit
{
};
struct counter : spindle::actor<counter, hit>
{
    void on(hit) {}
};

/// A history that samples only when told (its own thread waits an hour).
http::history_options by_hand(std::size_t samples = 300)
{
    http::history_options o;
    o.interval = std::chrono::hours(1);
    o.samples = samples;
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(rates_come_from_the_totals_between_two_samples)
{
    spindle::system sys(spindle_test::workers(2));
    auto a = sys.spawn<counter>();
    http::system_history h(sys, by_hand());
    // the first sample is taken at once, with no rate yet
    BOOST_REQUIRE(spindle_test::eventually([&] { return h.samples().size() == 1u; }));
    BOOST_TEST(h.samples()[0].messages_per_s == 0.0);
    for(int i = 0; i < 1000; ++i)
        a.tell(hit{});
    BOOST_REQUIRE(spindle_test::eventually([&] { return sys.stats().messages >= 1000u; }));
    std::this_thread::sleep_for(10ms); // some time must pass for a rate
    h.sample();
    auto const s = h.samples();
    BOOST_REQUIRE(s.size() == 2u);
    BOOST_TEST(s[1].messages_per_s > 0.0);
    BOOST_TEST(s[1].actors == sys.stats().actors);
    BOOST_TEST(s[1].time_ms >= s[0].time_ms);
    BOOST_TEST(s[1].dead_letters_per_s == 0.0);
    BOOST_TEST(s[1].memory_mib > 0.0); // Linux: /proc/self/statm
}

BOOST_AUTO_TEST_CASE(only_the_last_samples_are_kept_as_columns_of_one_length)
{
    spindle::system sys(spindle_test::workers(2));
    http::system_history h(sys, by_hand(3));
    BOOST_REQUIRE(spindle_test::eventually([&] { return h.samples().size() == 1u; }));
    for(int i = 0; i < 5; ++i)
        h.sample();
    BOOST_TEST(h.samples().size() == 3u);
    auto const j = h.to_json();
    BOOST_TEST(j.at("interval_ms").to_number<std::int64_t>() == 3'600'000);
    for(char const* k : {"time_ms", "messages_per_s", "actors", "dead_letters_per_s", "restarts_per_s",
                         "mailbox_depth_max", "memory_mib"})
    {
        BOOST_TEST_INFO(k);
        BOOST_TEST(j.at(k).as_array().size() == 3u);
    }
}

BOOST_AUTO_TEST_CASE(the_sampler_thread_samples_every_interval)
{
    spindle::system sys(spindle_test::workers(2));
    http::history_options o;
    o.interval = 10ms;
    o.samples = 5;
    http::system_history h(sys, o);
    // no timing verdict: only that it keeps sampling, and keeps only five
    BOOST_REQUIRE(spindle_test::eventually([&] { return h.samples().size() == 5u; }));
    auto const first = h.samples().front().time_ms;
    BOOST_REQUIRE(spindle_test::eventually([&] { return h.samples().front().time_ms > first; }));
    BOOST_TEST(h.samples().size() == 5u);
    h.stop();
    auto const after = h.samples();
    std::this_thread::sleep_for(50ms);
    BOOST_TEST(h.samples().back().time_ms == after.back().time_ms); // stopped: no more samples
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused)
{
    spindle::system sys(spindle_test::workers(1));
    http::history_options fast;
    fast.interval = 1ms;
    BOOST_CHECK_THROW(http::system_history(sys, fast), spindle::system_error);
    http::history_options one;
    one.samples = 1;
    BOOST_CHECK_THROW(http::system_history(sys, one), spindle::system_error);
}
