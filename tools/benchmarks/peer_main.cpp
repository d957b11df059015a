//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// peers_bench SYSTEM WORKLOAD [N]: one workload on one peer library, one
// JSON line (its "system" field is SYSTEM).

#include "peer_workloads.hpp"
#include "remote_common.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct peer
{
    char const* system;
    std::vector<bench::entry> table;
};

} // namespace

int main(int argc, char** argv)
{
    using namespace peer_bench;
    std::vector<peer> const peers = {
        {"tbb", {{"tasks", &run_tasks_tbb}, {"stream", &run_stream_tbb}}},
        {"asio", {{"tasks", &run_tasks_asio}, {"tasks_external", &run_tasks_external_asio}}},
        {"cnats", {{"remote_tell", &run_remote_tell_cnats}, {"remote_pingpong", &run_remote_pingpong_cnats}}},
    };
    if(char const* role = bench::remote::serve_role())
        // process B of a remote workload, started by its process A
        return argc >= 2 && std::strcmp(argv[1], "cnats") == 0 ? serve_remote_cnats(role) : 2;
    peer const* p = nullptr;
    for(auto const& candidate : peers)
        if(argc >= 2 && std::strcmp(argv[1], candidate.system) == 0)
            p = &candidate;
    if(!p)
    {
        std::fprintf(stderr, "usage: %s SYSTEM WORKLOAD [N]\nsystems and their workloads:\n", argv[0]);
        for(auto const& candidate : peers)
        {
            std::fprintf(stderr, "  %s:", candidate.system);
            for(auto const& e : candidate.table)
                std::fprintf(stderr, " %s", e.name);
            std::fprintf(stderr, "\n");
        }
        return 2;
    }
    // bench::main sees "peers_bench SYSTEM" as its program name
    std::string const name = std::string(argv[0]) + " " + p->system;
    std::vector<char*> args{const_cast<char*>(name.c_str())};
    for(int i = 2; i < argc; ++i)
        args.push_back(argv[i]);
    args.push_back(nullptr);
    return bench::main(argc - 1, args.data(), p->system, p->table);
}
