//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// big N (Savina Big): 1000 actors; each sends its N/1000 pings one at a
// time to pseudo-random peers (xorshift); every ping is answered by a pong,
// and the next ping goes out when the pong is in. msgs = 2N.

#include "spindle_workloads.hpp"

#include <memory>
#include <vector>

namespace spindle_bench {
namespace {

struct big_node;

struct big_ping
{
    spindle::actor_ref<big_node> from;
};

struct big_pong
{
};

struct big_start
{
};

struct node_done
{
    std::uint64_t pongs;
};

struct sink : spindle::actor<sink, node_done>
{
    std::uint64_t expected_;
    bench::completion* done_;
    std::uint64_t nodes_ = 0;
    std::uint64_t pongs_ = 0;

    sink(std::uint64_t expected, bench::completion* done) : expected_(expected), done_(done) {}

    void on(node_done const& m)
    {
        pongs_ += m.pongs;
        if(++nodes_ < bench::big_actors)
            return;
        if(pongs_ != expected_)
            done_->fail("big got " + std::to_string(pongs_) + " pongs");
        else
            done_->finish();
    }
};

using peers_type = std::vector<spindle::actor_ref<big_node>>;

struct big_node : spindle::actor<big_node, big_start, big_ping, big_pong>
{
    std::shared_ptr<peers_type const> peers_; // filled before big_start
    std::uint64_t index_;
    std::uint64_t quota_;
    spindle::actor_ref<sink> sink_;
    bench::xorshift rng_;
    std::uint64_t pongs_ = 0;

    big_node(std::shared_ptr<peers_type const> peers, std::uint64_t index, std::uint64_t quota,
             spindle::actor_ref<sink> s)
        : peers_(std::move(peers)), index_(index), quota_(quota), sink_(std::move(s)), rng_(index)
    {
    }

    void ping_someone()
    {
        auto const& peers = *peers_;
        std::uint64_t j = rng_() % peers.size();
        if(j == index_)
            j = (j + 1) % peers.size();
        peers[j].tell(big_ping{self()});
    }

    void on(big_start)
    {
        if(quota_ == 0)
            sink_.tell(node_done{0});
        else
            ping_someone();
    }

    void on(big_ping&& m) { m.from.tell(big_pong{}); }

    void on(big_pong)
    {
        if(++pongs_ < quota_)
            ping_someone();
        else
            sink_.tell(node_done{pongs_});
    }
};

} // namespace

bench::result run_big(bench::options const& o)
{
    spindle::system sys(system_options(o));
    bench::completion done;
    auto s = sys.spawn<sink>(o.n, &done);
    auto peers = std::make_shared<peers_type>();
    for(std::uint64_t i = 0; i < bench::big_actors; ++i)
        peers->push_back(sys.spawn<big_node>(std::shared_ptr<peers_type const>(peers), i,
                                             bench::share(o.n, bench::big_actors, i), s));

    bench::stopwatch const sw;
    for(auto const& p : *peers)
        p.tell(big_start{});
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    // the peers refer to each other through the shared vector: break the cycle
    peers->clear();
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
