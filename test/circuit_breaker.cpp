//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The breaker's state machine through every transition, on a manual clock:
// closed -> open after N consecutive failures, open -> half-open after the
// recovery timeout, at most M trial calls, M successes close, a failure
// re-opens; stale permits, reset, counts, callbacks, metrics, concurrent
// use, and the executor's circuit_breaker strategy.

#include <spindle/circuit_breaker.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/executor.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>
#include <spindle/timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using spindle::circuit_state;
using spindle::task_error;

namespace {

struct clocked
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::timer_service timers{clock};
};

spindle::circuit_breaker_options opts(std::size_t threshold, std::chrono::nanoseconds recovery, std::size_t trials)
{
    spindle::circuit_breaker_options o;
    o.failure_threshold = threshold;
    o.recovery_timeout = recovery;
    o.half_open_max_calls = trials;
    return o;
}

void fail(spindle::circuit_breaker& b)
{
    auto p = b.acquire();
    p.failure();
}

void succeed(spindle::circuit_breaker& b)
{
    auto p = b.acquire();
    p.success();
}

bool rejected(spindle::circuit_breaker& b)
{
    boost::system::error_code ec;
    auto p = b.try_acquire(ec);
    return ec == task_error::circuit_open && !p;
}

/// Records every transition a breaker reports.
struct transition_log
{
    std::mutex m;
    std::vector<spindle::circuit_transition> seen;

    void attach(spindle::circuit_breaker& b)
    {
        b.on_transition([this](spindle::circuit_transition const& t) {
            std::lock_guard lk(m);
            seen.push_back(t);
        });
    }

    /// "from->to" for each transition, in order.
    std::vector<std::string> pairs()
    {
        std::lock_guard lk(m);
        std::vector<std::string> r;
        for(auto const& t : seen)
            r.push_back(std::string(spindle::to_string(t.from)) + "->" + std::string(spindle::to_string(t.to)));
        return r;
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(closed_opens_after_consecutive_failures)
{
    clocked c;
    spindle::circuit_breaker b(c.timers, opts(3, 10s, 1));
    BOOST_TEST((b.state() == circuit_state::closed));
    fail(b);
    fail(b);
    succeed(b); // resets the run of failures
    fail(b);
    fail(b);
    BOOST_TEST((b.state() == circuit_state::closed));
    fail(b);
    BOOST_TEST((b.state() == circuit_state::open));
    auto s = b.stats();
    BOOST_TEST(s.transition_count(circuit_state::closed, circuit_state::open) == 1u);
    BOOST_TEST(s.failures == 5u);
    BOOST_TEST(s.successes == 1u);
}

BOOST_AUTO_TEST_CASE(open_fails_fast_without_calling)
{
    clocked c;
    spindle::circuit_breaker b(c.timers, opts(1, 10s, 1));
    BOOST_CHECK_THROW(b.call([]() -> int { throw std::runtime_error("down"); }), std::runtime_error);
    BOOST_TEST((b.state() == circuit_state::open));
    bool called = false;
    BOOST_CHECK_EXCEPTION(b.call([&] { called = true; }), spindle::system_error,
                          [](spindle::system_error const& e) { return e.code() == task_error::circuit_open; });
    BOOST_TEST(!called);
    BOOST_TEST(rejected(b));
    BOOST_TEST(b.stats().rejected == 2u);
}

BOOST_AUTO_TEST_CASE(every_transition_in_order)
{
    clocked c;
    spindle::circuit_breaker b(c.timers, opts(2, 10s, 2));
    transition_log log;
    log.attach(b);

    // closed -> open
    fail(b);
    fail(b);
    BOOST_TEST((b.state() == circuit_state::open));

    // open -> half-open: by the recovery timer, with no call needed
    c.clock->advance(10s - 1ns);
    BOOST_TEST((b.state() == circuit_state::open));
    BOOST_TEST(rejected(b));
    c.clock->advance(1ns);
    BOOST_TEST(log.pairs().size() == 2u); // the timer made the change inside advance
    BOOST_TEST((b.state() == circuit_state::half_open));

    // half-open: at most 2 trials; a failure re-opens
    auto t1 = b.acquire();
    auto t2 = b.acquire();
    BOOST_TEST(rejected(b)); // a third is refused
    t1.failure();
    BOOST_TEST((b.state() == circuit_state::open));
    t2.success(); // a trial of the previous half-open state: moves nothing
    BOOST_TEST((b.state() == circuit_state::open));

    // a fresh recovery timeout, then 2 successful trials close
    c.clock->advance(9s);
    BOOST_TEST((b.state() == circuit_state::open));
    c.clock->advance(1s);
    BOOST_TEST((b.state() == circuit_state::half_open));
    succeed(b);
    BOOST_TEST((b.state() == circuit_state::half_open));
    succeed(b);
    BOOST_TEST((b.state() == circuit_state::closed));

    // reset from open
    fail(b);
    fail(b);
    BOOST_TEST((b.state() == circuit_state::open));
    b.reset();
    BOOST_TEST((b.state() == circuit_state::closed));
    b.reset(); // already closed: no transition
    c.clock->advance(1h); // the cancelled recovery timer does not fire
    BOOST_TEST((b.state() == circuit_state::closed));

    std::vector<std::string> const expected{
        "closed->open",      "open->half_open", "half_open->open", "open->half_open",
        "half_open->closed", "closed->open",    "open->closed",
    };
    BOOST_TEST(log.pairs() == expected, boost::test_tools::per_element());

    auto s = b.stats();
    BOOST_TEST(s.transition_count(circuit_state::closed, circuit_state::open) == 2u);
    BOOST_TEST(s.transition_count(circuit_state::open, circuit_state::half_open) == 2u);
    BOOST_TEST(s.transition_count(circuit_state::half_open, circuit_state::open) == 1u);
    BOOST_TEST(s.transition_count(circuit_state::half_open, circuit_state::closed) == 1u);
    BOOST_TEST(s.transition_count(circuit_state::open, circuit_state::closed) == 1u);
    BOOST_TEST(s.transition_count(circuit_state::closed, circuit_state::half_open) == 0u);
}

BOOST_AUTO_TEST_CASE(stale_and_abandoned_permits)
{
    clocked c;
    spindle::circuit_breaker b(c.timers, opts(2, 1s, 1));
    // a slow call admitted while closed fails after the circuit opened
    auto slow = b.acquire();
    fail(b);
    fail(b);
    BOOST_TEST((b.state() == circuit_state::open));
    slow.failure();
    BOOST_TEST(b.stats().failures == 3u); // counted...
    c.clock->advance(1s);
    BOOST_TEST((b.state() == circuit_state::half_open)); // ...but it moved nothing

    // an abandoned trial gives its slot back
    {
        auto trial = b.acquire();
        BOOST_TEST(rejected(b));
    }
    BOOST_TEST((b.state() == circuit_state::half_open));
    auto again = b.acquire();
    BOOST_TEST(static_cast<bool>(again));
    again.success();
    again.failure(); // only the first report counts
    BOOST_TEST((b.state() == circuit_state::closed));
    BOOST_TEST(b.stats().successes == 1u);
}

BOOST_AUTO_TEST_CASE(call_passes_values_and_exceptions)
{
    clocked c;
    spindle::circuit_breaker b(c.timers, opts(5, 1s, 1));
    BOOST_TEST(b.call([] { return 41 + 1; }) == 42);
    int x = 0;
    int& r = b.call([&]() -> int& { return x; });
    BOOST_TEST(&r == &x);
    BOOST_CHECK_THROW(b.call([] { throw std::logic_error("bad"); }), std::logic_error);
    BOOST_TEST(b.stats().successes == 2u);
    BOOST_TEST(b.stats().failures == 1u);
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused)
{
    clocked c;
    BOOST_CHECK_THROW(spindle::circuit_breaker(c.timers, opts(0, 1s, 1)), spindle::system_error);
    BOOST_CHECK_THROW(spindle::circuit_breaker(c.timers, opts(1, 0s, 1)), spindle::system_error);
    BOOST_CHECK_THROW(spindle::circuit_breaker(c.timers, opts(1, 1s, 0)), spindle::system_error);
    spindle::circuit_breaker d(c.timers);
    BOOST_TEST(d.options().failure_threshold == spindle::defaults::circuit_failure_threshold);
    BOOST_TEST((d.options().recovery_timeout == spindle::defaults::circuit_recovery_timeout));
    BOOST_TEST(d.options().half_open_max_calls == spindle::defaults::circuit_half_open_max_calls);
    BOOST_TEST(!d.name().empty());
}

BOOST_AUTO_TEST_CASE(metrics_in_the_system_registry)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system_options so;
    so.worker_threads = 1;
    so.clock = clock;
    spindle::system sys(so);
    auto events = std::make_shared<spindle_test::history<spindle::event>>();
    sys.events().subscribe(spindle::event_filter::of({spindle::event_type::circuit_opened,
                                                      spindle::event_type::circuit_half_open,
                                                      spindle::event_type::circuit_closed}),
                           [events](spindle::event const& e) { events->push(e); });
    auto o = opts(1, 1s, 1);
    o.name = "payments";
    spindle::circuit_breaker b(sys, o);
    fail(b);
    BOOST_TEST(rejected(b));
    clock->advance(1s);
    succeed(b);

    // every transition is also an event of the system, in order
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return events->size() == 3; }));
    auto ev = events->snapshot();
    BOOST_TEST((ev[0].type == spindle::event_type::circuit_opened));
    BOOST_TEST((ev[1].type == spindle::event_type::circuit_half_open));
    BOOST_TEST((ev[2].type == spindle::event_type::circuit_closed));
    BOOST_TEST(ev[0].source_name == "breaker/payments");
    BOOST_TEST(ev[0].detail == "closed -> open");

    auto const families = sys.metrics().snapshot();
    auto find = [&](std::string const& name, spindle::metrics::labels_type want) {
        for(auto const& f : families)
        {
            if(f.name != name)
                continue;
            for(auto const& s : f.samples)
            {
                bool all = true;
                for(auto const& w : want)
                {
                    bool found = false;
                    for(auto const& l : s.labels)
                        found = found || l == w;
                    all = all && found;
                }
                if(all)
                    return s.value;
            }
        }
        return -1.0;
    };
    auto tr = [&](char const* from, char const* to) {
        return find("spindle_circuit_breaker_transitions_total", {{"breaker", "payments"}, {"from", from}, {"to", to}});
    };
    BOOST_TEST(tr("closed", "open") == 1.0);
    BOOST_TEST(tr("open", "half_open") == 1.0);
    BOOST_TEST(tr("half_open", "closed") == 1.0);
    BOOST_TEST(tr("half_open", "open") == 0.0);
    BOOST_TEST(find("spindle_circuit_breaker_state", {{"breaker", "payments"}}) == 0.0);
    BOOST_TEST(find("spindle_circuit_breaker_calls_total", {{"breaker", "payments"}, {"outcome", "rejected"}}) == 1.0);
    BOOST_TEST(find("spindle_circuit_breaker_calls_total", {{"breaker", "payments"}, {"outcome", "failure"}}) == 1.0);
    BOOST_TEST(find("spindle_circuit_breaker_calls_total", {{"breaker", "payments"}, {"outcome", "success"}}) == 1.0);
}

BOOST_AUTO_TEST_CASE(concurrent_callers_keep_the_books_straight)
{
    clocked c;
    spindle::circuit_breaker b(c.timers, opts(3, 1ms, 2));
    std::atomic<std::uint64_t> calls{0};
    std::atomic<bool> stop{false};
    std::thread ticker([&] {
        while(!stop)
        {
            c.clock->advance(100us);
            std::this_thread::yield();
        }
    });
    std::vector<std::thread> ts;
    for(int t = 0; t < 4; ++t)
    {
        ts.emplace_back([&, t] {
            for(int i = 0; i < 20000; ++i)
            {
                ++calls;
                try
                {
                    b.call([&] {
                        if((i + t) % 4 != 0)
                            throw std::runtime_error("flaky");
                    });
                }
                catch(...)
                {
                }
            }
        });
    }
    for(auto& t : ts)
        t.join();
    stop = true;
    ticker.join();
    auto s = b.stats();
    BOOST_TEST(s.successes + s.failures + s.rejected == calls.load());
    // every entry into open was left again or is the current state
    auto opened = s.transition_count(circuit_state::closed, circuit_state::open) +
                  s.transition_count(circuit_state::half_open, circuit_state::open);
    auto left = s.transition_count(circuit_state::open, circuit_state::half_open) +
                s.transition_count(circuit_state::open, circuit_state::closed);
    BOOST_TEST(opened >= 1u);
    BOOST_TEST((opened == left || opened == left + 1));
}

BOOST_AUTO_TEST_CASE(executor_tasks_behind_a_breaker)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system_options so;
    so.worker_threads = 2;
    so.clock = clock;
    spindle::system sys(so);
    spindle::executor_options eo;
    eo.max_concurrent = 1; // one at a time: outcomes in submission order
    spindle::executor ex(sys, eo);
    auto breaker = std::make_shared<spindle::circuit_breaker>(sys, opts(2, 30s, 1));

    spindle::task_options o;
    o.on_error = spindle::error_strategy::circuit_breaker;
    o.breaker = breaker;
    o.retry.max_attempts = 1;
    std::atomic<int> runs{0};
    auto failing = [&] {
        ++runs;
        throw std::runtime_error("upstream down");
    };
    BOOST_TEST((ex.submit(failing, o).result().error() == task_error::task_failed));
    BOOST_TEST((ex.submit(failing, o).result().error() == task_error::task_failed));
    BOOST_TEST((breaker->state() == circuit_state::open));
    // open: the task fails fast and never runs
    BOOST_TEST((ex.submit(failing, o).result().error() == task_error::circuit_open));
    BOOST_TEST(runs.load() == 2);

    clock->advance(30s);
    auto ok = ex.submit([&] { return ++runs; }, o);
    BOOST_TEST(ok.get() == 3);
    BOOST_TEST((breaker->state() == circuit_state::closed));
    BOOST_TEST(ex.stats().failed == 3u);

    // retries stop at an open circuit
    o.retry.max_attempts = 10;
    o.retry.base_delay = 1ms;
    o.retry.jitter = 0;
    o.timeout = std::chrono::nanoseconds::max(); // the loop below moves the clock a lot
    auto retried = ex.submit(failing, o);
    // attempt 1 fails, retry after 1 ms; attempt 2 fails: open; attempt 3 is refused
    auto const deadline = std::chrono::steady_clock::now() + 60s;
    while(!retried.ready() && std::chrono::steady_clock::now() < deadline)
    {
        clock->advance(1ms);
        std::this_thread::yield();
    }
    BOOST_TEST((retried.result().error() == task_error::circuit_open));
    BOOST_TEST(runs.load() == 5);
}

namespace {

/// A system on a manual clock, an executor running one task at a time, and
/// the options of a task guarded by `breaker`, tried once, timing out after 50 ms.
struct guarded
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys{spindle_test::manual_clock_options(2, clock)};
    spindle::executor ex{sys, [] {
                             spindle::executor_options eo;
                             eo.max_concurrent = 1;
                             return eo;
                         }()};

    static spindle::task_options task_opts(std::shared_ptr<spindle::circuit_breaker> b)
    {
        spindle::task_options o;
        o.on_error = spindle::error_strategy::circuit_breaker;
        o.breaker = std::move(b);
        o.retry.max_attempts = 1;
        o.timeout = 50ms;
        return o;
    }

    /// Submits a task that sleeps on its stop token (a cooperative task
    /// calling a dependency that hangs) and waits until it runs.
    spindle::task_handle<int> hanging(spindle::task_options const& o, std::atomic<bool>& returned)
    {
        auto started = std::make_shared<std::atomic<bool>>(false);
        auto& timers = sys.timers();
        auto h = ex.submit(
            [&timers, started, &returned](std::stop_token st) {
                *started = true;
                timers.sleep_for(1h, st);
                returned = true;
                return 1;
            },
            o);
        BOOST_REQUIRE(spindle_test::eventually([&] { return started->load(); }));
        return h;
    }
};

} // namespace

// issue 19, item 1: a timed-out attempt used to report a success
BOOST_AUTO_TEST_CASE(a_timed_out_attempt_is_a_failure_for_the_breaker)
{
    guarded g;
    auto breaker = std::make_shared<spindle::circuit_breaker>(g.sys, opts(1, 30s, 1));
    std::atomic<bool> returned{false};
    auto h = g.hanging(guarded::task_opts(breaker), returned);
    g.clock->advance(50ms);
    BOOST_TEST((h.result().error() == task_error::timed_out));
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return returned.load() && g.ex.stats().running == 0u; }));
    BOOST_TEST(breaker->stats().failures == 1u);
    BOOST_TEST(breaker->stats().successes == 0u);
    BOOST_TEST((breaker->state() == circuit_state::open));
}

BOOST_AUTO_TEST_CASE(a_timed_out_trial_re_opens_the_circuit_at_once)
{
    guarded g;
    auto breaker = std::make_shared<spindle::circuit_breaker>(g.sys, opts(1, 30s, 1));
    fail(*breaker);
    g.clock->advance(30s);
    BOOST_TEST_REQUIRE((breaker->state() == circuit_state::half_open));

    // the trial ignores its stop token: the timeout alone must re-open
    auto gate = std::make_shared<spindle_test::gate>();
    struct opener
    {
        std::shared_ptr<spindle_test::gate> g;
        ~opener() { g->open(); }
    } open_at_exit{gate};
    auto h = g.ex.submit(
        [gate](std::stop_token) {
            gate->pass();
            return 1;
        },
        guarded::task_opts(breaker));
    BOOST_REQUIRE(spindle_test::eventually([&] { return gate->entered() == 1; }));
    g.clock->advance(50ms);
    BOOST_TEST((h.result().error() == task_error::timed_out));
    BOOST_TEST((breaker->state() == circuit_state::open)); // while the trial still runs
    BOOST_TEST(breaker->stats().transition_count(circuit_state::half_open, circuit_state::open) == 1u);
    BOOST_TEST(breaker->stats().successes == 0u);
    gate->open();
    BOOST_REQUIRE(spindle_test::eventually([&] { return g.ex.stats().running == 0u; }));
    BOOST_TEST((breaker->state() == circuit_state::open)); // its late value changes nothing
    BOOST_TEST(breaker->stats().failures == 2u);
    BOOST_TEST(breaker->stats().successes == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_attempt_is_a_failure_for_the_breaker)
{
    guarded g;
    auto breaker = std::make_shared<spindle::circuit_breaker>(g.sys, opts(1, 30s, 1));
    std::atomic<bool> returned{false};
    auto o = guarded::task_opts(breaker);
    o.timeout = std::chrono::nanoseconds::max();
    auto h = g.hanging(o, returned);
    BOOST_TEST(h.cancel());
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return returned.load() && g.ex.stats().running == 0u; }));
    BOOST_TEST(breaker->stats().failures == 1u);
    BOOST_TEST(breaker->stats().successes == 0u);
    BOOST_TEST((breaker->state() == circuit_state::open));
}

BOOST_AUTO_TEST_CASE(timeouts_and_cancellations_may_be_ignored)
{
    guarded g;
    auto bo = opts(1, 30s, 1);
    bo.on_timeout = spindle::circuit_outcome::ignored;
    bo.on_cancel = spindle::circuit_outcome::ignored;
    auto breaker = std::make_shared<spindle::circuit_breaker>(g.sys, bo);
    std::atomic<bool> returned{false};
    auto h = g.hanging(guarded::task_opts(breaker), returned);
    g.clock->advance(50ms);
    BOOST_TEST((h.result().error() == task_error::timed_out));
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return returned.load() && g.ex.stats().running == 0u; }));

    returned = false;
    auto o = guarded::task_opts(breaker);
    o.timeout = std::chrono::nanoseconds::max();
    auto c = g.hanging(o, returned);
    BOOST_TEST(c.cancel());
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return returned.load() && g.ex.stats().running == 0u; }));
    BOOST_TEST(breaker->stats().failures == 0u);
    BOOST_TEST(breaker->stats().successes == 0u);
    BOOST_TEST((breaker->state() == circuit_state::closed));

    // an ignored half-open trial gives its slot back
    fail(*breaker);
    g.clock->advance(30s);
    returned = false;
    auto t = g.hanging(guarded::task_opts(breaker), returned);
    g.clock->advance(50ms);
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return returned.load() && g.ex.stats().running == 0u; }));
    BOOST_TEST((breaker->state() == circuit_state::half_open));
    succeed(*breaker);
    BOOST_TEST((breaker->state() == circuit_state::closed));

    bo.on_timeout = static_cast<spindle::circuit_outcome>(7);
    BOOST_CHECK_THROW(spindle::circuit_breaker(g.sys, bo), spindle::system_error);
}
