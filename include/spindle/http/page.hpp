//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_PAGE_HPP
#define SPINDLE_HTTP_PAGE_HPP

#include <spindle/detail/config.hpp>

#include <span>
#include <string_view>

/** @file
    The live system page: an HTML page, its stylesheet and its script,
    compiled into the library (no CDN, no file to install). The script polls
    `/api/system` (every second; `?interval=MS` changes it) and renders the
    supervision tree with each actor's state, mailbox depth and restarts,
    the message rates (overall and per worker), executors, circuit breakers,
    health and the recent events, then a panel for each of the
    application's sections (see `<spindle/http/sections.hpp>`): arrays of
    objects as tables, other members as key/value pairs, anything nested
    deeper as compact JSON.
*/

namespace spindle::http {

/** One file of the page. */
struct page_asset
{
    /// Where it is served, e.g. "/" or "/static/spindle.js".
    std::string_view path;
    /// Its `Content-Type`.
    std::string_view content_type;
    /// Its content.
    std::string_view body;
};

/** The files of the live page: `/`, `/static/spindle.css` and
    `/static/spindle.js`.
    @return Views of static storage.
*/
SPINDLE_DECL std::span<page_asset const> page_assets() noexcept;

/// The `Content-Security-Policy` the page is served with: everything from
/// the server itself, nothing inline, nothing from elsewhere.
inline constexpr std::string_view page_security_policy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

} // namespace spindle::http

#endif
