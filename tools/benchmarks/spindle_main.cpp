//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle_bench WORKLOAD [N]: one Spindle workload, one JSON line.
//
// SPINDLE_BENCH_TRACING=R (a ratio in [0, 1]) runs it with tracing on:
// parent-based, trace-id ratio R at the root, spans to a null exporter
// (what tracing costs the runtime, not what a network costs).

#include "remote_common.hpp"
#include "spindle_workloads.hpp"

#include <spindle/trace.hpp>

#include <cstdlib>
#include <memory>
#include <string>

int main(int argc, char** argv)
{
    using namespace spindle_bench;
    if(char const* role = bench::remote::serve_role())
        return serve_remote(role); // process B of remote_tell or remote_pingpong
    std::unique_ptr<spindle::trace::tracing> tracing;
    if(char const* r = std::getenv("SPINDLE_BENCH_TRACING"); r && *r && std::string(r) != "off")
    {
        spindle::trace::tracing_options to;
        to.service_name = "spindle_bench";
        to.exporter = std::make_shared<spindle::trace::null_exporter>();
        to.sampler = spindle::trace::parent_based(spindle::trace::trace_id_ratio(std::strtod(r, nullptr)));
        to.batch.max_queue_size = 65536;
        to.batch.schedule_delay = std::chrono::milliseconds(100);
        tracing = std::make_unique<spindle::trace::tracing>(std::move(to));
    }
    return bench::main(argc, argv, "spindle",
                       {
                           {"pingpong", &run_pingpong},
                           {"ask", &run_ask},
                           {"spawn", &run_spawn},
                           {"alive", &run_alive},
                           {"fanin", &run_fanin},
                           {"ring", &run_ring},
                           {"skynet", &run_skynet},
                           {"big", &run_big},
                           {"tasks", &run_tasks},
                           {"tasks_external", &run_tasks_external},
                           {"stream", &run_stream},
                           {"stream_unfused", &run_stream_unfused},
                           {"toolcall", &run_toolcall},
                           {"load_overhead", &run_load_overhead},
                           {"remote_tell", &run_remote_tell},
                           {"remote_pingpong", &run_remote_pingpong},
                       });
}
