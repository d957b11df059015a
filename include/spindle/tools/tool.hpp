//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_TOOL_HPP
#define SPINDLE_TOOLS_TOOL_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/id.hpp>
#include <spindle/timer.hpp>
#include <spindle/tools/error.hpp>
#include <spindle/tools/tool_schema.hpp>

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <concepts>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace spindle {
class system;
} // namespace spindle

namespace spindle::tools {

namespace detail {
struct call_frame;
struct agent_record;
struct credential_access;
} // namespace detail

/** The right to call tools as one agent: a capability the @ref tool_bus
    issues (`tool_bus::add_agent`) and checks on every call. User code
    cannot make one from an `agent_id`: the only credentials are those the
    bus handed out, and copies of them.

    Two kinds exist:
    - a *root* credential, from `add_agent`: the agent's own authority.
      Give it to code acting for itself, never to a deputy.
    - a *delegated* credential, from `tool_context::credential()`: the
      identity of a running tool bound to the call it serves. A call made
      with it is made on behalf of that call's whole chain of agents, as
      `tool_context::call` is, and it is void once the call ends.

    A credential is refused (`tool_error::access_denied`) when it is empty,
    when the bus did not issue it (another bus's), when its agent was
    removed (`tool_bus::remove_agent`), and for a delegated one when its
    call has ended. A root credential is also refused when used directly
    on the fiber of a running tool of the same bus: a tool calls other
    tools through its context, so that no caller's limits are shed.

    Copyable: a copy is the same capability (handing it over is a
    deliberate grant of authority).

    @par Thread safety
    A value; distinct objects may be used concurrently, and one object
    from many threads through its const members.
*/
class SPINDLE_DECL agent_credential
{
    std::shared_ptr<detail::agent_record const> rec_;
    std::weak_ptr<detail::call_frame const> via_;
    bool delegated_ = false;

    friend struct detail::credential_access;
    agent_credential(std::shared_ptr<detail::agent_record const> rec, std::weak_ptr<detail::call_frame const> via,
                     bool delegated) noexcept;

public:
    /// An empty credential: it names no agent, and every call with it is denied.
    agent_credential() noexcept = default;

    /// @return The agent's id (nil for an empty credential).
    agent_id id() const noexcept;

    /// A credential names its agent, so it may be passed where an id is
    /// expected (`bus.grant(cred, "search")`). The converse does not exist.
    operator agent_id() const noexcept { return id(); } // NOLINT: implicit on purpose

    /// @return True if the credential names an agent (it may still be void).
    explicit operator bool() const noexcept { return rec_ != nullptr; }

    /// @return True for a credential delegated by a running call (`tool_context::credential`).
    bool delegated() const noexcept { return delegated_; }
};

/** Names a tool: by its id, or by its name. Converts implicitly from both,
    so `bus.call(me, "search", p)` and `bus.call(me, id, p)` both work.

    A key made from a name refers to the caller's characters: keep it no
    longer than the string it was made from.
*/
class tool_key
{
    tool_id id_;
    std::string_view name_;
    bool by_id_;

public:
    /// Names the tool registered under `id`.
    tool_key(tool_id id) noexcept : id_(id), by_id_(true) {} // NOLINT: implicit on purpose

    /// Names the tool registered as `name`.
    tool_key(std::string_view name) noexcept : name_(name), by_id_(false) {} // NOLINT

    /// Names the tool registered as `name`.
    tool_key(char const* name) noexcept : name_(name), by_id_(false) {} // NOLINT

    /// Names the tool registered as `name`.
    tool_key(std::string const& name) noexcept : name_(name), by_id_(false) {} // NOLINT

    /// @return True if the key is an id.
    bool by_id() const noexcept { return by_id_; }

    /// @return The id (nil for a key by name).
    tool_id id() const noexcept { return id_; }

    /// @return The name (empty for a key by id).
    std::string_view name() const noexcept { return name_; }
};

/** How one registered tool runs. */
struct tool_options
{
    /** How long one call of this tool may take (the bus's own timeout and
        the caller's deadline may cut it shorter). Positive.
    */
    std::chrono::nanoseconds timeout = defaults::tool_timeout;

    /** The agent this tool acts as when it calls other tools through its
        @ref tool_context "tool_context": a root credential of the bus the tool is
        registered with (the bus keeps it; `tool_bus::find` reports only
        its id). Empty (the default): the tool cannot call other tools.
    */
    agent_credential identity;
};

/** The outcome of a call, for callers that want the error's text without
    an exception (an agent feeding a tool error back to its model).
*/
struct call_result
{
    /// The tool's result (null on error).
    boost::json::value value;

    /// The error, or a cleared code on success (see @ref tool_error).
    boost::system::error_code error;

    /// On error, what happened, naming the tool and the agent:
    /// `tool "search" called by agent "planner" (<id>): access denied: agent
    /// "planner" (<id>) has no grant for "search"`.
    std::string message;

    /// @return True on success.
    explicit operator bool() const noexcept { return !error; }
};

/** What one execution of a tool produced: a value, or an error with its
    text. Converts implicitly from a `boost::json::value`, so a tool that
    succeeds just returns its result.

    A tool reports bad parameters the schema could not express with
    `tool_result::failure(tool_error::invalid_params, "why")`, which fails
    the call with `invalid_params`; any other code fails it with
    `tool_error::tool_failed`. The text goes into the call's message.
*/
class tool_result
{
    boost::json::value value_;
    boost::system::error_code error_;
    std::string message_;

public:
    /// A null result.
    tool_result() = default;

    /// A successful result.
    tool_result(boost::json::value v) noexcept : value_(std::move(v)) {} // NOLINT: implicit on purpose

    /// A successful result: anything a `boost::json::value` is made from
    /// (`boost::json::object`, a string, a number, ...).
    template<class T>
        requires(!std::is_same_v<std::remove_cvref_t<T>, tool_result> &&
                 !std::is_same_v<std::remove_cvref_t<T>, boost::json::value> &&
                 std::is_constructible_v<boost::json::value, T &&>)
    tool_result(T&& v) : value_(std::forward<T>(v)) // NOLINT: implicit on purpose
    {
    }

    /** A failure.

        @param ec The error (see the class comment); must not be cleared.
        @param message What went wrong, for the caller (and its model).
        @return The result.
    */
    static tool_result failure(boost::system::error_code ec, std::string message)
    {
        tool_result r;
        r.error_ = ec ? ec : make_error_code(tool_error::tool_failed);
        r.message_ = std::move(message);
        return r;
    }

    /// @return True for a successful result.
    explicit operator bool() const noexcept { return !error_; }

    /// @return The error; cleared on success.
    boost::system::error_code const& error() const noexcept { return error_; }

    /// @return The failure's text (empty on success).
    std::string const& message() const noexcept { return message_; }

    /// @return The value (null for a failure).
    boost::json::value const& value() const& noexcept { return value_; }

    /// @return The value, moved out.
    boost::json::value value() && noexcept { return std::move(value_); }
};

/** What a running tool knows about the call it serves, and its way to call
    other tools.

    A tool that calls other tools through its context calls them as itself
    (its identity, see @ref tool_options::identity) *and* on behalf of
    every agent in @ref callers "callers": each one of them must be allowed to use the
    tool called, so no agent reaches through another what it was not
    granted. The nested call inherits the deadline and the stop token, so a
    timed-out or cancelled call cancels what it started.

    A context is a cheap handle (copies share one state); an agent that is
    offered as a tool receives it in its @ref tool_message.

    @par Thread safety
    Const members may be called concurrently from any thread or fiber.
*/
class SPINDLE_DECL tool_context
{
    std::shared_ptr<detail::call_frame> frame_;

public:
    /// An empty context (for tests that call a tool directly): no callers,
    /// no deadline, a stop token that never fires, no nested calls.
    tool_context() = default;

    /// Wraps a call's state (used by the bus).
    explicit tool_context(std::shared_ptr<detail::call_frame> f) noexcept : frame_(std::move(f)) {}

    /// @return The id of the tool being called (nil for an empty context).
    tool_id tool() const noexcept;

    /// @return The name of the tool being called (empty for an empty context).
    std::string_view tool_name() const noexcept;

    /// @return The agent that made this call (nil for an empty context).
    agent_id caller() const noexcept;

    /// @return Every agent this call is made for, outermost first; the last
    /// one is @ref caller. Empty for an empty context.
    std::span<agent_id const> callers() const noexcept;

    /// @return When the call times out, on the system clock (`time_point::max()`
    /// for an empty context).
    timer_service::time_point deadline() const noexcept;

    /** Returns the token the bus triggers when the call times out or its
        caller cancels it. A tool that runs long polls it or passes it to
        its waits (`timers().sleep_for(d, ctx.stop_token())`).

        @return The token (one that never fires for an empty context).
    */
    std::stop_token stop_token() const noexcept;

    /// @return True once the call was asked to stop.
    bool stop_requested() const noexcept { return stop_token().stop_requested(); }

    /** Returns the timer service of the bus's actor system (the clock the
        deadline is on).

        @return The service.
        @throws spindle::system_error with `tool_error::bus_stopped` for an
        empty context.
    */
    timer_service& timers() const;

    /** Returns the bus's actor system.

        @return The system.
        @throws spindle::system_error with `tool_error::bus_stopped` for an
        empty context.
    */
    spindle::system& system() const;

    /** Returns this tool's identity bound to this call: a delegated
        @ref agent_credential. A call made with it, even directly through
        `tool_bus::call`, is made on behalf of @ref callers (as `call`
        is), and it is refused once this call has ended: copying it out
        sheds no caller's limits.

        @return The credential (empty for an empty context or a tool
        without an identity).
    */
    agent_credential credential() const;

    /** Calls another tool as this tool's identity, on behalf of
        @ref callers, within this call's deadline and stop token.

        @param tool The tool to call.
        @param params Its parameters.
        @param ec Set to the call's error (see @ref tool_error), or cleared.
        @return The result, or null on error.
        @throws std::bad_alloc if memory runs out.
    */
    boost::json::value call(tool_key tool, boost::json::value params, boost::system::error_code& ec) const;

    /** Calls another tool (see the `error_code` overload).

        @param tool The tool to call.
        @param params Its parameters.
        @return The result.
        @throws spindle::system_error with the call's error and a message
        naming the tool and the agents.
    */
    boost::json::value call(tool_key tool, boost::json::value params) const;

    /** Calls another tool (see the `error_code` overload), returning the
        error's text too.

        @param tool The tool to call.
        @param params Its parameters.
        @return The outcome.
        @throws std::bad_alloc if memory runs out.
    */
    call_result try_call(tool_key tool, boost::json::value params) const;

    /// The call's state (for the bus).
    detail::call_frame* frame() const noexcept { return frame_.get(); }
};

/** A tool: a named function of JSON parameters, with a schema, that agents
    call through a @ref tool_bus.

    `execute` runs on a fiber of the bus's actor system, one call per fiber;
    it may block fiber-style (ask an actor, sleep on the system's timers,
    wait on a fiber channel or a task), never its thread (see
    `run_blocking` for blocking libraries). Many calls may run at once:
    `execute` must be safe to call concurrently.

    Failures: return `tool_result::failure(code, "why")` (see
    @ref tool_result). An exception out of `execute` is contained too: it
    fails the call with `tool_error::tool_failed` and its `what()` in the
    message (a `spindle::system_error` carrying `tool_error::invalid_params`
    fails it with `invalid_params`). Returning is cheaper than throwing on a
    fiber. A result that does not match the schema's `returns` fails the
    call with `tool_failed`.

    Stopping: the bus cannot interrupt a fiber. When a call times out or is
    cancelled, its caller is released at once and the context's stop token
    fires; a tool that ignores it keeps its fiber until it returns (what
    it returns is discarded).
*/
class SPINDLE_DECL tool
{
public:
    virtual ~tool();

    /** Returns the tool's schema. Called once, at registration.

        @return The schema.
    */
    virtual tool_schema schema() const = 0;

    /** Runs one call.

        @param params The parameters, already checked against the schema
        (an object).
        @param ctx The call's context: caller, deadline, stop token, nested calls.
        @return The result, or a failure.
        @throws Anything: see the class comment.
    */
    virtual tool_result execute(boost::json::value params, tool_context const& ctx) = 0;
};

namespace detail {

template<class F>
concept tool_function_with_context =
    std::invocable<F&, boost::json::value, tool_context const&>;

template<class F>
concept tool_function_with_params = std::invocable<F&, boost::json::value>;

template<class F>
concept tool_function = tool_function_with_context<F> || tool_function_with_params<F> || std::invocable<F&>;

template<class R>
tool_result to_tool_result(R&& r)
{
    using type = std::remove_cvref_t<R>;
    if constexpr(std::is_same_v<type, tool_result> || std::is_same_v<type, boost::json::value>)
        return std::forward<R>(r);
    else
        return boost::json::value_from(std::forward<R>(r));
}

template<class F>
class function_tool final : public tool
{
    tool_schema schema_;
    F fn_;

public:
    function_tool(tool_schema s, F fn) : schema_(std::move(s)), fn_(std::move(fn)) {}

    tool_schema schema() const override { return schema_; }

    tool_result execute(boost::json::value params, tool_context const& ctx) override
    {
        if constexpr(tool_function_with_context<F>)
        {
            if constexpr(std::is_void_v<std::invoke_result_t<F&, boost::json::value, tool_context const&>>)
            {
                fn_(std::move(params), ctx);
                return {};
            }
            else
                return to_tool_result(fn_(std::move(params), ctx));
        }
        else if constexpr(tool_function_with_params<F>)
        {
            (void)ctx;
            if constexpr(std::is_void_v<std::invoke_result_t<F&, boost::json::value>>)
            {
                fn_(std::move(params));
                return {};
            }
            else
                return to_tool_result(fn_(std::move(params)));
        }
        else
        {
            (void)ctx;
            (void)params;
            if constexpr(std::is_void_v<std::invoke_result_t<F&>>)
            {
                fn_();
                return {};
            }
            else
                return to_tool_result(fn_());
        }
    }
};

} // namespace detail

/** Makes a tool from a schema and a function.

    @par Example
    @code
    auto add = spindle::tools::make_tool(schema, [](boost::json::value p) {
        auto const& o = p.as_object();
        return o.at("a").to_number<double>() + o.at("b").to_number<double>();
    });
    @endcode

    @param schema The tool's schema.
    @param fn A callable `R(boost::json::value params, tool_context const&)`,
    `R(boost::json::value params)` or `R()`; `R` is `boost::json::value`,
    @ref tool_result, `void` (the result is null) or anything
    `boost::json::value_from` converts.
    Called concurrently by simultaneous calls.
    @return The tool.
    @throws std::bad_alloc if memory runs out.
*/
template<class F>
    requires detail::tool_function<std::decay_t<F>>
std::shared_ptr<tool> make_tool(tool_schema schema, F&& fn)
{
    return std::make_shared<detail::function_tool<std::decay_t<F>>>(std::move(schema), std::forward<F>(fn));
}

} // namespace spindle::tools

#endif
