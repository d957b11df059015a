//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The checks a request header passes before a route sees it (RFC 9112's
// framing rules that Beast's parser leaves to the server), and a target's
// path.

#ifndef SPINDLE_HTTP_SRC_REQUEST_CHECK_HPP
#define SPINDLE_HTTP_SRC_REQUEST_CHECK_HPP

#include <spindle/http/server.hpp>

#include <boost/beast/http/message.hpp>

#include <cstddef>
#include <string_view>

namespace spindle::http::detail {

/// What a check says: `ok`, or the status to answer and why.
struct verdict
{
    status code = status::ok; // ok: acceptable
    char const* why = "";
};

/** The request header's target and framing: `ok`, or the 4xx/5xx status
    to answer and why (the connection is closed then). */
verdict check_request(boost::beast::http::request_header<> const& h, std::size_t target_limit);

/// The path of an origin-form or absolute-form target, without the query.
std::string_view path_of(std::string_view target) noexcept;

} // namespace spindle::http::detail

#endif
