//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A worker's run queue: the actors with mail (or system flags) waiting for
// one of the worker's runners. Not installed.

#ifndef SPINDLE_SRC_RUN_QUEUE_HPP
#define SPINDLE_SRC_RUN_QUEUE_HPP

#include <spindle/detail/actor_cell.hpp>
#include <spindle/detail/config.hpp>
#include <spindle/detail/spinlock.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace spindle::detail {

/** The actors one worker will run, in two intrusive lists under one lock.

    - The **stack** (LIFO) holds actors this worker's own handlers woke: a
      message to an idle actor, a spawn. Running the newest first keeps a
      conversation on one core and runs a spawning tree depth first, so a
      tree of a million actors holds a path of it alive at a time, not a
      level (CAF's work-stealing scheduler prepends its internal enqueues
      for the same reason).
    - The **queue** (FIFO) holds everything else: actors woken from other
      threads, actors that used up their budget with mail left, and every
      `stack_limit`-th local wake-up (see @ref worker::push_local), which
      is what keeps an endless local conversation from starving the rest.

    The owner pops the stack first, then the queue; a thief takes the
    queue's oldest entry first (the work waiting longest), then the top of
    the stack. Both lists link through `actor_cell::run_next_`, so queueing
    allocates nothing; an actor is in at most one run queue at a time (its
    mailbox's `scheduled` flag guarantees it).

    Every operation takes the one spinlock (RAII), held for a few pointer
    moves; `size()` is readable without it.
*/
class run_queue
{
public:
    run_queue() = default;
    run_queue(run_queue const&) = delete;
    run_queue& operator=(run_queue const&) = delete;

    /// Adds `c` at the end of the FIFO queue. @return the new size.
    std::uint32_t push_back(actor_cell* c) noexcept
    {
        c->run_next_ = nullptr;
        std::lock_guard lk(lock_);
        if(tail_)
            tail_->run_next_ = c;
        else
            head_ = c;
        tail_ = c;
        return grow();
    }

    /// Puts `c` on top of the LIFO stack. @return the new size.
    std::uint32_t push_front(actor_cell* c) noexcept
    {
        std::lock_guard lk(lock_);
        c->run_next_ = top_;
        top_ = c;
        return grow();
    }

    /** The owner's next actor: the stack's top, else the queue's head;
        null if empty. `from_stack` tells which.
    */
    actor_cell* pop(bool& from_stack) noexcept
    {
        if(size_.load(std::memory_order_relaxed) == 0)
            return nullptr;
        std::lock_guard lk(lock_);
        from_stack = top_ != nullptr;
        return from_stack ? pop_top() : pop_head();
    }

    /** A thief's take: the queue's head (oldest), else the stack's top.
        Never waits: null if the lock is held or fewer than `min_size`
        actors are queued.
    */
    actor_cell* steal(std::uint32_t min_size) noexcept
    {
        if(size_.load(std::memory_order_relaxed) < min_size)
            return nullptr;
        std::unique_lock lk(lock_, std::try_to_lock);
        if(!lk || size_.load(std::memory_order_relaxed) < min_size)
            return nullptr;
        return head_ ? pop_head() : pop_top();
    }

    /// Queued actors (a racy snapshot without the lock).
    std::uint32_t size(std::memory_order o = std::memory_order_relaxed) const noexcept
    {
        return size_.load(o);
    }

private:
    std::uint32_t grow() noexcept
    {
        std::uint32_t const n = size_.load(std::memory_order_relaxed) + 1;
        // seq_cst: a pusher then reads the workers' sleeping flags, which
        // a sleeper sets before it reads this size (see worker::idle_wait)
        size_.store(n, std::memory_order_seq_cst);
        return n;
    }

    void shrink() noexcept { size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed); }

    actor_cell* pop_top() noexcept
    {
        actor_cell* c = top_;
        top_ = c->run_next_;
        shrink();
        return c;
    }

    actor_cell* pop_head() noexcept
    {
        actor_cell* c = head_;
        if(!c)
            return nullptr;
        head_ = c->run_next_;
        if(!head_)
            tail_ = nullptr;
        shrink();
        return c;
    }

    alignas(SPINDLE_CACHELINE) spinlock lock_;
    actor_cell* top_ = nullptr;  ///< the LIFO stack
    actor_cell* head_ = nullptr; ///< the FIFO queue
    actor_cell* tail_ = nullptr;
    std::atomic<std::uint32_t> size_{0}; ///< both lists (written under the lock)
};

} // namespace spindle::detail

#endif
