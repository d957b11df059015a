//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// recent_traces: the last traces kept in memory for the live page's
// waterfall, every batch passed on.

#include <spindle/trace/recent.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/actor.hpp>
#include <spindle/system.hpp>
#include <spindle/trace/error.hpp>
#include <spindle/trace/span.hpp>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace spindle::trace;
using namespace spindle_test;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

trace_id tid(std::uint8_t n)
{
    trace_id t;
    t.bytes[15] = n;
    return t;
}

span_id sid(std::uint8_t n)
{
    span_id s;
    s.bytes[7] = n;
    return s;
}

auto const t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'765'000'000));

/// A finished span of trace `t`, `id` under `parent` (0: a root), from
/// `from` to `to` ms after t0.
span_data make(std::uint8_t t, std::uint8_t id, std::uint8_t parent, int from, int to, std::string name,
    status_code st = status_code::unset)
{
    span_data s;
    s.context.trace = tid(t);
    s.context.span = sid(id);
    s.context.flags = trace_flags::sampled;
    if(parent)
        s.parent = sid(parent);
    s.name = std::move(name);
    s.start = t0 + milliseconds(from);
    s.end = t0 + milliseconds(to);
    s.status = st;
    return s;
}

boost::system::error_code feed(recent_traces& r, std::vector<span_data> const& spans)
{
    export_deadline d(export_deadline::clock_type::now() + std::chrono::seconds(10));
    return r.export_spans(spans, {}, d);
}

std::vector<std::string> row_names(json::value const& trace)
{
    std::vector<std::string> out;
    for(auto const& r : trace.at("rows").as_array())
        out.emplace_back(r.at("name").as_string());
    return out;
}

struct work
{
};
struct inner : spindle::actor<inner, work>
{
    int on(work) { return 1; }
};

} // namespace

BOOST_AUTO_TEST_CASE(rows_come_in_tree_order_with_depths_and_offsets)
{
    recent_traces r;
    // children end (and are exported) before their parents, in two batches
    BOOST_TEST(!feed(r, {make(1, 4, 2, 6, 8, "grandchild"), make(1, 3, 1, 10, 12, "second child")}));
    BOOST_TEST(!feed(r, {make(1, 2, 1, 5, 9, "first child", status_code::error), make(1, 1, 0, 0, 20, "GET /x")}));

    auto const v = r.to_json();
    BOOST_TEST(v.at("view").as_string() == "waterfall");
    auto const& traces = v.at("traces").as_array();
    BOOST_REQUIRE(traces.size() == 1u);
    auto const& t = traces[0];
    BOOST_TEST(t.at("trace_id").as_string() == tid(1).to_hex());
    BOOST_TEST(t.at("name").as_string() == "GET /x");
    BOOST_TEST(t.at("duration_ms").to_number<double>() == 20.0);
    BOOST_TEST(t.at("spans").to_number<int>() == 4);
    BOOST_TEST(t.at("errors").to_number<int>() == 1);
    BOOST_TEST(row_names(t) == (std::vector<std::string>{"GET /x", "first child", "grandchild", "second child"}),
               boost::test_tools::per_element());
    auto const& rows = t.at("rows").as_array();
    BOOST_TEST(rows[0].at("depth").to_number<int>() == 0);
    BOOST_TEST(rows[1].at("depth").to_number<int>() == 1);
    BOOST_TEST(rows[2].at("depth").to_number<int>() == 2);
    BOOST_TEST(rows[3].at("depth").to_number<int>() == 1);
    BOOST_TEST(rows[2].at("offset_ms").to_number<double>() == 6.0);
    BOOST_TEST(rows[2].at("duration_ms").to_number<double>() == 2.0);
    BOOST_TEST(rows[1].at("status").as_string() == "error");
    BOOST_TEST(rows[2].at("parent_id").as_string() == sid(2).to_hex());
    BOOST_TEST(rows[0].at("parent_id").as_string() == "");
    BOOST_TEST(rows[0].at("kind").as_string() == "internal");
}

BOOST_AUTO_TEST_CASE(a_span_whose_parent_is_not_kept_is_a_top)
{
    recent_traces r;
    // the caller is in another process; the server span has not ended yet
    feed(r, {make(1, 2, 9, 3, 4, "handler"), make(1, 3, 2, 3, 4, "task")});
    auto const t = r.to_json().at("traces").at(0);
    BOOST_TEST(row_names(t) == (std::vector<std::string>{"handler", "task"}), boost::test_tools::per_element());
    BOOST_TEST(t.at("rows").at(0).at("depth").to_number<int>() == 0);
    BOOST_TEST(t.at("rows").at(1).at("depth").to_number<int>() == 1);
    // colliding ids (a parent cycle) still give every span one row
    recent_traces c;
    feed(c, {make(2, 1, 2, 0, 1, "a"), make(2, 2, 1, 0, 1, "b")});
    BOOST_TEST(c.to_json().at("traces").at(0).at("rows").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_least_recently_updated_trace_goes_first_and_full_traces_count_drops)
{
    recent_traces_options o;
    o.max_traces = 2;
    o.max_spans_per_trace = 2;
    recent_traces r(o);
    feed(r, {make(1, 1, 0, 0, 1, "one")});
    feed(r, {make(2, 1, 0, 0, 1, "two")});
    feed(r, {make(1, 2, 1, 0, 1, "one again")}); // trace 1 is now the most recent
    feed(r, {make(3, 1, 0, 0, 1, "three")});     // so trace 2 is forgotten
    auto const snap = r.snapshot();
    BOOST_REQUIRE(snap.size() == 2u);
    BOOST_TEST(snap[0].id.to_hex() == tid(3).to_hex());
    BOOST_TEST(snap[1].id.to_hex() == tid(1).to_hex());
    feed(r, {make(1, 3, 1, 0, 1, "one, third")}); // over the per-trace limit
    auto const st = r.stats();
    BOOST_TEST(st.spans == 5u);
    BOOST_TEST(st.traces_evicted == 1u);
    BOOST_TEST(st.spans_dropped == 1u);
    BOOST_TEST(r.snapshot()[0].spans_dropped == 1u);
    BOOST_TEST(r.to_json().at("traces").at(0).at("spans_dropped").to_number<int>() == 1);
    r.clear();
    BOOST_TEST(r.snapshot().empty());
    BOOST_TEST(r.to_json().at("traces").as_array().empty());
}

BOOST_AUTO_TEST_CASE(every_batch_goes_on_to_next_and_its_result_comes_back)
{
    auto exp = std::make_shared<capture_exporter>();
    recent_traces_options o;
    o.next = exp;
    recent_traces r(o);
    BOOST_TEST(!feed(r, {make(1, 1, 0, 0, 1, "a"), make(2, 1, 0, 0, 1, "b")}));
    BOOST_TEST(exp->spans().size() == 2u);

    struct failing final : span_exporter
    {
        boost::system::error_code export_spans(std::span<span_data const>, attributes const&, export_deadline&) override
        {
            return make_error_code(error::export_failed);
        }
    };
    o.next = std::make_shared<failing>();
    recent_traces f(o);
    BOOST_TEST(feed(f, {make(1, 1, 0, 0, 1, "a")}) == make_error_code(error::export_failed));
    BOOST_TEST(f.snapshot().size() == 1u); // kept all the same: the page shows what happened
}

BOOST_AUTO_TEST_CASE(zero_limits_are_refused)
{
    recent_traces_options no_traces;
    no_traces.max_traces = 0;
    BOOST_CHECK_THROW(recent_traces{no_traces}, boost::system::system_error);
    recent_traces_options no_spans;
    no_spans.max_spans_per_trace = 0;
    BOOST_CHECK_THROW(recent_traces{no_spans}, boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(an_asked_actor_shows_under_its_caller_in_the_pipeline)
{
    auto recent = std::make_shared<recent_traces>();
    tracing_options o;
    o.service_name = "trace-test";
    o.exporter = recent;
    o.sampler = always_on();
    o.batch.schedule_delay = milliseconds(20);
    tracing t(std::move(o));
    spindle::system sys;
    auto a = sys.spawn<inner>();
    auto request = start_span("request");
    {
        scope sc(request);
        BOOST_TEST(a.ask(work{}, std::chrono::seconds(60)).get() == 1);
    }
    request.end();
    json::value trace;
    BOOST_TEST(wait_for([&] {
        t.force_flush(std::chrono::seconds(10));
        auto const v = recent->to_json();
        for(auto const& x : v.at("traces").as_array())
            if(x.at("trace_id").as_string() == request.context().trace.to_hex() &&
               x.at("rows").as_array().size() == 2u)
            {
                trace = x;
                return true;
            }
        return false;
    }));
    BOOST_TEST_INFO(json::serialize(trace));
    BOOST_TEST(trace.at("name").as_string() == "request");
    BOOST_TEST(trace.at("rows").at(1).at("depth").to_number<int>() == 1);
    BOOST_TEST(trace.at("rows").at(1).at("parent_id").as_string() == request.context().span.to_hex());
    sys.shutdown();
}
