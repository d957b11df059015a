//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_EVENT_COUNT_HPP
#define SPINDLE_DETAIL_EVENT_COUNT_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/detail/wait_queue.hpp>

#include <atomic>
#include <cstdint>
#include <stop_token>

namespace spindle::detail {

/** A fiber-aware event count (after Folly's EventCount): a waiter announces
    itself, re-checks its condition and parks only if nothing happened
    since; a notifier that finds no waiter costs a fence and a load.

    @code
    for(;;) {
        if(try_get()) break;
        auto key = ev.prepare_wait();
        if(try_get()) { ev.cancel_wait(); break; }
        ev.wait(key, deadline, token);
    }
    // producer: publish(); ev.notify();
    @endcode
*/
class event_count
{
    spinlock lock_;
    wait_queue waiters_;
    // high 32 bits: epoch (bumped by each notification that found waiters),
    // low 32 bits: fibers between prepare_wait and the end of their wait
    std::atomic<std::uint64_t> state_{0};

    SPINDLE_DECL void notify_slow() noexcept;

public:
    using key_type = std::uint32_t;

    event_count() = default;
    event_count(event_count const&) = delete;
    event_count& operator=(event_count const&) = delete;

    /// Announces a waiter; re-check the condition after it.
    key_type prepare_wait() noexcept
    {
        return static_cast<key_type>(state_.fetch_add(1, std::memory_order_seq_cst) >> 32);
    }

    /// Withdraws the announcement (the condition held on the re-check).
    void cancel_wait() noexcept { state_.fetch_sub(1, std::memory_order_seq_cst); }

    /** Parks until a notification after `prepare_wait` returned `key`, the
        deadline or a stop request. Ends the announcement.

        @return `done`, `timeout` or `cancelled`.
    */
    SPINDLE_DECL wake_status wait(key_type key, wait_deadline const& dl, std::stop_token const& st);

    /// Wakes every waiter, if there is any (publish the condition first).
    void notify() noexcept
    {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if((state_.load(std::memory_order_relaxed) & 0xffffffffu) != 0)
            notify_slow();
    }
};

} // namespace spindle::detail

#endif
