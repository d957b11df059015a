//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/run_blocking.hpp>

#include "system_state.hpp"

#include <spindle/metrics.hpp>
#include <spindle/system.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
# include <pthread.h>
#endif

namespace spindle {

// The pool's threads are plain threads that never run fibers, so they wait
// on std primitives; fibers only ever hold `mutex` for a queue operation.
struct blocking_pool::impl : std::enable_shared_from_this<impl>
{
    blocking_pool_options opts;

    mutable std::mutex mutex;
    std::condition_variable work_cv;
    std::deque<detail::timer_callback> queue;
    std::vector<std::thread> threads;
    std::size_t alive = 0; // threads started and not yet ended
    std::size_t idle = 0;
    std::size_t running = 0;
    std::uint64_t submitted = 0;
    std::uint64_t completed = 0;
    std::uint64_t rejected = 0;
    bool stopping = false;

    explicit impl(blocking_pool_options o) : opts(std::move(o)) {}

    void run() noexcept
    {
#if defined(__linux__)
        std::string name = opts.name.substr(0, 15);
        ::pthread_setname_np(::pthread_self(), name.c_str());
#endif
        std::unique_lock<std::mutex> lk(mutex);
        for(;;)
        {
            while(queue.empty() && !stopping)
            {
                ++idle;
                work_cv.wait(lk);
                --idle;
            }
            if(queue.empty())
                break; // stopping: shutdown took whatever was queued
            detail::timer_callback job = std::move(queue.front());
            queue.pop_front();
            ++running;
            lk.unlock();
            job(); // a blocking_job: never throws, completes its future
            job.reset();
            lk.lock();
            --running;
            ++completed;
        }
        --alive;
    }

    void post(detail::timer_callback& job, boost::system::error_code& ec)
    {
        std::unique_lock<std::mutex> lk(mutex);
        if(stopping)
        {
            ec = error::system_stopped;
            return;
        }
        if(queue.size() >= opts.queue_capacity)
        {
            ++rejected;
            ec = make_error_code(boost::system::errc::resource_unavailable_try_again);
            return;
        }
        queue.push_back(std::move(job));
        // Every idle thread will take one queued job; start another thread
        // only for the jobs none of them will take.
        if(queue.size() > idle && threads.size() < opts.threads)
        {
            try
            {
                threads.emplace_back([self = shared_from_this()] { self->run(); });
                ++alive;
            }
            catch(...)
            {
                if(threads.empty())
                {
                    // no thread could ever run it
                    job = std::move(queue.back());
                    queue.pop_back();
                    ec = make_error_code(boost::system::errc::resource_unavailable_try_again);
                    return;
                }
                // the running threads will get to it
            }
        }
        ++submitted;
        ec = {};
        lk.unlock();
        work_cv.notify_one();
    }

    void shutdown() noexcept
    {
        std::deque<detail::timer_callback> doomed;
        std::vector<std::thread> joining;
        {
            std::lock_guard<std::mutex> lk(mutex);
            stopping = true;
            doomed.swap(queue);
            joining.swap(threads);
        }
        work_cv.notify_all();
        doomed.clear(); // never run: their futures complete with `cancelled`
        for(auto& t : joining)
        {
            if(t.get_id() == std::this_thread::get_id())
                t.detach(); // shut down from one of its own jobs
            else
                t.join();
        }
    }
};

blocking_pool::blocking_pool(blocking_pool_options opts)
{
    if(opts.queue_capacity == 0)
        detail::throw_error(error::invalid_argument, "spindle::blocking_pool: queue_capacity must be positive");
    if(opts.threads == 0)
        opts.threads = std::max(4u, 2 * std::thread::hardware_concurrency());
    impl_ = std::make_shared<impl>(std::move(opts));
}

blocking_pool::~blocking_pool()
{
    shutdown();
}

void blocking_pool::post(detail::timer_callback job, boost::system::error_code& ec)
{
    impl_->post(job, ec);
    // on error `job` still holds the job: destroying it cancels its future
}

void blocking_pool::throw_submit_error(boost::system::error_code const& ec) const
{
    if(ec == error::system_stopped)
        detail::throw_error(ec, "spindle::run_blocking: the blocking pool has shut down");
    std::string what = "spindle::run_blocking: blocking pool \"" + impl_->opts.name + "\" is full (" +
                       std::to_string(impl_->opts.queue_capacity) + " jobs queued)";
    detail::throw_error(ec, what.c_str());
}

void blocking_pool::shutdown() noexcept
{
    impl_->shutdown();
}

blocking_pool_options const& blocking_pool::options() const noexcept
{
    return impl_->opts;
}

blocking_pool_stats blocking_pool::stats() const noexcept
{
    std::lock_guard<std::mutex> lk(impl_->mutex);
    blocking_pool_stats s;
    s.threads = impl_->alive;
    s.queued = impl_->queue.size();
    s.running = impl_->running;
    s.submitted = impl_->submitted;
    s.completed = impl_->completed;
    s.rejected = impl_->rejected;
    return s;
}

//------------------------------------------------------------------------------
// the pool of a system

namespace {

// One pool per live system, found by the address of its state. The pool is
// owned by the collectors that publish its metrics in the system's registry:
// the registry dies with the system's state, and with it the pool (its
// destructor joins the threads). The table keeps only weak references.
struct system_pool
{
    detail::system_state const* key;
    std::weak_ptr<detail::system_state> system;
    std::weak_ptr<blocking_pool> pool;
};

struct pool_table
{
    std::mutex mutex;
    std::vector<system_pool> entries;
};

pool_table& table()
{
    static auto* t = new pool_table(); // never destroyed: pools may be looked up during exit
    return *t;
}

void publish(metrics::registry& r, std::shared_ptr<blocking_pool> const& pool)
{
    using metrics::metric_type;
    r.add_collector("spindle_blocking_pool_threads", "Threads of the system's blocking pool (run_blocking).",
                    metric_type::gauge, [pool](std::vector<metrics::sample>& out) {
                        out.emplace_back(metrics::labels_type{}, static_cast<double>(pool->stats().threads));
                    });
    r.add_collector("spindle_blocking_pool_jobs", "Jobs of the system's blocking pool, by state.",
                    metric_type::gauge, [pool](std::vector<metrics::sample>& out) {
                        auto const s = pool->stats();
                        out.emplace_back(metrics::labels_type{{"state", "queued"}}, static_cast<double>(s.queued));
                        out.emplace_back(metrics::labels_type{{"state", "running"}}, static_cast<double>(s.running));
                    });
    r.add_collector("spindle_blocking_pool_rejected_total",
                    "Submissions to the system's blocking pool refused because its queue was full.",
                    metric_type::counter, [pool](std::vector<metrics::sample>& out) {
                        out.emplace_back(metrics::labels_type{}, static_cast<double>(pool->stats().rejected));
                    });
}

} // namespace

blocking_pool* blocking_pool_of(system& sys, boost::system::error_code& ec)
{
    if(sys.stopping())
    {
        ec = error::system_stopped;
        return nullptr;
    }
    ec = {};
    detail::system_state& state = sys.state();
    auto& t = table();
    std::lock_guard<std::mutex> lk(t.mutex);
    std::erase_if(t.entries, [](system_pool const& e) { return e.system.expired() || e.pool.expired(); });
    for(auto& e : t.entries)
        if(e.key == &state)
            if(auto p = e.pool.lock())
                return p.get(); // the system's registry keeps it alive
    auto pool = std::make_shared<blocking_pool>();
    publish(sys.metrics(), pool);
    t.entries.push_back({&state, state.weak_from_this(), pool});
    return pool.get();
}

blocking_pool& blocking_pool_of(system& sys)
{
    boost::system::error_code ec;
    blocking_pool* p = blocking_pool_of(sys, ec);
    if(!p)
        detail::throw_error(ec, "spindle::blocking_pool_of: the system is shutting down");
    return *p;
}

} // namespace spindle
