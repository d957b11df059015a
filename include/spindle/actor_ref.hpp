//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ACTOR_REF_HPP
#define SPINDLE_ACTOR_REF_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor.hpp>
#include <spindle/ask.hpp>
#include <spindle/detail/actor_cell.hpp>
#include <spindle/id.hpp>
#include <spindle/mailbox.hpp>

#include <boost/intrusive_ptr.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <typeinfo>

namespace spindle {

/** An untyped handle to an actor: identity and lifecycle, no messaging.

    Copying is cheap (one reference count). A handle keeps the actor's
    mailbox cell alive, never the actor: an actor lives until it stops.

    @par Thread safety
    Distinct objects: safe. Shared objects: all const members are safe.
*/
class SPINDLE_DECL basic_actor_ref
{
protected:
    /// The actor's mailbox cell (null for an empty reference).
    boost::intrusive_ptr<detail::actor_cell> cell_;

public:
    /// An empty reference.
    basic_actor_ref() noexcept = default;

    /// Wraps a cell (used by the runtime).
    explicit basic_actor_ref(boost::intrusive_ptr<detail::actor_cell> c) noexcept
        : cell_(std::move(c))
    {
    }

    /// The actor's id; nil for an empty reference.
    actor_id id() const noexcept { return cell_ ? cell_->id_ : actor_id{}; }

    /// The name given at spawn, or an empty string.
    std::string name() const;

    /// The C++ type of the actor (`typeid(void)` for an empty reference).
    std::type_info const& type() const noexcept { return cell_ ? *cell_->type_ : typeid(void); }

    /// True if the actor has not stopped.
    bool alive() const noexcept;

    /// Queued user messages (a snapshot).
    std::size_t mailbox_depth() const noexcept { return cell_ ? cell_->depth() : 0; }

    /** Asks the actor to stop. Its current handler finishes, `post_stop`
        runs, queued messages go to dead letters. Idempotent.
    */
    void stop() const noexcept;

    /** Asks the actor to stop, with `reason` for its monitors: their
        `down` says `exit_reason::normal` and carries `reason` in `what`.
        A supervised child's supervisor decides as for `stop()` (a permanent
        child is restarted, and then nobody sees the reason).
    */
    void stop(std::string reason) const noexcept;

    /// True if not empty.
    explicit operator bool() const noexcept { return cell_ != nullptr; }

    friend bool operator==(basic_actor_ref const& a, basic_actor_ref const& b) noexcept
    {
        return a.cell_ == b.cell_;
    }

    /// Writes `name#id` (or the id alone).
    friend SPINDLE_DECL std::ostream& operator<<(std::ostream& os, basic_actor_ref const& r);

    /// The cell (for the runtime and extensions).
    detail::actor_cell* cell() const noexcept { return cell_.get(); }
};

/** Never defined: its name is the compile error for sending `Message` to
    `Actor`, so the compiler's one error line reads "invalid use of
    incomplete type 'struct spindle::actor_does_not_handle_message<counter, foo>'".
*/
template<class Actor, class Message>
struct actor_does_not_handle_message;

/** A typed handle to an actor of type `Actor`.

    `tell` and `ask` accept exactly the types listed in `Actor`'s
    `spindle::actor<Actor, Messages...>` base; anything else fails to compile
    with one error naming `actor_does_not_handle_message<Actor, Message>`.

    @par Thread safety
    Any thread or fiber may send through the same reference concurrently.
*/
template<class Actor>
class actor_ref : public basic_actor_ref
{
public:
    /// The actor type.
    using actor_type = Actor;

    actor_ref() noexcept = default;

    /// Wraps an actor's cell (used by the runtime; user code gets
    /// references from `spawn`, `lookup` and messages).
    explicit actor_ref(boost::intrusive_ptr<detail::actor_cell> c) noexcept
        : basic_actor_ref(std::move(c))
    {
    }

    /** Sends a message, fire and forget.

        Under `overflow_policy::block` a full mailbox makes the caller wait
        (a fiber parks, a thread blocks) up to the mailbox's block timeout.

        @param m The message; moved or copied into the mailbox.
        @return `ok`, or why the message was not delivered (it went to dead
        letters and was counted); ignoring the status is fine.
    */
    template<class M>
    send_status tell(M&& m) const;

    /** Like `tell`, but never waits: a full mailbox under `block` gives
        `send_status::mailbox_full` at once.
    */
    template<class M>
    send_status try_tell(M&& m) const;

    /** Sends a request and returns the future reply.

        @param m The message; its handler's return value is the reply.
        @param timeout After this (on the system clock) the future fails with
        `error::ask_timeout`, also when the reply comes later but before
        anyone waits.
        @return A fiber-aware future of the handler's return type. Dropping
        it unwaited abandons the ask: the request is still handled, its
        reply discarded.
    */
    template<class M>
    auto ask(M&& m, std::chrono::nanoseconds timeout) const;

    /// `ask` with the system's default timeout (`system_options::ask_timeout`).
    template<class M>
    auto ask(M&& m) const;
};

} // namespace spindle

/// Hashes actor references (by the actor's cell) for unordered containers.
template<>
struct std::hash<spindle::basic_actor_ref>
{
    /// @return The hash of `r`'s cell address.
    std::size_t operator()(spindle::basic_actor_ref const& r) const noexcept
    {
        return std::hash<void const*>()(r.cell());
    }
};

#include <spindle/impl/actor_ref.hpp>

#endif
