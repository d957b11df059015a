//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_OWS_HPP
#define SPINDLE_DETAIL_OWS_HPP

#include <string_view>

namespace spindle::detail {

/** `s` without its leading and trailing optional white space (OWS, RFC
    9110 5.6.3: spaces and horizontal tabs), as around the members of a
    comma-separated header value. Shared by the HTTP server's request
    checks and the trace context's header parsing, which depend on core
    and not on each other.
*/
inline std::string_view trim_ows(std::string_view s) noexcept
{
    while(!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while(!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace spindle::detail

#endif
