//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spawn N (Savina Fork-Join, actor creation): the main thread spawns N
// actors and sends each one message, as Savina's driver does; each replies
// to a collector and stops. Done when the collector has N replies.
// msgs = 2N.

#include "spindle_workloads.hpp"

namespace spindle_bench {
namespace {

struct collector;

struct work
{
    std::uint64_t i;
    spindle::actor_ref<collector> reply_to;
};

struct finished
{
    std::uint64_t i;
};

struct short_lived : spindle::actor<short_lived, work>
{
    void on(work&& m)
    {
        m.reply_to.tell(finished{m.i});
        stop();
    }
};

struct collector : spindle::actor<collector, finished>
{
    std::uint64_t expected_;
    bench::completion* done_;
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;

    collector(std::uint64_t expected, bench::completion* done) : expected_(expected), done_(done) {}

    void on(finished const& m)
    {
        sum_ += m.i;
        if(++count_ < expected_)
            return;
        if(sum_ != bench::sum_below(expected_))
            done_->fail("replies sum to " + std::to_string(sum_));
        else
            done_->finish();
    }
};

} // namespace

bench::result run_spawn(bench::options const& o)
{
    spindle::system sys(system_options(o));
    bench::completion done;
    auto c = sys.spawn<collector>(o.n, &done);

    bench::stopwatch const sw;
    for(std::uint64_t i = 0; i < o.n; ++i)
        sys.spawn<short_lived>().tell(work{i, c});
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
