//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The runtime's series in the system's metrics registry: what exporters
// (the HTTP /metrics endpoint) will read.

#include <spindle/system.hpp>
#include <spindle/metrics.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <string>

using namespace spindle_test;

namespace {

struct note
{
};
struct count
{
};

struct counter : spindle::actor<counter, note, count>
{
    int n = 0;
    void on(note) { ++n; }
    int on(count) { return n; }
};

double total(spindle::metrics::registry& r, std::string const& name)
{
    double sum = 0;
    bool found = false;
    for(auto const& f : r.snapshot())
    {
        if(f.name != name)
            continue;
        found = true;
        for(auto const& s : f.samples)
            sum += s.value;
    }
    BOOST_TEST_INFO("family " << name);
    BOOST_REQUIRE(found);
    return sum;
}

} // namespace

BOOST_AUTO_TEST_CASE(runtime_series_count_what_happened)
{
    spindle::system sys(workers(2));
    auto a = sys.spawn<counter>();
    auto b = sys.spawn<counter>();
    for(int i = 0; i < 1000; ++i)
    {
        a.tell(note{});
        b.tell(note{});
    }
    BOOST_TEST(a.ask(count{}).get() == 1000);
    BOOST_TEST(b.ask(count{}).get() == 1000);

    auto& r = sys.metrics();
    // 2000 notes + 2 asks; a worker adds its count when the activation ends,
    // just after the reply went out, so wait for it to settle
    eventually([&] { return total(r, "spindle_worker_messages_total") == 2002; });
    BOOST_TEST(total(r, "spindle_worker_messages_total") == 2002);
    // the same messages by actor and message type
    BOOST_TEST(total(r, "spindle_actor_messages_total") == 2002);
    BOOST_TEST(total(r, "spindle_actors") == 2);
    BOOST_TEST(total(r, "spindle_actors_spawned_total") == 2);
    BOOST_TEST(total(r, "spindle_actor_activations_total") >= 2);
    BOOST_TEST(total(r, "spindle_mailbox_depth") == 0);
    BOOST_TEST(total(r, "spindle_dead_letters_total") == 0);

    b.stop();
    eventually([&] { return !b.alive(); });
    BOOST_TEST(b.tell(note{}) == spindle::send_status::stopped);
    BOOST_TEST(total(r, "spindle_dead_letters_total") == 1);
    BOOST_TEST(total(r, "spindle_actors") == 1);

    // one sample per worker, labelled
    for(auto const& f : r.snapshot())
        if(f.name == "spindle_worker_messages_total")
        {
            BOOST_TEST((f.type == spindle::metrics::metric_type::counter));
            BOOST_TEST(f.samples.size() == 2u);
            BOOST_TEST(f.samples[0].labels.at(0).first == "worker");
        }
}

BOOST_AUTO_TEST_CASE(each_system_has_its_own_registry)
{
    spindle::system s1(workers(1));
    spindle::system s2(workers(1));
    s1.spawn<counter>();
    BOOST_TEST(total(s1.metrics(), "spindle_actors") == 1);
    BOOST_TEST(total(s2.metrics(), "spindle_actors") == 0);
}
