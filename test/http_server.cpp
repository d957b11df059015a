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

#include <future>
#include <mutex>
#include <string>
#include <thread>

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
    expect_refused(p, "GET /hello HTTP/1.2\r\nHost: x\r\n\r\n", 400);
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

BOOST_AUTO_TEST_CASE(connection_cap)
{
    http::server_options o;
    o.max_connections = 2;
    fixture f(o);
    http_connection a(f.port());
    http_connection b(f.port());
    BOOST_REQUIRE(a.exchange(get_request("/hello")));
    BOOST_REQUIRE(b.exchange(get_request("/hello")));
    {
        http_connection c(f.port());
        auto res = c.read();
        BOOST_REQUIRE(res);
        BOOST_TEST(res->result_int() == 503);
        BOOST_TEST(c.closed_by_peer());
    }
    BOOST_TEST(f.srv.stats().refused == 1u);
    // the two accepted ones still work
    BOOST_REQUIRE(a.exchange(get_request("/hello")));
    // closing one frees a slot
    b.socket().close();
    BOOST_TEST(spindle_test::eventually([&] { return f.srv.stats().open == 1u; }));
    auto res = spindle_test::http_get(f.port(), "/hello");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
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
