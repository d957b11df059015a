//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_JSON_IMPL_ENUMS_HPP
#define SPINDLE_JSON_IMPL_ENUMS_HPP

#include <spindle/enums.hpp>
#include <spindle/json/detail/kind.hpp>

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <string>
#include <string_view>

namespace spindle {

//------------------------------------------------------------------------------
// Enums

template<detail::named_enum E>
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, E e)
{
    auto const name = to_string(e);
    jv.emplace_string().assign(name.data(), name.size());
}

template<detail::named_enum E>
E tag_invoke(boost::json::value_to_tag<E>, boost::json::value const& jv)
{
    auto const* s = jv.if_string();
    if(!s)
        detail::throw_json_not_string(detail::enum_traits<E>::type_name, "an enumerator name", jv.kind());
    E e{};
    from_string(detail::to_std(*s), e);
    return e;
}

template<detail::named_enum E>
boost::json::result<E> tag_invoke(boost::json::try_value_to_tag<E>, boost::json::value const& jv) noexcept
{
    auto const* s = jv.if_string();
    if(!s)
        return {boost::system::in_place_error, make_error_code(boost::json::error::not_string)};
    E e{};
    boost::system::error_code ec;
    from_string(detail::to_std(*s), e, ec);
    if(ec)
        return {boost::system::in_place_error, ec};
    return e;
}

} // namespace spindle

#endif
