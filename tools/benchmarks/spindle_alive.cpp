//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// alive N: the main thread spawns N actors and keeps them all alive; each
// answers one message (to a collector), then the main thread stops them
// all and waits until they are gone. Reports the process's peak RSS and
// bytes per actor = peak RSS / N. msgs = 2N.

#include "spindle_workloads.hpp"

#include <vector>

namespace spindle_bench {
namespace {

struct collector;

struct hello
{
    spindle::actor_ref<collector> reply_to;
};

struct answer
{
};

/// The idle actor whose size is measured: no state of its own.
struct idler : spindle::actor<idler, hello>
{
    void on(hello&& m) { m.reply_to.tell(answer{}); }
};

struct collector : spindle::actor<collector, answer>
{
    std::uint64_t expected_;
    bench::completion* done_;
    std::uint64_t count_ = 0;

    collector(std::uint64_t expected, bench::completion* done) : expected_(expected), done_(done) {}

    void on(answer)
    {
        if(++count_ == expected_)
            done_->finish();
    }
};

} // namespace

bench::result run_alive(bench::options const& o)
{
    spindle::system sys(system_options(o));
    bench::completion done;
    auto c = sys.spawn<collector>(o.n, &done);
    std::size_t const base = sys.actor_count();
    std::vector<spindle::actor_ref<idler>> idlers;
    idlers.reserve(o.n);

    bench::stopwatch const sw;
    for(std::uint64_t i = 0; i < o.n; ++i)
        idlers.push_back(sys.spawn<idler>());
    for(auto const& a : idlers)
        a.tell(hello{c});
    done.wait();
    for(auto const& a : idlers)
        a.stop();
    idlers.clear();
    // the stops are part of the workload: wait until the idlers are gone
    bench::poll_until([&] { return sys.actor_count() <= base; });
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    r.extra = {{"bytes_per_actor", bench::peak_rss_kb() * 1024 / o.n}};
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
