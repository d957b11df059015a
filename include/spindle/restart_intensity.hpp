//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_RESTART_INTENSITY_HPP
#define SPINDLE_RESTART_INTENSITY_HPP

#include <spindle/defaults.hpp>

#include <chrono>
#include <cstddef>

namespace spindle {

/** How many restarts a supervisor allows before it gives up: at most
    `max_restarts` within any `window` (on the system clock). Past it the
    supervisor stops its children and escalates to its parent.

    `max_restarts` is signed so that a negative value is refused
    (`invalid_argument`) instead of wrapping into "unlimited"; `window`
    must be positive. `0` restarts means "give up at the first exit".
*/
struct restart_intensity
{
    /// Restarts allowed within `window`; one more and the supervisor gives up.
    int max_restarts = static_cast<int>(defaults::max_restarts);
    /// The sliding window restarts are counted in (system clock).
    std::chrono::nanoseconds window = defaults::restart_window;
};

/** Delay before restarts (Akka's `restartWithBackoff(min, max, randomFactor)`):
    `base` before the first, multiplied by `multiplier` for each further
    restart in a row, capped at `max`, then stretched by a random factor in
    `[1, 1 + random_factor]` so that many children failing together do not
    restart in lockstep. A zero `base` (the default) restarts at once.

    The count "in a row" starts again once no restart has been needed for
    `reset_after` (zero: the supervisor's intensity window), independent of
    the intensity limit itself.

    Checked when the supervisor is built: `base >= 0`, `max >= base`,
    `multiplier >= 1`, `0 <= random_factor <= 1`, `reset_after >= 0`.
*/
struct restart_backoff
{
    /// The delay before the first restart in a row; 0 (the default): no delay at all.
    std::chrono::nanoseconds base{0};
    /// The cap on every delay.
    std::chrono::nanoseconds max = defaults::restart_backoff_max;
    /// The growth of the delay from one restart in a row to the next.
    double multiplier = 2.0;
    /// Jitter: each delay is multiplied by a random number in `[1, 1 + random_factor]`.
    double random_factor = 0.0;
    /// A stable period after which the next delay is `base` again (zero: the intensity window).
    std::chrono::nanoseconds reset_after{0};

    /// The recommended delays: `defaults::restart_backoff_base` doubling up to the max.
    static restart_backoff exponential() noexcept
    {
        restart_backoff b;
        b.base = defaults::restart_backoff_base;
        return b;
    }
};

} // namespace spindle

#endif
