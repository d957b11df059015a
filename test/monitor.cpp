//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/monitor.hpp>

#include <spindle/supervisor.hpp>
#include <spindle/system.hpp>
#include <spindle/testkit.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <boost/fiber/future.hpp>

#include <memory>
#include <stdexcept>
#include <thread>
#include <string>

namespace {

struct watch
{
    spindle::basic_actor_ref target;
};
struct unwatch
{
    spindle::basic_actor_ref target;
};
struct seen
{
    spindle::down d;
};
struct boom
{
};
struct quit
{
};

// Forwards every down notice it receives to a probe.
// Parks the watcher's handler until the test lets it go.
struct hold
{
    boost::fibers::shared_future<void> until;
};

struct watcher : spindle::actor<watcher, watch, unwatch, hold>
{
    spindle::actor_ref<spindle::testkit::probe_actor<seen>> out;
    explicit watcher(spindle::actor_ref<spindle::testkit::probe_actor<seen>> o) : out(std::move(o)) {}
    void on(watch const& w) { monitor(w.target); }
    void on(unwatch const& w) { demonitor(w.target); }
    void on(hold const& h) { h.until.wait(); }
    void on_down(spindle::down const& d) override { out.tell(seen{d}); }
};

struct local_fault : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

struct faulty : spindle::actor<faulty, boom>
{
    void on(boom) { throw local_fault("bad"); }
};

struct target : spindle::actor<target, boom, quit>
{
    void on(boom) { throw std::runtime_error("kaput"); }
    void on(quit) { stop(); }
};

spindle::system_options options(spindle::directive on_failure = spindle::directive::restart)
{
    spindle::system_options o;
    o.worker_threads = 2;
    o.on_failure = on_failure;
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(down_arrives_once_with_normal_reason)
{
    spindle::system sys(options());
    spindle::testkit::probe<seen> p(sys);
    auto w = sys.spawn<watcher>(p.ref());
    auto t = sys.spawn<target>();
    w.tell(watch{t});
    BOOST_TEST(w.ask(watch{t}).result().has_value()); // watched twice: two notices
    t.tell(quit{});
    auto d1 = p.expect_msg<seen>().d;
    auto d2 = p.expect_msg<seen>().d;
    BOOST_TEST(d1.actor == t.id());
    BOOST_TEST((d1.reason == spindle::exit_reason::normal));
    BOOST_TEST(d2.actor == t.id());
    p.expect_no_msg(std::chrono::milliseconds(50));
}

BOOST_AUTO_TEST_CASE(down_carries_the_failure)
{
    spindle::system sys(options(spindle::directive::stop));
    spindle::testkit::probe<seen> p(sys);
    auto w = sys.spawn<watcher>(p.ref());
    auto t = sys.spawn<target>();
    BOOST_TEST(w.ask(watch{t}).result().has_value());
    t.tell(boom{});
    auto d = p.expect_msg<seen>().d;
    BOOST_TEST((d.reason == spindle::exit_reason::failure));
    BOOST_TEST(d.what.find("kaput") != std::string::npos);
    BOOST_TEST(d.what.find("runtime_error") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(stop_with_a_reason_carries_it_to_the_monitors)
{
    spindle::system sys(options());
    spindle::testkit::probe<seen> p(sys);
    auto w = sys.spawn<watcher>(p.ref());
    auto t = sys.spawn<target>();
    BOOST_TEST(w.ask(watch{t}).result().has_value());
    t.stop("rolling upgrade");
    auto d = p.expect_msg<seen>().d;
    BOOST_TEST(d.actor == t.id());
    BOOST_TEST((d.reason == spindle::exit_reason::normal));
    BOOST_TEST(d.what == "rolling upgrade");
}

BOOST_AUTO_TEST_CASE(a_failure_text_names_the_exception_without_anonymous_namespaces)
{
    spindle::system sys(options(spindle::directive::stop));
    spindle::testkit::probe<seen> p(sys);
    auto w = sys.spawn<watcher>(p.ref());
    auto t = sys.spawn<faulty>();
    BOOST_TEST(w.ask(watch{t}).result().has_value());
    t.tell(boom{});
    auto d = p.expect_msg<seen>().d;
    BOOST_TEST(d.what.find("local_fault: bad") != std::string::npos, d.what);
    BOOST_TEST(d.what.find("(anonymous namespace)") == std::string::npos, d.what);
}

BOOST_AUTO_TEST_CASE(a_supervisor_that_gives_up_says_so_in_plain_words)
{
    spindle::system sys(options(spindle::directive::stop));
    spindle::testkit::probe<seen> p(sys);
    auto w = sys.spawn<watcher>(p.ref());
    spindle::supervisor_spec spec;
    spec.strategy = spindle::supervision_strategy::escalate;
    spec.children = {spindle::child_spec::of<target>()};
    spindle::supervisor_ref sup(sys.spawn<spindle::supervisor>(spec));
    BOOST_TEST(w.ask(watch{sup.ref()}).result().has_value());
    sup.child<target>(0).tell(boom{});
    auto d = p.expect_msg<seen>().d;
    BOOST_TEST(d.actor == sup.id());
    BOOST_TEST((d.reason == spindle::exit_reason::failure));
    BOOST_TEST(d.what.find("spindle::supervisor_escalation: child") != std::string::npos, d.what);
    BOOST_TEST(d.what.find("anonymous") == std::string::npos, d.what);
    BOOST_TEST(d.what.find("detail") == std::string::npos, d.what);
}

BOOST_AUTO_TEST_CASE(watching_a_dead_actor_gives_its_notice_at_once)
{
    spindle::system sys(options(spindle::directive::stop));
    spindle::testkit::probe<seen> p(sys);
    auto t = sys.spawn<target>();
    t.tell(boom{});
    while(t.alive())
        std::this_thread::yield();
    auto w = sys.spawn<watcher>(p.ref());
    w.tell(watch{t});
    auto d = p.expect_msg<seen>().d;
    BOOST_TEST(d.actor == t.id());
    BOOST_TEST((d.reason == spindle::exit_reason::failure));
    BOOST_TEST(d.what.find("kaput") != std::string::npos);
    p.expect_no_msg(std::chrono::milliseconds(50));
}

BOOST_AUTO_TEST_CASE(restart_is_not_a_death)
{
    spindle::system sys(options(spindle::directive::restart));
    spindle::testkit::probe<seen> p(sys);
    auto w = sys.spawn<watcher>(p.ref());
    auto t = sys.spawn<target>();
    BOOST_TEST(w.ask(watch{t}).result().has_value());
    t.tell(boom{}); // restarts with fresh state
    t.tell(quit{});
    auto d = p.expect_msg<seen>().d;
    BOOST_TEST((d.reason == spindle::exit_reason::normal));
    p.expect_no_msg(std::chrono::milliseconds(50));
}

BOOST_AUTO_TEST_CASE(demonitor_stops_the_notice)
{
    spindle::system sys(options());
    spindle::testkit::probe<seen> p(sys);
    auto w = sys.spawn<watcher>(p.ref());
    auto t = sys.spawn<target>();
    w.tell(watch{t});
    BOOST_TEST(w.ask(unwatch{t}).result().has_value());
    t.tell(quit{});
    while(t.alive())
        std::this_thread::yield();
    p.expect_no_msg(std::chrono::milliseconds(50));
}

BOOST_AUTO_TEST_CASE(down_is_never_dropped_by_a_full_mailbox)
{
    spindle::system sys(options());
    spindle::testkit::probe<seen> p(sys);
    // the watcher's mailbox is bounded and kept full: down travels on the
    // system channel, outside the capacity
    spindle::spawn_options o;
    o.mailbox = spindle::mailbox_options{1, spindle::overflow_policy::drop_newest};
    auto w = sys.spawn_with<watcher>(o, p.ref());
    auto t = sys.spawn<target>();
    BOOST_TEST(w.ask(watch{t}).result().has_value());

    boost::fibers::promise<void> release;
    auto until = release.get_future().share();
    BOOST_TEST(w.tell(hold{until}) == spindle::send_status::ok); // the watcher parks in it
    BOOST_REQUIRE(spindle_test::eventually([&] { return w.mailbox_depth() == 0; }));
    BOOST_TEST(w.tell(hold{until}) == spindle::send_status::ok);      // fills the one slot
    BOOST_TEST(w.tell(hold{until}) == spindle::send_status::dropped); // proves it is full
    t.stop();
    BOOST_REQUIRE(spindle_test::eventually([&] { return !t.alive(); }));
    release.set_value();
    BOOST_TEST((p.expect_msg<seen>().d.reason == spindle::exit_reason::normal));
    BOOST_TEST(sys.stats().dropped == 1u);
}

BOOST_AUTO_TEST_CASE(shutdown_is_its_own_reason)
{
    // the watcher lives in another system, so it outlives the target's
    spindle::system watchers(options());
    spindle::testkit::probe<seen> p(watchers);
    auto w = watchers.spawn<watcher>(p.ref());
    auto doomed = std::make_unique<spindle::system>(options());
    auto t = doomed->spawn<target>();
    BOOST_TEST(w.ask(watch{t}).result().has_value());
    BOOST_TEST(doomed->shutdown(std::chrono::seconds(5)).clean());
    auto d = p.expect_msg<seen>().d;
    BOOST_TEST(d.actor == t.id());
    BOOST_TEST((d.reason == spindle::exit_reason::shutdown));
}

BOOST_AUTO_TEST_CASE(exit_reason_names)
{
    BOOST_TEST(std::string(spindle::to_string(spindle::exit_reason::normal)) == "normal");
    BOOST_TEST(std::string(spindle::to_string(spindle::exit_reason::failure)) == "failure");
    BOOST_TEST(std::string(spindle::to_string(spindle::exit_reason::shutdown)) == "shutdown");
}
