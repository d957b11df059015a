//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_LOAD_CONFIG_HPP
#define SPINDLE_LOAD_CONFIG_HPP

#include <spindle/detail/config.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spindle::load {

/// What a step does. The runner times every kind but `wait`, which it
/// performs itself; the others run the handler bound to their kind.
enum class step_kind
{
    tell,   ///< send a message to an actor (no reply)
    ask,    ///< ask an actor and wait for the reply
    tool,   ///< call a tool on a tool bus
    stream, ///< push items through a stream
    http,   ///< an HTTP request
    wait    ///< pause the user for `wait` (not a request)
};

/// @return The name of `k` as the JSON configuration spells it ("ask", ...).
SPINDLE_DECL std::string_view to_string(step_kind k) noexcept;

/// One step of a scenario.
struct step
{
    std::string name;            ///< unique within its scenario (default: kind and position, "ask#1")
    step_kind kind = step_kind::ask; ///< what the step does
    std::string target;          ///< actor name, tool name, stream name or URL path
    std::string method = "GET";  ///< HTTP method (http steps)
    std::string type;            ///< the message's wire type name (tell and ask over NATS: `Spindle-Type`)
    boost::json::value payload;  ///< message, tool parameters or HTTP body
    std::uint32_t items = 1;     ///< items to push (stream steps)
    std::chrono::nanoseconds wait{0};    ///< how long a `wait` step pauses
    std::chrono::nanoseconds timeout{0}; ///< the request's timeout (0: the config's)
};

/// A weighted sequence of steps; a user runs whole scenarios.
struct scenario
{
    std::string name;         ///< shown in the per-scenario results
    double weight = 1;        ///< relative frequency (> 0)
    std::vector<step> steps;  ///< at least one
};

/// How load is offered.
enum class load_model
{
    /// `users` virtual users each run scenarios back to back (with think
    /// time): the classic closed model; a slow system slows the offered load.
    closed,
    /// Scenarios start at a fixed `rate` whatever the system does (wrk2's
    /// model): response times count from the intended start, so queueing
    /// in the load generator is not hidden (no coordinated omission).
    open
};

/// The service level a run must meet for `tools/load` to exit 0.
struct slo
{
    std::optional<double> p99_ms;     ///< highest acceptable p99 response time
    std::optional<double> error_rate; ///< highest acceptable failures / requests, in [0, 1]
};

/** A load test, usually read from JSON with `parse_config`.

    The JSON form (every field but `scenarios` is optional):
    @code
    { "name": "demo", "model": "closed", "duration_s": 10,
      "users": 20, "ramp_up_s": 2, "think_time_ms": {"min": 0, "max": 20},
      "iterations": 0, "rate": 500, "max_in_flight": 64, "timeout_ms": 1000,
      "seed": 42, "slo": {"p99_ms": 50, "error_rate": 0.01},
      "scenarios": [
        { "name": "ask", "weight": 3, "steps": [
            {"kind": "ask", "target": "echo", "payload": "hi", "type": "demo.echo"},
            {"kind": "wait", "ms": 5},
            {"kind": "tool", "target": "calculator", "payload": {"expression": "1+2"}} ] } ] }
    @endcode
    `think_time_ms` is a number (fixed) or `{min, max}` (uniform).
*/
struct load_test_config
{
    std::string name = "load test";              ///< shown in the results and the report
    load_model model = load_model::closed;       ///< closed (users) or open (arrival rate)
    std::chrono::nanoseconds duration = std::chrono::seconds(10); ///< how long the run lasts
    std::uint32_t users = 1;                     ///< closed model: virtual users
    std::chrono::nanoseconds ramp_up{0};         ///< closed model: user i starts at ramp_up * i / users
    std::chrono::nanoseconds think_min{0};       ///< closed model: pause after each request, uniform in [min, max]
    std::chrono::nanoseconds think_max{0};       ///< closed model: the upper bound of the pause
    std::uint64_t iterations = 0;                ///< closed model: scenarios per user (0: until the duration ends)
    double rate = 0;                             ///< open model: scenario starts per second (> 0)
    std::uint32_t max_in_flight = 64;            ///< open model: concurrent scenarios at most
    std::chrono::nanoseconds timeout = std::chrono::seconds(5); ///< default step timeout
    std::uint64_t seed = 1;                      ///< every random choice derives from it
    struct slo slo;                              ///< what the run must meet
    std::vector<scenario> scenarios;             ///< what users do, chosen by weight
};

/** A configuration that cannot be used: `field()` names the JSON member
    ("scenarios[1].steps[0].kind") and `what()` says "field: problem".
*/
class config_error : public std::invalid_argument
{
public:
    /** @param field The path of the offending member.
        @param problem What is wrong with it.
    */
    config_error(std::string field, std::string const& problem)
        : std::invalid_argument(field + ": " + problem), field_(std::move(field))
    {
    }
    /// @return The path of the offending member.
    std::string const& field() const noexcept { return field_; }

private:
    std::string field_;
};

/** Reads a configuration from JSON and checks it.

    @param v The JSON document (an object).
    @param problem Set, when it fails, to the error (field and problem).
    @return The configuration, or nothing when it fails.
*/
SPINDLE_DECL std::optional<load_test_config> parse_config(boost::json::value const& v,
    std::optional<config_error>& problem);

/// Throwing form. @throws config_error naming the field.
SPINDLE_DECL load_test_config parse_config(boost::json::value const& v);

/** Reads a configuration from a JSON file.

    @throws config_error (field "" for unreadable files or malformed JSON,
    with the parser's line and column).
*/
SPINDLE_DECL load_test_config load_config_file(std::string const& path);

/** Checks a configuration built in code (the same rules as parsing).

    @throws config_error naming the field as its JSON form spells it.
*/
SPINDLE_DECL void validate(load_test_config const& cfg);

} // namespace spindle::load

#endif
