//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_IMPL_TASK_HPP
#define SPINDLE_IMPL_TASK_HPP

#include <spindle/detail/spinlock.hpp>
#include <spindle/detail/trace_hooks.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

namespace spindle {

class timer_service;

namespace detail {

/// Calls `f()`, swallowing whatever it throws (completion callbacks run
/// inside other parties' code paths, where an exception has nowhere to go).
template<class F>
void invoke_noexcept(F& f) noexcept
{
    try
    {
        f();
    }
    catch(...)
    {
    }
}

/** A node in a task's completion list: run once, by whoever completes the
    task. After `fire` returns the completer never touches the node again.
*/
struct task_continuation
{
    task_continuation* next_ = nullptr;
    virtual void fire() noexcept = 0;

protected:
    ~task_continuation() = default;
};

template<class F>
struct callback_continuation final : task_continuation
{
    F fn_;

    template<class U>
    explicit callback_continuation(U&& u) : fn_(std::forward<U>(u))
    {
    }

    void fire() noexcept override
    {
        invoke_noexcept(fn_);
        delete this;
    }
};

/// What one run of a task's callable did.
enum class invoke_status : std::uint8_t
{
    succeeded, ///< returned, and its value became the result
    discarded, ///< returned, but the result was already set (timed out, cancelled)
    failed     ///< threw; the exception is recorded
};

/// The options only retrying and breaker-guarded tasks need (kept apart so
/// that a plain task's state stays small: a pending handle costs memory).
struct task_policy
{
    retry_policy retry;
    std::shared_ptr<spindle::circuit_breaker> breaker;

    // links of the executor's list of tasks waiting for a retry (guarded by
    // the executor's lock; intrusive, so listing allocates nothing)
    class task_core* backoff_prev = nullptr;
    class task_core* backoff_next = nullptr;
    bool in_backoff = false;
};

/** Allocates a block of `n` bytes for a task's state: from a small cache of
    the calling thread (blocks freed there before), else from `operator new`.
    @throws std::bad_alloc
*/
SPINDLE_DECL void* allocate_task_block(std::size_t n);

/// Frees a block of `allocate_task_block(n)`, into the calling thread's
/// cache while it holds less than its limit.
SPINDLE_DECL void free_task_block(void* p, std::size_t n) noexcept;

/** Told when a queued task is cancelled, so its queue slot is free at
    once (the executor implements it). Called between the task's queue
    states `cancelling` and `cancelled`: the executor, which waits for
    the second before it lets go of a popped task, is alive meanwhile.
*/
class task_queue_hook
{
public:
    virtual void on_queued_cancel() noexcept = 0;

protected:
    ~task_queue_hook() = default;
};

/// Where a task stands towards an executor's queue.
enum class queue_state : std::uint8_t
{
    none,       ///< not in a queue
    queued,     ///< in a queue, its slot counted
    cancelling, ///< cancelled while queued; the hook is being told
    cancelled   ///< cancelled while queued; its slot is counted free
};

/// "the task threw: <what>" for an exception (or "the task threw" for none).
SPINDLE_DECL std::string describe_task_exception(std::exception_ptr const& e);

/// How a task's result was set (read by the executor to count outcomes).
enum class task_outcome : std::uint8_t
{
    pending,   ///< not yet (or the claimer has not recorded it yet)
    value,     ///< the callable's value
    cancelled, ///< `task_handle::cancel`
    timed_out, ///< the attempt's timeout
    error      ///< any other error
};

/** The untyped shared state of a task: reference count, completion (once),
    waiters and callbacks, stop source, and the fields only the executor
    uses.

    Completion is "claim, store, publish": the party that wins `claim`
    stores the result, then `publish` marks it done and runs the
    continuations. The spinlock guards the continuation list and the
    recorded exception, for a few instructions at a time; it is never held
    across a suspension or a user callback.
*/
class task_core
{
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<bool> claimed_{false};
    std::atomic<bool> done_{false};
    std::atomic<bool> has_continuations_{false}; ///< lets publish skip the lock when nobody waits
    std::atomic<task_outcome> outcome_{task_outcome::pending};
    mutable spinlock lock_;
    task_continuation* continuations_ = nullptr; // newest first
    std::exception_ptr error_;
    // made on first use: most tasks are never asked for their id
    mutable task_id id_;

protected:
    /// Wins the right to set the result, recording how it will be set.
    bool claim(task_outcome how) noexcept
    {
        if(claimed_.exchange(true, std::memory_order_acq_rel))
            return false;
        outcome_.store(how, std::memory_order_release);
        return true;
    }

public:
    /// Marks the task done and runs the continuations, oldest first. Called
    /// once, by the party whose claim won, after it stored the result.
    SPINDLE_DECL void publish() noexcept;

    /// True once someone waits for the task or registered a callback
    /// (`publish` then has work to do).
    bool has_continuations() const noexcept { return has_continuations_.load(std::memory_order_relaxed); }

    timer_service* timers_ = nullptr;
    /// The executor whose queue holds the task, told of a cancel there.
    task_queue_hook* queue_hook_ = nullptr;
    std::atomic<queue_state> queue_state_{queue_state::none};
    /// Triggered by timeouts, `cancel`, shutdowns; `nostopstate` for tasks
    /// whose callable takes no token (nobody could observe it).
    std::stop_source stop_{std::nostopstate};
    /// The submitter's trace context (see spindle::trace), taken at submit
    /// when a tracing component is installed; each attempt runs in a child
    /// span of it. Null otherwise.
    trace_carrier* trace_ = nullptr;

    // --- set at submission, then used by the executor only ---
    std::chrono::nanoseconds timeout_{};
    std::unique_ptr<task_policy> policy_; ///< retry_with_backoff and circuit_breaker only
    std::uint32_t attempts_ = 0;
    task_priority priority_ = task_priority::normal;
    error_strategy strategy_ = error_strategy::stop_on_error;

private:
    mutable std::atomic<bool> has_id_{false};

public:

    // Every submission allocates a state and a lane frees it, often on the
    // thread that submits the next one: a per-thread cache of blocks makes
    // both cheaper than malloc (see allocate_task_block).
    static void* operator new(std::size_t n) { return allocate_task_block(n); }
    static void operator delete(void* p, std::size_t n) noexcept { free_task_block(p, n); }
    // over-aligned results: the global aligned forms, no cache
    static void* operator new(std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
    static void operator delete(void* p, [[maybe_unused]] std::size_t n, std::align_val_t a) noexcept
    {
        // Clang declares the global sized forms only with -fsized-deallocation
#if defined(__cpp_sized_deallocation)
        ::operator delete(p, n, a);
#else
        ::operator delete(p, a);
#endif
    }

    task_core() = default;
    task_core(task_core const&) = delete;
    task_core& operator=(task_core const&) = delete;
    virtual ~task_core()
    {
        if(trace_)
            trace_->release(trace_);
    }

    /** Runs the callable once (on a lane). On `succeeded` the value is
        stored but not yet published: the caller calls `publish()` (after
        counting it), so whoever sees the result also sees the count.
    */
    virtual invoke_status invoke() noexcept = 0;

    /** Claims the result for `ec`, stores it and requests stop; the caller
        then calls `publish()`.
        @return True if this call won the claim.
    */
    virtual bool claim_error(boost::system::error_code ec) noexcept = 0;

    /// Completes with `ec` and requests stop, unless already completed.
    /// @return True if this call completed the task.
    bool complete_error(boost::system::error_code ec) noexcept
    {
        if(!claim_error(ec))
            return false;
        publish();
        return true;
    }

    /// Destroys the callable (and what it captured) once it will not run again.
    virtual void drop_callable() noexcept = 0;

    /// The task's id, generated on the first call.
    SPINDLE_DECL task_id id() const noexcept;
    bool done() const noexcept { return done_.load(std::memory_order_acquire); }
    bool claimed() const noexcept { return claimed_.load(std::memory_order_acquire); }

    /// Completes with `cancelled`; a queued task's slot is freed at once.
    bool cancel() noexcept
    {
        if(!complete_error(task_error::cancelled))
            return false;
        queue_state q = queue_state::queued;
        if(queue_state_.compare_exchange_strong(q, queue_state::cancelling, std::memory_order_acq_rel))
        {
            queue_hook_->on_queued_cancel();
            queue_state_.store(queue_state::cancelled, std::memory_order_release);
        }
        return true;
    }

    /// How the result was set. Precondition: `claimed()`.
    task_outcome outcome() const noexcept
    {
        task_outcome o;
        // the claimer is between its two stores
        spin_until([&] { return (o = outcome_.load(std::memory_order_acquire)) != task_outcome::pending; });
        return o;
    }

    /// Fiber-aware wait; false if `st` fired first.
    SPINDLE_DECL bool wait(std::stop_token st);

    /// Fiber-aware wait on the system clock; false on timeout.
    SPINDLE_DECL bool wait_for(std::chrono::nanoseconds d);

    /// Appends `c` unless the task is done. @return False if done (`c` not added).
    SPINDLE_DECL bool add_continuation(task_continuation* c) noexcept;

    /// Unlinks `c` if still listed. @return False if the completer took it.
    SPINDLE_DECL bool remove_continuation(task_continuation* c) noexcept;

    template<class F>
    void on_complete(F&& fn)
    {
        using fn_type = std::decay_t<F>;
        if(done())
        {
            fn_type f(std::forward<F>(fn));
            invoke_noexcept(f);
            return;
        }
        auto* node = new callback_continuation<fn_type>(std::forward<F>(fn));
        if(!add_continuation(node))
            node->fire(); // completed meanwhile; fire() deletes it
    }

    void set_exception(std::exception_ptr e) noexcept
    {
        std::lock_guard lk(lock_);
        error_ = std::move(e);
    }

    std::exception_ptr last_exception() const noexcept
    {
        std::lock_guard lk(lock_);
        return error_;
    }

    friend void intrusive_ptr_add_ref(task_core* p) noexcept { p->refs_.fetch_add(1, std::memory_order_relaxed); }

    friend void intrusive_ptr_release(task_core* p) noexcept
    {
        if(p->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete p;
    }
};

/// The typed part of a task's state: the result.
template<class T>
class task_state : public task_core
{
    using result_type = boost::system::result<T>;
    // constructed by whoever wins claim(): raw storage, no engaged flag
    alignas(result_type) unsigned char storage_[sizeof(result_type)];

    result_type* result_ptr() noexcept { return std::launder(reinterpret_cast<result_type*>(storage_)); }
    result_type const* result_ptr() const noexcept
    {
        return std::launder(reinterpret_cast<result_type const*>(storage_));
    }

public:
    task_state() = default;

    ~task_state() override
    {
        if(claimed())
            result_ptr()->~result_type();
    }

    /** Claims the result for `r` and stores it (without publishing),
        unless already claimed. Never throws: a value whose move throws
        becomes `task_error::task_failed`.
    */
    bool claim_value(boost::system::result<T>&& r) noexcept
    {
        if(!claim(r.has_value() ? task_outcome::value : task_outcome::error))
            return false;
        try
        {
            ::new(static_cast<void*>(storage_)) result_type(std::move(r));
        }
        catch(...)
        {
            set_exception(std::current_exception());
            ::new(static_cast<void*>(storage_))
                result_type(boost::system::in_place_error, make_error_code(task_error::task_failed));
        }
        return true;
    }

    bool claim_error(boost::system::error_code ec) noexcept override
    {
        if(!claim(ec == task_error::cancelled   ? task_outcome::cancelled
                  : ec == task_error::timed_out ? task_outcome::timed_out
                                                : task_outcome::error))
            return false;
        stop_.request_stop();
        ::new(static_cast<void*>(storage_)) result_type(boost::system::in_place_error, ec);
        return true;
    }

    /// Precondition: `done()`.
    boost::system::result<T> const& stored_result() const noexcept { return *result_ptr(); }
    boost::system::result<T>& stored_result_mutable() noexcept { return *result_ptr(); }
};

template<class F>
inline constexpr bool takes_stop_token_v = std::is_invocable_v<F&, std::stop_token>;

template<class F>
struct task_result
{
    using type = std::remove_cvref_t<std::invoke_result_t<F&>>;
};

template<class F>
    requires takes_stop_token_v<F>
struct task_result<F>
{
    using type = std::remove_cvref_t<std::invoke_result_t<F&, std::stop_token>>;
};

/// The value type of a task whose callable is `F`: what `F()` or
/// `F(std::stop_token)` returns, without reference and cv-qualifiers.
template<class F>
using task_result_t = typename task_result<F>::type;

template<class F>
concept task_callable = std::is_invocable_v<F&, std::stop_token> || std::is_invocable_v<F&>;

/// A task's state with its callable.
template<class T, class F>
class task_impl final : public task_state<T>
{
    std::optional<F> fn_;

    decltype(auto) call()
    {
        if constexpr(takes_stop_token_v<F>)
            return std::invoke(*fn_, this->stop_.get_token());
        else
            return std::invoke(*fn_);
    }

public:
    template<class U>
    explicit task_impl(U&& f) : fn_(std::in_place, std::forward<U>(f))
    {
        if constexpr(takes_stop_token_v<F>)
            this->stop_ = std::stop_source();
    }

    invoke_status invoke() noexcept override
    {
        try
        {
            bool won;
            if constexpr(std::is_void_v<T>)
            {
                call();
                won = this->claim_value(boost::system::result<void>());
            }
            else
            {
                // in place: a task may return an error_code itself
                won = this->claim_value(boost::system::result<T>(boost::system::in_place_value, call()));
            }
            return won ? invoke_status::succeeded : invoke_status::discarded;
        }
        catch(...)
        {
            this->set_exception(std::current_exception());
            return invoke_status::failed;
        }
    }

    void drop_callable() noexcept override { fn_.reset(); }
};

/// The result an empty handle reports.
template<class T>
boost::system::result<T> const& empty_handle_result() noexcept
{
    static boost::system::result<T> const r(boost::system::in_place_error, make_error_code(error::invalid_argument));
    return r;
}

} // namespace detail
} // namespace spindle

#endif
