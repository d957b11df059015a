//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_AGENT_TOOL_HPP
#define SPINDLE_TOOLS_AGENT_TOOL_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/detail/completion.hpp>
#include <spindle/detail/reply.hpp>
#include <spindle/id.hpp>
#include <spindle/tools/error.hpp>
#include <spindle/tools/tool.hpp>
#include <spindle/tools/tool_bus.hpp>

#include <boost/intrusive_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

/** @file
    Agents offered as tools: a call of the tool becomes an `ask` of the
    agent's actor with a @ref spindle::tools::tool_message, and the
    handler's return value is the tool's result.

    @code
    struct planner : spindle::actor<planner, spindle::tools::tool_message>
    {
        boost::json::value on(spindle::tools::tool_message const& m)
        {
            // calls other tools as itself, on behalf of m.caller
            auto r = m.context.call("search", {{"query", m.params.at("goal")}});
            return {{"plan", r}};
        }
    };

    auto ref = sys.spawn<planner>();
    spindle::tools::register_agent(bus, ref, planner_schema);
    @endcode

    The tool keeps the actor's reference, which stays valid when the
    runtime restarts the actor after a failure (a handler that throws fails
    that call with `tool_error::tool_failed`; the next call reaches the
    fresh actor).
*/

namespace spindle::tools {

/** The message an agent offered as a tool receives for each call. Its
    handler's return value (`boost::json::value`, a @ref tool_result,
    `void` for null, or anything `boost::json::value_from` converts) is the
    tool's result; an exception fails the call with `tool_error::tool_failed`
    (and the runtime restarts or stops the actor, as for any handler).
*/
struct tool_message
{
    /// The tool being called (the agent's registration).
    tool_id tool;

    /// The parameters, checked against the tool's schema.
    boost::json::value params;

    /// The agent that called.
    agent_id caller;

    /// The call's context: deadline, stop token, and `call` for the tools
    /// the agent uses in turn (as itself, on behalf of `caller`).
    tool_context context;
};

namespace detail {

/// The reply state of an agent call: a fiber-aware one-shot completion the
/// tool waits on with the call's stop token.
template<class R>
class completion_reply final : public spindle::detail::reply_state<R>
{
public:
    spindle::detail::completion_state<R> done;

private:
    void deliver(boost::system::result<R>&& r) noexcept override
    {
        if(!r)
            done.set_error(r.error());
        else if constexpr(std::is_void_v<R>)
            done.set_value();
        else
            done.set_value(std::move(*r));
    }
};

/// The failure of an agent call, naming the agent's tool.
SPINDLE_DECL tool_result agent_failure(boost::system::error_code const& ec, std::string_view tool_name);

} // namespace detail

/** A tool that forwards each call to an actor (see the file comment).

    @tparam A The actor type; it declares @ref tool_message among its
    messages and handles it.
*/
template<class A>
class agent_tool final : public tool
{
    static_assert(spindle::detail::sendable_v<A, tool_message>,
                  "an agent offered as a tool declares spindle::tools::tool_message among its messages "
                  "and has a handler on(tool_message)");

    actor_ref<A> ref_;
    tool_schema schema_;

public:
    /// The handler's return type.
    using reply_type = std::remove_cvref_t<spindle::detail::handler_result_t<A, tool_message>>;

    /** Wraps an actor.

        @param ref The actor.
        @param schema The tool's schema.
    */
    agent_tool(actor_ref<A> ref, tool_schema schema) : ref_(std::move(ref)), schema_(std::move(schema)) {}

    /// @return The schema given at construction.
    tool_schema schema() const override { return schema_; }

    /// @return The actor.
    actor_ref<A> const& actor() const noexcept { return ref_; }

    /** Asks the actor with a @ref tool_message and waits for its reply,
        until the call's deadline or stop token.

        @param params The parameters.
        @param ctx The call's context.
        @return The handler's reply, as JSON; or a failure: the handler
        threw, the actor stopped or its mailbox refused the call, no reply
        by the deadline, or the call was cancelled.
    */
    tool_result execute(boost::json::value params, tool_context const& ctx) override
    {
        auto remaining = ctx.deadline() - ctx.timers().now();
        if(remaining < std::chrono::nanoseconds::zero())
            remaining = std::chrono::nanoseconds::zero();
        boost::intrusive_ptr<detail::completion_reply<reply_type>> st(new detail::completion_reply<reply_type>(),
                                                                       false);
        intrusive_ptr_add_ref(st.get()); // the creation reference goes to send_ask
        spindle::detail::send_ask<A, tool_message>(
            ref_.cell(), tool_message{ctx.tool(), std::move(params), ctx.caller(), ctx}, remaining, st.get());
        if(st->done.wait(spindle::detail::wait_deadline::never(), ctx.stop_token()) !=
           spindle::detail::wake_status::done)
            return detail::agent_failure(tool_error::cancelled, ctx.tool_name());
        auto r = st->done.take();
        if(!r)
            return detail::agent_failure(r.error(), ctx.tool_name());
        if constexpr(std::is_void_v<reply_type>)
            return {};
        else
            return tools::detail::to_tool_result(std::move(*r));
    }
};

/** Makes a tool of an actor.

    @param ref The actor; its type declares and handles @ref tool_message.
    @param schema The tool's schema.
    @return The tool (register it with a credential of the actor's id as
    `tool_options::identity`, as @ref register_agent does, for it to call
    other tools).
    @throws std::bad_alloc if memory runs out.
*/
template<class A>
std::shared_ptr<agent_tool<A>> make_agent_tool(actor_ref<A> ref, tool_schema schema)
{
    return std::make_shared<agent_tool<A>>(std::move(ref), std::move(schema));
}

/** Registers an actor as a tool of `bus`. Unless `opts.identity` holds a
    credential already, the bus registers the actor as an agent under its
    actor id (named after its actor, or else the tool) and keeps the
    credential as the tool's identity: the actor calls other tools through
    the context of the call it serves, and holds no credential itself.

    @param bus The bus.
    @param ref The actor.
    @param schema The tool's schema.
    @param opts How it runs.
    @param ec As `tool_bus::register_tool`, or `tool_error::agent_exists`
    if the actor is registered as an agent already (pass its credential
    in `opts.identity` then).
    @return The tool's id, or nil on error.
    @throws std::bad_alloc if memory runs out.
*/
template<class A>
tool_id register_agent(tool_bus& bus, actor_ref<A> const& ref, tool_schema schema, tool_options opts,
                       boost::system::error_code& ec)
{
    bool const issued = !opts.identity;
    if(issued)
    {
        std::string name = ref.name();
        if(name.empty())
            name = schema.name;
        opts.identity = bus.add_agent(ref.id(), name, ec);
        if(ec)
            return {};
    }
    tool_id id = bus.register_tool(make_agent_tool(ref, std::move(schema)), opts, ec);
    if(ec && issued)
        bus.remove_agent(ref.id());
    return id;
}

/** Registers an actor as a tool of `bus` (see the `error_code` overload).

    @param bus The bus.
    @param ref The actor.
    @param schema The tool's schema.
    @param opts How it runs.
    @return The tool's id.
    @throws spindle::system_error as `tool_bus::register_tool` and `tool_bus::add_agent`.
*/
template<class A>
tool_id register_agent(tool_bus& bus, actor_ref<A> const& ref, tool_schema schema, tool_options opts = {})
{
    bool const issued = !opts.identity;
    if(issued)
    {
        std::string name = ref.name();
        if(name.empty())
            name = schema.name;
        opts.identity = bus.add_agent(ref.id(), name);
    }
    try
    {
        return bus.register_tool(make_agent_tool(ref, std::move(schema)), opts);
    }
    catch(...)
    {
        if(issued)
            bus.remove_agent(ref.id());
        throw;
    }
}

} // namespace spindle::tools

#endif
