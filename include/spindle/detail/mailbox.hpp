//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_MAILBOX_HPP
#define SPINDLE_DETAIL_MAILBOX_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/envelope.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/enums.hpp>
#include <spindle/mailbox.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace spindle {
namespace detail {

struct mailbox_waiters;

/** What @ref mailbox::push and its relatives did with a message (CAF's
    `inbox_result`, plus the two ways a full mailbox says no).
*/
enum class push_result : std::uint8_t
{
    ok,          ///< queued; the actor was already scheduled (or running)
    ok_schedule, ///< queued, and the actor was idle: the caller schedules it
    refused,     ///< full under `fail` or `block` (the wait ran out): not queued
    dropped,     ///< full under `drop_newest`: not queued
    closed       ///< the mailbox is closed: not queued
};

/** One actor's mailbox: user mail (bounded or not, with the overflow
    policy), system mail (down notices and supervision notices: first,
    never bounded) and system flags (start, stop, ...), plus the
    "scheduled" bit that makes an actor sit in at most one run queue.

    A multi-producer, single-consumer queue under one spinlock held for a
    few pointer moves: producers are `tell` on any thread, the consumer is
    the actor's runner. The four overflow policies are decided here and
    nowhere else; what a refused or dropped message becomes (a dead letter,
    counted) is the caller's business, since it knows the system.

    The queue links through `envelope::next_`: pushing allocates nothing.
*/
class SPINDLE_DECL mailbox
{
public:
    explicit mailbox(mailbox_options const& opts);

    /// Discards what is still queued (pending replies fail with `actor_stopped`).
    ~mailbox();

    mailbox(mailbox const&) = delete;
    mailbox& operator=(mailbox const&) = delete;

    /** Queues a user message without waiting.

        Full: `fail` and `block` answer `refused`, `drop_newest` answers
        `dropped` (the caller still owns `e` in those cases and in
        `closed`); `drop_oldest` queues `e` and hands back the oldest
        message in `evicted`, which the caller now owns.
    */
    push_result push(envelope* e, envelope*& evicted) noexcept;

    /** Queues a user message under `overflow_policy::block`, waiting up to
        the mailbox's `block_timeout` for room (a fiber parks, a plain
        thread blocks): `refused` when the wait runs out, `closed` if the
        actor stopped meanwhile. Other policies: as @ref push.
    */
    push_result push_wait(envelope* e, envelope*& evicted) noexcept;

    /// Queues a system message: `ok`, `ok_schedule` or `closed`.
    push_result push_system(envelope* e) noexcept;

    /// Raises system flags: `ok`, `ok_schedule` or `closed`.
    push_result raise(std::uint8_t flags) noexcept;

    /// What @ref pop found.
    enum class next : std::uint8_t
    {
        flags,  ///< system flags were raised (`flags` set; cleared in the mailbox)
        system, ///< a system message (`e`)
        user,   ///< a user message (`e`)
        more,   ///< the budget is used up and user mail is left: stays scheduled
        idle    ///< nothing to do: no longer scheduled, the next push schedules
    };

    /** The consumer's next item, in order: flags, then (unless paused)
        system mail, then user mail while `budget_left`.
    */
    next pop(bool budget_left, std::uint8_t& flags, envelope*& e) noexcept;

    /** Pauses or resumes delivery: a paused mailbox (an actor waiting for
        its supervisor) hands out only flags; its mail stays queued, in order.
    */
    void pause(bool on) noexcept;

    /// A drained mailbox's contents (each a list through `envelope::next_`).
    struct drained
    {
        envelope* user = nullptr;
        envelope* system = nullptr;
        bool was_open = false; ///< this call closed it
    };

    /** Closes the mailbox (later pushes answer `closed`, blocked senders
        wake) and hands back everything queued, which the caller disposes of.
    */
    drained close() noexcept;

    bool closed() const noexcept;

    /// Discards a list of envelopes unhandled (pending replies fail with `actor_stopped`).
    static void discard(envelope* list) noexcept;

    /// Marks the mailbox as scheduled for good: pushes never ask to
    /// schedule (a proxy cell, whose mail goes elsewhere).
    void never_schedule() noexcept;

    /// Queued user messages (a racy snapshot, for introspection).
    std::uint32_t depth() const noexcept { return size_.load(std::memory_order_relaxed); }

private:
    void append(envelope* e) noexcept
    {
        e->next_ = nullptr;
        if(tail_)
            tail_->next_ = e;
        else
            head_ = e;
        tail_ = e;
        size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    envelope* take_head() noexcept
    {
        envelope* e = head_;
        head_ = e->next_;
        if(!head_)
            tail_ = nullptr;
        size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
        return e;
    }

    push_result scheduled_result() noexcept
    {
        bool const idle = !scheduled_;
        scheduled_ = true;
        return idle ? push_result::ok_schedule : push_result::ok;
    }

    // The rare paths, out of line (called with the lock held where noted).
    push_result push_full(envelope* e, envelope*& evicted) noexcept; // held; closed or full
    push_result push_blocking(envelope* e, envelope*& evicted) noexcept;
    next pop_rare(std::uint8_t& flags, envelope*& e) noexcept; // held; flags, a pause or system mail
    /// Wakes the first sender blocked on a full mailbox (`block` policy
    /// only): a slot has just opened; the sender looks again and may find
    /// it taken.
    void wake_sender() noexcept;

    mutable spinlock lock_; ///< guards everything below
    bool scheduled_ = false; ///< queued on a worker or running
    bool closed_ = false;
    bool paused_ = false;
    std::uint8_t flags_ = 0;
    overflow_policy policy_;
    std::atomic<std::uint32_t> size_{0}; ///< queued user messages (written under the lock)
    std::uint32_t capacity_;
    envelope* head_ = nullptr;
    envelope* tail_ = nullptr;
    envelope* sys_head_ = nullptr;
    envelope* sys_tail_ = nullptr;
    mailbox_waiters* waiters_ = nullptr; ///< only for a bounded `block` mailbox
};

// The common paths, inline: one lock acquisition and a few pointer moves
// (a call into mailbox.cpp each way was a tenth of ping-pong's instructions).

inline push_result mailbox::push(envelope* e, envelope*& evicted) noexcept
{
    evicted = nullptr;
    std::lock_guard<spinlock> lk(lock_);
    if(closed_ || (capacity_ != 0 && size_.load(std::memory_order_relaxed) >= capacity_)) [[unlikely]]
        return push_full(e, evicted);
    append(e);
    return scheduled_result();
}

inline push_result mailbox::push_wait(envelope* e, envelope*& evicted) noexcept
{
    if(waiters_) [[unlikely]]
        return push_blocking(e, evicted);
    return push(e, evicted);
}

inline mailbox::next mailbox::pop(bool budget_left, std::uint8_t& flags, envelope*& e) noexcept
{
    std::unique_lock<spinlock> lk(lock_);
    if((flags_ | static_cast<std::uint8_t>(paused_)) != 0 || sys_head_) [[unlikely]]
        return pop_rare(flags, e);
    flags = 0;
    if(!head_)
    {
        scheduled_ = false;
        return next::idle;
    }
    if(!budget_left)
        return next::more;
    e = take_head();
    lk.unlock();
    if(waiters_) [[unlikely]]
        wake_sender(); // a slot opened for a sender blocked on the full mailbox
    return next::user;
}

} // namespace detail
} // namespace spindle

#endif
