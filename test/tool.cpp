//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Tools made from functions (each supported signature and result type),
// keys by id and by name, and what an empty context offers a tool called
// directly (as in a unit test of a tool).

#include <spindle/tools/tool.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>

#include <string>
#include <vector>

namespace json = boost::json;
namespace tools = spindle::tools;

namespace {

tools::tool_schema named(std::string n)
{
    tools::tool_schema s;
    s.name = std::move(n);
    return s;
}

} // namespace

BOOST_AUTO_TEST_CASE(make_tool_accepts_three_signatures_and_converts_results)
{
    auto with_ctx = tools::make_tool(named("a"), [](json::value p, tools::tool_context const& ctx) {
        return json::object{{"p", p}, {"stopped", ctx.stop_requested()}};
    });
    auto with_params = tools::make_tool(named("b"), [](json::value p) { return p.at("x").as_int64() * 2; });
    auto nullary = tools::make_tool(named("c"), [] { return std::vector<int>{1, 2}; });
    auto nothing = tools::make_tool(named("d"), [](json::value) {});

    auto failing = tools::make_tool(named("e"), [] {
        return tools::tool_result::failure(tools::tool_error::invalid_params, "x must be odd");
    });

    json::value const p = {{"x", 21}};
    BOOST_TEST(with_ctx->execute(p, {}).value() == (json::value{{"p", p}, {"stopped", false}}));
    BOOST_TEST(with_params->execute(p, {}).value() == json::value(42));
    BOOST_TEST(nullary->execute(p, {}).value() == json::parse("[1,2]"));
    auto const none = nothing->execute(p, {});
    BOOST_TEST(static_cast<bool>(none));
    BOOST_TEST(none.value().is_null());
    auto const f = failing->execute(p, {});
    BOOST_TEST(!f);
    BOOST_TEST(f.error() == tools::tool_error::invalid_params);
    BOOST_TEST(f.message() == "x must be odd");
    BOOST_TEST(f.value().is_null());
    BOOST_TEST(tools::tool_result::failure({}, "no code").error() == tools::tool_error::tool_failed);
    BOOST_TEST(with_ctx->schema().name == "a");
    // an empty context delegates nothing
    BOOST_TEST(!tools::tool_context().credential());
}

BOOST_AUTO_TEST_CASE(tool_keys)
{
    auto const id = spindle::tool_id::generate();
    tools::tool_key const by_id = id;
    BOOST_TEST(by_id.by_id());
    BOOST_TEST(by_id.id() == id);
    std::string const name = "search";
    tools::tool_key const by_name = name;
    BOOST_TEST(!by_name.by_id());
    BOOST_TEST(by_name.name() == "search");
    BOOST_TEST(tools::tool_key("x").name() == "x");
}

BOOST_AUTO_TEST_CASE(an_empty_context_has_no_caller_no_deadline_and_no_bus)
{
    tools::tool_context const ctx;
    BOOST_TEST(ctx.tool().is_nil());
    BOOST_TEST(ctx.tool_name().empty());
    BOOST_TEST(ctx.caller().is_nil());
    BOOST_TEST(ctx.callers().empty());
    BOOST_TEST((ctx.deadline() == spindle::timer_service::time_point::max()));
    BOOST_TEST(!ctx.stop_token().stop_possible());
    auto r = ctx.try_call("anything", {});
    BOOST_TEST(r.error == tools::tool_error::bus_stopped);
    BOOST_TEST(!r);
    BOOST_CHECK_THROW(ctx.call("anything", {}), spindle::system_error);
    BOOST_CHECK_THROW(ctx.timers(), spindle::system_error);
    BOOST_CHECK_THROW(ctx.system(), spindle::system_error);
}
