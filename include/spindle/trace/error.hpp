//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_ERROR_HPP
#define SPINDLE_TRACE_ERROR_HPP

#include <spindle/detail/config.hpp>

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace spindle::trace {

/// Errors of the trace component (category `spindle.trace`).
enum class error
{
    /// A `traceparent` header that is not `version-traceid-parentid-flags`
    /// in lower-case hex with the right lengths.
    bad_traceparent = 1,
    /// A `traceparent` of version `ff` (forbidden by W3C Trace Context).
    bad_traceparent_version,
    /// A `traceparent` whose trace-id is all zeros.
    zero_trace_id,
    /// A `traceparent` whose parent-id (span id) is all zeros.
    zero_span_id,
    /// A `tracestate` list-member with a bad key or value, or a duplicate key.
    bad_tracestate,
    /// A `tracestate` with more than 32 list-members.
    tracestate_too_long,
    /// An option or environment variable with a value that cannot be used
    /// (e.g. an unknown `OTEL_TRACES_SAMPLER`, an endpoint that is not http://).
    bad_option,
    /// The receiver answered with an error status that is not retried.
    export_rejected,
    /// Retries exhausted, or the deadline passed, before the receiver took
    /// the spans.
    export_failed
};

/// The `spindle.trace` category.
SPINDLE_DECL boost::system::error_category const& error_category() noexcept;

/// Makes an `error_code` of the `spindle.trace` category (found by ADL).
inline boost::system::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), trace::error_category()};
}

} // namespace spindle::trace

/// @cond
template<>
struct boost::system::is_error_code_enum<spindle::trace::error> : std::true_type
{
};
/// @endcond

#endif
