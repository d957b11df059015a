//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_CHAOS_HOOKS_HPP
#define SPINDLE_DETAIL_CHAOS_HOOKS_HPP

#include <spindle/detail/config.hpp>

#include <atomic>

namespace spindle {
class actor_base;
namespace detail {

struct envelope;
struct envelope_vtable;

/** What a fault-injection component installs into core (`spindle::chaos`
    does).

    With no table installed (the default), a handled message or a remote
    send costs one load of `chaos_hooks_table` and nothing else.
*/
struct chaos_hooks
{
    /// Before a user message's handler runs, on the actor's fiber. It may
    /// park the fiber (latency, mailbox delay) or throw (an injected
    /// failure, handled as the handler's own: supervision restarts).
    void (*before_handler)(actor_base& self, envelope_vtable const& vt);

    /// Before a message goes to a remote actor (`spindle::remote`), named by
    /// its NATS subject: how many copies to publish (0: the message is lost
    /// on the wire; 2: it arrives twice).
    int (*remote_send)(char const* subject) noexcept;
};

/// The installed table, null when fault injection is off. Tables are never freed.
SPINDLE_DECL extern std::atomic<chaos_hooks const*> chaos_hooks_table;

/** Runs `h.before_handler` for the message in `e`. When it throws, the
    envelope is discarded as a failed handler's would be (a pending reply
    fails with `error::handler_failed`) and the exception propagates.
*/
SPINDLE_DECL void chaos_before_handler(chaos_hooks const& h, envelope* e, actor_base& self);

} // namespace detail
} // namespace spindle

#endif
