//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Tool schemas: valid names, the parameters schema calls are checked
// against, the function-calling shape, and the checks registration makes.

#include <spindle/tools/tool_schema.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>

#include <string>

namespace json = boost::json;
namespace tools = spindle::tools;

BOOST_AUTO_TEST_CASE(tool_names)
{
    BOOST_TEST(tools::is_valid_tool_name("search"));
    BOOST_TEST(tools::is_valid_tool_name("get_weather-v2"));
    BOOST_TEST(tools::is_valid_tool_name(std::string(64, 'a')));
    BOOST_TEST(!tools::is_valid_tool_name(std::string(65, 'a')));
    BOOST_TEST(!tools::is_valid_tool_name(""));
    BOOST_TEST(!tools::is_valid_tool_name("has space"));
    BOOST_TEST(!tools::is_valid_tool_name("dotted.name"));
    BOOST_TEST(!tools::is_valid_tool_name("caf\xc3\xa9"));
}

BOOST_AUTO_TEST_CASE(effective_parameters_merge_required_and_default_to_an_object)
{
    tools::tool_schema s;
    s.name = "t";
    BOOST_TEST(tools::effective_parameters(s) == json::parse(R"({"type":"object","properties":{}})"));

    s.parameters = json::parse(R"({"properties":{"a":{},"b":{}},"required":["a"]})").as_object();
    s.required = {"b", "a"};
    BOOST_TEST(tools::effective_parameters(s) ==
               json::parse(R"({"type":"object","properties":{"a":{},"b":{}},"required":["a","b"]})"));

    s.description = "does t";
    BOOST_TEST(tools::to_function_spec(s) == json::parse(R"({"name":"t","description":"does t",
        "parameters":{"type":"object","properties":{"a":{},"b":{}},"required":["a","b"]}})"));
}

BOOST_AUTO_TEST_CASE(check_schema_names_what_is_wrong)
{
    struct
    {
        char const* name;
        char const* parameters;
        char const* returns;
        char const* why; ///< null: valid
    } const cases[] = {
        {"ok", R"({"properties":{"n":{"type":"integer"}}})", "null", nullptr},
        {"ok", R"({})", R"({"type":"string"})", nullptr},
        {"bad name", R"({})", "null", "name \"bad name\": must be 1 to 64 of"},
        {"t", R"({"type":"array"})", "null", "parameters/type: the parameters of a tool are an object"},
        {"t", R"({"required":"a"})", "null", "parameters/required: must be an array"},
        {"t", R"({"properties":{"n":{"maxLength":-2}}})", "null", "parameters/properties/n/maxLength: must be a non-negative integer"},
        {"t", R"({})", R"({"type":7})", "returns/type: must be a type name"},
        {"t", R"({})", R"(12)", "returns: a schema must be an object or a boolean"},
    };
    for(auto const& c : cases)
    {
        BOOST_TEST_CONTEXT(c.name << " " << c.parameters << " " << c.returns)
        {
            tools::tool_schema s;
            s.name = c.name;
            s.parameters = json::parse(c.parameters).as_object();
            s.returns = json::parse(c.returns);
            boost::system::error_code ec;
            std::string why;
            tools::check_schema(s, ec, &why);
            if(c.why)
            {
                BOOST_TEST(ec == tools::tool_error::invalid_schema);
                BOOST_TEST(why.rfind(c.why, 0) == 0u, why);
            }
            else
                BOOST_TEST(!ec, why);
        }
    }
}
