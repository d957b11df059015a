//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// skynet N: every actor spawns 10 children, down to N leaves; each leaf
// sends its number to its parent, parents sum and pass the sum up, and the
// root checks it is 0 + 1 + ... + N-1. msgs = N.

#include "spindle_workloads.hpp"

#include <algorithm>

namespace spindle_bench {
namespace {

struct subtotal
{
    std::uint64_t v;
};

struct skynet_node : spindle::actor<skynet_node, subtotal>
{
    spindle::actor_ref<skynet_node> parent_; // empty at the root
    std::uint64_t first_;
    std::uint64_t size_;
    bench::completion* done_; // the root's only
    std::uint64_t sum_ = 0;
    std::uint64_t pending_ = 0;

    skynet_node(spindle::actor_ref<skynet_node> parent, std::uint64_t first, std::uint64_t size,
                bench::completion* done)
        : parent_(std::move(parent)), first_(first), size_(size), done_(done)
    {
    }

    void report(std::uint64_t v)
    {
        if(parent_)
            parent_.tell(subtotal{v});
        else if(v != bench::sum_below(size_))
            done_->fail("skynet sum is " + std::to_string(v));
        else
            done_->finish();
    }

    void pre_start() override
    {
        if(size_ == 1)
        {
            report(first_);
            // stop() asks for a stop "when the current handler returns";
            // pre_start is no handler, so the reference's stop is used
            self().stop();
            return;
        }
        pending_ = std::min(bench::skynet_fanout, size_);
        for(std::uint64_t j = 0; j < pending_; ++j)
        {
            std::uint64_t const lo = first_ + size_ * j / pending_;
            std::uint64_t const hi = first_ + size_ * (j + 1) / pending_;
            system().spawn<skynet_node>(self(), lo, hi - lo, nullptr);
        }
    }

    void on(subtotal const& m)
    {
        sum_ += m.v;
        if(--pending_ == 0)
        {
            report(sum_);
            stop();
        }
    }
};

} // namespace

bench::result run_skynet(bench::options const& o)
{
    spindle::system sys(system_options(o));
    bench::completion done;

    bench::stopwatch const sw;
    sys.spawn<skynet_node>(spindle::actor_ref<skynet_node>(), std::uint64_t(0), o.n, &done);
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = o.n;
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
