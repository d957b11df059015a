//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ACTOR_HPP
#define SPINDLE_ACTOR_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/type_list.hpp>
#include <spindle/enums.hpp>
#include <spindle/id.hpp>
#include <spindle/mailbox.hpp>
#include <spindle/monitor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace spindle {

template<class Actor>
class actor_ref;
class basic_actor_ref;
class timer_service;
class system;

namespace detail {
class actor_cell;
struct system_state;
} // namespace detail

/// What the runtime does with an actor after the current handler returns.
enum class directive : std::uint8_t
{
    resume,  ///< keep handling messages (the default)
    stop,    ///< stop: `post_stop` runs, queued messages go to dead letters
    restart, ///< replace the behaviour with a fresh one (`post_stop`, new object, `pre_start`)
    /// (from a supervisor's decider) the supervisor gives up: it stops its
    /// children and fails to its own parent; for the root guardian, `stop`
    escalate
};

/** Options of one spawn. */
struct spawn_options
{
    /// Registers the actor under this name (see `system::lookup`); empty: unnamed.
    std::string name;

    /// The actor's mailbox; `std::nullopt` takes the system's default.
    std::optional<mailbox_options> mailbox;

    /// Its role in introspection: `worker` or `agent` (a supervisor is
    /// recognised by its type, whatever this says).
    node_type node = node_type::worker;
};

/** The untyped base of every actor: lifecycle hooks and runtime services.

    Users derive from @ref actor, which adds the typed message set. All
    member functions are called on the actor's own fiber, one at a time.
*/
class SPINDLE_DECL actor_base
{
public:
    virtual ~actor_base();

    /** Runs on the actor's fiber before its first message (and after a
        restart, on the new object).

        An exception (or `fail`) here is a failure, decided the same way
        under a supervisor and under the root guardian:
        - in the **first** `pre_start` the actor cannot start: it stops
          (`exit_reason::failure`, its queued mail goes to dead letters);
          under a supervisor, `supervisor_ref::start_child` returns the
          error (`start_failed`, naming the type and the exception) and an
          empty reference;
        - in the `pre_start` of a **restart** it is a failure of that new
          incarnation: the supervisor restarts it again by its strategy, or
          the root guardian by `system_options::on_failure`, each within its
          restart intensity; queued mail stays for the next incarnation.
    */
    virtual void pre_start() {}

    /** Runs on the actor's fiber after its last message, when it stops or
        before a restart replaces it. Exceptions are caught and reported.
    */
    virtual void post_stop() {}

    /** Called with the death notice of an actor this one monitors
        (see `monitor`). Exceptions are failures, as from any handler.
    */
    virtual void on_down(down const&) {}

    /** Watches `target`: when it stops, this actor's `on_down` runs once
        with the reason (at once if it has already stopped). Watching the
        same actor twice gives two notices; an empty reference is ignored.
    */
    void monitor(basic_actor_ref const& target);

    /// Stops watching `target` (no notice comes any more unless already queued).
    void demonitor(basic_actor_ref const& target) noexcept;

    /// This actor's id. Valid from `pre_start` on (not in the constructor).
    actor_id id() const noexcept;

    /// Ask the runtime to stop this actor when the current handler (or `pre_start`) returns.
    void stop() noexcept { directive_ = directive::stop; }

    /** Ask for a fresh behaviour object when the current handler returns.
        The mailbox, id and every `actor_ref` stay valid; queued messages stay.
        Under a supervisor this counts as a failure ("restart requested"):
        the supervisor restarts by its strategy and counts it in its
        restart intensity.
    */
    void restart() noexcept { directive_ = directive::restart; }

    /** Reports a failure without throwing: when the current handler (or
        `pre_start`) returns, the actor fails with `what` exactly as if it had
        thrown — except that the message it handled is not a dead letter.
        Its supervisor (or the root guardian) decides what happens next.
    */
    void fail(std::string what);

    /// The system's timer service (its clock may be a test's manual clock).
    timer_service& timers() const noexcept;

    /** Sleeps on the system clock; parks only this actor.

        @return false if the system began shutting down (the stop token fired).
    */
    bool sleep_for(std::chrono::nanoseconds d) const;

    /// Fires when the system shuts down or this actor is asked to stop;
    /// long-running handlers poll it.
    std::stop_token stop_token() const noexcept;

    /// The system this actor runs in (a non-owning handle valid while the actor runs).
    spindle::system& system() const noexcept;

private:
    friend class detail::actor_cell;
    template<class, class...>
    friend class actor;
    detail::actor_cell* cell_ = nullptr;
    directive directive_ = directive::resume;
    std::unique_ptr<std::string> reported_; ///< set by `fail`
};

/** Base class of a typed actor.

    @code
    struct add { int n; };
    struct total {};

    struct counter : spindle::actor<counter, add, total>
    {
        int sum = 0;
        void on(add const& m) { sum += m.n; }
        int on(total) { return sum; } // the reply to an ask
    };
    @endcode

    @tparam Self The derived class (CRTP).
    @tparam Messages Every user message type the actor accepts. For each, the
    class has a handler `on(M)` (by value, `M const&` or `M&&`); its return
    value is the reply to an `ask` (ignored for `tell`). Sending any other
    type is a compile error naming the actor and the message.

    A handler may block fiber-style (`ask(...).get()`, `sleep_for`, a fiber
    channel): only this actor waits; its mailbox keeps filling in order.
    System messages (start, stop) need no declaration.
*/
template<class Self, class... Messages>
class actor : public actor_base
{
public:
    /// The declared message set.
    using message_types = detail::type_list<Messages...>;

    /// A typed reference to this actor. Valid from `pre_start` on.
    actor_ref<Self> self() const noexcept;
};

} // namespace spindle

#endif
