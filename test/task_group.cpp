//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/task_group.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/channel.hpp>
#include <spindle/latch.hpp>
#include <spindle/semaphore.hpp>
#include <spindle/system.hpp>

#include <boost/fiber/operations.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

struct job
{
    std::function<void()> fn;
};

/// Runs jobs in its handler: a fiber on one of the system's workers.
struct runner : spindle::actor<runner, job>
{
    void on(job const& j) { j.fn(); }
};

/// Runs `body` in an actor's handler and waits for it; false if it threw.
bool in_actor(spindle::system& sys, std::function<void()> body)
{
    auto f = sys.spawn<runner>().ask(job{std::move(body)}, 1h);
    watchdog w("task_group test handler");
    return f.result().has_value();
}

/// A task handle stand-in: cancel() completes it; wait() parks until then.
class fake_task
{
    struct state
    {
        spindle::latch done{1};
        std::atomic<int> cancels{0};
    };
    std::shared_ptr<state> s_ = std::make_shared<state>();

public:
    void cancel()
    {
        if(s_->cancels++ == 0)
            s_->done.count_down();
    }
    void wait() const { s_->done.wait(); }
    bool ready() const { return s_->done.try_wait(); }
    int cancels() const { return s_->cancels.load(); }
};

} // namespace

BOOST_AUTO_TEST_CASE(destructor_stops_and_joins_running_fibers_then_cleans_up)
{
    spindle::system sys(workers(2));
    constexpr int n = 64;
    std::atomic<int> started{0}, finished{0}, seen_at_cleanup{-1};
    std::atomic<int> cleanups{0};
    spindle::channel<int> never_fed(1);
    spindle::semaphore never_released(0);
    bool ok = in_actor(sys, [&] {
        spindle::task_group group([&] {
            seen_at_cleanup = finished.load();
            ++cleanups;
        });
        for(int i = 0; i < n; ++i)
        {
            // members block in different ways, all honouring the group's token
            group.spawn([&, i](std::stop_token st) {
                ++started;
                if(i % 3 == 0)
                {
                    int v;
                    never_fed.pop(v, st);
                }
                else if(i % 3 == 1)
                {
                    boost::system::error_code ec;
                    never_released.acquire(st, ec);
                }
                else
                {
                    while(!st.stop_requested())
                        boost::this_fiber::yield();
                }
                ++finished;
            });
        }
        // let every member start and block before the scope ends
        while(started.load() < n)
            boost::this_fiber::yield();
        if(group.running() != n)
            throw std::logic_error("members finished before the stop");
    });
    BOOST_TEST(ok);
    BOOST_TEST(started.load() == n);
    BOOST_TEST(finished.load() == n);
    BOOST_TEST(seen_at_cleanup.load() == n); // cleanup ran after the last member
    BOOST_TEST(cleanups.load() == 1);
    BOOST_TEST(never_released.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(join_waits_for_natural_completion_without_a_stop)
{
    spindle::system sys(workers(2));
    std::atomic<int> finished{0};
    std::atomic<bool> stop_seen{false};
    bool ok = in_actor(sys, [&] {
        spindle::task_group group;
        for(int i = 0; i < 20; ++i)
            group.spawn([&](std::stop_token st) {
                for(int k = 0; k < 10; ++k)
                    boost::this_fiber::yield();
                if(st.stop_requested())
                    stop_seen = true;
                ++finished;
            });
        group.join();
        if(finished.load() != 20 || group.running() != 0)
            throw std::logic_error("join returned early");
    });
    BOOST_TEST(ok);
    BOOST_TEST(!stop_seen.load());
}

BOOST_AUTO_TEST_CASE(adopted_tasks_are_cancelled_and_waited_for)
{
    fake_task a, b;
    bool cleaned = false;
    {
        spindle::task_group group([&] { cleaned = a.ready() && b.ready(); });
        group.add(a);
        group.add(b);
        BOOST_TEST(group.running() == 2u);
    }
    BOOST_TEST(cleaned);
    BOOST_TEST(a.cancels() == 1);
    BOOST_TEST(b.cancels() == 1);

    // added after a stop: cancelled at once
    fake_task late;
    spindle::task_group group;
    group.request_stop();
    group.add(late);
    BOOST_TEST(late.ready());
    BOOST_TEST(group.running() == 0u);
}

BOOST_AUTO_TEST_CASE(member_exceptions_are_contained_and_counted)
{
    std::atomic<int> survivors{0};
    bool cleaned = false;
    {
        spindle::task_group group([&] { cleaned = true; });
        group.spawn([] { throw std::runtime_error("first"); });
        group.spawn([] { throw 42; });
        group.spawn([&] { ++survivors; });
        group.join(); // does not throw
        BOOST_TEST(group.failures() == 2u);
        auto first = group.first_failure();
        BOOST_REQUIRE(first);
        BOOST_CHECK_THROW(std::rethrow_exception(first), std::runtime_error);
    }
    BOOST_TEST(survivors.load() == 1);
    BOOST_TEST(cleaned);
}

BOOST_AUTO_TEST_CASE(members_may_spawn_siblings_and_a_throwing_cleanup_is_contained)
{
    std::atomic<int> ran{0};
    {
        spindle::task_group group([] { throw std::runtime_error("cleanup"); });
        group.spawn([&] {
            ++ran;
            group.spawn([&] { ++ran; });
        });
    } // the destructor must not throw
    BOOST_TEST(ran.load() == 2);
}

BOOST_AUTO_TEST_CASE(fibers_spawned_from_a_plain_thread_run_while_it_joins)
{
    std::atomic<int> ran{0};
    std::thread t([&] {
        spindle::task_group group;
        for(int i = 0; i < 10; ++i)
            group.spawn([&] { ++ran; });
        group.join();
    });
    t.join();
    BOOST_TEST(ran.load() == 10);
}
