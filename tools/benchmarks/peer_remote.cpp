//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// remote_tell N and remote_pingpong N on raw cnats (`peers_bench cnats`):
// the peer of spindle_remote.cpp, the same two processes and nats-server
// (remote_common.hpp), with the NATS C client used directly and no
// framework: what Spindle's remote layer adds is the difference.
//
// Both connections are set up as Spindle's node sets up its own:
// natsOptions_SetSendAsap (without it cnats 3.4's flusher waits about a
// millisecond before it writes, which would decide every round trip), and
// B's subscription has its pending limits raised to Spindle's defaults
// (2^20 messages, 256 MiB), so a burst is not dropped silently; B checks
// natsSubscription_GetDropped and reports any drop.
//
// remote_tell: A publishes N 8-byte integers to "bench.tell"; B's async
// subscriber checks their order; then A sends a request to the same
// subject (the ack: B's callback answers it with what it received, and
// cnats delivers one subscription's messages in order, so it comes after
// the last tell). Timed from the first publish to the ack's reply.
// msgs = N.
//
// remote_pingpong: A makes N requests (natsConnection_Request, an 8-byte
// payload) to "bench.echo"; B's callback publishes each payload back to
// the request's reply subject. Every k-th round trip is timed. msgs = 2N.

#include "peer_workloads.hpp"
#include "remote_common.hpp"

#include <nats/nats.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace peer_bench {
namespace {

using namespace std::chrono_literals;

constexpr char const* tell_subject = "bench.tell";
constexpr char const* echo_subject = "bench.echo";

// Spindle's node_options defaults, so both sides drop alike (they never should)
constexpr int pending_messages = 1 << 20;
constexpr int pending_bytes = 256 * 1024 * 1024;

void ok(natsStatus s, char const* what)
{
    if(s != NATS_OK)
        throw bench::failure(std::string(what) + ": " + natsStatus_GetText(s));
}

/// One connection with Spindle's settings.
class connection
{
    natsOptions* opts_ = nullptr;
    natsConnection* nc_ = nullptr;

public:
    explicit connection(std::string const& url)
    {
        ok(natsOptions_Create(&opts_), "natsOptions_Create");
        ok(natsOptions_SetURL(opts_, url.c_str()), "natsOptions_SetURL");
        ok(natsOptions_SetSendAsap(opts_, true), "natsOptions_SetSendAsap");
        ok(natsConnection_Connect(&nc_, opts_), "natsConnection_Connect");
    }

    ~connection()
    {
        if(nc_)
            natsConnection_Destroy(nc_);
        if(opts_)
            natsOptions_Destroy(opts_);
    }

    connection(connection const&) = delete;
    connection& operator=(connection const&) = delete;

    natsConnection* get() const noexcept { return nc_; }
};

/// What B's tell subscriber saw; touched only by its one callback thread.
struct tell_state
{
    natsConnection* nc = nullptr;
    natsSubscription* sub = nullptr;
    std::uint64_t next = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t bad_size = 0;
};

/// The ack's reply: received, out of order, dropped by cnats.
struct tally
{
    std::uint64_t received, out_of_order, dropped;
};

void on_tell(natsConnection*, natsSubscription*, natsMsg* m, void* closure)
{
    auto& st = *static_cast<tell_state*>(closure);
    if(char const* reply = natsMsg_GetReply(m))
    {
        int64_t dropped = 0;
        natsSubscription_GetDropped(st.sub, &dropped);
        tally const t{st.next, st.out_of_order + st.bad_size, static_cast<std::uint64_t>(dropped)};
        natsConnection_Publish(st.nc, reply, &t, sizeof t);
    }
    else if(natsMsg_GetDataLength(m) != sizeof(bench::remote::tick_type))
    {
        ++st.bad_size;
    }
    else
    {
        bench::remote::tick_type v;
        std::memcpy(&v, natsMsg_GetData(m), sizeof v);
        if(v != st.next)
            ++st.out_of_order;
        st.next = v + 1;
    }
    natsMsg_Destroy(m);
}

void on_echo(natsConnection* nc, natsSubscription*, natsMsg* m, void*)
{
    if(char const* reply = natsMsg_GetReply(m))
        natsConnection_Publish(nc, reply, natsMsg_GetData(m), natsMsg_GetDataLength(m));
    natsMsg_Destroy(m);
}

/// A's side: the nats-server, B, and A's connection.
struct side_a
{
    bench::remote::nats_server server;
    std::unique_ptr<bench::remote::child> b;
    std::unique_ptr<connection> conn;

    side_a(std::string const& workload, std::uint64_t n)
    {
        b = bench::remote::start_server(workload, server.url(), {"cnats", workload, std::to_string(n)});
        auto const line = b->read_line(60s);
        bench::check(line.rfind("ready", 0) == 0, "process B said '" + line + "', not ready");
        conn = std::make_unique<connection>(server.url());
    }
};

struct reply_ptr
{
    natsMsg* m = nullptr;
    ~reply_ptr()
    {
        if(m)
            natsMsg_Destroy(m);
    }
};

} // namespace

bench::result run_remote_tell_cnats(bench::options const& o)
{
    side_a a(o.workload, o.n);
    natsConnection* nc = a.conn->get();
    bench::result r;
    bench::stopwatch const sw;
    for(bench::remote::tick_type i = 0; i < o.n; ++i)
        ok(natsConnection_Publish(nc, tell_subject, &i, sizeof i), "natsConnection_Publish");
    reply_ptr reply;
    ok(natsConnection_Request(&reply.m, nc, tell_subject, nullptr, 0, 120'000), "the ack (natsConnection_Request)");
    sw.stop(r);
    r.msgs = o.n;
    bench::check(natsMsg_GetDataLength(reply.m) == sizeof(tally), "the ack's reply has a wrong size");
    tally t;
    std::memcpy(&t, natsMsg_GetData(reply.m), sizeof t);
    bench::check(t.received == o.n && t.out_of_order == 0 && t.dropped == 0,
                 "B received " + std::to_string(t.received) + " of " + std::to_string(o.n) + ", " +
                     std::to_string(t.out_of_order) + " out of order, " + std::to_string(t.dropped) +
                     " dropped by cnats");
    a.conn.reset();
    bench::remote::finish(r, *a.b, &a.server);
    return r;
}

bench::result run_remote_pingpong_cnats(bench::options const& o)
{
    side_a a(o.workload, o.n);
    natsConnection* nc = a.conn->get();
    bench::result r;
    bench::rtt_sampler rtt(o.n);
    bench::stopwatch const sw;
    for(bench::remote::tick_type i = 1; i <= o.n; ++i)
    {
        bool const timed = rtt.sampled(i);
        if(timed)
            rtt.start();
        reply_ptr reply;
        ok(natsConnection_Request(&reply.m, nc, echo_subject, &i, sizeof i, 30'000), "natsConnection_Request");
        if(timed)
            rtt.stop();
        bench::remote::tick_type v = 0;
        if(natsMsg_GetDataLength(reply.m) == sizeof v)
            std::memcpy(&v, natsMsg_GetData(reply.m), sizeof v);
        bench::check(v == i, "request " + std::to_string(i) + " got " + std::to_string(v));
    }
    sw.stop(r);
    r.msgs = 2 * o.n;
    r.extra = {{"p50_ns", rtt.percentile(50)}, {"p99_ns", rtt.percentile(99)}};
    a.conn.reset();
    bench::remote::finish(r, *a.b, &a.server);
    return r;
}

int serve_remote_cnats(std::string const& workload)
{
    try
    {
        connection conn(bench::remote::serve_url());
        tell_state st;
        st.nc = conn.get();
        bool const tell = workload == "remote_tell";
        if(!tell && workload != "remote_pingpong")
        {
            std::fprintf(stderr, "cnats B: no workload '%s'\n", workload.c_str());
            return 2;
        }
        ok(natsConnection_Subscribe(&st.sub, conn.get(), tell ? tell_subject : echo_subject, tell ? &on_tell : &on_echo,
                                    &st),
           "natsConnection_Subscribe");
        ok(natsSubscription_SetPendingLimits(st.sub, pending_messages, pending_bytes), "SetPendingLimits");
        // the server has the subscription once the flush's PONG is back
        ok(natsConnection_Flush(conn.get()), "natsConnection_Flush");
        bench::remote::ready_then_wait_for_eof();
        int64_t dropped = 0;
        natsSubscription_GetDropped(st.sub, &dropped);
        natsSubscription_Unsubscribe(st.sub);
        natsSubscription_Destroy(st.sub);
        if(dropped)
        {
            std::fprintf(stderr, "cnats B: %lld messages dropped by cnats\n", static_cast<long long>(dropped));
            return 1;
        }
        return 0;
    }
    catch(std::exception const& e)
    {
        std::fprintf(stderr, "cnats B (%s): %s\n", workload.c_str(), e.what());
        return 1;
    }
}

} // namespace peer_bench
