//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// stream N: a source of N integers through 4 trivial map stages into a
// counting sink (msgs = N), in two forms:
//   stream          fused: the 4 maps run in the source's fiber, the sink in its
//                   own (2 fibers, 1 buffer hop)
//   stream_unfused  every stage its own fiber behind a buffer (6 fibers, 5 buffer
//                   hops), so the hops are measured too.
// The JSON line's "fibers" counts the stream's fibers.
// The peer of both is peer_stream.cpp (`peers_bench tbb stream`:
// tbb::parallel_pipeline, the same maps).
// The maps compose to the identity, so the sink checks the sum of 0..N-1.

#include "spindle_workloads.hpp"

#include <spindle/stream.hpp>

#include <cstdint>
#include <ranges>
#include <string>

namespace spindle_bench {
namespace {

bench::result run(bench::options const& o, bool fuse)
{
    spindle::system sys(system_options(o));
    std::uint64_t count = 0;
    std::uint64_t sum = 0;
    auto pipeline = spindle::from_range(std::views::iota(std::uint64_t(0), o.n))
                        .map([](std::uint64_t x) { return x + 1; })
                        .map([](std::uint64_t x) { return x * 2; })
                        .map([](std::uint64_t x) { return x - 2; })
                        .map([](std::uint64_t x) { return x / 2; })
                        .for_each([&](std::uint64_t x) {
                            ++count;
                            sum += x;
                        });
    spindle::stream_options so;
    so.name = fuse ? "bench" : "bench_unfused";
    so.fuse = fuse;

    bench::stopwatch const sw;
    auto h = pipeline.run(sys, so);
    h.get();
    bench::result res;
    sw.stop(res);
    bench::check(count == o.n, "sink counted " + std::to_string(count) + " items");
    bench::check(sum == bench::sum_below(o.n), "items sum to " + std::to_string(sum));
    res.msgs = o.n;
    add_stats(sys, res);
    // the stream's fibers: the source's, and one behind each buffer
    std::uint64_t fibers = 1;
    for(auto const& stage : h.stats().stages)
        fibers += stage.buffer_capacity > 0 ? 1 : 0;
    res.extra.emplace_back("fibers", fibers);
    return res;
}

} // namespace

bench::result run_stream(bench::options const& o)
{
    return run(o, true);
}

bench::result run_stream_unfused(bench::options const& o)
{
    return run(o, false);
}

} // namespace spindle_bench
