//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The parking machinery shared by the synchronization primitives (see
// include/spindle/detail/wait_queue.hpp for the protocol).

#include <spindle/detail/wait_queue.hpp>

#include <memory>
#include <optional>
#include <thread>

namespace spindle::detail {

namespace {

// Lets a timer give up a wait without referring to a stack that may be gone:
// the waiter clears `node` (under `lock`) before it returns, the callback
// acts only while `node` is set.
struct timer_link
{
    spinlock lock;
    wait_node* node = nullptr;

    void give_up() noexcept
    {
        std::lock_guard<spinlock> lk(lock);
        if(node)
        {
            detail::give_up(*node, wake_status::timeout);
            node = nullptr;
        }
    }
};

// The timer's callback. Destroyed unfired (the service shut down, or refused
// the timer), it ends the wait as a timeout too: otherwise a wait whose
// timer can never fire would hang forever.
struct timer_fire
{
    std::shared_ptr<timer_link> link;

    explicit timer_fire(std::shared_ptr<timer_link> l) noexcept : link(std::move(l)) {}
    timer_fire(timer_fire&&) noexcept = default;
    timer_fire& operator=(timer_fire&&) = delete;
    ~timer_fire()
    {
        if(link)
            link->give_up();
    }

    void operator()() noexcept
    {
        link->give_up();
        link.reset();
    }
};

struct stop_give_up
{
    wait_node* node;
    void operator()() const noexcept { give_up(*node, wake_status::cancelled); }
};

// Waits the few instructions a remote completer needs between making the
// waiter runnable and letting go of the node (see wait_queue.hpp).
void await_release(wait_node const& n) noexcept
{
    spin_until([&n] { return n.released_.load(std::memory_order_acquire); });
}

} // namespace

void give_up(wait_node& n, wake_status why) noexcept
{
    wake_batch others; // whatever on_give_up_ releases, woken after the lock
    {
        std::lock_guard<spinlock> lk(*n.lock_);
        if(n.status_ != wake_status::waiting)
            return;
        n.queue_->erase(n);
        n.status_ = why;
        if(n.on_give_up_)
            n.on_give_up_(n, others);
    }
    n.wake();
}

wake_status park(std::unique_lock<spinlock>& lk, wait_node& n, wait_deadline const& dl, std::stop_token const& st)
{
    auto give_up_locally = [&](wake_status why) {
        // the caller holds the lock and the node is still queued
        wake_batch others;
        n.queue_->erase(n);
        n.status_ = why;
        if(n.on_give_up_)
            n.on_give_up_(n, others);
        lk.unlock();
        return why;
    };
    if(st.stop_requested())
        return give_up_locally(wake_status::cancelled);
    if(dl.passed())
        return give_up_locally(wake_status::timeout);

    std::shared_ptr<timer_link> link;
    if(dl.kind_ == wait_deadline::kind::timer)
    {
        try
        {
            link = std::make_shared<timer_link>();
        }
        catch(...)
        {
            give_up_locally(wake_status::timeout);
            throw;
        }
        link->node = &n;
    }
    lk.unlock();

    // Registered without the lock: a stop requested meanwhile runs the
    // callback right here, and it takes the lock.
    std::optional<std::stop_callback<stop_give_up>> on_stop;
    if(st.stop_possible())
        on_stop.emplace(st, stop_give_up{&n});

    timer_id timer;
    if(link)
    {
        boost::system::error_code ec;
        try
        {
            // Refused (service stopped): the callback is destroyed unfired,
            // which gives the wait up as a timeout.
            timer = dl.timers_->start_at(dl.timer_, timer_fire(link), ec);
        }
        catch(...)
        {
            // Out of memory: end the wait (unless a waker already did) and
            // let whoever completed it finish before the node goes.
            give_up(n, wake_status::timeout);
            on_stop.reset();
            {
                std::lock_guard<spinlock> g(link->lock);
                link->node = nullptr;
            }
            await_release(n);
            throw;
        }
    }

    bool self = false; // true if this fiber decided the outcome (steady timeout)
    wake_batch others; // waiters an on_give_up_ hook released
    lk.lock();
    while(n.status_ == wake_status::waiting)
    {
        if(dl.kind_ == wait_deadline::kind::steady)
        {
            if(n.cv_.wait_until(lk, dl.steady_) == boost::fibers::cv_status::timeout &&
               n.status_ == wake_status::waiting)
            {
                n.queue_->erase(n);
                n.status_ = wake_status::timeout;
                if(n.on_give_up_)
                    n.on_give_up_(n, others);
                self = true;
            }
        }
        else
        {
            n.cv_.wait(lk);
        }
    }
    wake_status const result = n.status_;
    lk.unlock();
    others.wake_all();

    // The stop callback's destructor waits for a callback running on another
    // thread; the timer link is cleared under its lock, which a firing
    // callback holds while it touches the node.
    on_stop.reset();
    if(link)
    {
        {
            std::lock_guard<spinlock> g(link->lock);
            link->node = nullptr;
        }
        dl.timers_->cancel(timer);
    }
    if(!self)
        await_release(n);
    return result;
}

} // namespace spindle::detail
