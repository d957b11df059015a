//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ENUMS_HPP
#define SPINDLE_ENUMS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/error.hpp>

#include <cstdint>
#include <iosfwd>
#include <span>
#include <string_view>
#include <type_traits>

namespace spindle {

/** What happened, in an event published on the system's event stream.

    The names (see @ref to_string) are stable: they appear in logs, metrics
    labels and JSON, so enumerators are only ever added, never renamed.
*/
enum class event_type : std::uint8_t
{
    /// An actor finished starting and handles messages.
    actor_started,
    /// An actor stopped for good (asked to stop, or not restarted).
    actor_stopped,
    /// An actor's handler threw or it reported a failure; its supervisor decides next.
    actor_failed,
    /// A supervisor restarted a failed actor (same id, fresh state).
    actor_restarted,
    /// A supervisor gave up (restart limit reached, or strategy `escalate`) and
    /// passed the failure to its own parent.
    supervisor_escalated,
    /// A message could not be delivered (receiver gone, or dropped by a full mailbox).
    dead_letter,
    /// A task was accepted into an executor's queue.
    task_submitted,
    /// A queued task began running.
    task_started,
    /// A task returned normally.
    task_completed,
    /// A task threw or reported an error.
    task_failed,
    /// A task was cancelled through its stop token before it completed.
    task_cancelled,
    /// A task ran past its timeout and was abandoned.
    task_timed_out,
    /// A task was refused because the executor's queue was full or it was stopping.
    task_rejected,
    /// A circuit breaker opened: calls now fail fast.
    circuit_opened,
    /// A circuit breaker's recovery timeout passed: trial calls are let through.
    circuit_half_open,
    /// A circuit breaker closed again after successful trial calls.
    circuit_closed,
    /// An actor did not stop within its shutdown deadline and was abandoned.
    deadline_missed,
    /// Published by user code.
    custom
};

/// The role of a node in the supervision tree, as shown by introspection.
enum class node_type : std::uint8_t
{
    /// The top of the tree, owned by the actor system.
    root,
    /// An actor whose job is to start, watch and restart children.
    supervisor,
    /// An ordinary actor.
    worker,
    /// An actor that runs an agent (tools, model calls).
    agent
};

/// What a supervisor does when one of its children fails.
enum class supervision_strategy : std::uint8_t
{
    /// Restart only the failed child.
    one_for_one,
    /// Restart every child.
    one_for_all,
    /// Restart the failed child and the children started after it.
    rest_for_one,
    /// Restart nothing: fail the supervisor itself and let its parent decide.
    escalate
};

/// When a supervisor restarts a child that ended (OTP's child restart types).
enum class restart_type : std::uint8_t
{
    /// Always restarted, whatever the reason it ended (a normal stop too).
    permanent,
    /// Restarted only after a failure; a normal stop ends it for good.
    transient,
    /// Never restarted.
    temporary
};

/// Where an actor is in its life, as introspection reports it.
enum class actor_state : std::uint8_t
{
    /// Spawned; `pre_start` has not run yet.
    starting,
    /// Handling messages.
    running,
    /// Ended by a failure or exit; its supervisor decides next (mail is kept).
    restarting,
    /// Stopping: `post_stop` runs, children are being stopped.
    stopping,
    /// Gone.
    stopped
};

/// The state of a circuit breaker.
enum class circuit_state : std::uint8_t
{
    /// Calls go through; failures are counted.
    closed,
    /// Calls fail fast until the recovery timeout passes.
    open,
    /// A limited number of trial calls go through to probe recovery.
    half_open
};

/// What a bounded mailbox does with a message that arrives while it is full.
enum class overflow_policy : std::uint8_t
{
    /// Refuse the new message: the sender gets `error::mailbox_full`.
    fail,
    /// Make the sender wait for room (a fiber parks, a thread blocks) up to
    /// the mailbox's `block_timeout`, then refuse as `fail` does.
    block,
    /// Make room by dropping the oldest queued message (sent to dead letters).
    drop_oldest,
    /// Drop the new message (sent to dead letters); `tell` returns
    /// `send_status::dropped`, an ask fails with `error::message_dropped`.
    drop_newest
};

namespace detail {

// The names of each enum, indexed by its underlying value. Every public
// enum of this header has a specialisation; the functions below are
// written once for all of them.
template<class E>
struct enum_traits;

template<>
struct enum_traits<event_type>
{
    static constexpr std::string_view type_name = "event_type";
    static constexpr std::string_view names[] = {
        "actor_started", "actor_stopped", "actor_failed", "actor_restarted",
        "supervisor_escalated", "dead_letter", "task_submitted", "task_started",
        "task_completed", "task_failed", "task_cancelled", "task_timed_out",
        "task_rejected", "circuit_opened", "circuit_half_open", "circuit_closed",
        "deadline_missed", "custom"};
    static_assert(std::size(names) == std::size_t(event_type::custom) + 1);
};

template<>
struct enum_traits<node_type>
{
    static constexpr std::string_view type_name = "node_type";
    static constexpr std::string_view names[] = {"root", "supervisor", "worker", "agent"};
    static_assert(std::size(names) == std::size_t(node_type::agent) + 1);
};

template<>
struct enum_traits<supervision_strategy>
{
    static constexpr std::string_view type_name = "supervision_strategy";
    static constexpr std::string_view names[] = {
        "one_for_one", "one_for_all", "rest_for_one", "escalate"};
    static_assert(std::size(names) == std::size_t(supervision_strategy::escalate) + 1);
};

template<>
struct enum_traits<restart_type>
{
    static constexpr std::string_view type_name = "restart_type";
    static constexpr std::string_view names[] = {"permanent", "transient", "temporary"};
    static_assert(std::size(names) == std::size_t(restart_type::temporary) + 1);
};

template<>
struct enum_traits<actor_state>
{
    static constexpr std::string_view type_name = "actor_state";
    static constexpr std::string_view names[] = {"starting", "running", "restarting", "stopping", "stopped"};
    static_assert(std::size(names) == std::size_t(actor_state::stopped) + 1);
};

template<>
struct enum_traits<circuit_state>
{
    static constexpr std::string_view type_name = "circuit_state";
    static constexpr std::string_view names[] = {"closed", "open", "half_open"};
    static_assert(std::size(names) == std::size_t(circuit_state::half_open) + 1);
};

template<>
struct enum_traits<overflow_policy>
{
    static constexpr std::string_view type_name = "overflow_policy";
    static constexpr std::string_view names[] = {"fail", "block", "drop_oldest", "drop_newest"};
    static_assert(std::size(names) == std::size_t(overflow_policy::drop_newest) + 1);
};

/// The enums that have names: those of this header.
template<class E>
concept named_enum = std::is_enum_v<E> && requires { enum_traits<E>::names; };

/// Writes `name`, or `type_name(value)` when `name` is empty.
SPINDLE_DECL std::ostream& write_enum(
    std::ostream& os, std::string_view type_name, std::string_view name, unsigned value);

/// Throws `spindle::system_error` (`error::invalid_argument`) quoting `input`
/// and listing the valid `names`.
[[noreturn]] SPINDLE_DECL void throw_bad_enum(
    std::string_view type_name, std::span<std::string_view const> names, std::string_view input);

template<named_enum E>
constexpr bool parse_enum(std::string_view s, E& out) noexcept
{
    auto const& names = enum_traits<E>::names;
    for(std::size_t i = 0; i < std::size(names); ++i)
    {
        if(names[i] == s)
        {
            out = static_cast<E>(i);
            return true;
        }
    }
    return false;
}

} // namespace detail

/** Returns the snake_case name of an enumerator.

    Works for every enum of this header (@ref event_type, @ref node_type,
    @ref supervision_strategy, @ref circuit_state, @ref overflow_policy;
    and `health_status` of `<spindle/http/health_status.hpp>`). The name is the enumerator's identifier, e.g.
    `to_string(circuit_state::half_open) == "half_open"`.

    @param e The value.

    @return The name, a view of static storage; empty if `e` is not one of
    the enumerators (a value cast from an out-of-range integer).

    @par Thread safety
    Safe to call from any thread.
*/
template<detail::named_enum E>
constexpr std::string_view to_string(E e) noexcept
{
    auto const& names = detail::enum_traits<E>::names;
    auto const i = static_cast<std::size_t>(e);
    return i < std::size(names) ? names[i] : std::string_view();
}

/** Parses the snake_case name of an enumerator.

    Matching is exact and case-sensitive: only what @ref to_string returns
    is accepted.

    @param s The name.

    @param out Receives the value; unchanged on error.

    @param ec Set to `error::invalid_argument` when `s` names no enumerator
    of `E`, cleared otherwise.

    @par Thread safety
    Safe to call from any thread.
*/
template<detail::named_enum E>
void from_string(std::string_view s, E& out, boost::system::error_code& ec) noexcept
{
    if(detail::parse_enum(s, out))
        ec = {};
    else
        ec = make_error_code(error::invalid_argument);
}

/** Parses the snake_case name of an enumerator.

    @param s The name.

    @param out Receives the value; unchanged on error.

    @throws spindle::system_error With `error::invalid_argument` and a
    message quoting `s` and listing the valid names, when `s` names no
    enumerator of `E`.

    @par Thread safety
    Safe to call from any thread.
*/
template<detail::named_enum E>
void from_string(std::string_view s, E& out)
{
    if(!detail::parse_enum(s, out))
        detail::throw_bad_enum(detail::enum_traits<E>::type_name, detail::enum_traits<E>::names, s);
}

/** Writes the name of an enumerator to a stream.

    @param os The stream; its width and fill are honoured.

    @param e The value. One that is not an enumerator is written as
    `type_name(number)`, e.g. `circuit_state(7)`, so that it is visible in logs.

    @return `os`.
*/
template<detail::named_enum E>
std::ostream& operator<<(std::ostream& os, E e)
{
    return detail::write_enum(
        os, detail::enum_traits<E>::type_name, to_string(e), static_cast<unsigned>(e));
}

} // namespace spindle

#endif
