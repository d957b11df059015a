//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The umbrella header of the tool bus is self-contained and enough for the
// README's example.

#include <spindle/tools.hpp>

#include <boost/test/unit_test.hpp>

#include <spindle/system.hpp>

BOOST_AUTO_TEST_CASE(the_umbrella_header_is_enough_for_a_call)
{
    spindle::system sys;
    spindle::tools::tool_bus bus(sys);
    bus.register_tool(spindle::tools::make_calculator_tool());
    auto const me = bus.add_agent("me");
    bus.grant(me, "calculator");
    auto r = bus.call(me, "calculator", {{"expression", "6 * 7"}});
    BOOST_TEST(r.at("result").as_double() == 42.0);
}
