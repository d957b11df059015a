//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// The HTTP server under spindle::trace: a SERVER span per request, a child
// of the request's traceparent, its own traceparent in the response, and
// the actors a handler tells running in children of it.

#include <spindle/trace/tracing.hpp>

#include <boost/test/unit_test.hpp>

#include "http_client.hpp"
#include "support.hpp"
#include "trace_support.hpp"

#include <spindle/actor.hpp>
#include <spindle/http/server.hpp>
#include <spindle/system.hpp>
#include <spindle/trace/span.hpp>

#include <atomic>
#include <memory>
#include <string>

using namespace spindle::trace;
using namespace spindle_test;
namespace http = spindle::http;

namespace trh {

struct work
{
};

struct worker : spindle::actor<worker, work>
{
    int on(work) { return 3; }
};

} // namespace trh

namespace {

struct served
{
    spindle::system sys;
    spindle::actor_ref<trh::worker> w = sys.spawn<trh::worker>();
    http::server srv;

    served()
    {
        srv.route("/hello", [](http::request const& req) { return http::make_response(req, http::status::ok, "hi\n"); });
        srv.route("/work", [this](http::request const& req) {
            int const v = w.ask(trh::work{}).get();
            return http::make_response(req, http::status::ok, std::to_string(v));
        });
        srv.route("/throw", [](http::request const&) -> http::response { throw std::runtime_error("boom"); });
        srv.start();
    }
};

std::string const incoming_tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

} // namespace

BOOST_AUTO_TEST_CASE(a_request_is_a_server_span_child_of_its_traceparent)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    served s;

    http_connection c(s.srv.port());
    auto r = c.exchange(get_request("/hello?x=1",
        "traceparent: " + incoming_tp + "\r\ntracestate: congo=t61rcWkgMzE\r\nUser-Agent: trace-test\r\n"));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->result_int() == 200u);

    auto sp = wait_span(t, *exp, "GET /hello");
    BOOST_REQUIRE(sp.has_value());
    BOOST_TEST((sp->kind == span_kind::server));
    BOOST_TEST(sp->context.trace.to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    BOOST_TEST(sp->parent.to_hex() == "00f067aa0ba902b7");
    BOOST_TEST(sp->context.state.to_header() == "congo=t61rcWkgMzE");
    BOOST_TEST(attr_string(*sp, "http.request.method") == "GET");
    BOOST_TEST(attr_string(*sp, "url.path") == "/hello");
    BOOST_TEST(attr_string(*sp, "url.query") == "x=1");
    BOOST_TEST(attr_string(*sp, "url.scheme") == "http");
    BOOST_TEST(attr_string(*sp, "http.route") == "/hello");
    BOOST_TEST(attr_string(*sp, "user_agent.original") == "trace-test");
    BOOST_TEST(attr_string(*sp, "client.address") == "127.0.0.1");
    BOOST_TEST(attr_int(*sp, "server.port") == s.srv.port());
    BOOST_TEST(attr_int(*sp, "http.response.status_code") == 200);
    BOOST_TEST((sp->status == status_code::unset));

    // the response names the server span
    BOOST_TEST(std::string(r->base()["traceparent"]) == format_traceparent(sp->context));
}

BOOST_AUTO_TEST_CASE(actors_a_handler_asks_run_in_children_of_the_request)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    served s;

    http_connection c(s.srv.port());
    auto r = c.exchange(get_request("/work", "traceparent: " + incoming_tp + "\r\n"));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->body() == "3");

    auto server = wait_span(t, *exp, "GET /work");
    auto handler = wait_span(t, *exp, "trh::work");
    BOOST_REQUIRE(server.has_value());
    BOOST_REQUIRE(handler.has_value());
    BOOST_TEST(handler->context.trace.to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    BOOST_TEST(handler->parent.to_hex() == server->context.span.to_hex());
}

BOOST_AUTO_TEST_CASE(no_traceparent_starts_a_trace_and_errors_follow_the_conventions)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    served s;

    http_connection c(s.srv.port());
    auto r = c.exchange(get_request("/hello"));
    BOOST_REQUIRE(r.has_value());
    auto const tp = std::string(r->base()["traceparent"]);
    auto ctx = extract(tp, "");
    BOOST_REQUIRE(ctx.has_value());
    auto sp = wait_span(t, *exp, "GET /hello");
    BOOST_REQUIRE(sp.has_value());
    BOOST_TEST(!sp->parent.valid());
    BOOST_TEST(sp->context.trace.to_hex() == ctx->trace.to_hex());

    // a malformed traceparent is ignored (a new trace), not an error
    r = c.exchange(get_request("/nowhere", "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01\r\n"));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->result_int() == 404u);
    auto nf = wait_span(t, *exp, "GET"); // no route: the method alone
    BOOST_REQUIRE(nf.has_value());
    BOOST_TEST(!nf->parent.valid());
    BOOST_TEST(attr_int(*nf, "http.response.status_code") == 404);
    BOOST_TEST(!has_attr(*nf, "http.route"));
    BOOST_TEST((nf->status == status_code::unset)); // 4xx is the client's error

    r = c.exchange(get_request("/throw"));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->result_int() == 500u);
    auto th = wait_span(t, *exp, "GET /throw");
    BOOST_REQUIRE(th.has_value());
    BOOST_TEST((th->status == status_code::error));
    BOOST_TEST(attr_string(*th, "error.type") == "500");
}

BOOST_AUTO_TEST_CASE(a_method_the_conventions_do_not_know_is_other)
{
    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp));
    served s;

    http_connection c(s.srv.port());
    // Beast knows PROPFIND (405 on this route), not FOO (501); the
    // conventions know neither: both are _OTHER, named HTTP
    auto r = c.exchange("PROPFIND /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->result_int() == 405u);
    auto sp = wait_span(t, *exp, "HTTP /hello");
    BOOST_REQUIRE(sp.has_value());
    BOOST_TEST(attr_string(*sp, "http.request.method") == "_OTHER");
    BOOST_TEST(attr_string(*sp, "http.request.method_original") == "PROPFIND");

    http_connection c2(s.srv.port());
    r = c2.exchange("FOO /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->result_int() == 501u);
    BOOST_REQUIRE(wait_for([&] {
        t.force_flush(std::chrono::seconds(10));
        for(auto const& x : exp->spans())
            if(attr_string(x, "http.request.method_original") == "FOO")
                return attr_string(x, "http.request.method") == "_OTHER" && x.name.rfind("HTTP", 0) == 0;
        return false;
    }));

    // a known method keeps its name and has no original
    r = c.exchange(get_request("/hello"));
    BOOST_REQUIRE(r.has_value());
    auto g = wait_span(t, *exp, "GET /hello");
    BOOST_REQUIRE(g.has_value());
    BOOST_TEST(!has_attr(*g, "http.request.method_original"));
}

BOOST_AUTO_TEST_CASE(tracing_off_adds_nothing)
{
    served s;
    http_connection c(s.srv.port());
    auto r = c.exchange(get_request("/hello", "traceparent: " + incoming_tp + "\r\n"));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->result_int() == 200u);
    BOOST_TEST((r->base().find("traceparent") == r->base().end()));
}
