//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The JSON Schema subset of tool definitions: compiled once into a tree of
// nodes holding only the keywords that check something, then walked per
// value. The walk keeps the path as a chain of stack frames and turns it
// into a JSON Pointer only when it reports a violation, so a valid value
// costs no allocation.

#include <spindle/tools/json_schema.hpp>

#include <spindle/error.hpp>

#include <boost/json/serialize.hpp>
#include <boost/regex.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace spindle::tools {

namespace detail {

namespace {

enum type_bit : unsigned
{
    t_null = 1,
    t_boolean = 2,
    t_object = 4,
    t_array = 8,
    t_number = 16,
    t_integer = 32,
    t_string = 64
};

constexpr int max_schema_depth = 32;

} // namespace

struct schema_node
{
    bool reject_all = false; // the schema `false`
    unsigned types = 0;      // 0: any type

    std::optional<boost::json::value> minimum, maximum, exclusive_minimum, exclusive_maximum;

    std::optional<std::uint64_t> min_length, max_length;
    std::shared_ptr<boost::regex const> pattern;
    std::string pattern_text;

    std::unique_ptr<schema_node> items;
    std::optional<std::uint64_t> min_items, max_items;

    // sorted by name, for binary search
    std::vector<std::pair<std::string, std::unique_ptr<schema_node>>> properties;
    std::vector<std::string> required;
    enum class additional : std::uint8_t
    {
        allow,
        deny,
        schema
    } additional_kind = additional::allow;
    std::unique_ptr<schema_node> additional_schema;

    std::optional<std::vector<boost::json::value>> enum_values;
    std::optional<boost::json::value> const_value;

    schema_node const* find_property(std::string_view name) const noexcept
    {
        auto it = std::lower_bound(properties.begin(), properties.end(), name,
                                   [](auto const& p, std::string_view n) { return std::string_view(p.first) < n; });
        if(it != properties.end() && it->first == name)
            return it->second.get();
        return nullptr;
    }
};

} // namespace detail

namespace {

using detail::schema_node;
namespace json = boost::json;

//------------------------------------------------------------------------------
// numbers and equality

bool is_number(json::value const& v) noexcept
{
    return v.is_int64() || v.is_uint64() || v.is_double();
}

std::partial_ordering compare_int_double(std::int64_t i, double d) noexcept
{
    if(d != d)
        return std::partial_ordering::unordered;
    if(d >= 9223372036854775808.0)
        return std::partial_ordering::less;
    if(d < -9223372036854775808.0)
        return std::partial_ordering::greater;
    double const f = std::floor(d);
    auto const fi = static_cast<std::int64_t>(f);
    if(i < fi)
        return std::partial_ordering::less;
    if(i > fi)
        return std::partial_ordering::greater;
    return d > f ? std::partial_ordering::less : std::partial_ordering::equivalent;
}

std::partial_ordering compare_uint_double(std::uint64_t u, double d) noexcept
{
    if(d != d)
        return std::partial_ordering::unordered;
    if(d >= 18446744073709551616.0)
        return std::partial_ordering::less;
    if(d < 0)
        return std::partial_ordering::greater;
    double const f = std::floor(d);
    auto const fu = static_cast<std::uint64_t>(f);
    if(u < fu)
        return std::partial_ordering::less;
    if(u > fu)
        return std::partial_ordering::greater;
    return d > f ? std::partial_ordering::less : std::partial_ordering::equivalent;
}

std::partial_ordering reverse(std::partial_ordering o) noexcept
{
    if(o == std::partial_ordering::less)
        return std::partial_ordering::greater;
    if(o == std::partial_ordering::greater)
        return std::partial_ordering::less;
    return o;
}

/// Compares two JSON numbers by value, exactly for every pair of kinds.
std::partial_ordering compare_numbers(json::value const& a, json::value const& b) noexcept
{
    switch(a.kind())
    {
    case json::kind::int64:
        switch(b.kind())
        {
        case json::kind::int64: return a.get_int64() <=> b.get_int64();
        case json::kind::uint64:
            if(a.get_int64() < 0)
                return std::partial_ordering::less;
            return static_cast<std::uint64_t>(a.get_int64()) <=> b.get_uint64();
        default: return compare_int_double(a.get_int64(), b.get_double());
        }
    case json::kind::uint64:
        switch(b.kind())
        {
        case json::kind::int64: return reverse(compare_numbers(b, a));
        case json::kind::uint64: return a.get_uint64() <=> b.get_uint64();
        default: return compare_uint_double(a.get_uint64(), b.get_double());
        }
    default:
        switch(b.kind())
        {
        case json::kind::int64: return reverse(compare_int_double(b.get_int64(), a.get_double()));
        case json::kind::uint64: return reverse(compare_uint_double(b.get_uint64(), a.get_double()));
        default: return a.get_double() <=> b.get_double();
        }
    }
}

/// JSON equality as JSON Schema defines it: numbers by value, objects
/// regardless of member order.
bool json_equal(json::value const& a, json::value const& b) noexcept
{
    if(is_number(a) && is_number(b))
        return compare_numbers(a, b) == std::partial_ordering::equivalent;
    if(a.kind() != b.kind())
        return false;
    switch(a.kind())
    {
    case json::kind::null: return true;
    case json::kind::bool_: return a.get_bool() == b.get_bool();
    case json::kind::string: return a.get_string() == b.get_string();
    case json::kind::array:
    {
        auto const& x = a.get_array();
        auto const& y = b.get_array();
        if(x.size() != y.size())
            return false;
        for(std::size_t i = 0; i < x.size(); ++i)
            if(!json_equal(x[i], y[i]))
                return false;
        return true;
    }
    case json::kind::object:
    {
        auto const& x = a.get_object();
        auto const& y = b.get_object();
        if(x.size() != y.size())
            return false;
        for(auto const& m : x)
        {
            auto const* o = y.if_contains(m.key());
            if(!o || !json_equal(m.value(), *o))
                return false;
        }
        return true;
    }
    default: return false;
    }
}

bool is_integral(json::value const& v) noexcept
{
    if(v.is_int64() || v.is_uint64())
        return true;
    if(v.is_double())
    {
        double const d = v.get_double();
        return std::isfinite(d) && std::floor(d) == d;
    }
    return false;
}

unsigned type_bits_of(json::value const& v) noexcept
{
    switch(v.kind())
    {
    case json::kind::null: return detail::t_null;
    case json::kind::bool_: return detail::t_boolean;
    case json::kind::object: return detail::t_object;
    case json::kind::array: return detail::t_array;
    case json::kind::string: return detail::t_string;
    case json::kind::int64:
    case json::kind::uint64: return detail::t_number | detail::t_integer;
    case json::kind::double_: return is_integral(v) ? (detail::t_number | detail::t_integer) : detail::t_number;
    }
    return 0;
}

char const* kind_name(json::value const& v) noexcept
{
    switch(v.kind())
    {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::object: return "object";
    case json::kind::array: return "array";
    case json::kind::string: return "string";
    case json::kind::int64:
    case json::kind::uint64: return "integer";
    case json::kind::double_: return "number";
    }
    return "value";
}

struct type_name
{
    std::string_view name;
    unsigned bit;
};

constexpr type_name type_names[] = {
    {"null", detail::t_null},         {"boolean", detail::t_boolean}, {"object", detail::t_object},
    {"array", detail::t_array},       {"number", detail::t_number},   {"integer", detail::t_integer},
    {"string", detail::t_string},
};

std::string describe_types(unsigned bits)
{
    std::string s;
    int n = 0;
    for(auto const& t : type_names)
        if(bits & t.bit)
        {
            if(n++)
                s += ", ";
            s += t.name;
        }
    if(n > 1)
        return "one of " + s;
    return s;
}

std::size_t code_points(std::string_view s) noexcept
{
    std::size_t n = 0;
    for(unsigned char c : s)
        n += (c & 0xC0) != 0x80;
    return n;
}

/// A number as a person writes it: `10.5`, not Boost.JSON's `1.05E1`.
std::string format_double(double d)
{
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}

std::string short_json(json::value const& v)
{
    if(v.is_double())
        return format_double(v.get_double());
    std::string s = json::serialize(v);
    if(s.size() > 200)
    {
        s.resize(197);
        s += "...";
    }
    return s;
}

void append_pointer_token(std::string& out, std::string_view token)
{
    out += '/';
    for(char c : token)
    {
        if(c == '~')
            out += "~0";
        else if(c == '/')
            out += "~1";
        else
            out += c;
    }
}

//------------------------------------------------------------------------------
// compiling

char const* const unsupported_keywords[] = {
    "allOf",           "anyOf",          "oneOf",           "not",
    "if",              "then",           "else",            "$ref",
    "$dynamicRef",     "$recursiveRef",  "patternProperties", "propertyNames",
    "dependencies",    "dependentRequired", "dependentSchemas", "prefixItems",
    "additionalItems", "contains",       "minContains",     "maxContains",
    "uniqueItems",     "multipleOf",     "minProperties",   "maxProperties",
    "unevaluatedProperties", "unevaluatedItems",
};

class compiler
{
    std::string path_; // JSON Pointer into the schema
    std::string why_;

    bool fail(std::string_view keyword, std::string_view msg)
    {
        why_ = path_.empty() && keyword.empty() ? std::string("(root)") : path_;
        if(!keyword.empty())
            append_pointer_token(why_, keyword);
        why_ += ": ";
        why_ += msg;
        return false;
    }

    bool read_count(json::value const& v, std::string_view keyword, std::optional<std::uint64_t>& out)
    {
        if(v.is_uint64())
            out = v.get_uint64();
        else if(v.is_int64() && v.get_int64() >= 0)
            out = static_cast<std::uint64_t>(v.get_int64());
        else if(v.is_double() && is_integral(v) && v.get_double() >= 0 && v.get_double() < 1.8e19)
            out = static_cast<std::uint64_t>(v.get_double());
        else
            return fail(keyword, "must be a non-negative integer");
        return true;
    }

    bool read_number(json::value const& v, std::string_view keyword, std::optional<json::value>& out)
    {
        if(v.is_bool())
            return fail(keyword, "must be a number (the draft-04 boolean form is not supported)");
        if(!is_number(v) || (v.is_double() && !std::isfinite(v.get_double())))
            return fail(keyword, "must be a number");
        out = v;
        return true;
    }

    bool sub(json::value const& v, std::string_view keyword, std::string_view member, int depth,
             std::unique_ptr<schema_node>& out)
    {
        auto const saved = path_.size();
        append_pointer_token(path_, keyword);
        if(!member.empty() || keyword == "properties")
            append_pointer_token(path_, member);
        bool const ok = node(v, depth + 1, out);
        path_.resize(saved);
        return ok;
    }

public:
    std::string const& why() const noexcept { return why_; }

    bool node(json::value const& s, int depth, std::unique_ptr<schema_node>& out)
    {
        out = std::make_unique<schema_node>();
        schema_node& n = *out;
        if(depth > detail::max_schema_depth)
            return fail("", "schemas nest deeper than 32 levels");
        if(s.is_bool())
        {
            n.reject_all = !s.get_bool();
            return true;
        }
        if(!s.is_object())
            return fail("", std::string("a schema must be an object or a boolean, got ") + kind_name(s));
        auto const& o = s.get_object();
        for(auto const& m : o)
        {
            std::string_view const k = m.key();
            json::value const& v = m.value();
            if(k == "type")
            {
                if(v.is_string())
                {
                    auto it = std::find_if(std::begin(type_names), std::end(type_names),
                                           [&](type_name const& t) { return t.name == v.get_string(); });
                    if(it == std::end(type_names))
                        return fail(k, "unknown type \"" + std::string(v.get_string()) + "\"");
                    n.types = it->bit;
                }
                else if(v.is_array() && !v.get_array().empty())
                {
                    for(auto const& e : v.get_array())
                    {
                        auto it = std::find_if(std::begin(type_names), std::end(type_names), [&](type_name const& t) {
                            return e.is_string() && t.name == e.get_string();
                        });
                        if(it == std::end(type_names))
                            return fail(k, "unknown type " + short_json(e));
                        if(n.types & it->bit)
                            return fail(k, "type " + short_json(e) + " listed twice");
                        n.types |= it->bit;
                    }
                }
                else
                    return fail(k, "must be a type name or a non-empty array of type names");
            }
            else if(k == "properties")
            {
                if(!v.is_object())
                    return fail(k, "must be an object");
                for(auto const& p : v.get_object())
                {
                    std::unique_ptr<schema_node> child;
                    if(!sub(p.value(), "properties", p.key(), depth, child))
                        return false;
                    n.properties.emplace_back(std::string(p.key()), std::move(child));
                }
                std::sort(n.properties.begin(), n.properties.end(),
                          [](auto const& a, auto const& b) { return a.first < b.first; });
            }
            else if(k == "required")
            {
                if(!v.is_array())
                    return fail(k, "must be an array of property names");
                for(auto const& e : v.get_array())
                {
                    if(!e.is_string())
                        return fail(k, "must be an array of property names, found " + short_json(e));
                    std::string name(e.get_string());
                    if(std::find(n.required.begin(), n.required.end(), name) != n.required.end())
                        return fail(k, "property \"" + name + "\" listed twice");
                    n.required.push_back(std::move(name));
                }
            }
            else if(k == "additionalProperties")
            {
                if(v.is_bool())
                    n.additional_kind = v.get_bool() ? schema_node::additional::allow : schema_node::additional::deny;
                else
                {
                    if(!sub(v, k, "", depth, n.additional_schema))
                        return false;
                    n.additional_kind = schema_node::additional::schema;
                }
            }
            else if(k == "items")
            {
                if(v.is_array())
                    return fail(k, "the array form (tuple validation) is not supported: give one schema");
                if(!sub(v, k, "", depth, n.items))
                    return false;
            }
            else if(k == "enum")
            {
                if(!v.is_array() || v.get_array().empty())
                    return fail(k, "must be a non-empty array");
                n.enum_values.emplace(v.get_array().begin(), v.get_array().end());
            }
            else if(k == "const")
                n.const_value = v;
            else if(k == "minimum")
            {
                if(!read_number(v, k, n.minimum))
                    return false;
            }
            else if(k == "maximum")
            {
                if(!read_number(v, k, n.maximum))
                    return false;
            }
            else if(k == "exclusiveMinimum")
            {
                if(!read_number(v, k, n.exclusive_minimum))
                    return false;
            }
            else if(k == "exclusiveMaximum")
            {
                if(!read_number(v, k, n.exclusive_maximum))
                    return false;
            }
            else if(k == "minLength")
            {
                if(!read_count(v, k, n.min_length))
                    return false;
            }
            else if(k == "maxLength")
            {
                if(!read_count(v, k, n.max_length))
                    return false;
            }
            else if(k == "minItems")
            {
                if(!read_count(v, k, n.min_items))
                    return false;
            }
            else if(k == "maxItems")
            {
                if(!read_count(v, k, n.max_items))
                    return false;
            }
            else if(k == "pattern")
            {
                if(!v.is_string())
                    return fail(k, "must be a string");
                n.pattern_text = std::string(v.get_string());
                try
                {
                    n.pattern = std::make_shared<boost::regex const>(n.pattern_text, boost::regex::ECMAScript);
                }
                catch(boost::regex_error const& e)
                {
                    return fail(k, std::string("invalid regular expression: ") + e.what());
                }
            }
            else
            {
                for(char const* u : unsupported_keywords)
                    if(k == u)
                        return fail(k, "keyword not supported by this validator (see <spindle/tools/json_schema.hpp>)");
                // anything else is an annotation (title, description, default, format, ...)
            }
        }
        if(n.min_length && n.max_length && *n.min_length > *n.max_length)
            return fail("minLength", "is greater than maxLength");
        if(n.min_items && n.max_items && *n.min_items > *n.max_items)
            return fail("minItems", "is greater than maxItems");
        if(n.minimum && n.maximum && compare_numbers(*n.minimum, *n.maximum) == std::partial_ordering::greater)
            return fail("minimum", "is greater than maximum");
        if(n.additional_kind == schema_node::additional::deny)
            for(auto const& r : n.required)
                if(!n.find_property(r))
                    return fail("required", "property \"" + r +
                                                "\" can never be given: it is not in properties and "
                                                "additionalProperties is false");
        return true;
    }
};

//------------------------------------------------------------------------------
// validating

struct path_seg
{
    path_seg const* parent;
    std::string_view key;
    std::size_t index;
    bool is_index;
};

std::string to_pointer(path_seg const* p)
{
    std::vector<path_seg const*> segs;
    for(; p; p = p->parent)
        segs.push_back(p);
    std::string out;
    for(auto it = segs.rbegin(); it != segs.rend(); ++it)
    {
        if((*it)->is_index)
        {
            out += '/';
            out += std::to_string((*it)->index);
        }
        else
            append_pointer_token(out, (*it)->key);
    }
    return out;
}

class walker
{
    std::vector<schema_violation>* out_;
    std::size_t max_;
    std::size_t count_ = 0;

public:
    walker(std::vector<schema_violation>* out, std::size_t max) noexcept : out_(out), max_(max) {}

    bool full() const noexcept { return count_ >= max_; }
    bool ok() const noexcept { return count_ == 0; }

    template<class Msg>
    void report(path_seg const* p, Msg&& msg)
    {
        ++count_;
        if(out_)
            out_->push_back({to_pointer(p), std::forward<Msg>(msg)()});
    }

    void check(schema_node const& n, json::value const& v, path_seg const* path)
    {
        if(full())
            return;
        if(n.reject_all)
        {
            report(path, [] { return std::string("no value is allowed here (the schema is false)"); });
            return;
        }
        if(n.types && !(n.types & type_bits_of(v)))
        {
            report(path, [&] { return "expected " + describe_types(n.types) + ", got " + kind_name(v); });
            return;
        }
        if(n.enum_values)
        {
            bool found = false;
            for(auto const& e : *n.enum_values)
                if(json_equal(e, v))
                {
                    found = true;
                    break;
                }
            if(!found)
                report(path, [&] {
                    return "must be one of " + short_json(json::array(n.enum_values->begin(), n.enum_values->end())) +
                           ", got " + short_json(v);
                });
        }
        if(n.const_value && !json_equal(*n.const_value, v))
            report(path, [&] { return "must be " + short_json(*n.const_value) + ", got " + short_json(v); });

        switch(v.kind())
        {
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_: check_number(n, v, path); break;
        case json::kind::string: check_string(n, v.get_string(), path); break;
        case json::kind::array: check_array(n, v.get_array(), path); break;
        case json::kind::object: check_object(n, v.get_object(), path); break;
        default: break;
        }
    }

private:
    void check_number(schema_node const& n, json::value const& v, path_seg const* path)
    {
        auto bound = [&](std::optional<json::value> const& b, char const* op, auto bad) {
            if(!b || full())
                return;
            auto const c = compare_numbers(v, *b);
            if(c == std::partial_ordering::unordered || bad(c))
                report(path, [&] { return std::string("must be ") + op + " " + short_json(*b) + ", got " + short_json(v); });
        };
        bound(n.minimum, ">=", [](std::partial_ordering c) { return c == std::partial_ordering::less; });
        bound(n.maximum, "<=", [](std::partial_ordering c) { return c == std::partial_ordering::greater; });
        bound(n.exclusive_minimum, ">", [](std::partial_ordering c) { return c != std::partial_ordering::greater; });
        bound(n.exclusive_maximum, "<", [](std::partial_ordering c) { return c != std::partial_ordering::less; });
    }

    void check_string(schema_node const& n, json::string const& s, path_seg const* path)
    {
        std::string_view const sv(s.data(), s.size());
        if(n.min_length || n.max_length)
        {
            std::size_t const len = code_points(sv);
            if(n.min_length && len < *n.min_length)
                report(path, [&] {
                    return "must be at least " + std::to_string(*n.min_length) + " characters long, got " +
                           std::to_string(len);
                });
            if(n.max_length && len > *n.max_length)
                report(path, [&] {
                    return "must be at most " + std::to_string(*n.max_length) + " characters long, got " +
                           std::to_string(len);
                });
        }
        if(n.pattern && !full())
        {
            bool matched = false;
            bool too_complex = false;
            try
            {
                matched = boost::regex_search(sv.begin(), sv.end(), *n.pattern);
            }
            catch(std::runtime_error const&)
            {
                too_complex = true; // Boost.Regex gives up on pathological backtracking
            }
            if(too_complex)
                report(path, [&] { return "could not be matched against the pattern \"" + n.pattern_text + "\" (too complex)"; });
            else if(!matched)
                report(path, [&] { return "does not match the pattern \"" + n.pattern_text + "\""; });
        }
    }

    void check_array(schema_node const& n, json::array const& a, path_seg const* path)
    {
        if(n.min_items && a.size() < *n.min_items)
            report(path, [&] {
                return "must have at least " + std::to_string(*n.min_items) + " items, got " + std::to_string(a.size());
            });
        if(n.max_items && a.size() > *n.max_items)
            report(path, [&] {
                return "must have at most " + std::to_string(*n.max_items) + " items, got " + std::to_string(a.size());
            });
        if(n.items)
            for(std::size_t i = 0; i < a.size() && !full(); ++i)
            {
                path_seg const seg{path, {}, i, true};
                check(*n.items, a[i], &seg);
            }
    }

    void check_object(schema_node const& n, json::object const& o, path_seg const* path)
    {
        for(auto const& r : n.required)
        {
            if(full())
                return;
            if(!o.contains(r))
            {
                path_seg const seg{path, r, 0, false};
                report(&seg, [&] { return "required property \"" + r + "\" is missing"; });
            }
        }
        if(n.properties.empty() && n.additional_kind == schema_node::additional::allow)
            return;
        for(auto const& m : o)
        {
            if(full())
                return;
            std::string_view const key = m.key();
            path_seg const seg{path, key, 0, false};
            if(schema_node const* p = n.find_property(key))
                check(*p, m.value(), &seg);
            else if(n.additional_kind == schema_node::additional::deny)
                report(&seg, [&] {
                    return "property \"" + std::string(key) + "\" is not allowed (additionalProperties is false)";
                });
            else if(n.additional_kind == schema_node::additional::schema)
                check(*n.additional_schema, m.value(), &seg);
        }
    }
};

std::shared_ptr<schema_node const> const& empty_node()
{
    static auto const node = std::make_shared<schema_node const>();
    return node;
}

} // namespace

json_schema::json_schema() : root_(empty_node()) {}

json_schema::json_schema(json::value const& schema)
{
    boost::system::error_code ec;
    std::string why;
    *this = compile(schema, ec, &why);
    if(ec)
        spindle::detail::throw_error(ec, ("spindle::tools::json_schema: " + why).c_str());
}

json_schema json_schema::compile(json::value const& schema, boost::system::error_code& ec, std::string* why)
{
    compiler c;
    std::unique_ptr<schema_node> root;
    json_schema s;
    if(!c.node(schema, 0, root))
    {
        ec = tool_error::invalid_schema;
        if(why)
            *why = c.why();
        return s;
    }
    ec = {};
    s.root_ = std::shared_ptr<schema_node const>(std::move(root));
    s.source_ = schema;
    return s;
}

bool json_schema::validate(json::value const& v) const
{
    walker w(nullptr, 1);
    w.check(*root_, v, nullptr);
    return w.ok();
}

bool json_schema::validate(json::value const& v, std::vector<schema_violation>& out, std::size_t max_violations) const
{
    walker w(&out, max_violations == 0 ? 1 : max_violations);
    w.check(*root_, v, nullptr);
    return w.ok();
}

std::string to_string(std::vector<schema_violation> const& v)
{
    std::string s;
    for(auto const& x : v)
    {
        if(!s.empty())
            s += "; ";
        s += x.pointer.empty() ? std::string("(root)") : x.pointer;
        s += ": ";
        s += x.message;
    }
    return s;
}

} // namespace spindle::tools
