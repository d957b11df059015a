//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// pingpong N (Savina PingPong): a pinger and a ponger bounce one message N
// round trips; every k-th round trip is timed for p50/p99. msgs = 2N.

#include "spindle_workloads.hpp"

namespace spindle_bench {
namespace {

struct pinger;

/// To the ponger; carries whom to answer (Spindle has no implicit sender).
struct ping
{
    std::uint64_t n;
    spindle::actor_ref<pinger> from;
};

struct pong
{
    std::uint64_t n;
};

struct ponger : spindle::actor<ponger, ping>
{
    void on(ping&& m) { m.from.tell(pong{m.n}); }
};

struct serve
{
    spindle::actor_ref<ponger> to;
};

struct pinger : spindle::actor<pinger, serve, pong>
{
    std::uint64_t rounds_;
    bench::rtt_sampler* rtt_;
    bench::completion* done_;
    spindle::actor_ref<ponger> to_;
    std::uint64_t sent_ = 0;

    pinger(std::uint64_t rounds, bench::rtt_sampler* rtt, bench::completion* done)
        : rounds_(rounds), rtt_(rtt), done_(done)
    {
    }

    void send_next()
    {
        ++sent_;
        if(rtt_->sampled(sent_))
            rtt_->start();
        to_.tell(ping{sent_, self()});
    }

    void on(serve const& m)
    {
        to_ = m.to;
        send_next();
    }

    void on(pong const& m)
    {
        if(rtt_->sampled(m.n))
            rtt_->stop();
        if(m.n != sent_)
        {
            done_->fail("pong " + std::to_string(m.n) + " answers ping " + std::to_string(sent_));
            return;
        }
        if(sent_ == rounds_)
            done_->finish();
        else
            send_next();
    }
};

} // namespace

bench::result run_pingpong(bench::options const& o)
{
    spindle::system sys(system_options(o));
    bench::completion done;
    bench::rtt_sampler rtt(o.n);
    auto b = sys.spawn<ponger>();
    auto a = sys.spawn<pinger>(o.n, &rtt, &done);

    bench::stopwatch const sw;
    a.tell(serve{b});
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    r.extra = {{"p50_ns", rtt.percentile(50)}, {"p99_ns", rtt.percentile(99)}};
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
