//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/semaphore.hpp>

namespace spindle {

semaphore::semaphore(std::ptrdiff_t initial, std::ptrdiff_t max_permits) : count_(initial), max_(max_permits)
{
    if(max_permits <= 0)
        detail::throw_error(error::invalid_argument, "spindle::semaphore: max_permits must be positive");
    if(initial < 0 || initial > max_permits)
        detail::throw_error(error::invalid_argument, "spindle::semaphore: initial permits outside [0, max_permits]");
}

void semaphore::on_give_up(detail::wait_node& n, detail::wake_batch&) noexcept
{
    auto* self = static_cast<semaphore*>(n.owner_);
    self->waiting_.fetch_sub(1, std::memory_order_relaxed);
}

void semaphore::release(std::ptrdiff_t n, boost::system::error_code& ec) noexcept
{
    detail::wake_batch batch; // woken after the lock is released
    std::lock_guard<detail::spinlock> lk(lock_);
    std::ptrdiff_t c = count_.load(std::memory_order_relaxed);
    // while anyone waits the count is zero, so this bounds the permits held
    // after the hand-over as well
    if(n < 0 || n > max_ - c)
    {
        ec = error::invalid_argument;
        return;
    }
    ec = {};
    while(n > 0 && !waiters_.empty())
    {
        batch.complete(*waiters_.front(), detail::wake_status::done);
        waiting_.fetch_sub(1, std::memory_order_relaxed);
        --n;
    }
    count_.store(c + n, std::memory_order_relaxed);
}

void semaphore::release(std::ptrdiff_t n)
{
    boost::system::error_code ec;
    release(n, ec);
    if(ec)
        detail::throw_error(ec, "spindle::semaphore::release: negative count or more than max_permits");
}

bool semaphore::try_acquire() noexcept
{
    std::lock_guard<detail::spinlock> lk(lock_);
    std::ptrdiff_t const c = count_.load(std::memory_order_relaxed);
    if(c == 0)
        return false;
    count_.store(c - 1, std::memory_order_relaxed);
    return true;
}

detail::wake_status semaphore::acquire_impl(detail::wait_deadline const& dl, std::stop_token const& st)
{
    std::unique_lock<detail::spinlock> lk(lock_);
    std::ptrdiff_t const c = count_.load(std::memory_order_relaxed);
    if(c > 0)
    {
        count_.store(c - 1, std::memory_order_relaxed);
        return detail::wake_status::done;
    }
    detail::wait_node n;
    n.lock_ = &lock_;
    n.owner_ = this;
    n.on_give_up_ = &semaphore::on_give_up;
    waiters_.push_back(n);
    waiting_.fetch_add(1, std::memory_order_relaxed);
    // `done` means release() handed its permit to this waiter
    return detail::park(lk, n, dl, st);
}

void semaphore::acquire()
{
    acquire_impl(detail::wait_deadline::never(), {});
}

void semaphore::acquire(std::stop_token st, boost::system::error_code& ec)
{
    if(acquire_impl(detail::wait_deadline::never(), st) == detail::wake_status::done)
        ec = {};
    else
        ec = error::cancelled;
}

void semaphore::acquire(std::stop_token st)
{
    boost::system::error_code ec;
    acquire(std::move(st), ec);
    if(ec)
        detail::throw_error(ec, "spindle::semaphore::acquire");
}

bool semaphore::try_acquire_for(std::chrono::nanoseconds d, std::stop_token st)
{
    return acquire_impl(detail::wait_deadline::after(d), st) == detail::wake_status::done;
}

bool semaphore::try_acquire_until(std::chrono::steady_clock::time_point deadline, std::stop_token st)
{
    return acquire_impl(detail::wait_deadline::at(deadline), st) == detail::wake_status::done;
}

bool semaphore::try_acquire_for(timer_service& timers, std::chrono::nanoseconds d, std::stop_token st)
{
    return acquire_impl(detail::wait_deadline::after(timers, d), st) == detail::wake_status::done;
}

bool semaphore::try_acquire_until(timer_service& timers, timer_service::time_point deadline, std::stop_token st)
{
    return acquire_impl(detail::wait_deadline::at(timers, deadline), st) == detail::wake_status::done;
}

} // namespace spindle
