//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_BENCHMARKS_SPINDLE_WORKLOADS_HPP
#define SPINDLE_BENCHMARKS_SPINDLE_WORKLOADS_HPP

// The Spindle side of the benchmarks: one function per workload, each in
// spindle_<workload>.cpp beside its CAF twin caf_<workload>.cpp. They use
// only Spindle's public API.

#include "common.hpp"

#include <spindle/system.hpp>

namespace spindle_bench {

/** The system every workload runs on: default options but the thread count
    (and, to find out what an idle worker's spinning costs, its spin time
    from SPINDLE_BENCH_SPIN_US when that is set).
*/
inline spindle::system_options system_options(bench::options const& o)
{
    spindle::system_options so;
    so.worker_threads = o.threads;
    if(char const* spin = std::getenv("SPINDLE_BENCH_SPIN_US"); spin && *spin)
        so.spin_before_sleep = std::chrono::microseconds(std::atol(spin));
    return so;
}

/** Appends the runtime's counters to a result: activations (messages /
    activations is how many messages an actor handles per turn) and steals
    (actors moved to an idle worker).
*/
inline void add_stats(spindle::system const& sys, bench::result& r)
{
    auto const s = sys.stats();
    r.extra.emplace_back("activations", s.activations);
    r.extra.emplace_back("steals", s.steals);
}

bench::result run_pingpong(bench::options const& o);
bench::result run_ask(bench::options const& o);
bench::result run_spawn(bench::options const& o);
bench::result run_alive(bench::options const& o);
bench::result run_fanin(bench::options const& o);
bench::result run_ring(bench::options const& o);
bench::result run_skynet(bench::options const& o);
bench::result run_big(bench::options const& o);
bench::result run_tasks(bench::options const& o);
bench::result run_tasks_external(bench::options const& o);
bench::result run_stream(bench::options const& o);
bench::result run_stream_unfused(bench::options const& o);
bench::result run_toolcall(bench::options const& o);
bench::result run_load_overhead(bench::options const& o);

// remote_tell, remote_pingpong: process A's side (spindle_remote.cpp)
bench::result run_remote_tell(bench::options const& o);
bench::result run_remote_pingpong(bench::options const& o);
/// Process B of a remote workload: serves until its stdin ends; the exit status.
int serve_remote(std::string const& workload);

} // namespace spindle_bench

#endif
