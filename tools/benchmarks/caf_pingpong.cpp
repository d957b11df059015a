//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// pingpong N on CAF: the twin of spindle_pingpong.cpp. msgs = 2N.

#include "caf_workloads.hpp"

namespace caf_bench {
namespace {

class ponger : public caf::event_based_actor
{
public:
    using caf::event_based_actor::event_based_actor;

    caf::behavior make_behavior() override
    {
        // the reply goes to the implicit sender
        return {[](ping_atom, std::uint64_t n) { return std::make_tuple(pong_atom::value, n); }};
    }
};

class pinger : public caf::event_based_actor
{
    std::uint64_t rounds_;
    bench::rtt_sampler* rtt_;
    bench::completion* done_;
    caf::actor to_;
    std::uint64_t sent_ = 0;

    void send_next()
    {
        ++sent_;
        if(rtt_->sampled(sent_))
            rtt_->start();
        send(to_, ping_atom::value, sent_);
    }

public:
    pinger(caf::actor_config& cfg, std::uint64_t rounds, bench::rtt_sampler* rtt, bench::completion* done)
        : caf::event_based_actor(cfg), rounds_(rounds), rtt_(rtt), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {
            [this](serve_atom, caf::actor const& to) {
                to_ = to;
                send_next();
            },
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

} // namespace

bench::result run_pingpong(bench::options const& o)
{
    config cfg(o);
    caf::actor_system sys(cfg);
    bench::completion done;
    bench::rtt_sampler rtt(o.n);
    auto b = sys.spawn<ponger>();
    auto a = sys.spawn<pinger>(o.n, &rtt, &done);

    bench::stopwatch const sw;
    caf::anon_send(a, serve_atom::value, b);
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    r.extra = {{"p50_ns", rtt.percentile(50)}, {"p99_ns", rtt.percentile(99)}};
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
    return r;
}

} // namespace caf_bench
