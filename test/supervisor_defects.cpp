//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Regression tests for the supervision cases of OTP's supervisor_SUITE and
// Akka typed's SupervisionSpec that Spindle failed (issue 17, defects 1-5).

#include <spindle/supervisor.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/introspection.hpp>
#include <spindle/system.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace spindle_test;
using spindle::child_spec;
using spindle::supervision_strategy;
using spindle::supervisor;
using spindle::supervisor_ref;
using spindle::supervisor_spec;

namespace {

using log_ptr = std::shared_ptr<history<std::string>>;

struct crash
{
};
struct note
{
    int n;
};
struct get
{
};

/// Records its lifecycle; crashes on request.
struct member : spindle::actor<member, crash, note, get>
{
    log_ptr log;
    std::string name;
    std::vector<int> seen;

    member(log_ptr l, std::string n) : log(std::move(l)), name(std::move(n)) {}

    void pre_start() override { log->push("start " + name); }
    void post_stop() override { log->push("stop " + name); }
    void on(crash) { throw std::runtime_error("crash in " + name); }
    void on(note m) { seen.push_back(m.n); }
    std::vector<int> on(get) { return seen; }
};

child_spec kid(log_ptr const& l, std::string n)
{
    return child_spec::of<member>(l, std::move(n));
}

std::vector<std::string> v(std::initializer_list<char const*> l)
{
    return {l.begin(), l.end()};
}

std::vector<std::string> tail(log_ptr const& l, std::size_t from)
{
    auto all = l->snapshot();
    return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
}

std::string what_of(std::function<void()> const& f)
{
    try
    {
        f();
    }
    catch(spindle::system_error const& e)
    {
        BOOST_TEST((e.code() == spindle::error::invalid_argument));
        return e.what();
    }
    return "(no exception)";
}

spindle::actor_info const& first_child(spindle::actor_info const& root)
{
    return root.children.at(0).children.at(0);
}

} // namespace

BOOST_AUTO_TEST_SUITE(temporary_bystanders)

// defect 1: OTP never restarts a temporary child, not even as a bystander
BOOST_AUTO_TEST_CASE(one_for_all_removes_a_temporary_bystander_instead_of_restarting_it)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_spec spec;
    spec.strategy = supervision_strategy::one_for_all;
    spec.children = {kid(log, "a"), kid(log, "t").restart(spindle::restart_type::temporary), kid(log, "c")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(eventually([&] { return log->size() >= 3; }));
    auto kids = sup.children();
    BOOST_TEST_REQUIRE(kids.size() == 3u);
    auto a = spindle::actor_ref<member>(boost::intrusive_ptr<spindle::detail::actor_cell>(kids[0].cell()));
    a.tell(crash{});
    BOOST_TEST_REQUIRE(eventually([&] { return log->size() >= 8; }));
    BOOST_TEST(eventually([&] { return !kids[1].alive(); }));
    BOOST_TEST(tail(log, 3) == v({"stop a", "stop c", "stop t", "start a", "start c"}));
    auto left = sup.children();
    BOOST_TEST_REQUIRE(left.size() == 2u);
    BOOST_TEST(left[0].id() == kids[0].id());
    BOOST_TEST(left[1].id() == kids[2].id());
}

BOOST_AUTO_TEST_CASE(rest_for_one_removes_a_temporary_bystander_instead_of_restarting_it)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_spec spec;
    spec.strategy = supervision_strategy::rest_for_one;
    spec.children = {kid(log, "a"), kid(log, "b"), kid(log, "t").restart(spindle::restart_type::temporary),
                     kid(log, "d")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(eventually([&] { return log->size() >= 4; }));
    auto kids = sup.children();
    BOOST_TEST_REQUIRE(kids.size() == 4u);
    spindle::actor_ref<member>(boost::intrusive_ptr<spindle::detail::actor_cell>(kids[1].cell())).tell(crash{});
    BOOST_TEST_REQUIRE(eventually([&] { return log->size() >= 9; }));
    BOOST_TEST(eventually([&] { return !kids[2].alive(); }));
    BOOST_TEST(tail(log, 4) == v({"stop b", "stop d", "stop t", "start b", "start d"}));
    auto left = sup.children();
    BOOST_TEST_REQUIRE(left.size() == 3u);
    BOOST_TEST(left[2].id() == kids[3].id());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(children_that_cannot_start)

struct no_disk : spindle::actor<no_disk, note>
{
    void pre_start() override { throw std::runtime_error("no disk"); }
    void on(note) {}
};

struct no_config : spindle::actor<no_config, note>
{
    no_config() { throw std::invalid_argument("no config"); }
    void on(note) {}
};

// defect 2: start_child reports a failing pre_start; nothing else moves
BOOST_AUTO_TEST_CASE(pre_start_throwing_is_a_start_error_and_the_siblings_are_untouched)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_spec spec;
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(eventually([&] { return log->size() >= 1; }));
    auto const a = sup.children().at(0);

    boost::system::error_code ec;
    auto r = sup.start_child(child_spec::of<no_disk>(), ec);
    BOOST_TEST(ec.failed());
    BOOST_TEST(!r);
    std::string text;
    try
    {
        sup.start_child(child_spec::of<no_disk>());
    }
    catch(spindle::system_error const& e)
    {
        text = e.what();
    }
    BOOST_TEST(text.find("no_disk") != std::string::npos, text);
    BOOST_TEST(text.find("std::runtime_error: no disk") != std::string::npos, text);
    BOOST_TEST(text.find("(anonymous namespace)") == std::string::npos, text);

    // the supervisor and its other child are as they were
    BOOST_TEST(sup.alive());
    auto kids = sup.children();
    BOOST_TEST_REQUIRE(kids.size() == 1u);
    BOOST_TEST(kids[0].id() == a.id());
    BOOST_TEST(first_child(spindle::inspect(sys)).restarts == 0u);
    BOOST_TEST(spindle::inspect(sys).children.at(0).restarts == 0u);
    BOOST_TEST(log->snapshot() == v({"start a"}));
}

BOOST_AUTO_TEST_CASE(a_throwing_constructor_is_a_start_error_and_the_supervisor_survives)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_spec spec;
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(eventually([&] { return log->size() >= 1; }));
    auto const a = sup.children().at(0);

    boost::system::error_code ec;
    auto r = sup.start_child(child_spec::of<no_config>(), ec);
    BOOST_TEST(ec.failed());
    BOOST_TEST(!r);
    std::string text;
    try
    {
        sup.start_child(child_spec::of<no_config>());
    }
    catch(spindle::system_error const& e)
    {
        text = e.what();
    }
    BOOST_TEST(text.find("no_config") != std::string::npos, text);
    BOOST_TEST(text.find("std::invalid_argument: no config") != std::string::npos, text);
    BOOST_TEST(sup.alive());
    BOOST_TEST(spindle::inspect(sys).children.at(0).restarts == 0u);
    auto kids = sup.children();
    BOOST_TEST_REQUIRE(kids.size() == 1u);
    BOOST_TEST(kids[0].id() == a.id());
    BOOST_TEST(log->snapshot() == v({"start a"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(spec_validation)

// defect 3: the whole spec is checked up front, naming the field
BOOST_AUTO_TEST_CASE(a_bad_spec_is_refused_with_invalid_argument_naming_the_field)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    auto refused = [&](supervisor_spec const& s) { return what_of([&] { sys.spawn<supervisor>(s); }); };
    {
        supervisor_spec s;
        s.intensity.window = std::chrono::nanoseconds(0);
        auto t = refused(s);
        BOOST_TEST(t.find("intensity.window") != std::string::npos, t);
    }
    {
        supervisor_spec s;
        s.intensity.window = std::chrono::seconds(-1);
        auto t = refused(s);
        BOOST_TEST(t.find("intensity.window") != std::string::npos, t);
    }
    {
        supervisor_spec s;
        s.intensity.max_restarts = -1; // must not wrap into "unlimited"
        auto t = refused(s);
        BOOST_TEST(t.find("intensity.max_restarts") != std::string::npos, t);
    }
    {
        supervisor_spec s;
        s.backoff.base = std::chrono::seconds(2);
        s.backoff.max = std::chrono::seconds(1);
        auto t = refused(s);
        BOOST_TEST(t.find("backoff.max") != std::string::npos, t);
    }
    {
        supervisor_spec s;
        s.backoff.multiplier = 0.5;
        auto t = refused(s);
        BOOST_TEST(t.find("backoff.multiplier") != std::string::npos, t);
    }
    {
        supervisor_spec s;
        s.children = {kid(log, "a").named("same"), kid(log, "b").named("same")};
        auto t = refused(s);
        BOOST_TEST(t.find("children[1]") != std::string::npos, t);
    }
    // nothing was started by any of them
    BOOST_TEST(log->size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_zero_window_no_longer_turns_the_limit_off)
{
    // before: window 0 was accepted and every restart fell out of it at once
    supervisor_spec s;
    s.intensity.max_restarts = 1;
    s.intensity.window = std::chrono::nanoseconds(0);
    std::string what;
    BOOST_TEST(s.validate(what).failed());
    BOOST_TEST(what.find("intensity.window") != std::string::npos, what);
    s.intensity.window = std::chrono::seconds(1);
    BOOST_TEST(!s.validate(what).failed());
    BOOST_TEST(what.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(restarts_beside_calls)

/// Every restart's pre_start waits at its own gate, then throws; the first
/// pre_start and those past the last gate succeed.
struct slow_starter : spindle::actor<slow_starter, crash>
{
    std::shared_ptr<std::vector<std::shared_ptr<gate>>> gates;
    std::shared_ptr<std::atomic<int>> incarnation;

    slow_starter(std::shared_ptr<std::vector<std::shared_ptr<gate>>> g, std::shared_ptr<std::atomic<int>> n)
        : gates(std::move(g)), incarnation(std::move(n))
    {
    }

    void pre_start() override
    {
        auto const k = incarnation->fetch_add(1);
        if(k == 0 || k > static_cast<int>(gates->size()))
            return;
        (*gates)[static_cast<std::size_t>(k - 1)]->pass();
        throw std::runtime_error("slow start failed");
    }
    void on(crash) { throw std::runtime_error("crash"); }
};

// defect 4: back-to-back restarts kept the supervisor from its own calls
BOOST_AUTO_TEST_CASE(the_supervisor_answers_during_restarts_and_the_child_reads_restarting)
{
    auto log = std::make_shared<history<std::string>>();
    auto opts = workers(2);
    opts.ask_timeout = std::chrono::seconds(20); // only a broken supervisor reaches it
    spindle::system sys(opts);
    auto gates = std::make_shared<std::vector<std::shared_ptr<gate>>>();
    for(int i = 0; i < 3; ++i)
        gates->push_back(std::make_shared<gate>());
    struct opener
    {
        std::shared_ptr<std::vector<std::shared_ptr<gate>>> g;
        ~opener()
        {
            for(auto& x : *g)
                x->open();
        }
    } open_at_end{gates};
    auto incarnation = std::make_shared<std::atomic<int>>(0);

    supervisor_spec spec;
    spec.intensity.max_restarts = 100;
    spec.intensity.window = std::chrono::hours(1);
    // the supervisor must not wait out this deadline to answer
    spec.children = {child_spec::of<slow_starter>(gates, incarnation).shutdown(std::chrono::hours(1)),
                     kid(log, "sibling")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(eventually([&] { return log->size() >= 1; }));
    auto kids = sup.children();
    BOOST_TEST_REQUIRE(kids.size() == 2u);
    spindle::actor_ref<slow_starter>(boost::intrusive_ptr<spindle::detail::actor_cell>(kids[0].cell())).tell(crash{});

    auto state = [&] { return first_child(spindle::inspect(sys)).state; };
    for(std::size_t k = 0; k < 2; ++k)
    {
        // restart k+1 is under way: its pre_start waits at gate k
        BOOST_TEST_REQUIRE(eventually([&] { return (*gates)[k]->entered() == 1; }));
        BOOST_TEST((state() == spindle::actor_state::restarting));
        boost::system::error_code ec;
        auto now = sup.children(ec);
        BOOST_TEST_REQUIRE(!ec.failed(), ec.message());
        BOOST_TEST(now.size() == 2u);
        (*gates)[k]->open(); // it throws: the next restart begins
    }
    BOOST_TEST_REQUIRE(eventually([&] { return (*gates)[2]->entered() == 1; }));
    BOOST_TEST((state() == spindle::actor_state::restarting));
    boost::system::error_code ec;
    BOOST_TEST(sup.terminate_child(kids[1], ec));
    BOOST_TEST_REQUIRE(!ec.failed(), ec.message());
    BOOST_TEST(eventually([&] { return !kids[1].alive(); }));
    (*gates)[2]->open();
    // past the last gate its pre_start succeeds
    BOOST_TEST(eventually([&] { return state() == spindle::actor_state::running; }));
    BOOST_TEST(first_child(spindle::inspect(sys)).restarts == 4u);
    BOOST_TEST(sup.alive());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pre_start_failures_agree)

/// Fails its second incarnation's pre_start (the first restart's), then runs.
struct flaky_restart : spindle::actor<flaky_restart, crash, note, get>
{
    std::shared_ptr<std::atomic<int>> incarnation;
    std::vector<int> seen;

    explicit flaky_restart(std::shared_ptr<std::atomic<int>> n) : incarnation(std::move(n)) {}

    void pre_start() override
    {
        if(incarnation->fetch_add(1) == 1)
            throw std::runtime_error("not yet");
    }
    void on(crash) { throw std::runtime_error("crash"); }
    void on(note m) { seen.push_back(m.n); }
    std::vector<int> on(get) { return seen; }
};

struct parked
{
    std::shared_ptr<gate> g;
};

/// A handler to hold the actor while mail piles up behind it.
struct holder : spindle::actor<holder, parked, crash, note, get>
{
    std::shared_ptr<std::atomic<int>> incarnation;
    std::vector<int> seen;

    explicit holder(std::shared_ptr<std::atomic<int>> n) : incarnation(std::move(n)) {}

    void pre_start() override
    {
        if(incarnation->fetch_add(1) == 1)
            throw std::runtime_error("not yet");
    }
    void on(parked const& p) { p.g->pass(); }
    void on(crash) { throw std::runtime_error("crash"); }
    void on(note m) { seen.push_back(m.n); }
    std::vector<int> on(get) { return seen; }
};

template<class Run>
void crash_then_fail_the_restart(Run&& spawn_it)
{
    auto inc = std::make_shared<std::atomic<int>>(0);
    scoped_gate g;
    spindle::actor_ref<holder> a = spawn_it(inc);
    BOOST_TEST_REQUIRE(eventually([&] { return inc->load() == 1; }));
    a.tell(parked{g.g});
    BOOST_TEST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    // queued behind the handler: a crash, then two notes for a later incarnation
    a.tell(crash{});
    a.tell(note{1});
    a.tell(note{2});
    g->open();
    // the restart's pre_start fails once; the actor is retried, not stopped
    BOOST_TEST_REQUIRE(eventually([&] { return inc->load() >= 3; }));
    BOOST_TEST(a.alive());
    BOOST_TEST((a.ask(get{}).get() == std::vector<int>{1, 2}));
}

// defect 5: the root guardian and a supervisor decide a failed pre_start alike
BOOST_AUTO_TEST_CASE(under_the_root_guardian_a_failed_restart_is_retried)
{
    spindle::system sys(workers(2));
    auto dead = record_dead_letters(sys);
    crash_then_fail_the_restart([&](auto inc) { return sys.spawn<holder>(inc); });
    BOOST_TEST(spindle::inspect(sys).children.at(0).restarts == 2u);
    BOOST_TEST(dead->size() == 1u); // the crash message only
}

BOOST_AUTO_TEST_CASE(under_a_supervisor_a_failed_restart_is_retried)
{
    spindle::system sys(workers(2));
    auto dead = record_dead_letters(sys);
    supervisor_ref sup;
    crash_then_fail_the_restart([&](auto inc) {
        supervisor_spec spec;
        spec.children = {child_spec::of<holder>(inc)};
        sup = supervisor_ref(sys.spawn<supervisor>(spec));
        BOOST_TEST_REQUIRE(eventually([&] { return inc->load() == 1; }));
        return sup.child<holder>(0);
    });
    BOOST_TEST(first_child(spindle::inspect(sys)).restarts == 2u);
    BOOST_TEST(dead->size() == 1u);
}

// the first pre_start failing means the actor cannot start, at either level
BOOST_AUTO_TEST_CASE(a_first_pre_start_failure_stops_the_actor_at_either_level)
{
    spindle::system sys(workers(2));
    auto failures = record_failures(sys);
    auto a = sys.spawn<children_that_cannot_start::no_disk>();
    BOOST_TEST(eventually([&] { return !a.alive(); }));
    BOOST_TEST_REQUIRE(failures->size() == 1u);
    BOOST_TEST((failures->snapshot()[0].action == spindle::directive::stop));
}

BOOST_AUTO_TEST_SUITE_END()
