//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spawn N on CAF: the twin of spindle_spawn.cpp. msgs = 2N.

#include "caf_workloads.hpp"

namespace caf_bench {
namespace {

class short_lived : public caf::event_based_actor
{
public:
    using caf::event_based_actor::event_based_actor;

    caf::behavior make_behavior() override
    {
        return {[this](work_atom, std::uint64_t i, caf::actor const& reply_to) {
            send(reply_to, finished_atom::value, i);
            quit();
        }};
    }
};

class collector : public caf::event_based_actor
{
    std::uint64_t expected_;
    bench::completion* done_;
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;

public:
    collector(caf::actor_config& cfg, std::uint64_t expected, bench::completion* done)
        : caf::event_based_actor(cfg), expected_(expected), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {[this](finished_atom, std::uint64_t i) {
            sum_ += i;
            if(++count_ < expected_)
                return;
            if(sum_ != bench::sum_below(expected_))
                done_->fail("replies sum to " + std::to_string(sum_));
            else
                done_->finish();
        }};
    }
};

} // namespace

bench::result run_spawn(bench::options const& o)
{
    config cfg(o);
    caf::actor_system sys(cfg);
    bench::completion done;
    auto c = sys.spawn<collector>(o.n, &done);

    bench::stopwatch const sw;
    for(std::uint64_t i = 0; i < o.n; ++i)
        caf::anon_send(sys.spawn<short_lived>(), work_atom::value, i, c);
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    return r;
}

} // namespace caf_bench
