//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The ready-made tools: echo, and the calculator's expression syntax,
// precedence and errors, alone and through a bus.

#include <spindle/tools/builtin_tools.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>
#include <spindle/tools/tool_bus.hpp>

#include <boost/json/parse.hpp>

#include <cmath>
#include <numbers>
#include <string>

namespace json = boost::json;
namespace tools = spindle::tools;

BOOST_AUTO_TEST_CASE(echo_returns_its_parameters)
{
    auto echo = tools::make_echo_tool();
    BOOST_TEST(echo->schema().name == "echo");
    json::value const p = {{"message", "hi"}, {"n", 3}};
    BOOST_TEST(echo->execute(p, {}).value() == p);
}

BOOST_AUTO_TEST_CASE(the_calculator_evaluates_with_the_usual_precedence)
{
    struct
    {
        char const* expr;
        double want;
    } const cases[] = {
        {"1+2*3", 7},           {"(1+2)*3", 9},        {"-2^2", -4},          {"2^3^2", 512},
        {"2^-1", 0.5},          {"10 % 4", 2},         {"1e3/4", 250},        {" 7 - 2 - 1 ", 4},
        {"sqrt(16)+abs(-2)", 6}, {"min(3, 4)", 3},     {"max(3,pow(2,3))", 8}, {"floor(2.7)+ceil(2.1)", 5},
        {"round(2.5)", 3},      {"ln(e)", 1},          {"log10(1000)", 3},    {"--3", 3},
        {".5+.5", 1},           {"atan2(0, 1)", 0},
    };
    for(auto const& c : cases)
    {
        boost::system::error_code ec;
        double const v = tools::evaluate_expression(c.expr, ec);
        BOOST_TEST(!ec, c.expr);
        BOOST_TEST(v == c.want, c.expr << " = " << v);
    }
    boost::system::error_code ec;
    BOOST_TEST(std::abs(tools::evaluate_expression("2*pi", ec) - 2 * std::numbers::pi) < 1e-12);
}

BOOST_AUTO_TEST_CASE(the_calculator_says_what_is_wrong_and_where)
{
    struct
    {
        char const* expr;
        char const* why;
    } const cases[] = {
        {"1/0", "division by zero at offset 1"},
        {"2+", "unexpected end of the expression"},
        {"(1", "expected ')' but found at the end"},
        {"1 2", "unexpected '2' at offset 2"},
        {"foo(1)", "unknown function 'foo' at offset 0"},
        {"x+1", "unknown name 'x' at offset 0"},
        {"sqrt(1,2)", "sqrt takes 1 argument, got 2"},
        {"pow(1)", "pow takes 2 arguments, got 1"},
        {"sqrt(-1)", "the result is not a finite number"},
        {"1..2", "malformed number '1..2' at offset 0"},
        {"", "unexpected end of the expression"},
    };
    for(auto const& c : cases)
    {
        boost::system::error_code ec;
        std::string why;
        tools::evaluate_expression(c.expr, ec, &why);
        BOOST_TEST(ec == tools::tool_error::invalid_params, c.expr);
        BOOST_TEST(why.find(c.why) != std::string::npos, c.expr << ": " << why);
    }
    std::string deep(100, '(');
    deep += "1";
    deep += std::string(100, ')');
    boost::system::error_code ec;
    std::string why;
    tools::evaluate_expression(deep, ec, &why);
    BOOST_TEST(why.find("deeper than 64 levels") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(the_calculator_through_a_bus)
{
    spindle::system sys(spindle_test::workers(1));
    tools::tool_bus bus(sys);
    bus.register_tool(tools::make_calculator_tool());
    auto const a = bus.add_agent();
    bus.grant(a, "calculator");
    BOOST_TEST(bus.call(a, "calculator", {{"expression", "(2 + 3) * sqrt(16)"}}) == (json::value{{"result", 20.0}}));
    auto r = bus.try_call(a, "calculator", {{"expression", "1/0"}});
    BOOST_TEST(r.error == tools::tool_error::invalid_params);
    BOOST_TEST(r.message.find("calculator: division by zero") != std::string::npos, r.message);
    r = bus.try_call(a, "calculator", {{"expression", "1"}, {"precision", 3}});
    BOOST_TEST(r.error == tools::tool_error::invalid_params);
    BOOST_TEST(r.message.find("/precision: property \"precision\" is not allowed") != std::string::npos, r.message);
    r = bus.try_call(a, "calculator", {{"expression", ""}});
    BOOST_TEST(r.message.find("/expression: must be at least 1 characters long") != std::string::npos, r.message);
}
