//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle_bench WORKLOAD [N]: one Spindle workload, one JSON line.

#include "remote_common.hpp"
#include "spindle_workloads.hpp"

int main(int argc, char** argv)
{
    using namespace spindle_bench;
    if(char const* role = bench::remote::serve_role())
        return serve_remote(role); // process B of remote_tell or remote_pingpong
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
                           {"remote_tell", &run_remote_tell},
                           {"remote_pingpong", &run_remote_pingpong},
                       });
}
