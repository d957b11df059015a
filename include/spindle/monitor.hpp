//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_MONITOR_HPP
#define SPINDLE_MONITOR_HPP

#include <spindle/detail/config.hpp>
#include <spindle/id.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>

namespace spindle {

/// Why an actor stopped.
enum class exit_reason : std::uint8_t
{
    normal,   ///< it called `stop()`, or someone stopped it through its reference (with or without a reason)
    failure,  ///< a handler or `pre_start` threw and the actor was stopped for it
    shutdown  ///< its system shut down
};

/// The name of an @ref exit_reason ("normal", "failure", "shutdown").
SPINDLE_DECL char const* to_string(exit_reason r) noexcept;

/// Writes `to_string(r)`.
SPINDLE_DECL std::ostream& operator<<(std::ostream& os, exit_reason r);

/** The death notice a monitoring actor receives (death watch).

    An actor that calls `monitor(ref)` gets exactly one `down` for that
    actor through `actor_base::on_down`, when it stops — at once if it has
    already stopped. It travels on the system channel: it needs no
    declaration in the message set, never counts against a bounded mailbox
    and is never dropped by an overflow policy.
*/
struct down
{
    /// The actor that stopped.
    actor_id actor;
    /// Why it stopped.
    exit_reason reason = exit_reason::normal;
    /// For `failure`: the exception's type and text; for a stop through
    /// `basic_actor_ref::stop(reason)`: the reason.
    std::string what;
};

} // namespace spindle

#endif
