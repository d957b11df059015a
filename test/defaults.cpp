//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/defaults.hpp>

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
}
