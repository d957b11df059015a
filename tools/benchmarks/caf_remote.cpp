//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// remote_tell N and remote_pingpong N on CAF 0.17's remote actors: the
// twin of spindle_remote.cpp with libcaf_io's middleman (BASP over a
// loopback TCP connection, no broker). Process B (this program again,
// remote_common.hpp) publishes its actor with `middleman().publish` on
// 127.0.0.1 and a port the OS picks, and says the port; A connects with
// `middleman().remote_actor`. No nats-server: CAF's nodes talk directly.
//
// remote_tell: an actor in A sends N (tick, n) messages to B's sink, which
// checks their order; then A requests the sink's tally (the ack; BASP keeps
// one connection's order). Timed from the first send to the ack's reply.
// msgs = N.
//
// remote_pingpong: as caf_pingpong.cpp, across the connection: the pinger
// sends (ping, n), the ponger's reply goes to the implicit sender, every
// k-th round trip is timed. msgs = 2N.

#include "caf_workloads.hpp"
#include "remote_common.hpp"

#include <caf/io/all.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace caf_bench {
namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using tally_atom = caf::atom_constant<caf::atom("tally")>;

/// The workloads' configuration plus the middleman (libcaf_io).
class remote_config : public config
{
public:
    explicit remote_config(bench::options const& o) : config(o) { load<caf::io::middleman>(); }
};

class sink : public caf::event_based_actor
{
    std::uint64_t next_ = 0;
    std::uint64_t out_of_order_ = 0;

public:
    using caf::event_based_actor::event_based_actor;

    caf::behavior make_behavior() override
    {
        return {
            [this](tick_atom, std::uint64_t n) {
                if(n != next_)
                    ++out_of_order_;
                next_ = n + 1;
            },
            [this](tally_atom) { return std::make_tuple(next_, out_of_order_); },
        };
    }
};

class ponger : public caf::event_based_actor
{
public:
    using caf::event_based_actor::event_based_actor;

    caf::behavior make_behavior() override
    {
        return {[](ping_atom, std::uint64_t n) { return std::make_tuple(pong_atom::value, n); }};
    }
};

class teller : public caf::event_based_actor
{
    caf::actor to_;
    std::uint64_t n_;
    bench::completion* done_;

public:
    teller(caf::actor_config& cfg, caf::actor to, std::uint64_t n, bench::completion* done)
        : caf::event_based_actor(cfg), to_(std::move(to)), n_(n), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {
            [this](start_atom) {
                for(std::uint64_t i = 0; i < n_; ++i)
                    send(to_, tick_atom::value, i);
                request(to_, std::chrono::seconds(120), tally_atom::value)
                    .then(
                        [this](std::uint64_t received, std::uint64_t out_of_order) {
                            if(received != n_ || out_of_order != 0)
                                done_->fail("B received " + std::to_string(received) + " ticks of " +
                                            std::to_string(n_) + ", " + std::to_string(out_of_order) +
                                            " out of order");
                            else
                                done_->finish();
                        },
                        [this](caf::error const& e) { done_->fail("the ack failed: " + system().render(e)); });
            },
        };
    }
};

class pinger : public caf::event_based_actor
{
    caf::actor to_;
    std::uint64_t rounds_;
    bench::rtt_sampler* rtt_;
    bench::completion* done_;
    std::uint64_t sent_ = 0;

    void send_next()
    {
        ++sent_;
        if(rtt_->sampled(sent_))
            rtt_->start();
        send(to_, ping_atom::value, sent_);
    }

public:
    pinger(caf::actor_config& cfg, caf::actor to, std::uint64_t rounds, bench::rtt_sampler* rtt,
           bench::completion* done)
        : caf::event_based_actor(cfg), to_(std::move(to)), rounds_(rounds), rtt_(rtt), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {
            [this](start_atom) { send_next(); },
            [this](pong_atom, std::uint64_t n) {
                if(rtt_->sampled(n))
                    rtt_->stop();
                if(n != sent_)
                {
                    done_->fail("pong " + std::to_string(n) + " answers ping " + std::to_string(sent_));
                    return;
                }
                if(sent_ == rounds_)
                    done_->finish();
                else
                    send_next();
            },
        };
    }
};

/// A's side: B, its port, and the remote actor.
template<class Run>
bench::result run_remote(bench::options const& o, Run run)
{
    auto b = bench::remote::start_server(o.workload, "", {o.workload, std::to_string(o.n)});
    auto const line = b->read_line(std::chrono::seconds(60));
    bench::check(line.rfind("ready ", 0) == 0, "process B said '" + line + "', not ready PORT");
    auto const port = static_cast<std::uint16_t>(std::stoul(line.substr(6)));
    bench::result r;
    {
        remote_config cfg(o);
        caf::actor_system sys(cfg);
        auto to = sys.middleman().remote_actor("127.0.0.1", port);
        if(!to)
            throw bench::failure("remote_actor 127.0.0.1:" + std::to_string(port) + ": " + sys.render(to.error()));
        run(sys, *to, r);
    }
    bench::remote::finish(r, *b, nullptr);
    return r;
}

} // namespace

bench::result run_remote_tell(bench::options const& o)
{
    return run_remote(o, [&](caf::actor_system& sys, caf::actor const& to, bench::result& r) {
        bench::completion done;
        auto t = sys.spawn<teller>(to, o.n, &done);
        bench::stopwatch const sw;
        caf::anon_send(t, start_atom::value);
        done.wait();
        sw.stop(r);
        r.msgs = o.n;
        caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
    });
}

bench::result run_remote_pingpong(bench::options const& o)
{
    return run_remote(o, [&](caf::actor_system& sys, caf::actor const& to, bench::result& r) {
        bench::completion done;
        bench::rtt_sampler rtt(o.n);
        auto p = sys.spawn<pinger>(to, o.n, &rtt, &done);
        bench::stopwatch const sw;
        caf::anon_send(p, start_atom::value);
        done.wait();
        sw.stop(r);
        r.msgs = 2 * o.n;
        r.extra = {{"p50_ns", rtt.percentile(50)}, {"p99_ns", rtt.percentile(99)}};
        caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    });
}

int serve_remote(std::string const& workload)
{
    try
    {
        bench::options o;
        o.threads = bench::threads_from_env();
        remote_config cfg(o);
        caf::actor_system sys(cfg);
        caf::actor a;
        if(workload == "remote_tell")
            a = sys.spawn<sink>();
        else if(workload == "remote_pingpong")
            a = sys.spawn<ponger>();
        else
        {
            std::fprintf(stderr, "caf B: no workload '%s'\n", workload.c_str());
            return 2;
        }
        auto port = sys.middleman().publish(a, 0, "127.0.0.1");
        if(!port)
            throw bench::failure("publish: " + sys.render(port.error()));
        bench::remote::ready_then_wait_for_eof(std::to_string(*port));
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
        return 0;
    }
    catch(std::exception const& e)
    {
        std::fprintf(stderr, "caf B (%s): %s\n", workload.c_str(), e.what());
        return 1;
    }
}

} // namespace caf_bench
