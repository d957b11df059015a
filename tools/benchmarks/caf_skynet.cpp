//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// skynet N on CAF: the twin of spindle_skynet.cpp. msgs = N.

#include "caf_workloads.hpp"

#include <algorithm>

namespace caf_bench {
namespace {

class skynet_node : public caf::event_based_actor
{
    caf::actor parent_; // invalid at the root
    std::uint64_t first_;
    std::uint64_t size_;
    bench::completion* done_; // the root's only
    std::uint64_t sum_ = 0;
    std::uint64_t pending_ = 0;

    void report(std::uint64_t v)
    {
        if(parent_)
            send(parent_, subtotal_atom::value, v);
        else if(v != bench::sum_below(size_))
            done_->fail("skynet sum is " + std::to_string(v));
        else
            done_->finish();
    }

public:
    skynet_node(caf::actor_config& cfg, caf::actor parent, std::uint64_t first, std::uint64_t size,
                bench::completion* done)
        : caf::event_based_actor(cfg), parent_(std::move(parent)), first_(first), size_(size), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        if(size_ == 1)
        {
            report(first_);
            quit();
            return {};
        }
        pending_ = std::min(bench::skynet_fanout, size_);
        auto const me = caf::actor_cast<caf::actor>(this);
        for(std::uint64_t j = 0; j < pending_; ++j)
        {
            std::uint64_t const lo = first_ + size_ * j / pending_;
            std::uint64_t const hi = first_ + size_ * (j + 1) / pending_;
            spawn<skynet_node>(me, lo, hi - lo, nullptr);
        }
        return {[this](subtotal_atom, std::uint64_t v) {
            sum_ += v;
            if(--pending_ == 0)
            {
                report(sum_);
                quit();
            }
        }};
    }
};

} // namespace

bench::result run_skynet(bench::options const& o)
{
    config cfg(o);
    caf::actor_system sys(cfg);
    bench::completion done;

    bench::stopwatch const sw;
    sys.spawn<skynet_node>(caf::actor(), std::uint64_t(0), o.n, &done);
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = o.n;
    return r;
}

} // namespace caf_bench
