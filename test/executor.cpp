//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The executor as users rely on it: priority order, the concurrency bound
// (observed, not assumed), timeouts with and without a cooperative task,
// exceptions contained, cancellation, the bounded queue (submit waits,
// try_submit fails), shutdowns with queued work, lanes reused, metrics.
// Time runs on a manual clock: nothing here depends on how fast the
// machine is.

#include <spindle/executor.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/log.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/metrics.hpp>
#include <spindle/semaphore.hpp>
#include <spindle/system.hpp>

#include <boost/fiber/future.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/make_shared.hpp>

#include <algorithm>
#include <future>
#include <type_traits>
#include <atomic>
#include <chrono>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <vector>

using namespace std::chrono_literals;
using spindle_test::eventually;
using spindle::task_error;
using spindle::task_priority;

namespace {

constexpr auto hang_limit = spindle_test::failure_timeout;

struct fixture
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys;

    static spindle::system_options options(std::shared_ptr<spindle::manual_clock> c, unsigned workers)
    {
        spindle::system_options o;
        o.worker_threads = workers;
        o.clock = std::move(c);
        return o;
    }

    explicit fixture(unsigned workers = 2) : sys(options(clock, workers)) {}
};

/** Blocks tasks fiber-style (ignoring their stop tokens) until the test
    opens it. Copies share one state, so tasks capture it by value and the
    order of destruction never matters; the last copy opens it.
*/
class gate
{
    struct state
    {
        boost::fibers::promise<void> p;
        boost::fibers::shared_future<void> f = p.get_future().share();
        std::atomic<bool> open{false};
        ~state() { release(); }
        void release()
        {
            if(!open.exchange(true))
                p.set_value();
        }
    };
    std::shared_ptr<state> s_ = std::make_shared<state>();

public:
    void wait() const { s_->f.wait(); }
    void open() const { s_->release(); }
};

/// Options without a timeout, for tasks in tests that move the clock a lot.
spindle::task_options untimed()
{
    spindle::task_options o;
    o.timeout = std::chrono::nanoseconds::max();
    return o;
}

spindle::executor_options lanes(std::size_t n)
{
    spindle::executor_options o;
    o.max_concurrent = n;
    return o;
}

/// Advances the manual clock in steps until `done()` (for waits that need
/// time to pass while another thread is blocked).
template<class Pred>
bool advance_until(spindle::manual_clock& clock, std::chrono::nanoseconds step, Pred done)
{
    auto const end = std::chrono::steady_clock::now() + hang_limit;
    while(!done())
    {
        if(std::chrono::steady_clock::now() >= end)
            return done();
        clock.advance(step);
        std::this_thread::yield();
    }
    return true;
}

} // namespace

BOOST_AUTO_TEST_CASE(submit_returns_values_and_ids)
{
    fixture f;
    spindle::executor ex(f.sys);
    auto a = ex.submit([] { return 6 * 7; });
    auto b = ex.submit([](std::stop_token) { return std::string("token"); });
    auto c = ex.submit([] {});
    BOOST_TEST(a.get() == 42);
    BOOST_TEST(b.get() == "token");
    c.get();
    BOOST_TEST(!a.id().is_nil());
    BOOST_TEST((a.id() != b.id()));
    BOOST_TEST(a.ready());
    BOOST_TEST(ex.submit([] { return 5; }).get() == 5); // rvalue get moves out
    auto s = ex.stats();
    BOOST_TEST(s.submitted == 4u);
    BOOST_TEST(s.completed == 4u);
    BOOST_TEST(s.failed == 0u);
}

BOOST_AUTO_TEST_CASE(priority_order_higher_first_fifo_within)
{
    fixture f;
    spindle::executor ex(f.sys, lanes(1));
    gate g;
    std::atomic<bool> started{false};
    auto blocker = ex.submit([&, g] {
        started = true;
        g.wait();
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));

    // the single lane is busy: everything below queues
    std::vector<std::string> order; // written by the one lane only
    std::vector<spindle::task_handle<void>> hs;
    struct item
    {
        task_priority p;
        char const* name;
    };
    item const items[] = {
        {task_priority::low, "low1"},       {task_priority::normal, "normal1"}, {task_priority::high, "high1"},
        {task_priority::critical, "crit1"}, {task_priority::low, "low2"},       {task_priority::normal, "normal2"},
        {task_priority::high, "high2"},     {task_priority::critical, "crit2"},
    };
    for(auto const& it : items)
    {
        spindle::task_options o;
        o.priority = it.p;
        std::string name = it.name;
        hs.push_back(ex.submit([&order, name] { order.push_back(name); }, o));
    }
    BOOST_TEST(ex.stats().queued == 8u);
    g.open();
    for(auto& h : hs)
        h.get();
    std::vector<std::string> const expected{"crit1", "crit2", "high1", "high2", "normal1", "normal2", "low1", "low2"};
    BOOST_TEST(order == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(concurrency_bound_is_never_exceeded)
{
    fixture f;
    spindle::executor ex(f.sys, lanes(3));
    auto& timers = f.sys.timers();
    std::atomic<int> now_running{0};
    std::atomic<int> max_seen{0};
    std::vector<spindle::task_handle<void>> hs;
    for(int i = 0; i < 30; ++i)
    {
        hs.push_back(ex.submit([&](std::stop_token st) {
            int const n = ++now_running;
            int m = max_seen.load();
            while(n > m && !max_seen.compare_exchange_weak(m, n))
            {
            }
            timers.sleep_for(10ms, st); // blocks fiber-style: the lane keeps its slot
            --now_running;
        }, untimed()));
    }
    // all three lanes get busy, and no fourth task starts
    BOOST_REQUIRE(eventually([&] { return ex.stats().running == 3u; }));
    BOOST_TEST(ex.stats().queued == 27u);
    bool bound_held = true;
    BOOST_REQUIRE(advance_until(*f.clock, 10ms, [&] {
        if(ex.stats().running > 3u)
            bound_held = false;
        return std::all_of(hs.begin(), hs.end(), [](auto const& h) { return h.ready(); });
    }));
    BOOST_TEST(bound_held);
    BOOST_TEST(max_seen.load() == 3);
    BOOST_TEST(ex.stats().completed == 30u);
}

BOOST_AUTO_TEST_CASE(concurrency_bound_under_load_from_many_threads)
{
    fixture f(2);
    spindle::executor ex(f.sys, lanes(4));
    auto& timers = f.sys.timers();
    std::atomic<int> now_running{0};
    std::atomic<int> max_seen{0};
    std::atomic<bool> done{false};
    // a ticker moves the manual clock so sleeping tasks wake in waves
    std::thread ticker([&] {
        while(!done)
        {
            f.clock->advance(1ms);
            std::this_thread::yield();
        }
    });
    std::vector<std::thread> submitters;
    std::vector<std::vector<spindle::task_handle<int>>> handles(4);
    for(int t = 0; t < 4; ++t)
    {
        submitters.emplace_back([&, t] {
            for(int i = 0; i < 250; ++i)
            {
                handles[t].push_back(ex.submit([&, i](std::stop_token st) {
                    int const n = ++now_running;
                    int m = max_seen.load();
                    while(n > m && !max_seen.compare_exchange_weak(m, n))
                    {
                    }
                    if(i % 3 == 0)
                        timers.sleep_for(1ms, st);
                    else
                        boost::this_fiber::yield();
                    --now_running;
                    return i;
                }, untimed()));
            }
        });
    }
    for(auto& s : submitters)
        s.join();
    int sum = 0;
    for(auto& v : handles)
        for(auto& h : v)
            sum += h.get();
    done = true;
    ticker.join();
    BOOST_TEST(sum == 4 * (249 * 250 / 2));
    BOOST_TEST(max_seen.load() <= 4);
    BOOST_TEST(max_seen.load() >= 1);
    BOOST_TEST(ex.stats().completed == 1000u);
}

BOOST_AUTO_TEST_CASE(timeout_of_a_cooperative_task)
{
    fixture f;
    spindle::executor ex(f.sys);
    auto& timers = f.sys.timers();
    std::atomic<bool> started{false};
    std::atomic<bool> returned{false};
    std::atomic<bool> saw_stop{false};
    spindle::task_options o;
    o.timeout = 100ms;
    auto h = ex.submit(
        [&](std::stop_token st) {
            started = true;
            bool const slept = timers.sleep_for(1h, st);
            saw_stop = !slept && st.stop_requested();
            returned = true;
            return 1;
        },
        o);
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    f.clock->advance(99ms);
    BOOST_TEST(!h.ready());
    f.clock->advance(1ms);
    BOOST_TEST(h.ready()); // the deadline fired inside advance
    BOOST_TEST((h.result().error() == task_error::timed_out));
    BOOST_REQUIRE(eventually([&] { return returned.load(); }));
    BOOST_TEST(saw_stop.load());
    BOOST_REQUIRE(eventually([&] { return ex.stats().running == 0u; }));
    f.clock->advance(5s);
    auto s = ex.stats();
    BOOST_TEST(s.timed_out == 1u);
    BOOST_TEST(s.unresponsive == 0u);
    BOOST_TEST(s.completed == 0u);
}

BOOST_AUTO_TEST_CASE(timeout_of_a_task_that_ignores_its_token)
{
    fixture f;
    spindle::executor ex(f.sys); // stop_grace 1 s
    gate g;
    std::atomic<bool> started{false};
    std::atomic<bool> returned{false};
    spindle::task_options o;
    o.timeout = 100ms;
    auto h = ex.submit(
        [&, g](std::stop_token) {
            started = true;
            g.wait(); // ignores the token
            returned = true;
            return 1;
        },
        o);
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    f.clock->advance(100ms);
    BOOST_TEST(h.ready());
    BOOST_TEST((h.result().error() == task_error::timed_out));
    // it keeps its lane, and is reported once stop_grace has passed
    BOOST_TEST(ex.stats().running == 1u);
    BOOST_TEST(ex.stats().unresponsive == 0u);
    f.clock->advance(2s);
    BOOST_TEST(ex.stats().unresponsive == 1u);
    BOOST_TEST(ex.stats().running == 1u);
    f.clock->advance(5s);
    BOOST_TEST(ex.stats().unresponsive == 1u); // reported once
    g.open();
    BOOST_REQUIRE(eventually([&] { return returned.load() && ex.stats().running == 0u; }));
    BOOST_TEST((h.result().error() == task_error::timed_out)); // its late value is discarded
    BOOST_TEST(ex.stats().timed_out == 1u);
}

BOOST_AUTO_TEST_CASE(no_timeout_when_disabled)
{
    fixture f;
    spindle::executor ex(f.sys);
    auto& timers = f.sys.timers();
    spindle::task_options o;
    o.timeout = std::chrono::nanoseconds::max();
    auto h = ex.submit([&](std::stop_token st) { return timers.sleep_for(10h, st); }, o);
    BOOST_REQUIRE(advance_until(*f.clock, 1h, [&] { return h.ready(); }));
    BOOST_TEST(h.get() == true);
    BOOST_TEST(ex.stats().timed_out == 0u);
}

BOOST_AUTO_TEST_CASE(exceptions_are_contained)
{
    fixture f;
    auto events = std::make_shared<spindle_test::history<spindle::event>>();
    f.sys.events().subscribe(spindle::event_filter::of({spindle::event_type::task_failed}),
                             [events](spindle::event const& e) { events->push(e); });
    spindle::executor_options named = lanes(1);
    named.name = "jobs";
    spindle::executor ex(f.sys, named);
    auto bad = ex.submit([]() -> int { throw std::runtime_error("boom"); });
    auto odd = ex.submit([] { throw 42; });
    auto good = ex.submit([] { return 7; });

    BOOST_TEST((bad.result().error() == task_error::task_failed));
    BOOST_CHECK_EXCEPTION(bad.get(), spindle::system_error,
                          [](spindle::system_error const& e) { return e.code() == task_error::task_failed; });
    BOOST_REQUIRE(bad.exception());
    BOOST_CHECK_EXCEPTION(std::rethrow_exception(bad.exception()), std::runtime_error,
                          [](std::runtime_error const& e) { return std::string(e.what()) == "boom"; });
    BOOST_TEST((odd.result().error() == task_error::task_failed));
    BOOST_CHECK_THROW(std::rethrow_exception(odd.exception()), int);
    BOOST_TEST(good.get() == 7);
    BOOST_TEST(!good.exception());

    // the lane survived: more work runs on it
    int sum = 0;
    for(int i = 0; i < 100; ++i)
        sum += ex.submit([i] { return i; }).get();
    BOOST_TEST(sum == 4950);
    auto s = ex.stats();
    BOOST_TEST(s.exceptions == 2u);
    BOOST_TEST(s.failed == 2u);
    BOOST_TEST(s.completed == 101u);
    BOOST_TEST(f.sys.stats().failures == 0u); // no actor ever saw an exception

    // each failure is an event of the system
    BOOST_TEST_REQUIRE(eventually([&] { return events->size() == 2; }));
    auto ev = events->snapshot();
    BOOST_TEST(ev[0].source_name == "executor/jobs");
    BOOST_TEST(ev[0].detail.find(bad.id().to_string()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(log_and_continue_logs_the_failure)
{
    auto out = boost::make_shared<std::ostringstream>();
    spindle::log::init_stream(out, spindle::log::severity::warning);
    {
        fixture f;
        spindle::executor ex(f.sys);
        spindle::task_options o;
        o.on_error = spindle::error_strategy::log_and_continue;
        auto h = ex.submit([]() -> int { throw std::runtime_error("disk on fire"); }, o);
        BOOST_TEST((h.result().error() == task_error::task_failed));
        auto id = h.id().to_string();
        spindle::log::flush();
        std::string const text = out->str();
        BOOST_TEST(text.find("disk on fire") != std::string::npos);
        BOOST_TEST(text.find(id) != std::string::npos);
    }
    spindle::log::disable();
}

BOOST_AUTO_TEST_CASE(cancel_queued_running_and_completed_tasks)
{
    fixture f;
    spindle::executor ex(f.sys, lanes(1));
    auto& timers = f.sys.timers();

    // running, cooperative: its sleep ends, its handle says cancelled
    std::atomic<bool> started{false};
    std::atomic<bool> saw_stop{false};
    auto running = ex.submit([&](std::stop_token st) {
        started = true;
        saw_stop = !timers.sleep_for(1h, st);
        return 1;
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));

    // queued behind it: never runs
    std::atomic<bool> queued_ran{false};
    auto queued = ex.submit([&] { queued_ran = true; });
    BOOST_TEST(queued.cancel());
    BOOST_TEST(!queued.cancel()); // once
    BOOST_TEST((queued.result().error() == task_error::cancelled));

    BOOST_TEST(running.cancel());
    BOOST_TEST((running.result().error() == task_error::cancelled));
    BOOST_REQUIRE(eventually([&] { return saw_stop.load(); }));

    auto after = ex.submit([] { return 3; });
    BOOST_TEST(after.get() == 3);
    BOOST_TEST(!after.cancel()); // completed: nothing to cancel
    BOOST_TEST(after.get() == 3);
    BOOST_TEST(!queued_ran.load());
    BOOST_REQUIRE(eventually([&] { return ex.stats().cancelled == 2u; }));
}

BOOST_AUTO_TEST_CASE(on_complete_and_waits)
{
    fixture f;
    spindle::executor ex(f.sys, lanes(1));
    gate g;
    auto h = ex.submit(
        [g] {
            g.wait();
            return 9;
        },
        untimed());
    std::atomic<int> calls{0};
    std::atomic<int> seen{0};
    h.on_complete([&, h] {
        ++calls;
        seen = h.result().value(); // already there: does not wait
    });
    BOOST_TEST(calls.load() == 0);

    // a stop token ends a wait early
    std::stop_source src;
    src.request_stop();
    BOOST_TEST(!h.wait(src.get_token()));

    // wait_for runs on the system clock
    std::atomic<int> timed{-1};
    std::thread waiter([&] { timed = h.wait_for(100ms) ? 1 : 0; });
    BOOST_REQUIRE(advance_until(*f.clock, 10ms, [&] { return timed.load() != -1; }));
    waiter.join();
    BOOST_TEST(timed.load() == 0);

    g.open();
    BOOST_TEST(h.get() == 9);
    BOOST_REQUIRE(eventually([&] { return calls.load() == 1; }));
    BOOST_TEST(seen.load() == 9);

    // registered after completion: runs at once, in this thread
    auto const me = std::this_thread::get_id();
    std::thread::id ran_on;
    h.on_complete([&] { ran_on = std::this_thread::get_id(); });
    BOOST_TEST((ran_on == me));
    BOOST_TEST(h.wait_for(1ms));
    BOOST_TEST(calls.load() == 1);

    // an empty handle
    spindle::task_handle<int> empty;
    BOOST_TEST(!empty.valid());
    BOOST_TEST(empty.ready());
    BOOST_TEST(!empty.cancel());
    BOOST_TEST((empty.result().error() == spindle::error::invalid_argument));
    bool called = false;
    empty.on_complete([&] { called = true; });
    BOOST_TEST(called);
}

BOOST_AUTO_TEST_CASE(wait_from_a_fiber_parks_only_the_fiber)
{
    fixture f(1);
    spindle::executor ex(f.sys, lanes(2));
    gate g;
    auto inner = ex.submit([g] {
        g.wait();
        return 5;
    });
    // one worker thread: if the outer task's wait blocked the thread, the
    // inner task could never resume once the gate opens
    auto outer = ex.submit([inner] { return inner.get() + 1; });
    auto third = ex.submit([] { return 10; }); // queued: both lanes are busy
    g.open();
    BOOST_TEST(outer.get() == 6);
    BOOST_TEST(third.get() == 10);
}

BOOST_AUTO_TEST_CASE(submit_waits_for_room_try_submit_fails_at_once)
{
    fixture f;
    auto o = lanes(1);
    o.queue_capacity = 2;
    o.submit_timeout = 10s;
    spindle::executor ex(f.sys, o);
    gate g;
    std::atomic<bool> started{false};
    auto blocker = ex.submit([&, g] {
        started = true;
        g.wait();
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    auto q1 = ex.submit([] { return 1; });
    auto q2 = ex.submit([] { return 2; });
    BOOST_TEST(ex.stats().queued == 2u);

    boost::system::error_code ec;
    auto refused = ex.try_submit([] { return 3; }, {}, ec);
    BOOST_TEST((ec == task_error::queue_full));
    BOOST_TEST(!refused.valid());
    BOOST_CHECK_EXCEPTION(ex.try_submit([] { return 3; }), spindle::system_error,
                          [](spindle::system_error const& e) { return e.code() == task_error::queue_full; });

    // submit parks until a slot frees up
    std::atomic<bool> returned{false};
    boost::system::error_code sec;
    spindle::task_handle<int> waited;
    std::thread t([&] {
        waited = ex.submit([] { return 4; }, {}, sec);
        returned = true;
    });
    BOOST_REQUIRE(eventually([&] { return ex.stats().waiting == 1u; }));
    BOOST_TEST(!returned.load());
    g.open();
    t.join();
    BOOST_TEST(!sec);
    BOOST_TEST(waited.get() == 4);
    BOOST_TEST(q1.get() + q2.get() == 3);
    BOOST_TEST(ex.stats().rejected == 2u);
}

// Lanes running fast tasks wake a blocked submitter once a quarter of the
// queue is free (one wake-up per batch, not per task); after a slow task
// they wake one per freed slot, so a submitter never waits for a batch of
// slow tasks.
BOOST_AUTO_TEST_CASE(after_a_slow_task_a_freed_slot_wakes_a_blocked_submitter)
{
    spindle::system sys; // the real clock: run times are measured
    auto o = lanes(1);
    o.queue_capacity = 100; // a batch would be 25 slots
    o.submit_timeout = 60s;
    spindle::executor ex(sys, o);
    auto permits = std::make_shared<spindle::semaphore>(0);
    std::atomic<int> done{0};
    std::atomic<int> started{0};
    std::vector<spindle::task_handle<void>> tasks;
    auto slow = [permits, &done, &started] {
        ++started;
        permits->acquire(); // slow: each waits for the test
        ++done;
    };
    tasks.push_back(ex.submit(slow));
    BOOST_REQUIRE(eventually([&] { return started.load() == 1; })); // running, out of the queue
    for(int i = 0; i < 100; ++i)
        tasks.push_back(ex.submit(slow));
    BOOST_REQUIRE(eventually([&] { return ex.stats().queued == 100u; }));
    std::atomic<bool> returned{false};
    std::thread t([&] {
        tasks.push_back(ex.submit([&done] { ++done; }));
        returned = true;
    });
    BOOST_REQUIRE(eventually([&] { return ex.stats().waiting == 1u; }));
    permits->release(1); // one slow task ends: one slot frees
    BOOST_TEST(eventually([&] { return returned.load(); }));
    BOOST_TEST(done.load() == 1); // it did not wait for more
    permits->release(200);
    t.join();
    for(auto& h : tasks)
        h.get();
    BOOST_TEST(done.load() == 102);
}

BOOST_AUTO_TEST_CASE(submit_gives_up_after_its_timeout)
{
    fixture f;
    auto o = lanes(1);
    o.queue_capacity = 1;
    o.submit_timeout = 10s;
    spindle::executor ex(f.sys, o);
    gate g;
    std::atomic<bool> started{false};
    auto blocker = ex.submit([&, g] {
        started = true;
        g.wait();
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    auto q = ex.submit([] {});
    boost::system::error_code ec;
    std::atomic<bool> returned{false};
    std::thread t([&] {
        auto h = ex.submit([] {}, {}, ec);
        returned = true;
    });
    BOOST_REQUIRE(eventually([&] { return ex.stats().waiting == 1u; }));
    f.clock->advance(9s);
    BOOST_TEST(!returned.load());
    BOOST_TEST(ex.stats().waiting == 1u);
    f.clock->advance(1s);
    t.join();
    BOOST_TEST((ec == task_error::queue_full));
    BOOST_TEST(ex.stats().waiting == 0u);
    g.open();
}

BOOST_AUTO_TEST_CASE(shutdown_wakes_waiting_submitters)
{
    fixture f;
    auto o = lanes(1);
    o.queue_capacity = 1;
    spindle::executor ex(f.sys, o);
    gate g;
    std::atomic<bool> started{false};
    auto blocker = ex.submit([&, g] {
        started = true;
        g.wait();
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    auto q = ex.submit([] {});
    boost::system::error_code ec;
    std::thread t([&] { ex.submit([] {}, {}, ec); });
    BOOST_REQUIRE(eventually([&] { return ex.stats().waiting == 1u; }));
    auto report = ex.shutdown(0ns);
    t.join();
    BOOST_TEST((ec == task_error::executor_stopped));
    BOOST_TEST(report.cancelled == 1u);
    BOOST_TEST(report.unfinished.size() == 1u);
    g.open();
}

BOOST_AUTO_TEST_CASE(shutdown_finishes_queued_work_before_the_deadline)
{
    fixture f;
    spindle::executor ex(f.sys, lanes(2));
    gate g;
    std::atomic<int> started{0};
    std::vector<spindle::task_handle<int>> hs;
    for(int i = 0; i < 2; ++i)
        hs.push_back(ex.submit([&, g] {
            ++started;
            g.wait();
            return 0;
        }));
    BOOST_REQUIRE(eventually([&] { return started.load() == 2; }));
    for(int i = 1; i <= 20; ++i)
        hs.push_back(ex.submit([i] { return i; }));
    BOOST_TEST(ex.stats().queued == 20u);

    spindle::executor_shutdown_report report;
    std::thread t([&] { report = ex.shutdown(1h); });
    BOOST_REQUIRE(eventually([&] { return ex.stopped(); }));
    boost::system::error_code ec;
    ex.try_submit([] { return 0; }, {}, ec);
    BOOST_TEST((ec == task_error::executor_stopped));
    g.open(); // the queued work drains; the deadline is never reached
    t.join();
    BOOST_TEST(report.clean());
    BOOST_TEST(report.finished == 22u);
    int sum = 0;
    for(auto& h : hs)
        sum += h.get();
    BOOST_TEST(sum == 210);
    BOOST_TEST(ex.shutdown(0ns).finished == 0u); // idempotent
}

BOOST_AUTO_TEST_CASE(shutdown_cancels_queued_work_at_the_deadline)
{
    fixture f;
    spindle::executor ex(f.sys, lanes(1));
    gate g;
    std::atomic<bool> started{false};
    auto blocker = ex.submit([&, g] {
        started = true;
        g.wait();
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    std::atomic<int> ran{0};
    std::vector<spindle::task_handle<void>> queued;
    for(int i = 0; i < 5; ++i)
        queued.push_back(ex.submit([&] { ++ran; }));

    auto report = ex.shutdown(20ms); // real time: the gated lane cannot finish
    BOOST_TEST(report.cancelled == 5u);
    BOOST_REQUIRE(report.unfinished.size() == 1u);
    BOOST_TEST((report.unfinished[0] == blocker.id()));
    BOOST_TEST(!report.clean());
    for(auto& h : queued)
        BOOST_TEST((h.result().error() == task_error::executor_stopped));
    BOOST_TEST((blocker.result().error() == task_error::executor_stopped));
    g.open();
    BOOST_TEST(ran.load() == 0);
}

BOOST_AUTO_TEST_CASE(system_shutdown_stops_the_executor)
{
    fixture f;
    spindle::executor ex(f.sys, lanes(1));
    auto& timers = f.sys.timers();
    std::atomic<bool> started{false};
    auto running = ex.submit([&](std::stop_token st) {
        started = true;
        return timers.sleep_for(1h, st);
    });
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    auto queued = ex.submit([] { return true; });
    auto report = f.sys.shutdown(30s);
    BOOST_TEST(report.clean());
    BOOST_TEST((queued.result().error() == task_error::executor_stopped));
    BOOST_TEST((running.result().error() == task_error::executor_stopped));
    BOOST_TEST(ex.stopped());
    boost::system::error_code ec;
    ex.try_submit([] { return 0; }, {}, ec);
    BOOST_TEST((ec == task_error::executor_stopped));
}

BOOST_AUTO_TEST_CASE(lanes_are_reused_not_spawned_per_task)
{
    fixture f;
    auto const before = f.sys.stats().spawned;
    spindle::executor ex(f.sys, lanes(4));
    for(int wave = 0; wave < 5; ++wave)
    {
        std::vector<spindle::task_handle<int>> hs;
        for(int i = 0; i < 2000; ++i)
            hs.push_back(ex.submit([i] { return i; }));
        long sum = 0;
        for(auto& h : hs)
            sum += h.get();
        BOOST_TEST(sum == 1999L * 2000 / 2);
    }
    BOOST_TEST(f.sys.stats().spawned - before <= 4u);
    BOOST_TEST(f.sys.stats().fibers < 50u);
}

BOOST_AUTO_TEST_CASE(metrics_are_in_the_system_registry)
{
    fixture f;
    spindle::executor_options o;
    o.name = "jobs";
    spindle::executor ex(f.sys, o);
    ex.submit([] {}).get();
    ex.submit([] { throw std::runtime_error("x"); }).wait();
    auto const families = f.sys.metrics().snapshot();
    // summed over the series of executor "jobs" (the task counts have one
    // per priority); -1 if there is none
    auto value = [&](std::string const& name) {
        double sum = -1.0;
        for(auto const& fam : families)
            if(fam.name == name)
                for(auto const& s : fam.samples)
                    for(auto const& l : s.labels)
                        if(l.first == "executor" && l.second == "jobs")
                            sum = (sum < 0 ? 0.0 : sum) + s.value;
        return sum;
    };
    BOOST_TEST(value("spindle_executor_tasks_submitted_total") == 2.0);
    BOOST_TEST(value("spindle_executor_tasks_completed_total") == 1.0);
    BOOST_TEST(value("spindle_executor_tasks_failed_total") == 1.0);
    BOOST_TEST(value("spindle_executor_exceptions_total") == 1.0);
    BOOST_TEST(value("spindle_executor_tasks_running") == 0.0);
    BOOST_TEST(value("spindle_executor_tasks_queued") == 0.0);
    BOOST_TEST(value("spindle_executor_retries_total") == 0.0);
    BOOST_TEST(value("spindle_executor_tasks_timed_out_total") == 0.0);
    BOOST_TEST(value("spindle_executor_tasks_cancelled_total") == 0.0);

    // names are unique per system; a freed name can be used again
    BOOST_CHECK_EXCEPTION(spindle::executor(f.sys, o), spindle::system_error, [](spindle::system_error const& e) {
        return e.code() == spindle::error::invalid_argument;
    });
    spindle::executor other(f.sys); // unnamed: generated name
    BOOST_TEST(other.options().name != "jobs");
    BOOST_TEST(!other.options().name.empty());
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused)
{
    fixture f;
    spindle::executor_options bad;
    bad.max_concurrent = 0;
    BOOST_CHECK_THROW(spindle::executor(f.sys, bad), spindle::system_error);
    bad = {};
    bad.queue_capacity = 0;
    BOOST_CHECK_THROW(spindle::executor(f.sys, bad), spindle::system_error);

    spindle::executor ex(f.sys);
    auto refused = [&](spindle::task_options const& o) {
        boost::system::error_code ec;
        auto h = ex.submit([] {}, o, ec);
        return ec == spindle::error::invalid_argument && !h.valid();
    };
    spindle::task_options o;
    o.timeout = 0ns;
    BOOST_TEST(refused(o));
    o = {};
    o.retry.max_attempts = 0;
    BOOST_TEST(refused(o));
    o = {};
    o.on_error = spindle::error_strategy::circuit_breaker; // no breaker
    BOOST_TEST(refused(o));
    o = {};
    o.breaker = std::make_shared<spindle::circuit_breaker>(f.sys.timers());
    BOOST_TEST(refused(o)); // a breaker without the strategy
    BOOST_CHECK_EXCEPTION(ex.submit([] {}, o), spindle::system_error, [](spindle::system_error const& e) {
        return e.code() == spindle::error::invalid_argument;
    });
    BOOST_TEST(ex.stats().rejected == 5u);
    BOOST_TEST(ex.submit([] { return 1; }).get() == 1);
}

// issue 19, item 3: a cancelled queued task gives its queue slot back at
// once, and a submitter waiting for room gets it
BOOST_AUTO_TEST_CASE(a_cancelled_queued_task_frees_its_slot_at_once)
{
    fixture f;
    spindle::executor_options eo = lanes(1);
    eo.queue_capacity = 1;
    eo.submit_timeout = std::chrono::hours(1); // only the freed slot can end the wait
    spindle::executor ex(f.sys, eo);
    gate g;
    std::atomic<bool> started{false};
    auto running = ex.submit(
        [&started, g] {
            started = true;
            g.wait();
        },
        untimed());
    BOOST_REQUIRE(eventually([&] { return started.load(); }));
    std::atomic<bool> queued_ran{false};
    auto queued = ex.submit([&] { queued_ran = true; }, untimed());
    BOOST_TEST(ex.stats().queued == 1u);
    boost::system::error_code ec;
    ex.try_submit([] {}, untimed(), ec);
    BOOST_TEST(ec == make_error_code(task_error::queue_full));

    BOOST_TEST(queued.cancel());
    BOOST_TEST(ex.stats().queued == 0u); // while the lane is still busy
    auto next = ex.try_submit([] { return 5; }, untimed(), ec);
    BOOST_TEST(!ec);
    BOOST_TEST(ex.stats().queued == 1u);
    ex.try_submit([] {}, untimed(), ec);
    BOOST_TEST(ec == make_error_code(task_error::queue_full));

    // a submitter waiting for room is woken by the cancel
    auto waiting = std::async(std::launch::async, [&] { return ex.submit([] { return 6; }, untimed()); });
    BOOST_REQUIRE(eventually([&] { return ex.stats().waiting == 1u; }));
    BOOST_TEST(next.cancel());
    spindle::task_handle<int> last;
    {
        spindle_test::watchdog w("the submitter woken by a cancel");
        last = waiting.get();
    }
    BOOST_TEST(ex.stats().queued == 1u);
    g.open();
    BOOST_TEST(last.get() == 6);
    BOOST_TEST(!queued_ran.load());
    BOOST_REQUIRE(eventually([&] { return ex.stats().queued == 0u && ex.stats().cancelled == 2u; }));
}

// issue 19, item 3: a task may return an error_code as its value
BOOST_AUTO_TEST_CASE(a_task_returning_an_error_code)
{
    fixture f;
    spindle::executor ex(f.sys);
    auto h = ex.submit([] { return boost::system::error_code(make_error_code(spindle::error::invalid_argument)); });
    static_assert(std::is_same_v<decltype(h), spindle::task_handle<boost::system::error_code>>);
    auto const& r = h.result();
    BOOST_REQUIRE(r.has_value()); // the value, not the task's error
    BOOST_TEST(*r == make_error_code(spindle::error::invalid_argument));
    auto ok = ex.submit([] { return boost::system::error_code(); });
    BOOST_TEST(ok.result().has_value());
    BOOST_TEST(!ok.get());
    BOOST_TEST(ex.stats().completed == 2u);
}

// issue 19, item 3: a task that threw is reported as such, with its what()
BOOST_AUTO_TEST_CASE(a_thrown_task_is_reported_as_the_task_threw)
{
    fixture f;
    auto events = std::make_shared<spindle_test::history<spindle::event>>();
    f.sys.events().subscribe(spindle::event_filter::of({spindle::event_type::task_failed}),
                             [events](spindle::event const& e) { events->push(e); });
    spindle::executor ex(f.sys);
    auto bad = ex.submit([]() -> int { throw std::runtime_error("disk on fire"); });
    BOOST_TEST((bad.result().error() == task_error::task_failed));
    BOOST_TEST(make_error_code(task_error::task_failed).message() == "the task threw");
    try
    {
        bad.get();
        BOOST_FAIL("get must throw");
    }
    catch(spindle::system_error const& e)
    {
        std::string const what = e.what();
        BOOST_TEST(what.find("the task threw: disk on fire") != std::string::npos, what);
        BOOST_TEST(what.find("panic") == std::string::npos, what);
    }
    BOOST_REQUIRE(eventually([&] { return events->size() == 1; }));
    auto const detail = events->snapshot()[0].detail;
    BOOST_TEST(detail.find("the task threw: disk on fire") != std::string::npos, detail);
}
