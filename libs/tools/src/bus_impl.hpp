//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_SRC_BUS_IMPL_HPP
#define SPINDLE_TOOLS_SRC_BUS_IMPL_HPP

// The tool bus's internals, shared by its sources (not installed).

#include <spindle/tools/json_schema.hpp>
#include <spindle/tools/tool.hpp>
#include <spindle/tools/tool_bus.hpp>

#include <spindle/detail/spinlock.hpp>
#include <spindle/detail/trace_hooks.hpp>
#include <spindle/executor.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>
#include <spindle/task.hpp>

#include <boost/container/small_vector.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spindle::tools::detail {

using time_point = timer_service::time_point;

/// The series of one tool, owned by the system's metrics registry.
struct tool_series
{
    metrics::striped_counter* calls = nullptr;
    metrics::striped_counter* successes = nullptr;
    /// Indexed by `tool_error`; null for the kinds a call cannot end with.
    std::array<metrics::counter*, 12> errors{};
    metrics::histogram* execution = nullptr;
};

class bus_impl;

/// One registered tool. Immutable once published, but for `last_ns`.
struct tool_entry
{
    /// Keeps the bus alive for the calls of this tool still running (their
    /// contexts may call other tools). ~tool_bus empties the tables, which
    /// ends the cycle bus -> table -> entry -> bus.
    std::shared_ptr<bus_impl> bus;
    tool_id id;
    tool_schema schema;
    tool_options options; // identity resolved
    std::shared_ptr<tool> impl;
    json_schema params;
    std::optional<json_schema> returns;
    boost::json::object function_spec;
    tool_series series;
    mutable std::atomic<std::int64_t> last_ns{0}; ///< of the latest execution
};

struct string_hash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct tool_table
{
    std::unordered_map<tool_id, std::shared_ptr<tool_entry>> by_id;
    std::unordered_map<std::string, std::shared_ptr<tool_entry>, string_hash, std::equal_to<>> by_name;
};

/// What one agent may use. Names are sorted.
struct agent_grants
{
    bool all = false;
    std::vector<std::string> granted; ///< without `all`
    std::vector<std::string> denied;  ///< with `all`: revoked since
};

/** What a credential points to. Made only by the bus; a credential is
    valid on a bus while that bus's table holds this very record.
*/
struct agent_record
{
    agent_id id;
    std::uint64_t bus_serial = 0; ///< which bus issued it (for the message only)
};

struct permission_table
{
    std::unordered_map<agent_id, agent_grants> agents;
    std::unordered_map<agent_id, std::string> names;
    /// The registered agents' records (their credentials point to them).
    std::unordered_map<agent_id, std::shared_ptr<agent_record const>> credentials;
};

/// Makes and opens credentials (their constructor is private to the bus).
struct credential_access
{
    static agent_credential make(std::shared_ptr<agent_record const> r, std::weak_ptr<call_frame const> via,
                                 bool delegated) noexcept
    {
        return agent_credential(std::move(r), std::move(via), delegated);
    }
    static agent_record const* record(agent_credential const& c) noexcept { return c.rec_.get(); }
    static std::shared_ptr<agent_record const> const& shared_record(agent_credential const& c) noexcept
    {
        return c.rec_;
    }
    static std::shared_ptr<call_frame const> via(agent_credential const& c) noexcept { return c.via_.lock(); }
};

/// Owns the bus's executor; lives in the snapshots, so the bus can tell
/// when no caller can reach the executor any more.
struct executor_box
{
    spindle::executor exec;
    executor_box(spindle::system& sys, executor_options o) : exec(sys, std::move(o)) {}
};

/// The immutable snapshot calls read: replaced whole by writers.
struct bus_state
{
    std::shared_ptr<tool_table const> tools;
    std::shared_ptr<permission_table const> perms;
    std::shared_ptr<executor_box> exec; ///< null once the bus stops
};

/// What a call's tool produced, as the runner hands it back.
struct call_outcome
{
    boost::json::value value;
    boost::system::error_code ec;
    std::string detail;
};

/// The state of one call, shared by the caller, the runner (and the tool's
/// context), the call's timer and the caller's stop callback.
struct call_frame
{
    std::shared_ptr<tool_entry const> entry; ///< and through it, the bus
    boost::container::small_vector<agent_id, 2> chain; ///< outermost first; back() is the caller
    time_point deadline;
    std::stop_token stop;      ///< the task's; set by the runner before the tool runs
    boost::json::value params; ///< moved into the tool by the runner
    /// True while the tool's `execute` runs: its delegated credentials work only then.
    std::atomic<bool> running{false};

    /// The call's span (spindle::trace's hooks; doc/tracing.md), null when
    /// tracing is off: started on the caller's fiber, a child of its current
    /// span, ended by the runner, or here if the tool never ran.
    void* trace_span = nullptr;
    spindle::detail::trace_hooks const* trace = nullptr;

    call_frame() = default;
    call_frame(call_frame const&) = delete;
    call_frame& operator=(call_frame const&) = delete;
    ~call_frame()
    {
        if(trace_span)
            trace->finish(trace_span, true, "the tool did not run");
    }

    // Cancellation, which may come before the task is submitted (the
    // timer is armed first): whoever comes second cancels the task.
    enum reason : int
    {
        none,
        deadline_passed,
        caller_cancelled
    };
    spindle::detail::spinlock lock;
    task_handle<call_outcome> handle;
    int why = none;

    void request_cancel(int r) noexcept
    {
        task_handle<call_outcome> h;
        {
            std::lock_guard lk(lock);
            if(why == none)
                why = r;
            h = handle;
        }
        h.cancel();
    }

    void attach(task_handle<call_outcome> const& h) noexcept
    {
        bool cancel;
        {
            std::lock_guard lk(lock);
            handle = h;
            cancel = why != none;
        }
        if(cancel)
            h.cancel();
    }

    /// Breaks the cycle frame -> handle -> task -> runner -> frame.
    int detach() noexcept
    {
        task_handle<call_outcome> h;
        std::lock_guard lk(lock);
        h = std::move(handle);
        return why;
    }
};

class bus_impl : public std::enable_shared_from_this<bus_impl>
{
public:
    spindle::system& sys_;
    timer_service& timers_;
    metrics::registry& reg_;
    tool_bus_options opts_;
    std::uint64_t serial_; ///< tells this bus's credentials from another's
    metrics::counter* not_found_ = nullptr;
    metrics::collector_id last_collector_{};

    std::atomic<std::shared_ptr<bus_state const>> state_;
    std::mutex write_mtx_;           ///< writers only; never held across a suspension
    std::shared_ptr<executor_box> exec_owner_;

    bus_impl(spindle::system& sys, tool_bus_options opts);

    std::shared_ptr<bus_state const> load() const noexcept { return state_.load(std::memory_order_acquire); }

    /// Publishes a copy of the current state changed by `edit` (write_mtx_ held).
    template<class F>
    void update(F&& edit)
    {
        auto cur = load();
        auto next = std::make_shared<bus_state>(*cur);
        edit(*next);
        state_.store(std::move(next), std::memory_order_release);
    }

    std::string agent_label(permission_table const& p, agent_id a) const;

    /** One call. On error, `*message` (if given) is `tool "x" called by
        agent ...: <detail>`, and `*who` the length of its part before the
        detail, so the error's own text can go in between.
    */
    boost::json::value call(agent_credential const& agent, tool_key key, boost::json::value params,
                            call_options const& opts, boost::system::error_code& ec, std::string* message,
                            std::size_t* who = nullptr);

    /** Registers an agent (write_mtx_ not held).
        @return Its credential, or an empty one with `ec` set.
    */
    agent_credential add_agent(agent_id id, std::string_view name, boost::system::error_code& ec);

    call_outcome run(std::shared_ptr<call_frame> const& f, std::stop_token st) noexcept;

    tool_id register_tool(std::shared_ptr<tool> t, tool_options const& opts, boost::system::error_code& ec,
                          std::string* why);

    void shutdown(std::chrono::nanoseconds deadline);
};

/// The bus's internals, for the component's functions outside the class (describe).
struct bus_access
{
    static bus_impl const& of(tool_bus const& b) noexcept { return *b.impl_; }
};

/// Builds the message of a failed call: `tool "x" called by agent ...: <detail>`.
std::string describe_call(std::string_view tool, std::string_view agents, std::string_view detail,
                          std::size_t* who = nullptr);

/// Puts the error's own text after the caller part of a message.
std::string with_error_text(std::string message, std::size_t who, boost::system::error_code const& ec);

} // namespace spindle::tools::detail

#endif
