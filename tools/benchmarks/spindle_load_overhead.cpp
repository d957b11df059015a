//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// load_overhead N: what spindle::load's runner costs per request. One user
// tells an echo actor N times through the runner (a closed-model run of N
// iterations, no think time), then the same N tells in a loop written by
// hand on a fiber of a thread of its own, as the runner's users run; each
// ends with an ask, so every tell has been handled. Then the same with N/8
// asks. Finally the histogram's record cost: N values recorded (a
// log-normal sample around 1 ms, cycled from a table), against the same
// loop summing them.
//
// msgs = N (the runner's tells). Extra fields: `direct_per_s` (the hand
// loop's tells/s), `overhead_ns` (wall time per request the runner adds to
// the tells), `overhead_cpu_ns` (the same from the process's CPU time),
// `seq_overhead_ns` and `seq_overhead_cpu_ns` (the same over the asks,
// where each request waits for its reply), `record_ns` (the histogram's
// record cost per value, net of the loop), `runner_ns` (wall time per
// request of a run whose handler does nothing: the runner's own work,
// clock reads, two histogram records, the time series, the handler call).
//
// A workload of spindle_bench (`spindle_bench load_overhead [N]`, which
// links spindle::load). Its peer, the hand-written loop, runs in the same
// program.

#include "spindle_workloads.hpp"

#include <spindle/load.hpp>

#include <boost/fiber/fiber.hpp>

#include <cmath>
#include <random>
#include <thread>
#include <vector>

namespace spindle_bench {
namespace {

struct note
{
    std::uint64_t n;
};
struct sync
{
};

struct echo : spindle::actor<echo, note, sync>
{
    std::uint64_t seen = 0;
    void on(note const&) { ++seen; }
    std::uint64_t on(sync) { return seen; }
};

spindle::load::load_test_config config(std::uint64_t n, spindle::load::step_kind k)
{
    spindle::load::load_test_config c;
    c.users = 1;
    c.iterations = n;
    c.duration = std::chrono::nanoseconds(0);
    spindle::load::scenario s;
    s.name = "echo";
    spindle::load::step st;
    st.kind = k;
    st.target = "echo";
    s.steps.push_back(st);
    c.scenarios.push_back(std::move(s));
    return c;
}

/// The runner: N steps of kind `k`, then a sync ask (`noop`: the tell
/// handler does nothing, so only the runner's own work is timed).
bench::result through_runner(spindle::actor_ref<echo> const& e, std::uint64_t n, spindle::load::step_kind k,
    bool noop = false)
{
    spindle::load::runner_options o;
    std::uint64_t i = 0;
    o.on(spindle::load::step_kind::tell, [&](spindle::load::step const&, spindle::load::step_context&) {
        if(noop)
            ++i;
        else
            e.tell(note{i++});
        return boost::system::error_code();
    });
    o.on(spindle::load::step_kind::ask, [&](spindle::load::step const&, spindle::load::step_context&) {
        boost::system::error_code ec;
        e.ask(sync{}).get(ec);
        return ec;
    });
    spindle::load::runner r(config(n, k), o);
    bench::stopwatch const sw;
    auto const res = r.run();
    e.ask(sync{}).get();
    bench::result out;
    sw.stop(out);
    bench::check(res.total.count == n && res.total.failures == 0, "the runner's requests did not all succeed");
    return out;
}

/// The same loop by hand, on a fiber of a thread of its own.
bench::result by_hand(spindle::actor_ref<echo> const& e, std::uint64_t n, spindle::load::step_kind k)
{
    bench::stopwatch const sw;
    std::uint64_t bad = 0;
    std::thread t([&] {
        boost::fibers::fiber f([&] {
            for(std::uint64_t i = 0; i < n; ++i)
            {
                if(k == spindle::load::step_kind::tell)
                    e.tell(note{i});
                else
                {
                    boost::system::error_code ec;
                    e.ask(sync{}).get(ec);
                    bad += ec ? 1 : 0;
                }
            }
        });
        f.join();
    });
    t.join();
    e.ask(sync{}).get();
    bench::result out;
    sw.stop(out);
    bench::check(bad == 0, "asks failed");
    return out;
}

std::uint64_t per(double secs, std::uint64_t n)
{
    double const v = secs * 1e9 / static_cast<double>(n);
    return static_cast<std::uint64_t>(v > 0 ? v : 0);
}

} // namespace

bench::result run_load_overhead(bench::options const& o)
{
    spindle::system sys(system_options(o));
    auto e = sys.spawn<echo>();
    using spindle::load::step_kind;

    std::uint64_t const warm = std::min<std::uint64_t>(o.n, 20'000);
    through_runner(e, warm, step_kind::tell);
    by_hand(e, warm, step_kind::tell);

    bench::result r = through_runner(e, o.n, step_kind::tell);
    bench::result const hand = by_hand(e, o.n, step_kind::tell);
    std::uint64_t const asks = std::max<std::uint64_t>(1, o.n / 8);
    bench::result const runner_asks = through_runner(e, asks, step_kind::ask);
    bench::result const hand_asks = by_hand(e, asks, step_kind::ask);
    bench::result const noop = through_runner(e, o.n, step_kind::tell, true);

    // the histogram's record cost, net of the loop around it
    std::vector<std::int64_t> values(1 << 16);
    std::mt19937_64 rng(1);
    std::lognormal_distribution<double> d(std::log(1e6), 1.0);
    for(auto& v : values)
        v = static_cast<std::int64_t>(d(rng));
    spindle::load::histogram h;
    auto const t0 = bench::clock_type::now();
    for(std::uint64_t i = 0; i < o.n; ++i)
        h.record(values[i & (values.size() - 1)]);
    auto const t1 = bench::clock_type::now();
    std::int64_t volatile sink = 0;
    std::int64_t sum = 0;
    for(std::uint64_t i = 0; i < o.n; ++i)
        sum += values[i & (values.size() - 1)];
    sink = sum;
    auto const t2 = bench::clock_type::now();
    (void)sink;
    bench::check(h.count() == o.n, "the histogram lost values");
    double const record = std::chrono::duration<double>(t1 - t0).count() - std::chrono::duration<double>(t2 - t1).count();

    r.msgs = o.n;
    r.extra = {
        {"direct_per_s", static_cast<std::uint64_t>(static_cast<double>(o.n) / hand.seconds)},
        {"overhead_ns", per(r.seconds - hand.seconds, o.n)},
        {"overhead_cpu_ns", per(r.cpu_seconds - hand.cpu_seconds, o.n)},
        {"seq_overhead_ns", per(runner_asks.seconds - hand_asks.seconds, asks)},
        {"seq_overhead_cpu_ns", per(runner_asks.cpu_seconds - hand_asks.cpu_seconds, asks)},
        {"record_ns", per(record, o.n)},
        {"runner_ns", per(noop.seconds, o.n)},
    };
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
