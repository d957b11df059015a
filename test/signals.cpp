//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/signals.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/supervisor.hpp>

#include <atomic>
#include <csignal>
#include <thread>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

using namespace spindle_test;

namespace {

struct noop
{
};

struct recorder : spindle::actor<recorder, noop>
{
    std::shared_ptr<history<std::string>> log;
    explicit recorder(std::shared_ptr<history<std::string>> l) : log(std::move(l)) {}
    void on(noop) {}
    void post_stop() override { log->push("post_stop"); }
};

} // namespace

BOOST_AUTO_TEST_CASE(sigterm_shuts_the_tree_down_gracefully)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    spindle::supervisor_spec spec;
    spec.children = {spindle::child_spec::of<recorder>(log), spindle::child_spec::of<recorder>(log)};
    spec.on_stop = [log] { log->push("supervisor done"); };
    sys.spawn<spindle::supervisor>(spec);
    spindle::shutdown_on_signals guard(sys);
    BOOST_TEST(guard.received() == 0);
    BOOST_TEST(!guard.wait_for(std::chrono::milliseconds(1)));
    BOOST_TEST_REQUIRE(eventually([&] { return sys.actor_count() == 3; }));

    BOOST_TEST(std::raise(SIGTERM) == 0);
    spindle::shutdown_report rep;
    {
        watchdog wd("shutdown after SIGTERM");
        rep = guard.wait();
    }
    BOOST_TEST(guard.received() == SIGTERM);
    BOOST_TEST(rep.clean());
    BOOST_TEST(rep.stopped == 3u);
    BOOST_TEST(sys.stopping());
    BOOST_TEST(log->snapshot() == (std::vector<std::string>{"post_stop", "post_stop", "supervisor done"}));
}

BOOST_AUTO_TEST_CASE(one_guard_at_a_time_and_trigger)
{
    spindle::system sys(workers(1));
    {
        spindle::shutdown_on_signals guard(sys, {SIGINT, SIGUSR1});
        auto second = [&] { spindle::shutdown_on_signals another(sys); };
        BOOST_CHECK_EXCEPTION(second(), spindle::system_error, has_code(spindle::error::invalid_argument));
        guard.trigger(SIGUSR1);
        BOOST_TEST(guard.wait_for(failure_timeout));
        BOOST_TEST(guard.received() == SIGUSR1);
    }
    // gone: another may be installed; bad signal numbers are refused
    auto bad = [&] { spindle::shutdown_on_signals kill(sys, {SIGKILL}); };
    BOOST_CHECK_THROW(bad(), spindle::system_error);
    spindle::shutdown_on_signals again(sys);
    BOOST_TEST(again.received() == 0);
}

// Issue 18: a thread the process started before the guard (as Boost.Log's
// asynchronous writer is) may be the one the kernel gives a SIGTERM sent to
// the process; the shutdown happens all the same, after `before_shutdown`.
BOOST_AUTO_TEST_CASE(sigterm_to_the_process_with_a_thread_started_before_the_guard)
{
    std::atomic<bool> done{false};
    std::thread early([&] {
        while(!done.load())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    sys.spawn<recorder>(log);
    spindle::shutdown_on_signals guard(sys, [log](int sig) { log->push("before " + std::to_string(sig)); });
    BOOST_TEST(::kill(::getpid(), SIGTERM) == 0);
    BOOST_TEST_REQUIRE(guard.wait_for(failure_timeout));
    auto const rep = guard.wait();
    BOOST_TEST(guard.received() == SIGTERM);
    BOOST_TEST(rep.clean());
    BOOST_TEST(rep.stopped == 1u);
    BOOST_TEST(log->snapshot() == (std::vector<std::string>{"before " + std::to_string(SIGTERM), "post_stop"}));
    done = true;
    early.join();
}

// The same when every thread but the guard's blocks the signal: one started
// before that blocks everything (as library threads do), the main thread
// and the workers it starts after a pthread_sigmask (as the demo did).
BOOST_AUTO_TEST_CASE(sigterm_when_every_other_thread_blocks_it)
{
    std::atomic<bool> done{false};
    std::atomic<bool> blocked{false};
    std::thread early([&] {
        sigset_t all;
        sigfillset(&all);
        ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
        blocked = true;
        while(!done.load())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    BOOST_TEST_REQUIRE(eventually([&] { return blocked.load(); }));
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigset_t old;
    ::pthread_sigmask(SIG_BLOCK, &term, &old);
    {
        auto log = std::make_shared<history<std::string>>();
        spindle::system sys(workers(2));
        sys.spawn<recorder>(log);
        spindle::shutdown_on_signals guard(sys);
        BOOST_TEST(::kill(::getpid(), SIGTERM) == 0);
        BOOST_TEST_REQUIRE(guard.wait_for(failure_timeout));
        BOOST_TEST(guard.received() == SIGTERM);
        BOOST_TEST(guard.wait().clean());
        BOOST_TEST(log->snapshot() == (std::vector<std::string>{"post_stop"}));
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    done = true;
    early.join();
}

// A second guard after the first works on the same pipe, without a
// leftover wake-up from the first.
BOOST_AUTO_TEST_CASE(guards_one_after_another)
{
    for(int i = 0; i < 3; ++i)
    {
        spindle::system sys(workers(1));
        spindle::shutdown_on_signals guard(sys, {SIGUSR2});
        BOOST_TEST(!guard.wait_for(std::chrono::milliseconds(20)));
        BOOST_TEST(::kill(::getpid(), SIGUSR2) == 0);
        BOOST_TEST_REQUIRE(guard.wait_for(failure_timeout));
        BOOST_TEST(guard.received() == SIGUSR2);
    }
}
