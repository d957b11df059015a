//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_STREAM_OPTIONS_HPP
#define SPINDLE_STREAM_OPTIONS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/error.hpp>
#include <spindle/retry.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

/** @file
    The vocabulary of streams (`<spindle/stream.hpp>`): backpressure
    strategies, error handling, options, statistics and errors.
*/

namespace spindle {

/** The errors a stream ends with, besides `error::cancelled` (cancelled
    from outside) and `error::system_stopped` (its system shut down).
*/
enum class stream_error
{
    /// A stage threw and its @ref error_action is `stop`; the stream's
    /// failure names the stage and carries the exception.
    stage_failed = 1,
    /// A stage under `error_action::retry` failed on every attempt its
    /// retry policy allows.
    retries_exhausted,
    /// A buffer under `backpressure::wait` stayed full for the whole wait:
    /// the stage behind it (its consumer, often the sink) cannot keep up.
    sink_full,
    /// A sink could not deliver: its channel was closed, or its actor stopped.
    sink_closed
};

/// The category of @ref stream_error. Its `name()` is `"spindle.stream"`.
SPINDLE_DECL boost::system::error_category const& stream_category() noexcept;

/// Makes an `error_code` from a @ref stream_error (found by ADL).
inline boost::system::error_code make_error_code(stream_error e) noexcept
{
    return {static_cast<int>(e), stream_category()};
}

/** What a producer does when the bounded buffer in front of the next stage
    (or the sink) is full. The design's four strategies.
*/
enum class backpressure : std::uint8_t
{
    /// Suspend the producing fiber until there is room. Only that fiber
    /// waits; its worker thread keeps running other fibers and actors.
    /// Nothing is lost. The default.
    block,
    /// Wait for room up to `buffer_options::wait` (on the system clock),
    /// then fail the stream with `stream_error::sink_full`.
    wait,
    /// Drop the new item (counted as `dropped` at the stage behind the buffer).
    drop,
    /// Keep the buffer bounded by dropping its oldest item to make room for
    /// the new one (counted as `dropped`).
    buffer
};

/// @return `"block"`, `"wait"`, `"drop"` or `"buffer"`.
SPINDLE_DECL std::string_view to_string(backpressure b) noexcept;

/// Writes `to_string(b)`.
SPINDLE_DECL std::ostream& operator<<(std::ostream& os, backpressure b);

/** What a stage does when its function throws for an item. */
enum class error_action : std::uint8_t
{
    /// Fail the stream: `stream_error::stage_failed`, naming the stage. The default.
    stop,
    /// Skip the item and count it (`errors`); the stream goes on.
    skip,
    /// Try the item again after the retry policy's backoff (on the system
    /// clock; the stage's fiber parks meanwhile); when every attempt failed,
    /// fail the stream with `stream_error::retries_exhausted`. Needs
    /// copyable items (each attempt gets a copy).
    retry
};

/// @return `"stop"`, `"skip"` or `"retry"`.
SPINDLE_DECL std::string_view to_string(error_action a) noexcept;

/// Writes `to_string(a)`.
SPINDLE_DECL std::ostream& operator<<(std::ostream& os, error_action a);

/** The order in which `map_parallel` emits its results. */
enum class ordering : std::uint8_t
{
    /// In input order: a slow item holds back the faster ones after it.
    ordered,
    /// As they complete.
    unordered
};

/** A bounded buffer between two fibers of a stream, and its backpressure.

    The defaults are the design's: 1000 items, a 100 ms wait, a 0.8
    threshold; the strategy defaults to `block`, the one that never loses
    an item.
*/
struct buffer_options
{
    /// Items the buffer holds, at least 1.
    std::size_t capacity = defaults::stream_buffer_size;

    /// What a producer does when the buffer is full.
    backpressure strategy = backpressure::block;

    /// How long `backpressure::wait` waits for room (system clock); not negative.
    std::chrono::nanoseconds wait = defaults::stream_backpressure_wait;

    /** The fill ratio, in (0, 1], whose crossing counts a backpressure
        event (`backpressure_events`, metric
        `spindle_stream_backpressure_events_total`): one each time the
        depth rises from below `threshold * capacity` to at or above it.
    */
    double threshold = defaults::stream_backpressure_threshold;
};

/** How one stage runs. Every field has a default. */
struct stage_options
{
    /** The stage's name: in errors ("stage 'parse' failed: ...") and in the
        `processor` label of its metrics. Empty: `<kind>-<position>`, e.g.
        `map-2` (positions count from the source, which is `source`; the sink
        is `sink`). Names are unique within a stream.
    */
    std::string name;

    /// What an exception from the stage's function does.
    error_action on_error = error_action::stop;

    /// Attempts and backoff of `error_action::retry` (the executor's policy).
    retry_policy retry{};

    /** Set: the stage gets its own fiber behind a buffer with these options
        (an asynchronous boundary: it is not fused with the stage before it).
        Unset: the stage is fused with the stages before it when it can be,
        and gets the stream's default buffer when it cannot (batch,
        throttle, map_parallel and sinks always have a buffer in front).
    */
    std::optional<buffer_options> buffer;
};

/** How a whole stream runs. */
struct stream_options
{
    /** The stream's name: the `stream` label of its metrics and the first
        word of its errors. Runs with the same name add up in the same
        series, so the number of series stays bounded by the names a program
        uses. Empty: `"stream"`.
    */
    std::string name;

    /** Fuse adjacent stateless stages (map, filter, flat_map, processors)
        into one fiber, without a buffer between them, as Akka Streams
        does. False: every stage runs on a fiber of its own behind a buffer
        (to measure the hops, or to spread heavy stages over workers).
    */
    bool fuse = true;

    /// The buffer of every boundary without options of its own.
    buffer_options buffer{};
};

/** What one stage of a running stream has done so far.

    Items are counted by the source items they stand for: a batch of five
    counts five. Once the stream completed, every stage satisfies
    `in + created == out + filtered + errors`; its `dropped` items were lost
    before it received them (in its input buffer, or refused by a sink's
    actor), and count in the stream's `dropped`. Once the stream ended
    (completed, failed or cancelled), every stage satisfies
    `reached + created == out + filtered + dropped + errors + discarded`,
    where `reached` is what the stage before it passed on (for the source,
    its `in`); `discarded` is 0 for a completed stream.
*/
struct stage_stats
{
    std::string name;                      ///< the stage's name
    std::string kind;                      ///< source, map, filter, flat_map, via, batch, throttle, map_parallel, sink
    std::uint64_t in = 0;                  ///< items received (for the source: produced)
    std::uint64_t out = 0;                 ///< items passed on (for the sink: delivered)
    std::uint64_t filtered = 0;            ///< items a filter (or an empty flat_map) removed
    std::uint64_t dropped = 0;             ///< items lost before it: dropped by its input buffer (drop, buffer) or refused by a sink's actor
    std::uint64_t errors = 0;              ///< items whose processing threw (skipped, or the one that failed)
    std::uint64_t created = 0;             ///< items a flat_map added (three out of one adds two)
    /// Items that reached it (its input buffer included) and were lost
    /// because the stream failed or was cancelled; counted once it ended.
    std::uint64_t discarded = 0;
    std::uint64_t backpressure_events = 0; ///< threshold crossings of its input buffer
    std::size_t buffer_depth = 0;          ///< items in its input buffer now (0 without one)
    std::size_t buffer_capacity = 0;       ///< capacity of its input buffer (0 without one)
};

/** What a stream has done so far (a snapshot; exact once it ended).

    `in` counts what entered: the items the source produced plus those
    flat_map stages created. Once the stream ended, whatever the end,
    `in == out + filtered + dropped + errors + discarded`: a completed
    stream discards nothing; a failed or cancelled one counts what it held
    (in its buffers, in a batch being filled, in a stage's hands) as
    `discarded`, also exported as `spindle_stream_items_total{status="discarded"}`.
*/
struct stream_stats
{
    std::string name;                      ///< the stream's name
    std::uint64_t in = 0;                  ///< items produced by the source, plus created
    std::uint64_t out = 0;                 ///< items the sink delivered
    std::uint64_t filtered = 0;            ///< sum over the stages
    std::uint64_t dropped = 0;             ///< sum over the stages
    std::uint64_t errors = 0;              ///< sum over the stages
    std::uint64_t discarded = 0;           ///< sum over the stages (0 until the stream ended)
    std::uint64_t backpressure_events = 0; ///< sum over the stages
    std::size_t fibers = 0;                ///< stage fibers (and map_parallel lanes) not finished yet
    bool running = false;                  ///< true until the stream ended
    std::vector<stage_stats> stages;       ///< source first, sink last
};

/** The exception `stream_handle::get` throws when a stream failed: a
    `spindle::system_error` with the stream's error code, which also names
    the stage that failed and keeps what it threw.

    `what()` starts like `stream 'lines': stage 'parse' failed: bad number`
    (then the error code's message, as for any `system_error`).
*/
class stream_failure : public boost::system::system_error
{
    std::string stage_;
    std::exception_ptr cause_;

public:
    /** Constructs the exception.

        @param ec The stream's error.
        @param what The full message.
        @param stage The failed stage's name (empty if no stage failed).
        @param cause What the stage threw, or null.
    */
    stream_failure(boost::system::error_code ec, std::string const& what, std::string stage, std::exception_ptr cause)
        : boost::system::system_error(ec, what), stage_(std::move(stage)), cause_(std::move(cause))
    {
    }

    /// @return The name of the stage that failed (empty if none did: cancelled, system stopped).
    std::string const& stage() const noexcept { return stage_; }

    /// @return What the stage threw, or null.
    std::exception_ptr const& cause() const noexcept { return cause_; }
};

} // namespace spindle

/// @cond
template<>
struct boost::system::is_error_code_enum<spindle::stream_error> : std::true_type
{
};
/// @endcond

#endif
