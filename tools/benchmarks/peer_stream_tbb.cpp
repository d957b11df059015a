//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// peer_stream_tbb stream [N]: the peer of spindle_stream.cpp on oneTBB
// (Debian's libtbb-dev): tbb::parallel_pipeline with a serial in-order
// input filter producing N integers, the same 4 trivial maps as parallel
// filters, and a serial in-order counting output filter. msgs = N.
// Threads from SPINDLE_THREADS, as for the other programs; the pipeline
// keeps 4 items per thread in flight (its tokens).

#include "common.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <cstdint>
#include <string>

namespace {

bench::result run_stream(bench::options const& o)
{
    tbb::global_control const limit(tbb::global_control::max_allowed_parallelism, o.threads);
    tbb::task_arena arena(static_cast<int>(o.threads));
    std::uint64_t count = 0;
    std::uint64_t sum = 0;

    bench::stopwatch const sw;
    arena.execute([&] {
        std::uint64_t next = 0;
        tbb::parallel_pipeline(
            4 * o.threads,
            tbb::make_filter<void, std::uint64_t>(tbb::filter_mode::serial_in_order,
                                                  [&](tbb::flow_control& fc) -> std::uint64_t {
                                                      if(next == o.n)
                                                      {
                                                          fc.stop();
                                                          return 0;
                                                      }
                                                      return next++;
                                                  }) &
                tbb::make_filter<std::uint64_t, std::uint64_t>(tbb::filter_mode::parallel,
                                                               [](std::uint64_t x) { return x + 1; }) &
                tbb::make_filter<std::uint64_t, std::uint64_t>(tbb::filter_mode::parallel,
                                                               [](std::uint64_t x) { return x * 2; }) &
                tbb::make_filter<std::uint64_t, std::uint64_t>(tbb::filter_mode::parallel,
                                                               [](std::uint64_t x) { return x - 2; }) &
                tbb::make_filter<std::uint64_t, std::uint64_t>(tbb::filter_mode::parallel,
                                                               [](std::uint64_t x) { return x / 2; }) &
                tbb::make_filter<std::uint64_t, void>(tbb::filter_mode::serial_in_order, [&](std::uint64_t x) {
                    ++count;
                    sum += x;
                }));
    });
    bench::result res;
    sw.stop(res);
    bench::check(count == o.n, "sink counted " + std::to_string(count) + " items");
    bench::check(sum == bench::sum_below(o.n), "items sum to " + std::to_string(sum));
    res.msgs = o.n;
    return res;
}

} // namespace

int main(int argc, char** argv)
{
    return bench::main(argc, argv, "tbb", {{"stream", &run_stream}});
}
