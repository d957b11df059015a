//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// remote_tell N and remote_pingpong N on spindle::remote: two processes,
// A (this one) and B (this program again, in its serve role), each a
// spindle::system with a remote::node, joined through a nats-server of the
// run's own (remote_common.hpp says how they are started and stopped).
//
// remote_tell: an actor in A tells N 8-byte integers (binary codec) to the
// actor B publishes as "sink", which checks they come in order; then A asks
// the sink for its tally (an ask after the last tell: the ack). Timed at A
// from the first tell to the ack's answer. msgs = N.
//
// remote_pingpong: an actor in A asks B's "echo" N times in sequence (NATS
// request/reply), each ask's get() parking its fiber; every k-th round trip
// is timed for p50/p99. msgs = 2N.

#include "remote_common.hpp"
#include "spindle_workloads.hpp"

#include <spindle/actor.hpp>
#include <spindle/remote.hpp>

#include <boost/describe.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace spindle_bench::remote_messages {

struct tick
{
    std::uint64_t n;
};

/// The ack: asks the sink what it received.
struct tally_query
{
    std::uint64_t expected;
};

struct tally
{
    std::uint64_t received;
    std::uint64_t out_of_order;
};

struct ping
{
    std::uint64_t n;
};

struct pong
{
    std::uint64_t n;
};

struct reply_pinger;

/// remote_pingpong's second measure: a tell carrying whom to answer.
struct ping_to
{
    std::uint64_t n = 0;
    spindle::actor_ref<reply_pinger> reply_to;
};
BOOST_DESCRIBE_STRUCT(ping_to, (), (n, reply_to))

} // namespace spindle_bench::remote_messages

// the fast codec: the objects' bytes (one architecture, one build)
SPINDLE_REMOTE_MESSAGE_BINARY(spindle_bench::remote_messages::tick, "bench.tick", 1);
SPINDLE_REMOTE_MESSAGE_BINARY(spindle_bench::remote_messages::tally_query, "bench.tally_query", 1);
SPINDLE_REMOTE_MESSAGE_BINARY(spindle_bench::remote_messages::tally, "bench.tally", 1);
SPINDLE_REMOTE_MESSAGE_BINARY(spindle_bench::remote_messages::ping, "bench.ping", 1);
SPINDLE_REMOTE_MESSAGE_BINARY(spindle_bench::remote_messages::pong, "bench.pong", 1);
// an actor_ref does not travel as raw bytes: JSON
SPINDLE_REMOTE_MESSAGE(spindle_bench::remote_messages::ping_to, "bench.ping_to", 1);

namespace spindle_bench {
namespace {

using namespace remote_messages;
using namespace std::chrono_literals;

/// B's actor of remote_tell: counts the ticks and checks their order.
struct sink : spindle::actor<sink, tick, tally_query>
{
    std::uint64_t next_ = 0;
    std::uint64_t out_of_order_ = 0;

    void on(tick const& t)
    {
        if(t.n != next_)
            ++out_of_order_;
        next_ = t.n + 1;
    }

    tally on(tally_query const&) { return tally{next_, out_of_order_}; }
};

/// B's actor of remote_pingpong.
struct echo : spindle::actor<echo, ping>
{
    pong on(ping const& p) { return pong{p.n}; }
};

/// B's actor of remote_pingpong's second measure: answers with a tell.
struct reply_echo : spindle::actor<reply_echo, ping_to>
{
    void on(ping_to const& p) { p.reply_to.tell(pong{p.n}); }
};

struct start
{
};

/// A's actor of remote_tell: N tells, then the ack.
struct teller : spindle::actor<teller, start>
{
    spindle::actor_ref<sink> to_;
    std::uint64_t n_;
    bench::completion* done_;

    teller(spindle::actor_ref<sink> to, std::uint64_t n, bench::completion* done) : to_(std::move(to)), n_(n), done_(done)
    {
    }

    void on(start)
    {
        for(std::uint64_t i = 0; i < n_; ++i)
            if(to_.tell(tick{i}) != spindle::send_status::ok)
            {
                done_->fail("tell " + std::to_string(i) + " was refused");
                return;
            }
        boost::system::error_code ec;
        tally const t = to_.ask(tally_query{n_}, 120s).get(ec);
        if(ec)
            done_->fail("the ack failed: " + ec.message());
        else if(t.received != n_ || t.out_of_order != 0)
            done_->fail("B received " + std::to_string(t.received) + " ticks of " + std::to_string(n_) + ", " +
                        std::to_string(t.out_of_order) + " out of order");
        else
            done_->finish();
    }
};

/// A's actor of remote_pingpong: N asks in sequence.
struct pinger : spindle::actor<pinger, start>
{
    spindle::actor_ref<echo> to_;
    std::uint64_t n_;
    bench::rtt_sampler* rtt_;
    bench::completion* done_;

    pinger(spindle::actor_ref<echo> to, std::uint64_t n, bench::rtt_sampler* rtt, bench::completion* done)
        : to_(std::move(to)), n_(n), rtt_(rtt), done_(done)
    {
    }

    void on(start)
    {
        for(std::uint64_t i = 1; i <= n_; ++i)
        {
            bool const timed = rtt_->sampled(i);
            if(timed)
                rtt_->start();
            boost::system::error_code ec;
            pong const p = to_.ask(ping{i}, 30s).get(ec);
            if(timed)
                rtt_->stop();
            if(ec || p.n != i)
            {
                done_->fail("ask " + std::to_string(i) + " got " + std::to_string(ec ? 0 : p.n) + " (" +
                            ec.message() + ")");
                return;
            }
        }
        done_->finish();
    }
};

} // namespace
} // namespace spindle_bench

namespace spindle_bench::remote_messages {

/// A's actor of the second measure: the next ping when the pong comes back.
struct reply_pinger : spindle::actor<reply_pinger, pong>
{
    spindle::actor_ref<reply_echo> to_;
    std::uint64_t n_;
    bench::rtt_sampler* rtt_;
    bench::completion* done_;
    std::uint64_t sent_ = 0;

    reply_pinger(spindle::actor_ref<reply_echo> to, std::uint64_t n, bench::rtt_sampler* rtt, bench::completion* done)
        : to_(std::move(to)), n_(n), rtt_(rtt), done_(done)
    {
    }

    void send_next()
    {
        ++sent_;
        if(rtt_->sampled(sent_))
            rtt_->start();
        to_.tell(ping_to{sent_, self()});
    }

    void pre_start() override { send_next(); }

    void on(pong const& p)
    {
        if(rtt_->sampled(p.n))
            rtt_->stop();
        if(p.n != sent_)
            done_->fail("pong " + std::to_string(p.n) + " answers ping " + std::to_string(sent_));
        else if(sent_ == n_)
            done_->finish();
        else
            send_next();
    }
};

} // namespace spindle_bench::remote_messages

namespace spindle_bench {
namespace {

spindle::remote::node_options node_options(char const* name, std::string const& url)
{
    spindle::remote::node_options no;
    no.name = name;
    no.servers = {url};
    return no;
}

/// A: the nats-server, B, a node, and B's actor published as `name`.
struct side_a
{
    bench::remote::nats_server server;
    std::unique_ptr<bench::remote::child> b;

    side_a(std::string const& workload, std::uint64_t n)
    {
        b = bench::remote::start_server(workload, server.url(), {workload, std::to_string(n)});
        auto const line = b->read_line(60s);
        bench::check(line.rfind("ready", 0) == 0, "process B said '" + line + "', not ready");
    }
};

template<class A, class Run>
bench::result run_remote(bench::options const& o, char const* published, Run run)
{
    side_a a(o.workload, o.n);
    bench::result r;
    {
        spindle::system sys(system_options(o));
        spindle::remote::node node(sys, node_options("a", a.server.url()));
        bench::check(node.await_published(published, 30s), std::string("B's \"") + published + "\" never appeared");
        auto to = node.lookup<A>(published);
        run(sys, node, to, r);
        auto const st = node.stats();
        r.extra.emplace_back("slow_consumer_drops", st.slow_consumer_drops);
        r.extra.emplace_back("sends_refused", st.sends_refused);
        add_stats(sys, r);
    }
    bench::remote::finish(r, *a.b, &a.server);
    return r;
}

} // namespace

bench::result run_remote_tell(bench::options const& o)
{
    return run_remote<sink>(o, "sink", [&](spindle::system& sys, spindle::remote::node&, spindle::actor_ref<sink> const& to,
                                           bench::result& r) {
        bench::completion done;
        auto t = sys.spawn<teller>(to, o.n, &done);
        bench::stopwatch const sw;
        t.tell(start{});
        done.wait();
        sw.stop(r);
        r.msgs = o.n;
    });
}

bench::result run_remote_pingpong(bench::options const& o)
{
    return run_remote<echo>(o, "echo", [&](spindle::system& sys, spindle::remote::node& node,
                                           spindle::actor_ref<echo> const& to, bench::result& r) {
        {
            bench::completion done;
            bench::rtt_sampler rtt(o.n);
            auto p = sys.spawn<pinger>(to, o.n, &rtt, &done);
            bench::stopwatch const sw;
            p.tell(start{});
            done.wait();
            sw.stop(r);
            r.msgs = 2 * o.n;
            r.extra = {{"p50_ns", rtt.percentile(50)}, {"p99_ns", rtt.percentile(99)}};
        }
        // the same round trips as tells, the pong to a reference in the ping
        // (JSON: an actor_ref crosses the wire), reported beside the asks
        bench::check(node.await_published("reply_echo", 30s), "B's \"reply_echo\" never appeared");
        bench::completion done;
        bench::rtt_sampler rtt(o.n);
        auto const t0 = bench::clock_type::now();
        sys.spawn<reply_pinger>(node.lookup<reply_echo>("reply_echo"), o.n, &rtt, &done);
        done.wait();
        double const s = std::chrono::duration<double>(bench::clock_type::now() - t0).count();
        r.extra.emplace_back("tell_reply_msgs_per_s", static_cast<std::uint64_t>(2.0 * static_cast<double>(o.n) / s));
        r.extra.emplace_back("tell_reply_p50_ns", rtt.percentile(50));
        r.extra.emplace_back("tell_reply_p99_ns", rtt.percentile(99));
    });
}

int serve_remote(std::string const& workload)
{
    try
    {
        bench::options o;
        o.threads = bench::threads_from_env();
        spindle::system sys(system_options(o));
        spindle::remote::node node(sys, node_options("b", bench::remote::serve_url()));
        if(workload == "remote_tell")
            node.publish("sink", sys.spawn<sink>());
        else if(workload == "remote_pingpong")
        {
            node.publish("echo", sys.spawn<echo>());
            node.publish("reply_echo", sys.spawn<reply_echo>());
        }
        else
        {
            std::fprintf(stderr, "spindle B: no workload '%s'\n", workload.c_str());
            return 2;
        }
        bench::remote::ready_then_wait_for_eof();
        auto const st = node.stats();
        if(st.slow_consumer_drops || st.undeliverable || st.decode_errors)
        {
            std::fprintf(stderr, "spindle B: %llu slow-consumer drops, %llu undeliverable, %llu decode errors\n",
                         static_cast<unsigned long long>(st.slow_consumer_drops),
                         static_cast<unsigned long long>(st.undeliverable),
                         static_cast<unsigned long long>(st.decode_errors));
            return 1;
        }
        return 0;
    }
    catch(std::exception const& e)
    {
        std::fprintf(stderr, "spindle B (%s): %s\n", workload.c_str(), e.what());
        return 1;
    }
}

} // namespace spindle_bench
