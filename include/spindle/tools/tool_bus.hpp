//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_TOOL_BUS_HPP
#define SPINDLE_TOOLS_TOOL_BUS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/id.hpp>
#include <spindle/timer.hpp>
#include <spindle/tools/error.hpp>
#include <spindle/tools/tool.hpp>
#include <spindle/tools/tool_schema.hpp>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace spindle {
class system;
} // namespace spindle

namespace spindle::tools {

namespace detail {
class bus_impl;
struct bus_access;
} // namespace detail

/** Configuration of a @ref tool_bus. */
struct tool_bus_options
{
    /** The bus's name: the `bus` label of its metrics and the name of its
        executor (`tool_bus/<name>`). Unique per actor system; empty: `tools-<n>`.
    */
    std::string name;

    /// The bus's own cap on every call (positive); the design's default is 30 s.
    std::chrono::nanoseconds timeout = defaults::tool_timeout;

    /** Calls running at once, at most (1 to 65535). A call waiting for
        other tools (an agent offered as a tool) holds its place meanwhile.
    */
    std::size_t max_concurrent = defaults::tool_max_concurrent_calls;

    /// Calls waiting for a running place, at most (1 to 8388608); beyond
    /// it a call fails at once with `tool_error::busy`.
    std::size_t queue_capacity = defaults::tool_queue_capacity;

    /// Agents in a chain of calls made on each other's behalf, at most
    /// (1 or more): a longer chain fails with `tool_error::depth_exceeded`.
    std::size_t max_depth = defaults::tool_max_call_depth;

    /// How long the destructor lets running calls finish.
    std::chrono::nanoseconds shutdown_deadline = defaults::shutdown_deadline;
};

/** How one call runs. Every field has a default: no deadline but the
    timeouts of the tool and of the bus, not cancellable. On whose behalf
    a call is made is not an option: it comes with the credential (a
    delegated one carries its call's chain of agents).
*/
struct call_options
{
    /// The caller's deadline on the system clock (`sys.timers().now()`).
    timer_service::time_point deadline = timer_service::time_point::max();

    /// A timeout from now; the earlier of it and `deadline` counts.
    std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max();

    /// Cancels the call when triggered (`tool_error::cancelled`); the tool's
    /// own stop token fires too.
    std::stop_token stop;
};

/** A registered tool, as @ref tool_bus::find returns it. */
struct tool_info
{
    tool_id id;          ///< its id
    tool_schema schema;  ///< its schema
    tool_options options; ///< its options (`identity` left empty: the bus keeps the credential)
    agent_id identity;   ///< the id of the agent it acts as (nil: none)
};

/** The counts of one tool (the same numbers are in the system's metrics
    registry, labelled `bus` and `tool`). Once no call is in flight,
    `calls == successes + errors`, and `errors` is the sum of the kinds.
*/
struct tool_stats
{
    std::uint64_t calls = 0;          ///< calls that named the tool
    std::uint64_t successes = 0;      ///< calls that returned a result
    std::uint64_t errors = 0;         ///< calls that failed, every kind
    std::uint64_t access_denied = 0;  ///< ... because an agent had no grant
    std::uint64_t invalid_params = 0; ///< ... because of the parameters
    std::uint64_t timed_out = 0;      ///< ... because the deadline passed
    std::uint64_t tool_failed = 0;    ///< ... because the tool failed
    std::uint64_t cancelled = 0;      ///< ... because the caller cancelled
    std::uint64_t busy = 0;           ///< ... because the queue was full
    std::uint64_t bus_stopped = 0;    ///< ... because the bus was stopping
    std::uint64_t depth_exceeded = 0; ///< ... because the chain of agents was too long
    std::uint64_t executions = 0;     ///< times the tool's `execute` returned or threw
    std::chrono::nanoseconds total_time{}; ///< summed over executions (system clock)
    std::chrono::nanoseconds last_time{};  ///< of the latest execution
};

/** The tool bus: a registry of tools that agents call, with permissions,
    schema validation, timeouts and metrics.

    @par Agents and credentials
    An agent calls with an @ref agent_credential, which only the bus
    issues: `add_agent` registers an agent and returns its root
    credential; `remove_agent` voids it (and every copy). Ids name agents
    in grants, messages and metrics, but an id alone calls nothing. A tool
    calls other tools through its @ref tool_context, as its own identity
    on behalf of every agent of the call it serves; a direct `call` from
    the fiber of a running tool with a root credential is refused, and the
    credential the context hands out (`tool_context::credential`) carries
    the chain and dies with the call.

    @par A call
    `call(credential, tool, params, opts)` checks, in this order:
    -# the tool exists (`tool_error::not_found`);
    -# the credential is valid here (`access_denied`: empty, another bus's,
       its agent removed, delegated by a call that has ended, or a root
       credential used directly inside a running tool);
    -# the chain of agents is not too long (`depth_exceeded`);
    -# every agent the call is made on behalf of (outermost first), then
       the credential's agent, may use it (`access_denied`);
    -# the parameters match its schema (`invalid_params`, naming the JSON
       Pointer of each offending value);

    then runs the tool on a fiber of the actor system (a lane of the bus's
    own @ref spindle::executor) and waits for it, fiber-style (a fiber parks,
    a plain thread blocks), until the earliest of the caller's deadline, the
    tool's timeout and the bus's (`timed_out`; the tool's stop token fires),
    or until `opts.stop` fires (`cancelled`). The throwing forms throw
    `spindle::system_error` whose message names the tool and the agent.

    @par Permissions
    Grants are per agent and tool *name* (so they survive re-registering a
    tool): `grant`, `revoke`, `grant_all` for trusted agents (every tool,
    present and future, but what is then revoked), `revoke_all`. Changes are
    effective for the next call; a call already past its check runs on.

    @par Concurrency
    Every member may be called concurrently from any thread or fiber.
    Looking tools and grants up takes no lock: they are an immutable
    snapshot, published through an atomic `shared_ptr` (whose load spins
    for a few instructions at worst, never sleeps) and replaced whole by
    writers (registration, grants), which serialise on a mutex held for no
    suspension. The call's timeout is a timer of the system's timer service,
    armed and cancelled as an `ask`'s is.

    @par Metrics
    In `system::metrics()`, labelled `bus` and `tool`:
    `spindle_tool_calls_total`, `spindle_tool_successes_total`,
    `spindle_tool_errors_total` (also labelled `kind`: `access_denied`,
    `invalid_params`, `timed_out`, `tool_failed`, `cancelled`, `busy`,
    `bus_stopped`, `depth_exceeded`), the histogram
    `spindle_tool_execution_seconds` (its `_sum` is the total execution
    time) and the gauge `spindle_tool_last_execution_seconds`; per bus,
    `spindle_tool_not_found_total`. Series stay after a tool is
    unregistered and continue if one of the same name comes back.

    @par Tracing
    With `spindle::trace` installed, each call runs in a span `tool <name>`,
    a child of the caller's current span and current while the tool runs
    (doc/tracing.md, *Tool calls*); nothing when tracing is off.

    @par Lifetime
    The bus must be destroyed before its actor system object (it may
    outlive `system::shutdown`, after which calls fail with `bus_stopped`).
*/
class SPINDLE_DECL tool_bus
{
    std::shared_ptr<detail::bus_impl> impl_;
    friend struct detail::bus_access;

public:
    /** Creates a bus on `sys`.

        @param sys The actor system whose fibers run the tools; must outlive the bus.
        @param opts The options.
        @throws spindle::system_error `error::invalid_argument` for a bad
        option or a name already used in this system, `error::system_stopped`
        if the system is shutting down.
    */
    explicit tool_bus(spindle::system& sys, tool_bus_options opts = {});

    /// Calls `shutdown()`.
    ~tool_bus();

    tool_bus(tool_bus const&) = delete;
    tool_bus& operator=(tool_bus const&) = delete;

    //--------------------------------------------------------------------------
    // registry

    /** Registers a tool under a fresh id.

        The schema is read (`t->schema()`) and compiled once, here.

        @param t The tool.
        @param opts How it runs.
        @param ec `tool_error::invalid_schema` (bad name, malformed
        `parameters` or `returns`), `tool_error::name_taken`,
        `error::invalid_argument` (null tool, non-positive timeout),
        `tool_error::bus_stopped`; cleared on success.
        @return The tool's id, or nil on error.
        @throws std::bad_alloc if memory runs out.
    */
    tool_id register_tool(std::shared_ptr<tool> t, tool_options const& opts, boost::system::error_code& ec);

    /** Registers a tool under a fresh id (see the `error_code` overload).

        @param t The tool.
        @param opts How it runs.
        @return The tool's id.
        @throws spindle::system_error with the error and a message naming
        the tool and, for a malformed schema, the JSON Pointer of the fault.
    */
    tool_id register_tool(std::shared_ptr<tool> t, tool_options const& opts = {});

    /** Removes a tool. Calls already running finish; later calls fail with
        `not_found`. Grants by its name stay.

        @param tool The tool.
        @return True if it was registered.
        @throws std::bad_alloc if memory runs out.
    */
    bool unregister_tool(tool_key tool);

    /** Looks a tool up.

        @param tool The tool.
        @return Its description, or nothing if no such tool is registered.
    */
    std::optional<tool_info> find(tool_key tool) const;

    /// @return Every registered tool, by name.
    std::vector<tool_info> tools() const;

    //--------------------------------------------------------------------------
    // agents

    /** Registers an agent under a fresh id and returns its root credential.

        @param name Its name in messages (may be empty).
        @return The credential (`id()` is the new agent's id).
        @throws tool_error::bus_stopped once the bus has stopped;
        std::bad_alloc if memory runs out.
    */
    agent_credential add_agent(std::string_view name = {});

    /** Registers an agent under a given id (an actor's, say) and returns
        its root credential.

        @param agent The id; not nil, and not registered already.
        @param name Its name in messages (may be empty).
        @param ec `error::invalid_argument` for a nil id,
        `tool_error::agent_exists` if that id is registered (its credential
        cannot be issued twice), `tool_error::bus_stopped`; cleared on success.
        @return The credential, or an empty one on error.
        @throws std::bad_alloc if memory runs out.
    */
    agent_credential add_agent(agent_id agent, std::string_view name, boost::system::error_code& ec);

    /// Throwing form of `add_agent(agent, name, ec)`.
    agent_credential add_agent(agent_id agent, std::string_view name = {});

    /** Removes an agent: its credential (every copy, and those its tools
        delegate) is void for the next call, and its grants and name are
        gone. A call already past its checks runs on. The id may be
        registered again, with a new credential.

        @param agent The agent.
        @return True if it was registered.
        @throws std::bad_alloc if memory runs out.
    */
    bool remove_agent(agent_id agent);

    /// @return True if `agent` is registered (holds a live credential).
    bool has_agent(agent_id agent) const;

    //--------------------------------------------------------------------------
    // permissions

    /** Allows `agent` to use a tool (and lifts a revocation made while it
        had `grant_all`). Granting to an id not registered yet is allowed:
        the grant waits for the agent. Grants are administration: the
        holder of the bus may grant anything to anyone, so hand agents
        their credentials, not the bus.

        @param agent The agent.
        @param tool The tool: a name (registered or not yet), or the id of
        a registered tool.
        @param ec `tool_error::not_found` for an unknown id,
        `error::invalid_argument` for an invalid name; cleared on success.
        @throws std::bad_alloc if memory runs out.
    */
    void grant(agent_id agent, tool_key tool, boost::system::error_code& ec);

    /// Throwing form of `grant`.
    void grant(agent_id agent, tool_key tool);

    /** Withdraws `agent`'s permission to use a tool, effective for the
        next call, even if the agent has `grant_all`.

        @param agent The agent.
        @param tool The tool (a name, or the id of a registered tool).
        @return True if the agent could use the tool before.
        @throws std::bad_alloc if memory runs out.
    */
    bool revoke(agent_id agent, tool_key tool);

    /** Makes `agent` trusted: it may use every tool, present and future,
        except those revoked afterwards.

        @param agent The agent.
        @throws std::bad_alloc if memory runs out.
    */
    void grant_all(agent_id agent);

    /** Withdraws every permission of `agent` (its grants and `grant_all`).

        @param agent The agent.
        @return True if it had any.
        @throws std::bad_alloc if memory runs out.
    */
    bool revoke_all(agent_id agent);

    /** Tells whether `agent` may use a tool now.

        @param agent The agent.
        @param tool The tool.
        @return False also for a tool that is not registered.
    */
    bool may_use(agent_id agent, tool_key tool) const;

    /** Names an agent in error messages (`agent "planner" (<id>)`).
        `register_agent` names agent tools after their actors.

        @param agent The agent.
        @param name Its name; empty removes it.
        @throws std::bad_alloc if memory runs out.
    */
    void name_agent(agent_id agent, std::string_view name);

    /** Returns the tools `agent` may use, in the shape function-calling APIs
        take: an array of `{"name", "description", "parameters"}`, by name.

        @param agent The agent.
        @return The array.
        @throws std::bad_alloc if memory runs out.
    */
    boost::json::array list_available_tools(agent_id agent) const;

    //--------------------------------------------------------------------------
    // calls

    /** Calls a tool as the agent of `agent` (see the class comment for the checks).

        @param agent The calling agent's credential.
        @param tool The tool.
        @param params The parameters (a JSON object; null counts as `{}`).
        @param opts Deadline, cancellation, the agents called for.
        @param ec Set to the error (see @ref tool_error), or cleared.
        @return The tool's result, or null on error.
        @throws std::bad_alloc if memory runs out.
    */
    boost::json::value call(agent_credential const& agent, tool_key tool, boost::json::value params,
                            call_options const& opts, boost::system::error_code& ec);

    /** Calls a tool as the agent of `agent`.

        @param agent The calling agent's credential.
        @param tool The tool.
        @param params The parameters.
        @param opts Deadline, cancellation, the agents called for.
        @return The tool's result.
        @throws spindle::system_error with the error and a message naming
        the tool, the agent and what went wrong (for invalid parameters,
        the JSON Pointer of each offending value).
    */
    boost::json::value call(agent_credential const& agent, tool_key tool, boost::json::value params,
                            call_options const& opts = {});

    /** Calls a tool as the agent of `agent`, with a deadline on the system clock.

        @param agent The calling agent's credential.
        @param tool The tool.
        @param params The parameters.
        @param deadline The caller's deadline.
        @return The tool's result.
        @throws spindle::system_error as the overload with options.
    */
    boost::json::value call(agent_credential const& agent, tool_key tool, boost::json::value params,
                            timer_service::time_point deadline);

    /** Calls a tool as the agent of `agent`, returning the error's text
        instead of throwing it.

        @param agent The calling agent's credential.
        @param tool The tool.
        @param params The parameters.
        @param opts Deadline, cancellation, the agents called for.
        @return The outcome.
        @throws std::bad_alloc if memory runs out.
    */
    call_result try_call(agent_credential const& agent, tool_key tool, boost::json::value params,
                         call_options const& opts = {});

    //--------------------------------------------------------------------------
    // state

    /** Returns the counts of a tool.

        @param tool The tool.
        @param ec `tool_error::not_found` if it is not registered, or cleared.
        @return The counts (zero on error).
    */
    tool_stats stats(tool_key tool, boost::system::error_code& ec) const;

    /// Throwing form of `stats`.
    tool_stats stats(tool_key tool) const;

    /** Stops the bus: later calls and registrations fail with
        `bus_stopped`; running calls may finish until `deadline`, then they
        are asked to stop and their callers released with `bus_stopped`.
        Idempotent. Must not be called from inside a tool of this bus.

        @param deadline How long running calls may take.
    */
    void shutdown(std::chrono::nanoseconds deadline);

    /// `shutdown(options().shutdown_deadline)`.
    void shutdown();

    /// @return The options in force (the name resolved).
    tool_bus_options const& options() const noexcept;

    /// @return The bus's actor system.
    spindle::system& system() const noexcept;
};

} // namespace spindle::tools

#endif
