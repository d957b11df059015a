//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::tools calls a tool.

#include <spindle/tools.hpp>
#include <spindle/core.hpp>

int main()
{
    spindle::system sys;
    spindle::tools::tool_bus bus(sys);
    bus.register_tool(spindle::tools::make_calculator_tool());
    auto agent = bus.add_agent("consumer");
    bus.grant(agent, "calculator");
    auto const r = bus.call(agent, "calculator", {{"expression", "6*7"}});
    return r.at("result").to_number<double>() == 42 ? 0 : 1;
}
