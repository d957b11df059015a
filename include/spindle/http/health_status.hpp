//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_HEALTH_STATUS_HPP
#define SPINDLE_HTTP_HEALTH_STATUS_HPP

#include <spindle/enums.hpp>

#include <cstdint>
#include <iterator>
#include <string_view>

namespace spindle {

/** The result of a health check (names as in the IETF health check draft).

    Header-only: a named enum like those of `<spindle/enums.hpp>`
    (`to_string`, `from_string`, `operator<<` and the JSON conversions of
    `<spindle/json/enums.hpp>` work for it), kept with the HTTP component
    whose health checks report it.
*/
enum class health_status : std::uint8_t
{
    /// Healthy.
    pass,
    /// Working, but degraded or close to a limit.
    warn,
    /// Not working.
    fail
};

namespace detail {

template<>
struct enum_traits<health_status>
{
    static constexpr std::string_view type_name = "health_status";
    static constexpr std::string_view names[] = {"pass", "warn", "fail"};
    static_assert(std::size(names) == std::size_t(health_status::fail) + 1);
};

} // namespace detail
} // namespace spindle

#endif
