//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_RETRY_HPP
#define SPINDLE_RETRY_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/error.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>

namespace spindle {

/** How often, and how far apart, a failed operation is tried again.

    The delay before retry `n` (the first retry is `n = 1`) is
    `min(max_delay, base_delay * multiplier^(n-1))`, then shortened by a
    random fraction of at most `jitter`: `delay * (1 - jitter * u)` with `u`
    uniform in `[0, 1)`. Jitter only ever shortens the delay, so `max_delay`
    is a hard cap, and clients that failed together do not retry together.

    All delays run on the system clock (a test's manual clock makes them
    exact and instant to test).

    @par Thread safety
    A plain value.
*/
struct retry_policy
{
    /// Attempts in total, the first one included; 1 means "never retry".
    std::size_t max_attempts = defaults::retry_max_attempts;

    /// Delay before the first retry.
    std::chrono::nanoseconds base_delay = defaults::retry_base_delay;

    /// Upper bound of every delay.
    std::chrono::nanoseconds max_delay = defaults::retry_max_delay;

    /// Growth of the delay from one retry to the next; at least 1.
    double multiplier = defaults::retry_multiplier;

    /// Largest fraction of a delay taken off at random, in `[0, 1]`; 0 = none.
    double jitter = defaults::retry_jitter;

    /** Computes the delay before a retry.

        @param retry Which retry: 1 for the first (after the first failed
        attempt), 2 for the second, ...; 0 counts as 1.
        @param u A number in `[0, 1)` that picks the jitter (the executor
        draws it uniformly at random); values outside are clamped.
        @return The delay, between `d * (1 - jitter)` and `d`, where `d` is
        the un-jittered delay described above; never more than `max_delay`.

        @par Thread safety
        Safe to call concurrently (const, no shared state).
    */
    SPINDLE_DECL std::chrono::nanoseconds delay(std::size_t retry, double u = 0.0) const noexcept;

    /** Checks the fields.

        @param ec Set to `error::invalid_argument` if `max_attempts` is 0, a
        delay is negative, `max_delay < base_delay`, `multiplier < 1` or
        `jitter` is outside `[0, 1]` (NaN included); cleared otherwise.
        @return True if the policy is valid.
    */
    SPINDLE_DECL bool validate(boost::system::error_code& ec) const noexcept;
};

} // namespace spindle

#endif
