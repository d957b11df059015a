//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// fanin N (Savina Counting with 20 producers): 20 actors each send N/20
// numbered messages to one receiver, which counts them and checks their
// sum. msgs = N.

#include "spindle_workloads.hpp"

#include <vector>

namespace spindle_bench {
namespace {

struct item
{
    std::uint64_t v;
};

struct receiver : spindle::actor<receiver, item>
{
    std::uint64_t expected_;
    bench::completion* done_;
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;

    receiver(std::uint64_t expected, bench::completion* done) : expected_(expected), done_(done) {}

    void on(item const& m)
    {
        sum_ += m.v;
        if(++count_ < expected_)
            return;
        if(sum_ != bench::sum_below(expected_))
            done_->fail("items sum to " + std::to_string(sum_));
        else
            done_->finish();
    }
};

struct produce
{
    spindle::actor_ref<receiver> to;
    std::uint64_t first;
    std::uint64_t count;
};

struct producer : spindle::actor<producer, produce>
{
    void on(produce const& m)
    {
        for(std::uint64_t k = 0; k < m.count; ++k)
            m.to.tell(item{m.first + k});
    }
};

} // namespace

bench::result run_fanin(bench::options const& o)
{
    spindle::system sys(system_options(o));
    bench::completion done;
    auto r = sys.spawn<receiver>(o.n, &done);
    std::vector<spindle::actor_ref<producer>> ps;
    for(std::uint64_t i = 0; i < bench::fanin_senders; ++i)
        ps.push_back(sys.spawn<producer>());

    bench::stopwatch const sw;
    std::uint64_t first = 0;
    for(std::uint64_t i = 0; i < bench::fanin_senders; ++i)
    {
        std::uint64_t const k = bench::share(o.n, bench::fanin_senders, i);
        ps[i].tell(produce{r, first, k});
        first += k;
    }
    done.wait();
    bench::result res;
    sw.stop(res);
    res.msgs = o.n;
    add_stats(sys, res);
    return res;
}

} // namespace spindle_bench
