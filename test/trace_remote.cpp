//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// Trace context across NATS: two nodes in one process against a real
// nats-server, and two processes (this executable runs itself again as the
// far side); the receiving handler's span is a child of the sender's.

#include <spindle/trace/tracing.hpp>

#include <boost/test/unit_test.hpp>

#include "nats_server.hpp"
#include "support.hpp"
#include "trace_support.hpp"

#include <spindle/actor.hpp>
#include <spindle/remote/node.hpp>
#include <spindle/system.hpp>
#include <spindle/trace/span.hpp>

#include <spindle/trace/exporter.hpp>

#include <boost/describe.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <nats/nats.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle::trace;
using namespace spindle_test;
namespace remote = spindle::remote;

namespace trr {

struct note
{
    int n = 0;
};
BOOST_DESCRIBE_STRUCT(note, (), (n))

struct query
{
};
BOOST_DESCRIBE_STRUCT(query, (), ())

struct fast
{
    std::uint64_t n = 0;
};

struct fast_query
{
    std::uint64_t n = 0;
};

struct target : spindle::actor<target, note, query, fast, fast_query>
{
    std::shared_ptr<std::atomic<int>> seen;
    explicit target(std::shared_ptr<std::atomic<int>> s) : seen(std::move(s)) {}
    void on(note const&) { seen->fetch_add(1); }
    int on(query) { return 7; }
    void on(fast const&) { seen->fetch_add(1); }
    std::uint64_t on(fast_query const& q) { return q.n + 1; }
};

} // namespace trr

SPINDLE_REMOTE_MESSAGE(trr::note, "trr.note", 1);
SPINDLE_REMOTE_MESSAGE(trr::query, "trr.query", 1);
SPINDLE_REMOTE_MESSAGE_BINARY(trr::fast, "trr.fast", 1);
SPINDLE_REMOTE_MESSAGE_BINARY(trr::fast_query, "trr.fast_query", 1);

namespace {

remote::node_options opts(std::string name, nats_server const& s)
{
    remote::node_options o;
    o.name = std::move(name);
    o.servers = {s.url()};
    o.heartbeat_interval = 200ms;
    return o;
}

/// Two nodes on one server, `target` published on b as "target".
struct two_nodes
{
    nats_server server;
    spindle::system sa, sb;
    remote::node a{sa, opts("a", server)};
    remote::node b{sb, opts("b", server)};
    std::shared_ptr<std::atomic<int>> seen = std::make_shared<std::atomic<int>>(0);
    spindle::actor_ref<trr::target> far;

    two_nodes()
    {
        b.publish("target", sb.spawn<trr::target>(seen));
        far = a.lookup<trr::target>("target");
    }
};

/// A raw NATS subscriber on the name's subject: sees what the node sends.
struct wire_tap
{
    natsConnection* nc = nullptr;
    natsSubscription* sub = nullptr;

    wire_tap(nats_server const& s, char const* subject)
    {
        BOOST_REQUIRE(natsConnection_ConnectTo(&nc, s.url().c_str()) == NATS_OK);
        BOOST_REQUIRE(natsConnection_SubscribeSync(&sub, nc, subject) == NATS_OK);
        BOOST_REQUIRE(natsConnection_Flush(nc) == NATS_OK);
    }
    ~wire_tap()
    {
        natsSubscription_Destroy(sub);
        natsConnection_Destroy(nc);
    }
    /// The next message (owned by the caller), or null.
    natsMsg* next()
    {
        natsMsg* m = nullptr;
        natsSubscription_NextMsg(&m, sub, 60000);
        return m;
    }
};

std::string header_of(natsMsg* m, char const* key)
{
    char const* v = nullptr;
    if(natsMsgHeader_Get(m, key, &v) != NATS_OK || !v)
        return {};
    return v;
}

std::string_view data_of(natsMsg* m)
{
    return {natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))};
}

} // namespace

BOOST_AUTO_TEST_CASE(a_remote_handler_is_a_child_of_the_sender_json_and_binary)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    two_nodes n;

    span_context sender;
    instrument("sender", [&] {
        sender = current_span().context();
        BOOST_TEST(n.far.tell(trr::note{1}) == spindle::send_status::ok);
        BOOST_TEST(n.far.tell(trr::fast{2}) == spindle::send_status::ok);
        BOOST_TEST(n.far.ask(trr::query{}, failure_timeout).get() == 7);
        BOOST_TEST(n.far.ask(trr::fast_query{41}, failure_timeout).get() == 42u);
    });
    BOOST_REQUIRE(sender.valid());

    for(char const* name : {"trr::note", "trr::fast", "trr::query", "trr::fast_query"})
    {
        BOOST_TEST_CONTEXT(name)
        {
            auto h = wait_span(t, *exp, name);
            BOOST_REQUIRE(h.has_value());
            BOOST_TEST(h->context.trace.to_hex() == sender.trace.to_hex());
            BOOST_TEST(h->parent.to_hex() == sender.span.to_hex());
            BOOST_TEST(h->context.span.to_hex() != sender.span.to_hex());
            BOOST_TEST(attr_string(*h, "actor.type") == "trr::target");
        }
    }
}

BOOST_AUTO_TEST_CASE(tracestate_and_an_unsampled_decision_cross_the_wire)
{
    auto exp = std::make_shared<capture_exporter>();
    // parent-based: a remote parent's decision is kept on the far node too
    tracing t(capture_options(exp, parent_based(always_on())));
    two_nodes n;

    auto const state = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
    auto incoming = extract("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", state);
    BOOST_REQUIRE(incoming.has_value());
    {
        span_options o;
        o.parent = *incoming;
        instrument(
            "sampled-sender",
            [&] {
                BOOST_TEST(n.far.tell(trr::note{1}) == spindle::send_status::ok);
                BOOST_TEST(n.far.tell(trr::fast{2}) == spindle::send_status::ok);
            },
            o);
    }
    BOOST_TEST(eventually([&] { return n.seen->load() == 2; }));
    for(char const* name : {"trr::note", "trr::fast"})
    {
        BOOST_TEST_CONTEXT(name)
        {
            auto h = wait_span(t, *exp, name);
            BOOST_REQUIRE(h.has_value());
            BOOST_TEST(h->context.trace.to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
            BOOST_TEST(h->context.state.to_header() == state);
        }
    }

    // a context the caller did not sample: the far handler is not recorded
    auto unsampled = extract("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "");
    BOOST_REQUIRE(unsampled.has_value());
    {
        scope sc{span(*unsampled)};
        BOOST_TEST(n.far.tell(trr::note{3}) == spindle::send_status::ok);
        BOOST_TEST(n.far.tell(trr::fast{4}) == spindle::send_status::ok);
    }
    BOOST_TEST(eventually([&] { return n.seen->load() == 4; }));
    t.force_flush(std::chrono::seconds(10));
    for(auto const& s : exp->spans())
        BOOST_TEST(s.context.trace.to_hex() != "0af7651916cd43dd8448eb211c80319c");
}

BOOST_AUTO_TEST_CASE(the_wire_carries_the_context_only_when_there_is_one)
{
    two_nodes n;
    wire_tap tap(n.server, "spindle.name.target");

    // tracing off: nothing added, whatever the sender does
    BOOST_TEST(n.far.tell(trr::note{1}) == spindle::send_status::ok);
    natsMsg* m = tap.next();
    BOOST_REQUIRE(m);
    BOOST_TEST(header_of(m, "traceparent").empty());
    natsMsg_Destroy(m);
    BOOST_TEST(n.far.tell(trr::fast{1}) == spindle::send_status::ok);
    m = tap.next();
    BOOST_REQUIRE(m);
    BOOST_TEST(data_of(m).substr(0, 4) == std::string_view("\0SPN", 4));
    natsMsg_Destroy(m);

    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    span_context sender;
    instrument("sender", [&] {
        sender = current_span().context();
        BOOST_TEST(n.far.tell(trr::note{1}) == spindle::send_status::ok);
        BOOST_TEST(n.far.tell(trr::fast{1}) == spindle::send_status::ok);
    });
    std::string const tp = format_traceparent(sender);
    m = tap.next();
    BOOST_REQUIRE(m);
    BOOST_TEST(header_of(m, "traceparent") == tp);
    BOOST_TEST(header_of(m, "tracestate").empty());
    natsMsg_Destroy(m);
    m = tap.next();
    BOOST_REQUIRE(m);
    auto const d = data_of(m);
    BOOST_TEST(d.substr(0, 4) == std::string_view("\0SPT", 4));
    BOOST_TEST(d.find(tp) != std::string_view::npos);
    BOOST_TEST(header_of(m, "traceparent").empty()); // the frame needs no headers
    natsMsg_Destroy(m);
}

BOOST_AUTO_TEST_CASE(a_plain_nats_client_sets_the_parent_with_a_traceparent_header)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    two_nodes n;

    natsConnection* nc = nullptr;
    BOOST_REQUIRE(natsConnection_ConnectTo(&nc, n.server.url().c_str()) == NATS_OK);
    natsMsg* m = nullptr;
    natsMsg_Create(&m, "spindle.name.target", nullptr, "{}", 2);
    natsMsgHeader_Set(m, "Spindle-Type", "trr.query");
    natsMsgHeader_Set(m, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    natsMsg* r = nullptr;
    BOOST_REQUIRE(natsConnection_RequestMsg(&r, nc, m, 60000) == NATS_OK);
    BOOST_TEST(data_of(r) == "7");
    natsMsg_Destroy(r);
    natsMsg_Destroy(m);
    natsConnection_Destroy(nc);

    auto h = wait_span(t, *exp, "trr::query");
    BOOST_REQUIRE(h.has_value());
    BOOST_TEST(h->context.trace.to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    BOOST_TEST(h->parent.to_hex() == "00f067aa0ba902b7");
}

//------------------------------------------------------------------------------
// Two processes: the case below runs this executable again with
// --run_test=far_process and the server's URL in the environment. The far
// process exports its spans to a JSON-lines file (OTLP/JSON, its own
// pipeline and service.name); the near one checks that its ask's and
// tell's handlers there are children of its span.

namespace {

remote::node_options far_opts(std::string name, std::string url)
{
    remote::node_options o;
    o.name = std::move(name);
    o.servers = {std::move(url)};
    o.heartbeat_interval = 200ms;
    return o;
}

std::string resource_service(boost::json::value const& request)
{
    for(auto const& a : request.at("resourceSpans").at(0).at("resource").at("attributes").as_array())
        if(a.at("key").as_string() == "service.name")
            return std::string(a.at("value").at("stringValue").as_string());
    return {};
}

} // namespace

// Only in the child the case below starts (disabled: never run otherwise).
BOOST_AUTO_TEST_CASE(far_process, *boost::unit_test::disabled())
{
    char const* url = std::getenv("SPINDLE_TRACE_FAR_URL");
    char const* out = std::getenv("SPINDLE_TRACE_FAR_OUT");
    BOOST_REQUIRE(url && out);
    tracing_options o;
    o.service_name = "far-process";
    o.exporter = std::make_shared<jsonl_exporter>(std::string(out));
    o.batch.schedule_delay = 50ms;
    tracing t(std::move(o)); // the default sampler: parent-based, always on
    spindle::system sys;
    remote::node far(sys, far_opts("far", url));
    auto notes = std::make_shared<std::atomic<int>>(0);
    far.publish("target", sys.spawn<trr::target>(notes));
    // until the near side's tell arrives, after its ask
    BOOST_REQUIRE(wait_for([&] { return notes->load() > 0; }, std::chrono::seconds(120)));
    far.close();
    sys.shutdown();
    t.shutdown(); // exports what is queued
}

BOOST_AUTO_TEST_CASE(a_handler_in_another_process_is_a_child_of_the_senders_span)
{
    nats_server server;
    std::string const out = "/tmp/spindle-trace-far-" + std::to_string(::getpid()) + ".jsonl";
    ::unlink(out.c_str());
    std::vector<std::string> env_store;
    for(char** e = environ; *e; ++e)
        env_store.emplace_back(*e);
    env_store.push_back("SPINDLE_TRACE_FAR_URL=" + server.url());
    env_store.push_back("SPINDLE_TRACE_FAR_OUT=" + out);
    std::vector<char*> envp;
    for(auto& e : env_store)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    char self[] = "/proc/self/exe";
    char run[] = "--run_test=far_process";
    char quiet[] = "--log_level=error";
    char* argv[] = {self, run, quiet, nullptr};
    pid_t pid = -1;
    BOOST_REQUIRE(::posix_spawn(&pid, self, nullptr, nullptr, argv, envp.data()) == 0);
    struct reaper
    {
        pid_t& pid;
        ~reaper()
        {
            if(pid > 0)
            {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
        }
    } reap{pid};

    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    remote::node near(sys, far_opts("near", server.url()));
    BOOST_REQUIRE(near.await_published("target", std::chrono::seconds(120)));
    auto far = near.lookup<trr::target>("target");
    auto request = start_span("request");
    {
        scope sc(request);
        BOOST_TEST(far.ask(trr::query{}, std::chrono::seconds(60)).get() == 7);
        BOOST_TEST(far.tell(trr::note{1}) == spindle::send_status::ok);
    }
    request.end();

    // the far process ends once the tell is handled, its spans exported
    int status = -1;
    BOOST_REQUIRE(wait_for([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, std::chrono::seconds(120)));
    pid = -1;
    BOOST_REQUIRE(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);

    std::ifstream in(out);
    std::string line;
    std::vector<std::pair<std::string, boost::json::value>> spans; // (service, span)
    while(std::getline(in, line))
    {
        auto const req = boost::json::parse(line);
        for(auto const& ss : req.at("resourceSpans").at(0).at("scopeSpans").as_array())
            for(auto const& sp : ss.at("spans").as_array())
                spans.emplace_back(resource_service(req), sp);
    }
    ::unlink(out.c_str());
    auto const trace_hex = request.context().trace.to_hex();
    auto const parent_hex = request.context().span.to_hex();
    int children = 0;
    for(auto const& [service, sp] : spans)
    {
        std::string const name(sp.at("name").as_string());
        if(name != "trr::query" && name != "trr::note")
            continue;
        BOOST_TEST_INFO("span " << name);
        BOOST_TEST(service == "far-process");
        BOOST_TEST(sp.at("traceId").as_string() == trace_hex);
        BOOST_TEST(sp.at("parentSpanId").as_string() == parent_hex);
        ++children;
    }
    BOOST_TEST(children == 2); // the ask's handler and the tell's
    near.close();
    sys.shutdown();
}
