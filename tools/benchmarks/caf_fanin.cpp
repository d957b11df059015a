//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// fanin N on CAF: the twin of spindle_fanin.cpp. msgs = N.

#include "caf_workloads.hpp"

#include <vector>

namespace caf_bench {
namespace {

class receiver : public caf::event_based_actor
{
    std::uint64_t expected_;
    bench::completion* done_;
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;

public:
    receiver(caf::actor_config& cfg, std::uint64_t expected, bench::completion* done)
        : caf::event_based_actor(cfg), expected_(expected), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {[this](item_atom, std::uint64_t v) {
            sum_ += v;
            if(++count_ < expected_)
                return;
            if(sum_ != bench::sum_below(expected_))
                done_->fail("items sum to " + std::to_string(sum_));
            else
                done_->finish();
        }};
    }
};

class producer : public caf::event_based_actor
{
public:
    using caf::event_based_actor::event_based_actor;

    caf::behavior make_behavior() override
    {
        return {[this](produce_atom, caf::actor const& to, std::uint64_t first, std::uint64_t count) {
            for(std::uint64_t k = 0; k < count; ++k)
                send(to, item_atom::value, first + k);
        }};
    }
};

} // namespace

bench::result run_fanin(bench::options const& o)
{
    config cfg(o);
    caf::actor_system sys(cfg);
    bench::completion done;
    auto r = sys.spawn<receiver>(o.n, &done);
    std::vector<caf::actor> ps;
    for(std::uint64_t i = 0; i < bench::fanin_senders; ++i)
        ps.push_back(sys.spawn<producer>());

    bench::stopwatch const sw;
    std::uint64_t first = 0;
    for(std::uint64_t i = 0; i < bench::fanin_senders; ++i)
    {
        std::uint64_t const k = bench::share(o.n, bench::fanin_senders, i);
        caf::anon_send(ps[i], produce_atom::value, r, first, k);
        first += k;
    }
    done.wait();
    bench::result res;
    sw.stop(res);
    res.msgs = o.n;
    for(auto const& p : ps)
        caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    return res;
}

} // namespace caf_bench
