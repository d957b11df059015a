//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The fiber-aware event count: parking a waiter and waking them all.

#include <spindle/detail/event_count.hpp>

#include <mutex>

namespace spindle::detail {

wake_status event_count::wait(key_type key, wait_deadline const& dl, std::stop_token const& st)
{
    std::unique_lock<spinlock> lk(lock_);
    if(static_cast<key_type>(state_.load(std::memory_order_relaxed) >> 32) != key)
    {
        lk.unlock();
        cancel_wait();
        return wake_status::done; // notified since prepare_wait
    }
    wait_node n;
    n.lock_ = &lock_;
    waiters_.push_back(n);
    wake_status r = wake_status::done;
    try
    {
        r = park(lk, n, dl, st);
    }
    catch(...)
    {
        cancel_wait();
        throw;
    }
    cancel_wait();
    return r;
}

void event_count::notify_slow() noexcept
{
    wake_batch woken; // woken after the lock is released
    std::lock_guard<spinlock> lk(lock_);
    state_.fetch_add(std::uint64_t(1) << 32, std::memory_order_seq_cst);
    woken.complete_all(waiters_, wake_status::done);
}

} // namespace spindle::detail
