//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/actor.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

using spindle::send_status;

/** What actors did, in order, and on which thread. */
struct journal
{
    std::mutex m;
    std::vector<std::string> events;
    std::vector<std::thread::id> threads;
    std::atomic<int> constructed{0};

    void record(std::string e)
    {
        std::lock_guard lk(m);
        events.push_back(std::move(e));
        threads.push_back(std::this_thread::get_id());
    }

    std::vector<std::string> snapshot()
    {
        std::lock_guard lk(m);
        return events;
    }

    std::thread::id thread_of(std::string const& e)
    {
        std::lock_guard lk(m);
        for(std::size_t i = 0; i < events.size(); ++i)
            if(events[i] == e)
                return threads[i];
        return {};
    }
};

// --- lifecycle ---

struct note
{
    int n;
};
struct hold
{
};
struct quit
{
};
struct renew
{
};
struct bump
{
    int n;
};
struct state_q
{
};

struct state
{
    int value = 0;
    int generation = 0;
    std::vector<int> notes;
    spindle::actor_id id;
    spindle::actor_id self_id;
};

struct lifecycle : spindle::actor<lifecycle, note, hold, quit, renew, bump, state_q>
{
    std::shared_ptr<journal> j_;
    std::shared_ptr<gate> g_;
    int value_;
    int const generation_;
    std::vector<int> notes_;

    lifecycle(std::shared_ptr<journal> j, std::shared_ptr<gate> g, int initial)
        : j_(std::move(j)), g_(std::move(g)), value_(initial), generation_(++j_->constructed)
    {
    }

    std::string gen() const { return " #" + std::to_string(generation_); }

    void pre_start() override { j_->record("pre_start" + gen()); }
    void post_stop() override { j_->record("post_stop" + gen()); }

    void on(note n)
    {
        notes_.push_back(n.n);
        j_->record("note " + std::to_string(n.n) + gen());
    }

    void on(hold) { g_->pass(); }

    int on(quit)
    {
        stop();
        // still running: the stop takes effect when this handler returns
        j_->record("quit" + gen());
        return 7;
    }

    void on(renew)
    {
        restart();
        j_->record("renew" + gen());
    }

    void on(bump b) { value_ += b.n; }

    state on(state_q) { return {value_, generation_, notes_, id(), self().id()}; }
};

} // namespace

BOOST_AUTO_TEST_CASE(pre_start_first_post_stop_last_on_the_actor_fiber)
{
    auto j = std::make_shared<journal>();
    spindle::system sys(manual_clock_options());
    scoped_gate g;
    auto ref = sys.spawn<lifecycle>(j, g.g, 0);
    // told at once: pre_start must still come first
    for(int i = 1; i <= 3; ++i)
        BOOST_TEST(ref.tell(note{i}) == send_status::ok);
    BOOST_TEST(ref.ask(state_q{}).get().notes.size() == 3u);
    ref.stop();
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));

    std::vector<std::string> const want{"pre_start #1", "note 1 #1", "note 2 #1", "note 3 #1", "post_stop #1"};
    auto const got = j->snapshot();
    BOOST_TEST(got == want, boost::test_tools::per_element());
    auto const main = std::this_thread::get_id();
    BOOST_TEST((j->thread_of("pre_start #1") != main));
    BOOST_TEST((j->thread_of("post_stop #1") != main));
    BOOST_TEST((j->thread_of("pre_start #1") != std::thread::id()));
    BOOST_TEST(sys.stats().failures == 0u);
}

BOOST_AUTO_TEST_CASE(handler_stop_takes_effect_after_the_handler_returns)
{
    auto j = std::make_shared<journal>();
    spindle::system sys(manual_clock_options());
    scoped_gate g;
    auto ref = sys.spawn<lifecycle>(j, g.g, 0);
    BOOST_TEST(ref.tell(note{1}) == send_status::ok);
    BOOST_TEST(ref.tell(hold{}) == send_status::ok);
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    auto quitting = ref.ask(quit{});
    // queued behind the quit: they must never be handled
    BOOST_TEST(ref.tell(note{2}) == send_status::ok);
    BOOST_TEST(ref.tell(note{3}) == send_status::ok);
    g->open();

    BOOST_TEST(quitting.get() == 7); // the stopping handler ran to its end
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));
    std::vector<std::string> const want{"pre_start #1", "note 1 #1", "quit #1", "post_stop #1"};
    BOOST_TEST(j->snapshot() == want, boost::test_tools::per_element());
    BOOST_TEST(sys.stats().dead_letters == 2u);

    BOOST_TEST(ref.tell(note{4}) == send_status::stopped);
    BOOST_TEST(sys.stats().dead_letters == 3u);
    BOOST_TEST(j->snapshot().size() == want.size());
}

BOOST_AUTO_TEST_CASE(restart_gives_a_fresh_object_and_keeps_the_mailbox)
{
    auto j = std::make_shared<journal>();
    spindle::system sys(manual_clock_options());
    scoped_gate g;
    auto ref = sys.spawn<lifecycle>(j, g.g, 7);
    auto const id = ref.id();

    BOOST_TEST(ref.tell(bump{100}) == send_status::ok);
    BOOST_TEST(ref.tell(note{0}) == send_status::ok);
    auto before = ref.ask(state_q{}).get();
    BOOST_TEST(before.value == 107);
    BOOST_TEST(before.generation == 1);

    // queue the restart and what follows it while the actor is busy
    BOOST_TEST(ref.tell(hold{}) == send_status::ok);
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    BOOST_TEST(ref.tell(renew{}) == send_status::ok);
    for(int i = 1; i <= 3; ++i)
        BOOST_TEST(ref.tell(note{i}) == send_status::ok);
    g->open();

    auto after = ref.ask(state_q{}).get();
    BOOST_TEST(after.value == 7); // the constructor argument again, not 107
    BOOST_TEST(after.generation == 2);
    BOOST_TEST(after.notes == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
    BOOST_TEST(after.id == id);
    BOOST_TEST(after.self_id == id);
    BOOST_TEST(ref.id() == id);
    BOOST_TEST(ref.alive());
    BOOST_TEST(j->constructed.load() == 2);

    std::vector<std::string> const want{"pre_start #1", "note 0 #1",    "renew #1",     "post_stop #1",
                                        "pre_start #2", "note 1 #2",    "note 2 #2",    "note 3 #2"};
    BOOST_TEST(j->snapshot() == want, boost::test_tools::per_element());
    auto const s = sys.stats();
    BOOST_TEST(s.restarts == 1u);
    BOOST_TEST(s.failures == 0u);
    BOOST_TEST(s.dead_letters == 0u);
}

namespace {

struct explode
{
    int code;
};
struct count_q
{
};

struct fragile : spindle::actor<fragile, bump, explode, count_q>
{
    std::shared_ptr<std::atomic<int>> explosions_;
    int value_ = 0;

    explicit fragile(std::shared_ptr<std::atomic<int>> explosions) : explosions_(std::move(explosions)) {}

    void on(bump b) { value_ += b.n; }

    void on(explode e)
    {
        ++*explosions_;
        throw std::runtime_error("boom " + std::to_string(e.code));
    }

    int on(count_q) { return value_; }
};

} // namespace

BOOST_AUTO_TEST_CASE(handler_exception_restarts_by_default)
{
    auto explosions = std::make_shared<std::atomic<int>>(0);
    spindle::system sys(manual_clock_options());
    auto failures = record_failures(sys);
    auto ref = sys.spawn<fragile>(explosions);

    BOOST_TEST(ref.tell(bump{3}) == send_status::ok);
    BOOST_TEST(ref.tell(bump{4}) == send_status::ok);
    BOOST_TEST(ref.ask(count_q{}).get() == 7);
    BOOST_TEST(ref.tell(explode{42}) == send_status::ok);
    BOOST_TEST(ref.tell(bump{1}) == send_status::ok);
    BOOST_TEST(ref.ask(count_q{}).get() == 1); // fresh state, then the bump after the failure
    BOOST_TEST(ref.alive());
    BOOST_TEST(explosions->load() == 1); // the failing message is not redelivered

    auto const s = sys.stats();
    BOOST_TEST(s.failures == 1u);
    BOOST_TEST(s.restarts == 1u);
    auto const f = failures->snapshot();
    BOOST_REQUIRE(f.size() == 1u);
    BOOST_TEST(f[0].actor == ref.id());
    BOOST_TEST((f[0].actor_type && *f[0].actor_type == typeid(fragile)));
    BOOST_TEST(f[0].what.find("boom 42") != std::string::npos, "what: " << f[0].what);
    BOOST_TEST((f[0].action == spindle::directive::restart));
}

BOOST_AUTO_TEST_CASE(handler_exception_stops_when_told_to)
{
    auto explosions = std::make_shared<std::atomic<int>>(0);
    auto opts = manual_clock_options();
    opts.on_failure = spindle::directive::stop;
    spindle::system sys(opts);
    auto failures = record_failures(sys);
    auto ref = sys.spawn<fragile>(explosions);

    BOOST_TEST(ref.ask(count_q{}).get() == 0);
    boost::system::error_code ec;
    ref.ask(explode{9}).get(ec);
    BOOST_TEST(ec == code(spindle::error::handler_failed));
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));
    BOOST_TEST(ref.tell(bump{1}) == send_status::stopped);
    auto r = ref.ask(count_q{}).result();
    BOOST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == code(spindle::error::actor_stopped));

    auto const s = sys.stats();
    BOOST_TEST(s.failures == 1u);
    BOOST_TEST(s.restarts == 0u);
    auto const f = failures->snapshot();
    BOOST_REQUIRE(f.size() == 1u);
    BOOST_TEST(f[0].what.find("boom 9") != std::string::npos, "what: " << f[0].what);
    BOOST_TEST((f[0].action == spindle::directive::stop));
}

namespace {

struct bad_start : spindle::actor<bad_start, note>
{
    std::shared_ptr<std::atomic<int>> handled_;
    explicit bad_start(std::shared_ptr<std::atomic<int>> h) : handled_(std::move(h)) {}
    void pre_start() override { throw std::runtime_error("cannot start: no config"); }
    void on(note) { ++*handled_; }
};

struct bad_stop : spindle::actor<bad_stop, note, renew>
{
    std::shared_ptr<std::atomic<int>> handled_;
    explicit bad_stop(std::shared_ptr<std::atomic<int>> h) : handled_(std::move(h)) {}
    void post_stop() override { throw std::runtime_error("cannot stop: disk gone"); }
    void on(note) { ++*handled_; }
    void on(renew) { restart(); }
};

} // namespace

BOOST_AUTO_TEST_CASE(pre_start_exception_stops_the_actor)
{
    auto handled = std::make_shared<std::atomic<int>>(0);
    spindle::system sys(manual_clock_options());
    auto failures = record_failures(sys);
    auto ref = sys.spawn<bad_start>(handled);
    for(int i = 0; i < 3; ++i)
    {
        // queued before the start failed (then drained), or refused after
        auto const st = ref.tell(note{i});
        BOOST_TEST((st == send_status::ok || st == send_status::stopped), "status " << st);
    }
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));

    BOOST_TEST(handled->load() == 0);
    auto const s = sys.stats();
    BOOST_TEST(s.failures == 1u);
    BOOST_TEST(s.restarts == 0u);
    BOOST_TEST(s.dead_letters == 3u);
    auto const f = failures->snapshot();
    BOOST_REQUIRE(f.size() == 1u);
    BOOST_TEST(f[0].actor == ref.id());
    BOOST_TEST(f[0].what.find("cannot start: no config") != std::string::npos, "what: " << f[0].what);
    BOOST_TEST((f[0].action == spindle::directive::stop));
    BOOST_TEST(ref.tell(note{4}) == send_status::stopped);
}

namespace {
// Decides in pre_start that it has nothing to do.
struct idle_quitter : spindle::actor<idle_quitter, note>
{
    std::shared_ptr<std::atomic<int>> handled;
    std::shared_ptr<std::atomic<int>> stopped;
    idle_quitter(std::shared_ptr<std::atomic<int>> h, std::shared_ptr<std::atomic<int>> s)
        : handled(std::move(h)), stopped(std::move(s))
    {
    }
    void pre_start() override { stop(); }
    void on(note) { ++*handled; }
    void post_stop() override { ++*stopped; }
};
} // namespace

BOOST_AUTO_TEST_CASE(stop_in_pre_start_stops_before_any_message)
{
    auto handled = std::make_shared<std::atomic<int>>(0);
    auto stopped = std::make_shared<std::atomic<int>>(0);
    spindle::system sys(manual_clock_options());
    auto ref = sys.spawn<idle_quitter>(handled, stopped);
    ref.tell(note{1});
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));
    BOOST_TEST(handled->load() == 0);
    BOOST_TEST(stopped->load() == 1);
    BOOST_TEST(sys.stats().failures == 0u);
    BOOST_TEST(ref.tell(note{2}) == send_status::stopped);
}

BOOST_AUTO_TEST_CASE(post_stop_exception_is_contained)
{
    auto handled = std::make_shared<std::atomic<int>>(0);
    spindle::system sys(manual_clock_options());
    auto failures = record_failures(sys);
    auto ref = sys.spawn<bad_stop>(handled);
    BOOST_TEST(ref.tell(note{1}) == send_status::ok);
    ref.stop();
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));

    auto const f = failures->snapshot();
    BOOST_REQUIRE(f.size() == 1u);
    BOOST_TEST(f[0].what.find("cannot stop: disk gone") != std::string::npos, "what: " << f[0].what);
    BOOST_TEST(sys.stats().failures == 1u);

    // the system carries on
    auto other = sys.spawn<fragile>(std::make_shared<std::atomic<int>>(0));
    BOOST_TEST(other.tell(bump{5}) == send_status::ok);
    BOOST_TEST(other.ask(count_q{}).get() == 5);
}

BOOST_AUTO_TEST_CASE(post_stop_exception_before_a_restart_is_reported)
{
    auto handled = std::make_shared<std::atomic<int>>(0);
    spindle::system sys(manual_clock_options());
    auto failures = record_failures(sys);
    auto ref = sys.spawn<bad_stop>(handled);
    BOOST_TEST(ref.tell(renew{}) == send_status::ok);
    BOOST_TEST(ref.tell(note{1}) == send_status::ok);
    BOOST_REQUIRE(eventually([&] { return handled->load() == 1; }));
    BOOST_TEST(ref.alive()); // the new object serves
    BOOST_TEST(sys.stats().restarts == 1u);

    // actor_base::post_stop: "Exceptions are caught and reported"
    BOOST_TEST(sys.stats().failures == 1u);
    auto const f = failures->snapshot();
    BOOST_REQUIRE(f.size() == 1u);
    BOOST_TEST(f[0].what.find("cannot stop: disk gone") != std::string::npos, "what: " << f[0].what);
}

namespace {

struct introspect_q
{
};

struct introspection
{
    spindle::actor_id id_in_pre_start;
    spindle::actor_id self_in_pre_start;
    bool self_alive = false;
    int greetings = 0;
};

struct self_aware : spindle::actor<self_aware, note, introspect_q>
{
    introspection seen_;

    void pre_start() override
    {
        seen_.id_in_pre_start = id();
        auto me = self();
        seen_.self_in_pre_start = me.id();
        seen_.self_alive = me.alive();
        me.tell(note{1}); // a message to itself from pre_start
    }

    void on(note) { ++seen_.greetings; }
    introspection on(introspect_q) { return seen_; }
};

} // namespace

BOOST_AUTO_TEST_CASE(self_and_id_are_valid_in_pre_start)
{
    spindle::system sys(manual_clock_options());
    auto ref = sys.spawn<self_aware>();
    auto const s = ref.ask(introspect_q{}).get();
    BOOST_TEST(ref.id() != spindle::actor_id());
    BOOST_TEST(s.id_in_pre_start == ref.id());
    BOOST_TEST(s.self_in_pre_start == ref.id());
    BOOST_TEST(s.self_alive);
    // the self-tell may land before or after the ask; wait for it
    BOOST_REQUIRE(eventually([&] { return ref.ask(introspect_q{}).get().greetings == 1; }));
}

namespace {

struct accumulate_q
{
};

struct accumulator : spindle::actor<accumulator, bump, accumulate_q>
{
    long sum_ = 0;
    long count_ = 0;
    void on(bump b)
    {
        sum_ += b.n;
        ++count_;
    }
    std::pair<long, long> on(accumulate_q) { return {sum_, count_}; }
};

} // namespace

BOOST_AUTO_TEST_CASE(tell_from_plain_threads)
{
    constexpr int threads = 4;
    constexpr int per_thread = 1000;
    spindle::system sys(manual_clock_options());
    auto ref = sys.spawn<accumulator>();
    std::atomic<int> not_ok{0};
    std::vector<std::thread> pool;
    for(int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for(int i = 1; i <= per_thread; ++i)
                if(ref.tell(bump{i}) != send_status::ok)
                    ++not_ok;
        });
    for(auto& t : pool)
        t.join();
    auto const [sum, count] = ref.ask(accumulate_q{}).get();
    BOOST_TEST(not_ok.load() == 0);
    BOOST_TEST(count == long(threads) * per_thread);
    BOOST_TEST(sum == long(threads) * per_thread * (per_thread + 1) / 2);
}

namespace {

struct by_value
{
    std::string s;
};
struct by_cref
{
    std::string s;
};
struct by_rref
{
    std::string s;
};
struct move_only
{
    std::unique_ptr<int> p;
};
struct seen_q
{
};

struct arg_kinds : spindle::actor<arg_kinds, by_value, by_cref, by_rref, move_only, seen_q>
{
    std::vector<std::string> seen_;

    void on(by_value m) { seen_.push_back("value:" + m.s); }
    void on(by_cref const& m) { seen_.push_back("cref:" + m.s); }
    std::string on(by_rref&& m)
    {
        std::string taken = std::move(m.s); // the handler owns the message
        seen_.push_back("rref:" + taken);
        return taken;
    }
    void on(move_only m) { seen_.push_back("unique:" + (m.p ? std::to_string(*m.p) : std::string("null"))); }
    std::vector<std::string> on(seen_q) { return seen_; }
};

static_assert(!std::is_copy_constructible_v<move_only>);

} // namespace

BOOST_AUTO_TEST_CASE(handlers_by_value_const_ref_and_rvalue_ref)
{
    spindle::system sys(manual_clock_options());
    auto ref = sys.spawn<arg_kinds>();

    by_value v{"a"};
    by_cref c{"b"};
    by_rref r{"c"};
    BOOST_TEST(ref.tell(v) == send_status::ok); // lvalues are copied...
    BOOST_TEST(ref.tell(c) == send_status::ok);
    BOOST_TEST(ref.tell(r) == send_status::ok);
    BOOST_TEST(v.s == "a"); // ...and left alone
    BOOST_TEST(c.s == "b");
    BOOST_TEST(r.s == "c");
    BOOST_TEST(ref.tell(by_value{"d"}) == send_status::ok);
    BOOST_TEST(ref.tell(by_cref{"e"}) == send_status::ok);
    BOOST_TEST(ref.tell(by_rref{"f"}) == send_status::ok);
    BOOST_TEST(ref.ask(by_rref{"g"}).get() == "g");
    by_cref const cc{"h"};
    BOOST_TEST(ref.tell(cc) == send_status::ok);

    std::vector<std::string> const want{"value:a", "cref:b", "rref:c", "value:d", "cref:e",
                                        "rref:f",  "rref:g", "cref:h"};
    BOOST_TEST(ref.ask(seen_q{}).get() == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(move_only_message_via_tell)
{
    spindle::system sys(manual_clock_options());
    auto ref = sys.spawn<arg_kinds>();
    BOOST_TEST(ref.tell(move_only{std::make_unique<int>(42)}) == send_status::ok);
    move_only m{std::make_unique<int>(43)};
    BOOST_TEST(ref.tell(std::move(m)) == send_status::ok);
    BOOST_TEST(!m.p); // moved into the mailbox
    BOOST_TEST(ref.try_tell(move_only{std::make_unique<int>(44)}) == send_status::ok);
    std::vector<std::string> const want{"unique:42", "unique:43", "unique:44"};
    BOOST_TEST(ref.ask(seen_q{}).get() == want, boost::test_tools::per_element());
}

namespace {

struct describe_q
{
};

struct configured : spindle::actor<configured, describe_q>
{
    std::string greeting_;
    int times_;
    std::shared_ptr<int> shared_;

    configured(std::string greeting, int times, std::shared_ptr<int> shared)
        : greeting_(std::move(greeting)), times_(times), shared_(std::move(shared))
    {
    }

    std::string on(describe_q)
    {
        std::string s;
        for(int i = 0; i < times_; ++i)
            s += greeting_;
        return s + ":" + std::to_string(*shared_);
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(spawn_with_constructor_arguments)
{
    spindle::system sys(manual_clock_options());
    auto shared = std::make_shared<int>(5);
    auto a = sys.spawn<configured>(std::string("ab"), 3, shared);
    std::string const greeting = "xy";
    int const times = 2;
    auto b = sys.spawn<configured>(greeting, times, shared); // lvalues are copied
    BOOST_TEST(greeting == "xy");
    BOOST_TEST(a.ask(describe_q{}).get() == "ababab:5");
    BOOST_TEST(b.ask(describe_q{}).get() == "xyxy:5");

    spindle::spawn_options o;
    o.name = "configured-c";
    auto c = sys.spawn_with<configured>(o, std::string("z"), 1, shared);
    BOOST_TEST(c.name() == "configured-c");
    BOOST_TEST(sys.lookup<configured>("configured-c").ask(describe_q{}).get() == "z:5");
}
