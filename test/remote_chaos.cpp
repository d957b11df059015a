//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/chaos.hpp>

#include <boost/test/unit_test.hpp>

#include "nats_server.hpp"
#include "support.hpp"

#include <spindle/remote.hpp>
#include <spindle/system.hpp>

#include <boost/describe.hpp>

using namespace std::chrono_literals;

namespace chaos_msgs {

struct hit
{
    int n = 0;
};
BOOST_DESCRIBE_STRUCT(hit, (), (n))

struct hits
{
};
BOOST_DESCRIBE_STRUCT(hits, (), ())

struct tally : spindle::actor<tally, hit, hits>
{
    int count = 0;
    void on(hit const&) { ++count; }
    int on(hits) { return count; }
};

} // namespace chaos_msgs

SPINDLE_REMOTE_MESSAGE(chaos_msgs::hit, "chaos.hit", 1);
SPINDLE_REMOTE_MESSAGE(chaos_msgs::hits, "chaos.hits", 1);

using namespace chaos_msgs;
namespace remote = spindle::remote;
namespace chaos = spindle::chaos;

namespace {

remote::node_options opts(std::string name, spindle_test::nats_server const& s)
{
    remote::node_options o;
    o.name = std::move(name);
    o.servers = {s.url()};
    o.heartbeat_interval = 200ms;
    return o;
}

// Sends `n` tells to a remote tally through the rule, then (chaos off)
// asks how many arrived.
int arrived(chaos::rule r, int n, chaos::rule_stats& st)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    remote::node b(sb, opts("b", server));
    b.publish("tally", sb.spawn<tally>());
    auto t = a.lookup<tally>("tally");

    chaos::controller c(99);
    c.set_rules({r});
    c.enable(true);
    chaos::install(c);
    for(int i = 0; i < n; ++i)
        t.tell(hit{i});
    c.enable(false);
    chaos::uninstall(c);
    st = c.stats().at(0);
    // the ask travels behind the tells on the same subject: it sees them all
    return t.ask(hits{}, spindle_test::failure_timeout).get();
}

} // namespace

BOOST_AUTO_TEST_CASE(dropped_remote_sends_never_arrive)
{
    chaos::rule r;
    r.pattern = "*tally*"; // the subject, e.g. spindle.name.tally
    r.sites = static_cast<unsigned>(chaos::site::remote_send);
    r.drop_probability = 0.2;
    chaos::rule_stats st;
    int const got = arrived(r, 1000, st);
    BOOST_TEST(st.matched == 1000u);
    BOOST_TEST(st.drops > 100u); // about 200
    BOOST_TEST(st.drops < 300u);
    BOOST_TEST(got == 1000 - static_cast<int>(st.drops));
}

BOOST_AUTO_TEST_CASE(duplicated_remote_sends_arrive_twice)
{
    chaos::rule r;
    r.pattern = "*tally*";
    r.sites = static_cast<unsigned>(chaos::site::remote_send);
    r.duplicate_probability = 0.1;
    chaos::rule_stats st;
    int const got = arrived(r, 1000, st);
    BOOST_TEST(st.duplicates > 40u); // about 100
    BOOST_TEST(st.duplicates < 160u);
    BOOST_TEST(got == 1000 + static_cast<int>(st.duplicates));
}

BOOST_AUTO_TEST_CASE(other_subjects_are_left_alone)
{
    chaos::rule r;
    r.pattern = "*elsewhere*";
    r.sites = static_cast<unsigned>(chaos::site::remote_send);
    r.drop_probability = 1;
    chaos::rule_stats st;
    BOOST_TEST(arrived(r, 200, st) == 200);
    BOOST_TEST(st.matched == 0u);
}
