//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/chaos.hpp>

#include <boost/test/unit_test.hpp>

#include <spindle/detail/chaos_hooks.hpp>
#include <spindle/event_stream.hpp>
#include <spindle/executor.hpp>
#include <spindle/introspection.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/stream.hpp>
#include <spindle/supervisor.hpp>
#include <spindle/system.hpp>

#include <boost/json/parse.hpp>

#include "support.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace chaos = spindle::chaos;

namespace {

struct counts
{
    std::uint64_t delayed = 0, errors = 0, crashes = 0, none = 0;
};

counts draw(chaos::controller& c, chaos::site s, std::string_view name, int n)
{
    counts k;
    for(int i = 0; i < n; ++i)
    {
        auto const d = c.decide(s, name);
        k.delayed += d.delay > 0ns;
        k.errors += d.error;
        k.crashes += d.crash;
        k.none += !d;
    }
    return k;
}

chaos::rule db_rule()
{
    chaos::rule r;
    r.name = "db";
    r.pattern = "db.*";
    r.sites = static_cast<unsigned>(chaos::site::task);
    r.latency.probability = 0.3;
    r.latency.value = 1ms;
    r.error_probability = 0.1;
    r.crash_probability = 0.05;
    return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(probabilities_hold_on_a_seed)
{
    chaos::controller c(42);
    c.set_rules({db_rule()});
    // off until enabled
    BOOST_TEST(draw(c, chaos::site::task, "db.query", 1000).none == 1000u);
    c.enable(true);
    int const n = 100000;
    auto const k = draw(c, chaos::site::task, "db.query", n);
    // binomial standard deviations: 145, 95 and 67 calls
    BOOST_TEST(std::abs(static_cast<double>(k.delayed) - 0.3 * n) < 1000);
    BOOST_TEST(std::abs(static_cast<double>(k.errors) - 0.1 * n) < 600);
    // a crash is drawn only when no error was: 0.9 * 0.05
    BOOST_TEST(std::abs(static_cast<double>(k.crashes) - 0.045 * n) < 450);
    auto const st = c.stats();
    BOOST_TEST_REQUIRE(st.size() == 1u);
    BOOST_TEST(st[0].matched == static_cast<std::uint64_t>(n));
    BOOST_TEST(st[0].errors == k.errors);
    // neither another name nor another site matches
    BOOST_TEST(draw(c, chaos::site::task, "cache.get", 1000).none == 1000u);
    BOOST_TEST(draw(c, chaos::site::handler, "db.query", 1000).none == 1000u);

    // the same seed, the same faults; another seed, others
    chaos::controller same(42), other(43);
    for(auto* x : {&same, &other})
    {
        x->set_rules({db_rule()});
        x->enable(true);
    }
    auto const a = draw(same, chaos::site::task, "db.query", n);
    auto const b = draw(other, chaos::site::task, "db.query", n);
    BOOST_TEST(a.delayed == k.delayed);
    BOOST_TEST(a.errors == k.errors);
    BOOST_TEST(a.crashes == k.crashes);
    BOOST_TEST((b.delayed != k.delayed || b.errors != k.errors));
}

BOOST_AUTO_TEST_CASE(the_count_of_faults_does_not_depend_on_threads)
{
    chaos::controller one(7), four(7);
    for(auto* c : {&one, &four})
    {
        c->set_rules({db_rule()});
        c->enable(true);
    }
    auto const k = draw(one, chaos::site::task, "db.x", 40000);
    std::vector<std::thread> ts;
    for(int t = 0; t < 4; ++t)
        ts.emplace_back([&] { draw(four, chaos::site::task, "db.x", 10000); });
    for(auto& t : ts)
        t.join();
    auto const st = four.stats();
    BOOST_TEST(st[0].delayed == k.delayed);
    BOOST_TEST(st[0].errors == k.errors);
    BOOST_TEST(st[0].crashes == k.crashes);
}

BOOST_AUTO_TEST_CASE(latency_distributions)
{
    chaos::controller c(5);
    chaos::rule r;
    r.latency.probability = 1;
    r.latency.dist = chaos::distribution::exponential;
    r.latency.value = 1ms;
    c.set_rules({r});
    c.enable(true);
    double sum = 0;
    int const n = 50000;
    for(int i = 0; i < n; ++i)
        sum += static_cast<double>(c.decide(chaos::site::tool, "t").delay.count());
    BOOST_TEST(std::abs(sum / n - 1e6) < 0.03e6); // the mean, within 3 %

    r.latency.dist = chaos::distribution::uniform;
    r.latency.value = 2ms;
    r.latency.max = 4ms;
    c.set_rules({r});
    for(int i = 0; i < 1000; ++i)
    {
        auto const d = c.decide(chaos::site::tool, "t").delay;
        BOOST_TEST((d >= 2ms && d <= 4ms));
    }
}

BOOST_AUTO_TEST_CASE(bad_rules_are_refused_naming_the_field)
{
    chaos::controller c;
    chaos::rule r;
    r.crash_probability = 1.5;
    BOOST_CHECK_EXCEPTION(c.set_rules({chaos::rule{}, r}), std::invalid_argument, [](auto const& e) {
        return std::string(e.what()) == "rules[1].crash: a probability must be in [0, 1]";
    });
    std::string problem;
    BOOST_TEST(!c.update(boost::json::parse(R"({"rules": [{"latency": {"ms": 5, "distribution": "gamma"}}]})"), problem));
    BOOST_TEST(problem == "rules[0].latency.distribution: must be fixed, uniform or exponential");
    BOOST_TEST(!c.update(boost::json::parse(R"({"enabled": true, "rules": [{"sites": ["actor"]}]})"), problem));
    BOOST_TEST(problem.rfind("rules[0].sites:", 0) == 0u);
    BOOST_TEST(!c.enabled()); // nothing changed
    BOOST_TEST(c.update(boost::json::parse(R"({"enabled": true, "seed": 9, "rules": [
        {"name": "slow tool", "pattern": "calc*", "sites": ["tool"], "latency": {"ms": 50}},
        {"pattern": "*", "error": {"probability": 0.5, "code": "connection_refused"}}]})"), problem), problem);
    BOOST_TEST(c.enabled());
    BOOST_TEST(c.seed() == 9u);
    auto const j = c.to_json();
    BOOST_TEST(j.at("rules").at(0).at("name").as_string() == "slow tool");
    BOOST_TEST(j.at("rules").at(0).at("latency").at("probability").as_double() == 1.0);
    BOOST_TEST(j.at("rules").at(1).at("name").as_string() == "rule#2");
    BOOST_TEST(j.at("rules").at(1).at("error").at("code").as_string() == "connection_refused");
    BOOST_TEST(c.decide(chaos::site::tool, "calculator").delay == 50ms);
}

BOOST_AUTO_TEST_CASE(wrapped_tasks_fail_as_injected)
{
    spindle::system sys(spindle_test::workers(2));
    spindle::executor ex(sys);
    chaos::controller c(3);
    chaos::rule r;
    r.pattern = "flaky";
    r.error_probability = 1;
    c.set_rules({r});
    c.enable(true);
    auto h = ex.submit(chaos::wrap(c, chaos::site::task, "flaky", [] { return 1; }));
    auto res = h.result();
    BOOST_TEST(!res.has_value());
    auto ok = ex.submit(chaos::wrap(c, chaos::site::task, "steady", [](std::stop_token) { return 2; }));
    BOOST_TEST(ok.get() == 2);
    BOOST_TEST(c.stats()[0].errors == 1u);
}

namespace {

struct work
{
    int n;
};
struct ping
{
};

struct chaos_worker : spindle::actor<chaos_worker, work, ping>
{
    std::shared_ptr<std::atomic<int>> handled;
    explicit chaos_worker(std::shared_ptr<std::atomic<int>> h) : handled(std::move(h)) {}
    void on(work const&) { handled->fetch_add(1); }
    int on(ping) { return 1; }
};

} // namespace

BOOST_AUTO_TEST_CASE(crashes_restart_every_actor_once_per_injection)
{
    spindle::system sys(spindle_test::workers(2));
    auto restarts = std::make_shared<std::atomic<int>>(0);
    sys.events().subscribe(spindle::event_filter::of({spindle::event_type::actor_restarted}),
        [restarts](spindle::event const&) { restarts->fetch_add(1); });
    auto handled = std::make_shared<std::atomic<int>>(0);

    spindle::supervisor_spec spec;
    spec.intensity.max_restarts = 100000; // chaos, not a real fault: never give up
    spec.intensity.window = 1s;
    int const children = 4;
    for(int i = 0; i < children; ++i)
        spec.children.push_back(spindle::child_spec::of<chaos_worker>(handled).named("w" + std::to_string(i)));
    spindle::supervisor_ref sup(sys.spawn<spindle::supervisor>(spec));
    sup.count_children(); // answered after the supervisor's pre_start: the children exist
    std::vector<spindle::actor_ref<chaos_worker>> ws;
    for(int i = 0; i < children; ++i)
        ws.push_back(sys.lookup<chaos_worker>("w" + std::to_string(i)));

    chaos::controller c(2026);
    chaos::rule r;
    r.pattern = "chaos_worker";
    r.sites = static_cast<unsigned>(chaos::site::handler);
    r.crash_probability = 0.05;
    c.set_rules({r});
    c.enable(true);
    chaos::install(c);

    int const per_actor = 500;
    for(int i = 0; i < per_actor; ++i)
        for(auto& w : ws)
            w.tell(work{i});
    // every message is either handled or crashed its handler
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] {
        return handled->load() + static_cast<int>(c.stats()[0].crashes) == per_actor * children;
    }));
    auto const crashes = c.stats()[0].crashes;
    BOOST_TEST(crashes > 50u);  // 5 % of 2,000, about 100
    BOOST_TEST(crashes < 200u);
    c.enable(false);
    // every crash was one restart, and every actor is alive and answers
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return restarts->load() == static_cast<int>(crashes); }));
    for(auto& w : ws)
        BOOST_TEST(w.ask(ping{}, 10s).get() == 1);
    auto const tree = spindle::inspect(sys);
    std::uint32_t counted = 0;
    std::function<void(spindle::actor_info const&)> walk = [&](spindle::actor_info const& n) {
        if(n.actor_type.find("chaos_worker") != std::string::npos)
        {
            BOOST_TEST((n.state == spindle::actor_state::running));
            counted += n.restarts;
        }
        for(auto const& ch : n.children)
            walk(ch);
    };
    walk(tree);
    BOOST_TEST(counted == crashes);
    chaos::uninstall(c);
    BOOST_TEST(spindle::detail::chaos_hooks_table.load() == nullptr);
}

BOOST_AUTO_TEST_CASE(wrapped_stream_stages_fail_as_injected)
{
    spindle::system sys(spindle_test::workers(2));
    chaos::controller c(11);
    chaos::rule r;
    r.pattern = "parse";
    r.sites = static_cast<unsigned>(chaos::site::stream);
    r.error_probability = 0.2;
    c.set_rules({r});
    c.enable(true);
    std::vector<int> in(500);
    std::iota(in.begin(), in.end(), 0);

    // skipped: every injected error is one item counted as an error, the
    // others come through transformed
    spindle::stage_options skip;
    skip.name = "parse";
    skip.on_error = spindle::error_action::skip;
    auto h = spindle::from_range(in)
                 .map(chaos::wrap(c, chaos::site::stream, "parse", [](int n) { return n * 2; }), skip)
                 .collect()
                 .run(sys);
    auto const out = h.get();
    auto const injected = c.stats()[0].errors;
    BOOST_TEST(injected > 50u); // 20 % of 500, about 100
    BOOST_TEST(injected < 150u);
    BOOST_TEST(out.size() + injected == in.size());
    BOOST_TEST(h.stats().errors == injected);
    for(int v : out)
        BOOST_TEST(v % 2 == 0);

    // the default (stop): the stream fails, naming the stage
    r.error_probability = 1;
    c.set_rules({r});
    spindle::stage_options stop;
    stop.name = "parse";
    auto f = spindle::from_range(in)
                 .map(chaos::wrap(c, chaos::site::stream, "parse", [](int n) { return n; }), stop)
                 .collect()
                 .run(sys);
    BOOST_CHECK_THROW(f.get(), std::exception);
    BOOST_TEST(f.failed_stage() == "parse");
    BOOST_TEST(c.stats()[0].errors == 1u); // the first item failed it
}

namespace {

struct stamp
{
};

// Records the clock's time when its handler runs.
struct stamper : spindle::actor<stamper, stamp>
{
    std::shared_ptr<spindle::manual_clock> clock;
    std::shared_ptr<std::atomic<std::int64_t>> at;
    stamper(std::shared_ptr<spindle::manual_clock> c, std::shared_ptr<std::atomic<std::int64_t>> a)
        : clock(std::move(c)), at(std::move(a))
    {
    }
    void on(stamp) { at->store(clock->now().time_since_epoch().count()); }
};

} // namespace

BOOST_AUTO_TEST_CASE(a_mailbox_delay_holds_the_message_before_its_handler)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    chaos::controller c(7);
    chaos::rule r;
    r.pattern = "stamper";
    r.sites = static_cast<unsigned>(chaos::site::handler);
    r.mailbox_delay_probability = 1;
    r.mailbox_delay = 1s;
    c.set_rules({r});
    c.enable(true);
    chaos::install(c);
    struct uninstall_at_end
    {
        chaos::controller& c;
        ~uninstall_at_end() { chaos::uninstall(c); }
    } guard{c};

    constexpr std::int64_t unset = -1;
    auto at = std::make_shared<std::atomic<std::int64_t>>(unset);
    auto a = sys.spawn<stamper>(clock, at);
    auto const t0 = clock->now().time_since_epoch().count();
    BOOST_TEST(a.tell(stamp{}) == spindle::send_status::ok);
    // the system's clock moves in steps of 50 ms until the handler has run
    for(int i = 0; i < 100000 && at->load() == unset; ++i)
    {
        clock->advance(50ms);
        std::this_thread::sleep_for(1ms);
    }
    BOOST_REQUIRE(at->load() != unset);
    BOOST_TEST(std::chrono::nanoseconds(at->load() - t0) >= 1s); // not before the delay
    BOOST_TEST(c.stats()[0].mailbox_delays == 1u);
    BOOST_TEST(c.stats()[0].errors == 0u);
    a.stop();
}
