//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/enums.hpp>

#include <ostream>
#include <string>

namespace spindle::detail {

// Defined in id.cpp.
std::string quote_input(std::string_view s);

std::ostream& write_enum(
    std::ostream& os, std::string_view type_name, std::string_view name, unsigned value)
{
    if(!name.empty())
        return os << name;
    std::string s(type_name);
    s += '(';
    s += std::to_string(value);
    s += ')';
    return os << s;
}

void throw_bad_enum(
    std::string_view type_name, std::span<std::string_view const> names, std::string_view input)
{
    std::string what = "spindle::from_string: ";
    what += quote_input(input);
    what += " is not a ";
    what += type_name;
    what += " (expected one of: ";
    for(std::size_t i = 0; i < names.size(); ++i)
    {
        if(i != 0)
            what += ", ";
        what += names[i];
    }
    what += ')';
    throw_error(make_error_code(error::invalid_argument), what.c_str());
}

} // namespace spindle::detail
