//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/barrier.hpp>

#include <exception>

namespace spindle {

barrier::barrier(std::size_t participants, completion_type completion)
    : completion_(std::move(completion)), participants_(participants), remaining_(participants)
{
    if(participants == 0)
        detail::throw_error(error::invalid_argument, "spindle::barrier: zero participants");
}

void barrier::on_give_up(detail::wait_node& n, detail::wake_batch&) noexcept
{
    // Runs under the lock, before the phase could complete: the arrival is
    // withdrawn and the phase needs one more.
    ++static_cast<barrier*>(n.owner_)->remaining_;
}

bool barrier::arrive(bool wait, bool drop, std::stop_token const& st, boost::system::error_code& ec)
{
    detail::wake_batch released;
    std::unique_lock<detail::spinlock> lk(lock_);
    if(remaining_ == 0)
    {
        ec = error::invalid_argument; // every participant dropped out
        return false;
    }
    ec = {};
    if(drop)
        --participants_;
    if(--remaining_ > 0)
    {
        if(!wait)
            return false;
        detail::wait_node n;
        n.lock_ = &lock_;
        n.owner_ = this;
        n.on_give_up_ = &barrier::on_give_up;
        waiters_.push_back(n);
        if(detail::park(lk, n, detail::wait_deadline::never(), st) != detail::wake_status::done)
            ec = error::cancelled;
        return false;
    }
    // The last arrival: the waiters are completed now, under the lock, so
    // none can withdraw any more; they are woken after the completion ran.
    released.complete_all(waiters_, detail::wake_status::done);
    remaining_ = participants_;
    ++phase_;
    lk.unlock();
    std::exception_ptr failure;
    if(completion_)
    {
        try
        {
            completion_();
        }
        catch(...)
        {
            failure = std::current_exception();
        }
    }
    released.wake_all();
    if(failure)
        std::rethrow_exception(failure);
    return true;
}

bool barrier::arrive_and_wait()
{
    boost::system::error_code ec;
    bool const last = arrive(true, false, {}, ec);
    if(ec)
        detail::throw_error(ec, "spindle::barrier::arrive_and_wait: no participant left");
    return last;
}

bool barrier::arrive_and_wait(std::stop_token st, boost::system::error_code& ec)
{
    return arrive(true, false, st, ec);
}

bool barrier::arrive_and_wait(std::stop_token st)
{
    boost::system::error_code ec;
    bool const last = arrive(true, false, st, ec);
    if(ec)
        detail::throw_error(ec, "spindle::barrier::arrive_and_wait");
    return last;
}

bool barrier::arrive_and_drop()
{
    boost::system::error_code ec;
    bool const last = arrive(false, true, {}, ec);
    if(ec)
        detail::throw_error(ec, "spindle::barrier::arrive_and_drop: no participant left");
    return last;
}

std::size_t barrier::participants() const noexcept
{
    std::lock_guard<detail::spinlock> lk(lock_);
    return participants_;
}

std::uint64_t barrier::phase() const noexcept
{
    std::lock_guard<detail::spinlock> lk(lock_);
    return phase_;
}

} // namespace spindle
