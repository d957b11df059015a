//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// ring N (Savina ThreadRing): 1000 actors in a ring pass one token N hops;
// the actor that receives the spent token checks it is the right one.
// msgs = N.

#include "spindle_workloads.hpp"

#include <vector>

namespace spindle_bench {
namespace {

struct node;

struct ring_link
{
    spindle::actor_ref<node> next;
};

struct token
{
    std::uint64_t hops_left;
};

struct node : spindle::actor<node, ring_link, token>
{
    std::uint64_t index_;
    std::uint64_t expected_last_;
    bench::completion* done_;
    spindle::actor_ref<node> next_;

    node(std::uint64_t index, std::uint64_t expected_last, bench::completion* done)
        : index_(index), expected_last_(expected_last), done_(done)
    {
    }

    void on(ring_link&& m) { next_ = std::move(m.next); }

    void on(token const& m)
    {
        if(m.hops_left > 0)
            next_.tell(token{m.hops_left - 1});
        else if(index_ != expected_last_)
            done_->fail("token ended at node " + std::to_string(index_));
        else
            done_->finish();
    }
};

} // namespace

bench::result run_ring(bench::options const& o)
{
    spindle::system sys(system_options(o));
    bench::completion done;
    std::vector<spindle::actor_ref<node>> ring;
    for(std::uint64_t i = 0; i < bench::ring_size; ++i)
        ring.push_back(sys.spawn<node>(i, o.n % bench::ring_size, &done));
    for(std::uint64_t i = 0; i < bench::ring_size; ++i)
        ring[i].tell(ring_link{ring[(i + 1) % bench::ring_size]});

    bench::stopwatch const sw;
    ring[0].tell(token{o.n});
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = o.n;
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
