//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/signals.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/supervisor.hpp>

#include <csignal>

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
