//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_HISTORY_HPP
#define SPINDLE_HTTP_HISTORY_HPP

#include <spindle/detail/config.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

/** @file
    The last minutes of a system's main figures, sampled server-side, so a
    live page opened now draws them at once (its sparklines).
*/

namespace spindle {
class system;
}

namespace spindle::http {

/// Options of @ref system_history.
struct history_options
{
    /// Time between two samples; at least 10 ms.
    std::chrono::milliseconds interval{1000};
    /// Samples kept (the oldest is forgotten first); at least 2. With the
    /// default interval, 300 is the last five minutes.
    std::size_t samples = 300;
};

/// One sample.
struct history_sample
{
    /// When it was taken: milliseconds since the Unix epoch (system clock).
    std::int64_t time_ms = 0;
    /// Messages handled per second since the sample before (0 for the first).
    double messages_per_s = 0;
    /// Actors alive.
    std::uint64_t actors = 0;
    /// Dead letters per second since the sample before.
    double dead_letters_per_s = 0;
    /// Restarts per second since the sample before.
    double restarts_per_s = 0;
    /// The deepest mailbox of the actors inspected (see `spindle::inspect`'s bounds).
    std::uint64_t mailbox_depth_max = 0;
    /// The process's resident memory, MiB (0 where /proc is not there).
    double memory_mib = 0;
};

/** Samples a system's figures every `interval` on a thread of its own and
    keeps the last `samples` of them.

    Rates are differences of the system's running totals divided by the
    time that actually passed between two samples (steady clock), so a
    sample that came late does not inflate them; a gap in `time_ms` shows a
    sampler that could not run (a stalled machine), which a zero rate
    cannot be mistaken for.

    @par Thread safety
    Every member may be called concurrently. The system must outlive the
    object.
*/
class SPINDLE_DECL system_history
{
public:
    /** Starts sampling (the first sample at once).
        @throws spindle::system_error (`error::invalid_argument`) for an
        interval under 10 ms or fewer than 2 samples.
    */
    explicit system_history(spindle::system& sys, history_options opts = {});

    /// Stops sampling (waits for the sampler's thread).
    ~system_history();

    system_history(system_history const&) = delete;
    system_history& operator=(system_history const&) = delete;

    /// Takes a sample now (the sampler's thread calls this every interval).
    void sample();

    /// @return The samples kept, the oldest first.
    std::vector<history_sample> samples() const;

    /** The samples as columns, for `/api/system`'s `history`:
        `{"interval_ms", "time_ms": [...], "messages_per_s": [...],
        "actors": [...], "dead_letters_per_s": [...], "restarts_per_s":
        [...], "mailbox_depth_max": [...], "memory_mib": [...]}`, the oldest
        first, all of the same length; rates and memory rounded to one
        decimal. */
    boost::json::object to_json() const;

    /// Stops the sampler's thread (the samples stay); idempotent.
    void stop() noexcept;

    /// @cond
    struct impl;
    /// @endcond

private:
    std::unique_ptr<impl> impl_;
};

} // namespace spindle::http

#endif
