//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_LOAD_RUNNER_HPP
#define SPINDLE_LOAD_RUNNER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/load/config.hpp>
#include <spindle/load/histogram.hpp>
#include <spindle/timer.hpp>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stop_token>
#include <string>
#include <vector>

namespace spindle::load {

class runner_impl;

/// What a step handler gets besides its step.
class step_context
{
public:
    std::size_t user;         ///< the virtual user (closed model) or the lane (open model)
    std::uint64_t iteration;  ///< the user's scenario count so far
    std::mt19937_64& rng;     ///< seeded from the config's seed and the user
    std::stop_token stop;     ///< requested when the run ends early (`runner::stop`)
    timer_service& timers;    ///< the run's clock

    /** Sleeps on the run's clock (parks the fiber). Use it rather than
        `timers.sleep_for` so that `runner::quiescent` knows the fiber waits
        for time.

        @return False if the run was stopped meanwhile.
    */
    SPINDLE_DECL bool sleep_for(std::chrono::nanoseconds d);

    /// Made by the runner for each request (not by users).
    step_context(runner_impl& r, std::size_t u, std::uint64_t it, std::mt19937_64& g, std::stop_token st,
        timer_service& t) noexcept
        : user(u), iteration(it), rng(g), stop(std::move(st)), timers(t), runner_(&r)
    {
    }

private:
    runner_impl* runner_;
};

/** Performs one request of a step.

    @return An empty code for a success; otherwise the failure, counted
    under the kind "<category>: <message>". An exception counts as a
    failure of kind "exception: <what>".
*/
using step_handler = std::function<boost::system::error_code(step const&, step_context&)>;

/// Counts and latencies of a set of requests.
struct request_stats
{
    std::uint64_t count = 0;     ///< requests made
    std::uint64_t successes = 0; ///< requests that succeeded
    std::uint64_t failures = 0;  ///< requests that failed (`errors` by kind)
    std::map<std::string, std::uint64_t> errors; ///< failures by kind
    /// From the intended start (open model) or the actual start (closed).
    histogram response;
    /// From the actual start: the time the system took (equal to `response`
    /// in the closed model).
    histogram service;

    /// Adds `other` in.
    SPINDLE_DECL void merge(request_stats const& other);
};

/// One second of a run, by completion time.
struct second_sample
{
    std::int64_t second = 0; ///< since the start
    std::uint64_t count = 0;    ///< requests that ended in this second
    std::uint64_t failures = 0; ///< of which failed
    double mean_ms = 0;         ///< mean response time
    double p50_ms = 0;          ///< median response time
    double p99_ms = 0;          ///< 99th percentile response time
    double max_ms = 0;          ///< longest response time
    std::uint32_t active = 0; ///< users (closed) or scenarios in flight (open) at the end of the second
};

/// A step's results within its scenario.
struct step_results
{
    std::string name;    ///< the step's name
    step_kind kind;      ///< what the step does
    request_stats stats; ///< its requests
};

/// A scenario's results: its runs and its steps.
struct scenario_results
{
    std::string name;                ///< the scenario's name
    std::uint64_t runs = 0;          ///< scenarios started
    request_stats stats;             ///< its steps together
    std::vector<step_results> steps; ///< in config order (waits included, with no requests)
};

/// What `runner::run` returns.
struct load_results
{
    std::string name;                      ///< the config's name
    load_model model = load_model::closed; ///< the config's model
    std::chrono::nanoseconds elapsed{0}; ///< start to the last request's end
    request_stats total;                     ///< every request
    std::vector<scenario_results> scenarios; ///< per scenario, in config order
    std::vector<second_sample> series;       ///< one sample per second of the run
    bool stopped_early = false;              ///< `runner::stop` ended the run before its end

    /// @return Requests per second over `elapsed`.
    SPINDLE_DECL double rps() const noexcept;
    /// @return failures / count (0 with no requests).
    SPINDLE_DECL double error_rate() const noexcept;
};

/// Whether results meet a config's SLO.
struct slo_verdict
{
    bool passed = true;              ///< every objective met
    std::vector<std::string> misses; ///< "p99 12.3 ms > 10 ms", one per missed objective
};

/// @return The verdict of `r` against `s` (an empty SLO always passes).
SPINDLE_DECL slo_verdict check_slo(load_results const& r, slo const& s);

/** The results as JSON: latencies in milliseconds (`mean`, `p50`, `p90`,
    `p95`, `p99`, `p99_9`, `max`), counts, `errors` by kind, `rps`, per
    scenario and per step, and `series` (one object per second).
*/
SPINDLE_DECL boost::json::value to_json(load_results const& r);

/// A section of the application's own in an HTML report: a title and JSON shown as is.
struct report_section
{
    std::string title;          ///< the section's heading
    boost::json::value content; ///< shown as formatted JSON
};

/** A self-contained HTML report: summary table, per-step table, SLO
    verdict, and SVG plots of latency over time (p50, p99, max per second),
    requests per second, and the latency histogram, then `sections`. No
    script, no external resource.
*/
SPINDLE_DECL std::string html_report(load_results const& r, slo_verdict const& verdict,
    std::vector<report_section> const& sections = {});

/// A progress report, once a second of the run's clock.
struct progress
{
    std::chrono::nanoseconds elapsed{0}; ///< since the start
    std::uint64_t count = 0;    ///< requests so far
    std::uint64_t failures = 0; ///< failed requests so far
    double rps = 0;    ///< in the last second
    double p99_ms = 0; ///< in the last second
    std::uint32_t active = 0;   ///< users (closed) or scenarios in flight (open) now
};

/// How a run is carried out.
struct runner_options
{
    /// The run's clock; null: a real-time timer service of the runner's
    /// own. Give a service on a `manual_clock` to test time-dependent
    /// behaviour. It must outlive the run.
    timer_service* timers = nullptr;
    /// Called once a second (of the run's clock) on the runner's thread;
    /// must not block.
    std::function<void(progress const&)> on_progress;
    /// One handler per step kind (`wait` needs none).
    std::array<step_handler, 6> handlers;

    /// Binds `h` to the steps of kind `k`. @return *this.
    runner_options& on(step_kind k, step_handler h)
    {
        handlers[static_cast<std::size_t>(k)] = std::move(h);
        return *this;
    }
};

/** Runs a load test on fibers of a thread of its own.

    Closed model: `users` fibers, user `i` starting at `ramp_up * i / users`,
    each picking scenarios by weight (its own generator, seeded from the
    config's `seed` and `i`) and running their steps in order, pausing
    the think time after every request, until the duration ends or it ran
    `iterations` scenarios. Open model: scenarios start at `rate` per
    second whatever happens to the earlier ones, on at most `max_in_flight`
    fibers; a start that finds them all busy waits in a queue, and its
    first request's response time counts from the intended start while its
    service time counts from the actual one (as wrk2 does).

    Requests already running when the duration ends are waited for and
    counted. Handlers run on the runner's thread, one fiber per user: they
    may park the fiber (ask, a fiber-aware wait) but must not block the
    thread, which runs every user.

    @par Thread safety
    `start`, `wait` and `run` from one thread; `stop`, `quiescent` and
    `running` from any.
*/
class runner
{
public:
    /** Checks the configuration and the handlers.

        @throws config_error for a bad configuration, or a step whose kind
        has no handler (the field names the step).
    */
    SPINDLE_DECL runner(load_test_config cfg, runner_options opts = {});
    /// Stops the run (as `stop`) and waits for it.
    SPINDLE_DECL ~runner();

    runner(runner const&) = delete;
    runner& operator=(runner const&) = delete;

    /// Starts the run on a new thread. @throws std::logic_error if started before.
    SPINDLE_DECL void start();
    /// Waits for the run to end (blocks the calling thread: not from a fiber) and returns its results.
    SPINDLE_DECL load_results wait();
    /// `start` then `wait`.
    SPINDLE_DECL load_results run();
    /// Ends the run early: no new request starts, running ones finish.
    SPINDLE_DECL void stop() noexcept;
    /// @return True between `start` and the end of the run.
    SPINDLE_DECL bool running() const noexcept;
    /** For tests on a manual clock: true when every fiber of the run is
        asleep on the run's clock (or done), so advancing the clock is the
        only thing that can make progress.
    */
    SPINDLE_DECL bool quiescent() const noexcept;

private:
    std::unique_ptr<runner_impl> impl_;
};

} // namespace spindle::load

#endif
