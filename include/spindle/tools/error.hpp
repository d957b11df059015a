//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_ERROR_HPP
#define SPINDLE_TOOLS_ERROR_HPP

#include <spindle/detail/config.hpp>
#include <spindle/error.hpp>

#include <boost/system/error_code.hpp>

#include <iosfwd>
#include <string_view>
#include <type_traits>

namespace spindle::tools {

/** The errors of the tool bus (`spindle::tools`), in the order a call
    checks them: a call that fails several checks reports the first.

    The numeric values are stable (they may be logged or sent over the wire).
*/
enum class tool_error
{
    /// No tool is registered under the id or name the caller gave.
    not_found = 1,
    /// The calling agent, or an agent it calls on behalf of, has no grant for the tool.
    access_denied,
    /// The parameters do not match the tool's schema (or the tool itself
    /// refused them by throwing `tool_error::invalid_params`).
    invalid_params,
    /// The call ran past the earliest of the caller's deadline, the tool's
    /// timeout and the bus's; the tool was asked to stop.
    timed_out,
    /// The tool threw, an agent's handler failed or did not reply, or the
    /// result does not match the tool's `returns` schema.
    tool_failed,
    /// The caller's stop token was triggered before the call finished.
    cancelled,
    /// The bus's queue of calls waiting for a fiber is full.
    busy,
    /// The bus has shut down (or its actor system has).
    bus_stopped,
    /// Registration refused: the schema (or the tool's name) is malformed.
    invalid_schema,
    /// Registration refused: a tool with this name is already registered.
    name_taken,
    /// The chain of agents calling on each other's behalf is longer than
    /// `tool_bus_options::max_depth` (a loop of agents calling each other).
    depth_exceeded,
    /// `tool_bus::add_agent` refused: an agent with this id is registered
    /// (a credential is issued once per registration).
    agent_exists
};

/** Returns the category of @ref tool_error. Its `name()` is `"spindle.tools"`.

    @par Thread safety
    Safe to call concurrently.
*/
SPINDLE_DECL boost::system::error_category const& tool_category() noexcept;

/** Makes an `error_code` from a @ref tool_error (found by ADL).

    @param e The error.
    @return The code, in @ref tool_category.
*/
inline boost::system::error_code make_error_code(tool_error e) noexcept
{
    return {static_cast<int>(e), tool_category()};
}

/** Returns the snake_case name of an error, as used in the `kind` label of
    the `spindle_tool_errors_total` metric.

    @param e The error.
    @return `"not_found"`, `"access_denied"`, ...; `"unknown"` for a value
    out of range.
*/
SPINDLE_DECL std::string_view to_string(tool_error e) noexcept;

/** Writes the name of an error (see @ref to_string).

    @param os The stream.
    @param e The error.
    @return `os`.
*/
SPINDLE_DECL std::ostream& operator<<(std::ostream& os, tool_error e);

} // namespace spindle::tools

/// @cond
template<>
struct boost::system::is_error_code_enum<spindle::tools::tool_error> : std::true_type
{
};
/// @endcond

#endif
