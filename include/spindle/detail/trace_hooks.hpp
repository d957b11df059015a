//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_TRACE_HOOKS_HPP
#define SPINDLE_DETAIL_TRACE_HOOKS_HPP

#include <spindle/detail/config.hpp>

#include <atomic>
#include <string>
#include <string_view>

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

    /// Across a process boundary (spindle::remote): writes the carried
    /// context as a W3C `traceparent` (55 characters and a NUL into `tp`)
    /// and `tracestate` (empty when it has none); false, writing nothing,
    /// when the carrier holds no valid context.
    bool (*inject)(trace_carrier const* carried, char* tp, std::string& tracestate) noexcept;

    /// On a receiving thread or fiber: makes the context of the W3C headers
    /// current (as a remote parent, without a span of its own) until `leave`,
    /// so that messages posted meanwhile carry it. Null when `traceparent` is
    /// not valid (then nothing changes).
    void* (*enter)(std::string_view traceparent, std::string_view tracestate) noexcept;

    /// Restores what `enter` or `activate` replaced.
    void (*leave)(void* token) noexcept;

    /** A span of a server or a library (spindle::http's requests): started
        as a child of the W3C headers' context if `traceparent` is valid, else
        of the calling fiber's current span. `kind` is the OTLP number. The
        token goes to `finish` exactly once. Null if it cannot be started.
    */
    void* (*start)(std::string_view name, int kind, std::string_view traceparent,
        std::string_view tracestate) noexcept;

    /// Makes a span from `start` current in the calling fiber until `leave`
    /// (with the returned token), so that messages sent meanwhile carry it.
    void* (*activate)(void* span) noexcept;

    /// Sets a string attribute on a span from `start` (ignored if not recorded).
    void (*set_string)(void* span, std::string_view key, std::string_view value) noexcept;

    /// Sets an integer attribute on a span from `start`.
    void (*set_int)(void* span, std::string_view key, long long value) noexcept;

    /// Writes the `traceparent` of a span from `start` (55 characters and a NUL).
    void (*traceparent)(void* span, char* tp) noexcept;

    /// Ends a span from `start` (status error if `failed`, with `message`)
    /// and frees the token; it must not be current any more.
    void (*finish)(void* span, bool failed, std::string_view message) noexcept;
};

/// The length of a version-00 `traceparent`.
inline constexpr std::size_t traceparent_size = 55;

/// The installed table, null when tracing is off. Tables are never freed.
SPINDLE_DECL extern std::atomic<trace_hooks const*> trace_hooks_table;

/// Runs a user message's handler inside `h.begin`/`h.end`.
SPINDLE_DECL void traced_invoke(trace_hooks const& h, envelope* e, actor_base& self);

} // namespace detail
} // namespace spindle

#endif
