//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/tools/error.hpp>

#include <ostream>
#include <string>

namespace spindle::tools {

namespace {

class category_impl final : public boost::system::error_category
{
public:
    constexpr category_impl() noexcept : boost::system::error_category(0x5e1d1e0c0ffee009ULL) {}

    char const* name() const noexcept override { return "spindle.tools"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    char const* message(int ev, char*, std::size_t) const noexcept override
    {
        switch(static_cast<tool_error>(ev))
        {
        case tool_error::not_found: return "tool not found";
        case tool_error::access_denied: return "access denied";
        case tool_error::invalid_params: return "invalid parameters";
        case tool_error::timed_out: return "tool call timed out";
        case tool_error::tool_failed: return "tool failed";
        case tool_error::cancelled: return "tool call cancelled";
        case tool_error::busy: return "tool bus busy: too many calls waiting";
        case tool_error::bus_stopped: return "tool bus stopped";
        case tool_error::invalid_schema: return "invalid tool schema";
        case tool_error::name_taken: return "tool name already registered";
        case tool_error::depth_exceeded: return "chain of agent calls too deep";
        case tool_error::agent_exists: return "agent already registered";
        }
        return "unknown tool error";
    }
};

constexpr category_impl the_category;

} // namespace

boost::system::error_category const& tool_category() noexcept
{
    return the_category;
}

std::string_view to_string(tool_error e) noexcept
{
    switch(e)
    {
    case tool_error::not_found: return "not_found";
    case tool_error::access_denied: return "access_denied";
    case tool_error::invalid_params: return "invalid_params";
    case tool_error::timed_out: return "timed_out";
    case tool_error::tool_failed: return "tool_failed";
    case tool_error::cancelled: return "cancelled";
    case tool_error::busy: return "busy";
    case tool_error::bus_stopped: return "bus_stopped";
    case tool_error::invalid_schema: return "invalid_schema";
    case tool_error::name_taken: return "name_taken";
    case tool_error::depth_exceeded: return "depth_exceeded";
    case tool_error::agent_exists: return "agent_exists";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, tool_error e)
{
    return os << to_string(e);
}

} // namespace spindle::tools
