//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// http_bench_server [--port N] [--io-threads N] [--workers N]
//
// A Spindle system that serves its endpoints (/health, /metrics, ...) with
// spindle::http, and runs ping-pong when told to on its standard input:
//
//   pingpong N    N round trips between two actors; prints one JSON line
//                 {"workload":"pingpong","n":N,"seconds":S,"msgs_per_s":R}
//   quit          stops (so does end of input)
//
// Without --io-threads the server has system_server's default number of
// I/O threads; without --workers the system has one worker per hardware
// thread. It prints "port P io_threads K workers W" once it serves.
// tools/bench (workloads http, http_pingpong) and
// tools/benchmarks/http_bench.py drive it.

#include <spindle/http/system_server.hpp>
#include <spindle/system.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

namespace {

struct pinger;

struct ping
{
    std::uint64_t n;
    spindle::actor_ref<pinger> from;
};

struct pong
{
    std::uint64_t n;
};

struct ponger : spindle::actor<ponger, ping>
{
    void on(ping&& m) { m.from.tell(pong{m.n}); }
};

struct start
{
    spindle::actor_ref<ponger> to;
};

struct pinger : spindle::actor<pinger, start, pong>
{
    std::uint64_t rounds_;
    std::shared_ptr<std::promise<bool>> done_;
    spindle::actor_ref<ponger> to_;

    pinger(std::uint64_t rounds, std::shared_ptr<std::promise<bool>> done) : rounds_(rounds), done_(std::move(done)) {}

    void on(start const& s)
    {
        to_ = s.to;
        to_.tell(ping{1, self()});
    }

    void on(pong const& p)
    {
        if(p.n == rounds_)
            done_->set_value(true);
        else
            to_.tell(ping{p.n + 1, self()});
    }
};

unsigned arg(int argc, char** argv, std::string_view name, unsigned def)
{
    for(int i = 1; i + 1 < argc; ++i)
        if(argv[i] == name)
            return static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    return def;
}

} // namespace

int main(int argc, char** argv)
{
    spindle::system_options so;
    so.worker_threads = arg(argc, argv, "--workers", 0);
    so.name = "http-bench";
    spindle::system sys(so);

    spindle::http::system_server_options wo;
    wo.server.port = static_cast<std::uint16_t>(arg(argc, argv, "--port", 0));
    if(unsigned const io = arg(argc, argv, "--io-threads", 0); io != 0)
        wo.server.threads = io;
    // SPINDLE_BENCH_HTTP_IO_NICE overrides the I/O threads' niceness (a comparison knob)
    if(char const* nice = std::getenv("SPINDLE_BENCH_HTTP_IO_NICE"); nice && *nice)
        wo.server.io_nice = std::atoi(nice);
    spindle::http::system_server web(sys, wo);
    web.start();
    std::cout << "port " << web.port() << " io_threads " << web.http().options().threads << " workers "
              << sys.options().worker_threads << std::endl;

    for(std::string line; std::getline(std::cin, line);)
    {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        if(cmd == "quit")
            break;
        if(cmd != "pingpong")
        {
            std::cout << "{\"error\":\"unknown command\"}" << std::endl;
            continue;
        }
        std::uint64_t n = 0;
        in >> n;
        auto done = std::make_shared<std::promise<bool>>();
        auto f = done->get_future();
        auto po = sys.spawn<ponger>();
        auto pi = sys.spawn<pinger>(n, done);
        auto const t0 = std::chrono::steady_clock::now();
        pi.tell(start{po});
        f.get();
        double const s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        pi.stop();
        po.stop();
        std::cout << "{\"workload\":\"pingpong\",\"n\":" << n << ",\"seconds\":" << s
                  << ",\"msgs_per_s\":" << static_cast<std::uint64_t>(2.0 * static_cast<double>(n) / s) << "}"
                  << std::endl;
    }
    web.stop();
    return sys.shutdown().clean() ? 0 : 1;
}
