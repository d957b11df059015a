//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/supervisor.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/introspection.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/system.hpp>

#include <atomic>
#include <fstream>
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
struct quit
{
};
struct get
{
};
struct note
{
    int n;
};
struct hang
{
    std::shared_ptr<gate> g;
};
struct report
{
};
struct renew
{
};

/// Records its lifecycle; crashes, quits or hangs on request.
struct child : spindle::actor<child, crash, quit, get, note, hang, report, renew>
{
    log_ptr log;
    std::string name;
    std::vector<int> seen;

    child(log_ptr l, std::string n) : log(std::move(l)), name(std::move(n)) {}

    void pre_start() override { log->push("start " + name); }
    void post_stop() override { log->push("stop " + name); }
    void on(crash) { throw std::runtime_error("crash in " + name); }
    void on(quit) { stop(); }
    std::vector<int> on(get) { return seen; }
    void on(note m) { seen.push_back(m.n); }
    void on(hang const& h) { h.g->pass(); }
    void on(report) { fail("disk full in " + name); }
    void on(renew) { restart(); }
};

child_spec kid(log_ptr const& l, std::string n)
{
    return child_spec::of<child>(l, std::move(n));
}

supervisor_spec three(log_ptr const& l, supervision_strategy s)
{
    supervisor_spec spec;
    spec.strategy = s;
    spec.children = {kid(l, "a"), kid(l, "b"), kid(l, "c")};
    return spec;
}

std::vector<std::string> tail(log_ptr const& l, std::size_t from)
{
    auto all = l->snapshot();
    return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
}

bool wait_log(log_ptr const& l, std::size_t n)
{
    return eventually([&] { return l->size() >= n; });
}

/// Records events of the listed types.
struct event_log
{
    std::shared_ptr<history<spindle::event>> events = std::make_shared<history<spindle::event>>();
    spindle::system& sys;
    spindle::handler_id id;

    event_log(spindle::system& s, spindle::event_filter f) : sys(s)
    {
        auto e = events;
        id = sys.events().subscribe(f, [e](spindle::event const& ev) { e->push(ev); });
    }
    ~event_log() { sys.events().unsubscribe(id); }

    std::size_t count(spindle::event_type t)
    {
        std::size_t n = 0;
        for(auto const& e : events->snapshot())
            n += e.type == t;
        return n;
    }
};

std::vector<std::string> v(std::initializer_list<char const*> l)
{
    return {l.begin(), l.end()};
}

} // namespace

BOOST_AUTO_TEST_SUITE(strategies)

BOOST_AUTO_TEST_CASE(one_for_one_restarts_only_the_failed_child_and_keeps_its_ref)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_ref sup(sys.spawn<supervisor>(three(log, supervision_strategy::one_for_one)));
    BOOST_TEST_REQUIRE(wait_log(log, 3));
    BOOST_TEST(log->snapshot() == v({"start a", "start b", "start c"}));
    auto b = sup.child<child>(1);
    b.tell(note{1});
    b.tell(crash{});
    BOOST_TEST_REQUIRE(wait_log(log, 5));
    BOOST_TEST(tail(log, 3) == v({"stop b", "start b"}));
    // same reference, fresh state; the failing message was not redelivered
    BOOST_TEST(b.ask(get{}).get().empty());
    BOOST_TEST(sup.children().size() == 3u);
    auto tree = spindle::inspect(sys);
    BOOST_TEST_REQUIRE(tree.children.size() == 1u);
    auto const& s = tree.children[0];
    BOOST_TEST((s.type == spindle::node_type::supervisor));
    BOOST_TEST((s.strategy == supervision_strategy::one_for_one));
    BOOST_TEST_REQUIRE(s.children.size() == 3u);
    BOOST_TEST(s.children[0].restarts == 0u);
    BOOST_TEST(s.children[1].restarts == 1u);
    BOOST_TEST(s.children[2].restarts == 0u);
    BOOST_TEST(s.children[1].id == b.id());
}

BOOST_AUTO_TEST_CASE(one_for_all_stops_the_others_in_reverse_then_starts_all_in_order)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_ref sup(sys.spawn<supervisor>(three(log, supervision_strategy::one_for_all)));
    BOOST_TEST_REQUIRE(wait_log(log, 3));
    sup.child<child>(1).tell(crash{});
    BOOST_TEST_REQUIRE(wait_log(log, 9));
    BOOST_TEST(tail(log, 3) == v({"stop b", "stop c", "stop a", "start a", "start b", "start c"}));
    for(auto const& c : sup.children())
        BOOST_TEST(c.alive());
}

BOOST_AUTO_TEST_CASE(rest_for_one_restarts_the_failed_child_and_those_started_after_it)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_ref sup(sys.spawn<supervisor>(three(log, supervision_strategy::rest_for_one)));
    BOOST_TEST_REQUIRE(wait_log(log, 3));
    sup.child<child>(1).tell(crash{});
    BOOST_TEST_REQUIRE(wait_log(log, 7));
    BOOST_TEST(tail(log, 3) == v({"stop b", "stop c", "start b", "start c"}));
    // a was not touched
    BOOST_TEST(spindle::inspect(sys).children.at(0).children.at(0).restarts == 0u);
}

BOOST_AUTO_TEST_CASE(escalate_stops_the_children_and_fails_to_the_parent)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    event_log ev(sys, spindle::event_filter::of({spindle::event_type::supervisor_escalated}));
    supervisor_spec inner;
    inner.strategy = supervision_strategy::escalate;
    inner.children = {kid(log, "a"), kid(log, "b")};
    inner.on_stop = [log] { log->push("inner stopped"); };
    supervisor_spec top;
    top.children = {child_spec::of<supervisor>(inner)};
    supervisor_ref sup(sys.spawn<supervisor>(top));
    BOOST_TEST_REQUIRE(wait_log(log, 2));
    auto in = supervisor_ref(sup.child<supervisor>(0));
    in.child<child>(0).tell(crash{});
    // a failed; inner stops b, runs on_stop, fails; top restarts inner, which starts a and b afresh
    BOOST_TEST_REQUIRE(wait_log(log, 7));
    BOOST_TEST(tail(log, 2) == v({"stop a", "stop b", "inner stopped", "start a", "start b"}));
    BOOST_TEST_REQUIRE(eventually([&] { return ev.count(spindle::event_type::supervisor_escalated) == 1; }));
    BOOST_TEST(in.alive());
    BOOST_TEST(spindle::inspect(sys).children.at(0).children.at(0).restarts == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(intensity)

BOOST_AUTO_TEST_CASE(trips_exactly_at_max_plus_one_failures_in_the_window)
{
    auto log = std::make_shared<history<std::string>>();
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    event_log ev(sys, spindle::event_filter::of({spindle::event_type::supervisor_escalated}));
    supervisor_spec spec;
    spec.intensity.max_restarts = 3;
    spec.intensity.window = std::chrono::seconds(60);
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 1));
    auto a = sup.child<child>(0);
    for(int i = 1; i <= 3; ++i)
    {
        clock->advance(std::chrono::seconds(10));
        a.tell(crash{});
        BOOST_TEST_REQUIRE(wait_log(log, 1 + 2 * static_cast<std::size_t>(i)));
        BOOST_TEST(a.alive());
    }
    BOOST_TEST(ev.count(spindle::event_type::supervisor_escalated) == 0u);
    // the fourth within 60 s: the supervisor gives up (the root guardian then restarts it)
    a.tell(crash{});
    BOOST_TEST_REQUIRE(eventually([&] { return ev.count(spindle::event_type::supervisor_escalated) == 1; }));
    BOOST_TEST_REQUIRE(eventually([&] { return !a.alive(); }));
    auto e = ev.events->snapshot().at(0);
    BOOST_TEST(e.source == sup.id());
    BOOST_TEST(e.detail.find("restart intensity exceeded") != std::string::npos);
    // the root guardian restarted the supervisor, which started a fresh child
    BOOST_TEST_REQUIRE(eventually([&] {
        boost::system::error_code ec;
        auto kids = sup.children(ec);
        return !ec && kids.size() == 1 && kids[0].alive() && kids[0].id() != a.id();
    }));
}

BOOST_AUTO_TEST_CASE(failures_spread_over_time_do_not_trip_it)
{
    auto log = std::make_shared<history<std::string>>();
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    event_log ev(sys, spindle::event_filter::of({spindle::event_type::supervisor_escalated}));
    supervisor_spec spec;
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 1));
    auto a = sup.child<child>(0);
    for(int i = 1; i <= 10; ++i)
    {
        clock->advance(std::chrono::seconds(21)); // at most 3 in any 60 s
        a.tell(crash{});
        BOOST_TEST_REQUIRE(wait_log(log, 1 + 2 * static_cast<std::size_t>(i)));
    }
    BOOST_TEST(a.alive());
    BOOST_TEST(ev.count(spindle::event_type::supervisor_escalated) == 0u);
    BOOST_TEST(spindle::inspect(sys).children.at(0).children.at(0).restarts == 10u);
}

BOOST_AUTO_TEST_CASE(backoff_delays_restarts_exponentially_and_keeps_mail_in_order)
{
    auto log = std::make_shared<history<std::string>>();
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    supervisor_spec spec;
    spec.backoff.base = std::chrono::seconds(1);
    spec.backoff.multiplier = 2.0;
    spec.backoff.max = std::chrono::seconds(3);
    spec.intensity.max_restarts = 100;
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 1));
    auto a = sup.child<child>(0);

    auto state = [&] { return spindle::inspect(sys).children.at(0).children.at(0).state; };
    std::chrono::milliseconds const expected[] = {std::chrono::milliseconds(1000), std::chrono::milliseconds(2000),
                                                  std::chrono::milliseconds(3000), std::chrono::milliseconds(3000)};
    int n = 0;
    for(int round = 0; round < 4; ++round)
    {
        a.tell(crash{});
        BOOST_TEST_REQUIRE(eventually([&] { return state() == spindle::actor_state::restarting; }));
        // the supervisor has armed its backoff timer (the only timer now)
        BOOST_TEST_REQUIRE(eventually([&] { return sys.timers().pending() == 1; }));
        // mail sent during the restart is kept for the new incarnation
        for(int i = 0; i < 50; ++i)
            BOOST_TEST((a.tell(note{n++}) == spindle::send_status::ok));
        clock->advance(expected[round] - std::chrono::milliseconds(1));
        BOOST_TEST(!eventually([&] { return state() != spindle::actor_state::restarting; }, std::chrono::milliseconds(50)));
        clock->advance(std::chrono::milliseconds(1));
        BOOST_TEST_REQUIRE(eventually([&] { return state() == spindle::actor_state::running; }));
        auto seen = a.ask(get{}).get();
        BOOST_TEST_REQUIRE(seen.size() == 50u);
        for(int i = 0; i < 50; ++i)
            BOOST_TEST(seen[static_cast<std::size_t>(i)] == n - 50 + i);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(restart_types)

struct watch
{
    spindle::basic_actor_ref who;
};

struct watcher : spindle::actor<watcher, watch>
{
    std::shared_ptr<history<spindle::down>> downs;
    explicit watcher(std::shared_ptr<history<spindle::down>> d) : downs(std::move(d)) {}
    void on(watch const& w) { monitor(w.who); }
    void on_down(spindle::down const& d) override { downs->push(d); }
};

BOOST_AUTO_TEST_CASE(permanent_transient_temporary)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_spec spec;
    spec.intensity.max_restarts = 100;
    spec.children = {kid(log, "perm"), kid(log, "trans").restart(spindle::restart_type::transient),
                     kid(log, "temp").restart(spindle::restart_type::temporary),
                     kid(log, "trans2").restart(spindle::restart_type::transient)};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 4));
    auto kids = sup.children();
    BOOST_TEST_REQUIRE(kids.size() == 4u);
    auto perm = sup.child<child>(0);
    auto trans = sup.child<child>(1);
    auto temp = sup.child<child>(2);
    auto trans2 = sup.child<child>(3);

    // a normal exit: only the permanent child comes back
    perm.tell(quit{});
    BOOST_TEST_REQUIRE(wait_log(log, 6));
    BOOST_TEST(tail(log, 4) == v({"stop perm", "start perm"}));
    trans.tell(quit{});
    BOOST_TEST_REQUIRE(eventually([&] { return !trans.alive(); }));
    // a failure: permanent and transient come back, temporary does not
    trans2.tell(crash{});
    BOOST_TEST_REQUIRE(eventually([&] { return trans2.ask(get{}).get().empty() && log->size() >= 9; }));
    temp.tell(crash{});
    BOOST_TEST_REQUIRE(eventually([&] { return !temp.alive(); }));
    BOOST_TEST(perm.alive());
    BOOST_TEST(trans2.alive());
    auto left = sup.children();
    BOOST_TEST_REQUIRE(left.size() == 2u);
    BOOST_TEST(left[0].id() == perm.id());
    BOOST_TEST(left[1].id() == trans2.id());
}

BOOST_AUTO_TEST_CASE(monitors_see_one_down_with_the_reason_and_none_for_a_restart)
{
    auto log = std::make_shared<history<std::string>>();
    auto downs = std::make_shared<history<spindle::down>>();
    spindle::system sys(workers(2));
    supervisor_spec spec;
    spec.children = {kid(log, "perm"), kid(log, "temp").restart(spindle::restart_type::temporary)};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 2));
    auto perm = sup.child<child>(0);
    auto temp = sup.child<child>(1);
    auto w = sys.spawn<watcher>(downs);
    w.ask(watch{perm}).get();
    w.ask(watch{temp}).get();

    perm.tell(crash{});
    BOOST_TEST_REQUIRE(wait_log(log, 4)); // stop perm, start perm
    temp.tell(crash{});
    BOOST_TEST_REQUIRE(eventually([&] { return downs->size() == 1; }));
    auto d = downs->snapshot().at(0);
    BOOST_TEST(d.actor == temp.id());
    BOOST_TEST((d.reason == spindle::exit_reason::failure));
    BOOST_TEST(d.what.find("crash in temp") != std::string::npos);

    // terminating the permanent child ends it for good: one notice, reason shutdown
    BOOST_TEST(sup.terminate_child(perm));
    BOOST_TEST_REQUIRE(eventually([&] { return downs->size() == 2; }));
    BOOST_TEST(downs->snapshot().at(1).actor == perm.id());
    BOOST_TEST((downs->snapshot().at(1).reason == spindle::exit_reason::shutdown));
    BOOST_TEST(!sup.terminate_child(perm));
    w.ask(watch{perm}).get(); // watching the dead actor: at once, same reason
    BOOST_TEST_REQUIRE(eventually([&] { return downs->size() == 3; }));
    BOOST_TEST((downs->snapshot().at(2).reason == spindle::exit_reason::shutdown));
}

BOOST_AUTO_TEST_CASE(the_failing_message_goes_to_dead_letters_and_is_not_redelivered)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    auto letters = record_dead_letters(sys);
    supervisor_spec spec;
    spec.children = {kid(log, "a")};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    BOOST_TEST_REQUIRE(wait_log(log, 1));
    auto a = sup.child<child>(0);
    a.tell(crash{});
    a.tell(note{7});
    BOOST_TEST_REQUIRE(eventually([&] { return a.ask(get{}).get() == std::vector<int>{7}; }));
    BOOST_TEST(log->snapshot() == v({"start a", "stop a", "start a"}));
    auto l = letters->snapshot();
    BOOST_TEST_REQUIRE(l.size() == 1u);
    BOOST_TEST((*l[0].message_type == typeid(crash)));
    BOOST_TEST((l[0].reason == spindle::error::handler_failed));
    BOOST_TEST(sys.stats().dead_letters == 1u);
}

BOOST_AUTO_TEST_CASE(a_reported_failure_or_a_requested_restart_goes_through_the_supervisor)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    auto letters = record_dead_letters(sys);
    auto failures = record_failures(sys);
    supervisor_ref sup(sys.spawn<supervisor>(three(log, supervision_strategy::one_for_all)));
    BOOST_TEST_REQUIRE(wait_log(log, 3));
    sup.child<child>(0).tell(report{});
    BOOST_TEST_REQUIRE(wait_log(log, 9));
    BOOST_TEST(tail(log, 3) == v({"stop a", "stop c", "stop b", "start a", "start b", "start c"}));
    BOOST_TEST_REQUIRE(failures->size() == 1u);
    BOOST_TEST(failures->snapshot()[0].what == "disk full in a");
    BOOST_TEST(letters->size() == 0u); // the message was handled: not a dead letter
    sup.child<child>(2).tell(renew{});
    BOOST_TEST_REQUIRE(wait_log(log, 15));
    BOOST_TEST(tail(log, 9) == v({"stop c", "stop b", "stop a", "start a", "start b", "start c"}));
    BOOST_TEST(spindle::inspect(sys).children.at(0).children.at(2).restarts == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stopping)

BOOST_AUTO_TEST_CASE(children_stop_in_reverse_order_subtree_first_supervisor_last)
{
    auto log = std::make_shared<history<std::string>>();
    spindle::system sys(workers(2));
    supervisor_spec inner;
    inner.children = {kid(log, "x"), kid(log, "y")};
    inner.on_stop = [log] { log->push("inner done"); };
    supervisor_spec top;
    top.children = {kid(log, "a"), child_spec::of<supervisor>(inner), kid(log, "c")};
    top.on_stop = [log] { log->push("top done"); };
    supervisor_ref sup(sys.spawn<supervisor>(top));
    BOOST_TEST_REQUIRE(wait_log(log, 4));
    BOOST_TEST(log->snapshot() == v({"start a", "start x", "start y", "start c"}));
    sup.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !sup.alive(); }));
    BOOST_TEST(tail(log, 4) == v({"stop c", "stop y", "stop x", "inner done", "stop a", "top done"}));
    BOOST_TEST(sys.actor_count() == 0u);
}

BOOST_AUTO_TEST_CASE(shutdown_with_a_child_that_ignores_stop_respects_the_deadlines)
{
    auto log = std::make_shared<history<std::string>>();
    scoped_gate g;
    auto report = std::make_shared<spindle::shutdown_report>();
    {
        spindle::system sys(workers(2));
        event_log ev(sys, spindle::event_filter::of({spindle::event_type::deadline_missed}));
        supervisor_spec spec;
        spec.children = {kid(log, "a"), kid(log, "b").shutdown(std::chrono::milliseconds(100)), kid(log, "c")};
        spec.on_stop = [log] { log->push("sup done"); };
        supervisor_ref sup(sys.spawn<supervisor>(spec));
        BOOST_TEST_REQUIRE(wait_log(log, 3));
        auto b = sup.child<child>(1);
        b.tell(hang{g.g});
        BOOST_TEST_REQUIRE(eventually([&] { return g->entered() == 1; }));
        {
            watchdog wd("shutdown with a stuck child");
            *report = sys.shutdown(std::chrono::milliseconds(500));
        }
        BOOST_TEST(tail(log, 3) == v({"stop c", "stop a", "sup done"}));
        BOOST_TEST_REQUIRE(report->stuck.size() == 1u);
        BOOST_TEST(report->stuck[0].id == b.id());
        BOOST_TEST(!report->clean());
        // the supervisor reported b when its own deadline passed, and so did the system
        BOOST_TEST(ev.events->size() >= 1u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(root_guardian)

BOOST_AUTO_TEST_CASE(stops_only_the_actor_past_its_limit)
{
    auto log = std::make_shared<history<std::string>>();
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    opts.root_intensity.max_restarts = 3;
    opts.root_intensity.window = std::chrono::seconds(60);
    spindle::system sys(opts);
    event_log ev(sys, spindle::event_filter::of({spindle::event_type::supervisor_escalated}));
    auto a = sys.spawn<child>(log, std::string("a"));
    auto other = sys.spawn<child>(log, std::string("other"));
    BOOST_TEST_REQUIRE(wait_log(log, 2));
    for(int i = 1; i <= 3; ++i)
    {
        a.tell(crash{});
        BOOST_TEST_REQUIRE(eventually([&] { return a.ask(get{}).get().empty() && log->size() >= 2 + 2u * i; }));
    }
    BOOST_TEST(a.alive());
    a.tell(crash{});
    BOOST_TEST_REQUIRE(eventually([&] { return !a.alive(); }));
    BOOST_TEST_REQUIRE(eventually([&] { return ev.count(spindle::event_type::supervisor_escalated) == 1; }));
    BOOST_TEST(other.alive());
    BOOST_TEST(other.ask(get{}).get().empty());

    // spread out, the same number of failures never trips it
    auto b = sys.spawn<child>(log, std::string("b"));
    for(int i = 1; i <= 8; ++i)
    {
        clock->advance(std::chrono::seconds(21));
        b.tell(crash{});
        BOOST_TEST_REQUIRE(eventually([&] { return b.ask(get{}).get().empty(); }));
    }
    BOOST_TEST(b.alive());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stress)

// GCC says __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__, Clang 14 only
// __has_feature.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SPINDLE_TEST_SANITIZER_KEEPS_MEMORY 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SPINDLE_TEST_SANITIZER_KEEPS_MEMORY 1
#endif
#ifndef SPINDLE_TEST_SANITIZER_KEEPS_MEMORY
#define SPINDLE_TEST_SANITIZER_KEEPS_MEMORY 0
#endif

std::size_t rss_kb()
{
    std::ifstream f("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    f >> pages >> resident;
    return resident * 4;
}

// Notes counted outside the actor, so that they outlive its restarts.
struct tally
{
    std::atomic<long> handled{0};
    std::atomic<long> out_of_order{0};
    std::atomic<int> last{-1};
};

struct counting_child : spindle::actor<counting_child, crash, note, get>
{
    std::shared_ptr<tally> t;
    explicit counting_child(std::shared_ptr<tally> x) : t(std::move(x)) {}
    void on(crash) { throw std::runtime_error("crash"); }
    void on(note m)
    {
        // one sender, so its notes arrive in order across every restart
        if(t->last.exchange(m.n) != m.n - 1)
            t->out_of_order.fetch_add(1);
        t->handled.fetch_add(1);
    }
    std::vector<int> on(get) { return {}; }
};

BOOST_AUTO_TEST_CASE(ten_thousand_crash_restart_cycles_leave_no_growth)
{
    auto t = std::make_shared<tally>();
    std::atomic<long> crash_letters{0}, other_letters{0}; // outlive the system's hooks
    spindle::system sys(workers(2));
    sys.on_dead_letter([&](spindle::dead_letter const& d) {
        if(*d.message_type == typeid(crash) && d.reason == spindle::error::handler_failed)
            crash_letters.fetch_add(1);
        else
            other_letters.fetch_add(1);
    });
    supervisor_spec spec;
    spec.intensity.max_restarts = 1'000'000;
    spec.children = {child_spec::of<counting_child>(t)};
    supervisor_ref sup(sys.spawn<supervisor>(spec));
    auto a = sup.child<counting_child>(0);
    int sent = 0;
    // A note before every crash: each must be handled, by whichever
    // incarnation is alive, and only the crashes may become dead letters.
    // The ask waits behind every queued cycle: its bound is a hang detector,
    // not the system's 5 s default, which a loaded machine can outlast.
    auto cycle = [&](int n) {
        for(int i = 0; i < n; ++i)
        {
            a.tell(note{sent++});
            a.tell(crash{});
        }
        watchdog wd("crash cycles");
        BOOST_TEST(a.ask(get{}, failure_timeout).get().empty());
    };
    cycle(1000); // warm up allocator and pools
    auto const actors = sys.actor_count();
    auto const before = rss_kb();
    cycle(10'000);
    auto const after = rss_kb();
    BOOST_TEST(sys.actor_count() == actors);
    BOOST_TEST(sys.stats().restarts == 11'000u);
    BOOST_TEST(spindle::inspect(sys).children.at(0).children.at(0).restarts == 11'000u);
    BOOST_TEST(t->handled.load() == 11'000);
    BOOST_TEST(t->out_of_order.load() == 0);
    BOOST_TEST(t->last.load() == 10'999);
    BOOST_TEST_REQUIRE(eventually([&] { return crash_letters.load() == 11'000; }));
    BOOST_TEST(other_letters.load() == 0);
    BOOST_TEST(sys.stats().dead_letters == 11'000u);
    // anything kept per cycle would show (not under AddressSanitizer, whose
    // quarantine keeps freed memory, nor ThreadSanitizer, whose shadow and
    // history grow with every access)
#if !defined(__SANITIZE_ADDRESS__) && !SPINDLE_TEST_SANITIZER_KEEPS_MEMORY
    BOOST_TEST(after < before + 4096, "RSS grew from " << before << " kB to " << after << " kB");
#else
    (void)before;
    (void)after;
#endif
}

BOOST_AUTO_TEST_SUITE_END()
