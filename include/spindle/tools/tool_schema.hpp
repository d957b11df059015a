//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_TOOL_SCHEMA_HPP
#define SPINDLE_TOOLS_TOOL_SCHEMA_HPP

#include <spindle/detail/config.hpp>
#include <spindle/tools/error.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace spindle::tools {

/** What a tool tells its callers (and a language model) about itself: the
    shape function-calling APIs take, plus the schema of its result.

    @par Example
    @code
    spindle::tools::tool_schema s;
    s.name = "weather";
    s.description = "Current weather in a city";
    s.parameters = boost::json::parse(R"({
        "type": "object",
        "properties": { "city": { "type": "string", "minLength": 1 } } })").as_object();
    s.required = {"city"};
    @endcode
*/
struct tool_schema
{
    /// The tool's name: 1 to 64 of `A-Z a-z 0-9 _ -` (what function-calling
    /// APIs accept); unique within a bus.
    std::string name;

    /// What the tool does, for the model that chooses tools.
    std::string description;

    /** The JSON Schema of the parameters: an object schema (`"type":
        "object"`, or no `type`, which is taken as `"object"`). Empty: the
        tool takes an empty object. See `<spindle/tools/json_schema.hpp>`
        for the keywords checked.
    */
    boost::json::object parameters;

    /// Names of required parameters, added to `parameters`' own `required`.
    std::vector<std::string> required;

    /// The JSON Schema of the result; null (the default): not checked.
    boost::json::value returns;
};

/** Tells whether `name` is a valid tool name: 1 to 64 characters, each of
    `A-Z`, `a-z`, `0-9`, `_` or `-`.

    @param name The name.
    @return True if valid.
*/
SPINDLE_DECL bool is_valid_tool_name(std::string_view name) noexcept;

/** Returns the parameters schema a call is validated against: `parameters`
    with `"type": "object"` added when absent and `required` merged into its
    own `required` (no duplicates, `parameters`' entries first).

    @param s The schema.
    @return The effective parameters schema.
    @throws std::bad_alloc if memory runs out.
*/
SPINDLE_DECL boost::json::object effective_parameters(tool_schema const& s);

/** Returns the tool in the shape function-calling APIs take:
    `{"name": ..., "description": ..., "parameters": <effective_parameters>}`.

    @param s The schema.
    @return The JSON object.
    @throws std::bad_alloc if memory runs out.
*/
SPINDLE_DECL boost::json::object to_function_spec(tool_schema const& s);

/** Checks a schema the way registration does: a valid name, an object
    parameters schema, and well-formed `parameters` and `returns` schemas.

    @param s The schema.
    @param ec Set to `tool_error::invalid_schema`, or cleared.
    @param why If not null, receives what is wrong, e.g.
    `parameters/properties/n/minimum: must be a number`.
    @throws std::bad_alloc if memory runs out.
*/
SPINDLE_DECL void check_schema(tool_schema const& s, boost::system::error_code& ec, std::string* why = nullptr);

} // namespace spindle::tools

#endif
