//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/server.hpp>

#include <boost/test/unit_test.hpp>

#include "http_client.hpp"
#include "support.hpp"

#include <spindle/error.hpp>

#include <boost/asio/executor_work_guard.hpp>

#include <algorithm>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace http = spindle::http;
using spindle_test::get_request;
using spindle_test::http_connection;

namespace {

http::response text(http::request const& req, std::string body)
{
    return http::make_response(req, http::status::ok, std::move(body));
}

// A server with a few routes: /hello (GET), /echo (POST: the body back),
// /path (GET: the target it saw), /throw (GET: throws).
void add_routes(http::server& srv)
{
    srv.route("/hello", [](http::request const& req) { return text(req, "hello\n"); });
    srv.route("/echo", {http::verb::post, http::verb::put},
              [](http::request const& req) { return text(req, req.body()); });
    srv.route("/path", [](http::request const& req) { return text(req, std::string(req.target())); });
    srv.route("/throw", [](http::request const&) -> http::response { throw std::runtime_error("boom"); });
}

struct fixture
{
    http::server srv;

    explicit fixture(http::server_options opts = {}) : srv(std::move(opts))
    {
        add_routes(srv);
        srv.start();
    }

    std::uint16_t port() const { return srv.port(); }
};

http::server_options small_limits()
{
    http::server_options o;
    o.header_limit = 1024;
    o.target_limit = 256;
    o.body_limit = 100;
    return o;
}

// Sends `bytes` on a new connection; expects one response with `code`, then
// the connection closed by the server.
void expect_refused(std::uint16_t port, std::string const& bytes, unsigned code)
{
    BOOST_TEST_CONTEXT("request: " << bytes)
    {
        http_connection c(port);
        c.send(bytes);
        auto res = c.read();
        BOOST_REQUIRE(res);
        BOOST_TEST(res->result_int() == code);
        BOOST_TEST_MESSAGE(res->body());
        BOOST_TEST(!res->keep_alive());
        BOOST_TEST(c.closed_by_peer());
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(get_head_and_keep_alive)
{
    fixture f;
    BOOST_TEST(f.port() != 0);
    http_connection c(f.port());
    auto res = c.exchange(get_request("/hello"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(res->body() == "hello\n");
    BOOST_TEST(res->keep_alive());
    BOOST_TEST((*res)[boost::beast::http::field::server] == "spindle");
    BOOST_TEST(!(*res)[boost::beast::http::field::date].empty());

    // the same connection again: HEAD has the headers, not the body
    auto head = c.exchange("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", true);
    BOOST_REQUIRE(head);
    BOOST_TEST(head->result_int() == 200);
    BOOST_TEST((*head)[boost::beast::http::field::content_length] == "6");
    BOOST_TEST(head->body().empty());

    // and a third, with a query string (ignored for routing, kept in the target)
    res = c.exchange(get_request("/path?x=1"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body() == "/path?x=1");
    BOOST_TEST(f.srv.stats().accepted == 1u);
    BOOST_TEST(f.srv.stats().requests == 3u);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order)
{
    fixture f;
    http_connection c(f.port());
    std::string batch;
    for(int i = 0; i < 20; ++i)
        batch += get_request("/path?n=" + std::to_string(i));
    batch += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfifth";
    batch += "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n";
    batch += get_request("/hello", "Connection: close\r\n");
    BOOST_REQUIRE(c.send(batch));
    for(int i = 0; i < 20; ++i)
    {
        auto res = c.read();
        BOOST_REQUIRE(res);
        BOOST_TEST(res->body() == "/path?n=" + std::to_string(i));
    }
    auto echo = c.read();
    BOOST_REQUIRE(echo);
    BOOST_TEST(echo->body() == "fifth");
    auto missing = c.read();
    BOOST_REQUIRE(missing);
    BOOST_TEST(missing->result_int() == 404);
    auto last = c.read();
    BOOST_REQUIRE(last);
    BOOST_TEST(last->body() == "hello\n");
    BOOST_TEST(!last->keep_alive());
    BOOST_TEST(c.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(http_1_0_closes_unless_kept_alive)
{
    fixture f;
    {
        http_connection c(f.port());
        auto res = c.exchange("GET /hello HTTP/1.0\r\n\r\n");
        BOOST_REQUIRE(res);
        BOOST_TEST(res->result_int() == 200);
        BOOST_TEST(res->version() == 10u);
        BOOST_TEST(c.closed_by_peer());
    }
    {
        http_connection c(f.port());
        auto res = c.exchange("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        BOOST_REQUIRE(res);
        BOOST_TEST(res->keep_alive());
        res = c.exchange("GET /hello HTTP/1.0\r\n\r\n");
        BOOST_REQUIRE(res);
        BOOST_TEST(c.closed_by_peer());
    }
}

BOOST_AUTO_TEST_CASE(unknown_paths_methods_and_options)
{
    fixture f;
    http_connection c(f.port());
    auto res = c.exchange(get_request("/nope"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 404);
    BOOST_TEST(res->keep_alive()); // a well-framed request keeps its connection

    res = c.exchange("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 405);
    BOOST_TEST((*res)[boost::beast::http::field::allow] == "GET, HEAD, OPTIONS");

    res = c.exchange("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 405);
    BOOST_TEST((*res)[boost::beast::http::field::allow] == "POST, PUT, OPTIONS");

    res = c.exchange("OPTIONS /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 204);
    BOOST_TEST((*res)[boost::beast::http::field::allow] == "GET, HEAD, OPTIONS");

    res = c.exchange("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 204);
    BOOST_TEST((*res)[boost::beast::http::field::allow] == "GET, HEAD, POST, PUT, OPTIONS");

    res = c.exchange("BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 501);

    // absolute-form targets are routed by their path
    res = c.exchange("GET http://localhost:1/hello?q HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);

    res = c.exchange(get_request("/hello"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
}

BOOST_AUTO_TEST_CASE(bodies_plain_chunked_and_expect_continue)
{
    fixture f;
    http_connection c(f.port());
    auto res = c.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body() == "abc");

    res = c.exchange("PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(res->body() == "abcde");

    // Expect: 100-continue: the interim response comes before the body is sent
    BOOST_REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
    auto interim = c.read();
    BOOST_REQUIRE(interim);
    BOOST_TEST(interim->result_int() == 100);
    BOOST_REQUIRE(c.send("wxyz"));
    res = c.read();
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body() == "wxyz");
}

BOOST_AUTO_TEST_CASE(handler_failures_answer_500)
{
    http::server srv;
    add_routes(srv);
    srv.route_async("/dropped", {http::verb::get}, [](http::request const&, http::responder) {});
    srv.route_async("/later", {http::verb::get}, [](http::request const& req, http::responder r) {
        // answered from another thread
        std::thread([r = std::move(r), v = req.version()]() mutable {
            http::response res{http::status::accepted, v};
            res.body() = "later";
            r.send(std::move(res));
        }).detach();
    });
    srv.start();
    http_connection c(srv.port());
    auto res = c.exchange(get_request("/throw"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 500);
    res = c.exchange(get_request("/dropped"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 500);
    res = c.exchange(get_request("/later"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 202);
    BOOST_TEST(res->body() == "later");
    res = c.exchange(get_request("/hello"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
}

BOOST_AUTO_TEST_CASE(oversized_requests)
{
    fixture f(small_limits());
    http_connection bystander(f.port());
    BOOST_REQUIRE(bystander.exchange(get_request("/hello")));
    // a header over 1024 bytes: 431
    expect_refused(f.port(), get_request("/hello", "X-Big: " + std::string(2000, 'a') + "\r\n"), 431);
    // a target over 256 bytes: 414, whether the header fits or not
    expect_refused(f.port(), get_request("/hello?" + std::string(300, 'a')), 414);
    expect_refused(f.port(), get_request("/hello?" + std::string(3000, 'a')), 414);
    // a declared body over 100 bytes: 413 without reading it
    expect_refused(f.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", 413);
    // a chunked body that grows over 100 bytes: 413
    std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for(int i = 0; i < 5; ++i)
        chunked += "20\r\n" + std::string(32, 'b') + "\r\n";
    chunked += "0\r\n\r\n";
    expect_refused(f.port(), chunked, 413);
    // within the limits, on the same server, a new client and an old one
    auto res = spindle_test::http_get(f.port(), "/hello");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    res = bystander.exchange(get_request("/hello"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(f.srv.stats().rejected == 5u);
}

BOOST_AUTO_TEST_CASE(malformed_requests)
{
    fixture f;
    auto const p = f.port();
    expect_refused(p, "this is not http\r\n\r\n", 400);
    expect_refused(p, "GET /hello HTTP/1.1\nHost: x\n\n", 400);            // bare LF
    expect_refused(p, "GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", 400);     // space before colon
    expect_refused(p, "GET /hello HTTP/1.1\r\n\r\n", 400);                 // no Host
    expect_refused(p, "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    expect_refused(p, "GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 400); // Beast: bad version
    expect_refused(p, "GET /hello HTTP/1.10\r\nHost: x\r\n\r\n", 400);
    expect_refused(p, "GET /hello HTTP/1.a\r\nHost: x\r\n\r\n", 400);
    expect_refused(p, "GET /hello HTTP/1.2\r\n\r\n", 400); // 1.2 is 1.1: Host required
    expect_refused(p, "GET /hel lo HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    expect_refused(p, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
    expect_refused(p, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx", 417);
}

// Framings that two parsers could read differently: each is refused, the
// connection closed, and the bytes after it are never taken for a request.
BOOST_AUTO_TEST_CASE(request_smuggling_is_refused)
{
    fixture f;
    auto const p = f.port();
    // a client with a kept-alive connection, served before and after
    http_connection bystander(p);
    BOOST_REQUIRE(bystander.exchange(get_request("/hello")));
    std::string const smuggled = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    auto with = [&](std::string headers, std::string body = "0\r\n\r\n") {
        return "POST /echo HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n" + body + smuggled;
    };
    expect_refused(p, with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: gzip\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: chunked, gzip\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: chunked, chunked\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: gzip, chunked\r\n"), 501);
    expect_refused(p, with("Transfer-Encoding: chunked;q=1\r\n"), 400);
    expect_refused(p, with("Transfer-Encoding: \"chunked\"\r\n"), 400);
    expect_refused(p, with("Content-Length: 5\r\nContent-Length: 6\r\n", "01234"), 400);
    expect_refused(p, with("Content-Length: 5\r\nContent-Length: 5\r\n", "01234"), 400);
    expect_refused(p, with("Content-Length: 5, 5\r\n", "01234"), 400);
    expect_refused(p, with("Content-Length: +5\r\n", "01234"), 400);
    expect_refused(p, with("Content-Length: 0x5\r\n", "01234"), 400);
    expect_refused(p, with("Content-Length: -1\r\n", ""), 400);
    expect_refused(p, "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400);
    // none of the smuggled requests reached a handler
    BOOST_TEST(f.srv.stats().requests == 1u);
    BOOST_TEST(f.srv.stats().rejected == 18u);
    // and the other client did not notice
    auto res = bystander.exchange(get_request("/hello"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
}

BOOST_AUTO_TEST_CASE(slow_and_silent_clients_are_dropped_without_disturbing_others)
{
    http::server_options o;
    o.read_timeout = 200ms;
    o.idle_timeout = 300ms;
    fixture f(o);

    // half a request, then silence: 408 and closed
    http_connection slow(f.port());
    slow.send("GET /hello HTTP/1.1\r\nHost: x\r\n");
    // a silent connection: closed, without a response
    http_connection silent(f.port());

    // meanwhile another client is served
    auto res = spindle_test::http_get(f.port(), "/hello");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);

    auto timed_out = slow.read();
    BOOST_REQUIRE(timed_out);
    BOOST_TEST(timed_out->result_int() == 408);
    BOOST_TEST(slow.closed_by_peer());
    BOOST_TEST(silent.closed_by_peer());

    // a request trickled byte by byte never completes: 408 all the same
    http_connection trickle(f.port());
    std::string const line = "X-Trickle: a\r\n";
    BOOST_REQUIRE(trickle.send("GET /hello HTTP/1.1\r\nHost: x\r\n"));
    for(int i = 0; i < 5000 && trickle.socket().available() == 0; ++i)
    {
        if(!trickle.send(std::string_view(&line[i % line.size()], 1)))
            break;
        std::this_thread::sleep_for(2ms);
    }
    auto r = trickle.read();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->result_int() == 408);
    BOOST_TEST(f.srv.stats().timeouts >= 2u);
}

// RFC 9112 2.3: a higher minor version of HTTP/1 is answered as HTTP/1.1
// (Beast 1.81 refuses it).
BOOST_AUTO_TEST_CASE(a_higher_minor_version_is_served_as_http_1_1)
{
    fixture f;
    http_connection c(f.port());
    auto res = c.exchange("GET /hello HTTP/1.2\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(res->version() == 11u);
    BOOST_TEST(res->keep_alive());
    res = c.exchange("GET /path?v=9 HTTP/1.9\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(res->body() == "/path?v=9");
    // pipelined behind another request, and with a body
    BOOST_REQUIRE(c.send(get_request("/hello") +
                         "POST /echo HTTP/1.3\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"));
    res = c.read();
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body() == "hello\n");
    res = c.read();
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(res->body() == "body");
    BOOST_TEST(f.srv.stats().rejected == 0u);
}

// RFC 9112 3.2.4: the asterisk-form is only for OPTIONS; a target must be a
// path or an absolute URI otherwise.
BOOST_AUTO_TEST_CASE(asterisk_form_is_only_for_options)
{
    fixture f;
    auto const p = f.port();
    expect_refused(p, "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    expect_refused(p, "HEAD * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    expect_refused(p, "POST * HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 400);
    expect_refused(p, "GET hello HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    expect_refused(p, "GET localhost:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    BOOST_TEST(f.srv.stats().requests == 0u);
    http_connection c(p);
    auto res = c.exchange("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 204);
}

// Beast 1.81 reads chunk extensions of any length: the server caps them.
BOOST_AUTO_TEST_CASE(chunk_extensions_are_capped)
{
    fixture f;
    auto const p = f.port();
    std::string const head = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    http_connection c(p);
    auto res = c.exchange(head + "3;a=b\r\nabc\r\n2;name=\"v\";flag\r\nde\r\n0;last\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(res->body() == "abcde");
    // one 64 KB extension
    expect_refused(p, head + "3;x=" + std::string(64 * 1024, 'a') + "\r\nabc\r\n0\r\n\r\n", 400);
    // many small ones, 6,200 bytes in all
    std::string many = head;
    for(int i = 0; i < 100; ++i)
        many += "1;e=" + std::string(60, 'a') + "\r\nx\r\n";
    many += "0\r\n\r\n";
    expect_refused(p, many, 400);
    // on the last chunk too
    expect_refused(p, head + "1\r\nx\r\n0;x=" + std::string(5000, 'a') + "\r\n\r\n", 400);
    BOOST_TEST(f.srv.stats().rejected == 3u);
    // up to the limit is fine
    http::server_options o;
    o.chunk_extensions_limit = 100;
    fixture small(o);
    http_connection d(small.port());
    res = d.exchange(head + "1;e=" + std::string(97, 'a') + "\r\nx\r\n0\r\n\r\n"); // 100 bytes
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    expect_refused(small.port(), head + "1;e=" + std::string(98, 'a') + "\r\nx\r\n0\r\n\r\n", 400);
}

// Issue 18: connections that never send a request, as many as the cap
// allows, must not lock a health probe out. With one I/O thread and with
// two (connections on strands, evicted from the acceptor's).
void flood_then_probe(unsigned threads)
{
    BOOST_TEST_CONTEXT("I/O threads: " << threads)
    {
        http::server_options o;
        o.max_connections = 16;
        o.threads = threads;
        o.first_request_timeout = 10min; // what frees the slots here is eviction, not a timeout
        http::server srv(o);
        srv.route("/livez", [](http::request const& req) { return text(req, "ok\n"); });
        srv.start();
        std::vector<std::unique_ptr<http_connection>> silent;
        for(int i = 0; i < 16; ++i)
            silent.push_back(std::make_unique<http_connection>(srv.port()));
        BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return srv.stats().open == 16u; }));
        // the flood goes on: each newcomer pushes the oldest silent one out
        for(int i = 0; i < 8; ++i)
            silent.push_back(std::make_unique<http_connection>(srv.port()));
        for(int round = 0; round < 3; ++round)
        {
            auto res = spindle_test::http_get(srv.port(), "/livez");
            BOOST_REQUIRE(res);
            BOOST_TEST(res->result_int() == 200);
            BOOST_TEST(res->body() == "ok\n");
        }
        BOOST_TEST(srv.stats().refused == 0u);
        BOOST_TEST(srv.stats().evicted >= 9u);
        BOOST_TEST(silent.front()->closed_by_peer()); // the oldest went first
        BOOST_TEST(spindle_test::eventually([&] { return srv.stats().open <= 16u; }));
    }
}

BOOST_AUTO_TEST_CASE(a_flood_of_silent_connections_does_not_lock_out_probes)
{
    flood_then_probe(1);
    flood_then_probe(2);
}

// A new connection has `first_request_timeout` to send a request, however
// long `idle_timeout` is; a connection that has sent one gets `idle_timeout`.
BOOST_AUTO_TEST_CASE(a_new_connection_has_a_short_deadline_for_its_first_request)
{
    http::server_options o;
    o.first_request_timeout = 200ms;
    o.idle_timeout = 10min;
    fixture f(o);
    http_connection served(f.port());
    BOOST_REQUIRE(served.exchange(get_request("/hello")));
    http_connection silent(f.port());
    BOOST_TEST(silent.closed_by_peer());
    http_connection partial(f.port());
    BOOST_REQUIRE(partial.send("GET /hello HTTP/1.1\r\n"));
    auto res = partial.read();
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 408);
    BOOST_TEST(f.srv.stats().timeouts >= 2u);
    // the connection that had sent a request is still there
    res = served.exchange(get_request("/hello"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
}

BOOST_AUTO_TEST_CASE(connection_cap)
{
    http::server_options o;
    o.max_connections = 2;
    http::server srv(o);
    add_routes(srv);
    std::mutex m;
    std::vector<http::responder> held;
    srv.route_async("/hold", {http::verb::get}, [&](http::request const&, http::responder r) {
        std::lock_guard lk(m);
        held.push_back(std::move(r));
    });
    srv.start();
    auto const port = srv.port();
    auto held_count = [&] {
        std::lock_guard lk(m);
        return held.size();
    };
    // two connections, each busy with a request
    http_connection a(port);
    http_connection b(port);
    BOOST_REQUIRE(a.send(get_request("/hold")));
    BOOST_REQUIRE(spindle_test::eventually([&] { return held_count() == 1u; }));
    BOOST_REQUIRE(b.send(get_request("/hold")));
    BOOST_REQUIRE(spindle_test::eventually([&] { return held_count() == 2u; }));
    {
        // none to make room: 503
        http_connection c(port);
        auto res = c.read();
        BOOST_REQUIRE(res);
        BOOST_TEST(res->result_int() == 503);
        BOOST_TEST(c.closed_by_peer());
    }
    BOOST_TEST(srv.stats().refused == 1u);
    // answered, a first, then b: both wait for their next request now
    for(auto& r : held)
        r.send(text(http::request{http::verb::get, "/hold", 11}, "held\n"));
    auto res = a.read();
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body() == "held\n");
    res = b.read();
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body() == "held\n");
    // a newcomer at the cap makes room: the one idle the longest is closed
    BOOST_TEST(spindle_test::eventually([&] { return srv.stats().open == 2u; }));
    res = spindle_test::http_get(port, "/hello");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(srv.stats().evicted == 1u);
    BOOST_TEST(a.closed_by_peer());
    // the other one is still served
    res = b.exchange(get_request("/hello"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(srv.stats().refused == 1u);
}

// The series of spindle_http_requests_total: by route (never the raw
// target), method and code, with a bounded number of series per route.
BOOST_AUTO_TEST_CASE(requests_are_counted_by_route_method_and_code)
{
    http::server srv;
    add_routes(srv);
    srv.route("/code", [](http::request const& req) {
        auto const target = std::string(req.target());
        auto const code = std::stoi(target.substr(target.find('?') + 1));
        return http::make_response(req, static_cast<http::status>(code), "");
    });
    BOOST_TEST(srv.request_stats().empty());
    srv.start();
    auto total = [&] {
        std::uint64_t n = 0;
        for(auto const& r : srv.request_stats())
            n += r.count;
        return n;
    };
    auto find = [&](std::string const& path, std::string const& method, unsigned code) -> http::route_stats {
        for(auto const& r : srv.request_stats())
            if(r.path == path && r.method == method && r.code == code)
                return r;
        return {};
    };
    http_connection c(srv.port());
    BOOST_REQUIRE(c.exchange(get_request("/hello")));
    BOOST_REQUIRE(c.exchange(get_request("/hello?x=1")));
    BOOST_REQUIRE(c.exchange("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", true));
    BOOST_REQUIRE(c.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"));
    BOOST_REQUIRE(c.exchange(get_request("/nowhere/at/all")));
    BOOST_REQUIRE(c.exchange("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    BOOST_REQUIRE(c.exchange(get_request("/throw")));
    expect_refused(srv.port(), "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400); // refused: not counted here
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return total() == 7u; }));
    BOOST_TEST(find("/hello", "GET", 200).count == 2u);
    BOOST_TEST(find("/hello", "HEAD", 200).count == 1u);
    BOOST_TEST(find("/echo", "POST", 200).count == 1u);
    BOOST_TEST(find("other", "GET", 404).count == 1u);
    BOOST_TEST(find("/hello", "DELETE", 405).count == 1u);
    BOOST_TEST(find("/throw", "GET", 500).count == 1u);
    auto const bounds = http::server::request_duration_bounds();
    BOOST_TEST(bounds.size() == 19u);
    for(auto const& r : srv.request_stats())
    {
        BOOST_TEST(r.path.find('?') == std::string::npos);
        BOOST_REQUIRE(r.duration_buckets.size() == bounds.size() + 1);
        BOOST_TEST(r.duration_buckets.back() == r.count);
        BOOST_TEST(std::is_sorted(r.duration_buckets.begin(), r.duration_buckets.end()));
        BOOST_TEST(r.duration_sum >= 0);
    }
    // 40 codes on one route: 31 series of their own, the rest in one "other"
    for(int i = 0; i < 40; ++i)
        BOOST_REQUIRE(c.exchange(get_request("/code?" + std::to_string(200 + i))));
    BOOST_TEST_REQUIRE(spindle_test::eventually([&] { return total() == 47u; }));
    std::size_t own = 0;
    for(auto const& r : srv.request_stats())
        if(r.path == "/code" && r.code != 0)
            ++own;
    BOOST_TEST(own == 31u);
    BOOST_TEST(find("/code", "other", 0).count == 9u);
}

BOOST_AUTO_TEST_CASE(stop_closes_idle_connections_and_finishes_responses)
{
    http::server srv;
    std::promise<http::responder> held;
    srv.route_async("/slow", {http::verb::get},
                    [&](http::request const&, http::responder r) { held.set_value(std::move(r)); });
    srv.route("/hello", [](http::request const& req) { return text(req, "hi"); });
    srv.start();
    auto const port = srv.port();

    http_connection idle(port);
    BOOST_REQUIRE(idle.exchange(get_request("/hello")));
    http_connection busy(port);
    BOOST_REQUIRE(busy.send(get_request("/slow")));
    auto r = held.get_future().get();

    std::thread stopper([&] { srv.stop(); });
    BOOST_TEST(idle.closed_by_peer());
    // the response in progress is still sent, with Connection: close
    http::response res{http::status::ok, 11};
    res.body() = "done";
    r.send(std::move(res));
    auto got = busy.read();
    BOOST_REQUIRE(got);
    BOOST_TEST(got->body() == "done");
    BOOST_TEST(!got->keep_alive());
    BOOST_TEST(busy.closed_by_peer());
    stopper.join();

    // the listener is gone
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket s(ioc);
    boost::system::error_code ec;
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    BOOST_TEST(ec.failed());
    srv.stop(); // idempotent
}

BOOST_AUTO_TEST_CASE(on_the_applications_io_context)
{
    boost::asio::io_context ioc;
    auto guard = boost::asio::make_work_guard(ioc);
    std::thread runner([&] { ioc.run(); });
    {
        http::server srv(ioc);
        add_routes(srv);
        srv.start();
        auto res = spindle_test::http_get(srv.port(), "/hello");
        BOOST_REQUIRE(res);
        BOOST_TEST(res->body() == "hello\n");
        srv.stop();
    }
    guard.reset();
    runner.join(); // the server left no work behind
}

BOOST_AUTO_TEST_CASE(configuration_errors)
{
    auto bad = [](auto change) {
        http::server_options o;
        change(o);
        try
        {
            http::server s(o);
        }
        catch(spindle::system_error const& e)
        {
            return e.code() == spindle_test::code(spindle::error::invalid_argument);
        }
        return false;
    };
    BOOST_TEST(bad([](auto& o) { o.threads = 0; }));
    BOOST_TEST(bad([](auto& o) { o.max_connections = 0; }));
    BOOST_TEST(bad([](auto& o) { o.target_limit = o.header_limit + 1; }));
    BOOST_TEST(bad([](auto& o) { o.read_timeout = 0s; }));

    http::server srv;
    boost::system::error_code ec;
    srv.route("nope", {http::verb::get}, [](http::request const& r) { return text(r, ""); }, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    srv.route("/a", {http::verb::get}, [](http::request const& r) { return text(r, ""); }, ec);
    BOOST_TEST(!ec);
    srv.route("/a", {http::verb::get}, [](http::request const& r) { return text(r, ""); }, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument)); // routed twice
    srv.start();
    srv.route("/b", {http::verb::get}, [](http::request const& r) { return text(r, ""); }, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument)); // after start
    srv.start(ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument)); // started twice

    // a port in use
    http::server_options o;
    o.port = srv.port();
    http::server other(o);
    other.start(ec);
    BOOST_TEST(ec == boost::asio::error::address_in_use);
    BOOST_CHECK_THROW(http::server(o).start(), spindle::system_error);
}

BOOST_AUTO_TEST_CASE(io_nice_lowers_the_io_threads_priority)
{
    // handlers run on the I/O threads: they report their own niceness
    auto const mine = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    auto nice_of_io = [](http::server_options o) {
        http::server srv(std::move(o));
        srv.route("/nice", [](http::request const& req) {
            return text(req, std::to_string(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()))));
        });
        srv.start();
        http_connection c(srv.port());
        auto res = c.exchange(get_request("/nice"));
        BOOST_REQUIRE(res);
        return std::stoi(res->body());
    };
    http::server_options plain;
    BOOST_TEST(nice_of_io(plain) == mine); // default: unchanged
    if(mine <= 16)
    {
        http::server_options lowered;
        lowered.io_nice = 3;
        lowered.threads = 2;
        BOOST_TEST(nice_of_io(lowered) == mine + 3);
    }
}
