//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_SRC_RESIDENT_HPP
#define SPINDLE_HTTP_SRC_RESIDENT_HPP

namespace spindle::http::detail {

/// The process's resident memory in MiB, from /proc/self/statm (0 without it).
double resident_mib() noexcept;

} // namespace spindle::http::detail

#endif
