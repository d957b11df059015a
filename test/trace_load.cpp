//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// spindle::load under spindle::trace: each request of a run is a span of
// its own (a root, kind client), current while its step's handler runs, so
// the actors it asks handle their messages in children of it.

#include <spindle/trace/tracing.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/actor.hpp>
#include <spindle/load/config.hpp>
#include <spindle/load/runner.hpp>
#include <spindle/system.hpp>
#include <spindle/trace/span.hpp>

#include <boost/json/parse.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

using namespace spindle::trace;
using namespace spindle_test;
namespace load = spindle::load;

namespace trl {

struct hit
{
};

struct echo : spindle::actor<echo, hit>
{
    std::string on(hit) { return spindle::trace::current_span().context().span.to_hex(); }
};

} // namespace trl

BOOST_AUTO_TEST_CASE(each_request_is_a_client_span_and_what_it_asks_is_its_child)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    spindle::system sys;
    auto target = sys.spawn<trl::echo>();
    auto cfg = load::parse_config(boost::json::parse(R"({"name": "traced", "users": 1, "iterations": 3,
        "duration_s": 0, "scenarios": [{"name": "browse", "steps": [
            {"name": "call", "kind": "ask", "target": "echo"},
            {"name": "broken", "kind": "tell", "target": "echo"}]}]})"));
    std::map<std::string, std::string> handler_span_of_request; // request span -> the handler's span
    load::runner r(cfg,
        load::runner_options()
            .on(load::step_kind::ask,
                [&](load::step const&, load::step_context&) {
                    auto const mine = current_span().context().span.to_hex();
                    handler_span_of_request[mine] = target.ask(trl::hit{}).get();
                    return boost::system::error_code();
                })
            .on(load::step_kind::tell, [](load::step const&, load::step_context&) -> boost::system::error_code {
                throw std::runtime_error("no route");
            }));
    auto const res = r.run();
    BOOST_TEST(res.total.count == 6u);

    std::vector<span_data> calls, broken;
    BOOST_REQUIRE(wait_for([&] {
        t.force_flush(std::chrono::seconds(10));
        calls.clear();
        broken.clear();
        for(auto const& s : exp->spans())
        {
            if(s.name == "load browse/call")
                calls.push_back(s);
            else if(s.name == "load browse/broken")
                broken.push_back(s);
        }
        return calls.size() == 3 && broken.size() == 3;
    }));
    BOOST_TEST(handler_span_of_request.size() == 3u); // three requests, three spans
    for(auto const& c : calls)
    {
        BOOST_TEST(!c.parent.valid()); // each request starts its own trace
        BOOST_TEST((c.kind == span_kind::client));
        BOOST_TEST(attr_string(c, "load.test") == "traced");
        BOOST_TEST(attr_string(c, "load.scenario") == "browse");
        BOOST_TEST(attr_string(c, "load.step") == "call");
        BOOST_TEST(attr_string(c, "load.step.kind") == "ask");
        BOOST_TEST(attr_int(c, "load.user") == 0);
        BOOST_TEST((c.status == status_code::unset));
        // the span was current in the handler, and the actor's handler ran
        // in a child of it
        auto const it = handler_span_of_request.find(c.context.span.to_hex());
        BOOST_REQUIRE(it != handler_span_of_request.end());
        bool found = false;
        for(auto const& s : exp->spans())
            if(s.context.span.to_hex() == it->second)
            {
                found = true;
                BOOST_TEST(s.parent.to_hex() == c.context.span.to_hex());
                BOOST_TEST(s.context.trace.to_hex() == c.context.trace.to_hex());
            }
        BOOST_TEST(found);
    }
    for(auto const& b : broken)
    {
        BOOST_TEST((b.status == status_code::error));
        BOOST_TEST(attr_string(b, "error.type") == "exception: no route");
    }
}
