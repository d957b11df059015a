//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The executor's retries: a failed attempt of a retrying task waits for
// its backoff on a system timer, listed in the executor's backoff set so
// that a shutdown can end it at once.

#include "executor_impl.hpp"

#include <functional>
#include <random>
#include <thread>

namespace spindle::detail {

namespace {

double uniform01() noexcept
{
    thread_local std::minstd_rand rng(static_cast<unsigned>(
        std::hash<std::thread::id>()(std::this_thread::get_id()) ^
        static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

} // namespace

struct executor_impl::retry_due
{
    std::weak_ptr<executor_impl> ex;
    boost::intrusive_ptr<task_core> t;

    retry_due(std::weak_ptr<executor_impl> e, task_core* task) noexcept : ex(std::move(e)), t(task, false) {}
    retry_due(retry_due&&) noexcept = default;
    retry_due& operator=(retry_due&&) = delete;

    void operator()()
    {
        auto task = std::move(t);
        if(auto e = ex.lock())
            e->on_retry_due(std::move(task));
        else
            task->complete_error(task_error::executor_stopped);
    }

    ~retry_due()
    {
        if(!t)
            return;
        if(auto e = ex.lock())
            e->on_retry_dropped(t.get());
        else
            t->complete_error(task_error::executor_stopped);
    }
};

void executor_impl::schedule_retry(task_core* t) noexcept
{
    auto const delay = t->policy_->retry.delay(t->attempts_, uniform01());
    {
        std::lock_guard lk(backoff_lock_);
        task_policy& p = *t->policy_;
        p.in_backoff = true;
        p.backoff_prev = nullptr;
        p.backoff_next = backoff_head_;
        if(backoff_head_)
            backoff_head_->policy_->backoff_prev = t;
        backoff_head_ = t;
        backoff_count_.fetch_add(1, std::memory_order_seq_cst);
    }
    boost::system::error_code ec;
    try
    {
        // the lane's reference moves to the timer callback
        timers_.start(delay, retry_due(weak_from_this(), t), ec);
    }
    catch(...)
    {
        ec = error::system_stopped; // out of memory; the callback ended the task
    }
    // on error the callback was destroyed unfired, which ended the task;
    // counted once armed, so an observer of the count sees the timer set
    if(!ec)
        retries_.inc();
}

bool executor_impl::take_backoff(task_core* t) noexcept
{
    std::lock_guard lk(backoff_lock_);
    task_policy& p = *t->policy_;
    if(!p.in_backoff)
        return false;
    p.in_backoff = false;
    if(p.backoff_prev)
        p.backoff_prev->policy_->backoff_next = p.backoff_next;
    else
        backoff_head_ = p.backoff_next;
    if(p.backoff_next)
        p.backoff_next->policy_->backoff_prev = p.backoff_prev;
    backoff_count_.fetch_sub(1, std::memory_order_seq_cst);
    return true;
}

void executor_impl::on_retry_due(boost::intrusive_ptr<task_core> t)
{
    if(!take_backoff(t.get()))
        return;
    if(t->claimed() || closed_.load(std::memory_order_acquire))
    {
        if(!finish(t.get(), task_error::executor_stopped, cancelled_))
            count_if_cancelled(t.get());
        t->drop_callable();
        check_quiet();
        return;
    }
    // a retry was accepted before: it re-enters even a full queue
    try
    {
        push(t.get());
        t.detach(); // the queue holds the reference now
    }
    catch(...)
    {
        finish(t.get(), task_error::task_failed, failed_);
        t->drop_callable();
        check_quiet();
    }
}

void executor_impl::on_retry_dropped(task_core* t) noexcept
{
    if(!take_backoff(t))
        return;
    if(!finish(t, task_error::executor_stopped, cancelled_))
        count_if_cancelled(t);
    t->drop_callable();
    check_quiet();
}

std::size_t executor_impl::sweep_backoff() noexcept
{
    task_core* taken;
    {
        std::lock_guard lk(backoff_lock_);
        taken = std::exchange(backoff_head_, nullptr);
        for(task_core* t = taken; t; t = t->policy_->backoff_next)
        {
            t->policy_->in_backoff = false;
            intrusive_ptr_add_ref(t); // the timer callback may drop its own at any moment
        }
        backoff_count_.store(0, std::memory_order_seq_cst);
    }
    std::size_t n = 0;
    while(taken)
    {
        task_core* t = taken;
        taken = t->policy_->backoff_next;
        if(finish(t, task_error::executor_stopped, cancelled_))
            ++n;
        else
            count_if_cancelled(t);
        t->drop_callable();
        intrusive_ptr_release(t);
    }
    return n;
}

} // namespace spindle::detail
