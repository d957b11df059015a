//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Stopping the executor: at the system's shutdown or its own, queued and
// backed-off tasks end with `executor_stopped`, running ones are asked to
// stop, and `shutdown` first waits (up to its deadline) for the queue to
// empty; the counts of `stats`.

#include "executor_impl.hpp"

#include <boost/fiber/future.hpp>

namespace spindle::detail {

std::size_t executor_impl::running_count() const noexcept
{
    std::size_t n = 0;
    std::size_t const lanes = std::min(lanes_spawned_.load(std::memory_order_acquire), opts_.max_concurrent);
    for(std::size_t i = 0; i < lanes; ++i)
    {
        std::lock_guard lk(lanes_[i].lock);
        if(lanes_[i].current)
            ++n;
    }
    return n;
}

void executor_impl::check_quiet() noexcept
{
    if(!stopping_.load(std::memory_order_acquire) || !quiet())
        return;
    task_waiter* w;
    {
        std::lock_guard lk(quiet_lock_);
        w = quiet_waiter_;
        quiet_waiter_ = nullptr;
    }
    if(w)
        w->release_signal();
}

std::vector<task_id> executor_impl::stop_running() noexcept
{
    std::vector<task_id> ids;
    std::size_t const lanes = std::min(lanes_spawned_.load(std::memory_order_acquire), opts_.max_concurrent);
    for(std::size_t i = 0; i < lanes; ++i)
    {
        task_core* t = nullptr;
        {
            std::lock_guard lk(lanes_[i].lock);
            t = lanes_[i].current;
            if(t)
                intrusive_ptr_add_ref(t);
        }
        if(!t)
            continue;
        finish(t, task_error::executor_stopped, cancelled_);
        try
        {
            ids.push_back(t->id());
        }
        catch(...)
        {
        }
        intrusive_ptr_release(t);
    }
    return ids;
}

void executor_impl::on_system_stop() noexcept
{
    stopping_.store(true, std::memory_order_seq_cst);
    closed_.store(true, std::memory_order_seq_cst);
    wake_all_room_waiters();
    drain_queues();
    sweep_backoff();
    stop_running();
    check_quiet();
}

executor_shutdown_report executor_impl::shutdown(std::chrono::nanoseconds deadline)
{
    executor_shutdown_report report;
    if(shutdown_started_.exchange(true))
        return report;
    auto const finished_before = finished_total();
    stopping_.store(true, std::memory_order_seq_cst);
    wake_all_room_waiters();

    if(!quiet() && deadline > std::chrono::nanoseconds::zero() && !closed_.load())
    {
        // real time, like system::shutdown: a test's manual clock must not
        // be able to make a destructor wait forever
        task_waiter w;
        boost::fibers::future<void> f = w.promise_.get_future();
        {
            std::lock_guard lk(quiet_lock_);
            quiet_waiter_ = &w;
        }
        check_quiet();
        f.wait_for(deadline);
        bool removed = false;
        {
            std::lock_guard lk(quiet_lock_);
            if(quiet_waiter_ == &w)
            {
                quiet_waiter_ = nullptr;
                removed = true;
            }
        }
        if(!removed)
            w.await_release();
    }
    report.finished = static_cast<std::size_t>(finished_total() - finished_before);

    closed_.store(true, std::memory_order_seq_cst);
    report.cancelled += drain_queues();
    report.cancelled += sweep_backoff();
    report.unfinished = stop_running();

    timers_.cancel(watchdog_);
    std::size_t const lanes = std::min(lanes_spawned_.load(std::memory_order_acquire), opts_.max_concurrent);
    for(std::size_t i = 0; i < lanes; ++i)
    {
        actor_ref<lane_actor> ref;
        {
            std::lock_guard lk(lanes_[i].lock);
            ref = lanes_[i].ref;
        }
        if(ref)
            ref.stop();
    }
    return report;
}

std::uint64_t executor_impl::finished_total() const noexcept
{
    return total(completed_) + total(failed_) + total(timed_out_) + total(cancelled_);
}

executor_stats executor_impl::stats() const noexcept
{
    executor_stats s;
    s.submitted = total(submitted_);
    s.rejected = total(rejected_);
    s.completed = total(completed_);
    s.failed = total(failed_);
    s.timed_out = total(timed_out_);
    s.cancelled = total(cancelled_);
    s.retries = retries_.value();
    s.exceptions = exceptions_.value();
    s.unresponsive = unresponsive_.value();
    s.running = running_count();
    s.queued = queued_count();
    s.waiting = static_cast<std::size_t>(std::max(0, room_waiting_.load(std::memory_order_relaxed)));
    return s;
}

} // namespace spindle::detail
