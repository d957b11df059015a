//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_JSON_HPP
#define SPINDLE_JSON_HPP

// Boost.JSON conversions of Spindle's core types. This is the header of the
// `spindle::json` interface target: core itself never includes Boost.JSON, so
// only programs that want JSON include this header and link Boost.JSON.
//
// Each type gets the three customisation points of Boost.JSON 1.81:
// `value_from`, `value_to` (throws a `system_error` whose message says what
// was expected and what was found) and `try_value_to` (returns a
// `boost::system::result`, never throws for bad input). Containers of these
// types (`std::vector<task_id>`, `std::map<std::string, health_status>`, ...)
// convert through Boost.JSON's generic conversions.

#include <spindle/detail/config.hpp>
#include <spindle/enums.hpp>
#include <spindle/id.hpp>

#include <boost/json/conversion.hpp>
#include <boost/json/system_error.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

namespace spindle {

//------------------------------------------------------------------------------
// Ids: a JSON string in the canonical 36-character form.

/** Converts an id to a JSON string in the canonical 36-character form.

    Called by `boost::json::value_from(id)`; not meant to be called directly.

    @param jv Receives the string, allocated with `jv`'s storage.

    @param id The id. The nil id becomes `"00000000-0000-0000-0000-000000000000"`.
*/
template<class Tag>
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, basic_id<Tag> const& id);

/** Converts a JSON string in the canonical form to an id.

    Called by `boost::json::value_to<task_id>(jv)` and the like.

    @param jv The value to convert.

    @return The id.

    @throws spindle::system_error With `boost::json::error::not_string` if `jv`
    is not a string, or `error::invalid_argument` if the string is not a UUID;
    the message names the id type and the bad input.
*/
template<class Tag>
basic_id<Tag> tag_invoke(boost::json::value_to_tag<basic_id<Tag>>, boost::json::value const& jv);

/** Converts a JSON string in the canonical form to an id, without throwing.

    Called by `boost::json::try_value_to<task_id>(jv)` and the like.

    @param jv The value to convert.

    @return The id, or the error `boost::json::error::not_string` if `jv` is
    not a string, or `error::invalid_argument` if the string is not a UUID.
*/
template<class Tag>
boost::json::result<basic_id<Tag>>
tag_invoke(boost::json::try_value_to_tag<basic_id<Tag>>, boost::json::value const& jv) noexcept;

//------------------------------------------------------------------------------
// Enums (event_type, node_type, supervision_strategy, circuit_state,
// health_status, overflow_policy): a JSON string holding the snake_case name.

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

// Conversions of further core types (metrics snapshots, events, introspection
// nodes) are declared below, one section per type, each with the three forms
// above; their bodies go in impl/json.hpp.

} // namespace spindle

#include <spindle/impl/json.hpp>

#endif
