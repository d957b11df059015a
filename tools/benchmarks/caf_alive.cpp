//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// alive N on CAF: the twin of spindle_alive.cpp, measured the same way
// (peak RSS of the process / N). msgs = 2N.

#include "caf_workloads.hpp"

#include <vector>

namespace caf_bench {
namespace {

/// The idle actor whose size is measured: no state of its own.
class idler : public caf::event_based_actor
{
public:
    using caf::event_based_actor::event_based_actor;

    caf::behavior make_behavior() override
    {
        return {[this](hello_atom, caf::actor const& reply_to) { send(reply_to, answer_atom::value); }};
    }
};

class collector : public caf::event_based_actor
{
    std::uint64_t expected_;
    bench::completion* done_;
    std::uint64_t count_ = 0;

public:
    collector(caf::actor_config& cfg, std::uint64_t expected, bench::completion* done)
        : caf::event_based_actor(cfg), expected_(expected), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {[this](answer_atom) {
            if(++count_ == expected_)
                done_->finish();
        }};
    }
};

} // namespace

bench::result run_alive(bench::options const& o)
{
    config cfg(o);
    caf::actor_system sys(cfg);
    bench::completion done;
    auto c = sys.spawn<collector>(o.n, &done);
    std::size_t const base = sys.registry().running();
    std::vector<caf::actor> idlers;
    idlers.reserve(o.n);

    bench::stopwatch const sw;
    for(std::uint64_t i = 0; i < o.n; ++i)
        idlers.push_back(sys.spawn<idler>());
    for(auto const& a : idlers)
        caf::anon_send(a, hello_atom::value, c);
    done.wait();
    for(auto const& a : idlers)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    idlers.clear();
    // the stops are part of the workload: wait until the idlers are gone
    bench::poll_until([&] { return sys.registry().running() <= base; });
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    r.extra = {{"bytes_per_actor", bench::peak_rss_kb() * 1024 / o.n}};
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    return r;
}

} // namespace caf_bench
