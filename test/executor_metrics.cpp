//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The executor's series by task priority and its task-duration histogram
// (spindle_executor_task_duration_seconds), as the metrics registry holds
// them. Durations are measured on the system clock, so a manual clock
// makes them exact.

#include <spindle/executor.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/manual_clock.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>

#include <boost/fiber/future.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using spindle_test::eventually;
using spindle::task_priority;

namespace {

char const* const priorities[] = {"low", "normal", "high", "critical"};

char const* const task_families[] = {
    "spindle_executor_tasks_submitted_total", "spindle_executor_tasks_completed_total",
    "spindle_executor_tasks_rejected_total",  "spindle_executor_tasks_failed_total",
    "spindle_executor_tasks_timed_out_total", "spindle_executor_tasks_cancelled_total",
};

constexpr char const* duration_family = "spindle_executor_task_duration_seconds";

struct fixture
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys;

    static spindle::system_options options(std::shared_ptr<spindle::manual_clock> c)
    {
        spindle::system_options o;
        o.worker_threads = 2;
        o.clock = std::move(c);
        return o;
    }

    fixture() : sys(options(clock)) {}
};

std::string label(spindle::metrics::sample const& s, std::string const& name)
{
    for(auto const& [k, v] : s.labels)
        if(k == name)
            return v;
    return {};
}

/// The series of executor `ex` in `family`, one per priority (null if missing).
struct by_priority
{
    spindle::metrics::sample const* p[4] = {};
    std::size_t count = 0; ///< series of this executor in the family
};

by_priority series(std::vector<spindle::metrics::metric_family> const& snap, std::string const& family,
                   std::string const& ex)
{
    by_priority r;
    for(auto const& f : snap)
        if(f.name == family)
            for(auto const& s : f.samples)
                if(label(s, "executor") == ex)
                {
                    ++r.count;
                    for(int i = 0; i < 4; ++i)
                        if(label(s, "priority") == priorities[i])
                            r.p[i] = &s;
                }
    return r;
}

/// The value of `family` for executor `ex` at priority `p` (-1 if missing).
double value(spindle::system& sys, std::string const& family, std::string const& ex, task_priority p)
{
    auto const snap = sys.metrics().snapshot();
    auto const s = series(snap, family, ex);
    auto const* x = s.p[static_cast<int>(p)];
    return x ? x->value : -1.0;
}

struct histogram_view
{
    std::uint64_t count = 0;
    double sum = 0;
    std::vector<spindle::metrics::bucket> buckets;

    /// Observations in the bucket whose upper bound is `le` (not cumulative).
    std::uint64_t in(double le) const
    {
        for(std::size_t i = 0; i < buckets.size(); ++i)
            if(buckets[i].upper_bound == le)
                return buckets[i].cumulative_count - (i ? buckets[i - 1].cumulative_count : 0);
        BOOST_FAIL("no bucket le=" << le);
        return 0;
    }
};

histogram_view durations(spindle::system& sys, std::string const& ex, task_priority p)
{
    auto const snap = sys.metrics().snapshot();
    auto const s = series(snap, duration_family, ex);
    auto const* x = s.p[static_cast<int>(p)];
    BOOST_REQUIRE(x);
    return {x->count, x->sum, x->buckets};
}

spindle::task_options at(task_priority p)
{
    spindle::task_options o;
    o.priority = p;
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_series_exists_for_every_priority_from_the_start)
{
    fixture f;
    spindle::executor_options o;
    o.name = "fresh";
    spindle::executor ex(f.sys, o);

    auto const snap = f.sys.metrics().snapshot();
    for(char const* family : task_families)
    {
        BOOST_TEST_INFO(family);
        auto const s = series(snap, family, "fresh");
        BOOST_TEST(s.count == 4u);
        for(int i = 0; i < 4; ++i)
        {
            BOOST_TEST_INFO(priorities[i]);
            BOOST_TEST_REQUIRE(s.p[i]);
            BOOST_TEST(s.p[i]->value == 0.0);
        }
    }
    auto const h = series(snap, duration_family, "fresh");
    BOOST_TEST(h.count == 4u);
    for(int i = 0; i < 4; ++i)
    {
        BOOST_TEST_REQUIRE(h.p[i]);
        BOOST_TEST(h.p[i]->count == 0u);
        // microseconds to minutes
        BOOST_TEST_REQUIRE(h.p[i]->buckets.size() == 28u);
        BOOST_TEST(h.p[i]->buckets.front().upper_bound == 1e-6);
        BOOST_TEST(h.p[i]->buckets[26].upper_bound == 600.0);
        BOOST_TEST(std::isinf(h.p[i]->buckets.back().upper_bound));
    }
    for(auto const& fam : snap)
        if(fam.name == duration_family)
            BOOST_TEST((fam.type == spindle::metrics::metric_type::histogram));
}

// Durations on the manual clock are exact: a task that moves the clock by
// 2 ms ran for 2 ms.
BOOST_AUTO_TEST_CASE(counts_and_durations_by_priority)
{
    fixture f;
    spindle::executor_options o;
    o.name = "jobs";
    spindle::executor ex(f.sys, o);

    // normal: many tasks at once, on both workers; the clock stands still
    std::vector<spindle::task_handle<int>> hs;
    for(int i = 0; i < 300; ++i)
        hs.push_back(ex.submit([i] { return i; }, at(task_priority::normal)));
    for(int i = 0; i < 300; ++i)
        BOOST_TEST(hs[static_cast<std::size_t>(i)].get() == i);

    // then one at a time, each moving the clock by a known amount
    auto& clock = *f.clock;
    for(int i = 0; i < 2; ++i)
        ex.submit([] {}, at(task_priority::low)).get();
    for(int i = 0; i < 3; ++i)
        ex.submit([&] { clock.advance(2ms); }, at(task_priority::high)).get();
    auto long_one = at(task_priority::critical);
    long_one.timeout = 1min;
    ex.submit([&] { clock.advance(20s); }, long_one).get();

    struct want
    {
        task_priority p;
        std::uint64_t n;
        double le;  ///< the bucket all of them fall in
        double sum; ///< seconds
    };
    for(auto const& w : {want{task_priority::low, 2, 1e-6, 0.0}, want{task_priority::normal, 300, 1e-6, 0.0},
                         want{task_priority::high, 3, 2.5e-3, 6e-3}, want{task_priority::critical, 1, 25.0, 20.0}})
    {
        BOOST_TEST_INFO(priorities[static_cast<int>(w.p)]);
        BOOST_TEST(value(f.sys, "spindle_executor_tasks_submitted_total", "jobs", w.p) == double(w.n));
        BOOST_TEST(value(f.sys, "spindle_executor_tasks_completed_total", "jobs", w.p) == double(w.n));
        auto const h = durations(f.sys, "jobs", w.p);
        BOOST_TEST(h.count == w.n); // one observation per task run
        BOOST_TEST(h.in(w.le) == w.n);
        BOOST_TEST(h.buckets.back().cumulative_count == w.n);
        BOOST_TEST(std::abs(h.sum - w.sum) < 1e-9);
    }
    // the executor's own totals are the sums over the priorities
    auto const s = ex.stats();
    BOOST_TEST(s.submitted == 306u);
    BOOST_TEST(s.completed == 306u);
}

BOOST_AUTO_TEST_CASE(failures_rejections_timeouts_and_cancellations_by_priority)
{
    fixture f;
    spindle::executor_options o;
    o.name = "rough";
    o.max_concurrent = 1; // one lane: a blocked task holds up the queue
    spindle::executor ex(f.sys, o);

    // failed at high: its attempt ran, so it is observed
    auto failing = ex.submit([]() -> int { throw std::runtime_error("no"); }, at(task_priority::high));
    failing.wait();
    BOOST_TEST(value(f.sys, "spindle_executor_tasks_failed_total", "rough", task_priority::high) == 1.0);
    BOOST_TEST(value(f.sys, "spindle_executor_tasks_completed_total", "rough", task_priority::high) == 0.0);
    BOOST_TEST(durations(f.sys, "rough", task_priority::high).count == 1u);

    // rejected at low (a zero timeout); an invalid priority counts as normal
    boost::system::error_code ec;
    auto bad = at(task_priority::low);
    bad.timeout = 0ns;
    ex.submit([] {}, bad, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    ex.submit([] {}, at(static_cast<task_priority>(9)), ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    BOOST_TEST(value(f.sys, "spindle_executor_tasks_rejected_total", "rough", task_priority::low) == 1.0);
    BOOST_TEST(value(f.sys, "spindle_executor_tasks_rejected_total", "rough", task_priority::normal) == 1.0);
    BOOST_TEST(value(f.sys, "spindle_executor_tasks_submitted_total", "rough", task_priority::low) == 0.0);

    // timed out at critical: stops when asked, after 100 ms of clock time
    std::atomic<bool> started{false};
    auto& timers = f.sys.timers();
    auto slow = at(task_priority::critical);
    slow.timeout = 100ms;
    auto h = ex.submit(
        [&](std::stop_token st) {
            started = true;
            timers.sleep_for(1h, st);
        },
        slow);
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    // while it holds the only lane, a low task waits in the queue; cancel it
    auto waiting = ex.submit([] {}, at(task_priority::low));
    BOOST_TEST(waiting.cancel());
    f.clock->advance(100ms);
    BOOST_TEST((h.result().error() == spindle::task_error::timed_out));
    BOOST_REQUIRE(eventually([&] { return ex.stats().running == 0u && ex.stats().queued == 0u; }));
    BOOST_TEST(value(f.sys, "spindle_executor_tasks_timed_out_total", "rough", task_priority::critical) == 1.0);
    auto const crit = durations(f.sys, "rough", task_priority::critical);
    BOOST_TEST(crit.count == 1u);
    BOOST_TEST(crit.in(0.1) == 1u);
    // the cancellation is counted when the lane takes the task off the queue
    BOOST_TEST(eventually([&] {
        return value(f.sys, "spindle_executor_tasks_cancelled_total", "rough", task_priority::low) == 1.0;
    }));
    BOOST_TEST(durations(f.sys, "rough", task_priority::low).count == 0u); // it never ran

    auto const s = ex.stats();
    BOOST_TEST(s.failed == 1u);
    BOOST_TEST(s.rejected == 2u);
    BOOST_TEST(s.timed_out == 1u);
    BOOST_TEST(s.cancelled == 1u);
}

// On the real clock, with two workers: the histogram counts every attempt
// (retries included), and exactly the tasks run.
BOOST_AUTO_TEST_CASE(every_attempt_is_observed_once)
{
    spindle::system sys(spindle_test::workers(2));
    spindle::executor_options o;
    o.name = "real";
    spindle::executor ex(sys, o);

    // two submitters (high) of 1000 tasks each (normal)
    constexpr int per_submitter = 1000;
    std::vector<spindle::task_handle<std::vector<spindle::task_handle<void>>>> submitters;
    for(int k = 0; k < 2; ++k)
        submitters.push_back(ex.submit(
            [&ex] {
                std::vector<spindle::task_handle<void>> hs;
                for(int i = 0; i < per_submitter; ++i)
                    hs.push_back(ex.submit([] {}, at(task_priority::normal)));
                return hs;
            },
            at(task_priority::high)));
    for(auto& s : submitters)
        for(auto& h : s.get())
            h.get();

    // a task that fails twice, then succeeds on its third attempt
    auto retried = at(task_priority::low);
    retried.on_error = spindle::error_strategy::retry_with_backoff;
    retried.retry.max_attempts = 3;
    retried.retry.base_delay = 1ms;
    retried.retry.max_delay = 1ms;
    auto attempts = std::make_shared<std::atomic<int>>(0);
    BOOST_TEST(ex.submit(
                     [attempts] {
                         if(++*attempts < 3)
                             throw std::runtime_error("not yet");
                         return 7;
                     },
                     retried)
                   .get() == 7);

    BOOST_TEST(durations(sys, "real", task_priority::normal).count == 2u * per_submitter);
    BOOST_TEST(durations(sys, "real", task_priority::high).count == 2u);
    BOOST_TEST(durations(sys, "real", task_priority::low).count == 3u); // per attempt
    BOOST_TEST(durations(sys, "real", task_priority::critical).count == 0u);
    BOOST_TEST(value(sys, "spindle_executor_tasks_completed_total", "real", task_priority::normal) ==
               2.0 * per_submitter);
    BOOST_TEST(value(sys, "spindle_executor_tasks_completed_total", "real", task_priority::low) == 1.0);
    BOOST_TEST(ex.stats().retries == 2u);
    auto const h = durations(sys, "real", task_priority::normal);
    BOOST_TEST(h.sum >= 0.0);
    BOOST_TEST(h.buckets.back().cumulative_count == h.count);
}
