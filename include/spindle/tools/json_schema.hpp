//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_JSON_SCHEMA_HPP
#define SPINDLE_TOOLS_JSON_SCHEMA_HPP

#include <spindle/detail/config.hpp>
#include <spindle/tools/error.hpp>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

/** @file
    A JSON Schema validator written on Boost.JSON, for the subset of JSON
    Schema that tool definitions use (no JSON Schema library for C++ is
    packaged in Debian).

    Supported keywords: `type` (a name or a list of names: `null`,
    `boolean`, `object`, `array`, `number`, `integer`, `string`),
    `properties`, `required`, `additionalProperties` (boolean or schema),
    `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`,
    `exclusiveMaximum`, `minLength`, `maxLength` (counted in Unicode code
    points), `pattern` (ECMAScript-style regular expression, searched
    anywhere in the string, as JSON Schema specifies), `items` (one schema
    for every element), `minItems`, `maxItems`, and the boolean schemas
    `true` and `false`. Schemas nest without limit other than a depth of 32.

    Annotations are accepted and ignored (`title`, `description`,
    `default`, `examples`, `format`, `$schema`, `$comment`, any keyword
    JSON Schema does not define). A schema using a validation keyword
    outside the subset (`anyOf`, `$ref`, `patternProperties`,
    `uniqueItems`, ...) is refused when compiled, so that nothing a schema
    states goes unchecked.

    Numbers compare by value whatever their representation: `1`, `1.0` and
    `1u` are equal for `enum` and `const`, and `3.0` is an `integer`.
*/

namespace spindle::tools {

namespace detail {
struct schema_node;
} // namespace detail

/** One place where a JSON value does not match a schema. */
struct schema_violation
{
    /// The JSON Pointer (RFC 6901) of the offending value: `""` for the
    /// value itself, `"/address/zip"`, `"/tags/2"`. For a missing required
    /// property, the pointer it would have.
    std::string pointer;

    /// What is wrong, e.g. `expected string, got number`.
    std::string message;
};

/** A compiled, immutable JSON Schema (see the file comment for the subset).

    Compiling checks the schema once, so a malformed one is refused up
    front with a message naming its location; validating is then a walk of
    the value that allocates nothing unless it finds a violation.

    @par Example
    @code
    spindle::tools::json_schema s(boost::json::parse(R"({
        "type": "object",
        "properties": { "city": { "type": "string", "minLength": 1 } },
        "required": ["city"] })"));
    std::vector<spindle::tools::schema_violation> why;
    if(!s.validate(boost::json::parse(R"({"city": 7})"), why))
        std::cout << why[0].pointer << ": " << why[0].message; // "/city: expected string, got integer"
    @endcode

    @par Thread safety
    Copies share the compiled schema, which is immutable: any number of
    threads and fibers may validate with one schema at once.
*/
class SPINDLE_DECL json_schema
{
    std::shared_ptr<detail::schema_node const> root_;
    boost::json::value source_;

public:
    /// The most violations @ref validate reports by default.
    static constexpr std::size_t default_max_violations = 16;

    /** Constructs the empty schema, which accepts every value. */
    json_schema();

    /** Compiles `schema`.

        @param schema The schema: a JSON object or a boolean.
        @throws spindle::system_error with `tool_error::invalid_schema` and
        a message naming the JSON Pointer of the bad keyword, e.g.
        `/properties/age/minimum: must be a number`.
        @throws std::bad_alloc if memory runs out.
    */
    explicit json_schema(boost::json::value const& schema);

    /** Compiles `schema`, reporting a malformed one through `ec`.

        @param schema The schema.
        @param ec Set to `tool_error::invalid_schema`, or cleared.
        @param why If not null, receives the reason on error (a JSON Pointer
        into the schema and what is wrong there).
        @return The compiled schema; on error, the empty schema.
        @throws std::bad_alloc if memory runs out.
    */
    static json_schema compile(boost::json::value const& schema, boost::system::error_code& ec,
                               std::string* why = nullptr);

    /** Tells whether `v` matches the schema.

        @param v The value.
        @return True if it matches.
        @throws std::bad_alloc if memory runs out.
    */
    bool validate(boost::json::value const& v) const;

    /** Tells whether `v` matches the schema, and where it does not.

        @param v The value.
        @param out Receives the violations found (appended), in document
        order, at most `max_violations` of them.
        @param max_violations Stop after this many (at least 1).
        @return True if `v` matches (nothing was appended).
        @throws std::bad_alloc if memory runs out.
    */
    bool validate(boost::json::value const& v, std::vector<schema_violation>& out,
                  std::size_t max_violations = default_max_violations) const;

    /** Returns the schema as it was given.

        @return The JSON source (null for the empty schema).
    */
    boost::json::value const& source() const noexcept { return source_; }
};

/** Joins violations into one line, as the bus puts them in its messages:
    `/city: expected string, got integer; /zip: required property "zip" is missing`.

    @param v The violations.
    @return The text; the pointer `""` is written as `(root)`.
    @throws std::bad_alloc if memory runs out.
*/
SPINDLE_DECL std::string to_string(std::vector<schema_violation> const& v);

} // namespace spindle::tools

#endif
