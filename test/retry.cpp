//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Retry policies: the delay arithmetic (growth, cap, jitter bounds), option
// checks, and the executor's retries on the system's manual clock: how many
// attempts run, exactly when, and what the handle reports at the end.

#include <spindle/retry.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/executor.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/system.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using spindle_test::eventually;
using spindle::task_error;

namespace {

spindle::retry_policy policy(std::size_t attempts, std::chrono::nanoseconds base, std::chrono::nanoseconds max,
                             double multiplier, double jitter)
{
    spindle::retry_policy p;
    p.max_attempts = attempts;
    p.base_delay = base;
    p.max_delay = max;
    p.multiplier = multiplier;
    p.jitter = jitter;
    return p;
}

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

/// A task that fails `failures` times, then returns its attempt number,
/// recording when (on the system clock) each attempt started.
struct flaky
{
    struct log_type
    {
        std::mutex m;
        std::vector<spindle::timer_service::time_point> starts;
        std::atomic<int> attempts{0};
    };
    std::shared_ptr<log_type> log = std::make_shared<log_type>();
    spindle::timer_service* timers;
    int failures;

    flaky(spindle::timer_service& t, int n) : timers(&t), failures(n) {}

    int operator()() const
    {
        {
            std::lock_guard lk(log->m);
            log->starts.push_back(timers->now());
        }
        int const n = ++log->attempts;
        if(n <= failures)
            throw std::runtime_error("flaky attempt " + std::to_string(n));
        return n;
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(delays_grow_and_are_capped)
{
    auto const p = policy(10, 100ms, 1s, 2.0, 0.0);
    BOOST_TEST((p.delay(1) == 100ms));
    BOOST_TEST((p.delay(2) == 200ms));
    BOOST_TEST((p.delay(3) == 400ms));
    BOOST_TEST((p.delay(4) == 800ms));
    BOOST_TEST((p.delay(5) == 1s)); // capped
    BOOST_TEST((p.delay(1000) == 1s));
    BOOST_TEST((p.delay(0) == 100ms)); // reads as the first retry
    auto const flat = policy(3, 50ms, 50ms, 1.0, 0.0);
    BOOST_TEST((flat.delay(7) == 50ms));
    auto const none = policy(3, 0ms, 0ms, 2.0, 0.5);
    BOOST_TEST((none.delay(3) == 0ms));
}

BOOST_AUTO_TEST_CASE(jitter_only_shortens)
{
    auto const p = policy(5, 100ms, 10s, 2.0, 0.25);
    BOOST_TEST((p.delay(2, 0.0) == 200ms));
    BOOST_TEST((p.delay(2, 0.5) == 175ms));
    BOOST_TEST((p.delay(2, 0.999999) > 150ms));
    BOOST_TEST((p.delay(2, 5.0) == 150ms)); // clamped to [0, 1]
    BOOST_TEST((p.delay(2, -1.0) == 200ms));
    auto const capped = policy(5, 1s, 1s, 2.0, 1.0);
    BOOST_TEST((capped.delay(9, 0.5) == 500ms)); // the cap is never exceeded
}

BOOST_AUTO_TEST_CASE(policies_are_validated)
{
    boost::system::error_code ec;
    BOOST_TEST(spindle::retry_policy{}.validate(ec));
    BOOST_TEST(!ec);
    BOOST_TEST(!policy(0, 1ms, 1s, 2, 0).validate(ec));
    BOOST_TEST((ec == spindle::error::invalid_argument));
    BOOST_TEST(!policy(1, -1ms, 1s, 2, 0).validate(ec));
    BOOST_TEST(!policy(1, 2s, 1s, 2, 0).validate(ec));
    BOOST_TEST(!policy(1, 1ms, 1s, 0.5, 0).validate(ec));
    BOOST_TEST(!policy(1, 1ms, 1s, std::numeric_limits<double>::infinity(), 0).validate(ec));
    BOOST_TEST(!policy(1, 1ms, 1s, 2, 1.5).validate(ec));
    BOOST_TEST(!policy(1, 1ms, 1s, 2, std::nan("")).validate(ec));
}

BOOST_AUTO_TEST_CASE(executor_retries_count_and_spacing)
{
    fixture f;
    spindle::executor ex(f.sys);
    flaky task(f.sys.timers(), 100); // always fails
    spindle::task_options o;
    o.on_error = spindle::error_strategy::retry_with_backoff;
    o.retry = policy(4, 100ms, 10s, 2.0, 0.0);
    auto const t0 = f.clock->now();
    auto h = ex.submit(task, o);

    // attempt k+1 starts exactly delay(k) after attempt k failed
    std::chrono::nanoseconds const gaps[] = {100ms, 200ms, 400ms};
    for(int k = 0; k < 3; ++k)
    {
        BOOST_REQUIRE(eventually([&] { return ex.stats().retries == static_cast<std::uint64_t>(k + 1); }));
        BOOST_TEST(task.log->attempts.load() == k + 1);
        f.clock->advance(gaps[k] - 1ns);
        BOOST_TEST(task.log->attempts.load() == k + 1); // not a moment early
        BOOST_TEST(ex.stats().queued == 0u);
        f.clock->advance(1ns);
        BOOST_REQUIRE(eventually([&] { return task.log->attempts.load() == k + 2; }));
    }
    BOOST_TEST((h.result().error() == task_error::retries_exhausted));
    BOOST_CHECK_EXCEPTION(std::rethrow_exception(h.exception()), std::runtime_error,
                          [](std::runtime_error const& e) { return std::string(e.what()) == "flaky attempt 4"; });
    {
        std::lock_guard lk(task.log->m);
        BOOST_REQUIRE(task.log->starts.size() == 4u);
        BOOST_TEST((task.log->starts[0] == t0));
        BOOST_TEST((task.log->starts[1] == t0 + 100ms));
        BOOST_TEST((task.log->starts[2] == t0 + 300ms));
        BOOST_TEST((task.log->starts[3] == t0 + 700ms));
    }
    auto s = ex.stats();
    BOOST_TEST(s.retries == 3u);
    BOOST_TEST(s.exceptions == 4u);
    BOOST_TEST(s.failed == 1u);
    BOOST_TEST(s.completed == 0u);
}

BOOST_AUTO_TEST_CASE(executor_retry_succeeds_after_failures)
{
    fixture f;
    spindle::executor ex(f.sys);
    flaky task(f.sys.timers(), 2);
    spindle::task_options o;
    o.on_error = spindle::error_strategy::retry_with_backoff;
    o.retry = policy(5, 10ms, 1s, 3.0, 0.0);
    auto h = ex.submit(task, o);
    BOOST_REQUIRE(eventually([&] { return ex.stats().retries == 1u; }));
    f.clock->advance(10ms);
    BOOST_REQUIRE(eventually([&] { return ex.stats().retries == 2u; }));
    f.clock->advance(30ms);
    BOOST_TEST(h.get() == 3);
    BOOST_TEST(static_cast<bool>(h.exception())); // the failures are still on record
    BOOST_TEST(ex.stats().completed == 1u);
    BOOST_TEST(ex.stats().exceptions == 2u);
}

BOOST_AUTO_TEST_CASE(executor_jittered_delay_stays_in_bounds)
{
    fixture f;
    spindle::executor ex(f.sys);
    flaky task(f.sys.timers(), 1);
    spindle::task_options o;
    o.on_error = spindle::error_strategy::retry_with_backoff;
    o.retry = policy(2, 100ms, 10s, 2.0, 0.5); // the retry comes 50..100 ms later
    auto const t0 = f.clock->now();
    auto h = ex.submit(task, o);
    BOOST_REQUIRE(eventually([&] { return ex.stats().retries == 1u; }));
    f.clock->advance(50ms - 1ns);
    BOOST_TEST(task.log->attempts.load() == 1);
    f.clock->advance(50ms + 1ns);
    BOOST_TEST(h.get() == 2);
    std::lock_guard lk(task.log->m);
    BOOST_TEST((task.log->starts[1] >= t0 + 50ms));
    BOOST_TEST((task.log->starts[1] <= t0 + 100ms));
}

BOOST_AUTO_TEST_CASE(stop_on_error_does_not_retry)
{
    fixture f;
    spindle::executor ex(f.sys);
    flaky task(f.sys.timers(), 1);
    spindle::task_options o;
    o.retry = policy(5, 1ms, 1s, 2.0, 0.0); // ignored by stop_on_error
    auto h = ex.submit(task, o);
    BOOST_TEST((h.result().error() == task_error::task_failed));
    BOOST_TEST(task.log->attempts.load() == 1);
    BOOST_TEST(ex.stats().retries == 0u);
}

BOOST_AUTO_TEST_CASE(a_task_waiting_for_its_retry_can_be_cancelled)
{
    fixture f;
    spindle::executor ex(f.sys);
    flaky task(f.sys.timers(), 100);
    spindle::task_options o;
    o.on_error = spindle::error_strategy::retry_with_backoff;
    o.retry = policy(5, 1s, 1s, 1.0, 0.0);
    auto h = ex.submit(task, o);
    BOOST_REQUIRE(eventually([&] { return ex.stats().retries == 1u; }));
    BOOST_TEST(h.cancel());
    f.clock->advance(10s);
    BOOST_TEST((h.result().error() == task_error::cancelled));
    BOOST_TEST(task.log->attempts.load() == 1);
    BOOST_TEST(ex.stats().cancelled == 1u);
}

BOOST_AUTO_TEST_CASE(shutdown_ends_tasks_waiting_for_a_retry)
{
    fixture f;
    spindle::executor ex(f.sys);
    flaky task(f.sys.timers(), 100);
    spindle::task_options o;
    o.on_error = spindle::error_strategy::retry_with_backoff;
    o.retry = policy(5, 1h, 1h, 1.0, 0.0);
    auto h = ex.submit(task, o);
    BOOST_REQUIRE(eventually([&] { return ex.stats().retries == 1u; }));
    auto report = ex.shutdown(0ns);
    BOOST_TEST(report.cancelled == 1u);
    BOOST_TEST((h.result().error() == task_error::executor_stopped));
    f.clock->advance(2h); // the backoff timer finds nothing to do
    BOOST_TEST(task.log->attempts.load() == 1);
}
