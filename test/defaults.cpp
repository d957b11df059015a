//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/defaults.hpp>

#include <spindle/circuit_breaker.hpp>
#include <spindle/executor.hpp>
#include <spindle/retry.hpp>
#include <spindle/task.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>

// The defaults are a contract with users who do not set an option: these are
// the values the design documents. Changing one must change this test too.

using namespace std::chrono_literals;
namespace d = spindle::defaults;

BOOST_AUTO_TEST_CASE(supervision)
{
    BOOST_TEST(d::max_restarts == 3u);
    BOOST_TEST((d::restart_window == 60s));
    BOOST_TEST((d::restart_backoff_base == 100ms));
    BOOST_TEST((d::restart_backoff_max == 10s));
}

BOOST_AUTO_TEST_CASE(executor_and_circuit_breaker)
{
    BOOST_TEST((d::task_timeout == 30s));
    BOOST_TEST(d::task_queue_capacity == 1000u);
    BOOST_TEST(d::max_concurrent_tasks == 100u);
    BOOST_TEST((d::task_submit_timeout == 1s));
    BOOST_TEST((d::task_stop_grace == 1s));
    BOOST_TEST(d::circuit_failure_threshold == 5u);
    BOOST_TEST((d::circuit_recovery_timeout == 60s));
    BOOST_TEST(d::circuit_half_open_max_calls == 3u);
}

BOOST_AUTO_TEST_CASE(tools_health_streams)
{
    BOOST_TEST((d::tool_timeout == 30s));
    BOOST_TEST((d::health_check_interval == 30s));
    BOOST_TEST((d::stream_backpressure_wait == 100ms));
    BOOST_TEST(d::stream_buffer_size == 1000u);
    BOOST_TEST(d::stream_backpressure_threshold == 0.8);
}

BOOST_AUTO_TEST_CASE(actor_runtime)
{
    BOOST_TEST(d::mailbox_capacity == 0u, "0 means unbounded");
    BOOST_TEST((d::mailbox_overflow == spindle::overflow_policy::fail));
    BOOST_TEST(d::throughput == 64u);
    BOOST_TEST(d::fiber_stack_size == 64u * 1024u);
    BOOST_TEST((d::ask_timeout == 5s));
    BOOST_TEST((d::shutdown_deadline == 10s));
    BOOST_TEST((d::spin_before_sleep == 50us));
    BOOST_TEST((d::steal_stalled_after == 10ms));

}

BOOST_AUTO_TEST_CASE(retry)
{
    BOOST_TEST(d::retry_max_attempts == 3u);
    BOOST_TEST((d::retry_base_delay == 100ms));
    BOOST_TEST((d::retry_max_delay == 10s));
    BOOST_TEST(d::retry_multiplier == 2.0);
    BOOST_TEST(d::retry_jitter == 0.1);
}

// The option structs take their defaults from the constants, so a constant
// changed in one place changes what users get.

BOOST_AUTO_TEST_CASE(executor_options_use_the_constants)
{
    spindle::executor_options const o;
    BOOST_TEST(o.max_concurrent == d::max_concurrent_tasks);
    BOOST_TEST(o.queue_capacity == d::task_queue_capacity);
    BOOST_TEST((o.submit_timeout == d::task_submit_timeout));
    BOOST_TEST((o.stop_grace == d::task_stop_grace));
    BOOST_TEST((o.shutdown_deadline == d::shutdown_deadline));
    BOOST_TEST(o.name.empty());
}

BOOST_AUTO_TEST_CASE(retry_policy_uses_the_constants)
{
    spindle::retry_policy const p;
    BOOST_TEST(p.max_attempts == d::retry_max_attempts);
    BOOST_TEST((p.base_delay == d::retry_base_delay));
    BOOST_TEST((p.max_delay == d::retry_max_delay));
    BOOST_TEST(p.multiplier == d::retry_multiplier);
    BOOST_TEST(p.jitter == d::retry_jitter);
    boost::system::error_code ec;
    BOOST_TEST(p.validate(ec), "the default policy is valid: " << ec.message());
}

BOOST_AUTO_TEST_CASE(task_options_use_the_constants)
{
    spindle::task_options const o;
    BOOST_TEST((o.timeout == d::task_timeout));
    BOOST_TEST((o.priority == spindle::task_priority::normal));
    BOOST_TEST((o.on_error == spindle::error_strategy::stop_on_error));
    BOOST_TEST(o.retry.max_attempts == d::retry_max_attempts);
    BOOST_TEST((o.retry.base_delay == d::retry_base_delay));
    BOOST_TEST(!o.breaker);
}

BOOST_AUTO_TEST_CASE(circuit_breaker_options_use_the_constants)
{
    spindle::circuit_breaker_options const o;
    BOOST_TEST(o.failure_threshold == d::circuit_failure_threshold);
    BOOST_TEST((o.recovery_timeout == d::circuit_recovery_timeout));
    BOOST_TEST(o.half_open_max_calls == d::circuit_half_open_max_calls);
    BOOST_TEST(o.name.empty());
}
