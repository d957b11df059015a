//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The JSON Schema subset of tool definitions: a table of values each
// keyword accepts and rejects, with the JSON Pointer every violation
// names, and a table of malformed schemas refused when compiled.

#include <spindle/tools/json_schema.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>

#include <string>
#include <vector>

namespace json = boost::json;
namespace tools = spindle::tools;

namespace {

struct validation_case
{
    char const* schema;
    char const* value;
    char const* pointer; ///< null: the value is valid
    char const* message; ///< a part of the violation's message
};

// clang-format off
validation_case const cases[] = {
    // type
    {R"({"type":"string"})", R"("a")", nullptr, nullptr},
    {R"({"type":"string"})", R"(1)", "", "expected string, got integer"},
    {R"({"type":"integer"})", R"(3)", nullptr, nullptr},
    {R"({"type":"integer"})", R"(3.0)", nullptr, nullptr},
    {R"({"type":"integer"})", R"(18446744073709551615)", nullptr, nullptr},
    {R"({"type":"integer"})", R"(3.5)", "", "expected integer, got number"},
    {R"({"type":"number"})", R"(3)", nullptr, nullptr},
    {R"({"type":"number"})", R"("3")", "", "expected number, got string"},
    {R"({"type":"boolean"})", R"(false)", nullptr, nullptr},
    {R"({"type":"null"})", R"(null)", nullptr, nullptr},
    {R"({"type":"null"})", R"(0)", "", "expected null, got integer"},
    {R"({"type":["string","null"]})", R"(null)", nullptr, nullptr},
    {R"({"type":["string","null"]})", R"({})", "", "expected one of null, string, got object"},
    {R"({"type":"array"})", R"({})", "", "expected array, got object"},
    {R"({"type":"object"})", R"([])", "", "expected object, got array"},
    // boolean schemas
    {R"(true)", R"({"anything":[1,2]})", nullptr, nullptr},
    {R"(false)", R"(1)", "", "no value is allowed here"},
    // properties, required, nested objects
    {R"({"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"integer"}},"required":["b"]}}})",
     R"({"a":{"b":1}})", nullptr, nullptr},
    {R"({"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"integer"}},"required":["b"]}}})",
     R"({"a":{"b":"x"}})", "/a/b", "expected integer, got string"},
    {R"({"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"integer"}},"required":["b"]}}})",
     R"({"a":{}})", "/a/b", "required property \"b\" is missing"},
    {R"({"required":["x"]})", R"({"y":1})", "/x", "required property \"x\" is missing"},
    {R"({"required":["x"]})", R"("not an object")", nullptr, nullptr},
    // pointer escaping (RFC 6901)
    {R"({"properties":{"a/b~c":{"type":"string"}}})", R"({"a/b~c":1})", "/a~1b~0c", "expected string"},
    // additionalProperties
    {R"({"properties":{"a":{}},"additionalProperties":false})", R"({"a":1})", nullptr, nullptr},
    {R"({"properties":{"a":{}},"additionalProperties":false})", R"({"a":1,"b":2})", "/b",
     "property \"b\" is not allowed"},
    {R"({"additionalProperties":{"type":"integer"}})", R"({"a":1,"b":"2"})", "/b", "expected integer"},
    {R"({"additionalProperties":true})", R"({"a":1})", nullptr, nullptr},
    // enum and const: numbers by value, objects regardless of order
    {R"({"enum":["red","green"]})", R"("green")", nullptr, nullptr},
    {R"({"enum":["red","green"]})", R"("blue")", "", "must be one of [\"red\",\"green\"], got \"blue\""},
    {R"({"enum":[1,{"a":1,"b":2}]})", R"(1.0)", nullptr, nullptr},
    {R"({"enum":[1,{"a":1,"b":2}]})", R"({"b":2,"a":1})", nullptr, nullptr},
    {R"({"enum":[1,{"a":1,"b":2}]})", R"({"a":1})", "", "must be one of"},
    {R"({"const":5})", R"(5.0)", nullptr, nullptr},
    {R"({"const":5})", R"(6)", "", "must be 5, got 6"},
    {R"({"const":null})", R"(false)", "", "must be null"},
    // minimum, maximum, exclusive bounds, across representations
    {R"({"minimum":0,"maximum":10})", R"(0)", nullptr, nullptr},
    {R"({"minimum":0,"maximum":10})", R"(10.0)", nullptr, nullptr},
    {R"({"minimum":0,"maximum":10})", R"(-1)", "", "must be >= 0, got -1"},
    {R"({"minimum":0,"maximum":10})", R"(10.5)", "", "must be <= 10, got 10.5"},
    {R"({"minimum":0})", R"(18446744073709551615)", nullptr, nullptr},
    {R"({"maximum":-1})", R"(18446744073709551615)", "", "must be <= -1"},
    {R"({"exclusiveMinimum":0})", R"(0)", "", "must be > 0, got 0"},
    {R"({"exclusiveMinimum":0})", R"(0.001)", nullptr, nullptr},
    {R"({"exclusiveMaximum":1.5})", R"(1)", nullptr, nullptr},
    {R"({"exclusiveMaximum":1.5})", R"(2)", "", "must be < 1.5, got 2"},
    {R"({"minimum":5})", R"("text")", nullptr, nullptr},
    // minLength, maxLength: Unicode code points, not bytes
    {R"({"minLength":2,"maxLength":3})", R"("ab")", nullptr, nullptr},
    {R"({"minLength":2,"maxLength":3})", R"("a")", "", "must be at least 2 characters long, got 1"},
    {R"({"minLength":2,"maxLength":3})", R"("abcd")", "", "must be at most 3 characters long, got 4"},
    {R"({"maxLength":3})", "\"\xc3\xa9t\xc3\xa9\"", nullptr, nullptr},
    // pattern: searched anywhere, unless anchored
    {R"({"pattern":"[0-9]+"})", R"("abc123")", nullptr, nullptr},
    {R"({"pattern":"^[0-9]+$"})", R"("abc123")", "", "does not match the pattern \"^[0-9]+$\""},
    {R"({"pattern":"^[a-z]{2}-[A-Z]{2}$"})", R"("en-GB")", nullptr, nullptr},
    // items, minItems, maxItems
    {R"({"items":{"type":"integer"},"minItems":1,"maxItems":3})", R"([1,2])", nullptr, nullptr},
    {R"({"items":{"type":"integer"},"minItems":1,"maxItems":3})", R"([1,"2",3])", "/1", "expected integer, got string"},
    {R"({"items":{"type":"integer"},"minItems":1,"maxItems":3})", R"([])", "", "must have at least 1 items, got 0"},
    {R"({"items":{"type":"integer"},"minItems":1,"maxItems":3})", R"([1,2,3,4])", "", "must have at most 3 items, got 4"},
    {R"({"items":{"properties":{"id":{"type":"string"}}}})", R"([{"id":"a"},{"id":2}])", "/1/id", "expected string"},
    // annotations are ignored
    {R"({"title":"T","description":"D","default":3,"format":"email","examples":[1],"x-vendor":true})", R"(5)", nullptr, nullptr},
};
// clang-format on

struct malformed_case
{
    char const* schema;
    char const* why; ///< the start of the reason
};

// clang-format off
malformed_case const malformed[] = {
    {R"(3)", "(root): a schema must be an object or a boolean, got integer"},
    {R"({"type":"text"})", "/type: unknown type \"text\""},
    {R"({"type":[]})", "/type: must be a type name or a non-empty array"},
    {R"({"type":["string","string"]})", "/type: type \"string\" listed twice"},
    {R"({"properties":[]})", "/properties: must be an object"},
    {R"({"properties":{"a":{"type":1}}})", "/properties/a/type: must be a type name"},
    {R"({"properties":{"a/b":{"minimum":"x"}}})", "/properties/a~1b/minimum: must be a number"},
    {R"({"required":"a"})", "/required: must be an array of property names"},
    {R"({"required":["a","a"]})", "/required: property \"a\" listed twice"},
    {R"({"required":["b"],"properties":{"a":{}},"additionalProperties":false})", "/required: property \"b\" can never be given"},
    {R"({"additionalProperties":3})", "/additionalProperties: a schema must be an object or a boolean"},
    {R"({"enum":[]})", "/enum: must be a non-empty array"},
    {R"({"minimum":true})", "/minimum: must be a number (the draft-04 boolean form"},
    {R"({"exclusiveMaximum":"1"})", "/exclusiveMaximum: must be a number"},
    {R"({"minLength":-1})", "/minLength: must be a non-negative integer"},
    {R"({"maxItems":1.5})", "/maxItems: must be a non-negative integer"},
    {R"({"minLength":3,"maxLength":2})", "/minLength: is greater than maxLength"},
    {R"({"minimum":3,"maximum":2})", "/minimum: is greater than maximum"},
    {R"({"pattern":"(unclosed"})", "/pattern: invalid regular expression"},
    {R"({"pattern":5})", "/pattern: must be a string"},
    {R"({"items":[{"type":"string"}]})", "/items: the array form"},
    {R"({"items":{"items":{"type":"nope"}}})", "/items/items/type: unknown type"},
    {R"({"anyOf":[{"type":"string"}]})", "/anyOf: keyword not supported"},
    {R"({"properties":{"a":{"$ref":"#/x"}}})", "/properties/a/$ref: keyword not supported"},
    {R"({"uniqueItems":true})", "/uniqueItems: keyword not supported"},
};
// clang-format on

} // namespace

BOOST_AUTO_TEST_CASE(a_table_of_values_accepted_and_rejected)
{
    for(auto const& c : cases)
    {
        BOOST_TEST_CONTEXT("schema " << c.schema << ", value " << c.value)
        {
            tools::json_schema const s(json::parse(c.schema));
            json::value const v = json::parse(c.value);
            std::vector<tools::schema_violation> why;
            bool const ok = s.validate(v, why);
            BOOST_TEST(ok == (c.pointer == nullptr));
            BOOST_TEST(s.validate(v) == ok, "the bool-only form agrees");
            if(c.pointer)
            {
                BOOST_TEST_REQUIRE(why.size() == 1u);
                BOOST_TEST(why[0].pointer == c.pointer);
                BOOST_TEST(why[0].message.find(c.message) != std::string::npos, why[0].message);
            }
            else
                BOOST_TEST(why.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(every_violation_is_reported_in_document_order_up_to_the_limit)
{
    tools::json_schema const s(json::parse(R"({
        "type": "object",
        "properties": {
            "name": { "type": "string" },
            "age": { "type": "integer", "minimum": 0 },
            "tags": { "type": "array", "items": { "type": "string" } },
            "email": { "type": "string" }
        },
        "required": ["name", "email"],
        "additionalProperties": false
    })"));
    json::value const v = json::parse(R"({"name": 1, "age": -3, "tags": ["a", 2, 3], "extra": true})");
    std::vector<tools::schema_violation> why;
    BOOST_TEST(!s.validate(v, why));
    std::vector<std::string> pointers;
    for(auto const& w : why)
        pointers.push_back(w.pointer);
    std::vector<std::string> const want = {"/email", "/name", "/age", "/tags/1", "/tags/2", "/extra"};
    BOOST_TEST(pointers == want, boost::test_tools::per_element());
    BOOST_TEST(tools::to_string(why).find("/email: required property \"email\" is missing; /name: expected string") == 0u,
               tools::to_string(why));

    why.clear();
    BOOST_TEST(!s.validate(v, why, 2));
    BOOST_TEST(why.size() == 2u);
}

BOOST_AUTO_TEST_CASE(malformed_schemas_are_refused_naming_the_place)
{
    for(auto const& c : malformed)
    {
        BOOST_TEST_CONTEXT("schema " << c.schema)
        {
            boost::system::error_code ec;
            std::string why;
            tools::json_schema::compile(json::parse(c.schema), ec, &why);
            BOOST_TEST(ec == tools::tool_error::invalid_schema);
            BOOST_TEST(why.rfind(c.why, 0) == 0u, why);
            BOOST_CHECK_THROW(tools::json_schema(json::parse(c.schema)), spindle::system_error);
        }
    }
}

BOOST_AUTO_TEST_CASE(schemas_nest_up_to_a_limit)
{
    // built in memory: Boost.JSON's parser stops at 32 levels itself
    json::value deep = true;
    for(int i = 0; i < 33; ++i)
        deep = json::object{{"items", std::move(deep)}};
    boost::system::error_code ec;
    std::string why;
    tools::json_schema::compile(deep, ec, &why);
    BOOST_TEST(ec == tools::tool_error::invalid_schema);
    BOOST_TEST(why.find("deeper than 32 levels") != std::string::npos, why);

    std::string ok = R"({"type":"integer"})";
    for(int i = 0; i < 20; ++i)
        ok = R"({"items":)" + ok + "}";
    tools::json_schema const s(json::parse(ok));
    std::string v = "1";
    for(int i = 0; i < 20; ++i)
        v = "[" + v + "]";
    BOOST_TEST(s.validate(json::parse(v)));
}

BOOST_AUTO_TEST_CASE(the_empty_schema_accepts_everything_and_keeps_its_source)
{
    tools::json_schema const s;
    BOOST_TEST(s.validate(json::parse(R"([1,"a",{"b":null}])")));
    BOOST_TEST(s.source().is_null());
    tools::json_schema const t(json::parse(R"({"type":"string"})"));
    BOOST_TEST(t.source() == json::parse(R"({"type":"string"})"));
}
