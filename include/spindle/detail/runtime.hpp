//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_RUNTIME_HPP
#define SPINDLE_DETAIL_RUNTIME_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor.hpp>
#include <spindle/error.hpp>

#include <boost/intrusive_ptr.hpp>

#include <chrono>
#include <cstdint>
#include <typeinfo>

namespace spindle {
class timer_service;
namespace detail {

class actor_cell;
struct actor_factory;
struct system_state;

// The few runtime entry points templates need; the rest stays in the sources.

SPINDLE_DECL timer_service& timers_of(system_state& s) noexcept;
SPINDLE_DECL std::chrono::nanoseconds ask_timeout_of(system_state& s) noexcept;

/// How an ask's timeout is kept: by its waiter on the steady clock, by a
/// timer of the system's service (a manual clock), or not at all (the
/// service has shut down: the ask fails with `system_stopped`).
enum class ask_clock : std::uint8_t
{
    steady,
    manual,
    stopped
};

SPINDLE_DECL ask_clock ask_clock_of(system_state& s) noexcept;

/** Creates, registers and starts an actor cell.

    @param factory Ownership passes to the cell (released on failure too).
    @param parent The supervisor's cell, or null for the root guardian.
    @param node The node type (a supervisor's type says `supervisor`).
    @param ec Set to `system_stopped`, `name_taken` or the constructor's failure.
*/
SPINDLE_DECL boost::intrusive_ptr<actor_cell> spawn_cell(
    system_state& s,
    spawn_options const& opts,
    actor_factory* factory,
    std::type_info const& type,
    actor_cell* parent,
    node_type node,
    boost::system::error_code& ec);

} // namespace detail
} // namespace spindle

#endif
