//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_BENCHMARKS_CAF_WORKLOADS_HPP
#define SPINDLE_BENCHMARKS_CAF_WORKLOADS_HPP

// The CAF 0.17 side of the benchmarks: one function per workload, each in
// caf_<workload>.cpp beside its Spindle twin spindle_<workload>.cpp, with
// the same actors, messages and topology.
//
// Actors are class-based `caf::event_based_actor`s and messages are
// atom-tagged typed tuples, the way CAF 0.17's manual and its own
// benchmarks write them (`typed_actor` adds compile-time checks only, and
// cannot name its own handle type, which ring, skynet and big need).
// Replies use CAF's implicit sender where the Spindle twin carries a
// reference in the message.

#include "common.hpp"

#include <caf/all.hpp>

namespace caf_bench {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;
using serve_atom = caf::atom_constant<caf::atom("serve")>;
using echo_atom = caf::atom_constant<caf::atom("echo")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using work_atom = caf::atom_constant<caf::atom("work")>;
using finished_atom = caf::atom_constant<caf::atom("finished")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using answer_atom = caf::atom_constant<caf::atom("answer")>;
using item_atom = caf::atom_constant<caf::atom("item")>;
using produce_atom = caf::atom_constant<caf::atom("produce")>;
using link_atom = caf::atom_constant<caf::atom("link")>;
using token_atom = caf::atom_constant<caf::atom("token")>;
using subtotal_atom = caf::atom_constant<caf::atom("subtotal")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

/// The configuration every workload runs with: CAF's defaults (work
/// stealing scheduler) but the worker thread count.
class config : public caf::actor_system_config
{
public:
    explicit config(bench::options const& o)
    {
        set("scheduler.max-threads", static_cast<caf::config_value::integer>(o.threads));
    }
};

bench::result run_pingpong(bench::options const& o);
bench::result run_ask(bench::options const& o);
bench::result run_spawn(bench::options const& o);
bench::result run_alive(bench::options const& o);
bench::result run_fanin(bench::options const& o);
bench::result run_ring(bench::options const& o);
bench::result run_skynet(bench::options const& o);
bench::result run_big(bench::options const& o);

// remote_tell, remote_pingpong: process A's side (caf_remote.cpp)
bench::result run_remote_tell(bench::options const& o);
bench::result run_remote_pingpong(bench::options const& o);
/// Process B of a remote workload: serves until its stdin ends; the exit status.
int serve_remote(std::string const& workload);

} // namespace caf_bench

#endif
