//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TEST_SUPPORT_HPP
#define SPINDLE_TEST_SUPPORT_HPP

// Scaffolding shared by the test suites: bounded waits that turn a hang into
// a failure or an abort, gates that hold a handler until the test opens
// them, thread-safe records of what handlers and hooks saw, and options
// builders. Header-only and test-only: a suite includes it after the header
// it tests, so that header is still proven self-contained.
//
// Every real-time bound here only catches a failing test; no test asserts
// how long anything took.

#include <spindle/error.hpp>
#include <spindle/mailbox.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/system.hpp>

#include <boost/fiber/future.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace spindle_test {

/** How long a wait may take before the test counts it as hung.

    Generous on purpose: the machines running the suites are shared and
    slow at times, and the bound is only ever reached by a broken test.
*/
inline constexpr std::chrono::nanoseconds failure_timeout = std::chrono::seconds(60);

/** The error code of a Spindle error enum, for comparisons in checks.

    @param e The error.
    @return `e` as a `boost::system::error_code`.
*/
inline boost::system::error_code code(spindle::error e)
{
    return e;
}

/** A predicate for `BOOST_CHECK_EXCEPTION`: the exception carries `e`.

    @param e The error the exception must carry.
    @return A callable taking `spindle::system_error const&`.
*/
inline auto has_code(spindle::error e)
{
    return [e](spindle::system_error const& x) { return x.code() == make_error_code(e); };
}

/** Polls `pred` (every millisecond) until it holds.

    @param pred What must come true; called from this thread.
    @param limit Bounds a failing test only.
    @return Whether `pred` held before `limit` ran out.
*/
template<class Pred>
bool eventually(Pred pred, std::chrono::nanoseconds limit = failure_timeout)
{
    auto const end = std::chrono::steady_clock::now() + limit;
    while(!pred())
    {
        if(std::chrono::steady_clock::now() >= end)
            return pred();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

/** Aborts the process if its scope does not end within a limit.

    Wraps a blocking call (`ask(...).get()`, `shutdown`) that must return: a
    hang would otherwise stall the whole suite without saying where. It
    aborts rather than fails because the hung call cannot be cancelled.
*/
class watchdog
{
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread t_;

public:
    /** Starts watching.

        @param what Names the guarded call in the abort message; must
        outlive the watchdog (a string literal).
        @param limit How long the scope may take.
    */
    explicit watchdog(char const* what, std::chrono::nanoseconds limit = failure_timeout)
        : t_([this, what, limit] {
            std::unique_lock lk(m_);
            if(!cv_.wait_for(lk, limit, [this] { return done_; }))
            {
                std::fprintf(stderr, "watchdog: '%s' did not finish in time\n", what);
                std::fflush(stderr);
                std::abort();
            }
        })
    {
    }

    watchdog(watchdog const&) = delete;
    watchdog& operator=(watchdog const&) = delete;

    /// Stops watching: the guarded call returned.
    ~watchdog()
    {
        {
            std::lock_guard lk(m_);
            done_ = true;
        }
        cv_.notify_all();
        t_.join();
    }
};

/** Runs `f` on a helper thread and returns its result, waiting at most
    `limit`.

    For calls that must not wait (or must be completed by someone else)
    and that should run on a plain thread of their own, not the test's. A
    hang aborts, because the helper cannot be cancelled and uses this stack.

    @param f The call; its exceptions reach the caller.
    @param limit Bounds a failing test only.
    @return What `f` returned.
*/
template<class F>
auto within(F f, std::chrono::nanoseconds limit = failure_timeout)
{
    using result_type = std::invoke_result_t<F&>;
    std::packaged_task<result_type()> task(std::move(f));
    auto done = task.get_future();
    std::thread t(std::move(task));
    if(done.wait_for(limit) != std::future_status::ready)
    {
        std::fprintf(stderr, "within: a call that must return did not return in time\n");
        std::fflush(stderr);
        std::abort();
    }
    t.join();
    return done.get();
}

/** A door handlers wait at, parking only their own fiber, until the test
    opens it.

    @par Thread safety
    All members may be called from any thread or fiber; opening twice is
    harmless.
*/
class gate
{
    boost::fibers::promise<void> promise_;
    boost::fibers::shared_future<void> opened_;
    std::atomic<int> entered_{0};
    std::once_flag once_;

public:
    gate() : opened_(promise_.get_future().share()) {}

    /// Counts the caller as entered, then waits until the gate is open.
    void pass()
    {
        entered_.fetch_add(1);
        auto f = opened_;
        f.wait();
    }

    /// Releases every waiter, present and future.
    void open()
    {
        std::call_once(once_, [this] { promise_.set_value(); });
    }

    /// How many callers reached `pass` so far.
    int entered() const { return entered_.load(); }
};

/** Opens its gate when the test case ends, even by a failed requirement.

    Declare it after the system (or fixture member) whose handlers wait at
    it: it is then destroyed first, so no handler is left blocked while the
    system shuts down.
*/
struct scoped_gate
{
    /// Shared with the actors that wait at it.
    std::shared_ptr<gate> g = std::make_shared<gate>();

    scoped_gate() = default;
    scoped_gate(scoped_gate const&) = delete;
    scoped_gate& operator=(scoped_gate const&) = delete;
    ~scoped_gate() { g->open(); }

    gate* operator->() const { return g.get(); }
};

/** A thread-safe, ordered record of values (what a handler or hook saw).

    @par Thread safety
    All members may be called concurrently; none is held across a fiber
    suspension.
*/
template<class T>
class history
{
    std::mutex m_;
    std::vector<T> items_;

public:
    /// Appends `x`.
    void push(T x)
    {
        std::lock_guard lk(m_);
        items_.push_back(std::move(x));
    }

    /// A copy of everything recorded, oldest first.
    std::vector<T> snapshot()
    {
        std::lock_guard lk(m_);
        return items_;
    }

    /// How many values were recorded.
    std::size_t size()
    {
        std::lock_guard lk(m_);
        return items_.size();
    }
};

/** Records every dead letter of `sys` (replacing its dead-letter hook).

    @return The record; it outlives the hook because the hook shares it.
*/
inline std::shared_ptr<history<spindle::dead_letter>> record_dead_letters(spindle::system& sys)
{
    auto log = std::make_shared<history<spindle::dead_letter>>();
    sys.on_dead_letter([log](spindle::dead_letter const& d) { log->push(d); });
    return log;
}

/** Records every actor failure of `sys` (replacing its failure hook).

    @return The record; it outlives the hook because the hook shares it.
*/
inline std::shared_ptr<history<spindle::actor_failure>> record_failures(spindle::system& sys)
{
    auto log = std::make_shared<history<spindle::actor_failure>>();
    sys.on_failure([log](spindle::actor_failure const& f) { log->push(f); });
    return log;
}

/** Options for a system with `n` workers on the real clock.

    @param n Worker threads (0: one per hardware thread).
*/
inline spindle::system_options workers(unsigned n)
{
    spindle::system_options o;
    o.worker_threads = n;
    return o;
}

/** Options for a system with `n` workers on a manual clock.

    Timers, sleeps and ask timeouts then fire only when the test advances
    the clock (`options.clock->advance(...)`), never by themselves.

    @param n Worker threads.
    @param clock The clock; a fresh one by default.
*/
inline spindle::system_options manual_clock_options(unsigned n = 2, std::shared_ptr<spindle::manual_clock> clock =
                                                                        std::make_shared<spindle::manual_clock>())
{
    auto o = workers(n);
    o.clock = std::move(clock);
    return o;
}

/** Spawn options for a bounded mailbox.

    @param capacity The mailbox capacity (greater than 0).
    @param p What a full mailbox does with a new message.
    @param block_timeout How long a sender waits under `overflow_policy::block`;
    the default is long enough that only the receiver can release it.
*/
inline spindle::spawn_options bounded(std::uint32_t capacity, spindle::overflow_policy p,
                                      std::chrono::nanoseconds block_timeout = std::chrono::hours(1))
{
    spindle::mailbox_options mb;
    mb.capacity = capacity;
    mb.policy = p;
    mb.block_timeout = block_timeout;
    spindle::spawn_options o;
    o.mailbox = mb;
    return o;
}

/// A function for a @ref fiber_runner to run in its handler.
struct fiber_job
{
    std::function<void()> fn;
};

/// Runs jobs in its handler: a fiber on one of the system's workers.
struct fiber_runner : spindle::actor<fiber_runner, fiber_job>
{
    void on(fiber_job const& j) { j.fn(); }
};

/** Starts `body(i)` for i in [0, n), each in the handler of its own actor,
    so the code under test runs on the system's worker fibers.
*/
inline std::vector<spindle::ask_future<void>> start_in_actors(
    spindle::system& sys, int n, std::function<void(int)> body)
{
    std::vector<spindle::ask_future<void>> done;
    for(int i = 0; i < n; ++i)
        done.push_back(sys.spawn<fiber_runner>().ask(fiber_job{[body, i] { body(i); }}, std::chrono::hours(1)));
    return done;
}

/// Waits for every handler started by @ref start_in_actors; false if one failed.
inline bool finish(std::vector<spindle::ask_future<void>>& done, char const* what)
{
    watchdog w(what);
    bool ok = true;
    for(auto& f : done)
        ok = f.result().has_value() && ok;
    return ok;
}

} // namespace spindle_test

#endif
