//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_JSON_DETAIL_KIND_HPP
#define SPINDLE_JSON_DETAIL_KIND_HPP

#include <spindle/error.hpp>

#include <boost/config.hpp>
#include <boost/json/kind.hpp>
#include <boost/json/string.hpp>
#include <boost/json/system_error.hpp>

#include <string>
#include <string_view>

namespace spindle {

namespace detail {

// Kept out of the conversion templates: it is only reached on bad input.
[[noreturn]] BOOST_NOINLINE inline void throw_json_not_string(
    std::string_view type_name, std::string_view expected, boost::json::kind k)
{
    std::string what = "spindle::value_to<";
    what += type_name;
    what += ">: expected a JSON string holding ";
    what += expected;
    what += ", got a JSON ";
    auto const kind_name = boost::json::to_string(k);
    what.append(kind_name.data(), kind_name.size());
    throw_error(boost::json::error::not_string, what.c_str());
}

inline std::string_view to_std(boost::json::string const& s) noexcept
{
    return {s.data(), s.size()};
}

} // namespace detail

} // namespace spindle

#endif
