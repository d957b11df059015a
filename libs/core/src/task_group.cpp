//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/task_group.hpp>

#include <spindle/log.hpp>

#include <boost/core/demangle.hpp>

#include <exception>
#include <mutex>
#include <typeinfo>

namespace spindle {

namespace detail {

void task_group_state::fiber_started() noexcept
{
    std::lock_guard<spinlock> lk(lock_);
    ++fibers_;
}

void task_group_state::fiber_done() noexcept
{
    wake_batch joiners; // woken after the lock is released
    std::lock_guard<spinlock> lk(lock_);
    if(--fibers_ == 0)
        joiners.complete_all(joiners_, wake_status::done);
}

void task_group_state::record(std::exception_ptr e) noexcept
{
    failures_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<spinlock> lk(lock_);
    if(!first_failure_)
        first_failure_ = std::move(e);
}

void task_group_state::adopt(std::unique_ptr<group_member> m)
{
    group_member* const added = m.get();
    {
        std::lock_guard<spinlock> lk(lock_);
        adopted_.push_back(std::move(m));
    }
    // Checked after adding: a request_stop racing with us either sees the
    // member or is seen here (then cancel runs twice, which is harmless).
    if(stop_.stop_requested())
        added->cancel();
}

void task_group_state::request_stop() noexcept
{
    stop_.request_stop();
    // Members are only ever appended and live as long as the state, so the
    // pointers stay valid; cancel() runs without the spinlock, since a
    // handle's cancel may take locks of its own.
    for(std::size_t i = 0;; ++i)
    {
        group_member* m;
        {
            std::lock_guard<spinlock> lk(lock_);
            if(i >= adopted_.size())
                break;
            m = adopted_[i].get();
        }
        m->cancel();
    }
}

void task_group_state::join(bool contain)
{
    for(;;)
    {
        {
            std::unique_lock<spinlock> lk(lock_);
            if(fibers_ > 0)
            {
                wait_node n;
                n.lock_ = &lock_;
                joiners_.push_back(n);
                park(lk, n, wait_deadline::never(), {});
            }
        }
        for(std::size_t i = 0;; ++i)
        {
            group_member* m;
            {
                std::lock_guard<spinlock> lk(lock_);
                if(i >= adopted_.size())
                    break;
                m = adopted_[i].get();
                if(m->waited_)
                    continue;
            }
            try
            {
                m->wait();
            }
            catch(...)
            {
                if(!contain)
                    throw;
                SPINDLE_LOG(error, "task_group") << "an adopted task's wait() threw while the group was joined";
            }
            std::lock_guard<spinlock> lk(lock_);
            m->waited_ = true;
        }
        // an adopted task may have spawned into the group meanwhile
        std::lock_guard<spinlock> lk(lock_);
        if(fibers_ == 0)
            return;
    }
}

std::size_t task_group_state::running() const noexcept
{
    std::lock_guard<spinlock> lk(lock_);
    std::size_t n = fibers_;
    for(auto const& m : adopted_)
        if(!m->waited_ && !m->ready())
            ++n;
    return n;
}

} // namespace detail

task_group::task_group(cleanup_type cleanup)
    : state_(std::make_shared<detail::task_group_state>()), cleanup_(std::move(cleanup))
{
}

task_group::~task_group()
{
    state_->request_stop();
    state_->join(true);
    if(cleanup_)
    {
        try
        {
            cleanup_();
        }
        catch(std::exception const& e)
        {
            SPINDLE_LOG(error, "task_group")
                << "cleanup threw " << boost::core::demangle(typeid(e).name()) << ": " << e.what();
        }
        catch(...)
        {
            SPINDLE_LOG(error, "task_group") << "cleanup threw a non-standard exception";
        }
    }
}

std::exception_ptr task_group::first_failure() const
{
    std::lock_guard<detail::spinlock> lk(state_->lock_);
    return state_->first_failure_;
}

} // namespace spindle
