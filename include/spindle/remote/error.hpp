//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_REMOTE_ERROR_HPP
#define SPINDLE_REMOTE_ERROR_HPP

#include <spindle/detail/config.hpp>

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace spindle::remote {

/** Errors of the remote component (category `spindle.remote`).

    An actor that is not found on the far side is core's
    `spindle::error::unknown_actor`; an ask that gets no reply in time is
    core's `spindle::error::ask_timeout`.
*/
enum class error
{
    /// The node is not connected to NATS (never connected, or closed).
    not_connected = 1,
    /// The NATS connection was lost while the ask was in flight.
    connection_lost,
    /// The encoded message is larger than the server's `max_payload`.
    payload_too_large,
    /// The receiver does not know the message's wire type name.
    unknown_type,
    /// The receiver knows the type under another version.
    version_mismatch,
    /// The payload could not be decoded as the named type.
    decode_failed,
    /// The message could not be encoded (its codec threw).
    encode_failed,
    /// The node hosting the actor stopped answering heartbeats.
    node_lost,
    /// The reply could not be read (a malformed or foreign reply).
    bad_reply,
    /// cnats refused the operation; the text names cnats' status.
    nats_failed
};

/// The `spindle.remote` category.
SPINDLE_DECL boost::system::error_category const& error_category() noexcept;

/// Makes an `error_code` of the `spindle.remote` category (found by ADL).
inline boost::system::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), remote::error_category()};
}

} // namespace spindle::remote

/// @cond
template<>
struct boost::system::is_error_code_enum<spindle::remote::error> : std::true_type
{
};
/// @endcond

#endif
