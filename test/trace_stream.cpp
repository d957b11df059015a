//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/span.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/stream.hpp>
#include <spindle/system.hpp>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace spindle::trace;
using namespace spindle_test;

namespace {

spindle::stage_options named(std::string name)
{
    spindle::stage_options o;
    o.name = std::move(name);
    return o;
}

/// Waits until `n` spans named `name` were exported (flushing meanwhile).
bool wait_spans(tracing& t, capture_exporter const& exp, std::string const& name, std::size_t n)
{
    return wait_for([&] {
        t.force_flush(std::chrono::seconds(10));
        return spans_named(exp, name).size() >= n;
    });
}

} // namespace

BOOST_AUTO_TEST_CASE(each_stage_of_a_pushed_item_is_a_child_span_of_the_stage_before)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    spindle::push_source<int> src(16);
    std::mutex m;
    std::vector<std::string> current_in_sink; // the span current while the sink ran
    spindle::stream_options so;
    so.name = "orders";
    auto h = spindle::from_source(src)
                 .map([](int n) { return n + 1; }, named("parse"))
                 .filter([](int) { return true; }, named("keep"))
                 .async() // `price` runs on a fiber of its own, behind a buffer
                 .map([](int n) { return n * 2; }, named("price"))
                 .for_each(
                     [&](int) {
                         std::lock_guard lk(m);
                         current_in_sink.push_back(current_span().context().span.to_hex());
                     },
                     named("store"))
                 .run(sys, so);
    auto request = start_span("request");
    {
        scope sc(request);
        BOOST_REQUIRE(src.push(1) == spindle::channel_status::success);
    }
    src.close();
    h.get();
    request.end();
    auto const parse = wait_span(t, *exp, "stage parse");
    auto const keep = wait_span(t, *exp, "stage keep");
    auto const price = wait_span(t, *exp, "stage price");
    auto const store = wait_span(t, *exp, "stage store");
    BOOST_REQUIRE(parse);
    BOOST_REQUIRE(keep);
    BOOST_REQUIRE(price);
    BOOST_REQUIRE(store);
    std::string const trace = request.context().trace.to_hex();
    for(auto const* s : {&*parse, &*keep, &*price, &*store})
    {
        BOOST_TEST(s->context.trace.to_hex() == trace);
        BOOST_TEST((s->kind == span_kind::internal));
        BOOST_TEST((s->status == status_code::unset));
        BOOST_TEST(attr_string(*s, "stream.name") == "orders");
    }
    // a chain: the pusher's span, then each stage's the parent of the next,
    // fused (parse -> keep) or across a buffer (keep -> price -> store)
    BOOST_TEST(parse->parent.to_hex() == request.context().span.to_hex());
    BOOST_TEST(keep->parent.to_hex() == parse->context.span.to_hex());
    BOOST_TEST(price->parent.to_hex() == keep->context.span.to_hex());
    BOOST_TEST(store->parent.to_hex() == price->context.span.to_hex());
    BOOST_TEST(attr_string(*parse, "stream.stage.name") == "parse");
    BOOST_TEST(attr_string(*parse, "stream.stage.kind") == "map");
    BOOST_TEST(attr_int(*parse, "stream.stage.index") == 1);
    BOOST_TEST(attr_string(*keep, "stream.stage.kind") == "filter");
    BOOST_TEST(attr_int(*price, "stream.stage.index") == 3);
    BOOST_TEST(attr_int(*store, "stream.stage.index") == 4);
    // the stage's span is current while the user's function runs
    std::lock_guard lk(m);
    BOOST_REQUIRE(current_in_sink.size() == 1u);
    BOOST_TEST(current_in_sink[0] == store->context.span.to_hex());
}

BOOST_AUTO_TEST_CASE(a_failing_stage_marks_its_span_and_the_item_goes_no_further)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    auto skip = named("check");
    skip.on_error = spindle::error_action::skip;
    auto request = start_span("request");
    spindle::stream_handle<std::vector<int>> h;
    {
        scope sc(request); // a pulling source: items carry the context `run` was called in
        h = spindle::from_range(std::vector<int>{1, 2, 3})
                .map(
                    [](int n) {
                        if(n == 2)
                            throw std::runtime_error("two is not allowed");
                        return n;
                    },
                    skip)
                .map([](int n) { return n; }, named("after"))
                .collect()
                .run(sys);
    }
    BOOST_TEST((h.get() == std::vector<int>{1, 3}));
    request.end();
    BOOST_REQUIRE(wait_spans(t, *exp, "stage check", 3));
    BOOST_REQUIRE(wait_spans(t, *exp, "stage after", 2));
    auto const checks = spans_named(*exp, "stage check");
    BOOST_REQUIRE(checks.size() == 3u);
    std::size_t errors = 0;
    std::string failed_span;
    for(auto const& s : checks)
    {
        BOOST_TEST(s.parent.to_hex() == request.context().span.to_hex());
        if(s.status == status_code::error)
        {
            ++errors;
            failed_span = s.context.span.to_hex();
            BOOST_TEST(s.status_message.find("two is not allowed") != std::string::npos, s.status_message);
        }
    }
    BOOST_TEST(errors == 1u);
    // the skipped item reached no later stage
    auto const afters = spans_named(*exp, "stage after");
    BOOST_TEST(afters.size() == 2u);
    for(auto const& s : afters)
        BOOST_TEST(s.parent.to_hex() != failed_span);
}

BOOST_AUTO_TEST_CASE(a_stage_that_fails_the_stream_ends_its_span_with_an_error)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    spindle::push_source<int> src(16);
    auto h = spindle::from_source(src)
                 .for_each([](int) { throw std::runtime_error("database gone"); }, named("write"))
                 .run(sys);
    auto request = start_span("request");
    {
        scope sc(request);
        BOOST_REQUIRE(src.push(7) == spindle::channel_status::success);
    }
    BOOST_CHECK_THROW(h.get(), spindle::stream_failure);
    request.end();
    auto const s = wait_span(t, *exp, "stage write");
    BOOST_REQUIRE(s);
    BOOST_TEST(s->parent.to_hex() == request.context().span.to_hex());
    BOOST_TEST((s->status == status_code::error));
    BOOST_TEST(s->status_message.find("database gone") != std::string::npos, s->status_message);
}

BOOST_AUTO_TEST_CASE(a_batch_carries_the_context_of_its_first_item)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    spindle::push_source<int> src(16);
    auto h = spindle::from_source(src)
                 .map([](int n) { return n; }, named("tag"))
                 .batch(2, std::chrono::seconds(60))
                 .for_each([](std::vector<int> const&) {}, named("bulk"))
                 .run(sys);
    auto first = start_span("first");
    {
        scope sc(first);
        BOOST_REQUIRE(src.push(1) == spindle::channel_status::success);
    }
    auto second = start_span("second");
    {
        scope sc(second);
        BOOST_REQUIRE(src.push(2) == spindle::channel_status::success);
    }
    src.close();
    h.get();
    first.end();
    second.end();
    BOOST_REQUIRE(wait_spans(t, *exp, "stage tag", 2));
    auto const bulk = wait_span(t, *exp, "stage bulk");
    BOOST_REQUIRE(bulk);
    BOOST_TEST(spans_named(*exp, "stage bulk").size() == 1u); // one span per batch
    std::string tag_of_first;
    for(auto const& s : spans_named(*exp, "stage tag"))
        if(s.parent.to_hex() == first.context().span.to_hex())
            tag_of_first = s.context.span.to_hex();
    BOOST_REQUIRE(!tag_of_first.empty());
    BOOST_TEST(bulk->parent.to_hex() == tag_of_first);
    BOOST_TEST(bulk->context.trace.to_hex() == first.context().trace.to_hex());
}

BOOST_AUTO_TEST_CASE(map_parallel_runs_each_item_in_a_child_span)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    spindle::push_source<int> src(16);
    auto h = spindle::from_source(src)
                 .map_parallel(2, [](int n) { return n; }, spindle::ordering::ordered, named("fan"))
                 .map([](int n) { return n; }, named("join"))
                 .collect()
                 .run(sys);
    auto request = start_span("request");
    {
        scope sc(request);
        BOOST_REQUIRE(src.push(1) == spindle::channel_status::success);
    }
    src.close();
    BOOST_TEST(h.get().size() == 1u);
    request.end();
    auto const fan = wait_span(t, *exp, "stage fan");
    auto const join = wait_span(t, *exp, "stage join");
    BOOST_REQUIRE(fan);
    BOOST_REQUIRE(join);
    BOOST_TEST(fan->parent.to_hex() == request.context().span.to_hex());
    BOOST_TEST(join->parent.to_hex() == fan->context.span.to_hex());
}

BOOST_AUTO_TEST_CASE(items_pushed_while_tracing_is_off_carry_nothing)
{
    auto exp = std::make_shared<capture_exporter>();
    spindle::system sys;
    spindle::push_source<int> src(16);
    // pushed with no tracing component installed: no context is taken
    BOOST_REQUIRE(src.push(1) == spindle::channel_status::success);
    BOOST_REQUIRE(src.push(2) == spindle::channel_status::success);
    tracing t(capture_options(exp));
    auto request = start_span("request");
    spindle::stream_handle<std::vector<int>> h;
    {
        scope sc(request);
        h = spindle::from_source(src).map([](int n) { return n; }, named("only")).collect().run(sys);
        BOOST_REQUIRE(src.push(3) == spindle::channel_status::success);
    }
    src.close();
    BOOST_TEST(h.get().size() == 3u);
    // and pushed outside any span, with tracing on: nothing either
    auto h2 = spindle::from_range(std::vector<int>{1, 2}).map([](int n) { return n; }, named("bare")).collect().run(sys);
    BOOST_TEST(h2.get().size() == 2u);
    request.end();
    BOOST_REQUIRE(wait_span(t, *exp, "request"));
    BOOST_REQUIRE(wait_span(t, *exp, "stage only"));
    auto const only = spans_named(*exp, "stage only");
    BOOST_TEST(only.size() == 1u); // the item pushed inside the span, not the two before
    BOOST_TEST(spans_named(*exp, "stage bare").empty());
    // nor does the streams' own machinery: a segment's slices (stage_go
    // messages to its actor) are untraced, whether run was in a span or not
    for(auto const& s : exp->spans())
        BOOST_TEST(s.name.find("stage_go") == std::string::npos, "a span " << s.name);
}
