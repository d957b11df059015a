//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A fiber-aware wait on a task's completion list, used by task handles
// (task.cpp) and by the executor's blocked submitters and shutdown. Not
// installed.

#ifndef SPINDLE_SRC_TASK_WAITER_HPP
#define SPINDLE_SRC_TASK_WAITER_HPP

#include <spindle/task.hpp>

#include <boost/config.hpp>
#include <boost/fiber/future.hpp>

#include <atomic>
#include <optional>
#include <stop_token>
#include <thread>

namespace spindle::detail {

/** One waiter parked on a fiber promise. Whoever signals first (the
    completer, a stop request, a timeout) sets the promise; the completer
    then sets `released_` as its very last access, so a waiter that was
    taken off a list by someone else knows when it may free the node (it
    lives on the waiter's stack). The same wait covers boostorg/fiber#319:
    a plain thread must not exit while the waker is still inside the
    promise's wake-up.
*/
struct task_waiter final : task_continuation
{
    boost::fibers::promise<void> promise_;
    std::atomic<int> fired_{0}; // 0 waiting, 1 completion / room, 2 stop
    std::atomic<bool> released_{false};

    bool signal(int how) noexcept
    {
        int expected = 0;
        if(!fired_.compare_exchange_strong(expected, how, std::memory_order_acq_rel))
            return false;
        try
        {
            promise_.set_value();
        }
        catch(...)
        {
            // set_value throws only if already satisfied, which fired_ excludes
        }
        return true;
    }

    /// Signals as the completer and releases the node. @return True if this call woke the waiter.
    bool release_signal() noexcept
    {
        bool const won = signal(1);
        released_.store(true, std::memory_order_release);
        return won;
    }

    void fire() noexcept override { release_signal(); }

    void await_release() const noexcept
    {
        while(!released_.load(std::memory_order_acquire))
            std::this_thread::yield();
    }
};

struct waiter_stop
{
    task_waiter* w;
    void operator()() const noexcept { w->signal(2); }
};

/// Parks until `w` is signalled or `st` is stopped. The node must already
/// be visible to its signallers. Inlined into its callers, as when it was
/// a file-local function of theirs.
BOOST_FORCEINLINE void park_waiter(task_waiter& w, boost::fibers::future<void>& f, std::stop_token const& st)
{
    std::optional<std::stop_callback<waiter_stop>> on_stop;
    if(st.stop_possible())
        on_stop.emplace(st, waiter_stop{&w});
    f.wait();
    // leaving the scope waits for a stop callback running on another thread
}

/// A timer's callback that ends a park: it stops the source the park waits on.
struct stop_on_fire
{
    std::stop_source src;
    void operator()() noexcept { src.request_stop(); }
};

} // namespace spindle::detail

#endif
