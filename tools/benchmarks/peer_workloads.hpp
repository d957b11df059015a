//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_BENCHMARKS_PEER_WORKLOADS_HPP
#define SPINDLE_BENCHMARKS_PEER_WORKLOADS_HPP

// The peers other than CAF: the same workloads written on the libraries a
// Spindle workload is compared with (TBB, Boost.Asio, raw cnats, ...), one function per
// peer and workload, in peer_<workload>.cpp. They use no Spindle code.

#include "common.hpp"

#include <string>

namespace peer_bench {

// tasks: tbb::task_group and boost::asio::thread_pool (peer_tasks.cpp)
bench::result run_tasks_tbb(bench::options const& o);
bench::result run_tasks_asio(bench::options const& o);
// tasks_external: boost::asio::thread_pool fed by plain threads (peer_tasks.cpp)
bench::result run_tasks_external_asio(bench::options const& o);

// stream: tbb::parallel_pipeline (peer_stream.cpp)
bench::result run_stream_tbb(bench::options const& o);

// remote_tell, remote_pingpong: raw cnats through a nats-server of the run's
// own (peer_remote.cpp); process A's side, and process B's (its exit status)
bench::result run_remote_tell_cnats(bench::options const& o);
bench::result run_remote_pingpong_cnats(bench::options const& o);
int serve_remote_cnats(std::string const& workload);

} // namespace peer_bench

#endif
