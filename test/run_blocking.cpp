//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/run_blocking.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/metrics.hpp>
#include <spindle/system.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

/// Threads seen by handlers or jobs.
struct thread_set
{
    std::mutex m;
    std::set<std::thread::id> ids;

    void add()
    {
        std::lock_guard lk(m);
        ids.insert(std::this_thread::get_id());
    }

    std::set<std::thread::id> get()
    {
        std::lock_guard lk(m);
        return ids;
    }
};

struct call_legacy
{
    int n;
};

/// Calls "legacy blocking code" through run_blocking and answers its result.
struct legacy_caller : spindle::actor<legacy_caller, call_legacy>
{
    std::atomic<bool>* release;
    std::atomic<int>* in_progress;
    thread_set* handler_threads;
    thread_set* job_threads;

    legacy_caller(std::atomic<bool>* r, std::atomic<int>* p, thread_set* h, thread_set* j)
        : release(r), in_progress(p), handler_threads(h), job_threads(j)
    {
    }

    int on(call_legacy c)
    {
        handler_threads->add();
        auto f = spindle::run_blocking(system(), [this, n = c.n] {
            job_threads->add();
            ++*in_progress;
            while(!release->load()) // a blocking call: sleeps its thread
                std::this_thread::sleep_for(1ms);
            --*in_progress;
            return n * 10;
        });
        return f.get(); // parks this actor's fiber only
    }
};

struct ping
{
};

struct ticker : spindle::actor<ticker, ping>
{
    std::atomic<int>* handled;
    thread_set* threads;

    ticker(std::atomic<int>* h, thread_set* t) : handled(h), threads(t) {}

    int on(ping)
    {
        threads->add();
        return ++*handled;
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(blocking_calls_keep_the_workers_free)
{
    spindle::system sys(workers(2));
    std::atomic<bool> release{false};
    std::atomic<int> in_progress{0}, ticks{0};
    thread_set handler_threads, job_threads, ticker_threads;
    struct opener
    {
        std::atomic<bool>& r;
        ~opener() { r = true; } // never leave the jobs sleeping, even on a failed check
    } open_at_exit{release};

    std::vector<spindle::ask_future<int>> calls;
    for(int i = 0; i < 4; ++i)
        calls.push_back(sys.spawn<legacy_caller>(&release, &in_progress, &handler_threads, &job_threads)
                            .ask(call_legacy{i}, 1h));
    // all four blocking calls are sleeping in the pool now...
    BOOST_REQUIRE(eventually([&] { return in_progress.load() == 4; }));

    // ...and both workers still serve another actor
    auto t = sys.spawn<ticker>(&ticks, &ticker_threads);
    {
        watchdog w("ticker while blocking calls run");
        for(int i = 1; i <= 1000; ++i)
            BOOST_REQUIRE(t.ask(ping{}, 1h).get() == i);
    }
    BOOST_TEST(in_progress.load() == 4); // the calls were in progress the whole time
    BOOST_TEST(ticks.load() == 1000);

    release = true;
    {
        watchdog w("blocking calls");
        for(int i = 0; i < 4; ++i)
            BOOST_TEST(calls[i].get() == i * 10);
    }
    // the blocking code never ran on a worker thread
    auto const jobs = job_threads.get();
    BOOST_TEST(jobs.size() == 4u); // four at once: four pool threads
    for(auto id : handler_threads.get())
        BOOST_TEST(!jobs.count(id));
    for(auto id : ticker_threads.get())
        BOOST_TEST(!jobs.count(id));
    BOOST_TEST(&spindle::blocking_pool_of(sys) == &spindle::blocking_pool_of(sys));
    BOOST_TEST(spindle::blocking_pool_of(sys).stats().completed == 4u);
}

BOOST_AUTO_TEST_CASE(exceptions_and_values_reach_the_future)
{
    spindle::blocking_pool pool;
    auto ok = spindle::run_blocking(pool, [] { return std::string("done"); });
    auto bad = spindle::run_blocking(pool, []() -> int { throw std::runtime_error("legacy failure"); });
    auto nothing = spindle::run_blocking(pool, [] {});
    watchdog w("jobs");
    BOOST_TEST(ok.get() == "done");
    BOOST_TEST(!ok.valid());
    bad.wait();
    BOOST_TEST(bad.ready());
    BOOST_TEST(static_cast<bool>(bad.exception()));
    BOOST_CHECK_THROW(bad.get(), std::runtime_error); // the job's own exception
    auto bad2 = spindle::run_blocking(pool, []() -> int { throw std::runtime_error("again"); });
    auto r = bad2.result();
    BOOST_TEST(r.error() == code(spindle::error::handler_failed));
    boost::system::error_code ec;
    nothing.get(ec);
    BOOST_TEST(!ec);
    spindle::blocking_future<int> empty;
    BOOST_TEST(empty.result().error() == code(spindle::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_full_queue_is_a_clear_error)
{
    spindle::blocking_pool_options o;
    o.threads = 1;
    o.queue_capacity = 2;
    o.name = "tiny";
    spindle::blocking_pool pool(o);
    std::atomic<bool> release{false};
    std::atomic<int> started{0};
    auto blocker = [&] {
        ++started;
        while(!release)
            std::this_thread::sleep_for(1ms);
    };
    auto a = pool.submit(blocker);
    BOOST_REQUIRE(eventually([&] { return started.load() == 1; }));
    auto b = pool.submit(blocker); // queued
    auto c = pool.submit(blocker); // queued: the queue is full now
    boost::system::error_code ec;
    auto d = spindle::run_blocking(pool, blocker, ec);
    BOOST_TEST(ec == make_error_code(boost::system::errc::resource_unavailable_try_again));
    BOOST_TEST(!d.valid());
    BOOST_CHECK_EXCEPTION(pool.submit(blocker), spindle::system_error, [](spindle::system_error const& e) {
        return e.code() == boost::system::errc::resource_unavailable_try_again &&
               std::string(e.what()).find("\"tiny\" is full") != std::string::npos;
    });
    auto s = pool.stats();
    BOOST_TEST(s.threads == 1u);
    BOOST_TEST(s.running == 1u);
    BOOST_TEST(s.queued == 2u);
    BOOST_TEST(s.rejected == 2u);
    release = true;
    watchdog w("jobs");
    a.wait();
    b.wait();
    c.wait();
    BOOST_TEST(pool.stats().completed == 3u);
    BOOST_TEST(started.load() == 3);
}

BOOST_AUTO_TEST_CASE(thread_count_is_bounded)
{
    spindle::blocking_pool_options o;
    o.threads = 3;
    spindle::blocking_pool pool(o);
    std::atomic<int> inside{0}, most{0};
    std::vector<spindle::blocking_future<void>> fs;
    for(int i = 0; i < 30; ++i)
        fs.push_back(pool.submit([&] {
            int const now = ++inside;
            int m = most.load();
            while(now > m && !most.compare_exchange_weak(m, now))
            {
            }
            std::this_thread::sleep_for(1ms);
            --inside;
        }));
    watchdog w("jobs");
    for(auto& f : fs)
        f.get();
    BOOST_TEST(most.load() <= 3);
    BOOST_TEST(pool.stats().threads <= 3u);
    BOOST_TEST(pool.options().threads == 3u);
}

BOOST_AUTO_TEST_CASE(shutdown_cancels_queued_jobs_and_refuses_new_ones)
{
    spindle::blocking_pool_options o;
    o.threads = 1;
    auto pool = std::make_unique<spindle::blocking_pool>(o);
    std::atomic<bool> release{false};
    std::atomic<int> started{0};
    auto first = pool->submit([&] {
        ++started;
        while(!release)
            std::this_thread::sleep_for(1ms);
        return 1;
    });
    BOOST_REQUIRE(eventually([&] { return started.load() == 1; }));
    bool second_ran = false;
    auto second = pool->submit([&] {
        second_ran = true;
        return 2;
    });
    std::atomic<bool> notified{false};
    second.on_complete([&] { notified = true; });
    std::thread stopper([&] { pool->shutdown(); }); // waits for `first`
    BOOST_REQUIRE(eventually([&] { return second.ready(); }));
    BOOST_TEST(eventually([&] { return notified.load(); })); // callbacks run right after the waiters are woken
    BOOST_TEST(second.result().error() == code(spindle::error::cancelled));
    BOOST_TEST(!first.ready());
    boost::system::error_code ec;
    pool->submit([] {}, ec);
    BOOST_TEST(ec == code(spindle::error::system_stopped));
    release = true;
    stopper.join();
    BOOST_TEST(first.get() == 1); // running jobs finish
    BOOST_TEST(!second_ran);
    pool.reset();
}

BOOST_AUTO_TEST_CASE(the_system_pool_stops_with_the_system_and_publishes_metrics)
{
    spindle::system sys(workers(1));
    auto f = spindle::run_blocking(sys, [] { return 7; });
    BOOST_TEST(f.get() == 7);
    auto families = sys.metrics().snapshot();
    auto has = [&](std::string const& name) {
        return std::any_of(families.begin(), families.end(), [&](auto const& fam) { return fam.name == name; });
    };
    BOOST_TEST(has("spindle_blocking_pool_threads"));
    BOOST_TEST(has("spindle_blocking_pool_jobs"));
    BOOST_TEST(has("spindle_blocking_pool_rejected_total"));
    sys.shutdown();
    boost::system::error_code ec;
    auto g = spindle::run_blocking(sys, [] { return 8; }, ec);
    BOOST_TEST(ec == code(spindle::error::system_stopped));
    BOOST_CHECK_EXCEPTION(spindle::run_blocking(sys, [] {}), spindle::system_error,
                          has_code(spindle::error::system_stopped));
}

BOOST_AUTO_TEST_CASE(a_fiber_wait_with_timeout_and_stop_token)
{
    auto opts = manual_clock_options(1);
    auto clock = opts.clock;
    spindle::system sys(opts);
    spindle::blocking_pool pool;
    std::atomic<bool> release{false};
    auto f = pool.submit([&] {
        while(!release)
            std::this_thread::sleep_for(1ms);
    });
    std::size_t const before = sys.timers().pending();
    std::atomic<int> outcome{-1};
    std::thread waiter([&] { outcome = f.wait_for(sys.timers(), 2s) ? 1 : 0; });
    BOOST_REQUIRE(eventually([&] { return sys.timers().pending() > before; }));
    clock->advance(2s);
    waiter.join();
    BOOST_TEST(outcome.load() == 0);
    std::stop_source stop;
    stop.request_stop();
    BOOST_CHECK_EXCEPTION(f.wait(stop.get_token()), spindle::system_error, has_code(spindle::error::cancelled));
    release = true;
    watchdog w("job");
    f.wait();
    BOOST_TEST(f.wait_for(0s));
}
