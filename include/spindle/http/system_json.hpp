//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_SYSTEM_JSON_HPP
#define SPINDLE_HTTP_SYSTEM_JSON_HPP

#include <spindle/detail/config.hpp>
#include <spindle/introspection.hpp>

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>

/** @file
    The JSON view of a running system that `GET /api/system` serves and the
    live page renders.
*/

namespace spindle {
class system;
}

namespace spindle::http {

class health_monitor;
class section_registry;

/** Options of @ref system_json. */
struct system_json_options
{
    /// Bounds the tree (huge systems list the first nodes and count the rest).
    inspect_options inspect{};

    /// How many of the most recent rare events to include.
    std::size_t recent_events = 50;

    /// How many (actor type, message type) pairs to include in
    /// `message_types`: the ones with the most messages.
    std::size_t message_types = 100;
};

/** A snapshot of `sys` as JSON:

    - `system`: `name`, `workers`, `stopping`, `time` (RFC 3339, UTC);
    - `stats`: the running totals of `system::stats()` (`messages`,
      `dead_letters`, `restarts`, `actors`, `fibers`, ...);
    - `tree`: the supervision tree of @ref spindle::inspect, each node with
      `id`, `name`, `type`, `actor_type`, `strategy` (supervisors and the
      root), `state`, `restarts`, `mailbox_depth`, `children`, `omitted`;
    - `workers`: messages handled per worker thread (rates are the
      difference of two snapshots);
    - `message_types`: messages handled by receiving actor type and message
      type (`actor_type`, `message_type`, `messages`; the
      @ref system_json_options::message_types busiest pairs, the rest counted
      in `message_types_omitted`), as @ref spindle::message_counts gives them;
    - `executors`: per executor, tasks `running`, `queued`, `submitted`,
      `completed`, `failed`, `rejected`, `timed_out`, `cancelled`, `retries`;
    - `breakers`: per circuit breaker, `state` and the `calls` by outcome;
    - `events`: the most recent rare events (failures, restarts,
      escalations, breaker changes), newest last;
    - `health`: the overall status and each check's status, if `health`
      is given;
    - `sections`: the application's own sections by name (see
      @ref section_registry::render), if `sections` is given. They are
      computed here, on the calling thread; a section that throws is
      `{"error": "..."}` and the rest of the document is built as usual.

    Executors and breakers are read from the system's metrics registry, so
    they appear without being registered anywhere else.

    @param sys The system.
    @param opts What to include.
    @param health A health monitor of `sys`, or null.
    @param sections The application's sections, or null.
    @return The document.
    @throws std::bad_alloc, or what a metrics collector throws.
    @par Thread safety
    Callable from any plain thread (it takes the registry's lock briefly).
*/
SPINDLE_DECL boost::json::object system_json(spindle::system& sys, system_json_options const& opts = {},
                                             health_monitor const* health = nullptr,
                                             section_registry const* sections = nullptr);

/** One node of an introspection tree as JSON (recursively).
    @param a The node.
    @return `{id, name, type, actor_type, strategy?, state, restarts, mailbox_depth, children, omitted}`.
*/
SPINDLE_DECL boost::json::object to_json(actor_info const& a);

} // namespace spindle::http

#endif
