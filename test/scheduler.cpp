//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The scheduler as users rely on it: a handler that blocks (ask, sleep,
// fiber channel, fiber future) parks only its own actor, blocked handlers
// get runner fibers on demand and give them back, work spreads over the
// workers, and the counters add up.

#include <spindle/system.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/manual_clock.hpp>

#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/future.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

// Records which threads ran handlers.
struct thread_log
{
    std::mutex m;
    std::set<std::thread::id> ids;

    void record()
    {
        std::lock_guard lk(m);
        ids.insert(std::this_thread::get_id());
    }

    std::size_t count()
    {
        std::lock_guard lk(m);
        return ids.size();
    }
};

// Spends CPU without blocking the worker (what a heavy handler does).
void burn(std::chrono::microseconds d)
{
    auto const end = std::chrono::steady_clock::now() + d;
    volatile unsigned x = 0;
    while(std::chrono::steady_clock::now() < end)
        for(unsigned i = 0; i < 256; ++i)
            x = x + i;
}

//------------------------------------------------------------------------------
// A asks B; B answers only after C (on the same single worker) handled N
// messages sent while A waits.

constexpr int relay_n = 50;

struct go {};
struct query {};
struct tick {};

struct relay_state
{
    std::atomic<int> c_count{0};
    std::atomic<int> c_while_a_blocked{0};
    boost::fibers::promise<void> c_reached;
    boost::fibers::shared_future<void> c_reached_f = c_reached.get_future().share();
    std::atomic<bool> b_waiting{false};
    std::atomic<bool> a_done{false};
    std::atomic<int> a_got{-1};
    thread_log threads;
};

struct actor_c : spindle::actor<actor_c, tick>
{
    std::shared_ptr<relay_state> st;
    explicit actor_c(std::shared_ptr<relay_state> s) : st(std::move(s)) {}

    void on(tick)
    {
        st->threads.record();
        if(!st->a_done.load())
            st->c_while_a_blocked.fetch_add(1);
        if(st->c_count.fetch_add(1) + 1 == relay_n)
            st->c_reached.set_value();
    }
};

struct actor_b : spindle::actor<actor_b, query>
{
    std::shared_ptr<relay_state> st;
    explicit actor_b(std::shared_ptr<relay_state> s) : st(std::move(s)) {}

    int on(query)
    {
        st->threads.record();
        st->b_waiting.store(true);
        st->c_reached_f.wait(); // parks B's fiber only
        return st->c_count.load();
    }
};

struct actor_a : spindle::actor<actor_a, go>
{
    std::shared_ptr<relay_state> st;
    spindle::actor_ref<actor_b> b;
    actor_a(std::shared_ptr<relay_state> s, spindle::actor_ref<actor_b> r) : st(std::move(s)), b(std::move(r)) {}

    void on(go)
    {
        st->threads.record();
        int const got = b.ask(query{}, 1h).get(); // parks A's fiber only
        st->a_got.store(got);
        st->a_done.store(true);
    }
};

//------------------------------------------------------------------------------
// sleep_for on the manual clock

struct nap
{
    std::chrono::nanoseconds d;
};
struct bump {};

struct nap_state
{
    std::atomic<bool> started{false};
    std::atomic<int> result{-1}; // -1: still sleeping, 0: false, 1: true
    std::atomic<int> bumps{0};
};

struct napper : spindle::actor<napper, nap>
{
    std::shared_ptr<nap_state> st;
    explicit napper(std::shared_ptr<nap_state> s) : st(std::move(s)) {}

    void on(nap m)
    {
        st->started.store(true);
        st->result.store(sleep_for(m.d) ? 1 : 0);
    }
};

struct bumper : spindle::actor<bumper, bump>
{
    std::shared_ptr<nap_state> st;
    explicit bumper(std::shared_ptr<nap_state> s) : st(std::move(s)) {}
    void on(bump) { st->bumps.fetch_add(1); }
};

//------------------------------------------------------------------------------
// fiber channel and fiber future inside handlers

using int_channel = boost::fibers::buffered_channel<int>;

struct drain
{
    int n;
};
struct produce
{
    int from, to;
};

struct chan_state
{
    int_channel ch{16};
    std::atomic<bool> draining{false};
};

struct consumer : spindle::actor<consumer, drain>
{
    std::shared_ptr<chan_state> st;
    explicit consumer(std::shared_ptr<chan_state> s) : st(std::move(s)) {}

    int on(drain m)
    {
        st->draining.store(true);
        int sum = 0;
        for(int i = 0; i < m.n; ++i)
        {
            int v = 0;
            if(st->ch.pop(v) != boost::fibers::channel_op_status::success)
                return -1;
            sum += v;
        }
        st->draining.store(false);
        return sum;
    }
};

struct producer : spindle::actor<producer, produce>
{
    std::shared_ptr<chan_state> st;
    explicit producer(std::shared_ptr<chan_state> s) : st(std::move(s)) {}

    void on(produce m)
    {
        for(int v = m.from; v <= m.to; ++v)
            st->ch.push(v);
    }
};

struct await_value {};
struct set_value
{
    int v;
};

struct future_state
{
    boost::fibers::promise<int> p;
    boost::fibers::shared_future<int> f = p.get_future().share();
    std::atomic<bool> awaiting{false};
};

struct awaiter : spindle::actor<awaiter, await_value>
{
    std::shared_ptr<future_state> st;
    explicit awaiter(std::shared_ptr<future_state> s) : st(std::move(s)) {}

    int on(await_value)
    {
        st->awaiting.store(true);
        return st->f.get();
    }
};

struct setter : spindle::actor<setter, set_value>
{
    std::shared_ptr<future_state> st;
    explicit setter(std::shared_ptr<future_state> s) : st(std::move(s)) {}
    void on(set_value m) { st->p.set_value(m.v); }
};

//------------------------------------------------------------------------------
// many blocked askers

struct hold {};

struct gate_state
{
    gate holders; // every holder waits here until the test opens it
    std::atomic<int> done{0};
};

struct holder : spindle::actor<holder, hold>
{
    std::shared_ptr<gate_state> st;
    explicit holder(std::shared_ptr<gate_state> s) : st(std::move(s)) {}

    int on(hold)
    {
        st->holders.pass();
        return 1;
    }
};

struct asker : spindle::actor<asker, go>
{
    std::shared_ptr<gate_state> st;
    spindle::actor_ref<holder> h;
    asker(std::shared_ptr<gate_state> s, spindle::actor_ref<holder> r) : st(std::move(s)), h(std::move(r)) {}

    void on(go) { st->done.fetch_add(h.ask(hold{}, 1h).get()); }
};

//------------------------------------------------------------------------------
// busy actors

struct work {};

struct busy_state
{
    thread_log threads;
    std::atomic<int> handled{0};
    std::chrono::microseconds cost{2000};
};

struct busy : spindle::actor<busy, work>
{
    std::shared_ptr<busy_state> st;
    explicit busy(std::shared_ptr<busy_state> s) : st(std::move(s)) {}

    void on(work)
    {
        st->threads.record();
        burn(st->cost);
        st->handled.fetch_add(1);
    }
};

struct make_busy
{
    int n;
};

// Spawns from inside a handler, so every child is homed on this worker.
struct spawner : spindle::actor<spawner, make_busy>
{
    std::shared_ptr<busy_state> st;
    explicit spawner(std::shared_ptr<busy_state> s) : st(std::move(s)) {}

    std::vector<spindle::actor_ref<busy>> on(make_busy m)
    {
        std::vector<spindle::actor_ref<busy>> v;
        for(int i = 0; i < m.n; ++i)
            v.push_back(system().spawn<busy>(st));
        return v;
    }
};

//------------------------------------------------------------------------------
// counters

struct ping {};

struct counting : spindle::actor<counting, ping, query>
{
    std::shared_ptr<std::atomic<int>> handled;
    explicit counting(std::shared_ptr<std::atomic<int>> h) : handled(std::move(h)) {}
    void on(ping) { handled->fetch_add(1); }
    int on(query) { return handled->fetch_add(1) + 1; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(blocking_handlers)

BOOST_AUTO_TEST_CASE(blocking_ask_lets_other_actors_on_the_same_worker_run)
{
    spindle::system sys(workers(1));
    auto st = std::make_shared<relay_state>();
    auto c = sys.spawn<actor_c>(st);
    auto b = sys.spawn<actor_b>(st);
    auto a = sys.spawn<actor_a>(st, b);

    a.tell(go{});
    // A is inside its ask once B's handler runs; B waits for C.
    BOOST_TEST_REQUIRE(eventually([&] { return st->b_waiting.load(); }));
    BOOST_TEST(!st->a_done.load());

    for(int i = 0; i < relay_n; ++i)
        BOOST_TEST(c.tell(tick{}) == spindle::send_status::ok);

    // Only C's N-th message releases B, and only B's reply releases A: if
    // A's wait held the single worker thread, C could never run.
    BOOST_TEST_REQUIRE(eventually([&] { return st->a_done.load(); }));
    BOOST_TEST(st->a_got.load() == relay_n);
    BOOST_TEST(st->c_count.load() == relay_n);
    BOOST_TEST(st->c_while_a_blocked.load() == relay_n);
    BOOST_TEST(st->threads.count() == 1u); // A, B and C shared the one worker
}

BOOST_AUTO_TEST_CASE(sleep_for_on_manual_clock_parks_only_the_sleeper)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(manual_clock_options(1, clock));
    auto st = std::make_shared<nap_state>();
    auto sleeper = sys.spawn<napper>(st);
    auto other = sys.spawn<bumper>(st);

    sleeper.tell(nap{1s});
    BOOST_TEST_REQUIRE(eventually([&] { return st->started.load() && sys.timers().pending() == 1; }));

    for(int i = 0; i < 100; ++i)
        other.tell(bump{});
    BOOST_TEST_REQUIRE(eventually([&] { return st->bumps.load() == 100; }));
    BOOST_TEST(st->result.load() == -1);

    // Timers fire inside advance(): if the sleep's timer had fired, pending()
    // would already be 0 here.
    clock->advance(1s - 1ns);
    BOOST_TEST(sys.timers().pending() == 1u);
    BOOST_TEST(st->result.load() == -1);

    clock->advance(1ns);
    BOOST_TEST(sys.timers().pending() == 0u);
    BOOST_TEST_REQUIRE(eventually([&] { return st->result.load() != -1; }));
    BOOST_TEST(st->result.load() == 1);
}

BOOST_AUTO_TEST_CASE(handler_waits_on_a_fiber_channel)
{
    spindle::system sys(workers(1));
    auto st = std::make_shared<chan_state>();
    auto cons = sys.spawn<consumer>(st);
    auto prod = sys.spawn<producer>(st);

    // fed by an actor on the same worker
    auto f1 = cons.ask(drain{10}, 1h);
    BOOST_TEST_REQUIRE(eventually([&] { return st->draining.load(); }));
    prod.tell(produce{1, 10});
    {
        watchdog wd("ask drain (actor producer)");
        BOOST_TEST(f1.get() == 55);
    }

    // fed by a plain thread
    auto f2 = cons.ask(drain{3}, 1h);
    BOOST_TEST_REQUIRE(eventually([&] { return st->draining.load(); }));
    st->ch.push(100);
    st->ch.push(200);
    st->ch.push(300);
    {
        watchdog wd("ask drain (thread producer)");
        BOOST_TEST(f2.get() == 600);
    }
}

BOOST_AUTO_TEST_CASE(handler_waits_on_a_fiber_future)
{
    spindle::system sys(workers(1));
    auto st = std::make_shared<future_state>();
    auto w = sys.spawn<awaiter>(st);
    auto s = sys.spawn<setter>(st);

    auto f = w.ask(await_value{}, 1h);
    BOOST_TEST_REQUIRE(eventually([&] { return st->awaiting.load(); }));
    s.tell(set_value{42});
    watchdog wd("ask await_value");
    BOOST_TEST(f.get() == 42);
}

BOOST_AUTO_TEST_CASE(a_thousand_blocked_askers_on_one_worker_all_complete)
{
    constexpr int n = 1000;
    spindle::system sys(workers(1));
    auto st = std::make_shared<gate_state>();
    std::vector<spindle::actor_ref<asker>> askers;
    for(int i = 0; i < n; ++i)
        askers.push_back(sys.spawn<asker>(st, sys.spawn<holder>(st)));
    for(auto& a : askers)
        a.tell(go{});

    // every holder waits at the gate while its asker waits for the reply:
    // 2n handlers blocked at once on one thread
    BOOST_TEST_REQUIRE(eventually([&] { return st->holders.entered() == n; }));
    BOOST_TEST(st->done.load() == 0);
    BOOST_TEST(sys.stats().fibers >= std::uint64_t(2 * n));

    st->holders.open();
    BOOST_TEST_REQUIRE(eventually([&] { return st->done.load() == n; }));

    // runners made for blocked handlers are not kept around
    BOOST_TEST_REQUIRE(eventually([&] { return sys.stats().fibers <= 8; }));
    BOOST_TEST(sys.stats().fibers >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(work_distribution)

BOOST_AUTO_TEST_CASE(actors_spawned_from_a_thread_run_on_both_workers)
{
    spindle::system sys(workers(2));
    auto st = std::make_shared<busy_state>();
    std::vector<spindle::actor_ref<busy>> actors;
    for(int i = 0; i < 16; ++i)
        actors.push_back(sys.spawn<busy>(st));
    for(int k = 0; k < 8; ++k)
        for(auto& a : actors)
            a.tell(work{});
    BOOST_TEST_REQUIRE(eventually([&] { return st->handled.load() == 16 * 8; }));
    BOOST_TEST(st->threads.count() == 2u);
}

BOOST_AUTO_TEST_CASE(idle_worker_steals_from_a_busy_one)
{
    spindle::system sys(workers(2));
    auto st = std::make_shared<busy_state>();
    auto sp = sys.spawn<spawner>(st);
    std::vector<spindle::actor_ref<busy>> actors;
    {
        watchdog wd("ask make_busy");
        actors = sp.ask(make_busy{16}).get();
    }
    BOOST_TEST_REQUIRE(actors.size() == 16u);

    // every actor lives on the spawner's worker: only stealing can put the
    // other worker to use
    for(int k = 0; k < 8; ++k)
        for(auto& a : actors)
            a.tell(work{});
    BOOST_TEST_REQUIRE(eventually([&] { return st->handled.load() == 16 * 8; }));
    BOOST_TEST(sys.stats().steals > 0u);
    BOOST_TEST(st->threads.count() == 2u);
}

BOOST_AUTO_TEST_CASE(idle_worker_steals_a_burst_of_single_messages)
{
    // Each actor gets one heavy message, so no actor is ever re-queued by
    // its worker: the other worker must notice the deep remote queue.
    spindle::system sys(workers(2));
    auto st = std::make_shared<busy_state>();
    st->cost = std::chrono::microseconds(5000);
    auto sp = sys.spawn<spawner>(st);
    std::vector<spindle::actor_ref<busy>> actors;
    {
        watchdog wd("ask make_busy");
        actors = sp.ask(make_busy{32}).get();
    }
    BOOST_TEST_REQUIRE(actors.size() == 32u);
    // let both workers go idle (and the other one to sleep)
    std::this_thread::sleep_for(50ms);
    for(auto& a : actors)
        a.tell(work{});
    BOOST_TEST_REQUIRE(eventually([&] { return st->handled.load() == 32; }));
    BOOST_TEST(sys.stats().steals > 0u);
    BOOST_TEST(st->threads.count() == 2u);
}

namespace {

struct poke
{
};
struct hold_thread
{
};

struct pokee : spindle::actor<pokee, poke>
{
    std::shared_ptr<std::atomic<bool>> answered;
    explicit pokee(std::shared_ptr<std::atomic<bool>> a) : answered(std::move(a)) {}
    void on(poke) { answered->store(true); }
};

/// Queues its partner behind itself, then blocks its OS thread (as a
/// handler calling a blocking library would) until the partner has run.
struct thread_blocker : spindle::actor<thread_blocker, hold_thread>
{
    std::shared_ptr<std::atomic<bool>> answered;
    std::shared_ptr<std::atomic<bool>> seen_while_blocked;
    thread_blocker(std::shared_ptr<std::atomic<bool>> a, std::shared_ptr<std::atomic<bool>> s)
        : answered(std::move(a)), seen_while_blocked(std::move(s))
    {
    }
    void on(hold_thread const&)
    {
        // spawned and told from here, the partner is queued on this worker
        // (the only actor there), whatever ran where before
        system().spawn<pokee>(answered).tell(poke{});
        auto const end = std::chrono::steady_clock::now() + failure_timeout;
        while(!answered->load() && std::chrono::steady_clock::now() < end)
            std::this_thread::sleep_for(1ms); // blocks the worker thread, not a fiber
        seen_while_blocked->store(answered->load());
        done.store(true);
    }
    static inline std::atomic<bool> done{false};
};

} // namespace

BOOST_AUTO_TEST_CASE(an_actor_queued_behind_a_thread_blocking_handler_is_taken_by_an_idle_worker)
{
    spindle::system sys(workers(2));
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto seen = std::make_shared<std::atomic<bool>>(false);
    auto blocker = sys.spawn<thread_blocker>(answered, seen);
    thread_blocker::done.store(false);
    blocker.tell(hold_thread{});
    // the partner is the single actor queued on a worker stuck in a handler:
    // the idle worker must take it, or it waits until the handler gives up
    // (after failure_timeout, when this check fails)
    BOOST_TEST_REQUIRE(eventually([&] { return thread_blocker::done.load(); }, 2 * failure_timeout));
    BOOST_TEST(seen->load(), "the partner ran only after the blocking handler gave up");
    BOOST_TEST(sys.stats().steals >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(counters)

BOOST_AUTO_TEST_CASE(messages_counts_every_handled_message)
{
    constexpr int threads = 4;
    constexpr int per_thread = 10000;
    constexpr int asks = 100;
    spindle::system sys(workers(2));
    auto handled = std::make_shared<std::atomic<int>>(0);
    std::vector<spindle::actor_ref<counting>> actors;
    for(int i = 0; i < 10; ++i)
        actors.push_back(sys.spawn<counting>(handled));

    std::vector<std::thread> senders;
    for(int t = 0; t < threads; ++t)
        senders.emplace_back([&, t] {
            for(int i = 0; i < per_thread; ++i)
                actors[std::size_t(i + t) % actors.size()].tell(ping{});
        });
    for(auto& t : senders)
        t.join();
    {
        watchdog wd("asks");
        for(int i = 0; i < asks; ++i)
            actors[std::size_t(i) % actors.size()].ask(query{}).get();
    }

    constexpr std::uint64_t total = threads * per_thread + asks;
    BOOST_TEST_REQUIRE(eventually([&] { return handled->load() == int(total); }));
    // the counters are published when an activation ends
    BOOST_TEST_REQUIRE(eventually([&] { return sys.stats().messages >= total; }));
    auto const s = sys.stats();
    BOOST_TEST(s.messages == total);
    BOOST_TEST(s.dead_letters == 0u);
    BOOST_TEST(s.activations >= 1u);
    // every activation was caused by a message or a start signal
    BOOST_TEST(s.activations <= s.messages + s.spawned);
}

BOOST_AUTO_TEST_CASE(one_activation_per_message_sent_to_an_idle_actor)
{
    spindle::system sys(workers(1));
    auto handled = std::make_shared<std::atomic<int>>(0);
    auto a = sys.spawn<counting>(handled);
    {
        watchdog wd("first ask");
        BOOST_TEST(a.ask(query{}).get() == 1);
    }
    BOOST_TEST_REQUIRE(eventually([&] { return sys.stats().messages == 1; }));
    auto const a0 = sys.stats().activations;

    for(int i = 2; i <= 11; ++i)
    {
        watchdog wd("ask");
        BOOST_TEST(a.ask(query{}).get() == i);
        // wait until the activation ended, so the next message finds the
        // actor idle and needs an activation of its own
        BOOST_TEST_REQUIRE(eventually([&] { return sys.stats().messages == std::uint64_t(i); }));
    }
    BOOST_TEST(sys.stats().activations - a0 == 10u);
    BOOST_TEST(sys.stats().messages == 11u);
}

BOOST_AUTO_TEST_SUITE_END()
