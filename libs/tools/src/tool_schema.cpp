//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/tools/tool_schema.hpp>

#include <spindle/tools/json_schema.hpp>

#include <algorithm>

namespace spindle::tools {

namespace json = boost::json;

bool is_valid_tool_name(std::string_view name) noexcept
{
    if(name.empty() || name.size() > 64)
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

json::object effective_parameters(tool_schema const& s)
{
    json::object p = s.parameters;
    if(!p.contains("type"))
        p["type"] = "object";
    if(!p.contains("properties"))
        p["properties"] = json::object();
    if(!s.required.empty())
    {
        json::value& r = p["required"];
        if(!r.is_array())
            r = json::array(); // a malformed `required` is reported by check_schema, not here
        json::array& a = r.get_array();
        for(auto const& name : s.required)
            if(std::find(a.begin(), a.end(), json::value(name)) == a.end())
                a.emplace_back(name);
    }
    return p;
}

json::object to_function_spec(tool_schema const& s)
{
    json::object o;
    o["name"] = s.name;
    o["description"] = s.description;
    o["parameters"] = effective_parameters(s);
    return o;
}

void check_schema(tool_schema const& s, boost::system::error_code& ec, std::string* why)
{
    auto fail = [&](std::string msg) {
        ec = tool_error::invalid_schema;
        if(why)
            *why = std::move(msg);
    };
    if(!is_valid_tool_name(s.name))
        return fail("name \"" + s.name + "\": must be 1 to 64 of A-Z a-z 0-9 _ -");
    if(auto const* r = s.parameters.if_contains("required"); r && !r->is_array())
        return fail("parameters/required: must be an array of property names");
    if(auto const* t = s.parameters.if_contains("type"); t && !(t->is_string() && t->get_string() == "object"))
        return fail("parameters/type: the parameters of a tool are an object (\"type\": \"object\")");
    std::string w;
    json_schema::compile(effective_parameters(s), ec, &w);
    if(ec)
        return fail("parameters" + (w.rfind("(root)", 0) == 0 ? w.substr(6) : w));
    if(!s.returns.is_null())
    {
        json_schema::compile(s.returns, ec, &w);
        if(ec)
            return fail("returns" + (w.rfind("(root)", 0) == 0 ? w.substr(6) : w));
    }
    ec = {};
}

} // namespace spindle::tools
