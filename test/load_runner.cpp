//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/load/runner.hpp>

#include <boost/test/unit_test.hpp>

#include <spindle/manual_clock.hpp>
#include <spindle/timer.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace load = spindle::load;

namespace {

load::load_test_config config(char const* json)
{
    return load::parse_config(boost::json::parse(json));
}

boost::system::error_code ok(load::step const&, load::step_context&)
{
    return {};
}

// A run on a manual clock: advances `step` at a time, each time once every
// fiber of the run waits for time, until the run ends.
struct manual_run
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::timer_service timers{clock};

    load::load_results drive(load::runner& r, std::chrono::nanoseconds step, int max_steps)
    {
        r.start();
        for(int i = 0; i < max_steps && r.running(); ++i)
        {
            BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return r.quiescent(); }));
            if(!r.running())
                break;
            clock->advance(step);
        }
        BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return !r.running(); }));
        return r.wait();
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(weights_are_honoured_on_a_seed)
{
    auto cfg = config(R"({"users": 4, "iterations": 2500, "duration_s": 0, "seed": 11, "scenarios": [
        {"name": "rare", "weight": 1, "steps": [{"kind": "ask", "target": "a"}]},
        {"name": "some", "weight": 2, "steps": [{"kind": "ask", "target": "a"}]},
        {"name": "most", "weight": 7, "steps": [{"kind": "ask", "target": "a"}, {"kind": "tell", "target": "a"}]}]})");
    auto once = [&] {
        load::runner r(cfg, load::runner_options().on(load::step_kind::ask, ok).on(load::step_kind::tell, ok));
        return r.run();
    };
    auto const res = once();
    BOOST_TEST_REQUIRE(res.scenarios.size() == 3u);
    std::uint64_t const runs = res.scenarios[0].runs + res.scenarios[1].runs + res.scenarios[2].runs;
    BOOST_TEST(runs == 10000u);
    // 10,000 draws: a standard deviation of at most 0.5 percentage points
    BOOST_TEST(std::abs(static_cast<double>(res.scenarios[0].runs) / runs - 0.1) < 0.02);
    BOOST_TEST(std::abs(static_cast<double>(res.scenarios[1].runs) / runs - 0.2) < 0.02);
    BOOST_TEST(std::abs(static_cast<double>(res.scenarios[2].runs) / runs - 0.7) < 0.02);
    BOOST_TEST(res.total.count == runs + res.scenarios[2].runs);
    BOOST_TEST(res.total.failures == 0u);
    // the same seed draws the same scenarios
    auto const again = once();
    for(std::size_t i = 0; i < 3; ++i)
        BOOST_TEST(again.scenarios[i].runs == res.scenarios[i].runs);
    cfg.seed = 12;
    cfg.scenarios[0].weight = 1; // same weights, another seed: another draw
    load::runner r(cfg, load::runner_options().on(load::step_kind::ask, ok).on(load::step_kind::tell, ok));
    auto const other = r.run();
    BOOST_TEST(other.scenarios[0].runs != res.scenarios[0].runs);
}

BOOST_AUTO_TEST_CASE(ramp_up_and_think_time_on_a_manual_clock)
{
    manual_run m;
    auto const t0 = m.clock->now();
    std::map<std::size_t, std::vector<std::chrono::nanoseconds>> seen;
    auto cfg = config(R"({"users": 4, "ramp_up_s": 4, "think_time_ms": 500, "duration_s": 9.75, "scenarios": [
        {"steps": [{"kind": "ask", "target": "a"}]}]})");
    load::runner_options opts;
    opts.timers = &m.timers;
    opts.on(load::step_kind::ask, [&](load::step const&, load::step_context& ctx) {
        seen[ctx.user].push_back(ctx.timers.now() - t0);
        return boost::system::error_code();
    });
    load::runner r(cfg, opts);
    auto const res = m.drive(r, 100ms, 500);
    BOOST_TEST_REQUIRE(seen.size() == 4u);
    std::uint64_t total = 0;
    for(std::size_t u = 0; u < 4; ++u)
    {
        auto const& times = seen[u];
        BOOST_TEST_CONTEXT("user " << u)
        {
            // user u starts at 4 s * u / 4, then asks every 500 ms until 9.75 s
            BOOST_TEST_REQUIRE(times.size() == 20 - 2 * u);
            BOOST_TEST(times.front().count() == std::chrono::nanoseconds(1s * u).count());
            for(std::size_t i = 1; i < times.size(); ++i)
                BOOST_TEST((times[i] - times[i - 1]).count() == std::chrono::nanoseconds(500ms).count());
        }
        total += times.size();
    }
    BOOST_TEST(res.total.count == total);
    BOOST_TEST(res.total.response.max() == 0); // the handler took no time on this clock
    // the time series: one entry per second, the active users ramping up
    BOOST_TEST_REQUIRE(res.series.size() >= 9u);
    BOOST_TEST(res.series[0].count == 2u);  // user 0 at 0 and 0.5 s
    BOOST_TEST(res.series[4].count == 8u);  // all four users, twice each
    BOOST_TEST(res.series[0].active <= 2u); // user 1 may or may not have started when second 0 closes
    BOOST_TEST(res.series[4].active == 4u);
}

BOOST_AUTO_TEST_CASE(the_open_model_counts_from_the_intended_start)
{
    // 10 arrivals per second for 2 s, served one at a time in 250 ms each:
    // arrival k (at 100 ms * k) ends at 250 ms * (k + 1), so its response
    // time is 250 + 150 * k ms while its service time stays 250 ms.
    manual_run m;
    auto cfg = config(R"({"model": "open", "rate": 10, "max_in_flight": 1, "duration_s": 2, "scenarios": [
        {"steps": [{"kind": "ask", "target": "a"}]}]})");
    load::runner_options opts;
    opts.timers = &m.timers;
    opts.on(load::step_kind::ask, [](load::step const&, load::step_context& ctx) {
        ctx.sleep_for(250ms);
        return boost::system::error_code();
    });
    load::runner r(cfg, opts);
    auto const res = m.drive(r, 50ms, 500);
    BOOST_TEST(res.total.count == 20u);
    auto near = [](std::int64_t got, std::chrono::nanoseconds want) {
        return std::abs(static_cast<double>(got - want.count())) <= static_cast<double>(want.count()) / 256;
    };
    BOOST_TEST(near(res.total.service.percentile(50), 250ms));
    BOOST_TEST(res.total.service.max() == std::chrono::nanoseconds(250ms).count());
    BOOST_TEST(res.total.response.min() == std::chrono::nanoseconds(250ms).count());
    BOOST_TEST(res.total.response.max() == std::chrono::nanoseconds(3100ms).count());
    BOOST_TEST(near(res.total.response.percentile(50), 1600ms)); // rank 10: k = 9
    BOOST_TEST(res.elapsed == 5s);
    BOOST_TEST(res.rps() == 4.0);
}

BOOST_AUTO_TEST_CASE(errors_are_counted_by_kind)
{
    auto cfg = config(R"({"users": 2, "iterations": 50, "duration_s": 0, "scenarios": [
        {"steps": [{"name": "flaky", "kind": "ask", "target": "a"}, {"kind": "wait", "ms": 0}]}]})");
    int n = 0;
    load::runner r(cfg, load::runner_options().on(load::step_kind::ask, [&](load::step const&, load::step_context&) {
        ++n; // both users share the runner's thread
        if(n % 10 == 0)
            throw std::runtime_error("boom");
        if(n % 5 == 0)
            return boost::system::error_code(make_error_code(boost::system::errc::timed_out));
        return boost::system::error_code();
    }));
    auto const res = r.run();
    BOOST_TEST(res.total.count == 100u);
    BOOST_TEST(res.total.failures == 20u);
    BOOST_TEST(res.total.successes == 80u);
    BOOST_TEST(res.total.errors.at("exception: boom") == 10u);
    BOOST_TEST(res.total.errors.at("generic: Connection timed out") == 10u);
    BOOST_TEST(res.error_rate() == 0.2);
    BOOST_TEST_REQUIRE(res.scenarios[0].steps.size() == 2u);
    BOOST_TEST(res.scenarios[0].steps[0].name == "flaky");
    BOOST_TEST(res.scenarios[0].steps[0].stats.count == 100u);
    BOOST_TEST(res.scenarios[0].steps[1].stats.count == 0u);

    auto const j = load::to_json(res);
    BOOST_TEST(j.at("total").at("failures").as_uint64() == 20u);
    BOOST_TEST(j.at("scenarios").at(0).at("steps").at(0).at("errors").at("exception: boom").as_uint64() == 10u);
    BOOST_TEST(j.at("total").at("latency_ms").as_object().contains("p99_9"));

    load::slo s;
    s.error_rate = 0.1;
    auto const v = load::check_slo(res, s);
    BOOST_TEST(!v.passed);
    BOOST_TEST_REQUIRE(v.misses.size() == 1u);
    BOOST_TEST(v.misses[0] == "error rate 0.2000 > 0.1000");
    s.error_rate = 0.25;
    BOOST_TEST(load::check_slo(res, s).passed);
    auto const html = load::html_report(res, v);
    BOOST_TEST(html.find("<svg id=\"latency\"") != std::string::npos);
    BOOST_TEST(html.find("<svg id=\"histogram\"") != std::string::npos);
    BOOST_TEST(html.find("SLO missed") != std::string::npos);
    BOOST_TEST(html.find("<script") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_step_without_a_handler_is_refused_naming_it)
{
    auto cfg = config(R"({"scenarios": [{"steps": [{"kind": "ask", "target": "a"}, {"kind": "tool", "target": "t"}]}]})");
    try
    {
        load::runner r(cfg, load::runner_options().on(load::step_kind::ask, ok));
        BOOST_FAIL("no error");
    }
    catch(load::config_error const& e)
    {
        BOOST_TEST(e.field() == "scenarios[0].steps[1].kind");
    }
}

BOOST_AUTO_TEST_CASE(stop_ends_a_run_early)
{
    auto cfg = config(R"({"users": 3, "duration_s": 3600, "think_time_ms": 1, "scenarios": [
        {"steps": [{"kind": "ask", "target": "a"}]}]})");
    load::runner r(cfg, load::runner_options().on(load::step_kind::ask, ok));
    r.start();
    BOOST_TEST(r.running());
    std::this_thread::sleep_for(20ms);
    r.stop();
    auto const res = r.wait();
    BOOST_TEST(res.stopped_early);
    BOOST_TEST(!r.running());
}
