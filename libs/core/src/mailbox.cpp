//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/detail/mailbox.hpp>

#include <spindle/detail/wait_queue.hpp>

#include <chrono>
#include <mutex>

namespace spindle::detail {

/// Senders parked on a full mailbox under `overflow_policy::block`
/// (guarded by the mailbox's lock).
struct mailbox_waiters
{
    wait_queue queue;
    std::chrono::nanoseconds timeout{};
};

mailbox::mailbox(mailbox_options const& opts) : policy_(opts.policy), capacity_(opts.capacity)
{
    if(capacity_ > 0 && policy_ == overflow_policy::block)
    {
        waiters_ = new mailbox_waiters;
        waiters_->timeout = opts.block_timeout;
    }
}

mailbox::~mailbox()
{
    discard(head_);
    discard(sys_head_);
    delete waiters_;
}

void mailbox::discard(envelope* list) noexcept
{
    while(list)
    {
        envelope* n = list->next_;
        list->vtable_->discard(list, error::actor_stopped);
        list = n;
    }
}

push_result mailbox::push_full(envelope* e, envelope*& evicted) noexcept
{
    if(closed_)
        return push_result::closed;
    switch(policy_)
    {
    case overflow_policy::fail:
    case overflow_policy::block: // push_blocking is the one that waits
        return push_result::refused;
    case overflow_policy::drop_newest:
        return push_result::dropped;
    case overflow_policy::drop_oldest:
        evicted = take_head();
        break;
    }
    append(e);
    return scheduled_result();
}

push_result mailbox::push_blocking(envelope* e, envelope*& evicted) noexcept
{
    evicted = nullptr;
    std::unique_lock lk(lock_);
    if(!closed_ && size_.load(std::memory_order_relaxed) >= capacity_)
    {
        auto const deadline = wait_deadline::after(waiters_->timeout);
        do
        {
            // woken when a message is taken (or the mailbox closes); the
            // room may be gone again by then, so look once more
            wait_node n;
            n.lock_ = &lock_;
            waiters_->queue.push_back(n);
            auto const st = park(lk, n, deadline, {});
            lk.lock();
            if(st == wake_status::timeout && !closed_ && size_.load(std::memory_order_relaxed) >= capacity_)
                return push_result::refused;
        } while(!closed_ && size_.load(std::memory_order_relaxed) >= capacity_);
    }
    if(closed_)
        return push_result::closed;
    append(e);
    return scheduled_result();
}

push_result mailbox::push_system(envelope* e) noexcept
{
    e->next_ = nullptr;
    std::lock_guard lk(lock_);
    if(closed_)
        return push_result::closed;
    if(sys_tail_)
        sys_tail_->next_ = e;
    else
        sys_head_ = e;
    sys_tail_ = e;
    return scheduled_result();
}

push_result mailbox::raise(std::uint8_t flags) noexcept
{
    std::lock_guard lk(lock_);
    if(closed_)
        return push_result::closed;
    flags_ |= flags;
    return scheduled_result();
}

void mailbox::wake_sender() noexcept
{
    wake_batch woken; // wakes after the guard below unlocks
    std::lock_guard lk(lock_);
    if(!waiters_->queue.empty())
        woken.complete(*waiters_->queue.front(), wake_status::done);
}

mailbox::next mailbox::pop_rare(std::uint8_t& flags, envelope*& e) noexcept
{
    // the caller holds the lock: flags first, then a pause, then system mail
    flags = flags_;
    if(flags)
    {
        flags_ = 0;
        return next::flags;
    }
    if(paused_)
    {
        scheduled_ = false;
        return next::idle;
    }
    e = sys_head_;
    sys_head_ = e->next_;
    if(!sys_head_)
        sys_tail_ = nullptr;
    return next::system;
}

void mailbox::pause(bool on) noexcept
{
    std::lock_guard lk(lock_);
    paused_ = on;
}

mailbox::drained mailbox::close() noexcept
{
    drained d;
    {
        wake_batch woken; // blocked senders see the closed mailbox
        std::lock_guard lk(lock_);
        if(waiters_)
            woken.complete_all(waiters_->queue, wake_status::closed);
        d.was_open = !closed_;
        closed_ = true;
        d.user = head_;
        d.system = sys_head_;
        head_ = tail_ = sys_head_ = sys_tail_ = nullptr;
        size_.store(0, std::memory_order_relaxed);
    }
    return d;
}

bool mailbox::closed() const noexcept
{
    std::lock_guard lk(lock_);
    return closed_;
}

void mailbox::never_schedule() noexcept
{
    std::lock_guard lk(lock_);
    scheduled_ = true;
}

} // namespace spindle::detail
