//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/latch.hpp>

namespace spindle {

latch::latch(std::ptrdiff_t count) : count_(count)
{
    if(count < 0)
        detail::throw_error(error::invalid_argument, "spindle::latch: negative count");
}

void latch::count_down(std::ptrdiff_t n, boost::system::error_code& ec) noexcept
{
    detail::wake_batch batch; // woken after the lock is released
    std::lock_guard<detail::spinlock> lk(lock_);
    std::ptrdiff_t const c = count_.load(std::memory_order_relaxed);
    if(n < 0 || n > c)
    {
        ec = error::invalid_argument;
        return;
    }
    ec = {};
    count_.store(c - n, std::memory_order_release);
    if(c - n == 0)
        batch.complete_all(waiters_, detail::wake_status::done);
}

void latch::count_down(std::ptrdiff_t n)
{
    boost::system::error_code ec;
    count_down(n, ec);
    if(ec)
        detail::throw_error(ec, "spindle::latch::count_down: decrement negative or larger than the count");
}

detail::wake_status latch::wait_impl(detail::wait_deadline const& dl, std::stop_token const& st) const
{
    if(try_wait())
        return detail::wake_status::done;
    std::unique_lock<detail::spinlock> lk(lock_);
    if(count_.load(std::memory_order_relaxed) == 0)
        return detail::wake_status::done;
    detail::wait_node n;
    n.lock_ = &lock_;
    waiters_.push_back(n);
    return detail::park(lk, n, dl, st);
}

void latch::wait() const
{
    wait_impl(detail::wait_deadline::never(), {});
}

void latch::wait(std::stop_token st, boost::system::error_code& ec) const
{
    if(wait_impl(detail::wait_deadline::never(), st) == detail::wake_status::done)
        ec = {};
    else
        ec = error::cancelled;
}

void latch::wait(std::stop_token st) const
{
    boost::system::error_code ec;
    wait(std::move(st), ec);
    if(ec)
        detail::throw_error(ec, "spindle::latch::wait");
}

bool latch::wait_for(std::chrono::nanoseconds d, std::stop_token st) const
{
    return wait_impl(detail::wait_deadline::after(d), st) == detail::wake_status::done;
}

bool latch::wait_until(std::chrono::steady_clock::time_point deadline, std::stop_token st) const
{
    return wait_impl(detail::wait_deadline::at(deadline), st) == detail::wake_status::done;
}

bool latch::wait_for(timer_service& timers, std::chrono::nanoseconds d, std::stop_token st) const
{
    return wait_impl(detail::wait_deadline::after(timers, d), st) == detail::wake_status::done;
}

bool latch::wait_until(timer_service& timers, timer_service::time_point deadline, std::stop_token st) const
{
    return wait_impl(detail::wait_deadline::at(timers, deadline), st) == detail::wake_status::done;
}

void latch::arrive_and_wait(std::ptrdiff_t n)
{
    count_down(n);
    wait();
}

} // namespace spindle
