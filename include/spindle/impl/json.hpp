//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_IMPL_JSON_HPP
#define SPINDLE_IMPL_JSON_HPP

#include <boost/config.hpp>

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
