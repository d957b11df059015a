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

/// Default of the supervisor option `max_restarts`: how many times a child may
/// be restarted within @ref restart_window before the supervisor escalates.
inline constexpr std::size_t max_restarts = 3;

/// Default of the supervisor option `restart_window`: the sliding window in
/// which restarts are counted against @ref max_restarts.
inline constexpr std::chrono::seconds restart_window{60};

/// Default of the supervisor option `backoff_base`: the delay before the first
/// restart; later restarts in the window wait exponentially longer.
inline constexpr std::chrono::milliseconds restart_backoff_base{100};

/// Default of the supervisor option `backoff_max`: the cap on the restart delay.
inline constexpr std::chrono::seconds restart_backoff_max{10};

/// Default of the child option `shutdown`: how long a supervisor waits for
/// one child to stop before reporting it and moving on (OTP's 5000 ms).
inline constexpr std::chrono::seconds child_shutdown{5};

/// Default of the subscription option `buffer`: events queued for one slow
/// event-stream subscriber before further ones are dropped for it.
inline constexpr std::size_t event_buffer = 1024;

// Executor

/// Default of the executor option `task_timeout`: how long a task may run
/// before it is reported as timed out.
inline constexpr std::chrono::seconds task_timeout{30};

/// Default of the executor option `queue_capacity`: how many submitted tasks
/// may wait; further submissions are rejected.
inline constexpr std::size_t task_queue_capacity = 1000;

/// Default of the executor option `max_concurrent`: how many tasks may run at once.
inline constexpr std::size_t max_concurrent_tasks = 100;

/// Default of the executor option `submit_timeout`: how long `submit` waits
/// for room in a full queue before it fails with "queue full".
inline constexpr std::chrono::seconds task_submit_timeout{1};

/// Default of the executor option `stop_grace`: how long a task asked to stop
/// (timeout, cancel, shutdown) may keep running before it is reported as
/// unresponsive.
inline constexpr std::chrono::seconds task_stop_grace{1};

// Retry policy

/// Default of the retry policy field `max_attempts`: attempts in total, the
/// first one included.
inline constexpr std::size_t retry_max_attempts = 3;

/// Default of the retry policy field `base_delay`: the delay before the first retry.
inline constexpr std::chrono::milliseconds retry_base_delay{100};

/// Default of the retry policy field `max_delay`: the cap on every retry delay.
inline constexpr std::chrono::seconds retry_max_delay{10};

/// Default of the retry policy field `multiplier`: the growth of the delay
/// from one retry to the next.
inline constexpr double retry_multiplier = 2.0;

/// Default of the retry policy field `jitter`: the largest fraction of a
/// delay taken off at random.
inline constexpr double retry_jitter = 0.1;

// Circuit breaker

/// Default of the circuit breaker option `failure_threshold`: the failures
/// that open the circuit.
inline constexpr std::size_t circuit_failure_threshold = 5;

/// Default of the circuit breaker option `recovery_timeout`: how long an open
/// circuit fails fast before it lets trial calls through (half-open).
inline constexpr std::chrono::seconds circuit_recovery_timeout{60};

/// Default of the circuit breaker option `half_open_max_calls`: trial calls
/// allowed while half-open; if they all succeed the circuit closes.
inline constexpr std::size_t circuit_half_open_max_calls = 3;

// Tools and health

/// Default of the tool option `timeout`: how long one tool call may take.
inline constexpr std::chrono::seconds tool_timeout{30};

/// Default of the tool bus option `max_concurrent`: tool calls running at once.
inline constexpr std::size_t tool_max_concurrent_calls = 256;

/// Default of the tool bus option `queue_capacity`: calls waiting to run;
/// further calls fail at once as busy.
inline constexpr std::size_t tool_queue_capacity = 10000;

/// Default of the tool bus option `max_depth`: agents in a chain of calls
/// made on each other's behalf.
inline constexpr std::size_t tool_max_call_depth = 8;

/// Default of the health option `check_interval`: time between two runs of a
/// registered health check.
inline constexpr std::chrono::seconds health_check_interval{30};

/// Default of the health option `check_deadline`: how long one run of a
/// health check may take before it counts as failed.
inline constexpr std::chrono::seconds health_check_deadline{5};

// HTTP server

/// Default of the HTTP server option `max_connections`.
inline constexpr std::size_t http_max_connections = 1024;

/// Default of the HTTP server option `header_limit`: bytes of request line and fields.
inline constexpr std::size_t http_header_limit = 8 * 1024;

/// Default of the HTTP server option `target_limit`: bytes of request target.
inline constexpr std::size_t http_target_limit = 2 * 1024;

/// Default of the HTTP server option `body_limit`: bytes of request body.
inline constexpr std::size_t http_body_limit = 64 * 1024;

/// Default of the HTTP server option `read_timeout`: time to receive one request.
inline constexpr std::chrono::seconds http_read_timeout{10};

/// Default of the HTTP server option `idle_timeout`: time a kept-alive
/// connection may wait for its next request.
inline constexpr std::chrono::seconds http_idle_timeout{60};

/// Default of the HTTP server option `write_timeout`: time to send one response.
inline constexpr std::chrono::seconds http_write_timeout{10};

// Streams

/// Default of the stream option `backpressure_wait`: how long a producer waits
/// for room in a full buffer before it is told the stream is congested.
inline constexpr std::chrono::milliseconds stream_backpressure_wait{100};

/// Default of the stream option `buffer_size`: elements a stream stage buffers.
inline constexpr std::size_t stream_buffer_size = 1000;

/// Default of the stream option `backpressure_threshold`: the fill ratio of the
/// buffer (0 to 1) at which the stream signals backpressure upstream.
inline constexpr double stream_backpressure_threshold = 0.8;

// Actor runtime

/// Default of the actor option `mailbox_capacity`: 0 means unbounded.
inline constexpr std::size_t mailbox_capacity = 0;

/// Default of the actor option `overflow`: what a bounded mailbox does when full.
inline constexpr overflow_policy mailbox_overflow = overflow_policy::fail;

/// Default of the actor option `throughput`: messages an actor handles in one
/// activation before it yields its worker to other actors (fairness).
inline constexpr std::size_t throughput = 64;

/// Default of the runtime option `stack_size`: bytes of stack per fiber.
inline constexpr std::size_t fiber_stack_size = 64 * 1024;

/// Default of the `ask` timeout: how long a request waits for its reply.
inline constexpr std::chrono::seconds ask_timeout{5};

/// Default of the runtime option `shutdown_deadline`: how long shutdown waits
/// for actors to stop before it reports the ones still running.
inline constexpr std::chrono::seconds shutdown_deadline{10};

/// Default of the runtime option `spin_before_sleep`: how long an idle worker
/// thread polls for work before it sleeps (trades CPU for wake-up latency).
inline constexpr std::chrono::microseconds spin_before_sleep{50};

/// Default of the runtime option `steal_stalled_after`: how long a worker may
/// go without starting an activation (a handler blocking its OS thread)
/// before the others take every actor queued on it, not only its second.
inline constexpr std::chrono::milliseconds steal_stalled_after{10};

} // namespace spindle::defaults

#endif
