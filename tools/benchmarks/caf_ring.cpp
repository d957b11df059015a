//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// ring N on CAF: the twin of spindle_ring.cpp. msgs = N.

#include "caf_workloads.hpp"

#include <vector>

namespace caf_bench {
namespace {

class node : public caf::event_based_actor
{
    std::uint64_t index_;
    std::uint64_t expected_last_;
    bench::completion* done_;
    caf::actor next_;

public:
    node(caf::actor_config& cfg, std::uint64_t index, std::uint64_t expected_last, bench::completion* done)
        : caf::event_based_actor(cfg), index_(index), expected_last_(expected_last), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {
            [this](link_atom, caf::actor const& next) { next_ = next; },
            [this](token_atom, std::uint64_t hops_left) {
                if(hops_left > 0)
                    send(next_, token_atom::value, hops_left - 1);
                else if(index_ != expected_last_)
                    done_->fail("token ended at node " + std::to_string(index_));
                else
                    done_->finish();
            },
        };
    }

    void on_exit() override { next_ = nullptr; } // the ring is a reference cycle
};

} // namespace

bench::result run_ring(bench::options const& o)
{
    config cfg(o);
    caf::actor_system sys(cfg);
    bench::completion done;
    std::vector<caf::actor> ring;
    for(std::uint64_t i = 0; i < bench::ring_size; ++i)
        ring.push_back(sys.spawn<node>(i, o.n % bench::ring_size, &done));
    for(std::uint64_t i = 0; i < bench::ring_size; ++i)
        caf::anon_send(ring[i], link_atom::value, ring[(i + 1) % bench::ring_size]);

    bench::stopwatch const sw;
    caf::anon_send(ring[0], token_atom::value, o.n);
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = o.n;
    for(auto const& a : ring)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    return r;
}

} // namespace caf_bench
