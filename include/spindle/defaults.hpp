//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DEFAULTS_HPP
#define SPINDLE_DEFAULTS_HPP

#include <spindle/enums.hpp>

#include <chrono>
#include <cstddef>

/** The default values of Spindle's options.

    Every option struct initialises its members from these constants, so a
    default is stated once and documentation, code and tests agree. Changing
    one changes behaviour for every user who did not set the option: treat
    them as part of the API.
*/
namespace spindle::defaults {

// Supervision

/// Default of `restart_intensity::max_restarts` (a supervisor's
/// `supervisor_spec::intensity`, and the root guardian's): how many restarts
/// are allowed within `restart_intensity::window` before the supervisor
/// gives up and escalates.
inline constexpr std::size_t max_restarts = 3;

/// Default of `restart_intensity::window`: the sliding window in which
/// restarts are counted against `restart_intensity::max_restarts`.
inline constexpr std::chrono::seconds restart_window{60};

/// The first delay of `restart_backoff::exponential()`, the recommended
/// backoff. Not a default: `restart_backoff::base` is zero by default, so
/// a supervisor restarts at once unless given a backoff.
inline constexpr std::chrono::milliseconds restart_backoff_base{100};

/// Default of `restart_backoff::max`: the cap on the restart delay.
inline constexpr std::chrono::seconds restart_backoff_max{10};

/// Default of `child_spec::shutdown`: how long a supervisor waits for one
/// child to stop before reporting it and moving on (OTP's 5000 ms).
inline constexpr std::chrono::seconds child_shutdown{5};

/// Default of `subscribe_options::buffer`: events queued for one slow
/// event-stream subscriber before further ones are dropped for it.
inline constexpr std::size_t event_buffer = 1024;

// Executor

/// Default of `task_options::timeout`: how long one attempt of a task may
/// run before it times out (its stop token is triggered).
inline constexpr std::chrono::seconds task_timeout{30};

/// Default of `executor_options::queue_capacity`: how many submitted tasks
/// may wait to start; `try_submit` beyond it fails with `queue_full`, and
/// `submit` waits up to `executor_options::submit_timeout` first.
inline constexpr std::size_t task_queue_capacity = 1000;

/// Default of `executor_options::max_concurrent`: how many tasks may run at once.
inline constexpr std::size_t max_concurrent_tasks = 100;

/// Default of `executor_options::submit_timeout`: how long `submit` waits
/// for room in a full queue before it fails with `queue_full`.
inline constexpr std::chrono::seconds task_submit_timeout{1};

/// Default of `executor_options::stop_grace`: how long a task asked to stop
/// (timeout, cancel, shutdown) may keep running before it is reported as
/// unresponsive.
inline constexpr std::chrono::seconds task_stop_grace{1};

// Retry policy

/// Default of `retry_policy::max_attempts`: attempts in total, the
/// first one included.
inline constexpr std::size_t retry_max_attempts = 3;

/// Default of `retry_policy::base_delay`: the delay before the first retry.
inline constexpr std::chrono::milliseconds retry_base_delay{100};

/// Default of `retry_policy::max_delay`: the cap on every retry delay.
inline constexpr std::chrono::seconds retry_max_delay{10};

/// Default of `retry_policy::multiplier`: the growth of the delay
/// from one retry to the next.
inline constexpr double retry_multiplier = 2.0;

/// Default of `retry_policy::jitter`: the largest fraction of a
/// delay taken off at random.
inline constexpr double retry_jitter = 0.1;

// Circuit breaker

/// Default of `circuit_breaker_options::failure_threshold`: the consecutive
/// failures that open the circuit.
inline constexpr std::size_t circuit_failure_threshold = 5;

/// Default of `circuit_breaker_options::recovery_timeout`: how long an open
/// circuit fails fast before it lets trial calls through (half-open).
inline constexpr std::chrono::seconds circuit_recovery_timeout{60};

/// Default of `circuit_breaker_options::half_open_max_calls`: trial calls
/// allowed while half-open; if they all succeed the circuit closes.
inline constexpr std::size_t circuit_half_open_max_calls = 3;

// Tools and health

/// Default of `tools::tool_options::timeout` (how long one call of a tool
/// may take) and of `tools::tool_bus_options::timeout` (the bus's own cap).
inline constexpr std::chrono::seconds tool_timeout{30};

/// Default of `tools::tool_bus_options::max_concurrent`: tool calls running at once.
inline constexpr std::size_t tool_max_concurrent_calls = 256;

/// Default of `tools::tool_bus_options::queue_capacity`: calls waiting to run;
/// further calls fail at once as busy.
inline constexpr std::size_t tool_queue_capacity = 10000;

/// Default of `tools::tool_bus_options::max_depth`: agents in a chain of calls
/// made on each other's behalf.
inline constexpr std::size_t tool_max_call_depth = 8;

/// Default of `http::health_options::check_interval`: time between two runs of a
/// registered health check.
inline constexpr std::chrono::seconds health_check_interval{30};

/// Default of `http::health_options::check_deadline`: how long one run of a
/// health check may take before it counts as failed.
inline constexpr std::chrono::seconds health_check_deadline{5};

// HTTP server

/// Default of `http::server_options::max_connections`.
inline constexpr std::size_t http_max_connections = 1024;

/// Default of `http::server_options::header_limit`: bytes of request line and fields.
inline constexpr std::size_t http_header_limit = 8 * 1024;

/// Default of `http::server_options::target_limit`: bytes of request target.
inline constexpr std::size_t http_target_limit = 2 * 1024;

/// Default of `http::server_options::body_limit`: bytes of request body.
inline constexpr std::size_t http_body_limit = 64 * 1024;

/// Default of `http::server_options::read_timeout`: time to receive one request.
inline constexpr std::chrono::seconds http_read_timeout{10};

/// Default of `http::server_options::idle_timeout`: time a kept-alive
/// connection may wait for its next request.
inline constexpr std::chrono::seconds http_idle_timeout{60};

/// Default of `http::server_options::write_timeout`: time to send one response.
inline constexpr std::chrono::seconds http_write_timeout{10};

// Streams

/// Default of `buffer_options::wait`: how long a producer waits for room in
/// a full buffer under `backpressure::wait` before the stream fails with
/// `stream_error::sink_full`.
inline constexpr std::chrono::milliseconds stream_backpressure_wait{100};

/// Default of `buffer_options::capacity` (elements a stream's buffer holds)
/// and of the capacity of `push_source` and `actor_source`.
inline constexpr std::size_t stream_buffer_size = 1000;

/// Default of `buffer_options::threshold`: the fill ratio of a buffer (0 to
/// 1) whose crossing counts a backpressure event.
inline constexpr double stream_backpressure_threshold = 0.8;

// Actor runtime

/// Default of `mailbox_options::capacity`: 0 means unbounded.
inline constexpr std::size_t mailbox_capacity = 0;

/// Default of `mailbox_options::policy`: what a bounded mailbox does when full.
inline constexpr overflow_policy mailbox_overflow = overflow_policy::fail;

/// Default of `system_options::throughput`: messages an actor handles in one
/// activation before it yields its worker to other actors (fairness).
inline constexpr std::size_t throughput = 64;

/// Default of `system_options::stack_size`: bytes of stack per fiber (also
/// the stack of the fibers `task_group::spawn` and `when_any` start).
inline constexpr std::size_t fiber_stack_size = 64 * 1024;

/// Default of `system_options::ask_timeout`: how long an `ask` that gives
/// no timeout waits for its reply.
inline constexpr std::chrono::seconds ask_timeout{5};

/// Default of `system_options::shutdown_deadline` (how long shutdown waits
/// for actors to stop before it reports the ones still running), and of the
/// `shutdown_deadline` of `executor_options` and `tools::tool_bus_options`.
inline constexpr std::chrono::seconds shutdown_deadline{10};

/// Default of `system_options::spin_before_sleep`: how long an idle worker
/// thread polls for work before it sleeps (trades CPU for wake-up latency).
inline constexpr std::chrono::microseconds spin_before_sleep{50};

/// Default of `system_options::steal_stalled_after`: how long a worker may
/// go without starting an activation (a handler blocking its OS thread)
/// before the others take every actor queued on it, not only its second.
inline constexpr std::chrono::milliseconds steal_stalled_after{10};

} // namespace spindle::defaults

#endif
