//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/remote/node.hpp>

#include "nats_server.hpp"
#include "support.hpp"

#include <spindle/actor.hpp>
#include <spindle/metrics.hpp>
#include <spindle/remote/detail/frame.hpp>
#include <spindle/system.hpp>

#include <boost/describe.hpp>
#include <boost/test/unit_test.hpp>

#include <nats/nats.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using spindle_test::eventually;

namespace test_msgs {

struct add
{
    int n = 0;
};
BOOST_DESCRIBE_STRUCT(add, (), (n))

struct get_total
{
};
BOOST_DESCRIBE_STRUCT(get_total, (), ())

struct seq
{
    std::uint64_t n = 0;
};

struct who
{
};
BOOST_DESCRIBE_STRUCT(who, (), ())

struct big
{
    std::string text;
};
BOOST_DESCRIBE_STRUCT(big, (), (text))

struct order_report
{
};
BOOST_DESCRIBE_STRUCT(order_report, (), ())

struct slow
{
};
BOOST_DESCRIBE_STRUCT(slow, (), ())

struct counter : spindle::actor<counter, add, get_total, seq, big, order_report, slow>
{
    std::shared_ptr<std::atomic<bool>> release = std::make_shared<std::atomic<bool>>(false);
    counter() = default;
    explicit counter(std::shared_ptr<std::atomic<bool>> r) : release(std::move(r)) {}
    /// The next expected number if every one came in order, else 0.
    std::uint64_t on(order_report) { return out_of_order ? 0 : next; }
    /// Answers once the test lets it (parks only this actor).
    int on(slow)
    {
        while(!release->load())
            sleep_for(std::chrono::milliseconds(5));
        return total;
    }
    int total = 0;
    std::uint64_t next = 0;
    std::uint64_t out_of_order = 0;
    void on(add const& a) { total += a.n; }
    int on(get_total) { return total; }
    void on(seq const& s)
    {
        if(s.n != next)
            ++out_of_order;
        next = s.n + 1;
    }
    std::uint64_t on(big const& b) { return b.text.size(); }
};

/// Replies to whoever the request names: an actor_ref inside a message.
struct greeter;
struct greeting
{
    std::string text;
};
BOOST_DESCRIBE_STRUCT(greeting, (), (text))

struct inbox : spindle::actor<inbox, greeting>
{
    // written on a worker, read by the test: a thread-safe record
    std::shared_ptr<spindle_test::history<std::string>> got;
    explicit inbox(std::shared_ptr<spindle_test::history<std::string>> g) : got(std::move(g)) {}
    void on(greeting const& g) { got->push(g.text); }
};

struct greet
{
    std::string name;
    spindle::actor_ref<inbox> reply_to;
};
BOOST_DESCRIBE_STRUCT(greet, (), (name, reply_to))

struct greeter : spindle::actor<greeter, greet>
{
    void on(greet const& g) { g.reply_to.tell(greeting{"hello " + g.name}); }
};

struct node_name : spindle::actor<node_name, who>
{
    std::string name;
    explicit node_name(std::string n) : name(std::move(n)) {}
    std::string on(who) { return name; }
};

/// Monitors a reference it is given and records the downs.
struct watch_this
{
    spindle::actor_ref<counter> target;
};

struct watcher : spindle::actor<watcher, watch_this>
{
    std::shared_ptr<std::atomic<int>> downs;
    std::shared_ptr<std::string> last;
    watcher(std::shared_ptr<std::atomic<int>> d, std::shared_ptr<std::string> l) : downs(std::move(d)), last(std::move(l)) {}
    void on(watch_this const& w) { monitor(w.target); }
    void on_down(spindle::down const& d) override
    {
        *last = to_string(d.reason) + std::string(" ") + d.what;
        downs->fetch_add(1);
    }
};

/// Binary-codec messages both ways.
struct square
{
    std::uint64_t n = 0;
};

struct squared
{
    std::uint64_t n = 0;
};

struct squarer : spindle::actor<squarer, square>
{
    squared on(square const& s) { return squared{s.n * s.n}; }
};

} // namespace test_msgs

SPINDLE_REMOTE_MESSAGE_BINARY(test_msgs::square, "test.square", 1);
SPINDLE_REMOTE_MESSAGE_BINARY(test_msgs::squared, "test.squared", 2);
SPINDLE_REMOTE_MESSAGE(test_msgs::add, "test.add", 1);
SPINDLE_REMOTE_MESSAGE(test_msgs::get_total, "test.get_total", 1);
SPINDLE_REMOTE_MESSAGE_BINARY(test_msgs::seq, "test.seq", 1);
SPINDLE_REMOTE_MESSAGE(test_msgs::big, "test.big", 1);
SPINDLE_REMOTE_MESSAGE(test_msgs::order_report, "test.order_report", 1);
SPINDLE_REMOTE_MESSAGE(test_msgs::slow, "test.slow", 1);
SPINDLE_REMOTE_MESSAGE(test_msgs::who, "test.who", 1);
SPINDLE_REMOTE_MESSAGE(test_msgs::greeting, "test.greeting", 1);
SPINDLE_REMOTE_MESSAGE(test_msgs::greet, "test.greet", 1);

using namespace test_msgs;
namespace remote = spindle::remote;

namespace {

remote::node_options opts(std::string name, spindle_test::nats_server const& s)
{
    remote::node_options o;
    o.name = std::move(name);
    o.servers = {s.url()};
    o.heartbeat_interval = 200ms;
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(tell_and_ask_between_two_nodes)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    remote::node b(sb, opts("b", server));

    auto local = sb.spawn<counter>();
    b.publish("counter", local);

    auto c = a.lookup<counter>("counter");
    BOOST_TEST(c.name() == "counter");
    BOOST_TEST(c.tell(add{2}) == spindle::send_status::ok);
    BOOST_TEST(c.tell(add{40}) == spindle::send_status::ok);
    // the ask travels behind the tells on the same subject: it sees both
    BOOST_TEST(c.ask(get_total{}, spindle_test::failure_timeout).get() == 42);
    BOOST_TEST(local.ask(get_total{}).get() == 42);
    BOOST_TEST(c.ask(big{"four"}, spindle_test::failure_timeout).get() == 4u);
}

BOOST_AUTO_TEST_CASE(tells_keep_their_order_per_pair)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    remote::node b(sb, opts("b", server));
    auto local = sb.spawn<counter>();
    b.publish("seq", local);
    auto c = a.lookup<counter>("seq");

    constexpr std::uint64_t n = 100000;
    for(std::uint64_t i = 0; i < n; ++i)
        BOOST_REQUIRE(c.tell(seq{i}) == spindle::send_status::ok);
    // an ask behind them all on the same subject: every tell is handled first
    BOOST_TEST(c.ask(order_report{}, spindle_test::failure_timeout).get() == n);
    BOOST_TEST(b.stats().slow_consumer_drops == 0u);
    BOOST_TEST(b.stats().undeliverable == 0u);
}

BOOST_AUTO_TEST_CASE(no_responders_is_unknown_actor_at_once)
{
    spindle_test::nats_server server;
    spindle::system sa;
    remote::node a(sa, opts("a", server));
    auto c = a.lookup<counter>("nobody-here");
    auto r = c.ask(get_total{}, 10min).result(); // a timeout would hang the case, not fail it
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == spindle_test::code(spindle::error::unknown_actor));
}

BOOST_AUTO_TEST_CASE(an_actor_ref_in_a_message_is_replied_to_across_nodes)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    remote::node b(sb, opts("b", server));
    b.publish("greeter", sb.spawn<greeter>());

    auto got = std::make_shared<spindle_test::history<std::string>>();
    auto me = sa.spawn<inbox>(got);
    auto g = a.lookup<greeter>("greeter");
    BOOST_TEST(g.tell(greet{"ada", me}) == spindle::send_status::ok);
    BOOST_TEST(eventually([&] { return me.mailbox_depth() == 0 && got->size() == 1; }));
    BOOST_TEST(me.alive());
    auto const seen = got->snapshot();
    BOOST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen.front() == "hello ada");
}

BOOST_AUTO_TEST_CASE(a_malformed_message_is_an_error_and_the_node_keeps_serving)
{
    spindle_test::nats_server server;
    spindle::system sb;
    remote::node b(sb, opts("b", server));
    b.publish("counter", sb.spawn<counter>());

    natsConnection* nc = nullptr;
    BOOST_REQUIRE(natsConnection_ConnectTo(&nc, server.url().c_str()) == NATS_OK);
    auto request = [&](char const* type, std::string const& body, natsMsg** reply) {
        natsMsg* m = nullptr;
        natsMsg_Create(&m, "spindle.name.counter", nullptr, body.data(), static_cast<int>(body.size()));
        if(type)
            natsMsgHeader_Set(m, "Spindle-Type", type);
        auto s = natsConnection_RequestMsg(reply, nc, m, 60000);
        natsMsg_Destroy(m);
        return s;
    };
    auto error_of = [](natsMsg* r) {
        char const* v = nullptr;
        natsMsgHeader_Get(r, "Spindle-Error", &v);
        return std::string(v ? v : "");
    };
    natsMsg* r = nullptr;
    BOOST_REQUIRE(request("test.add", "{\"n\":", &r) == NATS_OK);
    BOOST_TEST(error_of(r) == "spindle.remote:" + std::to_string(int(remote::error::decode_failed)));
    natsMsg_Destroy(r);
    BOOST_REQUIRE(request("test.nope", "{}", &r) == NATS_OK);
    BOOST_TEST(error_of(r) == "spindle.remote:" + std::to_string(int(remote::error::unknown_type)));
    natsMsg_Destroy(r);
    BOOST_REQUIRE(request(nullptr, "{}", &r) == NATS_OK);
    BOOST_TEST(error_of(r) == "spindle.remote:" + std::to_string(int(remote::error::unknown_type)));
    natsMsg_Destroy(r);
    BOOST_TEST(b.stats().decode_errors == 3u);

    // a well-formed request still works, from any NATS client
    BOOST_REQUIRE(request("test.add", "{\"n\":5}", &r) == NATS_OK);
    char const* status = nullptr;
    natsMsgHeader_Get(r, "Spindle-Status", &status);
    BOOST_TEST(std::string(status ? status : "") == "ok");
    natsMsg_Destroy(r);
    BOOST_REQUIRE(request("test.get_total", "{}", &r) == NATS_OK);
    BOOST_TEST(std::string(natsMsg_GetData(r), natsMsg_GetDataLength(r)) == "5");
    natsMsg_Destroy(r);

    // an actor id that was never sent out is not addressable, even when guessed right
    natsMsg* m = nullptr;
    auto const guessed = "spindle.node." + b.id().to_string() + ".actor." + spindle::actor_id::generate().to_string();
    natsMsg_Create(&m, guessed.c_str(), nullptr, "{}", 2);
    natsMsgHeader_Set(m, "Spindle-Type", "test.get_total");
    BOOST_REQUIRE(natsConnection_RequestMsg(&r, nc, m, 60000) == NATS_OK);
    natsMsg_Destroy(m);
    BOOST_TEST(error_of(r) == "spindle:" + std::to_string(int(spindle::error::unknown_actor)));
    natsMsg_Destroy(r);
    BOOST_TEST(b.stats().undeliverable == 1u);
    natsConnection_Destroy(nc);
}

BOOST_AUTO_TEST_CASE(a_framed_ask_is_answered_with_a_framed_reply)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    remote::node b(sb, opts("b", server));
    b.publish("squarer", sb.spawn<squarer>());

    natsConnection* nc = nullptr;
    BOOST_REQUIRE(natsConnection_ConnectTo(&nc, server.url().c_str()) == NATS_OK);
    auto header_of = [](natsMsg* r, char const* key) {
        char const* v = nullptr;
        return natsMsgHeader_Get(r, key, &v) == NATS_OK && v ? std::string(v) : std::string("(none)");
    };
    auto const value_of = [](std::string_view payload) {
        std::uint64_t v = 0;
        BOOST_REQUIRE(payload.size() == sizeof v);
        std::memcpy(&v, payload.data(), sizeof v);
        return v;
    };

    // what a Spindle node sends for a binary-codec ask: a frame, no headers;
    // the success comes back as a frame of the reply's type (doc/remote.md)
    square const q{7};
    std::string frame;
    remote::detail::append_frame(frame, "test.square", 1, {reinterpret_cast<char const*>(&q), sizeof q});
    natsMsg* r = nullptr;
    BOOST_REQUIRE(natsConnection_Request(&r, nc, "spindle.name.squarer", frame.data(), static_cast<int>(frame.size()),
                      60000) == NATS_OK);
    BOOST_TEST(header_of(r, "Spindle-Status") == "(none)");
    std::string_view name, payload;
    unsigned version = 0;
    BOOST_REQUIRE(remote::detail::parse_frame(
        {natsMsg_GetData(r), static_cast<std::size_t>(natsMsg_GetDataLength(r))}, name, version, payload));
    BOOST_TEST(name == "test.squared");
    BOOST_TEST(version == 2u);
    BOOST_TEST(value_of(payload) == 49u);
    natsMsg_Destroy(r);

    // the same ask with headers, as any NATS client sends it: answered with headers
    natsMsg* m = nullptr;
    natsMsg_Create(&m, "spindle.name.squarer", nullptr, reinterpret_cast<char const*>(&q), sizeof q);
    natsMsgHeader_Set(m, "Spindle-Type", "test.square");
    natsMsgHeader_Set(m, "Spindle-Codec", "binary");
    BOOST_REQUIRE(natsConnection_RequestMsg(&r, nc, m, 60000) == NATS_OK);
    natsMsg_Destroy(m);
    BOOST_TEST(header_of(r, "Spindle-Status") == "ok");
    BOOST_TEST(header_of(r, "Spindle-Type") == "test.squared");
    BOOST_TEST(header_of(r, "Spindle-Version") == "2");
    BOOST_TEST(header_of(r, "Spindle-Codec") == "binary");
    BOOST_TEST(value_of({natsMsg_GetData(r), static_cast<std::size_t>(natsMsg_GetDataLength(r))}) == 49u);
    natsMsg_Destroy(r);

    // a framed ask that fails is still answered with the error headers
    remote::detail::append_frame(frame, "test.nope", 1, {reinterpret_cast<char const*>(&q), sizeof q});
    BOOST_REQUIRE(natsConnection_Request(&r, nc, "spindle.name.squarer", frame.data(), static_cast<int>(frame.size()),
                      60000) == NATS_OK);
    BOOST_TEST(header_of(r, "Spindle-Status") == "error");
    BOOST_TEST(header_of(r, "Spindle-Error") == "spindle.remote:" + std::to_string(int(remote::error::unknown_type)));
    natsMsg_Destroy(r);
    natsConnection_Destroy(nc);

    // and a node reads the framed reply
    auto s = a.lookup<squarer>("squarer");
    for(std::uint64_t i = 0; i < 100; ++i)
        BOOST_TEST(s.ask(square{i}, spindle_test::failure_timeout).get().n == i * i);
}

BOOST_AUTO_TEST_CASE(a_payload_above_max_payload_is_refused_at_send)
{
    spindle_test::nats_server server(0, 1024);
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    remote::node b(sb, opts("b", server));
    b.publish("counter", sb.spawn<counter>());
    auto c = a.lookup<counter>("counter");
    auto r = c.ask(big{std::string(4096, 'x')}, spindle_test::failure_timeout).result();
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == remote::make_error_code(remote::error::payload_too_large));
    BOOST_TEST(c.tell(big{std::string(4096, 'x')}) == spindle::send_status::refused);
    BOOST_TEST(a.stats().sends_refused == 2u);
    BOOST_TEST(c.ask(big{"ok"}, spindle_test::failure_timeout).get() == 2u);
}

BOOST_AUTO_TEST_CASE(a_queue_group_of_three_nodes_shares_the_asks)
{
    spindle_test::nats_server server;
    spindle::system s0, s1, s2, s3;
    remote::node client(s0, opts("client", server));
    remote::node n1(s1, opts("n1", server));
    remote::node n2(s2, opts("n2", server));
    remote::node n3(s3, opts("n3", server));
    n1.publish("pool", s1.spawn<node_name>("n1"));
    n2.publish("pool", s2.spawn<node_name>("n2"));
    n3.publish("pool", s3.spawn<node_name>("n3"));

    auto p = client.lookup<node_name>("pool");
    std::map<std::string, int> by;
    std::vector<spindle::ask_future<std::string>> futures;
    for(int i = 0; i < 3000; ++i)
        futures.push_back(p.ask(who{}, spindle_test::failure_timeout));
    for(auto& f : futures)
        ++by[f.get()];
    BOOST_TEST(by.size() == 3u);
    int total = 0;
    for(auto& [name, n] : by)
    {
        BOOST_TEST_MESSAGE(name << ": " << n);
        BOOST_TEST(n > 0);
        total += n;
    }
    BOOST_TEST(total == 3000);
}

BOOST_AUTO_TEST_CASE(monitoring_a_remote_actor_gives_exactly_one_down)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    remote::node b(sb, opts("b", server));
    auto target = sb.spawn<counter>();
    b.publish("target", target);

    auto downs = std::make_shared<std::atomic<int>>(0);
    auto last = std::make_shared<std::string>();
    auto w = sa.spawn<watcher>(downs, last);
    auto proxy = a.lookup<counter>("target");
    w.tell(watch_this{proxy});
    // the monitor is in place once the serving node has registered it and
    // the watching node has its answer
    BOOST_REQUIRE(eventually([&] { return b.stats().monitored == 1u && a.stats().monitors == 1u; }));
    BOOST_TEST(proxy.alive());
    target.stop();
    BOOST_TEST(eventually([&] { return downs->load() == 1; }));
    BOOST_TEST(*last == "normal ");
    BOOST_TEST(!proxy.alive());
    // a second monitor of the ended reference gets its own notice at once
    w.tell(watch_this{proxy});
    BOOST_TEST(eventually([&] { return downs->load() == 2; }));
    BOOST_TEST(a.stats().monitors == 0u);
}

BOOST_AUTO_TEST_CASE(a_node_that_leaves_ends_its_monitored_actors)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    auto b = std::make_unique<remote::node>(sb, opts("b", server));
    b->publish("target", sb.spawn<counter>());
    BOOST_REQUIRE(eventually([&] { return a.peers().size() == 1; }));

    auto downs = std::make_shared<std::atomic<int>>(0);
    auto last = std::make_shared<std::string>();
    auto w = sa.spawn<watcher>(downs, last);
    w.tell(watch_this{a.lookup<counter>("target")});
    BOOST_REQUIRE(eventually([&] { return a.stats().monitors == 1u; }));
    b->close();
    BOOST_TEST(eventually([&] { return downs->load() == 1; }));
    BOOST_TEST(last->find("left") != std::string::npos, *last);
    BOOST_TEST(eventually([&] { return a.peers().empty(); }));
}

BOOST_AUTO_TEST_CASE(the_server_restarting_mid_traffic_is_survived)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    auto oa = opts("a", server);
    oa.max_reconnects = -1;
    auto ob = opts("b", server);
    ob.max_reconnects = -1;
    remote::node a(sa, oa);
    remote::node b(sb, ob);
    auto release = std::make_shared<std::atomic<bool>>(false);
    b.publish("counter", sb.spawn<counter>(release));
    auto c = a.lookup<counter>("counter");
    BOOST_TEST(c.ask(add{1}, spindle_test::failure_timeout).result().has_value());

    // an ask in flight (its handler waits for us) when the server dies:
    // a clear error, not a hang, and counted
    auto in_flight = c.ask(slow{}, spindle_test::failure_timeout);
    BOOST_REQUIRE(eventually([&] { return a.stats().asks_in_flight == 1u; }));
    server.kill();
    auto r = in_flight.result();
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == remote::make_error_code(remote::error::connection_lost));
    BOOST_TEST(a.stats().asks_lost == 1u);
    release->store(true);
    server.start();
    BOOST_TEST(eventually([&] { return a.stats().connected && b.stats().connected; }));
    BOOST_TEST(eventually([&] {
        auto x = c.ask(get_total{}, 5s).result();
        return x.has_value();
    }));
    BOOST_TEST(a.stats().reconnects >= 1u);
}

BOOST_AUTO_TEST_CASE(the_node_reports_itself_in_the_metrics_registry)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    remote::node a(sa, opts("a", server));
    remote::node b(sb, opts("b", server));
    b.publish("counter", sb.spawn<counter>());
    auto c = a.lookup<counter>("counter");
    BOOST_TEST(c.ask(add{1}, spindle_test::failure_timeout).result().has_value());
    BOOST_REQUIRE(eventually([&] { return a.stats().peers == 1u; }));

    auto value = [&](std::string const& family) {
        for(auto const& f : sa.metrics().snapshot())
            if(f.name == family)
                for(auto const& s : f.samples)
                    for(auto const& [k, v] : s.labels)
                        if(k == "node" && v == "a")
                            return s.value;
        return -1.0;
    };
    BOOST_TEST(value("spindle_remote_connected") == 1.0);
    BOOST_TEST(value("spindle_remote_peers") == 1.0);
    BOOST_TEST(value("spindle_remote_messages_out_total") >= 1.0);
    BOOST_TEST(value("spindle_remote_asks_in_flight") == 0.0);
    BOOST_TEST(value("spindle_remote_decode_errors_total") == 0.0);
    auto d = a.describe().as_object();
    BOOST_TEST(d.at("name").as_string() == "a");
    BOOST_TEST(d.at("connected").as_bool());
    BOOST_TEST(d.at("peers").as_array().size() == 1u);
    a.close();
    BOOST_TEST(value("spindle_remote_connected") == -1.0); // gone with the node
}

BOOST_AUTO_TEST_CASE(credentials_are_passed_to_the_server)
{
    spindle_test::nats_server server(0, 0, {}, false, "user: spindle, password: s3cret");
    spindle::system sa;
    {
        auto o = opts("a", server);
        o.user = "spindle";
        o.password = "s3cret";
        remote::node a(sa, o);
        BOOST_TEST(a.stats().connected);
    }
    auto bad = opts("b", server);
    bad.user = "spindle";
    bad.password = "wrong";
    bad.max_reconnects = 0;
    boost::system::error_code ec;
    remote::node b(sa, bad, ec);
    BOOST_TEST(ec == remote::make_error_code(remote::error::not_connected));
    BOOST_CHECK_THROW(remote::node(sa, bad), spindle::system_error);
    try
    {
        remote::node c(sa, bad);
    }
    catch(spindle::system_error const& e)
    {
        // the message names the servers it tried
        BOOST_TEST(std::string(e.what()).find(server.url()) != std::string::npos, e.what());
        BOOST_TEST(std::string(e.what()).find("Authentication Violation") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(a_token_is_passed_to_the_server)
{
    spindle_test::nats_server server(0, 0, {}, false, "token: t0ken");
    spindle::system sa;
    auto o = opts("a", server);
    o.token = "t0ken";
    remote::node a(sa, o);
    BOOST_TEST(a.stats().connected);
}

BOOST_AUTO_TEST_CASE(the_first_reachable_server_of_the_list_is_used)
{
    spindle_test::nats_server server;
    spindle::system sa, sb;
    auto o = opts("a", server);
    o.servers = {"nats://127.0.0.1:" + std::to_string(spindle_test::free_port()), server.url()};
    remote::node a(sa, o);
    remote::node b(sb, opts("b", server));
    b.publish("counter", sb.spawn<counter>());
    BOOST_TEST(a.lookup<counter>("counter").ask(add{3}, spindle_test::failure_timeout).result().has_value());
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_by_name)
{
    spindle::system sa;
    remote::node_options o;
    o.servers.clear();
    boost::system::error_code ec;
    remote::node a(sa, o, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    o = {};
    o.heartbeat_misses = 0;
    remote::node b(sa, o, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    try
    {
        remote::node c(sa, o);
        BOOST_FAIL("heartbeat_misses = 0 accepted");
    }
    catch(spindle::system_error const& e)
    {
        BOOST_TEST(std::string(e.what()).find("heartbeat_misses") != std::string::npos, e.what());
    }
}
