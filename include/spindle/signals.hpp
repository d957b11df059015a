//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_SIGNALS_HPP
#define SPINDLE_SIGNALS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/system.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <initializer_list>
#include <memory>

namespace spindle {

namespace detail {
struct signal_watch;
}

/** Shuts a system down gracefully on SIGINT / SIGTERM — one line in `main`.

    @code
    spindle::system sys;
    spindle::shutdown_on_signals on_signal(sys);
    // ... spawn actors, serve ...
    auto report = on_signal.wait(); // returns once a signal stopped the system
    @endcode

    The signal handler (installed with `sigaction` for the whole process)
    only writes the signal number to a pipe, which is async-signal-safe;
    a thread of the guard reads it, runs the optional `before_shutdown`
    function and calls `sys.shutdown()` with the system's deadline, so the
    whole tree stops in order, `post_stop` hooks run and the report is kept
    for `wait`. The previous signal dispositions come back when the guard
    is destroyed.

    It does not depend on the signal masks of the process's threads, nor on
    the order they were started in: whichever thread the kernel picks runs
    the handler, and the guard's own thread unblocks the signals for itself,
    so that at least one thread takes them even when every other thread
    blocks them (threads a library started before the guard, such as
    Boost.Log's asynchronous writer, or workers started after a
    `pthread_sigmask` in `main`). Do not combine it with `sigwait` or a
    `signalfd` on the same signals.

    Only one guard may exist at a time in a process (signal dispositions are
    process-wide).

    @par Thread safety
    `wait`, `wait_for`, `received` and `trigger` may be called from any
    plain thread (not from the system's own actors: the shutdown they wait
    for stops those).
*/
class SPINDLE_DECL shutdown_on_signals
{
public:
    /** Installs the handlers.

        @throws spindle::system_error `invalid_argument` if another guard
        exists or a signal number is invalid, or the system error of
        `pipe` / `sigaction`.
    */
    explicit shutdown_on_signals(system& sys, std::initializer_list<int> signals = {SIGINT, SIGTERM});

    /** Installs the handlers; on the first signal, `before_shutdown` runs
        on the guard's thread before the system shuts down: the place to
        stop what must go before the actors (an HTTP server, periodic
        timers, a tool bus).

        @code
        spindle::shutdown_on_signals on_signal(sys, [&](int) {
            web.stop();
            bus.shutdown();
        });
        @endcode

        @param sys The system to shut down.
        @param before_shutdown Called with the signal number (or the one
        given to @ref trigger), once; may be empty. An exception it throws
        is logged and the shutdown goes on.
        @param signals The signals to take.
        @throws spindle::system_error as the other constructor.
    */
    shutdown_on_signals(system& sys, std::function<void(int)> before_shutdown,
                        std::initializer_list<int> signals = {SIGINT, SIGTERM});

    /// Restores the previous handlers and stops the guard's thread (the
    /// system is not shut down by this).
    ~shutdown_on_signals();

    shutdown_on_signals(shutdown_on_signals const&) = delete;
    shutdown_on_signals& operator=(shutdown_on_signals const&) = delete;

    /// Blocks until a signal (or `trigger`) shut the system down; its report.
    shutdown_report wait();

    /// `wait` for at most `d`. @return true if the system was shut down.
    bool wait_for(std::chrono::nanoseconds d);

    /// The signal received (0: none yet).
    int received() const noexcept;

    /// Behaves as if `sig` had arrived (e.g. from an admin endpoint).
    void trigger(int sig = SIGTERM) noexcept;

private:
    std::unique_ptr<detail::signal_watch> w_;
};

} // namespace spindle

#endif
