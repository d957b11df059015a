//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_CHAOS_TOOLS_HPP
#define SPINDLE_CHAOS_TOOLS_HPP

/// Fault injection into tool calls (header-only: link spindle::chaos and spindle::tools).

#include <spindle/chaos.hpp>
#include <spindle/tools/tool.hpp>

#include <memory>
#include <string>

namespace spindle::chaos {

namespace detail {

class chaos_tool final : public spindle::tools::tool
{
public:
    chaos_tool(controller& c, std::shared_ptr<spindle::tools::tool> inner)
        : c_(c), inner_(std::move(inner)), name_(inner_->schema().name)
    {
    }
    spindle::tools::tool_schema schema() const override { return inner_->schema(); }
    spindle::tools::tool_result execute(boost::json::value params, spindle::tools::tool_context const& ctx) override
    {
        decision const d = c_.decide(site::tool, name_);
        if(d.delay.count() > 0)
            ctx.timers().sleep_for(d.delay, ctx.stop_token());
        if(d.error)
            return spindle::tools::tool_result::failure(d.code, "chaos: injected error in tool " + name_);
        if(d.crash)
            throw injected_crash("tool " + name_);
        return inner_->execute(std::move(params), ctx);
    }

private:
    controller& c_;
    std::shared_ptr<spindle::tools::tool> inner_;
    std::string name_;
};

} // namespace detail

/** Wraps a tool so that each call first goes through `c` (site `tool`,
    named by the tool): latency sleeps on the bus's clock and ends with the
    call's stop token, an error fails the call with the rule's code, a
    crash throws (the bus contains it: `tool_failed`).

    @param c The controller; must outlive the tool.
    @param t The tool to register in its place.
    @return The wrapped tool (same schema).
*/
inline std::shared_ptr<spindle::tools::tool> wrap_tool(controller& c, std::shared_ptr<spindle::tools::tool> t)
{
    return std::make_shared<detail::chaos_tool>(c, std::move(t));
}

} // namespace spindle::chaos

#endif
