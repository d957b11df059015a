//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_CONTEXT_HPP
#define SPINDLE_TRACE_CONTEXT_HPP

#include <spindle/detail/config.hpp>
#include <spindle/trace/error.hpp>

#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spindle::trace {

/// A W3C trace-id: 16 bytes, valid when not all zero.
struct trace_id
{
    std::array<std::uint8_t, 16> bytes{}; ///< big-endian, as on the wire

    /// True unless every byte is zero.
    bool valid() const noexcept;
    /// 32 lower-case hex digits.
    SPINDLE_DECL std::string to_hex() const;
    /// A random, non-zero id.
    SPINDLE_DECL static trace_id random() noexcept;
    /// Parses 32 lower-case hex digits; nullopt otherwise (zero ids included).
    SPINDLE_DECL static std::optional<trace_id> from_hex(std::string_view hex) noexcept;
    friend bool operator==(trace_id const&, trace_id const&) = default;
};

/// A W3C parent-id / span id: 8 bytes, valid when not all zero.
struct span_id
{
    std::array<std::uint8_t, 8> bytes{}; ///< big-endian, as on the wire

    /// True unless every byte is zero.
    bool valid() const noexcept;
    /// 16 lower-case hex digits.
    SPINDLE_DECL std::string to_hex() const;
    /// A random, non-zero id.
    SPINDLE_DECL static span_id random() noexcept;
    /// Parses 16 lower-case hex digits; nullopt otherwise (zero ids included).
    SPINDLE_DECL static std::optional<span_id> from_hex(std::string_view hex) noexcept;
    friend bool operator==(span_id const&, span_id const&) = default;
};

inline bool trace_id::valid() const noexcept
{
    for(auto b : bytes)
        if(b)
            return true;
    return false;
}

inline bool span_id::valid() const noexcept
{
    for(auto b : bytes)
        if(b)
            return true;
    return false;
}

/// The `trace-flags` bits Spindle understands.
namespace trace_flags {
/// The caller may have recorded the trace (W3C `sampled`).
inline constexpr std::uint8_t sampled = 0x01;
/// The trace-id's right-most 7 bytes are random (W3C Trace Context level 2).
inline constexpr std::uint8_t random = 0x02;
} // namespace trace_flags

/** The W3C `tracestate` header: vendor list-members, kept in order and
    passed on unchanged.

    At most 32 list-members; keys are `simple-key` or
    `tenant-id@system-id`, values printable ASCII without `,` and `=`, as
    W3C Trace Context specifies.
*/
class trace_state
{
public:
    /// A list-member: key and value.
    using member_type = std::pair<std::string, std::string>;

    /// The empty state.
    trace_state() = default;

    /** Parses a `tracestate` header value (several header lines joined
        with `,` are one value).

        Empty list-members and optional white space around members are
        allowed, as the spec says.

        @param header the header value.
        @param ec set to `error::bad_tracestate` or `error::tracestate_too_long`.
        @return the state; empty on error (the whole header is then dropped).
    */
    SPINDLE_DECL static trace_state parse(std::string_view header, boost::system::error_code& ec);

    /// Throwing form of `parse`. @throws boost::system::system_error on bad input.
    SPINDLE_DECL static trace_state parse(std::string_view header);

    /// The header value (`k1=v1,k2=v2`), empty when there are no members.
    SPINDLE_DECL std::string to_header() const;

    /// The value of `key`, or nullopt.
    SPINDLE_DECL std::optional<std::string_view> get(std::string_view key) const noexcept;

    /** Sets `key` to `value` and moves it to the front (the spec's rule for
        a vendor that updates its entry); the 33rd member is dropped from the end.

        @param key The key (the spec's syntax).
        @param value The value (the spec's syntax).
        @param ec `error::bad_tracestate` if the key or value is not valid.
    */
    SPINDLE_DECL void set(std::string_view key, std::string_view value, boost::system::error_code& ec);

    /// Removes `key` if present.
    SPINDLE_DECL void erase(std::string_view key) noexcept;

    /// The list-members, left-most first.
    std::vector<member_type> const& members() const noexcept { return members_; }
    /// True when there are no members.
    bool empty() const noexcept { return members_.empty(); }

    friend bool operator==(trace_state const&, trace_state const&) = default;

private:
    std::vector<member_type> members_;
};

/// True if `key` is a valid `tracestate` key.
SPINDLE_DECL bool valid_tracestate_key(std::string_view key) noexcept;
/// True if `value` is a valid `tracestate` value.
SPINDLE_DECL bool valid_tracestate_value(std::string_view value) noexcept;

/** What crosses a process or actor boundary: ids, flags and trace state.

    @par Thread safety
    A value type.
*/
struct span_context
{
    trace_id trace;         ///< the trace it belongs to
    span_id span;           ///< the span itself
    std::uint8_t flags = 0; ///< `trace_flags::sampled` and others
    trace_state state;      ///< the vendors' `tracestate`
    /// True if the context was received from another process.
    bool remote = false;

    /// Both ids are valid.
    bool valid() const noexcept { return trace.valid() && span.valid(); }
    /// The `sampled` flag is set.
    bool sampled() const noexcept { return (flags & trace_flags::sampled) != 0; }
};

/** Parses a W3C `traceparent` header.

    Version `00` must be exactly `00-<32 hex>-<16 hex>-<2 hex>`, lower-case.
    Version `ff` is rejected. A higher version is parsed the way the spec
    asks of a version-00 implementation: at least 55 characters, the
    version-00 fields, then either the end or `-`; only its `sampled` flag
    is kept.

    @param header the header value.
    @param ec set to `bad_traceparent`, `bad_traceparent_version`,
           `zero_trace_id` or `zero_span_id`.
    @return the context (marked `remote`, no trace state); invalid on error.
*/
SPINDLE_DECL span_context parse_traceparent(std::string_view header, boost::system::error_code& ec) noexcept;

/// Throwing form of `parse_traceparent`. @throws boost::system::system_error on bad input.
SPINDLE_DECL span_context parse_traceparent(std::string_view header);

/** Extracts a context from both headers: `tracestate` is used only when
    `traceparent` is valid, and is dropped (not the whole context) when it is
    malformed, as the spec says.

    @return the context, or nullopt if `traceparent` is missing or invalid.
*/
SPINDLE_DECL std::optional<span_context> extract(std::string_view traceparent, std::string_view tracestate) noexcept;

/// Formats version `00`: `00-<trace-id>-<span-id>-<flags>`; only the flags
/// Spindle understands (`sampled`, `random`) are written.
SPINDLE_DECL std::string format_traceparent(span_context const& ctx);

} // namespace spindle::trace

#endif
