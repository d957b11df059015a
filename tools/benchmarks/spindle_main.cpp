//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle_bench WORKLOAD [N]: one Spindle workload, one JSON line.

#include "spindle_workloads.hpp"

int main(int argc, char** argv)
{
    using namespace spindle_bench;
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
                       });
}
