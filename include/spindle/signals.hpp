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

    The signal handler only writes the signal number to a pipe (it is
    async-signal-safe); a thread of the guard reads it and calls
    `sys.shutdown()` with the system's deadline, so the whole tree stops in
    order, `post_stop` hooks run and the report is kept for `wait`. The
    previous signal dispositions come back when the guard is destroyed.

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
