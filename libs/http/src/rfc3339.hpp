//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_SRC_RFC3339_HPP
#define SPINDLE_HTTP_SRC_RFC3339_HPP

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace spindle::http::detail {

/// `tp` as an RFC 3339 UTC time with milliseconds, `2026-12-07T21:40:05.123Z`:
/// the time stamps of /health and /api/system.
inline std::string rfc3339(std::chrono::system_clock::time_point tp)
{
    auto const t = std::chrono::system_clock::to_time_t(tp);
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

} // namespace spindle::http::detail

#endif
