//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/span.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/actor.hpp>
#include <spindle/executor.hpp>
#include <spindle/system.hpp>

#include <algorithm>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace spindle::trace;
using namespace spindle_test;

BOOST_AUTO_TEST_CASE(executor_tasks_run_in_child_spans_of_their_submitter)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    spindle::executor ex(sys);
    auto request = start_span("request");
    std::string seen_plain, seen_token;
    {
        scope sc(request);
        auto a = ex.submit(wrap("plain", [] { return current_span().context().span.to_hex(); }));
        auto b = ex.submit(wrap("with token", [](std::stop_token) { return current_span().context().span.to_hex(); }));
        seen_plain = a.get();
        seen_token = b.get();
    }
    request.end();
    auto const plain = wait_span(t, *exp, "plain");
    auto const token = wait_span(t, *exp, "with token");
    BOOST_REQUIRE(plain);
    BOOST_REQUIRE(token);
    BOOST_TEST(plain->parent.to_hex() == request.context().span.to_hex());
    BOOST_TEST(token->parent.to_hex() == request.context().span.to_hex());
    BOOST_TEST(plain->context.trace.to_hex() == request.context().trace.to_hex());
    // the task's own span was current while it ran
    BOOST_TEST(seen_plain == plain->context.span.to_hex());
    BOOST_TEST(seen_token == token->context.span.to_hex());
}

BOOST_AUTO_TEST_CASE(a_wrapped_callable_on_another_thread)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    span_id parent;
    auto fn = instrument("maker", [&] {
        parent = current_span().context().span;
        return wrap("later", [](int x) { return x * 2; });
    });
    int r = 0;
    std::thread th([&] { r = fn(21); });
    th.join();
    BOOST_TEST(r == 42);
    auto const later = wait_span(t, *exp, "later");
    BOOST_REQUIRE(later);
    BOOST_TEST(later->parent.to_hex() == parent.to_hex());
}

BOOST_AUTO_TEST_CASE(a_plain_task_runs_in_a_child_span_of_its_submitter)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    spindle::executor_options eo;
    eo.name = "images";
    spindle::executor ex(sys, eo);
    auto request = start_span("request");
    std::string seen;
    spindle::task_handle<std::string> h;
    {
        scope sc(request);
        h = ex.submit([] { return current_span().context().span.to_hex(); }); // no trace::wrap
    }
    seen = h.get();
    request.end();
    auto const s = wait_span(t, *exp, "task images");
    BOOST_REQUIRE(s);
    BOOST_TEST(s->context.trace.to_hex() == request.context().trace.to_hex());
    BOOST_TEST(s->parent.to_hex() == request.context().span.to_hex());
    BOOST_TEST(seen == s->context.span.to_hex()); // current while the task ran
    BOOST_TEST(attr_string(*s, "executor.name") == "images");
    BOOST_TEST(attr_string(*s, "task.id") == h.id().to_string());
    BOOST_TEST(attr_int(*s, "task.attempt") == 1);
    BOOST_TEST((s->status == status_code::unset));
}

BOOST_AUTO_TEST_CASE(each_attempt_of_a_failing_task_is_a_span_with_an_error_status)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    spindle::executor_options eo;
    eo.name = "flaky";
    spindle::executor ex(sys, eo);
    spindle::task_options o;
    o.on_error = spindle::error_strategy::retry_with_backoff;
    o.retry.max_attempts = 2;
    o.retry.base_delay = std::chrono::milliseconds(1);
    o.retry.max_delay = std::chrono::milliseconds(1);
    auto request = start_span("request");
    spindle::task_handle<int> h;
    {
        scope sc(request);
        h = ex.submit([]() -> int { throw std::runtime_error("disk on fire"); }, o);
    }
    h.wait();
    request.end();
    BOOST_REQUIRE(wait_for([&] {
        t.force_flush(std::chrono::seconds(10));
        return spans_named(*exp, "task flaky").size() == 2;
    }));
    auto spans = spans_named(*exp, "task flaky");
    std::sort(spans.begin(), spans.end(),
        [](span_data const& a, span_data const& b) { return attr_int(a, "task.attempt") < attr_int(b, "task.attempt"); });
    for(std::size_t i = 0; i < spans.size(); ++i)
    {
        BOOST_TEST(attr_int(spans[i], "task.attempt") == static_cast<std::int64_t>(i + 1));
        BOOST_TEST(spans[i].parent.to_hex() == request.context().span.to_hex()); // both children of the submitter
        BOOST_TEST((spans[i].status == status_code::error));
        BOOST_TEST(spans[i].status_message.find("disk on fire") != std::string::npos, spans[i].status_message);
    }
}

BOOST_AUTO_TEST_CASE(a_task_submitted_outside_any_span_gets_no_task_span)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    spindle::executor_options eo;
    eo.name = "untraced";
    spindle::executor ex(sys, eo);
    ex.submit([] { return 1; }).get();
    // the attempt's span would have ended before get() returned, so it
    // would be exported with (or before) a span ended afterwards
    auto marker = start_span("marker");
    marker.end();
    BOOST_REQUIRE(wait_span(t, *exp, "marker"));
    BOOST_TEST(spans_named(*exp, "task untraced").empty());
}
