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

#include <stop_token>
#include <string>
#include <thread>

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
