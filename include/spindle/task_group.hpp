//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TASK_GROUP_HPP
#define SPINDLE_TASK_GROUP_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/protected_fixedsize_stack.hpp>

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

namespace spindle {

namespace detail {

/// A task handle adopted by a group, with its type erased.
struct group_member
{
    bool waited_ = false; ///< join has seen it finish (guarded by the group's lock)

    virtual ~group_member() = default;
    virtual void cancel() noexcept = 0;
    virtual void wait() = 0;
    virtual bool ready() const noexcept = 0;
};

template<class H>
struct group_member_of final : group_member
{
    H handle;

    explicit group_member_of(H h) : handle(std::move(h)) {}

    void cancel() noexcept override
    {
        try
        {
            handle.cancel();
        }
        catch(...)
        {
            // a cancel that fails leaves the task running; join still waits for it
        }
    }

    void wait() override { handle.wait(); }

    bool ready() const noexcept override
    {
        if constexpr(requires(H const& h) { static_cast<bool>(h.ready()); })
            return static_cast<bool>(handle.ready());
        else
            return false;
    }
};

/// What a group shares with its fibers: they may finish after the group's
/// owner stopped looking, so nothing of theirs lives in the group object.
struct SPINDLE_DECL task_group_state
{
    mutable spinlock lock_;
    wait_queue joiners_;
    std::size_t fibers_ = 0; // spawned fibers still running
    std::vector<std::unique_ptr<group_member>> adopted_;
    std::stop_source stop_;
    std::atomic<std::uint64_t> failures_{0};
    std::exception_ptr first_failure_;

    void fiber_started() noexcept;
    void fiber_done() noexcept;
    void record(std::exception_ptr e) noexcept;
    void adopt(std::unique_ptr<group_member> m);
    void request_stop() noexcept;
    /// Waits for every member; with `contain`, a throwing wait() is logged
    /// and the others are still waited for.
    void join(bool contain);
    std::size_t running() const noexcept;
};

} // namespace detail

/** A scoped group of concurrent work that is never left running behind
    its scope: the design's `TaskGuard`.

    Members are fibers started with @ref spawn and task handles handed over
    with @ref add. The destructor requests a stop on every member — the
    group's `std::stop_token` for fibers, `cancel()` for task handles —
    then waits for all of them to finish and finally runs the cleanup
    function. Waiting is fiber-aware: a fiber parks, a plain thread blocks.

    Cancellation is cooperative (Boost.Fiber cannot kill a fiber): a member
    that ignores its stop token keeps the destructor waiting. Exceptions a
    member fiber throws are caught, counted in @ref failures and the first
    one kept; they never escape the fiber.

    Fibers are started on the calling thread (inside an actor's handler:
    on that actor's worker) and stay there. A plain thread runs them only
    while it waits fiber-style (for example in @ref join or the destructor).

    @par Example
    @code
    {
        spindle::task_group group([&] { metrics.flush(); });
        group.spawn([&](std::stop_token st) { poll_feed(a, st); });
        group.spawn([&](std::stop_token st) { poll_feed(b, st); });
        group.add(executor.submit(refresh_cache));
        wait_for_shutdown_signal();
    }   // both pollers are told to stop, the task is cancelled, all are joined, metrics flushed
    @endcode

    @par Thread safety
    @ref spawn, @ref add, @ref request_stop and the observers may be called
    concurrently from any fiber or thread, including from members.
    @ref join and the destructor are for the owner; no member may call them.
*/
class task_group
{
public:
    /// The function the destructor runs after every member finished.
    using cleanup_type = std::function<void()>;

    /** Constructs an empty group.

        @param cleanup Run by the destructor after every member finished
        (empty for none). An exception it throws is caught and logged.
        @throws std::bad_alloc if the group's state cannot be allocated.
    */
    SPINDLE_DECL explicit task_group(cleanup_type cleanup = {});

    /** Requests a stop on every member, waits until all have finished, then
        runs the cleanup function.

        @par Thread safety
        Only the owner; blocks (fiber-aware) until the members finish.
    */
    SPINDLE_DECL ~task_group();

    /// Not copyable: members belong to one group.
    task_group(task_group const&) = delete;
    /// Not copyable: members belong to one group.
    task_group& operator=(task_group const&) = delete;

    /** Starts `fn` as a new fiber on the calling thread.

        @param fn Invoked as `fn(token)` if it accepts the group's
        `std::stop_token`, else as `fn()`. It is destroyed as soon as it
        returns, before the group can finish joining.
        @throws std::bad_alloc (or whatever copying `fn` throws) if the fiber
        cannot be created; nothing is started then.

        @par Thread safety
        Safe to call concurrently, also from members.
    */
    template<class F>
        requires(std::invocable<std::decay_t<F>&, std::stop_token> || std::invocable<std::decay_t<F>&>)
    void spawn(F&& fn)
    {
        using fn_type = std::decay_t<F>;
        auto state = state_;
        state->fiber_started();
        try
        {
            boost::fibers::fiber(
                boost::fibers::launch::post, std::allocator_arg,
                boost::fibers::protected_fixedsize_stack(defaults::fiber_stack_size),
                [state, body = std::optional<fn_type>(std::in_place, std::forward<F>(fn)),
                 token = state->stop_.get_token()]() mutable noexcept {
                    try
                    {
                        if constexpr(std::invocable<fn_type&, std::stop_token>)
                            (*body)(token);
                        else
                            (*body)();
                    }
                    catch(...)
                    {
                        state->record(std::current_exception());
                    }
                    body.reset();
                    state->fiber_done();
                })
                .detach();
        }
        catch(...)
        {
            state->fiber_done();
            throw;
        }
    }

    /** Adopts a task handle: the destructor (or @ref request_stop) calls its
        `cancel()`, and joining calls its `wait()`.

        @param handle Anything with `cancel()` and `wait()` (an executor's
        task handle); moved into the group. A stop already requested
        cancels it at once.
        @throws std::bad_alloc if it cannot be stored.

        @par Thread safety
        Safe to call concurrently, also from members.
    */
    template<class H>
        requires requires(std::remove_cvref_t<H>& h) {
            h.cancel();
            h.wait();
        }
    void add(H&& handle)
    {
        state_->adopt(std::make_unique<detail::group_member_of<std::remove_cvref_t<H>>>(std::forward<H>(handle)));
    }

    /** Requests a stop on every member (now and added later), without
        waiting. Idempotent.

        @par Thread safety
        Safe to call concurrently, also from members.
    */
    void request_stop() noexcept { state_->request_stop(); }

    /** Returns the token the group's fibers receive.

        @par Thread safety
        Safe to call concurrently.
    */
    std::stop_token get_token() const noexcept { return state_->stop_.get_token(); }

    /** Tells whether a stop has been requested.

        @par Thread safety
        Safe to call concurrently.
    */
    bool stop_requested() const noexcept { return state_->stop_.stop_requested(); }

    /** Waits until every member has finished (members added while it waits
        included), without requesting a stop.

        @throws Whatever an adopted handle's `wait()` throws.

        @par Thread safety
        Only the owner; no member may call it (it would wait for itself).
    */
    void join() { state_->join(false); }

    /** Returns how many members are still running: fibers not finished
        and adopted handles not ready (a handle without `ready()` counts
        until a join has waited for it).

        @par Thread safety
        Safe to call concurrently (the value may be stale on return).
    */
    std::size_t running() const noexcept { return state_->running(); }

    /** Returns how many member fibers ended with an exception.

        @par Thread safety
        Safe to call concurrently.
    */
    std::uint64_t failures() const noexcept { return state_->failures_.load(std::memory_order_relaxed); }

    /** Returns the first exception a member fiber threw, or null.

        @par Thread safety
        Safe to call concurrently.
    */
    SPINDLE_DECL std::exception_ptr first_failure() const;

private:
    std::shared_ptr<detail::task_group_state> state_;
    cleanup_type cleanup_;
};

} // namespace spindle

#endif
