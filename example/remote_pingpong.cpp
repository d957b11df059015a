//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// Ping-pong between two processes over NATS.
//
//   nats-server -a 127.0.0.1 -p 4222 &
//   ./remote_pingpong pong nats://127.0.0.1:4222 &
//   ./remote_pingpong ping nats://127.0.0.1:4222 10000
//
// The pong process publishes an actor as "pong" and serves until SIGINT or
// SIGTERM. The ping process looks it up, sends N pings, each carrying a
// reference to its own actor for the answer (an actor_ref inside a
// message), then asks for the count with an ask and prints it.

#include <spindle/actor.hpp>
#include <spindle/remote.hpp>
#include <spindle/signals.hpp>
#include <spindle/system.hpp>

#include "remote_pingpong.hpp"

#include <chrono>
#include <future>
#include <iostream>
#include <string>

/// Answers each ping with a ball to the sender's reference.
struct ponger : spindle::actor<ponger, ping, count>
{
    int pings = 0;
    void on(ping const& p)
    {
        ++pings;
        p.reply_to.tell(ball{p.n});
    }
    int on(count) { return pings; }
};

/// Sends the next ping when a ball comes back, until `total`.
struct pinger : spindle::actor<pinger, ball>
{
    spindle::actor_ref<ponger> peer;
    int total;
    std::shared_ptr<std::promise<int>> done;

    pinger(spindle::actor_ref<ponger> p, int t, std::shared_ptr<std::promise<int>> d)
        : peer(std::move(p)), total(t), done(std::move(d))
    {
    }

    void pre_start() override { peer.tell(ping{1, self()}); }

    void on(ball const& b)
    {
        if(b.n == total)
            done->set_value(b.n);
        else
            peer.tell(ping{b.n + 1, self()});
    }
};

int main(int argc, char** argv)
{
    if(argc < 3)
    {
        std::cerr << "usage: remote_pingpong pong|ping NATS_URL [N]\n";
        return 2;
    }
    std::string const role = argv[1];
    spindle::remote::node_options opts;
    opts.name = role;
    opts.servers = {argv[2]};
    try
    {
        spindle::system sys;
        spindle::remote::node node(sys, opts);
        if(role == "pong")
        {
            node.publish("pong", sys.spawn<ponger>());
            spindle::shutdown_on_signals on_signal(sys);
            std::cout << "pong: serving as node " << node.id() << std::endl;
            on_signal.wait(); // SIGINT / SIGTERM: leave the cluster, stop the actors
            return 0;
        }
        int const n = argc > 3 ? std::stoi(argv[3]) : 1000;
        // tells are at most once: a ping sent before the pong node is up is lost
        if(!node.await_published("pong", std::chrono::seconds(30)))
        {
            std::cerr << "ping: nobody publishes \"pong\" (start: remote_pingpong pong URL)\n";
            return 1;
        }
        auto peer = node.lookup<ponger>("pong");
        auto done = std::make_shared<std::promise<int>>();
        auto result = done->get_future();
        auto const start = std::chrono::steady_clock::now();
        sys.spawn<pinger>(peer, n, done);
        if(result.wait_for(std::chrono::minutes(2)) != std::future_status::ready)
        {
            std::cerr << "ping: no answer from pong within 2 minutes\n";
            return 1;
        }
        auto const us = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - start).count();
        boost::system::error_code ec;
        int const served = peer.ask(count{}, std::chrono::seconds(30)).get(ec);
        if(ec)
        {
            std::cerr << "ping: count failed: " << ec.message() << "\n";
            return 1;
        }
        std::cout << "ping: " << result.get() << " round trips in " << us << " us (" << (us / n)
                  << " us each); pong has served " << served << std::endl;
        return 0;
    }
    catch(std::exception const& e)
    {
        std::cerr << role << ": " << e.what() << "\n";
        return 1;
    }
}
