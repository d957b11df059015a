//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/tracing.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/actor.hpp>
#include <spindle/detail/trace_hooks.hpp>
#include <spindle/system.hpp>
#include <spindle/trace/span.hpp>

#include <atomic>
#include <memory>
#include <string>

using namespace spindle::trace;
using namespace spindle_test;

namespace tat {

struct note
{
};
struct query
{
};
struct start
{
};

struct back : spindle::actor<back, note, query>
{
    void on(note) {}
    int on(query) { return 5; }
};

struct record
{
    std::string before, after;
    std::atomic<bool> done{false};
};

/// Tells and asks `back` from inside its handler; the ask blocks the
/// handler, which may resume on another worker.
struct front : spindle::actor<front, start>
{
    spindle::actor_ref<back> b_;
    std::shared_ptr<record> r_;

    front(spindle::actor_ref<back> b, std::shared_ptr<record> r) : b_(std::move(b)), r_(std::move(r)) {}

    void on(start)
    {
        r_->before = current_span().context().span.to_hex();
        b_.tell(note{});
        int const v = b_.ask(query{}).get();
        r_->after = current_span().context().span.to_hex();
        r_->done = v == 5;
    }
};

} // namespace tat

BOOST_AUTO_TEST_CASE(tell_and_ask_run_in_child_spans)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    auto r = std::make_shared<tat::record>();
    auto b = sys.spawn<tat::back>();
    auto f = sys.spawn<tat::front>(b, r);

    auto root = start_span("root");
    {
        scope sc(root);
        BOOST_TEST(f.tell(tat::start{}) == spindle::send_status::ok);
    }
    root.end();
    BOOST_REQUIRE(wait_for([&] { return r->done.load(); }));

    auto const start = wait_span(t, *exp, "tat::start");
    auto const note = wait_span(t, *exp, "tat::note");
    auto const query = wait_span(t, *exp, "tat::query");
    BOOST_REQUIRE(start);
    BOOST_REQUIRE(note);
    BOOST_REQUIRE(query);
    // tell: the handler's span is a child of the sender's current span
    BOOST_TEST(start->parent.to_hex() == root.context().span.to_hex());
    BOOST_TEST(start->context.trace.to_hex() == root.context().trace.to_hex());
    // from inside a handler, tell and ask carry the handler's span
    BOOST_TEST(note->parent.to_hex() == start->context.span.to_hex());
    BOOST_TEST(query->parent.to_hex() == start->context.span.to_hex());
    BOOST_TEST(query->context.trace.to_hex() == root.context().trace.to_hex());
    // the handler's span was current in it, before and after it blocked on the ask
    BOOST_TEST(r->before == start->context.span.to_hex());
    BOOST_TEST(r->after == start->context.span.to_hex());
    BOOST_TEST((start->kind == span_kind::consumer));
    BOOST_TEST(attr_string(*start, "actor.type") == "tat::front");
    BOOST_TEST(attr_string(*start, "message.type") == "tat::start");
    BOOST_TEST(has_attr(*start, "mailbox.wait_ns"));
    BOOST_TEST(attr_string(*query, "actor.type") == "tat::back");
}

BOOST_AUTO_TEST_CASE(ask_from_outside_a_handler)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    auto b = sys.spawn<tat::back>();
    span_id asker;
    int const v = instrument("asker", [&] {
        asker = current_span().context().span;
        return b.ask(tat::query{}).get();
    });
    BOOST_TEST(v == 5);
    auto const query = wait_span(t, *exp, "tat::query");
    BOOST_REQUIRE(query);
    BOOST_TEST(query->parent.to_hex() == asker.to_hex());

    // a message sent outside any span starts a root span of its own
    BOOST_TEST(b.tell(tat::note{}) == spindle::send_status::ok);
    auto const note = wait_span(t, *exp, "tat::note");
    BOOST_REQUIRE(note);
    BOOST_TEST(!note->parent.valid());
}

BOOST_AUTO_TEST_CASE(a_remote_parent_via_traceparent)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp, parent_based(always_off())));
    spindle::system sys;
    auto b = sys.spawn<tat::back>();
    // sampled remote parent: the handler span is recorded in its trace
    span_options o;
    o.parent = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    o.kind = span_kind::server;
    instrument("request", [&] { return b.ask(tat::query{}).get(); }, o);
    auto const query = wait_span(t, *exp, "tat::query");
    BOOST_REQUIRE(query);
    BOOST_TEST(query->context.trace.to_hex() == "0af7651916cd43dd8448eb211c80319c");
    auto const request = exp->find("request");
    BOOST_REQUIRE(request.has_value());
    BOOST_TEST(request->parent.to_hex() == "b7ad6b7169203331");
    BOOST_TEST(query->parent.to_hex() == request->context.span.to_hex());
}

BOOST_AUTO_TEST_CASE(after_shutdown_messages_are_not_traced)
{
    auto exp = std::make_shared<capture_exporter>();
    spindle::system sys;
    auto b = sys.spawn<tat::back>();
    {
        tracing t(capture_options(exp));
        BOOST_TEST(b.ask(tat::query{}).get() == 5);
    }
    BOOST_TEST(spindle::detail::trace_hooks_table.load() == nullptr);
    auto const before = exp->spans().size();
    BOOST_TEST(before == 1u);
    for(int i = 0; i < 10; ++i)
        BOOST_TEST(b.ask(tat::query{}).get() == 5);
    BOOST_TEST(exp->spans().size() == before);
}
