//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Fuzz target: JSON Schema compilation and validation, and the checks a
// tool bus applies to a tool definition and to a call's parameters
// (libs/tools). The input is one JSON document:
//   - [schema, value]: the schema is compiled (refused or not) and the value
//     validated against it;
//   - {"name":..., "parameters":..., "required":..., "returns":...}: a tool
//     definition checked as registration checks it;
//   - anything: validated as call parameters against fixed tool schemas.
// Checked: both validate() forms agree, the number of violations respects
// the bound, and a definition that check_schema accepts compiles.

#include <spindle/tools/json_schema.hpp>
#include <spindle/tools/tool_schema.hpp>

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;
namespace tools = spindle::tools;

[[noreturn]] void fail(char const* what)
{
    std::fprintf(stderr, "tool_schema: %s\n", what);
    std::abort();
}

void validate(tools::json_schema const& s, json::value const& v)
{
    std::vector<tools::schema_violation> why;
    bool const ok = s.validate(v, why, 3);
    if(ok != why.empty() || why.size() > 3)
        fail("validate() reports violations inconsistently");
    if(ok != s.validate(v))
        fail("the two validate() forms disagree");
    if(!ok && tools::to_string(why).empty())
        fail("a violation without a description");
}

tools::json_schema const& params_schema()
{
    static tools::json_schema const s(json::parse(R"({
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": "^[A-Za-z .'-]+$"},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "unit": {"enum": ["celsius", "fahrenheit", 1, null]},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "tags": {"type": "array", "items": {"type": "string", "pattern": "(a|b)*c"}, "maxItems": 4},
            "where": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                      "required": ["lat", "lon"], "additionalProperties": false},
            "exact": {"const": {"a": [1, 2.0, "x"]}}
        },
        "required": ["city"],
        "additionalProperties": {"type": ["string", "boolean"]}
    })"));
    return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    boost::system::error_code ec;
    auto const jv = json::parse(std::string_view(reinterpret_cast<char const*>(data), size), ec);
    if(ec)
        return 0;

    validate(params_schema(), jv);

    if(jv.is_array() && jv.get_array().size() == 2)
    {
        std::string why;
        auto const s = tools::json_schema::compile(jv.get_array()[0], ec, &why);
        if(ec && why.empty())
            fail("a refused schema without a reason");
        if(!ec)
        {
            validate(s, jv.get_array()[1]);
            validate(s, jv.get_array()[0]);
        }
    }

    if(jv.is_object())
    {
        auto const& o = jv.get_object();
        tools::tool_schema t;
        if(auto const* n = o.if_contains("name"); n && n->is_string())
            t.name = n->get_string();
        if(auto const* p = o.if_contains("parameters"); p && p->is_object())
            t.parameters = p->get_object();
        if(auto const* r = o.if_contains("required"); r && r->is_array())
            for(auto const& e : r->get_array())
                if(e.is_string())
                    t.required.emplace_back(e.get_string());
        if(auto const* r = o.if_contains("returns"))
            t.returns = *r;
        std::string why;
        tools::check_schema(t, ec, &why);
        if(!ec)
        {
            auto const effective = tools::effective_parameters(t);
            auto const compiled = tools::json_schema::compile(effective, ec, &why);
            if(ec)
                fail("check_schema accepted a definition whose parameters do not compile");
            (void)tools::to_function_spec(t);
            if(auto const* args = o.if_contains("arguments"))
                validate(compiled, *args);
        }
    }
    return 0;
}
