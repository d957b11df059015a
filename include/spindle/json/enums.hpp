//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_JSON_ENUMS_HPP
#define SPINDLE_JSON_ENUMS_HPP

// Boost.JSON conversions of Spindle's named enums: a JSON string holding the
// snake_case name. Part of <spindle/json.hpp>.

#include <spindle/detail/config.hpp>
#include <spindle/enums.hpp>

#include <boost/json/conversion.hpp>
#include <boost/json/system_error.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

namespace spindle {

//------------------------------------------------------------------------------
// Enums (event_type, node_type, supervision_strategy, circuit_state,
// overflow_policy, and http's health_status): a JSON string holding the snake_case name.

/** Converts an enumerator to a JSON string holding its name.

    Called by `boost::json::value_from(e)`.

    @param jv Receives the name (see @ref to_string); an out-of-range value
    becomes the empty string, which no conversion back accepts.

    @param e The value.
*/
template<detail::named_enum E>
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, E e);

/** Converts a JSON string holding a name to an enumerator.

    Called by `boost::json::value_to<health_status>(jv)` and the like.

    @param jv The value to convert.

    @return The enumerator.

    @throws spindle::system_error With `boost::json::error::not_string` if `jv`
    is not a string, or `error::invalid_argument` if it names no enumerator;
    the message names the enum type, the bad input and the valid names.
*/
template<detail::named_enum E>
E tag_invoke(boost::json::value_to_tag<E>, boost::json::value const& jv);

/** Converts a JSON string holding a name to an enumerator, without throwing.

    Called by `boost::json::try_value_to<health_status>(jv)` and the like.

    @param jv The value to convert.

    @return The enumerator, or the error `boost::json::error::not_string` if
    `jv` is not a string, or `error::invalid_argument` if it names no enumerator.
*/
template<detail::named_enum E>
boost::json::result<E> tag_invoke(boost::json::try_value_to_tag<E>, boost::json::value const& jv) noexcept;

} // namespace spindle

#include <spindle/json/impl/enums.hpp>

#endif
