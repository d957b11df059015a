//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_MAILBOX_HPP
#define SPINDLE_MAILBOX_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/enums.hpp>
#include <spindle/error.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>

namespace spindle {

/** How an actor's mailbox is sized and what happens when it is full.

    Every actor has one mailbox: a fiber-aware multi-producer, single-consumer
    queue, FIFO for each sender/receiver pair. System messages (start, stop)
    travel beside it and never count against the capacity.

    @par Overflow policies (only for a bounded mailbox, `capacity > 0`)
    - `overflow_policy::fail`: the new message is refused; `tell` returns
      @ref send_status::mailbox_full and the message goes to dead letters.
    - `overflow_policy::block`: the sender waits for room up to
      `block_timeout` (a fiber parks, a plain thread blocks), then fails as
      above. `try_tell` never waits.
    - `overflow_policy::drop_oldest`: the oldest queued message is dropped
      (to dead letters with `error::message_dropped`, counted) and the new
      one is queued; `tell` returns @ref send_status::ok.
    - `overflow_policy::drop_newest`: the new message is dropped (to dead
      letters with `error::message_dropped`, counted); `tell` returns
      @ref send_status::dropped.

    An `ask` whose message is refused fails at once with
    `error::mailbox_full`, one whose message is dropped with
    `error::message_dropped`. Refusals and drops are counted apart, for
    the system (`system_stats::refused`, `dropped`; metrics
    `spindle_mailbox_refused_total`, `spindle_mailbox_dropped_total`) and
    for each actor (`actor_info::mailbox_refused`, `mailbox_dropped` in
    `spindle::inspect`).
*/
struct mailbox_options
{
    /// Maximum number of queued user messages; 0 means unbounded.
    std::uint32_t capacity = static_cast<std::uint32_t>(defaults::mailbox_capacity);

    /// What a full mailbox does with a new message.
    overflow_policy policy = defaults::mailbox_overflow;

    /// How long a sender waits for room under `overflow_policy::block`.
    std::chrono::nanoseconds block_timeout = std::chrono::seconds(1);
};

/// The outcome of `tell` / `try_tell`. A caller may ignore it: every
/// message that was not delivered is counted and sent to dead letters.
enum class send_status : std::uint8_t
{
    /// The message is in the receiver's mailbox.
    ok,
    /// The bounded mailbox was full and the message was refused.
    mailbox_full,
    /// The mailbox was full and its policy dropped this message.
    dropped,
    /// The receiver has stopped (or the reference is empty).
    stopped,
    /// A transport refused the message (a remote actor: its node is not
    /// connected, or the message exceeds the server's payload limit).
    refused
};

/// The name of a @ref send_status ("ok", "mailbox_full", "dropped", "stopped", "refused").
SPINDLE_DECL char const* to_string(send_status s) noexcept;

/// Writes `to_string(s)`.
SPINDLE_DECL std::ostream& operator<<(std::ostream& os, send_status s);

/** The error a failed @ref send_status stands for.

    @return An empty code for `ok`, `error::mailbox_full` for `mailbox_full`,
    `error::message_dropped` for `dropped`, `error::actor_stopped` for
    `stopped`, `error::transport_failed` for `refused`.
*/
SPINDLE_DECL boost::system::error_code to_error_code(send_status s) noexcept;

} // namespace spindle

#endif
