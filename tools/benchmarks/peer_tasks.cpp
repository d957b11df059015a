//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// tasks N on the peers of spindle_tasks.cpp: the same N trivial tasks
// (bench::task_tally::add of their number), submitted by one submitter per
// thread that is itself a task of the pool, then a wait for all of them.
//
// - tbb: a tbb::task_group in a tbb::task_arena of `threads` slots. As TBB
//   intends, the thread that waits works: the main thread holds the arena's
//   reserved slot and runs tasks in task_group::wait(), next to threads-1
//   TBB workers, so `threads` threads run tasks, as in the other systems.
// - asio: a boost::asio::thread_pool of `threads` threads and
//   boost::asio::post; the main thread waits on the last task's signal.
//
// msgs = N.

#include "peer_workloads.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <thread>
#include <vector>

namespace peer_bench {

bench::result run_tasks_tbb(bench::options const& o)
{
    // TBB caps its workers at the hardware threads unless told otherwise
    tbb::global_control const parallelism(tbb::global_control::max_allowed_parallelism, o.threads);
    tbb::task_arena arena(static_cast<int>(o.threads)); // one slot reserved for the main thread
    arena.initialize();
    // start the workers before timing, as a thread pool's constructor does
    arena.execute([] {
        tbb::task_group g;
        for(int i = 0; i < 1000; ++i)
            g.run([] {});
        g.wait();
    });

    bench::task_tally tally(o.n, nullptr); // task_group::wait is the signal
    std::uint64_t const submitters = o.threads;
    bench::stopwatch const sw;
    arena.execute([&] {
        tbb::task_group g;
        std::uint64_t first = 0;
        for(std::uint64_t i = 0; i < submitters; ++i)
        {
            std::uint64_t const k = bench::share(o.n, submitters, i);
            g.run([&g, &tally, first, k] {
                for(std::uint64_t v = first; v < first + k; ++v)
                    g.run([t = &tally, v] { t->add(v); });
            });
            first += k;
        }
        g.wait();
    });
    bench::result r;
    sw.stop(r);
    tally.verify();
    r.msgs = o.n;
    return r;
}

bench::result run_tasks_asio(bench::options const& o)
{
    boost::asio::thread_pool pool(o.threads);
    bench::completion done;
    bench::task_tally tally(o.n, &done);
    std::uint64_t const submitters = o.threads;

    bench::stopwatch const sw;
    std::uint64_t first = 0;
    for(std::uint64_t i = 0; i < submitters; ++i)
    {
        std::uint64_t const k = bench::share(o.n, submitters, i);
        boost::asio::post(pool, [&pool, &tally, first, k] {
            for(std::uint64_t v = first; v < first + k; ++v)
                boost::asio::post(pool, [t = &tally, v] { t->add(v); });
        });
        first += k;
    }
    done.wait();
    bench::result r;
    sw.stop(r);
    pool.join();
    tally.verify();
    r.msgs = o.n;
    return r;
}

// tasks_external: `threads` plain threads post the N tasks to the pool
bench::result run_tasks_external_asio(bench::options const& o)
{
    boost::asio::thread_pool pool(o.threads);
    bench::completion done;
    bench::task_tally tally(o.n, &done);
    std::uint64_t const submitters = o.threads;
    std::vector<std::thread> threads;
    threads.reserve(submitters);

    bench::stopwatch const sw;
    std::uint64_t first = 0;
    for(std::uint64_t i = 0; i < submitters; ++i)
    {
        std::uint64_t const k = bench::share(o.n, submitters, i);
        threads.emplace_back([&pool, &tally, first, k] {
            for(std::uint64_t v = first; v < first + k; ++v)
                boost::asio::post(pool, [t = &tally, v] { t->add(v); });
        });
        first += k;
    }
    done.wait();
    bench::result r;
    sw.stop(r);
    for(auto& t : threads)
        t.join();
    pool.join();
    tally.verify();
    r.msgs = o.n;
    return r;
}

} // namespace peer_bench
