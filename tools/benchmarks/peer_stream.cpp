//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// stream N on the peer of spindle_stream.cpp, oneTBB (Debian's libtbb-dev):
// tbb::parallel_pipeline with a serial in-order input filter producing N
// integers, the same 4 trivial maps as parallel filters, and a serial
// in-order counting output filter. msgs = N. `threads` (SPINDLE_THREADS)
// slots in a task_arena, as for tasks; the pipeline keeps 4 items per
// thread in flight (its tokens). tools/bench compares both of Spindle's
// forms, `stream` and `stream_unfused`, with this one.

#include "peer_workloads.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <cstdint>
#include <string>

namespace peer_bench {

bench::result run_stream_tbb(bench::options const& o)
{
    tbb::global_control const limit(tbb::global_control::max_allowed_parallelism, o.threads);
    tbb::task_arena arena(static_cast<int>(o.threads));
    arena.initialize();
    // start the workers before timing, as Spindle's system and a thread
    // pool's constructor do (the same warm-up as tasks)
    arena.execute([] {
        tbb::task_group g;
        for(int i = 0; i < 1000; ++i)
            g.run([] {});
        g.wait();
    });
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

} // namespace peer_bench
