//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Messages handled by actor type and message type: spindle::message_counts
// and the series spindle_actor_messages_total{actor,message}.

#include <spindle/introspection.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/metrics.hpp>
#include <spindle/supervisor.hpp>
#include <spindle/system.hpp>

#include <boost/core/demangle.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

using namespace spindle_test;

namespace mc_test {

constexpr int tick_types = 20;

/// Twenty message types, more than a worker's first table holds before it grows.
template<int I>
struct tick
{
};
struct total
{
};
struct flush
{
};

/** Counts ticks of every type. Its demangled name has `::`, `<>`, commas
    and spaces, which the Prometheus label must carry as they are.
*/
template<class Seq>
struct sink_t;

template<int... Is>
struct sink_t<std::integer_sequence<int, Is...>>
    : spindle::actor<sink_t<std::integer_sequence<int, Is...>>, tick<Is>..., total>
{
    std::uint64_t n = 0;
    template<int I>
    void on(tick<I>)
    {
        ++n;
    }
    std::uint64_t on(total) { return n; }
};

using sink = sink_t<std::make_integer_sequence<int, tick_types>>;

/// Sends tick<k> (k known at run time) to `to`.
void send_tick(spindle::actor_ref<sink> const& to, int k)
{
    [&]<int... Is>(std::integer_sequence<int, Is...>) {
        ((k == Is ? (void)to.tell(tick<Is>{}) : void()), ...);
    }(std::make_integer_sequence<int, tick_types>{});
}

/// Tells `n` ticks of type `k` to each sink, from a worker.
struct fire
{
    std::vector<spindle::actor_ref<sink>> to;
    int k;
    int n;
};

struct sender : spindle::actor<sender, fire, flush>
{
    void on(fire const& f)
    {
        for(auto const& s : f.to)
            for(int i = 0; i < f.n; ++i)
                send_tick(s, f.k);
    }
    void on(flush) {}
};

template<class T>
std::string name_of()
{
    return boost::core::demangle(typeid(T).name());
}

template<int K>
std::pair<std::string, std::string> sink_tick()
{
    return {name_of<sink>(), name_of<tick<K>>()};
}

using count_map = std::map<std::pair<std::string, std::string>, std::uint64_t>;

count_map counts(spindle::system const& sys)
{
    count_map m;
    for(auto const& c : spindle::message_counts(sys))
    {
        BOOST_TEST((m.count({c.actor_type, c.message_type}) == 0u)); // one entry per pair
        m[{c.actor_type, c.message_type}] = c.count;
    }
    return m;
}

std::uint64_t sum(count_map const& m)
{
    std::uint64_t n = 0;
    for(auto const& [k, v] : m)
        n += v;
    return n;
}

/// Every count in `later` is at least the one in `earlier`, and no pair disappeared.
bool never_decreased(count_map const& earlier, count_map const& later)
{
    for(auto const& [k, v] : earlier)
    {
        auto const it = later.find(k);
        if(it == later.end() || it->second < v)
            return false;
    }
    return true;
}

std::vector<spindle::metrics::sample> family(spindle::system& sys, std::string const& name)
{
    for(auto const& f : sys.metrics().snapshot())
        if(f.name == name)
            return f.samples;
    return {};
}

std::string label(spindle::metrics::sample const& s, std::string const& name)
{
    for(auto const& [k, v] : s.labels)
        if(k == name)
            return v;
    return {};
}

} // namespace mc_test

using namespace mc_test;

BOOST_AUTO_TEST_CASE(exact_counts_by_actor_and_message_type)
{
    spindle::system sys(workers(2));
    BOOST_TEST(spindle::message_counts(sys).empty());

    std::vector<spindle::actor_ref<sink>> sinks{sys.spawn<sink>(), sys.spawn<sink>()};
    std::vector<spindle::actor_ref<sender>> senders{sys.spawn<sender>(), sys.spawn<sender>(), sys.spawn<sender>()};

    // from this thread: 100 tick<0> to each sink; from each sender (on the
    // workers): 50 tick<1> to each sink
    for(auto const& s : sinks)
        for(int i = 0; i < 100; ++i)
            s.tell(tick<0>{});
    for(auto const& p : senders)
        p.tell(fire{sinks, 1, 50});
    // a sender's ticks are queued before its flush reply; the sinks' totals
    // are asked after that, so they come after every tick
    for(auto const& p : senders)
        p.ask(flush{}).get();
    for(auto const& s : sinks)
        BOOST_TEST(s.ask(total{}).get() == 100u + 3u * 50u);

    auto first = counts(sys);
    count_map expected{
        {sink_tick<0>(), 200},
        {sink_tick<1>(), 300},
        {{name_of<sink>(), name_of<total>()}, 2},
        {{name_of<sender>(), name_of<fire>()}, 3},
        {{name_of<sender>(), name_of<flush>()}, 3},
    };
    BOOST_TEST(first == expected);
    BOOST_TEST(name_of<sender>() == "mc_test::sender");
    BOOST_TEST(name_of<fire>() == "mc_test::fire");

    // types first seen after a scrape: the workers' tables grow (twenty
    // tick types, a sender and a sink type on each)
    for(int k = 2; k < tick_types; ++k)
    {
        for(auto const& p : senders)
            p.tell(fire{sinks, k, k});
        if(k % 5 == 0)
        {
            auto const mid = counts(sys);
            BOOST_TEST(never_decreased(first, mid));
            first = mid;
        }
    }
    for(auto const& p : senders)
        p.ask(flush{}).get();
    for(auto const& s : sinks)
        s.ask(total{}).get();

    auto const second = counts(sys);
    BOOST_TEST(never_decreased(first, second));
    BOOST_TEST(second.size() == std::size_t(tick_types + 3));
    std::uint64_t ticks = 0;
    [&]<int... Is>(std::integer_sequence<int, Is...>) {
        ((ticks += second.at(sink_tick<Is>())), ...);
    }(std::make_integer_sequence<int, tick_types>{});
    BOOST_TEST(second.at(sink_tick<7>()) == 3u * 2u * 7u);
    BOOST_TEST(second.at(sink_tick<19>()) == 3u * 2u * 19u);
    BOOST_TEST(ticks == 500u + 3u * 2u * (2u + 19u) * 18u / 2u);
    BOOST_TEST(second.at({name_of<sender>(), name_of<fire>()}) == 3u + 3u * 18u);
    BOOST_TEST(second.at({name_of<sink>(), name_of<total>()}) == 4u);

    // the same as the per-worker total, once the workers have added theirs
    BOOST_TEST(eventually([&] { return sys.stats().messages == sum(second); }));
}

BOOST_AUTO_TEST_CASE(the_series_by_type_and_by_worker)
{
    spindle::system sys(workers(2));
    auto s = sys.spawn<sink>();
    auto p = sys.spawn<sender>();
    p.tell(fire{{s}, 3, 40});
    p.ask(flush{}).get();
    BOOST_TEST(s.ask(total{}).get() == 40u);

    auto const by_type = family(sys, "spindle_actor_messages_total");
    std::map<std::pair<std::string, std::string>, double> got;
    for(auto const& x : by_type)
    {
        BOOST_TEST(x.labels.size() == 2u);
        got[{label(x, "actor"), label(x, "message")}] = x.value;
    }
    std::map<std::pair<std::string, std::string>, double> const want{
        {sink_tick<3>(), 40.0},
        {{name_of<sink>(), name_of<total>()}, 1.0},
        {{name_of<sender>(), name_of<fire>()}, 1.0},
        {{name_of<sender>(), name_of<flush>()}, 1.0},
    };
    BOOST_TEST(got == want);

    // the per-worker series, renamed: one per worker, the same total
    BOOST_TEST(eventually([&] {
        double n = 0;
        auto const per_worker = family(sys, "spindle_worker_messages_total");
        for(auto const& x : per_worker)
            n += x.value;
        return per_worker.size() == 2u && n == 43.0;
    }));
    for(auto const& x : family(sys, "spindle_worker_messages_total"))
        BOOST_TEST((label(x, "worker") == "0" || label(x, "worker") == "1"));
}

namespace mc_test {

struct crash
{
};
struct watch
{
    spindle::basic_actor_ref target;
};

struct fragile : spindle::actor<fragile, crash, flush>
{
    void on(crash) { throw std::runtime_error("crash"); }
    void on(flush) {}
};

struct watcher : spindle::actor<watcher, watch, flush>
{
    std::shared_ptr<std::atomic<int>> downs;
    explicit watcher(std::shared_ptr<std::atomic<int>> d) : downs(std::move(d)) {}
    void on(watch const& w) { monitor(w.target); }
    void on(flush) {}
    void on_down(spindle::down const&) override { ++*downs; }
};

} // namespace mc_test

// Death notices and a supervisor's child-exit notices go through the
// system queue: handled, but not user messages, so not counted.
BOOST_AUTO_TEST_CASE(internal_notices_are_not_counted)
{
    spindle::system sys(workers(2));
    auto downs = std::make_shared<std::atomic<int>>(0);
    auto w = sys.spawn<watcher>(downs);
    auto target = sys.spawn<sink>();
    w.tell(watch{target});
    w.ask(flush{}).get();
    target.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return downs->load() == 1; }));

    spindle::supervisor_spec spec;
    spec.children = {spindle::child_spec::of<fragile>()};
    spindle::supervisor_ref sup(sys.spawn<spindle::supervisor>(spec));
    auto kid = sup.child<fragile>(0); // an ask to the supervisor (a user message)
    kid.tell(crash{}); // the supervisor gets a notice and restarts it
    // mail waits for the new incarnation, which the supervisor's decision made
    kid.ask(flush{}).get();
    BOOST_TEST(spindle::inspect(sys).children.size() == 2u);
    w.ask(flush{}).get();

    auto got = counts(sys);
    // the supervisor's own user messages: the children query above (and
    // whatever its ref sent it), none of them a notice
    std::uint64_t supervisor_messages = 0;
    for(auto it = got.begin(); it != got.end();)
    {
        if(it->first.first != name_of<spindle::supervisor>())
        {
            ++it;
            continue;
        }
        BOOST_TEST_INFO(it->first.second);
        BOOST_TEST(it->first.second.rfind("spindle::detail::sup_", 0) == 0u);
        supervisor_messages += it->second;
        it = got.erase(it);
    }
    BOOST_TEST(supervisor_messages >= 1u);
    count_map const expected{
        {{name_of<watcher>(), name_of<watch>()}, 1},
        {{name_of<watcher>(), name_of<flush>()}, 2},
        {{name_of<fragile>(), name_of<crash>()}, 1}, // counted: its handler ran
        {{name_of<fragile>(), name_of<flush>()}, 1},
    };
    BOOST_TEST(got == expected);
    for(auto const& c : spindle::message_counts(sys))
        BOOST_TEST(c.message_type != name_of<spindle::down>());
}

// A scrape running while messages flow never sees a count go down, and
// sees new types appear; at the end the counts are exact.
BOOST_AUTO_TEST_CASE(concurrent_scrapes_never_see_a_count_decrease)
{
    spindle::system sys(workers(2));
    std::vector<spindle::actor_ref<sink>> sinks{sys.spawn<sink>(), sys.spawn<sink>()};
    std::vector<spindle::actor_ref<sender>> senders{sys.spawn<sender>(), sys.spawn<sender>()};

    std::atomic<bool> done{false};
    std::atomic<int> scrapes{0};
    std::atomic<bool> decreased{false};
    std::thread scraper([&] {
        count_map last;
        double last_total = 0;
        while(!done.load())
        {
            auto now = counts(sys);
            if(!never_decreased(last, now))
                decreased = true;
            last = std::move(now);
            double total_now = 0;
            for(auto const& x : family(sys, "spindle_actor_messages_total"))
                total_now += x.value;
            if(total_now < last_total)
                decreased = true;
            last_total = total_now;
            ++scrapes;
        }
    });

    constexpr int rounds = 200;
    for(int r = 0; r < rounds; ++r)
    {
        for(auto const& p : senders)
            p.tell(fire{sinks, r % tick_types, 10});
        if(r % 20 == 0)
            for(auto const& p : senders)
                p.ask(flush{}).get();
    }
    for(auto const& p : senders)
        p.ask(flush{}).get();
    for(auto const& s : sinks)
        BOOST_TEST(s.ask(total{}).get() == std::uint64_t(rounds) * 2u * 10u);
    // at least one scrape after the traffic
    int const seen = scrapes.load();
    BOOST_TEST(eventually([&] { return scrapes.load() > seen + 1; }));
    done = true;
    scraper.join();
    BOOST_TEST(!decreased.load());

    auto const end = counts(sys);
    BOOST_TEST(end.at(sink_tick<0>()) == 10u * 2u * 2u * (rounds / tick_types));
    BOOST_TEST(end.at(sink_tick<19>()) == 10u * 2u * 2u * (rounds / tick_types));
    BOOST_TEST(end.at({name_of<sender>(), name_of<fire>()}) == 2u * rounds);
    BOOST_TEST(end.at({name_of<sender>(), name_of<flush>()}) == 2u * (rounds / 20 + 1));
    BOOST_TEST(end.at({name_of<sink>(), name_of<total>()}) == 2u);
    BOOST_TEST(end.size() == std::size_t(tick_types + 3));
}
