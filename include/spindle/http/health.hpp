//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_HEALTH_HPP
#define SPINDLE_HTTP_HEALTH_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>
#include <spindle/enums.hpp>
#include <spindle/http/health_status.hpp>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

/** @file
    Health checks that run in the background, and their report in the
    format of the IETF draft "Health Check Response Format for HTTP APIs"
    (`application/health+json`), which `GET /health` serves.

    Each check runs on its interval on a plain thread of the monitor's
    (never on a Spindle worker, so a check may block: a database ping, an
    `ask(...).get()`), with a deadline: a run that has not returned by then
    counts as failed at once (its stop token is signalled; the monitor does
    not start it again before it returns). A request reads the latest
    results, so `/health` is cheap and never waits for a check.

    Time (intervals and deadlines) runs on the system's timer service, so a
    system on a @ref spindle::manual_clock drives the checks in tests.
*/

namespace spindle {
class system;
}

namespace spindle::http {

/** What one run of a check found: one object of the IETF `checks` map. */
struct check_result
{
    /// pass, warn (working but degraded) or fail.
    health_status status = health_status::pass;

    /// Why, for warn and fail (the IETF `output`); empty for pass.
    std::string output;

    /// What was measured (the IETF `observedValue`); null for nothing.
    boost::json::value observed_value;

    /// The unit of `observed_value` (`observedUnit`), e.g. "ms", "MiB", "percent".
    std::string observed_unit;

    /// A passing result, with an optional observation.
    static check_result pass(boost::json::value observed = nullptr, std::string unit = {})
    {
        return {health_status::pass, {}, std::move(observed), std::move(unit)};
    }

    /// A degraded result and why.
    static check_result warn(std::string why, boost::json::value observed = nullptr, std::string unit = {})
    {
        return {health_status::warn, std::move(why), std::move(observed), std::move(unit)};
    }

    /// A failed result and why.
    static check_result fail(std::string why, boost::json::value observed = nullptr, std::string unit = {})
    {
        return {health_status::fail, std::move(why), std::move(observed), std::move(unit)};
    }
};

/** A health check: called on a plain thread, at most one run at a time.
    It should return soon after `stop` is requested (the deadline passed, or
    the monitor stops). An exception it throws makes the result `fail`,
    with the exception's text.
*/
using check_function = std::function<check_result(std::stop_token stop)>;

/** Options of one check. */
struct check_options
{
    /// Time between two runs (the first runs when the check is added); 0: the monitor's.
    std::chrono::nanoseconds interval{0};

    /// How long one run may take; 0: the monitor's.
    std::chrono::nanoseconds deadline{0};

    /// The IETF `componentType`: "component", "datastore", "system", ...
    std::string component_type = "component";

    /// The IETF `componentId`; empty sends none.
    std::string component_id;
};

/** The warn and fail levels of a built-in check's measurement: the check
    warns when the value is above `warn` and fails when it is above `fail`.
    Infinity (the default) turns a level off. */
struct health_threshold
{
    /// Above this the check warns.
    double warn = std::numeric_limits<double>::infinity();

    /// Above this the check fails (which also makes `/readyz` answer 503).
    double fail = std::numeric_limits<double>::infinity();

    /// The status of `value` against the levels.
    health_status status_of(double value) const noexcept
    {
        if(value > fail)
            return health_status::fail;
        if(value > warn)
            return health_status::warn;
        return health_status::pass;
    }
};

/** The levels of the built-in checks. The defaults suit a service: they
    warn about what an operator should look at, and fail nothing that a
    busy but working service shows (a failing check makes `/readyz` 503,
    and a load balancer then sends no more traffic). Rates are per minute
    over the time since the check's previous run (at least its interval),
    on the system's clock.
*/
struct health_thresholds
{
    /** `actor_system:responsiveness`: the probe actor's round trip, ms.
        A probe that does not answer within the check's deadline (a stalled
        worker) fails whatever the levels. Default: warn above 500 ms. */
    health_threshold responsiveness_ms{500};

    /// `actor_system:mailbox_depth`: the deepest mailbox, messages. Default: warn above 10,000.
    health_threshold mailbox_depth{10'000};

    /// `actor_system:dead_letters`: dead letters per minute. Default: warn above 60 (one a second).
    health_threshold dead_letters_per_minute{60};

    /** `supervisors:restarts`: restarts per minute. An escalation since the
        previous run fails whatever the levels. Default: warn on any
        restart (or an actor restarting now), fail above 60 a minute (a
        crash loop). */
    health_threshold restarts_per_minute{0, 60};

    /// `system:memory`: resident size, MiB. Default: off.
    health_threshold memory_mib{};

    /// `system:cpu`: percent of one core. Default: off.
    health_threshold cpu_percent{};
};

/** Options of a @ref health_monitor. */
struct health_options
{
    /// Interval of the built-in checks, and of checks that give none.
    std::chrono::nanoseconds check_interval = defaults::health_check_interval;

    /// Deadline of the built-in checks, and of checks that give none.
    std::chrono::nanoseconds check_deadline = defaults::health_check_deadline;

    /// Run the built-in checks (actor system, supervisors, executors,
    /// breakers, the process's figures).
    bool builtin_checks = true;

    /// The warn and fail levels of the built-in checks.
    health_thresholds thresholds{};

    /// If not 0, replaces `thresholds.mailbox_depth.warn` (the older way to set it).
    std::size_t mailbox_depth_warn = 0;

    /// If not 0, replaces `thresholds.memory_mib.warn` (the older way to set it).
    std::size_t memory_warn_mib = 0;

    /// The IETF `serviceId`; empty: the system's name.
    std::string service_id;

    /// The IETF `description`.
    std::string description;

    /// The IETF `version` (of the service's public interface); empty sends none.
    std::string version;

    /// The IETF `releaseId` (of the implementation); empty sends none.
    std::string release_id;
};

/** One entry of a @ref health_report. */
struct check_entry
{
    /// The key in the IETF `checks` map, "component:measurement" by convention.
    std::string name;
    /// The check's IETF `componentType`.
    std::string component_type;
    /// The check's IETF `componentId` (may be empty).
    std::string component_id;
    /// The latest result (a pending one is `warn` with output "not run yet").
    check_result result;
    /// When the latest result was obtained (wall clock); epoch if not yet.
    std::chrono::system_clock::time_point time{};
};

/** The latest results of every check. */
struct health_report
{
    /// The worst status of all entries (pass if there is none).
    health_status status = health_status::pass;
    /// The entries, in the order their checks were added.
    std::vector<check_entry> checks;
    /// True once every check has a result of its own.
    bool complete = false;
    /// False once the system is stopping or its workers stopped answering
    /// (`actor_system:responsiveness` failed): what `/livez` reports.
    bool live = true;
};

/** Runs health checks in the background and keeps their latest results.

    @code
    spindle::http::health_monitor health(sys);
    health.add_check("database:ping", [&](std::stop_token) {
        return db.ping() ? check_result::pass() : check_result::fail("no answer");
    });
    @endcode

    The built-in checks (unless `builtin_checks` is off):
    - `actor_system:responsiveness` — a round trip to a probe actor of the
      monitor's, in ms; fails if it does not answer within the deadline, or
      once the system stops;
    - `actor_system:mailbox_depth` — the deepest mailbox, with its actor;
    - `actor_system:dead_letters` — dead letters since the previous run;
    - `supervisors:restarts` — restarts since the previous run (an actor
      restarting now counts as one); fails if a supervisor escalated since
      the previous run;
    - `executor:tasks` — tasks running over all executors (queued in the
      output): warns if tasks were rejected or stopped answering since the
      previous run;
    - `executor:circuit_breakers` — breakers not closed: warns if any;
    - `system:tasks_running`, `system:actors_active`,
      `system:streams_active`, `system:memory` (resident MiB),
      `system:cpu` (percent of one core since the previous run).

    The first six, memory and CPU warn and fail at the levels of
    `health_options::thresholds` (@ref health_thresholds).

    @par Thread safety
    All members may be called concurrently from any thread (not from a
    check). The system must outlive the monitor.
*/
class SPINDLE_DECL health_monitor
{
public:
    /** Starts the monitor and its built-in checks (their first run at once).

        @param sys The system watched; its timer service drives the checks.
        @param opts The options.
        @throws spindle::system_error `error::invalid_argument` for a
        non-positive interval or deadline, or what spawning the probe actor
        throws (`system_stopped`).
    */
    explicit health_monitor(spindle::system& sys, health_options opts = {});

    /// Calls @ref stop.
    ~health_monitor();

    health_monitor(health_monitor const&) = delete;
    health_monitor& operator=(health_monitor const&) = delete;

    /** Adds a check, which first runs now and then on its interval.

        @param name Its key in the report: not empty, no control characters,
        not used by another check.
        @param fn The check.
        @param opts Its options.
        @param ec `error::invalid_argument` for a bad name, an empty `fn` or
        a negative interval or deadline, `error::system_stopped` after
        @ref stop; cleared otherwise.
    */
    void add_check(std::string name, check_function fn, check_options opts, boost::system::error_code& ec);

    /// Throwing form of @ref add_check. @throws spindle::system_error
    void add_check(std::string name, check_function fn, check_options opts = {});

    /** Removes a check and its results. A run in progress is asked to stop
        and not waited for.
        @return False if there was no such check.
    */
    bool remove_check(std::string_view name);

    /// The latest results.
    health_report report() const;

    /** The latest results as the IETF `application/health+json` document,
        rendered when a result changes (so reading it is cheap).
        @return Never null.
    */
    std::shared_ptr<std::string const> document() const;

    /// The overall status of the latest results.
    health_status status() const noexcept;

    /// What `/livez` answers: see @ref health_report::live.
    bool live() const noexcept;

    /// What `/readyz` answers: every check has run, none fails, and the
    /// monitor is not stopping.
    bool ready() const noexcept;

    /** Stops the checks: no run starts any more, runs in progress are asked
        to stop and waited for (a run that ignores its stop token is left
        behind on its thread after the deadline). Idempotent.
    */
    void stop() noexcept;

    /// @cond
    struct impl;
    /// @endcond

private:
    std::shared_ptr<impl> impl_;
};

/** Writes the IETF `application/health+json` document of a report.

    @param r The report.
    @param opts The service's identification (`serviceId`, `description`,
    `version`, `releaseId`).
    @return The JSON text.
*/
SPINDLE_DECL std::string to_health_json(health_report const& r, health_options const& opts);

} // namespace spindle::http

#endif
