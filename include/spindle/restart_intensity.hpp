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
*/
struct restart_intensity
{
    std::size_t max_restarts = defaults::max_restarts;
    std::chrono::nanoseconds window = defaults::restart_window;
};

/** Delay before restarts: `base` before the first, multiplied by
    `multiplier` for each further restart still inside the intensity window,
    capped at `max`. A zero `base` (the default) restarts at once.
*/
struct restart_backoff
{
    std::chrono::nanoseconds base{0};
    std::chrono::nanoseconds max = defaults::restart_backoff_max;
    double multiplier = 2.0;

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
