//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include "request_check.hpp"

#include <spindle/detail/ows.hpp>

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace spindle::http::detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

bool is_tchar(char c) noexcept
{
    if((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch(c)
    {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

using spindle::detail::trim_ows;

bool starts_with_icase(std::string_view s, std::string_view prefix) noexcept
{
    return s.size() >= prefix.size() && beast::iequals(s.substr(0, prefix.size()), prefix);
}

/* RFC 9112 3.2: a request target is in origin-form (`/path`), in
   absolute-form (`http://host/path`), in asterisk-form (`*`, for OPTIONS
   only) or in authority-form (`host:port`, for CONNECT only, which a
   server that is not a proxy does not serve). */
verdict check_target_form(verb method, std::string_view target) noexcept
{
    if(target.front() == '/')
        return {};
    if(target == "*")
    {
        if(method == verb::options)
            return {};
        return {status::bad_request, "asterisk-form request target is only for OPTIONS"};
    }
    if(starts_with_icase(target, "http://") || starts_with_icase(target, "https://"))
        return {};
    return {status::bad_request, "request target is not a path or an absolute URI"};
}

} // namespace

/* The framing checks Beast 1.81's parser leaves to us (it accepts, for
   instance, `Transfer-Encoding: gzip` without chunked, a chunked coding
   that is not the last one, or a Transfer-Encoding before a
   Content-Length): anything that a proxy in front of us could frame
   differently is refused, and the connection closed (RFC 9112 6.1, 6.3). */
verdict check_request(bhttp::request_header<> const& h, std::size_t target_limit)
{
    if(h.target().size() > target_limit)
        return {status::uri_too_long, "request target too long"};
    if(h.target().empty())
        return {status::bad_request, "empty request target"};
    if(auto const form = check_target_form(h.method(), h.target()); form.code != status::ok)
        return form;
    int hosts = 0;
    int lengths = 0;
    std::vector<std::string_view> codings;
    bool has_te = false;
    for(auto const& f : h)
    {
        switch(f.name())
        {
        case bhttp::field::host:
            ++hosts;
            break;
        case bhttp::field::content_length:
        {
            ++lengths;
            auto const v = f.value();
            if(v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return {status::bad_request, "malformed Content-Length"};
            break;
        }
        case bhttp::field::transfer_encoding:
        {
            has_te = true;
            std::string_view v = f.value();
            while(!v.empty())
            {
                auto const comma = v.find(',');
                auto const item = trim_ows(v.substr(0, comma));
                v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
                if(item.empty())
                    continue; // empty list elements are allowed (RFC 9110 5.6.1)
                if(!std::all_of(item.begin(), item.end(), is_tchar))
                    return {status::bad_request, "malformed Transfer-Encoding"};
                codings.push_back(item);
            }
            break;
        }
        default:
            break;
        }
    }
    if(hosts > 1)
        return {status::bad_request, "repeated Host"};
    if(hosts == 0 && h.version() == 11)
        return {status::bad_request, "missing Host"};
    if(lengths > 1)
        return {status::bad_request, "repeated Content-Length"};
    if(has_te)
    {
        if(lengths != 0)
            return {status::bad_request, "both Transfer-Encoding and Content-Length"};
        if(h.version() != 11)
            return {status::bad_request, "Transfer-Encoding in an HTTP/1.0 request"};
        if(codings.empty())
            return {status::bad_request, "empty Transfer-Encoding"};
        if(!beast::iequals(codings.back(), "chunked"))
            return {status::bad_request, "Transfer-Encoding does not end with chunked"};
        for(std::size_t i = 0; i + 1 < codings.size(); ++i)
            if(beast::iequals(codings[i], "chunked"))
                return {status::bad_request, "chunked applied more than once"};
        if(codings.size() > 1)
            return {status::not_implemented, "unsupported transfer coding"};
    }
    return {};
}

std::string_view path_of(std::string_view target) noexcept
{
    for(std::string_view scheme : {std::string_view("http://"), std::string_view("https://")})
    {
        if(target.size() >= scheme.size() && beast::iequals(target.substr(0, scheme.size()), scheme))
        {
            auto const slash = target.find('/', scheme.size());
            target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
            break;
        }
    }
    return target.substr(0, target.find_first_of("?#"));
}

} // namespace spindle::http::detail
