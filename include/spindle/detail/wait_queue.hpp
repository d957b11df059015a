//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_WAIT_QUEUE_HPP
#define SPINDLE_DETAIL_WAIT_QUEUE_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/timer.hpp>

#include <boost/fiber/condition_variable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stop_token>

// The parking machinery every primitive of <spindle/sync.hpp> shares.
//
// A primitive guards its state with a `spinlock` (never held across a
// suspension) and keeps its waiters in `wait_queue`s: FIFO lists of
// `wait_node`s that live on the waiting fibers' stacks. Whoever completes a
// waiter (a waker handing over a permit, a value or ownership; a stop
// request; a timer) changes the node's status under the primitive's lock and
// wakes it after unlocking. Completing under the lock is what makes
// handover, timeout and cancellation mutually exclusive: exactly one of them
// decides the outcome.
//
// Why each waiter has its own condition variable and a `released_` flag:
// Boost.Fiber wakes a waiter on another thread through that thread's
// scheduler, and the waker is still inside that scheduler for a few
// instructions after the waiter can already run (boostorg/fiber#319). A
// woken waiter therefore waits for `released_` before it returns, so neither
// its node, nor its primitive, nor (for a plain thread about to exit) its
// scheduler can be destroyed under the waker.

namespace spindle::detail {

/// How a wait ended.
enum class wake_status : std::uint8_t
{
    waiting,   ///< still parked
    done,      ///< a waker completed the operation (handover)
    timeout,   ///< the deadline passed first
    cancelled, ///< the stop token was triggered first
    closed     ///< the primitive was closed (channels)
};

class wait_queue;
class wake_batch;

/** One parked waiter. It lives on the waiting fiber's stack; every field but
    `released_` is guarded by the primitive's lock (`lock_`).
*/
struct wait_node
{
    boost::fibers::condition_variable_any cv_;
    wait_node* prev_ = nullptr;
    wait_node* next_ = nullptr;
    wait_node* batch_next_ = nullptr;
    wait_queue* queue_ = nullptr; ///< the queue holding the node, null once completed
    spinlock* lock_ = nullptr;    ///< the primitive's lock
    /// Called under the lock when the waiter gives up (timeout, stop), so a
    /// primitive can undo what waiting meant (a barrier withdraws the arrival).
    void (*on_give_up_)(wait_node&, wake_batch&) noexcept = nullptr;
    void* owner_ = nullptr;   ///< the primitive, for `on_give_up_`
    void* payload_ = nullptr; ///< what the primitive hands over or takes (a value slot, an owner)
    wake_status status_ = wake_status::waiting;
    std::atomic<bool> released_{false};

    wait_node() = default;
    wait_node(wait_node const&) = delete;
    wait_node& operator=(wait_node const&) = delete;

    /// Wakes the waiter. The node may be destroyed as soon as this returns.
    void wake() noexcept
    {
        cv_.notify_one();
        released_.store(true, std::memory_order_release);
    }
};

/// A FIFO of parked waiters (intrusive, never allocates), guarded by the
/// primitive's lock.
class wait_queue
{
    wait_node* head_ = nullptr;
    wait_node* tail_ = nullptr;

public:
    bool empty() const noexcept { return head_ == nullptr; }

    wait_node* front() const noexcept { return head_; }

    void push_back(wait_node& n) noexcept
    {
        n.prev_ = tail_;
        n.next_ = nullptr;
        if(tail_)
            tail_->next_ = &n;
        else
            head_ = &n;
        tail_ = &n;
        n.queue_ = this;
    }

    void erase(wait_node& n) noexcept
    {
        if(n.prev_)
            n.prev_->next_ = n.next_;
        else
            head_ = n.next_;
        if(n.next_)
            n.next_->prev_ = n.prev_;
        else
            tail_ = n.prev_;
        n.prev_ = n.next_ = nullptr;
        n.queue_ = nullptr;
    }
};

/** Waiters completed under a lock, woken after it is released.

    Declare the batch before the lock guard: the guard unlocks first, then
    the batch's destructor wakes the waiters.
*/
class wake_batch
{
    wait_node* head_ = nullptr;
    wait_node* tail_ = nullptr;

public:
    wake_batch() = default;
    wake_batch(wake_batch const&) = delete;
    wake_batch& operator=(wake_batch const&) = delete;
    ~wake_batch() { wake_all(); }

    /// Takes `n` out of its queue, sets its status and schedules the wake-up.
    void complete(wait_node& n, wake_status s) noexcept
    {
        n.queue_->erase(n);
        n.status_ = s;
        n.batch_next_ = nullptr;
        if(tail_)
            tail_->batch_next_ = &n;
        else
            head_ = &n;
        tail_ = &n;
    }

    /// Completes every waiter of `q` with status `s`.
    void complete_all(wait_queue& q, wake_status s) noexcept
    {
        while(wait_node* n = q.front())
            complete(*n, s);
    }

    /// Wakes the waiters now (the lock must not be held).
    void wake_all() noexcept
    {
        while(wait_node* n = head_)
        {
            head_ = n->batch_next_; // read before the wake: the node may vanish after it
            n->wake();
        }
        tail_ = nullptr;
    }
};

/** When a wait gives up: never, at a `steady_clock` time point, or at a
    time point of a @ref timer_service (which may run on a manual clock).
*/
struct wait_deadline
{
    enum class kind : std::uint8_t
    {
        none,
        steady,
        timer
    };

    kind kind_ = kind::none;
    std::chrono::steady_clock::time_point steady_{};
    timer_service* timers_ = nullptr;
    timer_service::time_point timer_{};

    static wait_deadline never() noexcept { return {}; }

    static wait_deadline at(std::chrono::steady_clock::time_point tp) noexcept
    {
        wait_deadline d;
        d.kind_ = kind::steady;
        d.steady_ = tp;
        return d;
    }

    static wait_deadline at(timer_service& t, timer_service::time_point tp) noexcept
    {
        wait_deadline d;
        d.kind_ = kind::timer;
        d.timers_ = &t;
        d.timer_ = tp;
        return d;
    }

    /// `now + d` on the steady clock, saturating instead of overflowing.
    static wait_deadline after(std::chrono::nanoseconds d) noexcept
    {
        return at(saturate(std::chrono::steady_clock::now(), d));
    }

    /// `now + d` on the service's clock, saturating instead of overflowing.
    static wait_deadline after(timer_service& t, std::chrono::nanoseconds d) noexcept
    {
        return at(t, saturate(t.now(), d));
    }

    static std::chrono::steady_clock::time_point saturate(std::chrono::steady_clock::time_point now,
                                                          std::chrono::nanoseconds d) noexcept
    {
        using tp = std::chrono::steady_clock::time_point;
        if(d > std::chrono::nanoseconds::zero() && now > tp::max() - d)
            return tp::max();
        return now + d;
    }

    /// True if the deadline has already passed.
    bool passed() const noexcept
    {
        switch(kind_)
        {
        case kind::steady:
            return std::chrono::steady_clock::now() >= steady_;
        case kind::timer:
            return timers_->now() >= timer_;
        default:
            return false;
        }
    }
};

/** Parks the calling fiber (or plain thread) on `n` until a waker completes
    it, the deadline passes or `st` is triggered.

    On entry `lk` holds the primitive's lock and `n` is in one of its queues
    (`queue_`, `lock_` set, status `waiting`). On return the lock is
    released, `n` is out of the queue and no one touches it any more.

    @return `done` (or `closed`) if a waker completed the node, otherwise
    `timeout` or `cancelled`. A deadline already passed or a stop already
    requested give up at once.
    @throws std::bad_alloc if a timer deadline cannot be armed (the node is
    out of the queue then).
*/
SPINDLE_DECL wake_status park(std::unique_lock<spinlock>& lk, wait_node& n, wait_deadline const& dl,
                              std::stop_token const& st);

/** Gives up the wait of `n` with status `why` unless it is already
    completed (used by stop callbacks and timers; the lock must not be held).
*/
SPINDLE_DECL void give_up(wait_node& n, wake_status why) noexcept;

} // namespace spindle::detail

#endif
