//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_COMPLETION_HPP
#define SPINDLE_DETAIL_COMPLETION_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>

#include <boost/system/result.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace spindle::detail {

/** The shared state of a one-shot, fiber-aware future: completed once with a
    value, an exception or an error code; waited on by any number of fibers
    and threads; observed by completion callbacks.
*/
template<class T>
class completion_state
{
    using stored_type = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

    mutable spinlock lock_;
    mutable wait_queue waiters_;
    std::vector<std::function<void()>> callbacks_;
    bool done_ = false; // guarded by lock_
    std::atomic<bool> ready_{false};
    // written once before ready_ is set, read only after it is
    std::optional<stored_type> value_;
    std::exception_ptr exception_;
    boost::system::error_code error_;

    template<class F>
    void finish(F&& store) noexcept
    {
        std::vector<std::function<void()>> callbacks;
        {
            wake_batch waiters;
            std::lock_guard<spinlock> lk(lock_);
            if(done_)
                return;
            done_ = true;
            store();
            ready_.store(true, std::memory_order_release);
            waiters.complete_all(waiters_, wake_status::done);
            callbacks.swap(callbacks_);
        }
        for(auto& cb : callbacks)
            run(cb);
    }

    static void run(std::function<void()>& cb) noexcept
    {
        try
        {
            cb();
        }
        catch(...)
        {
            // documented: a completion callback must not throw; the
            // completing thread (a pool thread, a timer) must survive it
        }
    }

public:
    /// Completes with a value; ignored if already completed.
    template<class... A>
    void set_value(A&&... a) noexcept(std::is_nothrow_constructible_v<stored_type, A&&...>)
    {
        // constructed outside the lock: a throwing constructor leaves the state pending
        std::optional<stored_type> v(std::in_place, std::forward<A>(a)...);
        finish([&]() noexcept { value_ = std::move(v); });
    }

    /// Completes with an exception; ignored if already completed.
    void set_exception(std::exception_ptr e) noexcept
    {
        finish([&]() noexcept { exception_ = std::move(e); });
    }

    /// Completes with an error code; ignored if already completed.
    void set_error(boost::system::error_code ec) noexcept
    {
        finish([&]() noexcept { error_ = ec; });
    }

    bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

    /** Waits for completion.

        @return `done`, `timeout` or `cancelled`.
    */
    wake_status wait(wait_deadline const& dl, std::stop_token const& st) const
    {
        if(ready())
        {
            // the completer set ready_ under the lock: taking it once
            // guarantees it has left, so the caller may drop the state
            std::lock_guard<spinlock> lk(lock_);
            return wake_status::done;
        }
        std::unique_lock<spinlock> lk(lock_);
        if(done_)
            return wake_status::done;
        wait_node n;
        n.lock_ = &lock_;
        waiters_.push_back(n);
        return park(lk, n, dl, st);
    }

    /** Calls `fn()` once on completion: at once if already completed, else
        on the completing thread.
    */
    void on_complete(std::function<void()> fn)
    {
        {
            std::lock_guard<spinlock> lk(lock_);
            if(!done_)
            {
                callbacks_.push_back(std::move(fn));
                return;
            }
        }
        run(fn);
    }

    /// The exception (after completion), or null.
    std::exception_ptr exception() const noexcept { return ready() ? exception_ : nullptr; }

    /// The error code (after completion); a stored exception counts as `handler_failed`.
    boost::system::error_code error() const noexcept
    {
        if(!ready())
            return {};
        if(exception_)
            return error::handler_failed;
        return error_;
    }

    /// Moves the outcome out (after completion).
    boost::system::result<T> take() noexcept(std::is_nothrow_move_constructible_v<stored_type>)
    {
        if(exception_)
            return boost::system::result<T>(boost::system::in_place_error, error::handler_failed);
        if(error_)
            return boost::system::result<T>(boost::system::in_place_error, error_);
        if constexpr(std::is_void_v<T>)
            return {};
        else
            return boost::system::result<T>(boost::system::in_place_value, std::move(*value_));
    }
};

} // namespace spindle::detail

#endif
