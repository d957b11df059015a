//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/span.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/detail/trace_hooks.hpp>
#include <spindle/trace/tracing.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <stdexcept>

using namespace spindle::trace;
using namespace spindle_test;

BOOST_AUTO_TEST_CASE(without_tracing_spans_carry_the_parent_only)
{
    auto s = start_span("alone");
    BOOST_TEST(!s.is_recording());
    BOOST_TEST(!s.context().valid());
    span_options o;
    o.parent = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    auto c = start_span("child", o);
    BOOST_TEST(c.context().trace.to_hex() == "0af7651916cd43dd8448eb211c80319c");
    BOOST_TEST(!c.is_recording());
    BOOST_TEST(spindle::detail::trace_hooks_table.load() == nullptr);
}

BOOST_AUTO_TEST_CASE(instrument_nests_and_records)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    BOOST_TEST(spindle::detail::trace_hooks_table.load() != nullptr);
    int const r = instrument("outer", [] {
        current_span().set_attribute("answer", 42);
        return instrument("inner", [] {
            current_span().add_event("thinking", {{"depth", 2}});
            return 7;
        });
    });
    BOOST_TEST(r == 7);
    BOOST_CHECK_THROW(instrument("failing", []() -> int { throw std::runtime_error("boom"); }), std::runtime_error);
    BOOST_TEST(!current_span().context().valid()); // every scope restored
    BOOST_REQUIRE(t.force_flush(std::chrono::seconds(60)));

    auto const outer = exp->find("outer"), inner = exp->find("inner"), failing = exp->find("failing");
    BOOST_REQUIRE(outer);
    BOOST_REQUIRE(inner);
    BOOST_REQUIRE(failing);
    BOOST_TEST(!outer->parent.valid());
    BOOST_TEST(inner->parent.to_hex() == outer->context.span.to_hex());
    BOOST_TEST(inner->context.trace.to_hex() == outer->context.trace.to_hex());
    BOOST_TEST(!(inner->context.span == outer->context.span));
    BOOST_TEST(outer->context.sampled());
    BOOST_TEST(inner->events.size() == 1u);
    BOOST_TEST((inner->start >= outer->start));
    BOOST_TEST((inner->end <= outer->end));
    BOOST_TEST((failing->status == status_code::error));
    BOOST_REQUIRE(failing->events.size() == 1u);
    BOOST_TEST(failing->events[0].name == "exception");
    BOOST_TEST(attr_string(*failing, "x").empty());
    BOOST_TEST(!(failing->context.trace == outer->context.trace)); // a new root
    BOOST_TEST(t.stats().exported == 3u);
}

BOOST_AUTO_TEST_CASE(status_rules)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    auto s = start_span("s");
    s.set_status(status_code::error, "bad");
    s.set_status(status_code::unset); // ignored
    BOOST_TEST(s.is_recording());
    s.end();
    s.end(); // once only
    BOOST_TEST(!s.is_recording());
    auto ok = start_span("ok");
    ok.set_status(status_code::ok, "ignored description");
    ok.set_status(status_code::error, "too late"); // ok is final
    ok.end();
    BOOST_REQUIRE(t.force_flush(std::chrono::seconds(60)));
    BOOST_TEST(exp->spans().size() == 2u);
    BOOST_TEST((exp->find("s")->status == status_code::error));
    BOOST_TEST(exp->find("s")->status_message == "bad");
    BOOST_TEST((exp->find("ok")->status == status_code::ok));
    BOOST_TEST(exp->find("ok")->status_message.empty());
}

// The current span belongs to the fiber: two fibers on one thread that
// interleave each keep their own (a thread_local would mix them up).
BOOST_AUTO_TEST_CASE(current_span_is_per_fiber)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    span_id seen_a_after, seen_b_after, a_id, b_id;
    boost::fibers::fiber fa([&] {
        auto s = start_span("a");
        a_id = s.context().span;
        scope sc(s);
        boost::this_fiber::yield();
        boost::this_fiber::yield();
        seen_a_after = current_span().context().span;
        s.end();
    });
    boost::fibers::fiber fb([&] {
        auto s = start_span("b");
        b_id = s.context().span;
        scope sc(s);
        boost::this_fiber::yield();
        seen_b_after = current_span().context().span;
        s.end();
    });
    fa.join();
    fb.join();
    BOOST_TEST(seen_a_after.to_hex() == a_id.to_hex());
    BOOST_TEST(seen_b_after.to_hex() == b_id.to_hex());
    BOOST_TEST(!(a_id == b_id));
    BOOST_TEST(!current_span().context().valid());
    BOOST_REQUIRE(t.force_flush(std::chrono::seconds(60)));
    // neither fiber's span became the other's parent
    BOOST_TEST(!exp->find("a")->parent.valid());
    BOOST_TEST(!exp->find("b")->parent.valid());
}

BOOST_AUTO_TEST_CASE(sampled_out_spans_still_propagate)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp, parent_based(always_off())));
    span_options o;
    o.parent = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    auto sampled = start_span("sampled-child", o);
    BOOST_TEST(sampled.is_recording());
    BOOST_TEST(sampled.context().sampled());
    sampled.end();
    auto root = start_span("root");
    BOOST_TEST(!root.is_recording());
    BOOST_TEST(root.context().valid());
    BOOST_TEST(!root.context().sampled());
    {
        scope sc(root);
        auto child = start_span("child");
        BOOST_TEST(!child.is_recording());
        BOOST_TEST(child.context().trace.to_hex() == root.context().trace.to_hex());
    }
    BOOST_REQUIRE(t.force_flush(std::chrono::seconds(60)));
    BOOST_TEST(exp->spans().size() == 1u);
    BOOST_TEST(exp->spans().at(0).parent.to_hex() == "b7ad6b7169203331");
}

BOOST_AUTO_TEST_CASE(queue_full_drops_are_counted_and_never_block)
{
    // an exporter the pipeline never reaches: batch size and delay too large
    auto exp = std::make_shared<capture_exporter>();
    auto o = capture_options(exp);
    o.batch.max_queue_size = 4;
    o.batch.max_export_batch_size = 512;
    o.batch.schedule_delay = std::chrono::hours(1);
    tracing t(std::move(o));
    for(int i = 0; i < 10; ++i)
        start_span("s" + std::to_string(i)).end();
    auto st = t.stats();
    BOOST_TEST(st.spans_ended == 10u);
    BOOST_TEST(st.queue_dropped == 6u);
    BOOST_REQUIRE(t.force_flush(std::chrono::seconds(60)));
    BOOST_TEST(exp->spans().size() == 4u);
    BOOST_TEST(exp->find("s0").has_value());
    BOOST_TEST(!exp->find("s4").has_value());
}

BOOST_AUTO_TEST_CASE(one_pipeline_at_a_time)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    boost::system::error_code ec;
    auto second = init_tracing(capture_options(exp), ec);
    BOOST_TEST(ec == spindle::trace::make_error_code(error::bad_option));
    BOOST_TEST(second == nullptr);
    t.shutdown();
    BOOST_TEST(spindle::detail::trace_hooks_table.load() == nullptr);
    auto third = init_tracing(capture_options(exp), ec);
    BOOST_TEST(!ec);
    BOOST_TEST(third != nullptr);
}

BOOST_AUTO_TEST_CASE(environment_is_honoured)
{
    ::setenv("OTEL_SERVICE_NAME", "from-env", 1);
    ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1/", 1);
    ::setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
    {
        auto t = init_tracing("from-code", "http://127.0.0.1:2");
        BOOST_TEST(t.url() == "http://127.0.0.1:1/v1/traces");
        BOOST_TEST(std::get<std::string>(t.resource().at(0).value) == "from-env");
        BOOST_TEST(!start_span("x").is_recording());
    }
    ::setenv("OTEL_TRACES_SAMPLER", "nonsense", 1);
    BOOST_CHECK_THROW(init_tracing("x"), boost::system::system_error);
    ::unsetenv("OTEL_TRACES_SAMPLER");
    ::unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    ::unsetenv("OTEL_SERVICE_NAME");
    auto t = init_tracing("svc", "http://127.0.0.1:3/");
    BOOST_TEST(t.url() == "http://127.0.0.1:3/v1/traces");
    bool has_host = false;
    for(auto const& a : t.resource())
        has_host |= a.key == "host.name";
    BOOST_TEST(has_host);
    BOOST_CHECK_THROW(init_tracing("svc2", "https://example.invalid"), boost::system::system_error);
}
