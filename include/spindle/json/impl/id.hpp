//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_JSON_IMPL_ID_HPP
#define SPINDLE_JSON_IMPL_ID_HPP

#include <spindle/id.hpp>
#include <spindle/json/detail/kind.hpp>

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <string>
#include <string_view>

namespace spindle {

//------------------------------------------------------------------------------
// Ids

template<class Tag>
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, basic_id<Tag> const& id)
{
    char buf[36];
    detail::uuid_to_chars(id.uuid(), buf);
    jv.emplace_string().assign(buf, sizeof buf);
}

template<class Tag>
basic_id<Tag> tag_invoke(boost::json::value_to_tag<basic_id<Tag>>, boost::json::value const& jv)
{
    auto const* s = jv.if_string();
    if(!s)
        detail::throw_json_not_string(detail::id_type_name<Tag>(), "a UUID", jv.kind());
    return basic_id<Tag>::from_string(detail::to_std(*s));
}

template<class Tag>
boost::json::result<basic_id<Tag>>
tag_invoke(boost::json::try_value_to_tag<basic_id<Tag>>, boost::json::value const& jv) noexcept
{
    auto const* s = jv.if_string();
    if(!s)
        return {boost::system::in_place_error, make_error_code(boost::json::error::not_string)};
    boost::system::error_code ec;
    auto id = basic_id<Tag>::from_string(detail::to_std(*s), ec);
    if(ec)
        return {boost::system::in_place_error, ec};
    return id;
}

} // namespace spindle

#endif
