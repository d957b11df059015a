//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// Tool calls under spindle::trace: each call runs, on the bus's executor,
// in a span that is a child of the caller's current span.

#include <spindle/trace/tracing.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/system.hpp>
#include <spindle/tools/tool_bus.hpp>
#include <spindle/trace/span.hpp>

#include <boost/json.hpp>

#include <memory>
#include <string>

using namespace spindle::trace;
using namespace spindle_test;
namespace json = boost::json;
namespace tools = spindle::tools;

namespace {

tools::tool_schema schema(std::string name)
{
    tools::tool_schema s;
    s.name = std::move(name);
    s.description = "test tool";
    return s;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_tool_call_is_a_child_of_the_callers_span)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    tools::tool_bus bus(sys);
    auto alice = bus.add_agent("alice");
    std::string inside_trace, inside_span;
    bus.register_tool(tools::make_tool(schema("probe"), [&] {
        inside_trace = current_span().context().trace.to_hex();
        inside_span = current_span().context().span.to_hex();
        return 1;
    }));
    bus.register_tool(tools::make_tool(schema("fails"), []() -> int { throw std::runtime_error("no"); }));
    bus.grant(alice, "probe");
    bus.grant(alice, "fails");

    span_context caller;
    instrument("agent step", [&] {
        caller = current_span().context();
        BOOST_TEST(bus.call(alice, "probe", json::object{}) == json::value(1));
        BOOST_TEST(!bus.try_call(alice, "fails", json::object{}));
    });

    auto s = wait_span(t, *exp, "tool probe");
    BOOST_REQUIRE(s.has_value());
    BOOST_TEST(s->context.trace.to_hex() == caller.trace.to_hex());
    BOOST_TEST(s->parent.to_hex() == caller.span.to_hex());
    BOOST_TEST(attr_string(*s, "tool.name") == "probe");
    BOOST_TEST((s->status == status_code::unset));
    // the tool ran with the call's span current
    BOOST_TEST(inside_trace == caller.trace.to_hex());
    BOOST_TEST(inside_span == s->context.span.to_hex());

    auto f = wait_span(t, *exp, "tool fails");
    BOOST_REQUIRE(f.has_value());
    BOOST_TEST(f->parent.to_hex() == caller.span.to_hex());
    BOOST_TEST((f->status == status_code::error));
}
