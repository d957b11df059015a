//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_EVENT_STREAM_HPP
#define SPINDLE_EVENT_STREAM_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/enums.hpp>
#include <spindle/id.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace spindle {

/** One lifecycle or supervision event of a system. */
struct event
{
    /// Unique id of this event.
    event_id id;
    /// Increasing per system, starting at 1: the publication order (gaps
    /// are events nobody wanted).
    std::uint64_t sequence = 0;
    /// What happened.
    event_type type = event_type::custom;
    /// Wall-clock time of publication.
    std::chrono::system_clock::time_point time{};
    /// The actor concerned; nil for events of other components.
    actor_id source;
    /// The actor's registered name, or the component ("executor", "breaker/<name>").
    std::string source_name;
    /// The actor's demangled C++ type, if an actor.
    std::string actor_type;
    /// Human-readable detail: exit reason, exception text, message type.
    std::string detail;
};

/** Which events a subscriber wants: a set of types, optionally one source. */
class event_filter
{
    std::uint32_t mask_ = 0;
    actor_id source_;

public:
    /// Matches nothing.
    constexpr event_filter() noexcept = default;

    /// Every event.
    static event_filter all() noexcept
    {
        event_filter f;
        f.mask_ = ~0u;
        return f;
    }

    /// Events of the listed types.
    static event_filter of(std::initializer_list<event_type> types) noexcept
    {
        event_filter f;
        for(auto t : types)
            f.mask_ |= bit(t);
        return f;
    }

    /// Also requires `source == id` (chainable).
    event_filter& from(actor_id id) noexcept
    {
        source_ = id;
        return *this;
    }

    /// The type mask (bit `1 << type`).
    std::uint32_t mask() const noexcept { return mask_; }

    /// True if `e` passes.
    bool matches(event const& e) const noexcept
    {
        return (mask_ & bit(e.type)) && (source_.is_nil() || source_ == e.source);
    }

    /// The mask bit of one type.
    static constexpr std::uint32_t bit(event_type t) noexcept
    {
        return 1u << static_cast<unsigned>(t);
    }
};

/** Options of one subscription. */
struct subscribe_options
{
    /// Events buffered for this subscriber; past it new events are dropped
    /// for this subscriber only (counted in `dropped`).
    std::size_t buffer = defaults::event_buffer;
};

namespace detail {
struct event_stream_impl;
}

/** The event stream of a system: lifecycle and supervision events fanned
    out to subscribers.

    Publishing never waits on a subscriber: each subscription has its own
    bounded buffer and its own delivery thread, so a slow (even blocking)
    callback delays only its own events; when its buffer is full, further
    events are dropped for it and counted. Events nobody subscribed to cost a
    relaxed load and nothing else.

    The stream also keeps the last `recent_capacity` events of the rare
    types (actor_failed, actor_restarted, supervisor_escalated,
    deadline_missed, task_failed, task_timed_out, circuit_opened,
    circuit_half_open, circuit_closed, custom) for pages and logs that start
    late.

    The event types are those of @ref event_type (`<spindle/enums.hpp>`).

    @par Thread safety
    All member functions are thread-safe. A callback may call `unsubscribe`,
    even its own.
*/
class SPINDLE_DECL event_stream
{
public:
    /// Events kept for `recent()`.
    static constexpr std::size_t recent_capacity = 256;

    event_stream();
    ~event_stream();
    event_stream(event_stream const&) = delete;
    event_stream& operator=(event_stream const&) = delete;

    /** Calls `fn` on a delivery thread of its own with every event that
        `filter` matches, in publication order.

        @return The subscription's @ref handler_id (`<spindle/id.hpp>`), for `unsubscribe`.

        @throws spindle::system_error `invalid_argument` if `fn` is empty or
        `opts.buffer` is zero.
    */
    handler_id subscribe(event_filter filter, std::function<void(event const&)> fn, subscribe_options opts = {});

    /** Ends a subscription. Events still buffered for it are discarded.
        Unless called from the subscription's own callback, waits until a
        callback in progress has returned, so `fn`'s captures may be
        destroyed afterwards.

        @return false if `h` is unknown (already unsubscribed).
    */
    bool unsubscribe(handler_id h) noexcept;

    /** Publishes an event; fills in its id and time.
        A no-op (no allocation) when no subscriber wants the type and it is
        not kept for `recent()`.
    */
    void publish(event e) noexcept;

    /// True if publishing an event of type `t` would reach anyone: lets
    /// publishers skip building the strings.
    bool wants(event_type t) const noexcept;

    /// Events published (that reached at least a subscriber or the recent list).
    std::uint64_t published() const noexcept;

    /// Events dropped over all subscribers because their buffers were full.
    std::uint64_t dropped() const noexcept;

    /// Events dropped for one subscriber (0 if unknown).
    std::uint64_t dropped(handler_id h) const noexcept;

    /// The most recent rare events, oldest first.
    std::vector<event> recent() const;

    /// Stops every delivery thread (the system calls this at the end of shutdown).
    void close() noexcept;

private:
    std::unique_ptr<detail::event_stream_impl> impl_;
};

} // namespace spindle

#endif
