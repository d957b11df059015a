//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_STACK_POOL_HPP
#define SPINDLE_STACK_POOL_HPP

#include <spindle/detail/config.hpp>

#include <boost/context/stack_context.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#if defined(BOOST_USE_VALGRIND)
# include <valgrind/valgrind.h>
#endif

namespace spindle {

/** How a @ref stack_pool makes its stacks.

    The defaults suit fiber runners: 64 KiB stacks, each with a guard page,
    and up to 1024 freed stacks kept for reuse.
*/
struct stack_pool_options
{
    /** Usable bytes per stack. Rounded up to whole pages (so at least one
        page); must be in `[1, 1 GiB]`. The pool keeps 64 bytes of bookkeeping at the top of
        each stack, and Boost.Fiber places its fiber control block there too.
    */
    std::size_t stack_size = 64 * 1024;

    /** Whether a `PROT_NONE` page sits below each stack. An overflow then
        faults at once (and, with @ref stack_pool::install_overflow_handler,
        is reported by name) instead of silently overwriting other memory.
        Note that a single frame larger than a page can still jump over it.
    */
    bool guard_page = true;

    /** How many freed stacks are kept mapped for reuse; stacks freed beyond
        this are unmapped at once. 0 disables caching.
    */
    std::size_t max_cached = 1024;
};

/** A consistent snapshot of a @ref stack_pool's counters. */
struct stack_pool_stats
{
    /// Stacks currently mapped by the pool: `in_use + cached`.
    std::size_t allocated = 0;
    /// Freed stacks kept mapped for reuse.
    std::size_t cached = 0;
    /// Stacks handed out and not yet returned.
    std::size_t in_use = 0;
    /// The highest `in_use` seen since the pool was created.
    std::size_t peak_in_use = 0;
    /// Allocations served from the cache (no `mmap`) since the pool was created.
    std::uint64_t reused = 0;
};

/** A thread-safe pool of fixed-size fiber stacks.

    Stacks are mapped with `mmap`, optionally with a guard page at their low
    end, and freed stacks are cached for reuse up to a limit. Unlike
    `boost::context::pooled_fixedsize_stack`, a stack may be freed on any
    thread, which is what happens when a fiber migrates between workers.

    Pools are always owned by `std::shared_ptr` (see @ref create); hand
    @ref pooled_stack to Boost.Fiber, which keeps the pool alive for as long
    as any fiber still runs on one of its stacks.

    @par Thread safety
    All member functions may be called concurrently from any thread.
    `allocate` and `deallocate` take a short spinlock, and `mmap`/`munmap`
    happen outside it.
*/
class SPINDLE_DECL stack_pool
{
public:
    /** Creates a pool.

        @param opts The stack size, guard page and cache limit.
        @return The new pool.
        @throws spindle::system_error with `error::invalid_argument` if
        `opts.stack_size` is 0 or larger than 1 GiB.
        @par Thread safety
        Safe to call from any thread.
    */
    static std::shared_ptr<stack_pool> create(stack_pool_options const& opts = {});

    /** Creates a pool, reporting bad options through `ec`.

        @param opts The stack size, guard page and cache limit.
        @param ec Set to `error::invalid_argument` if `opts.stack_size` is 0
        or larger than 1 GiB, cleared otherwise.
        @return The new pool, or null on error.
        @throws std::bad_alloc if the pool object cannot be allocated.
        @par Thread safety
        Safe to call from any thread.
    */
    static std::shared_ptr<stack_pool> create(
        stack_pool_options const& opts, boost::system::error_code& ec);

    /** Unmaps every cached stack.

        Every stack handed out must have been returned by then; stacks
        still in use are leaked rather than unmapped under a running fiber.
    */
    ~stack_pool();

    stack_pool(stack_pool const&) = delete;
    stack_pool& operator=(stack_pool const&) = delete;

    /** Returns the usable bytes of each stack (the option rounded up to pages).
        @par Thread safety
        Safe to call from any thread.
    */
    std::size_t stack_size() const noexcept
    {
        return stack_size_;
    }

    /** Returns whether stacks have a guard page.
        @par Thread safety
        Safe to call from any thread.
    */
    bool guard_page() const noexcept
    {
        return guard_;
    }

    /** Returns the maximum number of freed stacks kept for reuse.
        @par Thread safety
        Safe to call from any thread.
    */
    std::size_t max_cached() const noexcept
    {
        return max_cached_;
    }

    /** Returns a consistent snapshot of the pool's counters.
        @par Thread safety
        Safe to call from any thread.
    */
    stack_pool_stats stats() const noexcept;

    /** Unmaps every cached stack (stacks in use are not affected).
        @par Thread safety
        Safe to call from any thread.
    */
    void trim() noexcept;

    /** Hands out a stack, reusing a cached one when there is one.

        Meets Boost.Context's StackAllocator requirements: `sp` is the top of
        the stack and `sp - size` its lowest mapped byte (the guard page,
        if any), as with `boost::context::protected_fixedsize_stack`.

        @return The stack.
        @throws std::bad_alloc if a new stack cannot be mapped.
        @par Thread safety
        Safe to call from any thread.
    */
    boost::context::stack_context allocate()
    {
        boost::context::stack_context sctx;
        sctx.sp = acquire_();
        sctx.size = mapping_size_ - header_size;
#if defined(BOOST_USE_VALGRIND)
        sctx.valgrind_stack_id = VALGRIND_STACK_REGISTER(
            sctx.sp, static_cast<char*>(sctx.sp) - sctx.size);
#endif
        return sctx;
    }

    /** Returns a stack obtained from @ref allocate of this pool.

        The stack is cached for reuse, or unmapped if the cache is full.

        @param sctx The stack; it must not be used afterwards.
        @par Thread safety
        Safe to call from any thread, including another thread than the one
        that allocated the stack.
    */
    void deallocate(boost::context::stack_context& sctx) noexcept
    {
#if defined(BOOST_USE_VALGRIND)
        VALGRIND_STACK_DEREGISTER(sctx.valgrind_stack_id);
#endif
        release_(sctx.sp);
        sctx.sp = nullptr;
        sctx.size = 0;
    }

    /** Installs the process-wide fiber stack overflow report.

        Installs a `SIGSEGV`/`SIGBUS` handler that runs on an alternate
        signal stack. When a fault hits the guard page of a stack from any
        pool, it writes `spindle: fiber stack overflow (stack of N bytes at
        0x...)` to stderr and lets the fault happen again with the default
        action, so the process still dies of `SIGSEGV` (with its core dump).
        Any other fault is passed on unchanged to the handler that was
        installed before (or to the default action).

        Installs once per process; later calls do nothing. Also calls
        @ref prepare_thread for the calling thread. The runtime calls this
        unless its options opt out; a program that installs its own fault
        handler afterwards replaces this one.

        @throws spindle::system_error if `sigaction` or the alternate signal
        stack fails.
        @par Thread safety
        Safe to call from any thread.
    */
    static void install_overflow_handler();

    /** Like @ref install_overflow_handler, reporting failure through `ec`.
        @param ec Set to the system error on failure, cleared otherwise.
        @par Thread safety
        Safe to call from any thread.
    */
    static void install_overflow_handler(boost::system::error_code& ec) noexcept;

    /** Gives the calling thread an alternate signal stack.

        A stack overflow leaves no stack to run a signal handler on, so every
        thread that runs fibers must call this (the runtime does so in each
        worker). A thread that already has an alternate signal stack keeps
        it. The stack is released when the thread exits. Calling it again on
        the same thread does nothing.

        @throws spindle::system_error if the stack cannot be mapped or set.
        @par Thread safety
        Affects only the calling thread.
    */
    static void prepare_thread();

    /** Like @ref prepare_thread, reporting failure through `ec`.
        @param ec Set to the system error on failure, cleared otherwise.
        @par Thread safety
        Affects only the calling thread.
    */
    static void prepare_thread(boost::system::error_code& ec) noexcept;

private:
    // Bookkeeping kept at the top of every stack (above the `sp` handed
    // out), so freeing and unregistering a stack needs no search.
    static constexpr std::size_t header_size = 64;

    explicit stack_pool(stack_pool_options const& opts, std::size_t page) noexcept;

    void* acquire_();
    void release_(void* sp) noexcept;
    void lock_() const noexcept;
    void unlock_() const noexcept;

    std::size_t const stack_size_;
    std::size_t const mapping_size_;
    std::size_t const max_cached_;
    std::size_t const page_size_;
    bool const guard_;

    alignas(SPINDLE_CACHELINE) mutable std::atomic<bool> locked_{false};
    void* free_ = nullptr; // header of the most recently freed stack
    stack_pool_stats stats_;
};

/** A copyable StackAllocator handle to a shared @ref stack_pool.

    Meets Boost.Context's StackAllocator requirements, so it can be passed
    wherever Boost.Fiber takes one:
    @code
    spindle::pooled_stack stacks{spindle::stack_pool::create({.stack_size = 32 * 1024})};
    boost::fibers::fiber f{std::allocator_arg, stacks, [] { ... }};
    @endcode
    Each copy shares ownership of the pool, so a fiber that outlives the code
    that created it still returns its stack safely, on whatever thread it
    ends.

    @par Thread safety
    Distinct handles may be used concurrently, even when they share a pool.
*/
class pooled_stack
{
public:
    /** Creates a handle to an existing pool.
        @param pool The pool; must not be null.
        @par Thread safety
        Safe to call from any thread.
    */
    explicit pooled_stack(std::shared_ptr<stack_pool> pool) noexcept : pool_(std::move(pool)) {}

    /** Creates a handle to a new pool of its own (shared by its copies).
        @param opts The pool's options.
        @throws spindle::system_error with `error::invalid_argument` for bad options.
        @par Thread safety
        Safe to call from any thread.
    */
    explicit pooled_stack(stack_pool_options const& opts) : pool_(stack_pool::create(opts)) {}

    /** Hands out a stack from the pool.
        @return The stack.
        @throws std::bad_alloc if a new stack cannot be mapped.
        @par Thread safety
        Safe to call from any thread.
    */
    boost::context::stack_context allocate()
    {
        return pool_->allocate();
    }

    /** Returns a stack to the pool.
        @param sctx A stack from @ref allocate of any handle to the same pool.
        @par Thread safety
        Safe to call from any thread.
    */
    void deallocate(boost::context::stack_context& sctx) noexcept
    {
        pool_->deallocate(sctx);
    }

    /** Returns the pool this handle allocates from.
        @par Thread safety
        Safe to call from any thread.
    */
    std::shared_ptr<stack_pool> const& pool() const noexcept
    {
        return pool_;
    }

private:
    std::shared_ptr<stack_pool> pool_;
};

namespace detail {
/** Appends, without allocating (it runs in a signal handler), what ran on
    the overflowing stack to `[out, end)`; returns the new end. Set by the
    actor runtime so the overflow report names the actor.
*/
using overflow_describer = char* (*)(char* out, char* end) noexcept;
extern SPINDLE_DECL std::atomic<overflow_describer> g_overflow_describer;
} // namespace detail

} // namespace spindle

#endif
