//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_CHAOS_HPP
#define SPINDLE_CHAOS_HPP

/// spindle::chaos: fault injection by name (link target `spindle::chaos`).
/// See doc/load-and-chaos.md.

#include <spindle/detail/config.hpp>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace spindle {
class timer_service;
}

namespace spindle::chaos {

/// Where a fault can be injected; rules select sites with a mask of these.
enum class site : unsigned
{
    handler = 1,     ///< an actor's message handler (named by the actor's type)
    tool = 2,        ///< a tool call (named by the tool), see `<spindle/chaos/tools.hpp>`
    task = 4,        ///< an executor task wrapped with @ref wrap
    stream = 8,      ///< a stream stage's function wrapped with @ref wrap
    remote_send = 16 ///< a message a `spindle::remote` node sends (named by its NATS subject)
};

/// Every site.
inline constexpr unsigned all_sites = 31;

/// @return The name of `s` as JSON spells it ("handler", "tool", ...).
SPINDLE_DECL std::string_view to_string(site s) noexcept;

/// How an injected latency is drawn.
enum class distribution
{
    fixed,      ///< always `value`
    uniform,    ///< uniform in [`value`, `max`]
    exponential ///< exponential with mean `value`
};

/// Latency injected with a probability.
struct latency_spec
{
    double probability = 0; ///< how often a call is delayed (0 to 1)
    distribution dist = distribution::fixed; ///< how the delay is drawn
    std::chrono::nanoseconds value{0}; ///< the delay (fixed), its lower bound (uniform) or its mean (exponential)
    std::chrono::nanoseconds max{0};   ///< the upper bound of a uniform delay
};

/** One fault-injection rule: what happens, how often, and where.

    Each fault is drawn on its own: a call may be delayed and then fail.
*/
struct rule
{
    std::string name;        ///< shown in stats and the HTTP API (default "rule#N")
    std::string pattern = "*"; ///< glob ('*', '?') over the target's name
    unsigned sites = all_sites; ///< mask of @ref site
    latency_spec latency;    ///< extra latency before the call
    double error_probability = 0; ///< the call fails with `error`
    /// The injected error (JSON: "timed_out", "connection_refused",
    /// "io_error", "handler_failed" or "unavailable").
    boost::system::error_code error = std::make_error_code(std::errc::timed_out);
    double crash_probability = 0;  ///< the call throws @ref injected_crash (a handler's actor restarts)
    double drop_probability = 0;   ///< remote sends: the message is not sent
    double duplicate_probability = 0; ///< remote sends: the message is sent twice
    double mailbox_delay_probability = 0; ///< handlers: the message waits `mailbox_delay` before its handler
    std::chrono::nanoseconds mailbox_delay{0}; ///< how long a delayed message waits
};

/// What was decided for one call.
struct decision
{
    std::chrono::nanoseconds delay{0};         ///< latency and mailbox delay together
    bool error = false;              ///< the call fails with `code`
    boost::system::error_code code;  ///< the injected error (when `error`)
    bool crash = false;              ///< the call throws @ref injected_crash
    bool drop = false;               ///< a remote send is not sent
    bool duplicate = false;          ///< a remote send is sent twice
    /// @return True if anything is injected.
    explicit operator bool() const noexcept { return delay.count() > 0 || error || crash || drop || duplicate; }
};

/// What a rule did so far.
struct rule_stats
{
    std::string name;            ///< the rule's name
    std::uint64_t matched = 0;   ///< calls it applied to
    std::uint64_t delayed = 0;   ///< calls it delayed
    std::uint64_t errors = 0;    ///< calls it failed
    std::uint64_t crashes = 0;   ///< calls it crashed
    std::uint64_t drops = 0;     ///< remote sends it dropped
    std::uint64_t duplicates = 0; ///< remote sends it duplicated
    std::uint64_t mailbox_delays = 0; ///< messages it held before their handler
};

/// The exception of an injected crash.
class injected_crash : public std::runtime_error
{
public:
    /// @param where The target the crash was injected into (named in `what()`).
    explicit injected_crash(std::string const& where) : std::runtime_error("chaos: injected crash in " + where) {}
};

/// The exception of an injected error (carries the rule's error code).
class injected_error : public boost::system::system_error
{
public:
    /** @param ec The rule's error code.
        @param where The target the error was injected into (named in `what()`).
    */
    injected_error(boost::system::error_code ec, std::string const& where)
        : boost::system::system_error(ec, "chaos: injected error in " + where)
    {
    }
};

/** A set of rules, a seed, and the switch that turns them on.

    Decisions are reproducible: each rule draws its n-th decision from a
    counter-based generator keyed by the seed, the rule and n, so the same
    seed and the same number of calls inject the same number of faults,
    whatever the threads' interleaving. Starts off: nothing is injected
    before `enable(true)`.

    @par Thread safety
    Every member may be called concurrently; new rules apply to the calls
    that start after `set_rules` returns.
*/
class SPINDLE_DECL controller
{
public:
    /// @param seed The seed of every decision.
    explicit controller(std::uint64_t seed = 1);
    ~controller();
    controller(controller const&) = delete;
    controller& operator=(controller const&) = delete;

    /** Replaces the rules (and their counters and stats).

        @throws std::invalid_argument naming the rule and field, for a
        probability outside [0, 1] or a negative duration.
    */
    void set_rules(std::vector<rule> rules);
    /// @return The rules in force.
    std::vector<rule> rules() const;
    /// Turns injection on or off (rules and stats are kept).
    void enable(bool on) noexcept;
    /// @return Whether injection is on.
    bool enabled() const noexcept;
    /// @return The seed.
    std::uint64_t seed() const noexcept;
    /// Replaces the seed and restarts every rule's sequence.
    void reseed(std::uint64_t seed);
    /// The clock latencies sleep on (null: the fiber's own sleep, real time).
    void set_timers(timer_service* t) noexcept;

    /** Decides what to inject into one call at `s` on `name`: the first
        rule whose sites and pattern match decides.

        @return Nothing injected when off or no rule matches.
    */
    decision decide(site s, std::string_view name) noexcept;

    /** Decides and applies: sleeps the delay (parks a fiber), then throws
        for an error or a crash. For tasks, stream stages and the like.

        @return The decision (drops and duplicates are the caller's).
        @throws injected_error, injected_crash.
    */
    decision apply(site s, std::string_view name, std::stop_token st = {});

    /// @return Each rule's counts, in rule order.
    std::vector<rule_stats> stats() const;

    /** The state as JSON: `{"enabled", "seed", "rules": [...], "stats": [...]}`;
        rules in the form @ref update accepts.
    */
    boost::json::value to_json() const;

    /** Changes the state from JSON: any of `"enabled"` (bool), `"seed"`
        (number), `"rules"` (array of rules:
        `{"name", "pattern", "sites": ["handler", ...], "latency":
        {"probability", "distribution": "fixed|uniform|exponential", "ms",
        "max_ms"}, "error": {"probability", "code"}, "crash": p, "drop": p,
        "duplicate": p, "mailbox_delay": {"probability", "ms"}}`).

        @param v The JSON object.
        @param problem Set to "field: problem" when it fails (nothing changes then).
        @return Whether it applied.
    */
    bool update(boost::json::value const& v, std::string& problem);

    struct state;

private:
    std::shared_ptr<state> state_;
};

/** Makes `c` decide for every actor's handlers (site `handler`, named by
    the actor's type without `(anonymous namespace)::`) and every message
    a `spindle::remote` node sends (site `remote_send`, named by its NATS
    subject: a drop is not published, a duplicate is published twice),
    process-wide.
    Latency and mailbox delay park the actor (on its system's clock); an
    error or a crash fails the handler as if it threw, so the actor's
    supervisor restarts it and the message goes to dead letters. Only one
    controller is installed at a time; `c` must outlive it (uninstall
    first).
*/
SPINDLE_DECL void install(controller& c) noexcept;
/// Removes the handler hook if `c` is the one installed.
SPINDLE_DECL void uninstall(controller& c) noexcept;

/** Wraps a task's or a stream stage's function: each call first goes
    through `c.apply(s, name)`.

    @param c The controller; must outlive the wrapper.
    @param s `site::task` or `site::stream`, usually.
    @param name What rules match against.
    @param f The function.
*/
template<class F>
auto wrap(controller& c, site s, std::string name, F f)
{
    return [&c, s, name = std::move(name), f = std::move(f)](auto&&... args) mutable -> decltype(auto)
        requires std::is_invocable_v<F&, decltype(args)...>
    {
        c.apply(s, name);
        return f(std::forward<decltype(args)>(args)...);
    };
}

} // namespace spindle::chaos

#endif
