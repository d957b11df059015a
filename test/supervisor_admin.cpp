//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The supervisor's admin calls (child ids, restart_child, delete_child,
// count_children, which_children), deciders, backoff with jitter and reset,
// typed children (issue 17).

#include <spindle/supervisor.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/introspection.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/system.hpp>
#include <spindle/testkit.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

using namespace spindle_test;
using spindle::child_spec;
using spindle::directive;
using spindle::supervision_strategy;
using spindle::supervisor;
using spindle::supervisor_ref;
using spindle::supervisor_spec;

namespace {

using log_ptr = std::shared_ptr<history<std::string>>;

struct crash
{
};
struct io_fault
{
};
struct logic_fault
{
};
struct note
{
    int n;
};
struct get
{
};

struct worker : spindle::actor<worker, crash, io_fault, logic_fault, note, get>
{
    log_ptr log;
    std::string name;
    std::vector<int> seen;

    worker(log_ptr l, std::string n) : log(std::move(l)), name(std::move(n)) {}

    void pre_start() override { log->push("start " + name); }
    void post_stop() override { log->push("stop " + name); }
    void on(crash) { throw std::runtime_error("crash"); }
    void on(io_fault) { throw std::system_error(std::make_error_code(std::errc::io_error), "disk"); }
    void on(logic_fault) { throw std::logic_error("bug"); }
    void on(note m) { seen.push_back(m.n); }
    std::vector<int> on(get) { return seen; }
};

child_spec kid(log_ptr const& l, std::string n)
{
    return child_spec::of<worker>(l, n).id(n);
}

bool wait_log(log_ptr const& l, std::size_t n)
{
    return eventually([&] { return l->size() >= n; });
}

} // namespace

BOOST_AUTO_TEST_SUITE(admin_calls)

BOOST_AUTO_TEST_CASE(terminate_keeps_the_spec_until_delete_and_restart_child_starts_it_again)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_spec spec;
    spec.children = {kid(log, "a"), kid(log, "b")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 2));

    auto b = sup.child<worker>("b");
    BOOST_TEST(sup.terminate_child("b"));
    BOOST_TEST(!b.alive());
    BOOST_TEST(!sup.terminate_child("b")); // not running any more

    auto n = sup.count_children();
    BOOST_TEST(n.specs == 2u);
    BOOST_TEST(n.active == 1u);
    BOOST_TEST(n.workers == 2u);
    BOOST_TEST(n.supervisors == 0u);

    auto infos = sup.which_children();
    BOOST_TEST_REQUIRE(infos.size() == 2u);
    BOOST_TEST(infos[0].id == "a");
    BOOST_TEST((infos[0].state == spindle::actor_state::running));
    BOOST_TEST(infos[1].id == "b");
    BOOST_TEST(!infos[1].ref);
    BOOST_TEST((infos[1].state == spindle::actor_state::stopped));
    BOOST_TEST(infos[1].type.find("worker") != std::string::npos);
    BOOST_TEST(infos[1].type.find("anonymous") == std::string::npos);

    // a running child can be neither restarted nor deleted
    boost::system::error_code ec;
    sup.restart_child("a", ec);
    BOOST_TEST((ec == spindle::error::child_running));
    sup.delete_child("a", ec);
    BOOST_TEST((ec == spindle::error::child_running));
    sup.restart_child("nobody", ec);
    BOOST_TEST((ec == spindle::error::unknown_actor));

    auto b2 = sup.restart_child("b");
    BOOST_TEST(b2.alive());
    BOOST_TEST(b2.id() != b.id());
    BOOST_TEST(sup.count_children().active == 2u);
    BOOST_TEST(sup.terminate_child("b"));
    sup.delete_child("b");
    BOOST_TEST(sup.count_children().specs == 1u);
    sup.restart_child("b", ec);
    BOOST_TEST((ec == spindle::error::unknown_actor));
}

BOOST_AUTO_TEST_CASE(ids_default_to_the_name_or_a_number_and_must_be_unique)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_ref sup(sys.spawn<supervisor>(supervisor_spec{}));
    sup.start_child(child_spec::of<worker>(log, "x"));
    sup.start_child(child_spec::of<worker>(log, "y").named("why"));
    auto infos = sup.which_children();
    BOOST_TEST_REQUIRE(infos.size() == 2u);
    BOOST_TEST(infos[0].id == "child-1");
    BOOST_TEST(infos[1].id == "why");
    boost::system::error_code ec;
    std::string reason;
    auto r = sup.start_child(child_spec::of<worker>(log, "z").id("why"), ec, reason);
    BOOST_TEST(!r);
    BOOST_TEST((ec == spindle::error::name_taken));
    BOOST_TEST(reason.find("why") != std::string::npos, reason);
}

BOOST_AUTO_TEST_CASE(a_temporary_child_s_spec_is_dropped_when_it_is_terminated)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_ref sup(sys.spawn<supervisor>(supervisor_spec{}));
    sup.start_child(kid(log, "t").restart(spindle::restart_type::temporary));
    BOOST_TEST(sup.terminate_child("t"));
    BOOST_TEST(sup.count_children().specs == 0u);
}

BOOST_AUTO_TEST_CASE(start_child_returns_start_failed_with_the_reason)
{
    struct broken : spindle::actor<broken, note>
    {
        void pre_start() override { throw std::runtime_error("no disk"); }
        void on(note) {}
    };
    spindle::system sys(workers(2));
    supervisor_ref sup(sys.spawn<supervisor>(supervisor_spec{}));
    boost::system::error_code ec;
    std::string reason;
    auto r = sup.start_child(child_spec::of<broken>().id("b"), ec, reason);
    BOOST_TEST(!r);
    BOOST_TEST((ec == spindle::error::start_failed));
    BOOST_TEST(reason.find("broken 'b'") != std::string::npos, reason);
    BOOST_TEST(reason.find("std::runtime_error: no disk") != std::string::npos, reason);
    BOOST_TEST(sup.count_children().specs == 0u);
}

BOOST_AUTO_TEST_CASE(typed_children)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_ref sup(sys.spawn<supervisor>(supervisor_spec{}));
    spindle::actor_ref<worker> w = sup.start_child<worker>(log, std::string("w"));
    w.tell(note{7});
    BOOST_TEST((w.ask(get{}).get() == std::vector<int>{7}));
    auto v = sup.start_child<worker>(child_spec::of<worker>(log, std::string("v")).id("v"));
    BOOST_TEST(sup.child<worker>("v").id() == v.id());
    BOOST_CHECK_EXCEPTION(sup.child<supervisor>("v"), spindle::system_error, has_code(spindle::error::unknown_actor));
    BOOST_CHECK_EXCEPTION(sup.child<worker>("nobody"), spindle::system_error, has_code(spindle::error::unknown_actor));
    BOOST_CHECK_EXCEPTION(sup.start_child<supervisor>(child_spec::of<worker>(log, std::string("u"))),
                          spindle::system_error, has_code(spindle::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(count_children_tells_supervisors_from_workers)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_spec inner;
    inner.children = {kid(log, "x")};
    supervisor_spec top;
    top.children = {kid(log, "a"), child_spec::of<supervisor>(inner).id("inner")};
    supervisor_ref sup(sys.spawn<supervisor>(top));
    auto n = sup.count_children();
    BOOST_TEST(n.specs == 2u);
    BOOST_TEST(n.active == 2u);
    BOOST_TEST(n.supervisors == 1u);
    BOOST_TEST(n.workers == 1u);
    BOOST_TEST((sup.which_children()[1].node == spindle::node_type::supervisor));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(spawn_names)

struct counted : spindle::actor<counted, note>
{
    explicit counted(std::shared_ptr<std::atomic<int>> n) { n->fetch_add(1); }
    void on(note) {}
};

BOOST_AUTO_TEST_CASE(a_spawn_refused_with_name_taken_constructs_nothing)
{
    spindle::system sys(workers(2));
    auto built = std::make_shared<std::atomic<int>>(0);
    spindle::spawn_options o;
    o.name = "only-one";
    auto first = sys.spawn_with<counted>(o, built);
    BOOST_TEST(built->load() == 1);
    boost::system::error_code ec;
    auto second = sys.spawn_with<counted>(o, ec, built);
    BOOST_TEST((ec == spindle::error::name_taken));
    BOOST_TEST(!second);
    BOOST_TEST(built->load() == 1);
    // under a supervisor, too
    supervisor_ref sup(sys.spawn<supervisor>(supervisor_spec{}));
    sup.start_child(child_spec::of<counted>(built).named("only-one"), ec);
    BOOST_TEST((ec == spindle::error::name_taken));
    BOOST_TEST(built->load() == 1);
    BOOST_TEST(sys.lookup<counted>("only-one") == first);
}

BOOST_AUTO_TEST_CASE(a_name_is_free_again_after_its_constructor_threw)
{
    struct throws_once : spindle::actor<throws_once, note>
    {
        explicit throws_once(bool t)
        {
            if(t)
                throw std::runtime_error("no");
        }
        void on(note) {}
    };
    spindle::system sys(workers(2));
    spindle::spawn_options o;
    o.name = "n";
    BOOST_CHECK_THROW(sys.spawn_with<throws_once>(o, true), std::runtime_error);
    boost::system::error_code ec;
    BOOST_TEST(!sys.lookup<throws_once>("n", ec));
    auto ok = sys.spawn_with<throws_once>(o, false);
    BOOST_TEST(sys.lookup<throws_once>("n") == ok);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(deciders)

directive io_restarts_logic_stops(std::exception_ptr ep)
{
    try
    {
        std::rethrow_exception(ep);
    }
    catch(std::system_error const&)
    {
        return directive::restart;
    }
    catch(std::logic_error const&)
    {
        return directive::stop;
    }
    catch(...)
    {
        return directive::resume;
    }
}

BOOST_AUTO_TEST_CASE(restart_on_io_errors_stop_on_logic_errors_resume_otherwise)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    auto failures = record_failures(sys);
    supervisor_spec spec;
    spec.decider = io_restarts_logic_stops;
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 1));
    auto a = sup.child<worker>("a");

    // resume: the same object, its state kept
    a.tell(note{1});
    a.tell(crash{});
    a.tell(note{2});
    BOOST_TEST((a.ask(get{}).get() == std::vector<int>{1, 2}));
    BOOST_TEST(log->size() == 1u);

    // restart: a fresh object
    a.tell(io_fault{});
    BOOST_TEST_REQUIRE(wait_log(log, 3));
    BOOST_TEST(a.ask(get{}).get().empty());

    // stop: for good, the spec kept
    a.tell(logic_fault{});
    BOOST_TEST(eventually([&] { return !a.alive(); }));
    auto n = sup.count_children();
    BOOST_TEST(n.specs == 1u);
    BOOST_TEST(n.active == 0u);
    auto f = failures->snapshot();
    BOOST_TEST_REQUIRE(f.size() == 3u);
    BOOST_TEST((f[0].action == directive::resume));
    BOOST_TEST((f[1].action == directive::restart));
    BOOST_TEST((f[2].action == directive::stop));
}

BOOST_AUTO_TEST_CASE(a_child_spec_decider_wins_and_escalate_fails_the_supervisor)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    spindle::event_filter f = spindle::event_filter::of({spindle::event_type::supervisor_escalated});
    auto escalations = std::make_shared<history<spindle::event>>();
    auto h = sys.events().subscribe(f, [escalations](spindle::event const& e) { escalations->push(e); });
    supervisor_spec spec;
    spec.decider = [](std::exception_ptr) { return directive::resume; };
    spec.children = {kid(log, "a").decider([](std::exception_ptr) { return directive::escalate; }), kid(log, "b")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 2));
    sup.child<worker>("b").tell(crash{}); // the supervisor's decider: resume
    sup.child<worker>("a").tell(crash{}); // its own: escalate
    BOOST_TEST(eventually([&] { return escalations->size() == 1; }));
    BOOST_TEST(escalations->snapshot()[0].detail.find("escalated") != std::string::npos);
    // the root guardian restarted the supervisor with fresh children
    BOOST_TEST(eventually([&] { return log->size() >= 6; }));
    sys.events().unsubscribe(h);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(jitter_stretches_each_delay_within_the_random_factor)
{
    auto log = std::make_shared<history<std::string>>();
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    supervisor_spec spec;
    spec.backoff.base = std::chrono::seconds(1);
    spec.backoff.max = std::chrono::seconds(1);
    spec.backoff.random_factor = 0.5;
    spec.intensity.max_restarts = 100;
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 1));
    auto a = sup.child<worker>("a");
    auto state = [&] { return spindle::inspect(sys).children.at(0).children.at(0).state; };
    for(int round = 0; round < 3; ++round)
    {
        a.tell(crash{});
        BOOST_TEST_REQUIRE(eventually([&] { return sys.timers().pending() == 1; }));
        // never at the base delay itself: the jitter stretches it (by a
        // random nonzero amount; a stretch below 1 ns has odds near 1e-9)...
        clock->advance(std::chrono::seconds(1));
        BOOST_TEST(!eventually([&] { return state() != spindle::actor_state::restarting; }, std::chrono::milliseconds(20)));
        // ...and always by base * (1 + random_factor)
        clock->advance(std::chrono::milliseconds(500));
        BOOST_TEST_REQUIRE(eventually([&] { return state() == spindle::actor_state::running; }));
    }
}

BOOST_AUTO_TEST_CASE(a_stable_period_resets_the_delay_to_the_base)
{
    auto log = std::make_shared<history<std::string>>();
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    supervisor_spec spec;
    spec.backoff.base = std::chrono::seconds(1);
    spec.backoff.max = std::chrono::seconds(60);
    spec.backoff.reset_after = std::chrono::seconds(30);
    spec.intensity.max_restarts = 100;
    spec.intensity.window = std::chrono::hours(1);
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 1));
    auto a = sup.child<worker>("a");
    auto state = [&] { return spindle::inspect(sys).children.at(0).children.at(0).state; };
    auto restart_after = [&](std::chrono::milliseconds d) {
        a.tell(crash{});
        BOOST_TEST_REQUIRE(eventually([&] { return sys.timers().pending() == 1; }));
        clock->advance(d - std::chrono::milliseconds(1));
        BOOST_TEST(!eventually([&] { return state() != spindle::actor_state::restarting; }, std::chrono::milliseconds(20)));
        clock->advance(std::chrono::milliseconds(1));
        BOOST_TEST_REQUIRE(eventually([&] { return state() == spindle::actor_state::running; }));
    };
    restart_after(std::chrono::seconds(1));
    restart_after(std::chrono::seconds(2));
    restart_after(std::chrono::seconds(4));
    // stable for reset_after (well inside the intensity window): back to base
    clock->advance(std::chrono::seconds(30));
    restart_after(std::chrono::seconds(1));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stop_reasons)

BOOST_AUTO_TEST_CASE(a_transient_child_stopped_with_a_reason_reports_it_to_monitors)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_ref sup(sys.spawn<supervisor>(supervisor_spec{}));
    auto t = sup.start_child<worker>(kid(log, "t").restart(spindle::restart_type::transient));
    spindle::testkit::probe<note> p(sys);
    p.watch(t);
    t.stop("maintenance");
    auto d = p.expect_terminated(t);
    BOOST_TEST((d.reason == spindle::exit_reason::normal));
    BOOST_TEST(d.what == "maintenance");
    // a transient child's normal exit keeps its spec (OTP)
    BOOST_TEST(sup.count_children().specs == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
