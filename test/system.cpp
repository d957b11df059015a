//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle::system as a user relies on it: many actors come and go without a
// leak, systems are independent and re-creatable, options are validated,
// a stopped system refuses work, the counters tell the truth and the
// destructor shuts down.

#include <spindle/system.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/manual_clock.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

struct ping {};
struct get {};
struct boom {};
struct block {};

// Live behaviour objects and lifecycle hooks, per test.
struct life
{
    std::atomic<long> alive{0};
    std::atomic<long> constructed{0};
    std::atomic<long> pre_starts{0};
    std::atomic<long> post_stops{0};
    std::atomic<long> handled{0};
};

struct tracked : spindle::actor<tracked, ping, get, boom>
{
    std::shared_ptr<life> l;
    int seen = 0;

    explicit tracked(std::shared_ptr<life> p) : l(std::move(p))
    {
        l->alive.fetch_add(1);
        l->constructed.fetch_add(1);
    }
    ~tracked() override { l->alive.fetch_sub(1); }

    void pre_start() override { l->pre_starts.fetch_add(1); }
    void post_stop() override { l->post_stops.fetch_add(1); }

    void on(ping)
    {
        ++seen;
        l->handled.fetch_add(1);
    }
    int on(get)
    {
        l->handled.fetch_add(1);
        return seen;
    }
    void on(boom)
    {
        l->handled.fetch_add(1);
        throw std::runtime_error("boom");
    }
};

// Blocks in its handler until the test opens the gate.
struct gated : spindle::actor<gated, block, ping>
{
    std::shared_ptr<gate> gate_;
    explicit gated(std::shared_ptr<gate> g) : gate_(std::move(g)) {}
    void on(block) { gate_->pass(); }
    void on(ping) {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(hundred_thousand_actors_spawned_and_stopped_leave_nothing)
{
    constexpr long n = 100000;
    auto l = std::make_shared<life>();
    spindle::system sys(workers(2));
    {
        std::vector<spindle::actor_ref<tracked>> refs;
        refs.reserve(n);
        for(long i = 0; i < n; ++i)
            refs.push_back(sys.spawn<tracked>(l));
        BOOST_TEST(sys.stats().spawned == std::uint64_t(n));
        BOOST_TEST(l->constructed.load() == n);

        for(auto& r : refs)
            r.stop();
        BOOST_TEST_REQUIRE(eventually([&] { return sys.actor_count() == 0; }));
        std::size_t alive_refs = 0;
        for(auto& r : refs)
            alive_refs += r.alive();
        BOOST_TEST(alive_refs == 0u);
    }
    BOOST_TEST_REQUIRE(eventually([&] { return l->alive.load() == 0; }));
    auto const s = sys.stats();
    BOOST_TEST(s.spawned == std::uint64_t(n));
    BOOST_TEST(s.actors == 0u);
    BOOST_TEST(l->post_stops.load() == n);
    BOOST_TEST(sys.shutdown(10s).clean());
}

BOOST_AUTO_TEST_CASE(post_stop_pairs_with_pre_start_when_stopped_before_starting)
{
    // Users acquire in pre_start and release in post_stop; a stop that
    // overtakes the start must not run one without the other.
    constexpr long n = 2000;
    auto l = std::make_shared<life>();
    spindle::system sys(workers(2));
    for(long i = 0; i < n; ++i)
        sys.spawn<tracked>(l).stop();
    BOOST_TEST_REQUIRE(eventually([&] { return sys.actor_count() == 0 && l->alive.load() == 0; }));
    BOOST_TEST(l->post_stops.load() == l->pre_starts.load());
}

BOOST_AUTO_TEST_CASE(destructor_shuts_down)
{
    auto l = std::make_shared<life>();
    spindle::actor_ref<tracked> outlives;
    {
        spindle::system sys(workers(2));
        outlives = sys.spawn<tracked>(l);
        for(int i = 0; i < 10; ++i)
            sys.spawn<tracked>(l);
        watchdog wd("ask get");
        BOOST_TEST(outlives.ask(get{}).get() == 0);
        BOOST_TEST(outlives.alive());
    }
    // everything stopped (post_stop ran) and was destroyed by ~system
    BOOST_TEST(l->post_stops.load() == 11);
    BOOST_TEST(l->alive.load() == 0);
    BOOST_TEST(!outlives.alive());
    // a reference that outlives its system is still safe to use
    BOOST_TEST(outlives.tell(ping{}) == spindle::send_status::stopped);
    boost::system::error_code ec;
    {
        watchdog wd("ask after the system is gone");
        outlives.ask(get{}).get(ec);
    }
    BOOST_TEST(!!ec);
}

BOOST_AUTO_TEST_CASE(destroyed_system_releases_its_hooks_and_clock)
{
    // What a system holds (hooks, the manual clock) is released by its
    // destructor, whatever names its actors had: a system that lives on
    // after ~system leaks all its memory.
    enum class naming
    {
        none,
        spawn_name,
        register_name,
        register_name_then_stop
    };
    for(auto how : {naming::none, naming::spawn_name, naming::register_name, naming::register_name_then_stop})
    {
        BOOST_TEST_CONTEXT("naming " << int(how))
        {
            auto l = std::make_shared<life>();
            auto sentinel = std::make_shared<int>(0);
            auto clock = std::make_shared<spindle::manual_clock>();
            {
                spindle::system sys(manual_clock_options(1, clock));
                sys.on_dead_letter([sentinel](spindle::dead_letter const&) {});
                sys.on_failure([sentinel](spindle::actor_failure const&) {});
                spindle::spawn_options so;
                if(how == naming::spawn_name)
                    so.name = "spawned-as";
                auto a = sys.spawn_with<tracked>(so, l);
                if(how == naming::register_name || how == naming::register_name_then_stop)
                    sys.register_name("alias", a);
                if(how == naming::register_name_then_stop)
                {
                    a.stop();
                    BOOST_TEST_REQUIRE(eventually([&] { return !a.alive(); }));
                }
                BOOST_TEST(sys.shutdown(10s).clean());
            }
            BOOST_TEST(l->alive.load() == 0);
            BOOST_TEST(sentinel.use_count() == 1);
            BOOST_TEST(clock.use_count() == 1);
        }
    }
}

BOOST_AUTO_TEST_CASE(two_systems_at_once_do_not_interfere)
{
    auto l1 = std::make_shared<life>();
    auto l2 = std::make_shared<life>();
    auto sys1 = std::make_unique<spindle::system>(workers(2));
    spindle::system sys2(workers(1));

    spindle::spawn_options named;
    named.name = "same-name"; // names are per system
    auto a1 = sys1->spawn_with<tracked>(named, l1);
    auto a2 = sys2.spawn_with<tracked>(named, l2);
    for(int i = 0; i < 5; ++i)
        sys1->spawn<tracked>(l1);

    for(int i = 0; i < 100; ++i)
    {
        a1.tell(ping{});
        a2.tell(ping{});
        a2.tell(ping{});
    }
    {
        watchdog wd("asks");
        BOOST_TEST(a1.ask(get{}).get() == 100);
        BOOST_TEST(a2.ask(get{}).get() == 200);
    }
    BOOST_TEST(sys1->actor_count() == 6u);
    BOOST_TEST(sys2.actor_count() == 1u);
    BOOST_TEST(sys1->stats().spawned == 6u);
    BOOST_TEST(sys2.stats().spawned == 1u);
    BOOST_TEST(sys1->lookup<tracked>("same-name") == a1);
    BOOST_TEST(sys2.lookup<tracked>("same-name") == a2);

    // the first one going away leaves the second untouched
    auto const rep = sys1->shutdown(10s);
    BOOST_TEST(rep.clean());
    BOOST_TEST(rep.stopped == 6u);
    sys1.reset();
    BOOST_TEST(l1->alive.load() == 0);
    BOOST_TEST(!a1.alive());
    BOOST_TEST(a2.alive());
    BOOST_TEST(!sys2.stopping());
    for(int i = 0; i < 100; ++i)
        a2.tell(ping{});
    {
        watchdog wd("ask after the other system stopped");
        BOOST_TEST(a2.ask(get{}).get() == 300);
    }
    BOOST_TEST(sys2.spawn<tracked>(l2).alive());
    BOOST_TEST(sys2.actor_count() == 2u);
}

BOOST_AUTO_TEST_CASE(system_can_be_created_again_after_shutdown)
{
    auto l = std::make_shared<life>();
    for(int round = 0; round < 20; ++round)
    {
        BOOST_TEST_CONTEXT("round " << round)
        {
            spindle::system sys(workers(2));
            auto a = sys.spawn<tracked>(l);
            for(int i = 0; i < 10; ++i)
                a.tell(ping{});
            {
                watchdog wd("ask");
                BOOST_TEST(a.ask(get{}).get() == 10);
            }
            auto const rep = sys.shutdown(10s);
            BOOST_TEST(rep.clean());
            BOOST_TEST(rep.stopped == 1u);
            BOOST_TEST(sys.actor_count() == 0u);
        }
        BOOST_TEST(l->alive.load() == 0);
    }
    BOOST_TEST(l->constructed.load() == 20);
    BOOST_TEST(l->post_stops.load() == 20);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(options)

BOOST_AUTO_TEST_CASE(one_worker_thread_works)
{
    auto l = std::make_shared<life>();
    spindle::system sys(workers(1));
    BOOST_TEST(sys.options().worker_threads == 1u);
    auto a = sys.spawn<tracked>(l);
    a.tell(ping{});
    watchdog wd("ask");
    BOOST_TEST(a.ask(get{}).get() == 1);
}

BOOST_AUTO_TEST_CASE(zero_worker_threads_means_one_per_hardware_thread)
{
    spindle::system sys(workers(0));
    BOOST_TEST(sys.options().worker_threads == std::max(1u, std::thread::hardware_concurrency()));
}

BOOST_AUTO_TEST_CASE(bad_options_throw_invalid_argument)
{
    auto const invalid = has_code(spindle::error::invalid_argument);
    {
        spindle::system_options o;
        o.throughput = 0;
        BOOST_CHECK_EXCEPTION(spindle::system{o}, spindle::system_error, invalid);
    }
    {
        spindle::system_options o;
        o.stack_size = 0;
        BOOST_CHECK_EXCEPTION(spindle::system{o}, spindle::system_error, invalid);
    }
    {
        spindle::system_options o;
        o.worker_threads = 1000000;
        BOOST_CHECK_EXCEPTION(spindle::system{o}, spindle::system_error, invalid);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stopped_system)

BOOST_AUTO_TEST_CASE(spawn_after_shutdown_fails_with_system_stopped)
{
    auto l = std::make_shared<life>();
    spindle::system sys(workers(1));
    BOOST_TEST(sys.shutdown(10s).clean());
    BOOST_TEST(sys.stopping());

    BOOST_CHECK_EXCEPTION(sys.spawn<tracked>(l), spindle::system_error, has_code(spindle::error::system_stopped));

    boost::system::error_code ec;
    auto r = sys.spawn_with<tracked>(spindle::spawn_options{}, ec, l);
    BOOST_TEST(ec == make_error_code(spindle::error::system_stopped));
    BOOST_TEST(!r);
    BOOST_TEST(l->constructed.load() == 0); // no behaviour was even built
    BOOST_TEST(sys.actor_count() == 0u);
    BOOST_TEST(sys.stats().spawned == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(statistics)

BOOST_AUTO_TEST_CASE(stats_fields_count_what_happened)
{
    auto l = std::make_shared<life>();
    spindle::system sys(workers(2));
    BOOST_TEST((sys.options().on_failure == spindle::directive::restart));

    auto letter_log = record_dead_letters(sys);
    auto failure_log = record_failures(sys);

    auto const s0 = sys.stats();
    BOOST_TEST(s0.spawned == 0u);
    BOOST_TEST(s0.actors == 0u);
    BOOST_TEST(s0.messages == 0u);
    BOOST_TEST(s0.dead_letters == 0u);
    BOOST_TEST(s0.dropped == 0u);
    BOOST_TEST(s0.failures == 0u);
    BOOST_TEST(s0.restarts == 0u);

    auto a = sys.spawn<tracked>(l);
    auto b = sys.spawn<tracked>(l);
    for(int i = 0; i < 5; ++i)
        a.tell(ping{});
    {
        watchdog wd("ask");
        BOOST_TEST(a.ask(get{}).get() == 5);
    }

    // a failure restarts the actor with a fresh object; the message is not redelivered
    a.tell(boom{});
    {
        watchdog wd("ask after failure");
        BOOST_TEST(a.ask(get{}).get() == 0);
    }
    BOOST_TEST(l->constructed.load() == 3);
    {
        auto const failures = failure_log->snapshot();
        BOOST_TEST_REQUIRE(failures.size() == 1u);
        BOOST_TEST(failures[0].actor == a.id());
        BOOST_TEST((*failures[0].actor_type == typeid(tracked)));
        BOOST_TEST(failures[0].what.find("boom") != std::string::npos);
        BOOST_TEST((failures[0].action == spindle::directive::restart));
    }

    // a message to a stopped actor is a dead letter
    b.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !b.alive(); }));
    BOOST_TEST(b.tell(ping{}) == spindle::send_status::stopped);

    // a bounded mailbox under drop_newest drops (and counts) the overflow
    scoped_gate gate;
    auto g = sys.spawn_with<gated>(bounded(2, spindle::overflow_policy::drop_newest), gate.g);
    g.tell(block{});
    BOOST_TEST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
    BOOST_TEST(g.tell(ping{}) == spindle::send_status::ok);
    BOOST_TEST(g.tell(ping{}) == spindle::send_status::ok);
    BOOST_TEST(g.tell(ping{}) == spindle::send_status::dropped);
    BOOST_TEST(g.mailbox_depth() == 2u);
    gate->open();

    // messages: 5 pings + get + boom + get + block + 2 pings
    BOOST_TEST_REQUIRE(eventually([&] { return sys.stats().messages >= 11; }));
    auto const s = sys.stats();
    BOOST_TEST(s.spawned == 3u);
    BOOST_TEST(s.actors == 2u);
    BOOST_TEST(sys.actor_count() == 2u);
    BOOST_TEST(s.messages == 11u);
    BOOST_TEST(s.failures == 1u);
    BOOST_TEST(s.restarts == 1u);
    BOOST_TEST(s.dead_letters == 3u); // boom (handler_failed), the ping to b, the dropped ping
    BOOST_TEST(s.dropped == 1u);
    BOOST_TEST(s.activations >= 1u);
    BOOST_TEST(s.fibers >= 1u);

    auto const letters = letter_log->snapshot();
    BOOST_TEST_REQUIRE(letters.size() == 3u);
    BOOST_TEST(letters[0].receiver == a.id());
    BOOST_TEST((*letters[0].message_type == typeid(boom)));
    BOOST_TEST((letters[0].reason == spindle::error::handler_failed));
    BOOST_TEST(letters[1].receiver == b.id());
    BOOST_TEST((*letters[1].message_type == typeid(ping)));
    BOOST_TEST((letters[1].reason == spindle::error::actor_stopped));
    BOOST_TEST(letters[2].receiver == g.id());
    BOOST_TEST((letters[2].reason == spindle::error::message_dropped));
}

BOOST_AUTO_TEST_SUITE_END()
