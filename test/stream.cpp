//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Streams as users rely on them: stages transform, filter, expand and
// group items in order; fused and unfused pipelines agree; an exception
// becomes the stream's error naming the stage; skip and retry; every source
// and sink; batch and throttle on a manual clock; cancellation and system
// shutdown stop every stage; bad options are refused with a message; the
// metrics registry sees every stage. Nothing here depends on how fast the
// machine is: waits are bounded only to turn a hang into a failure.

#include <spindle/stream.hpp>

#include <boost/test/unit_test.hpp>

#include "stream_support.hpp"
#include "support.hpp"

#include <spindle/channel.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using spindle_test::eventually;
using namespace stream_test;

namespace {

/// A processor for `via`: named, parses a number, filters out negatives.
struct parse_number
{
    std::string name() const { return "parse"; }
    std::optional<int> process(std::string const& s)
    {
        int v = std::stoi(s); // throws std::invalid_argument on bad input
        if(v < 0)
            return std::nullopt;
        return v;
    }
};

using stream_test::iota_vec;

struct collector_actor_total
{
};

struct collector_actor : spindle::actor<collector_actor, int, collector_actor_total>
{
    std::vector<int> seen;
    void on(int v) { seen.push_back(v); }
    std::vector<int> on(collector_actor_total) { return seen; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(stream_basics)

BOOST_AUTO_TEST_CASE(map_filter_collect_in_order)
{
    spindle::system sys(spindle_test::workers(2));
    auto h = spindle::from_range(iota_vec(1000))
                 .map([](int x) { return x * 2; })
                 .filter([](int x) { return x % 3 == 0; })
                 .collect()
                 .run(sys, stream_named("basics"));
    spindle_test::watchdog w("map_filter_collect");
    auto const& v = h.get();
    std::vector<int> expected;
    for(int x = 0; x < 1000; ++x)
        if((x * 2) % 3 == 0)
            expected.push_back(x * 2);
    BOOST_TEST(v == expected, boost::test_tools::per_element());
    auto const s = h.stats();
    BOOST_TEST(s.name == "basics");
    BOOST_TEST(!s.running);
    BOOST_TEST(s.in == 1000u);
    BOOST_TEST(s.out == expected.size());
    BOOST_TEST(s.filtered == 1000u - expected.size());
    BOOST_TEST(s.fibers == 0u);
    BOOST_REQUIRE(s.stages.size() == 4u);
    BOOST_TEST(s.stages[0].name == "source");
    BOOST_TEST(s.stages[1].name == "map-1");
    BOOST_TEST(s.stages[2].name == "filter-2");
    BOOST_TEST(s.stages[3].name == "sink");
    check_accounting(s);
}

BOOST_AUTO_TEST_CASE(flat_map_and_batch_count_items_one_by_one)
{
    spindle::system sys(spindle_test::workers(2));
    auto h = spindle::from_range(iota_vec(100))
                 .flat_map([](int x) {
                     if(x % 10 == 9)
                         return std::vector<int>{}; // removes the item: counted as filtered
                     return std::vector<int>{x, x, x};
                 })
                 .batch(7, 1h)
                 .collect()
                 .run(sys);
    spindle_test::watchdog w("flat_map_and_batch");
    auto const& batches = h.get();
    std::size_t items = 0;
    for(std::size_t i = 0; i < batches.size(); ++i)
    {
        items += batches[i].size();
        if(i + 1 < batches.size())
            BOOST_TEST(batches[i].size() == 7u);
    }
    BOOST_TEST(items == 270u);
    auto const s = h.stats();
    BOOST_TEST(s.in == 280u); // 100 from the source, 180 created by flat_map (90 items made 3 each)
    BOOST_TEST(s.out == 270u);
    BOOST_TEST(s.filtered == 10u); // the items flat_map turned into nothing
    BOOST_TEST(s.stages[1].created == 180u);
    BOOST_TEST(s.stages[2].in == 270u);  // batch counts items, not batches
    BOOST_TEST(s.stages[2].out == 270u);
    BOOST_TEST(s.stages[3].in == 270u);  // the sink too
    check_accounting(s);
}

BOOST_AUTO_TEST_CASE(fused_and_unfused_give_the_same_results)
{
    spindle::system sys(spindle_test::workers(2));
    std::vector<std::string> input;
    for(int i = 0; i < 5000; ++i)
        input.push_back(std::to_string(i % 7 == 3 ? -i : i));
    auto pipeline = spindle::from_range(input)
                        .via(parse_number{})
                        .map([](int x) { return x + 1; })
                        .filter([](int x) { return x % 5 != 0; })
                        .flat_map([](int x) { return std::vector<int>(static_cast<std::size_t>(x % 3), x); })
                        .batch(16, 1h)
                        .map([](std::vector<int> b) { return std::accumulate(b.begin(), b.end(), 0L); })
                        .map_parallel(3, [](long v) { return v * 2; })
                        .collect();
    auto const small = buffer(3);
    spindle_test::watchdog w("fused_and_unfused");
    auto fused = pipeline.run(sys, stream_named("fused"));
    auto unfused = pipeline.run(sys, stream_named("unfused", false, small));
    auto const& a = fused.get();
    auto const& b = unfused.get();
    BOOST_TEST(!a.empty());
    BOOST_TEST(a == b, boost::test_tools::per_element());
    auto const sa = fused.stats();
    auto const sb = unfused.stats();
    BOOST_TEST(sa.in == sb.in);
    BOOST_TEST(sa.out == sb.out);
    BOOST_TEST(sa.filtered == sb.filtered);
    BOOST_TEST(sa.stages[1].name == "parse");
    check_accounting(sa);
    check_accounting(sb);
}

BOOST_AUTO_TEST_CASE(buffer_and_async_place_boundaries)
{
    spindle::system sys(spindle_test::workers(2));
    auto h = spindle::from_range(iota_vec(300))
                 .map([](int x) { return x + 1; })
                 .buffer(buffer(5))
                 .map([](int x) { return x * 2; })
                 .async()
                 .filter([](int x) { return x % 4 == 0; })
                 .map([](int x) { return x; })
                 .collect()
                 .run(sys, stream_named("bounded", true, buffer(7)));
    spindle_test::watchdog w("boundaries");
    auto const& v = h.get();
    BOOST_TEST(v.size() == 150u);
    auto const s = h.stats();
    BOOST_REQUIRE(s.stages.size() == 6u);
    BOOST_TEST(s.stages[1].buffer_capacity == 0u); // fused with the source
    BOOST_TEST(s.stages[2].buffer_capacity == 5u); // .buffer(buffer(5))
    BOOST_TEST(s.stages[3].buffer_capacity == 7u); // .async(): the stream's default
    BOOST_TEST(s.stages[4].buffer_capacity == 0u); // fused with the filter
    BOOST_TEST(s.stages[5].buffer_capacity == 7u); // the sink
    check_accounting(s);
}

BOOST_AUTO_TEST_CASE(a_description_runs_many_times)
{
    spindle::system sys(spindle_test::workers(2));
    // (a vector, not std::views::iota: Clang 14 cannot compile libstdc++ 12's
    // iota_view, and this suite runs in the Clang sanitizer build)
    auto r = spindle::from_range(iota_vec(100)).map([n = 0](int x) mutable { return x + n++; }).collect();
    spindle_test::watchdog w("runs_many_times");
    auto first = r.run(sys).get();
    auto second = r.run(sys).get();
    BOOST_TEST(first == second, boost::test_tools::per_element()); // each run copies the function
    BOOST_TEST(first.back() == 198);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_errors)

BOOST_AUTO_TEST_CASE(an_exception_becomes_the_error_naming_the_stage)
{
    spindle::system sys(spindle_test::workers(2));
    auto h = spindle::from_range(iota_vec(1000))
                 .map([](int x) { return x; })
                 .map(
                     [](int x) {
                         if(x == 500)
                             throw std::invalid_argument("bad record 500");
                         return x;
                     },
                     named("parse"))
                 .for_each([](int) {})
                 .run(sys, stream_named("lines"));
    spindle_test::watchdog w("exception_names_stage");
    auto const& r = h.result();
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == make_error_code(spindle::stream_error::stage_failed));
    BOOST_TEST(h.failed_stage() == "parse");
    BOOST_TEST(h.failure_message() == "stream 'lines': stage 'parse' failed: bad record 500");
    BOOST_CHECK_THROW(std::rethrow_exception(h.exception()), std::invalid_argument);
    try
    {
        h.get();
        BOOST_FAIL("get must throw");
    }
    catch(spindle::stream_failure const& e)
    {
        BOOST_TEST(e.stage() == "parse");
        BOOST_TEST(e.code() == make_error_code(spindle::stream_error::stage_failed));
        BOOST_TEST(std::string(e.what()).find("stage 'parse' failed: bad record 500") != std::string::npos);
        BOOST_CHECK_THROW(std::rethrow_exception(e.cause()), std::invalid_argument);
    }
    auto const s = h.stats();
    BOOST_TEST(s.stages[2].errors == 1u);
    BOOST_TEST(s.stages[3].out < 1000u);
    check_end_accounting(s); // issue 19, item 4: a failed stream reconciles
}

// issue 19, item 4: what a failed stream held in its buffers and stages is
// counted as discarded, in the stats and in the registry
BOOST_AUTO_TEST_CASE(a_failed_stream_counts_what_it_discarded)
{
    spindle::system sys(spindle_test::workers(2));
    spindle_test::scoped_gate gate;
    auto g = gate.g;
    auto h = spindle::from_range(iota_vec(1000))
                 .map([](int x) { return x; }, named("hold"))
                 .batch(4, 1h)
                 .for_each(
                     [g](std::vector<int> v) {
                         if(v.front() == 0)
                         {
                             g->pass();
                             throw std::runtime_error("sink broke");
                         }
                     },
                     buffered(buffer(2), "sink"))
                 .run(sys, stream_named("discarding", true, buffer(16)));
    spindle_test::watchdog w("discarded");
    // the sink holds the first batch; every buffer before it fills up
    BOOST_REQUIRE(eventually([&] {
        auto const s = h.stats();
        return gate->entered() == 1 && s.stages[2].buffer_depth == 16 && s.stages.back().buffer_depth == 2;
    }));
    gate->open();
    BOOST_REQUIRE(!h.result());
    BOOST_TEST(h.failed_stage() == "sink");
    auto const s = h.stats();
    check_end_accounting(s);
    // at least both buffers' items (16 items, 2 batches of 4) were lost
    BOOST_TEST(s.discarded >= 16u + 8u);
    BOOST_TEST(s.errors == 4u); // the batch that failed
    for(auto const& st : s.stages)
        BOOST_TEST(metric_value(sys, "spindle_stream_items_total",
                                {{"stream", "discarding"}, {"processor", st.name}, {"status", "discarded"}}) ==
                       static_cast<double>(st.discarded),
                   st.name);
}

BOOST_AUTO_TEST_CASE(sources_sinks_and_processors_are_named_too)
{
    spindle::system sys(spindle_test::workers(2));
    spindle_test::watchdog w("named_failures");

    auto gen = spindle::from_generator([n = 0]() mutable -> std::optional<int> {
                   if(n == 10)
                       throw std::runtime_error("generator broke");
                   return n++;
               })
                   .for_each([](int) {})
                   .run(sys);
    BOOST_TEST(gen.result().error() == make_error_code(spindle::stream_error::stage_failed));
    BOOST_TEST(gen.failed_stage() == "source");

    auto sink = spindle::from_range(iota_vec(10))
                    .for_each([](int x) {
                        if(x == 3)
                            throw std::runtime_error("disk full");
                    })
                    .run(sys);
    BOOST_TEST(!sink.result());
    BOOST_TEST(sink.failed_stage() == "sink");
    BOOST_TEST(sink.failure_message().find("disk full") != std::string::npos);

    auto proc = spindle::from_range(std::vector<std::string>{"1", "x", "3"}).via(parse_number{}).collect().run(sys);
    BOOST_TEST(!proc.result());
    BOOST_TEST(proc.failed_stage() == "parse");

    auto unnamed = spindle::from_range(iota_vec(10))
                       .map([](int x) { return x; })
                       .filter([](int x) -> bool {
                           if(x == 4)
                               throw std::logic_error("no");
                           return true;
                       })
                       .collect()
                       .run(sys);
    BOOST_TEST(!unnamed.result());
    BOOST_TEST(unnamed.failed_stage() == "filter-2");
}

BOOST_AUTO_TEST_CASE(skip_counts_the_errors_and_goes_on)
{
    spindle::system sys(spindle_test::workers(2));
    auto h = spindle::from_range(iota_vec(100))
                 .map(
                     [](int x) {
                         if(x % 10 == 0)
                             throw std::runtime_error("bad");
                         return x;
                     },
                     on_error(spindle::error_action::skip))
                 .collect()
                 .run(sys);
    spindle_test::watchdog w("skip");
    auto const& v = h.get();
    BOOST_TEST(v.size() == 90u);
    BOOST_TEST(std::is_sorted(v.begin(), v.end()));
    auto const s = h.stats();
    BOOST_TEST(s.errors == 10u);
    BOOST_TEST(s.stages[1].errors == 10u);
    check_accounting(s);
}

BOOST_AUTO_TEST_CASE(retry_waits_the_backoff_on_the_system_clock)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    auto attempts = std::make_shared<std::atomic<int>>(0);
    spindle::retry_policy policy;
    policy.max_attempts = 3;
    policy.base_delay = 100ms;
    policy.multiplier = 2.0;
    policy.jitter = 0.0;
    auto h = spindle::from_range(iota_vec(5))
                 .map(
                     [attempts](int x) {
                         if(x == 3 && attempts->fetch_add(1) < 2)
                             throw std::runtime_error("flaky");
                         return x;
                     },
                     on_error(spindle::error_action::retry, "flaky", policy))
                 .collect()
                 .run(sys);
    spindle_test::watchdog w("retry");
    BOOST_REQUIRE(eventually([&] { return attempts->load() == 1 && sys.timers().pending() == 1; }));
    clock->advance(99ms); // the first backoff is 100 ms: nothing may happen yet
    BOOST_TEST(attempts->load() == 1);
    clock->advance(1ms);
    BOOST_REQUIRE(eventually([&] { return attempts->load() == 2 && sys.timers().pending() == 1; }));
    clock->advance(199ms); // the second is 200 ms
    BOOST_TEST(attempts->load() == 2);
    clock->advance(1ms);
    auto const& v = h.get();
    BOOST_TEST(v == iota_vec(5), boost::test_tools::per_element());
    BOOST_TEST(attempts->load() == 3);
    BOOST_TEST(h.stats().errors == 0u);
}

BOOST_AUTO_TEST_CASE(retries_run_out)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    spindle::retry_policy policy;
    policy.max_attempts = 2;
    policy.base_delay = 10ms;
    policy.jitter = 0.0;
    auto h = spindle::from_range(iota_vec(5))
                 .map([](int x) -> int { throw std::runtime_error("down " + std::to_string(x)); },
                      on_error(spindle::error_action::retry, "call", policy))
                 .collect()
                 .run(sys);
    spindle_test::watchdog w("retries_run_out");
    BOOST_REQUIRE(eventually([&] { return sys.timers().pending() == 1; }));
    clock->advance(10ms);
    auto const& r = h.result();
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == make_error_code(spindle::stream_error::retries_exhausted));
    BOOST_TEST(h.failed_stage() == "call");
    BOOST_TEST(h.failure_message() == "stream 'stream': stage 'call' failed: down 0 (2 attempts)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_ending)

BOOST_AUTO_TEST_CASE(cancellation_stops_every_stage_and_frees_its_fibers)
{
    spindle::system sys(spindle_test::workers(2));
    auto const actors_before = sys.actor_count();
    auto started = std::make_shared<std::atomic<int>>(0);
    spindle_test::scoped_gate sink_gate;
    auto h = spindle::from_generator([n = 0]() mutable -> std::optional<int> { return n++; })
                 .map([](int x) { return x + 1; })
                 .map_parallel(4,
                               [started, &sys](int x, std::stop_token const& st) {
                                   started->fetch_add(1);
                                   sys.timers().sleep_for(1h, st); // ends early when the stream stops
                                   return x;
                               })
                 .for_each([](int) {}, buffered(buffer(8)))
                 .run(sys, stream_named("cancelled", true, buffer(16)));
    spindle_test::watchdog w("cancellation");
    // four lanes asleep, the source blocked on its full buffer: every kind of wait
    BOOST_REQUIRE(eventually([&] {
        auto const s = h.stats();
        return started->load() == 4 && s.stages[2].buffer_depth == 16;
    }));
    BOOST_TEST(sys.actor_count() > actors_before);
    BOOST_TEST(h.stats().fibers >= 4u);
    BOOST_TEST(h.cancel());
    BOOST_TEST(!h.cancel()); // once
    h.wait();
    BOOST_TEST(h.result().error() == make_error_code(spindle::error::cancelled));
    BOOST_TEST(h.failure_message() == "stream 'cancelled': operation cancelled");
    BOOST_TEST(h.stats().fibers == 0u); // every segment and lane has returned
    BOOST_TEST(!h.stats().running);
    // issue 19, item 4: a cancelled stream reconciles, its buffers' items discarded
    check_end_accounting(h.stats());
    BOOST_TEST(h.stats().discarded >= 16u);
    BOOST_TEST(metric_value(sys, "spindle_stream_items_total",
                            {{"stream", "cancelled"}, {"processor", "map_parallel-2"}, {"status", "discarded"}}) ==
               static_cast<double>(h.stats().stages[2].discarded));
    BOOST_TEST(eventually([&] { return sys.actor_count() == actors_before; }));
    BOOST_TEST(eventually([&] { return sys.timers().pending() == 0; })); // the sleeps were cancelled
    BOOST_TEST(started->load() == 4); // nothing new started after the cancel
    // what was left in the buffers no longer counts as their depth
    BOOST_TEST(metric_value(sys, "spindle_stream_buffer_depth", {{"stream", "cancelled"}, {"processor", "map_parallel-2"}}) == 0);
    BOOST_TEST(metric_value(sys, "spindle_streams_finished_total", {{"outcome", "cancelled"}}) == 1);
    BOOST_TEST(spindle::active_streams(sys) == 0u);
}

BOOST_AUTO_TEST_CASE(a_system_shutdown_ends_its_streams)
{
    auto sys = std::make_unique<spindle::system>(spindle_test::workers(2));
    auto h = spindle::from_generator([n = 0]() mutable -> std::optional<int> { return n++; })
                 .map([](int x) { return x; })
                 .for_each([](int) { boost::this_fiber::yield(); })
                 .run(*sys);
    BOOST_REQUIRE(eventually([&] { return h.stats().out > 100; }));
    spindle::shutdown_report report;
    {
        spindle_test::watchdog w("shutdown");
        report = sys->shutdown(std::chrono::seconds(30));
    }
    BOOST_TEST(report.clean());
    BOOST_TEST(h.ready());
    BOOST_TEST(h.result().error() == make_error_code(spindle::error::system_stopped));
    sys.reset();
    BOOST_TEST(!h.stats().running);
    check_end_accounting(h.stats()); // cancelled by the shutdown: reconciled too
}

BOOST_AUTO_TEST_CASE(run_on_a_stopped_system_fails)
{
    spindle::system sys(spindle_test::workers(1));
    sys.shutdown();
    auto r = spindle::from_range(iota_vec(3)).collect();
    boost::system::error_code ec;
    auto h = r.run(sys, {}, ec);
    BOOST_TEST(ec == make_error_code(spindle::error::system_stopped));
    BOOST_TEST(!h.valid());
    BOOST_CHECK_EXCEPTION(r.run(sys), spindle::system_error, spindle_test::has_code(spindle::error::system_stopped));
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_with_a_message)
{
    spindle::system sys(spindle_test::workers(1));
    auto src = spindle::from_range(iota_vec(3));
    auto refused = [&](auto const& runnable, spindle::stream_options const& o, std::string const& text) {
        boost::system::error_code ec;
        auto h = runnable.run(sys, o, ec);
        BOOST_TEST(ec == make_error_code(spindle::error::invalid_argument));
        BOOST_TEST(!h.valid());
        try
        {
            runnable.run(sys, o);
            BOOST_ERROR("run must throw for: " << text);
        }
        catch(spindle::system_error const& e)
        {
            BOOST_TEST(e.code() == make_error_code(spindle::error::invalid_argument));
            BOOST_TEST(std::string(e.what()).find(text) != std::string::npos, e.what() << " lacks " << text);
        }
    };
    refused(src.collect(buffered(buffer(0))), {},
            "stage 'sink': buffer capacity must be at least 1");
    auto bad_threshold = buffer(10);
    bad_threshold.threshold = 1.5;
    refused(src.collect(), stream_named("s", true, bad_threshold), "default buffer threshold must be in (0, 1]");
    refused(src.map([](int x) { return x; }, named("a")).map([](int x) { return x; }, named("a")).collect(), {},
            "two stages are named 'a'");
    refused(src.batch(0, 1s).collect(), {}, "stage 'batch-1': batch size must be at least 1");
    refused(src.batch(3, 0s).collect(), {}, "batch max_wait must be positive");
    refused(src.throttle(0).collect(), {}, "throttle rate must be positive");
    refused(src.map_parallel(0, [](int x) { return x; }).collect(), {}, "map_parallel width must be between 1 and 4096");
    spindle::retry_policy bad_retry;
    bad_retry.max_attempts = 0;
    refused(src.map([](int x) { return x; }, on_error(spindle::error_action::retry, "", bad_retry)).collect(),
            {}, "invalid retry policy");
    refused(src.map([](int x) { return std::make_unique<int>(x); })
                .map([](std::unique_ptr<int> p) { return *p; }, on_error(spindle::error_action::retry))
                .collect(),
            {}, "error_action::retry needs copyable items");
    BOOST_CHECK_EXCEPTION(spindle::push_source<int>(0), spindle::system_error,
                          spindle_test::has_code(spindle::error::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_sources_and_sinks)

BOOST_AUTO_TEST_CASE(a_generator_and_a_channel)
{
    spindle::system sys(spindle_test::workers(2));
    spindle_test::watchdog w("generator_channel");
    auto g = spindle::from_generator([n = 0]() mutable -> std::optional<int> {
                 if(n == 50)
                     return std::nullopt;
                 return n++;
             })
                 .collect()
                 .run(sys)
                 .get();
    BOOST_TEST(g == iota_vec(50), boost::test_tools::per_element());

    auto in = std::make_shared<spindle::channel<int>>(4);
    auto out = std::make_shared<spindle::channel<int>>(4);
    auto h = spindle::from_channel(in).map([](int x) { return -x; }).to_channel(out).run(sys);
    std::thread producer([in] {
        for(int i = 0; i < 200; ++i)
            in->push(i);
        in->close();
    });
    std::vector<int> got;
    int v = 0;
    while(out->pop(v) == spindle::channel_status::success) // the sink closes it at the end
        got.push_back(v);
    producer.join();
    h.get();
    BOOST_REQUIRE(got.size() == 200u);
    for(int i = 0; i < 200; ++i)
        BOOST_TEST(got[static_cast<std::size_t>(i)] == -i);
}

BOOST_AUTO_TEST_CASE(a_closed_sink_channel_fails_the_stream)
{
    spindle::system sys(spindle_test::workers(1));
    auto out = std::make_shared<spindle::channel<int>>(1);
    out->close();
    auto h = spindle::from_range(iota_vec(5)).to_channel(out).run(sys);
    spindle_test::watchdog w("closed_channel");
    BOOST_TEST(h.result().error() == make_error_code(spindle::stream_error::sink_closed));
    BOOST_TEST(h.failed_stage() == "sink");
}

BOOST_AUTO_TEST_CASE(a_push_source_reports_backpressure_to_a_plain_thread)
{
    spindle::system sys(spindle_test::workers(2));
    spindle::push_source<int> src(4);
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto h = spindle::from_source(src)
                 .for_each(
                     [g = gate.g, seen](int x) {
                         seen->push(x);
                         g->pass(); // the sink stalls until the test opens the gate
                     },
                     buffered(buffer(4)))
                 .run(sys);
    spindle_test::watchdog w("push_source");
    // push until try_push reports that the stream is behind and everything stalls:
    // the sink holds one item at its gate, its buffer and the source are full
    int next = 0;
    BOOST_REQUIRE(eventually([&] {
        for(int v = next; src.try_push(v) == spindle::channel_status::success; v = next)
            ++next;
        return gate->entered() == 1 && h.stats().stages.back().buffer_depth == 4 && src.size() == 4;
    }));
    int more = next;
    BOOST_TEST(src.try_push(more) == spindle::channel_status::full);
    BOOST_TEST(more == next); // a refused item stays with the caller
    // a plain thread blocks in push until the stream catches up
    std::thread pusher([src, first = next]() mutable {
        for(int i = first; i < first + 20; ++i)
            src.push(i);
        src.close();
    });
    gate->open();
    pusher.join();
    h.get();
    auto const got = seen->snapshot();
    BOOST_TEST(got == iota_vec(next + 20), boost::test_tools::per_element());
    int after = 0;
    BOOST_TEST(src.try_push(after) == spindle::channel_status::closed);
}

BOOST_AUTO_TEST_CASE(an_asio_handler_pushes_without_ever_blocking)
{
    spindle::system sys(spindle_test::workers(2));
    spindle::push_source<int> src(2);
    spindle_test::scoped_gate gate;
    auto seen = std::make_shared<spindle_test::history<int>>();
    auto h = spindle::from_source(src)
                 .for_each(
                     [g = gate.g, seen](int x) {
                         seen->push(x);
                         if(x == 0)
                             g->pass();
                     },
                     buffered(buffer(2)))
                 .run(sys);
    // The io_context's thread only ever calls try_push: when the stream is
    // behind, the handler stops producing and tries again from a timer.
    boost::asio::io_context io;
    boost::asio::steady_timer retry(io);
    int next = 0;
    std::atomic<int> fulls{0};
    std::function<void()> produce = [&] {
        while(next < 500)
        {
            int v = next;
            if(src.try_push(v) != spindle::channel_status::success)
            {
                fulls.fetch_add(1);
                retry.expires_after(1ms);
                retry.async_wait([&](boost::system::error_code) { produce(); });
                return;
            }
            ++next;
        }
        src.close();
    };
    boost::asio::post(io, produce);
    std::thread io_thread([&] { io.run(); });
    BOOST_REQUIRE(eventually([&] { return fulls.load() > 0; })); // backpressure reached the handler
    gate->open();
    {
        spindle_test::watchdog w("asio push");
        h.get();
    }
    io_thread.join();
    BOOST_TEST(seen->snapshot() == iota_vec(500), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_actor_source_and_an_actor_sink)
{
    spindle::system sys(spindle_test::workers(2));
    spindle::actor_source<int> src(sys, 8);
    auto target = sys.spawn<collector_actor>();
    auto h = spindle::from_source(src).map([](int x) { return x * 10; }).to_actor(target).run(sys);
    for(int i = 0; i < 100; ++i)
        src.ref().tell(i);
    src.ref().tell(spindle::end_of_stream{});
    spindle_test::watchdog w("actor_source");
    h.get();
    auto const got = target.ask(collector_actor_total{}).get();
    BOOST_REQUIRE(got.size() == 100u);
    for(int i = 0; i < 100; ++i)
        BOOST_TEST(got[static_cast<std::size_t>(i)] == i * 10);
    BOOST_TEST(eventually([&] { return !src.ref().alive(); }));
}

BOOST_AUTO_TEST_CASE(an_actor_sink_that_stopped_fails_the_stream)
{
    spindle::system sys(spindle_test::workers(1));
    auto target = sys.spawn<collector_actor>();
    target.stop();
    BOOST_REQUIRE(eventually([&] { return !target.alive(); }));
    auto h = spindle::from_range(iota_vec(5)).to_actor(target).run(sys);
    spindle_test::watchdog w("stopped_actor");
    BOOST_TEST(h.result().error() == make_error_code(spindle::stream_error::sink_closed));
    BOOST_TEST(h.failure_message() == "stream 'stream': stage 'sink' failed: the actor stopped");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_time)

BOOST_AUTO_TEST_CASE(batch_sends_a_partial_batch_after_max_wait)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    spindle::push_source<int> src(100);
    auto batches = std::make_shared<spindle_test::history<std::vector<int>>>();
    auto h = spindle::from_source(src)
                 .batch(5, 1s)
                 .for_each([batches](std::vector<int> b) { batches->push(std::move(b)); })
                 .run(sys);
    spindle_test::watchdog w("batch");
    for(int i = 0; i < 3; ++i)
        src.push(i);
    // the batch stage holds three items and waits for two more, or its deadline
    BOOST_REQUIRE(eventually([&] { return h.stats().stages[1].in == 3 && sys.timers().pending() == 1; }));
    clock->advance(999ms);
    BOOST_TEST(batches->size() == 0u);
    clock->advance(1ms);
    BOOST_REQUIRE(eventually([&] { return batches->size() == 1; }));
    BOOST_TEST(batches->snapshot()[0] == (std::vector<int>{0, 1, 2}), boost::test_tools::per_element());
    for(int i = 3; i < 8; ++i) // a full batch goes at once, without the clock
        src.push(i);
    BOOST_REQUIRE(eventually([&] { return batches->size() == 2; }));
    BOOST_TEST(batches->snapshot()[1] == (std::vector<int>{3, 4, 5, 6, 7}), boost::test_tools::per_element());
    src.push(8);
    src.close(); // the end flushes the partial batch
    h.get();
    BOOST_REQUIRE(batches->size() == 3u);
    BOOST_TEST(batches->snapshot()[2] == std::vector<int>{8}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(throttle_keeps_its_rate_on_the_system_clock)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    auto count = std::make_shared<std::atomic<int>>(0);
    // 10 items per second with a bucket of 5: a burst of 5 at once, then 5
    // more every 500 ms, each group after a single sleep
    auto h = spindle::from_range(iota_vec(20))
                 .throttle(10, 5)
                 .for_each([count](int) { count->fetch_add(1); })
                 .run(sys);
    spindle_test::watchdog w("throttle");
    for(int step = 1; step <= 4; ++step)
    {
        BOOST_REQUIRE(eventually([&] { return count->load() == 5 * step; }));
        if(step == 4)
            break;
        BOOST_REQUIRE(eventually([&] { return sys.timers().pending() == 1; })); // one sleep for the next five
        clock->advance(499ms);
        BOOST_TEST(count->load() == 5 * step); // not a single item early
        clock->advance(1ms);
    }
    h.get();
    BOOST_TEST(count->load() == 20);
    BOOST_TEST(h.stats().stages[1].out == 20u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_metrics)

BOOST_AUTO_TEST_CASE(stages_report_to_the_registry_and_active_streams_counts)
{
    spindle::system sys(spindle_test::workers(2));
    spindle_test::scoped_gate gate;
    BOOST_TEST(spindle::active_streams(sys) == 0u);
    auto h = spindle::from_range(iota_vec(100))
                 .filter([](int x) { return x % 2 == 0; }, named("evens"))
                 .for_each([g = gate.g](int) { g->pass(); })
                 .run(sys, stream_named("metered"));
    spindle_test::watchdog w("metrics");
    BOOST_REQUIRE(eventually([&] { return gate->entered() > 0; }));
    BOOST_TEST(spindle::active_streams(sys) == 1u);
    gate->open();
    h.get();
    BOOST_TEST(spindle::active_streams(sys) == 0u);

    auto value = [&](std::string const& name, spindle::metrics::labels_type labels) {
        return metric_value(sys, name, std::move(labels));
    };
    using L = spindle::metrics::labels_type;
    BOOST_TEST(value("spindle_stream_items_total", L{{"stream", "metered"}, {"processor", "source"}, {"status", "out"}}) == 100);
    BOOST_TEST(value("spindle_stream_items_total", L{{"stream", "metered"}, {"processor", "evens"}, {"status", "in"}}) == 100);
    BOOST_TEST(value("spindle_stream_items_total", L{{"stream", "metered"}, {"processor", "evens"}, {"status", "filtered"}}) == 50);
    BOOST_TEST(value("spindle_stream_items_total", L{{"stream", "metered"}, {"processor", "sink"}, {"status", "out"}}) == 50);
    BOOST_TEST(value("spindle_stream_items_total", L{{"stream", "metered"}, {"processor", "sink"}, {"status", "dropped"}}) == 0);
    BOOST_TEST(value("spindle_stream_buffer_depth", L{{"stream", "metered"}, {"processor", "sink"}}) == 0);
    BOOST_TEST(value("spindle_streams_finished_total", L{{"outcome", "completed"}}) == 1);
    BOOST_TEST(value("spindle_streams_active", L{}) == 0);

    // a second run with the same name adds to the same series
    spindle::from_range(iota_vec(10))
        .filter([](int) { return true; }, named("evens"))
        .for_each([](int) {})
        .run(sys, stream_named("metered"))
        .get();
    BOOST_TEST(value("spindle_stream_items_total", L{{"stream", "metered"}, {"processor", "source"}, {"status", "out"}}) == 110);
}

BOOST_AUTO_TEST_SUITE_END()
