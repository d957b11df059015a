//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/metrics.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace m = spindle::metrics;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

m::metric_family const* find_family(std::vector<m::metric_family> const& snap, std::string_view name)
{
    auto it = std::find_if(snap.begin(), snap.end(), [&](auto const& f) { return f.name == name; });
    return it == snap.end() ? nullptr : &*it;
}

// Runs `fn` and checks that it throws spindle::system_error with
// invalid_argument and a message containing `needle`.
template<class F>
void check_invalid(F&& fn, std::string const& needle)
{
    try
    {
        fn();
        BOOST_ERROR("no exception; expected one mentioning " << needle);
    }
    catch(spindle::system_error const& e)
    {
        BOOST_TEST((e.code() == spindle::error::invalid_argument));
        BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, "message: " << e.what());
    }
}

template<class Counter>
void hammer(Counter& c, unsigned threads, std::uint64_t per_thread)
{
    std::vector<std::thread> ts;
    for(unsigned t = 0; t < threads; ++t)
        ts.emplace_back([&] {
            for(std::uint64_t i = 0; i < per_thread; ++i)
                c.inc();
        });
    for(auto& t : ts)
        t.join();
}

} // namespace

//----------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(counters)

BOOST_AUTO_TEST_CASE(plain_counter_exact_under_two_threads)
{
    m::registry reg;
    auto& c = reg.counter("test_plain_total", "plain");
    hammer(c, 2, 1'000'000);
    BOOST_TEST(c.value() == 2'000'000u);
    c.inc(5);
    BOOST_TEST(c.value() == 2'000'005u);
    static_assert(sizeof(m::counter) == 8);
}

BOOST_AUTO_TEST_CASE(striped_counter_exact_under_two_threads)
{
    m::registry reg;
    auto& c = reg.striped_counter("test_striped_total", "striped");
    hammer(c, 2, 1'000'000);
    BOOST_TEST(c.value() == 2'000'000u);
    c.inc(7);
    BOOST_TEST(c.value() == 2'000'007u);
}

BOOST_AUTO_TEST_CASE(striped_counter_exact_with_more_threads_than_stripes)
{
    // More threads than stripes (at most 64) run at once and share stripes;
    // counts must stay exact, also when exited threads' slots are reused.
    m::striped_counter c;
    for(int round = 0; round < 2; ++round)
    {
        std::atomic<bool> go{false};
        std::vector<std::thread> ts;
        for(int t = 0; t < 80; ++t)
            ts.emplace_back([&] {
                while(!go.load())
                    std::this_thread::yield();
                for(int i = 0; i < 50'000; ++i)
                    c.inc();
            });
        go = true;
        for(auto& t : ts)
            t.join();
    }
    BOOST_TEST(c.value() == 2u * 80u * 50'000u);
}

BOOST_AUTO_TEST_CASE(counters_show_in_snapshot)
{
    m::registry reg;
    reg.counter("a_total", "A").inc(3);
    reg.striped_counter("b_total", "B", {{"k", "v"}}).inc(4);
    auto const snap = reg.snapshot();
    BOOST_TEST_REQUIRE(snap.size() == 2u);
    BOOST_TEST(snap[0].name == "a_total");
    BOOST_TEST(snap[0].help == "A");
    BOOST_TEST((snap[0].type == m::metric_type::counter));
    BOOST_TEST_REQUIRE(snap[0].samples.size() == 1u);
    BOOST_TEST(snap[0].samples[0].labels.empty());
    BOOST_TEST(snap[0].samples[0].value == 3.0);
    BOOST_TEST((snap[1].type == m::metric_type::counter)); // striped is still a counter
    BOOST_TEST(snap[1].samples[0].value == 4.0);
    BOOST_TEST((snap[1].samples[0].labels == m::labels_type{{"k", "v"}}));
}

BOOST_AUTO_TEST_SUITE_END()

//----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gauge_arithmetic)
{
    m::registry reg;
    auto& g = reg.gauge("test_depth", "depth");
    BOOST_TEST(g.value() == 0);
    g.add(5);
    g.sub(7);
    BOOST_TEST(g.value() == -2);
    g.set(40);
    g.add(-1);
    g.sub(-3);
    BOOST_TEST(g.value() == 42);

    std::thread t([&] { for(int i = 0; i < 100'000; ++i) g.add(1); });
    for(int i = 0; i < 100'000; ++i)
        g.sub(1);
    t.join();
    BOOST_TEST(g.value() == 42);

    auto const snap = reg.snapshot();
    BOOST_TEST((snap.at(0).type == m::metric_type::gauge));
    BOOST_TEST(snap.at(0).samples.at(0).value == 42.0);
}

//----------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(histograms)

BOOST_AUTO_TEST_CASE(bucket_placement_follows_le)
{
    m::registry reg;
    double const bounds[] = {1, 2, 5};
    auto& h = reg.histogram("test_latency_seconds", "latency", bounds);
    h.observe(-3);                           // bucket le=1
    h.observe(0.5);                          // le=1
    h.observe(1);                            // == bound: le=1
    h.observe(std::nextafter(1.0, 2.0));     // just above: le=2
    h.observe(2);                            // le=2
    h.observe(5);                            // le=5
    h.observe(5.000001);                     // +Inf
    h.observe(1e300);                        // +Inf
    h.observe(std::numeric_limits<double>::quiet_NaN()); // ignored

    BOOST_TEST(h.count() == 8u);
    auto const b = h.buckets();
    BOOST_TEST_REQUIRE(b.size() == 4u);
    BOOST_TEST(b[0].upper_bound == 1.0);
    BOOST_TEST(b[0].cumulative_count == 3u);
    BOOST_TEST(b[1].upper_bound == 2.0);
    BOOST_TEST(b[1].cumulative_count == 5u);
    BOOST_TEST(b[2].upper_bound == 5.0);
    BOOST_TEST(b[2].cumulative_count == 6u);
    BOOST_TEST(b[3].upper_bound == inf);
    BOOST_TEST(b[3].cumulative_count == 8u);
    BOOST_TEST(std::isfinite(h.sum()));

    auto const snap = reg.snapshot();
    auto const& s = snap.at(0).samples.at(0);
    BOOST_TEST((snap.at(0).type == m::metric_type::histogram));
    BOOST_TEST(s.count == 8u);
    BOOST_TEST_REQUIRE(s.buckets.size() == 4u);
    BOOST_TEST(s.buckets.back().upper_bound == inf);
    BOOST_TEST(s.buckets.back().cumulative_count == s.count);
    BOOST_TEST(s.buckets[1].cumulative_count == 5u);
}

BOOST_AUTO_TEST_CASE(sum_and_count)
{
    double const bounds[] = {0.25, 0.5};
    m::histogram h(bounds);
    for(double v : {0.125, 0.25, 0.5, 4.0})
        h.observe(v);
    BOOST_TEST(h.count() == 4u);
    BOOST_TEST(h.sum() == 4.875); // exact in binary
}

BOOST_AUTO_TEST_CASE(concurrent_observations_are_all_counted)
{
    m::histogram h(m::default_buckets());
    std::vector<std::thread> ts;
    for(int t = 0; t < 2; ++t)
        ts.emplace_back([&] {
            for(int i = 0; i < 200'000; ++i)
                h.observe(0.5); // exact in binary, so the sum is exact
        });
    for(auto& t : ts)
        t.join();
    BOOST_TEST(h.count() == 400'000u);
    BOOST_TEST(h.sum() == 200'000.0);
}

BOOST_AUTO_TEST_CASE(trailing_infinity_and_empty_bounds)
{
    double const with_inf[] = {1, inf};
    m::histogram h(with_inf);
    BOOST_TEST(h.bounds().size() == 1u);
    BOOST_TEST(h.buckets().size() == 2u);

    m::histogram only_inf(std::span<double const>{});
    only_inf.observe(3);
    auto const b = only_inf.buckets();
    BOOST_TEST_REQUIRE(b.size() == 1u);
    BOOST_TEST(b[0].upper_bound == inf);
    BOOST_TEST(b[0].cumulative_count == 1u);
}

BOOST_AUTO_TEST_CASE(bad_bounds_rejected)
{
    double const decreasing[] = {1, 3, 2};
    double const repeated[] = {1, 1};
    double const nan[] = {1, std::numeric_limits<double>::quiet_NaN()};
    double const mid_inf[] = {1, inf, 5};
    check_invalid([&] { m::histogram h(decreasing); }, "strictly increasing");
    check_invalid([&] { m::histogram h(repeated); }, "strictly increasing");
    check_invalid([&] { m::histogram h(nan); }, "not finite");
    check_invalid([&] { m::histogram h(mid_inf); }, "not finite");

    m::registry reg;
    boost::system::error_code ec;
    BOOST_TEST(reg.histogram("bad_bounds", "h", decreasing, {}, ec) == nullptr);
    BOOST_TEST((ec == spindle::error::invalid_argument));
    check_invalid([&] { reg.histogram("bad_bounds", "h", decreasing); }, "'bad_bounds'");
    BOOST_TEST(reg.snapshot().empty()); // nothing half-registered
}

BOOST_AUTO_TEST_CASE(bucket_helpers)
{
    auto const e = m::exponential_buckets(0.001, 10, 4);
    BOOST_TEST_REQUIRE(e.size() == 4u);
    BOOST_TEST(e[0] == 0.001);
    BOOST_TEST(e[3] == 1.0, boost::test_tools::tolerance(1e-12));

    auto const l = m::linear_buckets(1, 0.5, 3);
    BOOST_TEST((l == std::vector<double>{1, 1.5, 2}));

    auto const d = m::default_buckets();
    BOOST_TEST(d.size() == 19u);
    BOOST_TEST(d.front() == 0.00001);
    BOOST_TEST(d.back() == 10.0);
    BOOST_TEST(std::is_sorted(d.begin(), d.end()));
    m::histogram h(d); // valid by construction

    boost::system::error_code ec;
    BOOST_TEST(m::exponential_buckets(0, 2, 3, ec).empty());
    BOOST_TEST((ec == spindle::error::invalid_argument));
    BOOST_TEST(m::exponential_buckets(1, 2, 3, ec).size() == 3u);
    BOOST_TEST(!ec);
    check_invalid([] { m::exponential_buckets(1, 1, 3); }, "factor");
    check_invalid([] { m::exponential_buckets(1, 2, 0); }, "count");
    check_invalid([] { m::exponential_buckets(1, 1e300, 5); }, "overflows");
    check_invalid([] { m::linear_buckets(0, 0, 3); }, "width");
    check_invalid([] { m::linear_buckets(0, 1, 0); }, "count");
    check_invalid([] { m::linear_buckets(1e300, 1, 3); }, "does not exceed");
    BOOST_TEST(m::linear_buckets(0, -1, 3, ec).empty());
    BOOST_TEST((ec == spindle::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(bounds_must_match_per_family)
{
    m::registry reg;
    double const a[] = {1, 2};
    double const b[] = {1, 3};
    double const a_inf[] = {1, 2, inf};
    auto& h1 = reg.histogram("lat_seconds", "h", a, {{"actor", "x"}});
    auto& h2 = reg.histogram("lat_seconds", "h", a_inf, {{"actor", "y"}}); // same bounds
    BOOST_TEST(&h1 != &h2);
    check_invalid([&] { reg.histogram("lat_seconds", "h", b, {{"actor", "z"}}); }, "bucket bounds");
    check_invalid([&] { reg.histogram("lat_seconds", "h", a, {{"le", "1"}}); }, "'le'");
}

BOOST_AUTO_TEST_SUITE_END()

//----------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(registration)

BOOST_AUTO_TEST_CASE(get_or_create_identity)
{
    m::registry reg;
    auto& c1 = reg.counter("msgs_total", "messages", {{"actor", "a"}, {"kind", "user"}});
    auto& c2 = reg.counter("msgs_total", "messages", {{"kind", "user"}, {"actor", "a"}});
    auto& c3 = reg.counter("msgs_total", "messages", {{"actor", "b"}, {"kind", "user"}});
    BOOST_TEST(&c1 == &c2); // label order does not matter
    BOOST_TEST(&c1 != &c3);
    c1.inc();
    BOOST_TEST(c2.value() == 1u);
    BOOST_TEST(c3.value() == 0u);

    BOOST_TEST(&reg.gauge("g", "g") == &reg.gauge("g", "g"));
    BOOST_TEST(&reg.striped_counter("s_total", "s") == &reg.striped_counter("s_total", "s"));
    auto const d = m::default_buckets();
    BOOST_TEST(&reg.histogram("h_seconds", "h", d) == &reg.histogram("h_seconds", "h", d));

    boost::system::error_code ec = spindle::error::mailbox_full;
    BOOST_TEST(reg.counter("msgs_total", "messages", {{"actor", "a"}, {"kind", "user"}}, ec) == &c1);
    BOOST_TEST(!ec); // cleared on success

    // Two registries are independent.
    m::registry other;
    BOOST_TEST(other.counter("msgs_total", "messages", {{"actor", "a"}, {"kind", "user"}}).value() == 0u);
}

BOOST_AUTO_TEST_CASE(references_survive_later_registrations)
{
    m::registry reg;
    auto& first = reg.counter("stable_total", "s", {{"i", "0"}});
    first.inc(11);
    for(int i = 1; i < 2000; ++i)
        reg.counter("stable_total", "s", {{"i", std::to_string(i)}}).inc();
    for(int i = 0; i < 200; ++i)
        reg.gauge("other_" + std::to_string(i), "o");
    BOOST_TEST(first.value() == 11u);
    BOOST_TEST(&reg.counter("stable_total", "s", {{"i", "0"}}) == &first);
}

BOOST_AUTO_TEST_CASE(type_conflicts)
{
    m::registry reg;
    reg.counter("thing", "help");
    check_invalid([&] { reg.gauge("thing", "help"); }, "'thing' is already registered as a counter");
    check_invalid([&] { reg.histogram("thing", "help", m::default_buckets()); }, "'thing'");

    boost::system::error_code ec;
    BOOST_TEST(reg.gauge("thing", "help", {}, ec) == nullptr);
    BOOST_TEST((ec == spindle::error::invalid_argument));

    // Same series as plain and striped.
    check_invalid([&] { reg.striped_counter("thing", "help"); }, "already registered as a counter");
    // Another label set of the same counter family may be striped.
    BOOST_TEST(reg.striped_counter("thing", "help", {{"hot", "yes"}}).value() == 0u);

    // Help must match.
    check_invalid([&] { reg.counter("thing", "other help"); }, "another help text");
    BOOST_TEST(reg.counter("thing", "other help", {}, ec) == nullptr);
    BOOST_TEST((ec == spindle::error::invalid_argument));

    // The registry is unchanged by the failures.
    auto const snap = reg.snapshot();
    BOOST_TEST_REQUIRE(snap.size() == 1u);
    BOOST_TEST(snap[0].help == "help");
    BOOST_TEST(snap[0].samples.size() == 2u);
}

BOOST_AUTO_TEST_CASE(bad_names_rejected_with_the_name)
{
    m::registry reg;
    for(std::string bad : {"", "1abc", "my-metric", "has space", "caf\xc3\xa9"})
    {
        check_invalid([&] { reg.counter(bad, "h"); }, "invalid metric name '" + bad + "'");
        boost::system::error_code ec;
        BOOST_TEST(reg.gauge(bad, "h", {}, ec) == nullptr);
        BOOST_TEST((ec == spindle::error::invalid_argument));
        BOOST_TEST(!m::is_valid_metric_name(bad));
    }
    for(std::string bad : {"", "__reserved", "1x", "a:b", "a-b"})
    {
        check_invalid([&] { reg.counter("ok_total", "h", {{bad, "v"}}); },
                      "invalid label name '" + bad + "' for metric 'ok_total'");
        BOOST_TEST(!m::is_valid_label_name(bad));
    }
    check_invalid([&] { reg.counter("ok_total", "h", {{"a", "1"}, {"a", "2"}}); }, "duplicate label name 'a'");
    check_invalid([&] { reg.add_collector("bad-name", "h", m::metric_type::gauge, [](auto&) {}); },
                  "'bad-name'");
    BOOST_TEST(reg.snapshot().empty());

    for(std::string good : {"a", "_x", ":colon:ok", "spindle_messages_total", "A9_:z"})
        BOOST_TEST(m::is_valid_metric_name(good));
    for(std::string good : {"a", "_x", "_", "Actor_9"})
        BOOST_TEST(m::is_valid_label_name(good));
    // Label values are free text.
    BOOST_TEST(reg.counter("ok_total", "h", {{"path", "/a b\"c\n"}}).value() == 0u);
}

BOOST_AUTO_TEST_CASE(remove_series)
{
    m::registry reg;
    reg.counter("per_actor_total", "p", {{"actor", "a"}}).inc();
    reg.counter("per_actor_total", "p", {{"actor", "b"}}).inc(2);
    BOOST_TEST(reg.remove("per_actor_total", {{"actor", "a"}}));
    BOOST_TEST(!reg.remove("per_actor_total", {{"actor", "a"}}));
    BOOST_TEST(!reg.remove("nope", {}));

    auto snap = reg.snapshot();
    BOOST_TEST_REQUIRE(snap.size() == 1u);
    BOOST_TEST_REQUIRE(snap[0].samples.size() == 1u);
    BOOST_TEST((snap[0].samples[0].labels == m::labels_type{{"actor", "b"}}));

    // A new series under the old labels starts from zero.
    BOOST_TEST(reg.counter("per_actor_total", "p", {{"actor", "a"}}).value() == 0u);

    // When the last series goes, so does the family; the name is free again.
    BOOST_TEST(reg.remove("per_actor_total", {{"actor", "a"}}));
    BOOST_TEST(reg.remove("per_actor_total", {{"actor", "b"}}));
    BOOST_TEST(reg.snapshot().empty());
    BOOST_TEST(reg.gauge("per_actor_total", "now a gauge").value() == 0);
}

BOOST_AUTO_TEST_CASE(metric_type_names)
{
    BOOST_TEST(m::to_string(m::metric_type::counter) == "counter");
    BOOST_TEST(m::to_string(m::metric_type::gauge) == "gauge");
    BOOST_TEST(m::to_string(m::metric_type::histogram) == "histogram");
}

BOOST_AUTO_TEST_SUITE_END()

//----------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(collectors)

BOOST_AUTO_TEST_CASE(called_at_snapshot_and_removable)
{
    m::registry reg;
    int calls = 0;
    auto const id = reg.add_collector("mailbox_depth", "sum of mailbox depths", m::metric_type::gauge,
                                      [&](std::vector<m::sample>& out) {
                                          ++calls;
                                          out.push_back({{{"system", "s1"}}, 17.5});
                                      });
    BOOST_TEST(calls == 0); // not called at registration
    auto snap = reg.snapshot();
    BOOST_TEST(calls == 1);
    auto const* f = find_family(snap, "mailbox_depth");
    BOOST_TEST_REQUIRE(f != nullptr);
    BOOST_TEST((f->type == m::metric_type::gauge));
    BOOST_TEST(f->help == "sum of mailbox depths");
    BOOST_TEST_REQUIRE(f->samples.size() == 1u);
    BOOST_TEST(f->samples[0].value == 17.5);
    reg.snapshot();
    BOOST_TEST(calls == 2);

    BOOST_TEST(reg.remove_collector(id));
    BOOST_TEST(!reg.remove_collector(id));
    snap = reg.snapshot();
    BOOST_TEST(calls == 2);
    BOOST_TEST(find_family(snap, "mailbox_depth") == nullptr);
}

BOOST_AUTO_TEST_CASE(remove_collector_destroys_the_function)
{
    m::registry reg;
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> watch = token;
    auto const id = reg.add_collector("fibers_alive", "f", m::metric_type::gauge,
                                      [token](auto& out) { out.push_back({{}, double(*token)}); });
    token.reset();
    BOOST_TEST(!watch.expired());
    reg.snapshot();
    BOOST_TEST(reg.remove_collector(id));
    BOOST_TEST(watch.expired());
}

BOOST_AUTO_TEST_CASE(merged_with_registered_series_and_sorted)
{
    m::registry reg;
    reg.counter("events_total", "events", {{"source", "b"}}).inc(2);
    reg.add_collector("events_total", "events", m::metric_type::counter, [](auto& out) {
        out.push_back({{{"zone", "1"}, {"source", "c"}}, 3}); // unsorted labels
        out.push_back({{{"source", "a"}}, 1});
    });
    auto const snap = reg.snapshot();
    BOOST_TEST_REQUIRE(snap.size() == 1u);
    auto const& s = snap[0].samples;
    BOOST_TEST_REQUIRE(s.size() == 3u);
    BOOST_TEST((s[0].labels == m::labels_type{{"source", "a"}}));
    BOOST_TEST((s[1].labels == m::labels_type{{"source", "b"}}));
    BOOST_TEST((s[2].labels == m::labels_type{{"source", "c"}, {"zone", "1"}}));
    BOOST_TEST(s[0].value == 1.0);
    BOOST_TEST(s[1].value == 2.0);
    BOOST_TEST(s[2].value == 3.0);
}

BOOST_AUTO_TEST_CASE(conflicts_and_bad_output)
{
    m::registry reg;
    reg.counter("c_total", "c");
    check_invalid([&] { reg.add_collector("c_total", "c", m::metric_type::gauge, [](auto&) {}); },
                  "already registered as a counter");
    check_invalid([&] { reg.add_collector("c_total", "other", m::metric_type::counter, [](auto&) {}); },
                  "another help text");
    check_invalid([&] { reg.add_collector("h", "h", m::metric_type::histogram, [](auto&) {}); },
                  "only counters and gauges");
    check_invalid([&] { reg.add_collector("e", "e", m::metric_type::gauge, m::collector_type{}); }, "empty");
    boost::system::error_code ec;
    BOOST_TEST((reg.add_collector("e", "e", m::metric_type::gauge, {}, ec) == m::collector_id{}));
    BOOST_TEST((ec == spindle::error::invalid_argument));

    // A collector with the registered series' labels: duplicate series.
    auto const dup = reg.add_collector("c_total", "c", m::metric_type::counter,
                                       [](auto& out) { out.push_back({{}, 1}); });
    check_invalid([&] { reg.snapshot(); }, "'c_total'{} was produced twice");
    BOOST_TEST(reg.snapshot(ec).empty());
    BOOST_TEST((ec == spindle::error::invalid_argument));
    reg.remove_collector(dup);

    auto const bad = reg.add_collector("g", "g", m::metric_type::gauge,
                                       [](auto& out) { out.push_back({{{"__x", "1"}}, 1}); });
    check_invalid([&] { reg.snapshot(); }, "invalid label name '__x' for metric 'g'");
    reg.remove_collector(bad);
    BOOST_TEST(reg.snapshot(ec).size() == 1u);
    BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(throwing_collector_makes_snapshot_throw)
{
    m::registry reg;
    auto const id = reg.add_collector("boom", "b", m::metric_type::gauge,
                                      [](auto&) { throw std::runtime_error("collector failed"); });
    BOOST_CHECK_THROW(reg.snapshot(), std::runtime_error);
    reg.remove_collector(id);
    BOOST_TEST(reg.snapshot().empty());
}

BOOST_AUTO_TEST_CASE(collector_removed_during_a_snapshot_is_not_run)
{
    // The snapshot picks up both collectors, then runs "a_first", which
    // removes "b_second" before its turn: it must not run any more.
    m::registry reg;
    int b_calls = 0;
    m::collector_id b{};
    reg.add_collector("a_first", "a", m::metric_type::gauge, [&](auto&) {
        if(b != m::collector_id{})
            BOOST_TEST(reg.remove_collector(b));
    });
    reg.snapshot(); // b not registered yet
    b = reg.add_collector("b_second", "b", m::metric_type::gauge, [&](auto&) { ++b_calls; });
    auto const snap = reg.snapshot();
    BOOST_TEST(b_calls == 0);
    BOOST_TEST(find_family(snap, "b_second") != nullptr); // it existed when the snapshot began
}

BOOST_AUTO_TEST_CASE(remove_collector_waits_for_a_running_call)
{
    m::registry reg;
    std::atomic<bool> entered{false};
    std::atomic<bool> release{false};
    std::atomic<bool> removed{false};
    std::atomic<bool> ran_after_removal{false};
    auto const id = reg.add_collector("slow", "s", m::metric_type::gauge, [&](auto& out) {
        entered = true;
        while(!release.load())
            std::this_thread::yield();
        if(removed.load())
            ran_after_removal = true;
        out.push_back({{}, 1});
    });
    std::thread snapshotter([&] { reg.snapshot(); });
    while(!entered.load())
        std::this_thread::yield();
    std::thread remover([&] {
        BOOST_TEST(reg.remove_collector(id));
        removed = true;
    });
    // Give a remover that does not wait the chance to return early.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bool const returned_early = removed.load();
    release = true;
    remover.join();
    snapshotter.join();
    BOOST_TEST(!returned_early);
    BOOST_TEST(!ran_after_removal.load());
    BOOST_TEST(removed.load());
}

BOOST_AUTO_TEST_CASE(collector_may_use_the_registry_and_remove_itself)
{
    m::registry reg;
    m::collector_id self{};
    int calls = 0;
    self = reg.add_collector("once", "o", m::metric_type::gauge, [&](auto& out) {
        ++calls;
        // Registering from a collector must not deadlock.
        reg.counter("from_collector_total", "f").inc();
        BOOST_TEST(reg.snapshot().size() >= 1u); // re-entrant snapshot skips this collector
        BOOST_TEST(reg.remove_collector(self));
        out.push_back({{}, 1});
    });
    auto const snap = reg.snapshot();
    BOOST_TEST(calls == 1);
    BOOST_TEST(find_family(snap, "once") != nullptr);
    BOOST_TEST(reg.counter("from_collector_total", "f").value() == 1u);
    reg.snapshot();
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_SUITE_END()

//----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(removal_during_concurrent_snapshots)
{
    m::registry reg;
    auto& stable = reg.counter("stable_total", "s");
    std::atomic<bool> stop{false};
    std::atomic<int> violations{0};
    std::atomic<std::uint64_t> snapshots{0};

    auto snapshotter = [&] {
        while(!stop.load())
        {
            auto const snap = reg.snapshot();
            snapshots.fetch_add(1);
            auto const* f = find_family(snap, "stable_total");
            if(!f || f->samples.size() != 1)
                violations.fetch_add(1);
            for(auto const& fam : snap)
                if(!std::is_sorted(fam.samples.begin(), fam.samples.end(),
                                   [](auto const& a, auto const& b) { return a.labels < b.labels; }))
                    violations.fetch_add(1);
        }
    };
    std::thread s1(snapshotter);
    std::thread s2(snapshotter);

    // Actors come and go: each registers series and a collector, updates
    // them, then removes them. A collector must never run after its removal
    // returned (its state is gone by then).
    for(int i = 0; i < 2000 || snapshots.load() < 50; ++i)
    {
        std::string const actor = "a" + std::to_string(i % 7);
        auto& c = reg.counter("actor_messages_total", "m", {{"actor", actor}});
        auto& h = reg.histogram("actor_latency_seconds", "l", m::default_buckets(), {{"actor", actor}});
        c.inc();
        h.observe(0.001);
        stable.inc();
        auto alive = std::make_shared<std::atomic<bool>>(true);
        auto const id = reg.add_collector("actor_depth", "d", m::metric_type::gauge,
                                          [alive, &violations, actor](auto& out) {
                                              if(!alive->load())
                                                  violations.fetch_add(1);
                                              out.push_back({{{"actor", actor}}, 1});
                                          });
        BOOST_TEST_REQUIRE(reg.remove_collector(id));
        alive->store(false);
        reg.remove("actor_messages_total", {{"actor", actor}});
        reg.remove("actor_latency_seconds", {{"actor", actor}});
    }
    stop = true;
    s1.join();
    s2.join();
    BOOST_TEST(violations.load() == 0);
    BOOST_TEST(snapshots.load() >= 50u);
    BOOST_TEST(stable.value() >= 2000u);
    auto const snap = reg.snapshot();
    BOOST_TEST_REQUIRE(snap.size() == 1u); // everything else was removed
    BOOST_TEST(snap[0].name == "stable_total");
}

BOOST_AUTO_TEST_CASE(deterministic_snapshot_order)
{
    auto build = [](bool reversed) {
        auto reg = std::make_unique<m::registry>();
        std::vector<std::string> names = {"zeta", "alpha", "mid_total", "beta"};
        std::vector<std::string> values = {"3", "1", "2"};
        if(reversed)
        {
            std::reverse(names.begin(), names.end());
            std::reverse(values.begin(), values.end());
        }
        for(auto const& n : names)
            for(auto const& v : values)
                reg->gauge(n, "h", {{"z", "0"}, {"k", v}}).set(std::stoi(v));
        return reg;
    };
    auto const a = build(false)->snapshot();
    auto const b = build(true)->snapshot();
    BOOST_TEST_REQUIRE(a.size() == 4u);
    std::vector<std::string> names;
    for(auto const& f : a)
        names.push_back(f.name);
    BOOST_TEST((names == std::vector<std::string>{"alpha", "beta", "mid_total", "zeta"}));
    for(auto const& f : a)
    {
        BOOST_TEST_REQUIRE(f.samples.size() == 3u);
        for(std::size_t i = 0; i < 3; ++i)
        {
            // Labels sorted by name within a sample, samples by labels.
            BOOST_TEST((f.samples[i].labels ==
                        m::labels_type{{"k", std::to_string(i + 1)}, {"z", "0"}}));
            BOOST_TEST(f.samples[i].value == double(i + 1));
        }
    }
    BOOST_TEST_REQUIRE(b.size() == a.size());
    for(std::size_t i = 0; i < a.size(); ++i)
    {
        BOOST_TEST(a[i].name == b[i].name);
        for(std::size_t j = 0; j < a[i].samples.size(); ++j)
            BOOST_TEST((a[i].samples[j].labels == b[i].samples[j].labels));
    }
}

//----------------------------------------------------------------------------
// sharded metrics: one writer thread per shard

BOOST_AUTO_TEST_CASE(sharded_counter_exact_with_one_thread_per_shard)
{
    constexpr unsigned threads = 4;
    constexpr std::uint64_t per_thread = 200000;
    m::sharded_counter c(threads);
    BOOST_TEST(c.shards() == threads);
    std::vector<std::thread> ts;
    for(unsigned t = 0; t < threads; ++t)
        ts.emplace_back([&c, t] {
            for(std::uint64_t i = 0; i < per_thread; ++i)
                c.inc(t);
        });
    std::uint64_t last = 0;
    bool decreased = false;
    for(int i = 0; i < 1000; ++i)
    {
        auto const v = c.value();
        decreased = decreased || v < last;
        last = v;
    }
    for(auto& t : ts)
        t.join();
    BOOST_TEST(!decreased);
    BOOST_TEST(c.value() == threads * per_thread);
    c.inc(1, 5);
    BOOST_TEST(c.value() == threads * per_thread + 5);
    check_invalid([] { m::sharded_counter bad(0); }, "at least one shard");
}

BOOST_AUTO_TEST_CASE(sharded_histogram_sums_its_shards)
{
    double const bounds[] = {1, 2, 5};
    constexpr unsigned threads = 3;
    constexpr int per_thread = 100000;
    m::sharded_histogram h(bounds, threads);
    BOOST_TEST(h.shards() == threads);
    BOOST_TEST(h.bounds().size() == 3u);
    std::vector<std::thread> ts;
    for(unsigned t = 0; t < threads; ++t)
        ts.emplace_back([&h, t] {
            // shard t observes t + 0.5 (thread 0 in le=1, 1 in le=2, 2 in le=5)
            for(int i = 0; i < per_thread; ++i)
                h.observe(t, t + 0.5);
        });
    for(auto& t : ts)
        t.join();
    h.observe(0, std::numeric_limits<double>::quiet_NaN()); // ignored
    h.observe(1, 2.0);                                       // on a bound: that bucket
    h.observe(2, 7.0);                                       // +Inf
    auto const b = h.buckets();
    BOOST_TEST_REQUIRE(b.size() == 4u);
    BOOST_TEST(b[0].upper_bound == 1.0);
    BOOST_TEST(b[0].cumulative_count == std::uint64_t(per_thread));
    BOOST_TEST(b[1].cumulative_count == 2u * per_thread + 1u);
    BOOST_TEST(b[2].cumulative_count == 3u * per_thread + 1u);
    BOOST_TEST(b[3].upper_bound == inf);
    BOOST_TEST(b[3].cumulative_count == 3u * per_thread + 2u);
    BOOST_TEST(h.count() == 3u * per_thread + 2u);
    BOOST_TEST(h.sum() == per_thread * (0.5 + 1.5 + 2.5) + 9.0);
    check_invalid([&] { m::sharded_histogram bad(bounds, 0); }, "at least one shard");
    double const unsorted[] = {2, 1};
    check_invalid([&] { m::sharded_histogram bad(unsorted, 2); }, "strictly increasing");
}

BOOST_AUTO_TEST_CASE(sharded_series_in_the_registry)
{
    m::registry reg;
    double const bounds[] = {0.1, 1};
    auto& c = reg.sharded_counter("jobs_total", "Jobs", 2, {{"kind", "a"}});
    BOOST_TEST(&reg.sharded_counter("jobs_total", "Jobs", 2, {{"kind", "a"}}) == &c);
    // a plain counter may share the family
    reg.counter("jobs_total", "Jobs", {{"kind", "b"}}).inc(4);
    c.inc(0, 2);
    c.inc(1, 3);
    auto& h = reg.sharded_histogram("job_seconds", "Job time", bounds, 2, {{"kind", "a"}});
    reg.histogram("job_seconds", "Job time", bounds, {{"kind", "b"}}).observe(0.5);
    h.observe(0, 0.05);
    h.observe(1, 3.0);

    auto const snap = reg.snapshot();
    auto const* jobs = find_family(snap, "jobs_total");
    BOOST_TEST_REQUIRE(jobs);
    BOOST_TEST((jobs->type == m::metric_type::counter));
    BOOST_TEST_REQUIRE(jobs->samples.size() == 2u);
    BOOST_TEST(jobs->samples[0].value == 5.0);
    BOOST_TEST(jobs->samples[1].value == 4.0);
    auto const* secs = find_family(snap, "job_seconds");
    BOOST_TEST_REQUIRE(secs);
    BOOST_TEST((secs->type == m::metric_type::histogram));
    BOOST_TEST_REQUIRE(secs->samples.size() == 2u);
    auto const& a = secs->samples[0];
    BOOST_TEST(a.count == 2u);
    BOOST_TEST(a.sum == 3.05);
    BOOST_TEST_REQUIRE(a.buckets.size() == 3u);
    BOOST_TEST(a.buckets[0].cumulative_count == 1u);
    BOOST_TEST(a.buckets[1].cumulative_count == 1u);
    BOOST_TEST(a.buckets[2].cumulative_count == 2u);
    BOOST_TEST(secs->samples[1].count == 1u);

    // conflicts: the shard count, the kind of series, the bounds, 'le'
    check_invalid([&] { reg.sharded_counter("jobs_total", "Jobs", 3, {{"kind", "a"}}); }, "with 2 shards");
    check_invalid([&] { reg.sharded_counter("jobs_total", "Jobs", 2, {{"kind", "b"}}); }, "as a counter");
    check_invalid([&] { reg.counter("jobs_total", "Jobs", {{"kind", "a"}}); }, "as a sharded counter");
    check_invalid([&] { reg.sharded_counter("jobs_total", "Jobs", 0); }, "at least one shard");
    check_invalid([&] { reg.sharded_histogram("job_seconds", "Job time", bounds, 2, {{"kind", "b"}}); },
                  "as a histogram");
    check_invalid([&] { reg.histogram("job_seconds", "Job time", bounds, {{"kind", "a"}}); },
                  "as a sharded histogram");
    double const other[] = {0.5};
    check_invalid([&] { reg.sharded_histogram("job_seconds", "Job time", other, 2, {{"kind", "c"}}); },
                  "other bucket bounds");
    check_invalid([&] { reg.sharded_histogram("x_seconds", "x", bounds, 2, {{"le", "1"}}); }, "reserved");
    boost::system::error_code ec;
    BOOST_TEST(reg.sharded_counter("jobs_total", "Jobs", 3, {{"kind", "a"}}, ec) == nullptr);
    BOOST_TEST((ec == spindle::error::invalid_argument));
    BOOST_TEST(reg.sharded_histogram("job_seconds", "Job time", bounds, 2, {{"kind", "a"}}, ec) == &h);
    BOOST_TEST(!ec);
    BOOST_TEST(reg.remove("job_seconds", {{"kind", "a"}}));
}
