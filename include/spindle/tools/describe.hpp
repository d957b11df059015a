//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_DESCRIBE_HPP
#define SPINDLE_TOOLS_DESCRIBE_HPP

#include <spindle/detail/config.hpp>
#include <spindle/tools/tool_bus.hpp>

#include <boost/json/object.hpp>

#include <cstddef>

/** @file
    A JSON view of a tool bus: its tools with their counts and execution
    times, and the agents with their grants. It is what an operator wants to
    see of a bus, e.g. as a section of `spindle::http`'s `/api/system`
    (which this component does not depend on):

    @code
    web.add_section("tools", [&bus] { return spindle::tools::describe(bus); });
    @endcode
*/

namespace spindle::tools {

/** Options of @ref describe. */
struct describe_options
{
    /// Tools listed, at most (by name; the rest are counted in `tools_omitted`).
    std::size_t max_tools = 500;

    /// Agents listed, at most (by name; the rest are counted in `agents_omitted`).
    std::size_t max_agents = 500;
};

/** Describes a tool bus as JSON:

    - `bus`: its name; `stopped`: true once it has shut down;
      `timeout_ms`, `max_concurrent`, `queue_capacity`: its options;
      `not_found`: calls that named no registered tool;
    - `tools`: one object per registered tool, by name: `name`, `kind`
      (`"agent"` for a tool that acts as an agent, i.e. has an identity —
      an agent offered as a tool — else `"tool"`), `calls`, `successes`,
      `errors`, `timeouts` (the `timed_out` errors), `mean_ms` and
      `last_ms` (execution time; null before the first execution),
      `errors_by_kind` (the kinds with a non-zero count, e.g.
      `{"invalid_params": 2}`), `description`, `id`;
    - `agents`: every agent the bus has grants or a name for, by name (then
      id): `name` (null if unnamed), `grants` — the string `"all"` for an
      agent given `grant_all`, else the array of the tool names granted —,
      `except` (the tools revoked since `grant_all`; empty otherwise),
      `id`;
    - `tools_omitted`, `agents_omitted`: present when a list was cut at
      `opts`' bounds.

    The counts are those of @ref tool_bus::stats (and of the system's
    metrics): once no call is in flight, `calls == successes + errors`.

    @param bus The bus.
    @param opts Bounds of the lists.
    @return The document.
    @throws std::bad_alloc if memory runs out.
    @par Thread safety
    Any thread or fiber, concurrently with calls, registrations and
    grants: it reads the bus's current snapshot of tools and grants (an
    atomic load, no lock) and its counters (relaxed atomics), so it never
    waits for a writer, and never blocks a worker.
*/
SPINDLE_DECL boost::json::object describe(tool_bus const& bus, describe_options const& opts = {});

} // namespace spindle::tools

#endif
