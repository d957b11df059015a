//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_TRACE_HOOKS_HPP
#define SPINDLE_DETAIL_TRACE_HOOKS_HPP

#include <spindle/detail/config.hpp>

#include <atomic>

namespace spindle {
class actor_base;
namespace detail {

struct envelope;
struct envelope_vtable;

/** A trace context travelling with an envelope (see `spindle::trace`).

    Core never looks inside: it only releases the carrier with the envelope
    that holds it, through the carrier's own function, so a carrier outlives
    the hooks that made it.
*/
struct trace_carrier
{
    void (*release)(trace_carrier* self) noexcept;
};

/** What a tracing component installs into core (`spindle::trace` does).

    With no table installed (the default), a send and a handled message each
    cost one relaxed load of `trace_hooks_table` and nothing else.
*/
struct trace_hooks
{
    /// At post: the sender's context (the calling fiber's current span), or
    /// null; the envelope owns the result.
    trace_carrier* (*capture)() noexcept;

    /// Before a user message's handler runs: takes `carried` (may be null)
    /// over and returns a scope token handed to `end`.
    void* (*begin)(trace_carrier* carried, actor_base& self, envelope_vtable const& vt) noexcept;

    /// After the handler: `failed` when it threw.
    void (*end)(void* scope, bool failed) noexcept;
};

/// The installed table, null when tracing is off. Tables are never freed.
SPINDLE_DECL extern std::atomic<trace_hooks const*> trace_hooks_table;

/// Runs a user message's handler inside `h.begin`/`h.end`.
SPINDLE_DECL void traced_invoke(trace_hooks const& h, envelope* e, actor_base& self);

} // namespace detail
} // namespace spindle

#endif
