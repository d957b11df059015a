//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// tasks N: N trivial tasks through spindle::executor, and a wait for all of
// them. One submitter per worker thread, each itself a task on the
// executor, submits its share of the N tasks (numbered 0..N-1); each task
// adds its number to a bench::task_tally, and the last one signals the main
// thread. The peers (peer_tasks.cpp) do the same with tbb::task_group and
// boost::asio::thread_pool. msgs = N.

#include "spindle_workloads.hpp"

#include <spindle/executor.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace spindle_bench {

namespace {

/** The executor's defaults (queue capacity 1000: a full queue parks the
    submitter until a lane makes room), as every workload runs each system
    with its defaults; SPINDLE_BENCH_TASKS_QUEUE sets another capacity, e.g.
    N or more for a queue that never fills, like the peers' unbounded ones.
*/
spindle::executor_options bench_executor_options()
{
    spindle::executor_options eo;
    eo.name = "bench";
    if(char const* q = std::getenv("SPINDLE_BENCH_TASKS_QUEUE"); q && *q)
    {
        char* end = nullptr;
        unsigned long long const v = std::strtoull(q, &end, 10);
        if(!end || *end || v == 0 || v > (1u << 23))
            throw bench::failure(std::string("SPINDLE_BENCH_TASKS_QUEUE must be 1..8388608, got '") + q + "'");
        eo.queue_capacity = static_cast<std::size_t>(v);
    }
    return eo;
}

void check_stats(spindle::executor const& exec)
{
    auto const s = exec.stats();
    bench::check(s.failed == 0 && s.rejected == 0,
                 "executor reports " + std::to_string(s.failed) + " failed, " + std::to_string(s.rejected) +
                     " rejected tasks");
}

} // namespace

bench::result run_tasks(bench::options const& o)
{
    spindle::system sys(system_options(o));
    std::uint64_t const submitters = o.threads;
    spindle::executor_options const eo = bench_executor_options();
    spindle::executor exec(sys, eo);

    bench::completion done;
    bench::task_tally tally(o.n, &done);
    spindle::task_options submitter_opts;
    submitter_opts.timeout = std::chrono::nanoseconds::max(); // a large N may submit for longer than 30 s

    bench::stopwatch const sw;
    std::uint64_t first = 0;
    for(std::uint64_t i = 0; i < submitters; ++i)
    {
        std::uint64_t const k = bench::share(o.n, submitters, i);
        exec.submit(
            [&exec, &tally, &done, first, k] {
                spindle::task_options const opts;
                boost::system::error_code ec;
                for(std::uint64_t v = first; v < first + k; ++v)
                {
                    exec.submit([t = &tally, v] { t->add(v); }, opts, ec);
                    if(ec)
                        return done.fail("submit of task " + std::to_string(v) + " failed: " + ec.message());
                }
            },
            submitter_opts);
        first += k;
    }
    done.wait();
    bench::result r;
    sw.stop(r);
    tally.verify();
    check_stats(exec);
    r.msgs = o.n;
    r.extra.emplace_back("queue_capacity", eo.queue_capacity);
    add_stats(sys, r);
    return r;
}

// tasks_external N: the same N tasks, submitted by `threads` plain threads
// (not tasks, not fibers): an application's threads handing work to the
// executor. A submitter that finds the queue full blocks its thread until a
// lane makes room. The peer (peer_tasks.cpp) posts from plain threads to a
// boost::asio::thread_pool. msgs = N.
bench::result run_tasks_external(bench::options const& o)
{
    spindle::system sys(system_options(o));
    std::uint64_t const submitters = o.threads;
    spindle::executor_options const eo = bench_executor_options();
    spindle::executor exec(sys, eo);

    bench::completion done;
    bench::task_tally tally(o.n, &done);
    std::vector<std::thread> threads;
    threads.reserve(submitters);
    bench::stopwatch const sw;
    std::uint64_t first = 0;
    for(std::uint64_t i = 0; i < submitters; ++i)
    {
        std::uint64_t const k = bench::share(o.n, submitters, i);
        threads.emplace_back([&exec, &tally, &done, first, k] {
            spindle::task_options const opts;
            boost::system::error_code ec;
            for(std::uint64_t v = first; v < first + k; ++v)
            {
                exec.submit([t = &tally, v] { t->add(v); }, opts, ec);
                if(ec)
                    return done.fail("submit of task " + std::to_string(v) + " failed: " + ec.message());
            }
        });
        first += k;
    }
    done.wait();
    bench::result r;
    sw.stop(r);
    for(auto& t : threads)
        t.join();
    tally.verify();
    check_stats(exec);
    r.msgs = o.n;
    r.extra.emplace_back("queue_capacity", eo.queue_capacity);
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
