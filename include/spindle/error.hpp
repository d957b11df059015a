//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ERROR_HPP
#define SPINDLE_ERROR_HPP

#include <spindle/detail/config.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <type_traits>

namespace spindle {

/// The error codes Spindle reports through `boost::system::error_code`.
enum class error
{
    /// The receiver's bounded mailbox is full and its policy refuses the message.
    mailbox_full = 1,
    /// The receiver has stopped (or is stopping); the message went to dead letters.
    actor_stopped,
    /// An `ask` got no reply before its timeout.
    ask_timeout,
    /// No live actor is registered under the name, or it has another type.
    unknown_actor,
    /// A name is already registered to another live actor.
    name_taken,
    /// The actor system has shut down (or is shutting down) and accepts no work.
    system_stopped,
    /// A handler threw; the exception text is reported with the failure.
    handler_failed,
    /// The receiver handled an `ask` without producing a reply.
    no_reply,
    /// A timer id is unknown or the timer already fired or was cancelled.
    timer_not_found,
    /// The operation was cancelled through its stop token.
    cancelled,
    /// A configuration value is out of range.
    invalid_argument,
    /// A transport (the remote component) could not send the message: the
    /// node is not connected, or the message is larger than the server allows.
    transport_failed,
    /// A full mailbox's `drop_newest` or `drop_oldest` policy dropped the
    /// message (a refusal by `fail` or `block` is `mailbox_full`).
    message_dropped,
    /// An actor could not start: its constructor or its first `pre_start` threw.
    start_failed,
    /// A supervisor's child is running, and the operation needs it stopped.
    child_running
};

/// The category of @ref error. Its `name()` is `"spindle"`.
SPINDLE_DECL boost::system::error_category const& error_category() noexcept;

/// Makes an `error_code` from a Spindle @ref error (found by ADL).
inline boost::system::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

/// The exception thrown by the throwing forms of Spindle's operations.
using system_error = boost::system::system_error;

namespace detail {
/// Throws `spindle::system_error` for `ec` (out of line to keep callers small).
[[noreturn]] SPINDLE_DECL void throw_error(boost::system::error_code const& ec, char const* what);
} // namespace detail

} // namespace spindle

/// @cond
template<>
struct boost::system::is_error_code_enum<spindle::error> : std::true_type
{
};
/// @endcond

#endif
