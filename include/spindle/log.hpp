//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_LOG_HPP
#define SPINDLE_LOG_HPP

#include <spindle/detail/config.hpp>

#include <boost/log/core/record.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/shared_ptr.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <climits>
#include <exception>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

/** @file
    Spindle's own logging, on Boost.Log.

    Quiet by default: until a threshold is set (by @ref spindle::log::init_console
    and its siblings, or @ref spindle::log::set_threshold) a `SPINDLE_LOG`
    statement costs one relaxed atomic load, evaluates none of its operands
    and builds no record, so not even an application's own Boost.Log sinks
    see anything.

    Every record carries its attributes per record, never thread-scoped ones
    (fibers move between threads and share them):

    | name (@ref spindle::log::attr) | value type | value |
    |---|---|---|
    | `Channel` | `std::string` | always `"spindle"` |
    | `Severity` | @ref spindle::log::severity | |
    | `Component` | `std::string` | e.g. `"actor"`, `"runtime"` |
    | `ActorId` | `std::string` | only from `SPINDLE_LOG_ACTOR` |
    | `TimeStamp` | `boost::posix_time::ptime` | UTC, when the record was made |
    | `Message` | `std::string` | the streamed text |

    An application that has its own sinks can keep Spindle's records out of
    them, or pick them out, with a filter on `Channel`:
    @code
    namespace expr = boost::log::expressions;
    sink->set_filter(expr::attr<std::string>("Channel") != "spindle");
    @endcode
*/

namespace spindle::log {

/** How important a record is. */
enum class severity : int
{
    trace,
    debug,
    info,
    warning,
    error,
    fatal
};

/** Writes the severity's name (`trace`, `debug`, `info`, `warning`,
    `error`, `fatal`).
    @param os The stream.
    @param s The severity.
    @return `os`.
    @par Thread safety
    Safe to call from any thread.
*/
SPINDLE_DECL std::ostream& operator<<(std::ostream& os, severity s);

/** The names of the attributes on every Spindle record (see the table in
    this header's description). */
namespace attr {
/// `std::string`, always @ref spindle::log::channel_value.
inline constexpr char const channel[] = "Channel";
/// @ref spindle::log::severity.
inline constexpr char const severity[] = "Severity";
/// `std::string`: which part of Spindle wrote the record.
inline constexpr char const component[] = "Component";
/// `std::string`: the actor the record is about (`SPINDLE_LOG_ACTOR` only).
inline constexpr char const actor_id[] = "ActorId";
/// `boost::posix_time::ptime`, UTC.
inline constexpr char const timestamp[] = "TimeStamp";
} // namespace attr

/// The value of the `Channel` attribute on every Spindle record.
inline constexpr char const channel_value[] = "spindle";

namespace detail {
inline constexpr int threshold_off = INT_MAX;
extern SPINDLE_DECL std::atomic<int> threshold;
} // namespace detail

/** Returns whether records of severity `s` are built at all.

    One relaxed atomic load; the logging macros check it before evaluating
    anything else.

    @param s The severity.
    @return `true` if `s` is at or above the threshold.
    @par Thread safety
    Safe to call from any thread.
*/
inline bool is_enabled(severity s) noexcept
{
    return static_cast<int>(s) >= detail::threshold.load(std::memory_order_relaxed);
}

/** Builds records at or above `min` from now on.

    The `init_*` functions set it for their sink; an application that feeds
    Spindle's records only to its own Boost.Log sinks sets it itself.

    @param min The least severity that is built.
    @par Thread safety
    Safe to call from any thread; other threads see the change soon, not at once.
*/
SPINDLE_DECL void set_threshold(severity min) noexcept;

/** Builds no record at all from now on (the initial state).
    @par Thread safety
    Safe to call from any thread.
*/
SPINDLE_DECL void disable() noexcept;

/** Returns the current threshold, or nothing when logging is disabled.
    @par Thread safety
    Safe to call from any thread.
*/
SPINDLE_DECL std::optional<severity> threshold() noexcept;

/** Writes Spindle's records at or above `min` to `std::clog`.

    Installs Spindle's sink (replacing one installed before) and sets the
    threshold to `min`. The sink is asynchronous: a dedicated thread writes
    the records, so logging never blocks the caller. It takes only records
    on the `spindle` channel and leaves the core's global filter alone, so
    the application's own logging is unaffected. Each record is one line:
    @code
    ts=2026-01-02T03:04:05.123456Z sev=info component=actor actor=a7 msg="started \"worker\""
    @endcode
    `component` and `actor` are quoted when they contain spaces, `=`, quotes
    or control characters; `msg` is always quoted, with `"`, `\`, and control
    characters escaped (`\n`, `\r`, `\t`, `\xHH`), so every record stays on
    one line.

    @param min The least severity written.
    @throws boost::thread_resource_error if the writer thread cannot start.
    @par Thread safety
    Safe to call from any thread; calls are serialised with each other and
    with @ref flush and @ref shutdown.
*/
SPINDLE_DECL void init_console(severity min = severity::info);

/** Like @ref init_console, appending to the file at `path`.
    @param path The file; created if missing.
    @param min The least severity written.
    @throws spindle::system_error naming the path if the file cannot be
    opened (the previous sink, if any, stays in place).
    @par Thread safety
    As @ref init_console.
*/
SPINDLE_DECL void init_file(std::filesystem::path const& path, severity min = severity::info);

/** Like @ref init_file, reporting failure through `ec`.
    @param path The file; created if missing.
    @param min The least severity written.
    @param ec Set to the system error if the file cannot be opened (the
    previous sink, if any, stays in place), cleared otherwise.
    @par Thread safety
    As @ref init_console.
*/
SPINDLE_DECL void init_file(
    std::filesystem::path const& path, severity min, boost::system::error_code& ec);

/** Like @ref init_console, writing to `strm` (for tests and embedding).
    @param strm The stream. It is written only by the sink's thread; read it
    after @ref flush or @ref shutdown.
    @param min The least severity written.
    @throws spindle::system_error with `error::invalid_argument` if `strm` is null.
    @par Thread safety
    As @ref init_console.
*/
SPINDLE_DECL void init_stream(boost::shared_ptr<std::ostream> strm, severity min = severity::info);

/** Waits until every record handed to Spindle's sink before this call has
    been written. Does nothing without a sink.

    Loggers are not held up meanwhile; the caller blocks, so call it from a
    plain thread (or accept that a fiber's worker waits).

    @par Thread safety
    Safe to call from any thread.
*/
SPINDLE_DECL void flush();

/** Writes out what is queued, removes Spindle's sink, stops its thread and
    disables logging. Calling it again does nothing; a later `init_*` works
    as the first one did.

    Call it before the program exits: records still queued at exit are lost.
    Records made concurrently with the call may be lost as well.

    @par Thread safety
    Safe to call from any thread.
*/
SPINDLE_DECL void shutdown();

namespace detail {

// Opens a record with Spindle's attributes, or returns an empty record if
// no sink wants it. `actor` is null when the record is about no actor.
SPINDLE_DECL boost::log::record open_record(
    severity s, std::string_view component, std::string_view const* actor) noexcept;

// Hands a record to the sinks; never throws (logging must not kill a fiber).
SPINDLE_DECL void push_record(boost::log::record& rec) noexcept;

template<class Actor>
boost::log::record open_actor_record(
    severity s, std::string_view component, Actor const& actor) noexcept
{
    if constexpr(std::is_convertible_v<Actor const&, std::string_view>)
    {
        std::string_view const id(actor);
        return open_record(s, component, &id);
    }
    else
    {
        try
        {
            std::ostringstream os;
            os << actor;
            std::string const str = std::move(os).str();
            std::string_view const id(str);
            return open_record(s, component, &id);
        }
        catch(...)
        {
            return {};
        }
    }
}

// Streams into an open record and pushes it when the statement ends, the
// way Boost.Log's own record pump does. A statement left by an exception
// discards its record.
class record_pump
{
public:
    explicit record_pump(boost::log::record& rec)
        : rec_(rec)
        , strm_(rec)
        , exceptions_(std::uncaught_exceptions())
    {
    }

    record_pump(record_pump const&) = delete;
    record_pump& operator=(record_pump const&) = delete;

    ~record_pump()
    {
        if(std::uncaught_exceptions() <= exceptions_)
        {
            strm_.detach_from_record();
            push_record(rec_);
        }
        // Ends the macro's loop whether or not the record was pushed.
        rec_.reset();
    }

    boost::log::record_ostream& stream() noexcept
    {
        return strm_;
    }

private:
    boost::log::record& rec_;
    boost::log::record_ostream strm_;
    int exceptions_;
};

} // namespace detail

} // namespace spindle::log

/// @cond
#define SPINDLE_LOG_DETAIL_STREAM_(sev, open)                                                  \
    for(::boost::log::record spindle_log_record_ =                                             \
            ::spindle::log::is_enabled(::spindle::log::severity::sev) ? open                  \
                                                                      : ::boost::log::record(); \
        !!spindle_log_record_;)                                                                \
    ::spindle::log::detail::record_pump(spindle_log_record_).stream()
/// @endcond

/** Streams one Spindle record: `SPINDLE_LOG(info, "actor") << "started " << n;`

    @param sev A @ref spindle::log::severity enumerator name (`trace`,
    `debug`, `info`, `warning`, `error`, `fatal`).
    @param component Something convertible to `std::string_view` naming the
    part of Spindle that logs.

    When the severity is below the threshold, neither `component` nor the
    streamed operands are evaluated. An exception thrown by a streamed
    operand propagates and discards the record.
*/
#define SPINDLE_LOG(sev, component)                                                            \
    SPINDLE_LOG_DETAIL_STREAM_(                                                                \
        sev, ::spindle::log::detail::open_record(::spindle::log::severity::sev, (component), nullptr))

/** Like `SPINDLE_LOG`, adding an `ActorId` attribute:
    `SPINDLE_LOG_ACTOR(warning, "mailbox", id) << "full";`

    @param sev A @ref spindle::log::severity enumerator name.
    @param component The part of Spindle that logs.
    @param actor The actor's id: a string, or anything with `operator<<`.
*/
#define SPINDLE_LOG_ACTOR(sev, component, actor)                                               \
    SPINDLE_LOG_DETAIL_STREAM_(sev,                                                            \
        ::spindle::log::detail::open_actor_record(                                             \
            ::spindle::log::severity::sev, (component), (actor)))

#endif
