//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// toolcall N: N calls of the echo tool through a tool bus, each with the
// permission check, the validation of a small object against the schema
// and the call's timeout armed (the bus's 30 s), made by 64 actors whose
// handlers call in a loop on the system's workers; then the same N calls of
// the tool directly, from the same actors, for the overhead.
//
// msgs = N. Extra fields: `direct_per_s` (the direct calls' rate),
// `overhead_ns` (worker time per call added by the bus: (bus - direct) *
// threads / N, wall clock), `overhead_cpu_ns` (the same from the process's
// CPU time, which a loaded machine does not inflate, but idle workers'
// spinning does), and `seq_overhead_ns` / `seq_overhead_cpu_ns` (one actor
// calling alone, N/4 calls: the latency one call adds).
//
// A workload of spindle_bench (`spindle_bench toolcall [N]`, which links
// spindle::tools). Its peer, the direct calls, runs in the same program, so
// tools/bench has no peer program to run for it.

#include "spindle_workloads.hpp"

#include <spindle/tools.hpp>

#include <boost/json/value.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace spindle_bench {
namespace {

namespace json = boost::json;
namespace tools = spindle::tools;

constexpr std::uint64_t callers = 64;

struct go
{
};

/// Calls the echo tool `count` times, through the bus or directly.
struct caller : spindle::actor<caller, go>
{
    tools::tool_bus* bus_;
    std::shared_ptr<tools::tool> direct_;
    tools::agent_credential agent_;
    std::uint64_t count_;
    std::atomic<std::uint64_t>* wrong_;

    caller(tools::tool_bus* bus, std::shared_ptr<tools::tool> direct, tools::agent_credential a, std::uint64_t count,
           std::atomic<std::uint64_t>* wrong)
        : bus_(bus), direct_(std::move(direct)), agent_(a), count_(count), wrong_(wrong)
    {
    }

    void on(go)
    {
        std::uint64_t bad = 0;
        tools::tool_context const none;
        for(std::uint64_t i = 0; i < count_; ++i)
        {
            json::value p = {{"message", "hello"}, {"seq", i}};
            json::value r;
            if(bus_)
            {
                boost::system::error_code ec;
                r = bus_->call(agent_, "echo", p, {}, ec);
                bad += ec ? 1 : 0;
            }
            else
                r = direct_->execute(p, none).value();
            bad += r.as_object().at("seq").as_uint64() == i ? 0 : 1;
        }
        wrong_->fetch_add(bad);
    }
};

/// Runs `n` calls split over `k` callers. @return Wall and CPU seconds in `r`.
bench::result run_calls(spindle::system& sys, tools::tool_bus* bus, std::shared_ptr<tools::tool> const& echo,
                        tools::agent_credential const& a, std::uint64_t n, std::uint64_t k)
{
    std::atomic<std::uint64_t> wrong{0};
    std::vector<spindle::actor_ref<caller>> refs;
    for(std::uint64_t i = 0; i < k; ++i)
        refs.push_back(sys.spawn<caller>(bus, echo, a, bench::share(n, k, i), &wrong));
    std::vector<spindle::ask_future<void>> done;
    bench::stopwatch const sw;
    for(auto& c : refs)
        done.push_back(c.ask(go{}, std::chrono::hours(1)));
    for(auto& f : done)
        f.get();
    bench::result local;
    sw.stop(local);
    for(auto& c : refs)
        c.stop();
    bench::check(wrong.load() == 0, std::to_string(wrong.load()) + " calls failed or echoed the wrong value");
    return local;
}

} // namespace

bench::result run_toolcall(bench::options const& o)
{
    spindle::system sys(system_options(o));
    tools::tool_bus bus(sys);
    auto echo = tools::make_echo_tool();
    bus.register_tool(echo);
    auto const a = bus.add_agent("bench");
    bus.grant(a, "echo");

    // warm up: lanes spawned, allocator and caches primed
    std::uint64_t const warm = std::min<std::uint64_t>(o.n, 20'000);
    run_calls(sys, &bus, echo, a, warm, callers);
    run_calls(sys, nullptr, echo, a, warm, callers);

    bench::result r = run_calls(sys, &bus, echo, a, o.n, callers);
    bench::result const direct = run_calls(sys, nullptr, echo, a, o.n, callers);
    std::uint64_t const seq_n = std::max<std::uint64_t>(1, o.n / 4);
    bench::result const seq_bus = run_calls(sys, &bus, echo, a, seq_n, 1);
    bench::result const seq_direct = run_calls(sys, nullptr, echo, a, seq_n, 1);

    auto const s = bus.stats("echo");
    std::uint64_t const expected = o.n + seq_n + warm;
    bench::check(s.successes == expected && s.errors == 0,
                 "the bus counted " + std::to_string(s.successes) + " successes, expected " + std::to_string(expected));

    auto ns = [](double secs, double threads, std::uint64_t n) {
        double const v = secs * threads * 1e9 / static_cast<double>(n);
        return static_cast<std::uint64_t>(v > 0 ? v : 0);
    };
    r.msgs = o.n;
    r.extra = {
        {"direct_per_s", static_cast<std::uint64_t>(static_cast<double>(o.n) / direct.seconds)},
        {"overhead_ns", ns(r.seconds - direct.seconds, o.threads, o.n)},
        {"overhead_cpu_ns", ns(r.cpu_seconds - direct.cpu_seconds, 1, o.n)},
        {"seq_overhead_ns", ns(seq_bus.seconds - seq_direct.seconds, 1, seq_n)},
        {"seq_overhead_cpu_ns", ns(seq_bus.cpu_seconds - seq_direct.cpu_seconds, 1, seq_n)},
    };
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
