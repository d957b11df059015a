//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_SPAN_HPP
#define SPINDLE_TRACE_SPAN_HPP

#include <spindle/detail/config.hpp>
#include <spindle/trace/context.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace spindle::trace {

/// An attribute value (OTLP `AnyValue`: string, bool, int, double).
using attribute_value = std::variant<std::string, bool, std::int64_t, double>;

/// A key and its value.
struct attribute
{
    std::string key;       ///< the attribute's name
    attribute_value value; ///< its value

    /// A string attribute.
    attribute(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
    /// A string attribute.
    attribute(std::string k, char const* v) : key(std::move(k)), value(std::string(v)) {}
    /// A string attribute.
    attribute(std::string k, std::string_view v) : key(std::move(k)), value(std::string(v)) {}
    /// A boolean attribute.
    attribute(std::string k, bool v) : key(std::move(k)), value(v) {}
    /// An integer attribute (stored as int64).
    template<class I>
        requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
    attribute(std::string k, I v) : key(std::move(k)), value(static_cast<std::int64_t>(v))
    {
    }
    /// A floating-point attribute.
    attribute(std::string k, double v) : key(std::move(k)), value(v) {}
};

/// The attributes of a span, an event or a link, in the order given.
using attributes = std::vector<attribute>;

/// OTLP `Span.SpanKind` (the numbers are the wire's).
enum class span_kind
{
    unspecified = 0,
    internal = 1,
    server = 2,
    client = 3,
    producer = 4,
    consumer = 5
};

/// OTLP `Status.StatusCode` (the numbers are the wire's).
enum class status_code
{
    unset = 0,
    ok = 1,
    error = 2
};

/// A timestamped event inside a span.
struct span_event
{
    std::string name;                           ///< what happened
    std::chrono::system_clock::time_point time; ///< when
    trace::attributes attributes;               ///< details
};

/// A link to another span (e.g. a batch that a message joined).
struct span_link
{
    span_context context;         ///< the span linked to
    trace::attributes attributes; ///< why
};

/// A finished span, as exporters receive it.
struct span_data
{
    span_context context;         ///< its ids, flags and trace state
    span_id parent;               ///< invalid for a root span
    std::string name;             ///< its name
    span_kind kind = span_kind::internal; ///< server, client, internal...
    std::chrono::system_clock::time_point start; ///< when it started
    std::chrono::system_clock::time_point end;   ///< when it ended
    trace::attributes attributes; ///< its attributes
    std::vector<span_event> events; ///< its events, in order
    std::vector<span_link> links; ///< its links
    status_code status = status_code::unset; ///< unset, ok or error
    std::string status_message;   ///< the error's description (status error only)
};

namespace detail {
struct span_record;
}

/// How a span starts.
struct span_options
{
    /// The span's kind.
    span_kind kind = span_kind::internal;
    /// The parent; if unset, the calling fiber's current span (if any).
    std::optional<span_context> parent;
    /// Start a root span even if the fiber has a current span.
    bool root = false;
    /// Attributes known at the start (samplers see them).
    trace::attributes attributes;
    /// Links known at the start.
    std::vector<span_link> links;
    /// The start time; now if unset.
    std::optional<std::chrono::system_clock::time_point> start;
};

/** A handle to a span: its context, and its record if it is sampled.

    Copies refer to the same span. A span that is not recording (sampled
    out, or tracing off) still has a context that children inherit, so
    sampling decisions propagate; its setters do nothing.

    @par Thread safety
    Setters and `end` may be called from any thread or fiber.
*/
class span
{
public:
    /// An invalid, non-recording span.
    span() = default;

    /** A non-recording span that carries `ctx`: what makes a context received
        from elsewhere (a `traceparent` header) current with `scope`, so that
        spans started and messages sent meanwhile are its children.
    */
    explicit span(span_context ctx) noexcept : ctx_(std::move(ctx)) {}

    /// The ids, flags and trace state.
    span_context const& context() const noexcept { return ctx_; }
    /// True if the span is recorded (sampled and not yet ended).
    SPINDLE_DECL bool is_recording() const noexcept;

    /// Sets an attribute (replacing one of the same key); nothing if not recording.
    SPINDLE_DECL void set_attribute(std::string key, attribute_value value);
    /// Adds an event, timestamped now; nothing if not recording.
    SPINDLE_DECL void add_event(std::string name, trace::attributes attrs = {});
    /// Adds a link to another span; nothing if not recording or `ctx` is invalid.
    SPINDLE_DECL void add_link(span_context ctx, trace::attributes attrs = {});
    /// Sets the status; `ok` is final, `unset` is ignored (the spec's rules).
    SPINDLE_DECL void set_status(status_code code, std::string_view message = {});
    /// Renames the span; nothing if not recording.
    SPINDLE_DECL void update_name(std::string name);
    /// Records an `exception` event (`exception.type`, `exception.message`).
    SPINDLE_DECL void record_exception(std::exception_ptr ep);

    /** Ends the span and hands it to the export pipeline; later calls do
        nothing.

        @param end the end time; now if unset.
    */
    SPINDLE_DECL void end(std::optional<std::chrono::system_clock::time_point> end = std::nullopt);

private:
    friend SPINDLE_DECL span start_span(std::string name, span_options opts);
    span_context ctx_;
    std::shared_ptr<detail::span_record> rec_;
};

/** Starts a span under the installed tracing (see `init_tracing`).

    Its parent is `opts.parent`, else the calling fiber's current span; the
    sampler decides whether it is recorded. With tracing off the result is
    a non-recording span that still carries the parent's trace.

    @par Thread safety
    Any thread or fiber.
*/
SPINDLE_DECL span start_span(std::string name, span_options opts = {});

/** The calling fiber's current span (invalid if none).

    The current span belongs to the fiber, not to the thread: a handler that
    blocks and resumes on another worker still sees its own span.
*/
SPINDLE_DECL span current_span();

/** Makes a span current in the calling fiber for the scope's lifetime and
    restores the previous one when destroyed. Scopes nest.
*/
class scope
{
public:
    /// Makes `s` the calling fiber's current span until the scope ends.
    SPINDLE_DECL explicit scope(span s);
    SPINDLE_DECL ~scope();
    scope(scope const&) = delete;
    scope& operator=(scope const&) = delete;

private:
    span previous_;
};

/** Runs `fn` inside a new span named `name`, current for its duration.

    An exception from `fn` is recorded on the span (status error and an
    `exception` event) and rethrown; the span always ends.

    @return what `fn` returns.
*/
template<class F>
decltype(auto) instrument(std::string name, F&& fn, span_options opts = {})
{
    span s = start_span(std::move(name), std::move(opts));
    struct ender
    {
        span& s;
        ~ender() { s.end(); }
    } guard{s};
    scope sc(s);
    try
    {
        return std::forward<F>(fn)();
    }
    catch(...)
    {
        s.record_exception(std::current_exception());
        s.set_status(status_code::error);
        throw;
    }
}

/** A callable that runs `F` in a child span of the span that was current
    when it was made: see `wrap`.
*/
template<class F>
class wrapped
{
public:
    /// Wraps `fn` (made by `wrap`, which captures the parent).
    wrapped(std::string name, span_kind kind, span_context parent, F fn)
        : name_(std::move(name)), kind_(kind), parent_(std::move(parent)), fn_(std::move(fn))
    {
    }

    /// Runs the callable with `args` inside the span (see `instrument`).
    template<class... Args>
        requires std::is_invocable_v<F&, Args...>
    decltype(auto) operator()(Args&&... args)
    {
        span_options o;
        o.kind = kind_;
        o.root = true; // the creator's span, not the runner's
        if(parent_.valid())
            o.parent = parent_;
        return instrument(
            name_, [&]() -> decltype(auto) { return std::invoke(fn_, std::forward<Args>(args)...); }, std::move(o));
    }

private:
    std::string name_;
    span_kind kind_;
    span_context parent_;
    F fn_;
};

/** Wraps `fn` so that it runs, wherever and whenever it is called, in a
    span named `name` that is a child of the calling fiber's current span
    now: what an executor task, a thread or a deferred callback needs to
    stay in its creator's trace.

    @code
    auto h = exec.submit(spindle::trace::wrap("resize", [&](std::stop_token st) { return resize(img, st); }));
    @endcode

    The wrapper is invocable with the same arguments as `fn` (so an
    executor still sees whether it takes a `std::stop_token`).
*/
template<class F>
wrapped<std::decay_t<F>> wrap(std::string name, F&& fn, span_kind kind = span_kind::internal)
{
    return wrapped<std::decay_t<F>>(std::move(name), kind, current_span().context(), std::forward<F>(fn));
}

} // namespace spindle::trace

#endif
