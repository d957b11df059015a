//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_INTROSPECTION_HPP
#define SPINDLE_INTROSPECTION_HPP

#include <spindle/detail/config.hpp>
#include <spindle/enums.hpp>
#include <spindle/id.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace spindle {

class system;

/** One node of a supervision-tree snapshot. The enums (@ref node_type,
    @ref actor_state, @ref supervision_strategy) are in `<spindle/enums.hpp>`. */
struct actor_info
{
    actor_id id;               ///< nil for the root
    std::string name;          ///< registered name; "root" for the root; else empty
    node_type type = node_type::worker; ///< root, supervisor, worker or agent
    std::string actor_type;    ///< demangled C++ type (empty for the root)
    supervision_strategy strategy = supervision_strategy::one_for_one; ///< meaningful for supervisors (and the root)
    std::uint32_t restarts = 0;            ///< times it was restarted
    actor_state state = actor_state::running; ///< where it is in its life
    std::size_t mailbox_depth = 0;         ///< user messages queued now
    /// Messages its full mailbox refused (`fail`, `block`) and dropped
    /// (`drop_newest`, `drop_oldest`) since it was spawned.
    std::uint64_t mailbox_refused = 0;
    /// See `mailbox_refused`.
    std::uint64_t mailbox_dropped = 0;
    std::vector<actor_info> children; ///< supervised children in start order (root: top-level actors)
    std::size_t omitted = 0;   ///< children not listed because of `inspect_options::max_nodes`
};

/** Options of @ref inspect. */
struct inspect_options
{
    /// Stop listing after this many nodes (huge systems); the rest are counted in `omitted`.
    std::size_t max_nodes = 10000;
};

/** A consistent-enough snapshot of the supervision tree, rooted at the
    system's root guardian: the root's children are the actors spawned with
    `system::spawn` (in no particular order), and each supervisor lists its
    children in start order.

    Each node is read without stopping the actors, so figures (mailbox
    depth, state) are a moment's view. Cost: one pass over live actors.

    @par Thread safety
    Callable from any thread or fiber, including an actor's handler.
*/
SPINDLE_DECL actor_info inspect(system const& sys, inspect_options const& opts = {});

/** How many user messages of one type the actors of one type have handled. */
struct message_count
{
    std::string actor_type;   ///< demangled C++ type of the receiving actor
    std::string message_type; ///< demangled C++ type of the message
    std::uint64_t count = 0;  ///< messages handled since the system started
};

/** Messages handled so far, by receiving actor type and message type: the
    figures of the metric `spindle_actor_messages_total{actor,message}`.

    A message is counted when its handler starts (so also if the handler
    then fails), whether it came by `tell`, `try_tell`, `ask` or
    `async_ask`, and by any actor of the type, stopped or restarted ones
    included. Messages that never reached a handler (dead letters) and the
    runtime's internal notices (death watch, supervision) are not counted.
    The sum of all counts is `stats().messages`, give or take the messages
    being handled at the moment.

    Each worker counts the messages it runs in a table of its own, without
    locks or atomic read-modify-writes; this call adds the workers' tables
    up and demangles each type name once per system (then keeps it).

    @param sys The system.

    @return One entry per (actor type, message type) pair that has handled
    a message, ordered by actor type, then message type. A count is never
    less than the one an earlier call returned.

    @throws std::bad_alloc If memory runs out.

    @par Thread safety
    Callable from any thread or fiber, concurrently with message traffic
    and with other calls; concurrent calls serialise briefly on the cache
    of type names (no fiber suspends inside).
*/
SPINDLE_DECL std::vector<message_count> message_counts(system const& sys);

} // namespace spindle

#endif
