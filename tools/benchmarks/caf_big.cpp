//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// big N on CAF: the twin of spindle_big.cpp. msgs = 2N.

#include "caf_workloads.hpp"

#include <memory>
#include <vector>

namespace caf_bench {
namespace {

class sink : public caf::event_based_actor
{
    std::uint64_t expected_;
    bench::completion* done_;
    std::uint64_t nodes_ = 0;
    std::uint64_t pongs_ = 0;

public:
    sink(caf::actor_config& cfg, std::uint64_t expected, bench::completion* done)
        : caf::event_based_actor(cfg), expected_(expected), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {[this](done_atom, std::uint64_t pongs) {
            pongs_ += pongs;
            if(++nodes_ < bench::big_actors)
                return;
            if(pongs_ != expected_)
                done_->fail("big got " + std::to_string(pongs_) + " pongs");
            else
                done_->finish();
        }};
    }
};

using peers_type = std::vector<caf::actor>;

class big_node : public caf::event_based_actor
{
    std::shared_ptr<peers_type const> peers_; // filled before start
    std::uint64_t index_;
    std::uint64_t quota_;
    caf::actor sink_;
    bench::xorshift rng_;
    std::uint64_t pongs_ = 0;

    void ping_someone()
    {
        auto const& peers = *peers_;
        std::uint64_t j = rng_() % peers.size();
        if(j == index_)
            j = (j + 1) % peers.size();
        send(peers[j], ping_atom::value);
    }

public:
    big_node(caf::actor_config& cfg, std::shared_ptr<peers_type const> peers, std::uint64_t index,
             std::uint64_t quota, caf::actor s)
        : caf::event_based_actor(cfg), peers_(std::move(peers)), index_(index), quota_(quota), sink_(std::move(s)),
          rng_(index)
    {
    }

    caf::behavior make_behavior() override
    {
        return {
            [this](start_atom) {
                if(quota_ == 0)
                    send(sink_, done_atom::value, std::uint64_t(0));
                else
                    ping_someone();
            },
            // the pong goes to the implicit sender
            [](ping_atom) { return pong_atom::value; },
            [this](pong_atom) {
                if(++pongs_ < quota_)
                    ping_someone();
                else
                    send(sink_, done_atom::value, pongs_);
            },
        };
    }

    void on_exit() override { peers_.reset(); } // the peers refer to each other
};

} // namespace

bench::result run_big(bench::options const& o)
{
    config cfg(o);
    caf::actor_system sys(cfg);
    bench::completion done;
    auto s = sys.spawn<sink>(o.n, &done);
    auto peers = std::make_shared<peers_type>();
    for(std::uint64_t i = 0; i < bench::big_actors; ++i)
        peers->push_back(sys.spawn<big_node>(std::shared_ptr<peers_type const>(peers), i,
                                             bench::share(o.n, bench::big_actors, i), s));

    bench::stopwatch const sw;
    for(auto const& p : *peers)
        caf::anon_send(p, start_atom::value);
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    for(auto const& p : *peers)
        caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    peers->clear();
    return r;
}

} // namespace caf_bench
