//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_JSON_ID_HPP
#define SPINDLE_JSON_ID_HPP

// Boost.JSON conversions of Spindle's ids (actor_id, task_id, node_id, ...):
// a JSON string in the canonical 36-character form. Part of <spindle/json.hpp>.

#include <spindle/detail/config.hpp>
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

} // namespace spindle

#include <spindle/json/impl/id.hpp>

#endif
