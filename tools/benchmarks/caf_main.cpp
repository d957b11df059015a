//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// caf_bench WORKLOAD [N]: one CAF 0.17 workload, one JSON line.

#include "caf_workloads.hpp"
#include "remote_common.hpp"

int main(int argc, char** argv)
{
    using namespace caf_bench;
    if(char const* role = bench::remote::serve_role())
        return serve_remote(role); // process B of remote_tell or remote_pingpong
    return bench::main(argc, argv, "caf",
                       {
                           {"pingpong", &run_pingpong},
                           {"ask", &run_ask},
                           {"spawn", &run_spawn},
                           {"alive", &run_alive},
                           {"fanin", &run_fanin},
                           {"ring", &run_ring},
                           {"skynet", &run_skynet},
                           {"big", &run_big},
                           {"remote_tell", &run_remote_tell},
                           {"remote_pingpong", &run_remote_pingpong},
                       });
}
