//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle::http::server: what outlives what. A responder the application
// keeps past stop() (or past the server itself), sent or dropped from any
// thread, must neither touch freed memory nor keep its connection alive;
// and the header the server writes around a handler's response.

#include <spindle/http/server.hpp>

#include <boost/test/unit_test.hpp>

#include "http_client.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

using namespace std::chrono_literals;
namespace http = spindle::http;
using spindle_test::get_request;
using spindle_test::http_connection;

namespace {

// A server whose /hold hands its responder over to the test; `token` lives
// in the route's handler, so it is freed only with the server's state.
struct holding_server
{
    std::promise<http::responder> held;
    std::shared_ptr<int> token = std::make_shared<int>(0);
    std::optional<http::server> srv;

    explicit holding_server(unsigned threads, boost::asio::io_context* ioc = nullptr)
    {
        http::server_options o;
        o.threads = threads;
        o.shutdown_deadline = 0s; // the held request is never answered: do not wait for it
        if(ioc)
            srv.emplace(*ioc, o);
        else
            srv.emplace(o);
        srv->route_async("/hold", {http::verb::get},
                         [this, t = token](http::request const&, http::responder r) { held.set_value(std::move(r)); });
        srv->start();
    }

    // Sends /hold on `c` and returns the responder of that request.
    http::responder hold(http_connection& c)
    {
        BOOST_REQUIRE(c.send(get_request("/hold")));
        return held.get_future().get();
    }
};

http::response text(unsigned version, std::string body)
{
    http::response res{http::status::ok, version};
    res.body() = std::move(body);
    return res;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_responder_dropped_after_stop_frees_its_connection)
{
    for(unsigned threads : {1u, 2u}) // 1: no strand; 2: a strand per connection
    {
        BOOST_TEST_CONTEXT("I/O threads: " << threads)
        {
            holding_server h(threads);
            http_connection c(h.srv->port());
            auto r = h.hold(c);
            BOOST_TEST(h.srv->stats().open == 1u);

            h.srv->stop();
            BOOST_TEST(c.closed_by_peer()); // unanswered, and closed
            BOOST_TEST(h.srv->stats().open == 1u); // the responder still holds it

            // Dropping it would answer 500; the server has stopped, so it
            // does nothing, and the connection goes with the responder.
            r = http::responder();
            BOOST_TEST(h.srv->stats().open == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_responder_sent_from_another_thread_after_stop_does_nothing)
{
    for(unsigned threads : {1u, 2u})
    {
        BOOST_TEST_CONTEXT("I/O threads: " << threads)
        {
            holding_server h(threads);
            http_connection c(h.srv->port());
            auto r = h.hold(c);
            h.srv->stop();
            std::thread([r = std::move(r)]() mutable {
                r.send(text(11, "too late"));
                BOOST_TEST(!r);
            }).join();
            BOOST_TEST(h.srv->stats().open == 0u);
            BOOST_TEST(c.closed_by_peer());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_responder_outliving_its_server_frees_everything)
{
    for(unsigned threads : {1u, 2u})
    {
        for(bool send : {false, true})
        {
            BOOST_TEST_CONTEXT("I/O threads: " << threads << ", sent: " << send)
            {
                http::responder r;
                std::weak_ptr<int> token;
                {
                    holding_server h(threads);
                    token = h.token;
                    http_connection c(h.srv->port());
                    r = h.hold(c);
                    h.srv.reset(); // stops and destroys the server
                    BOOST_TEST(c.closed_by_peer());
                }
                // The connection, and through it the server's state (its
                // routes, its context), are alive only for the responder.
                BOOST_TEST(!token.expired());
                std::thread([&] {
                    if(send)
                        r.send(text(11, "too late"));
                    else
                        r = http::responder();
                }).join();
                BOOST_TEST(token.expired());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(on_the_applications_context_a_late_responder_runs_there)
{
    boost::asio::io_context ioc;
    auto guard = boost::asio::make_work_guard(ioc);
    std::thread runner([&] { ioc.run(); });
    std::weak_ptr<int> token;
    {
        http::responder r;
        {
            holding_server h(1, &ioc);
            token = h.token;
            http_connection c(h.srv->port());
            r = h.hold(c);
            h.srv->stop(); // starts the stop; the context finishes it
            BOOST_TEST(c.closed_by_peer());
            std::thread([&] { r.send(text(11, "too late")); }).join();
        }
        BOOST_TEST(!r);
    }
    guard.reset();
    runner.join(); // the context ran what the late send queued
    BOOST_TEST(token.expired());
}

BOOST_AUTO_TEST_CASE(the_server_owns_framing_and_connection_fields)
{
    http::server srv;
    srv.route("/fields", [](http::request const& req) {
        http::response res{http::status::ok, req.version()};
        res.set(boost::beast::http::field::content_length, "999");
        res.set(boost::beast::http::field::transfer_encoding, "chunked");
        res.set(boost::beast::http::field::server, "other");
        res.set(boost::beast::http::field::date, "yesterday");
        res.set(boost::beast::http::field::connection, "upgrade");
        res.set("X-Kept", "yes");
        res.insert("X-Twice", "1");
        res.insert("X-Twice", "2");
        res.body() = "four";
        return res;
    });
    srv.route("/empty", [](http::request const& req) {
        http::response res{http::status::no_content, req.version()};
        res.body() = "dropped";
        return res;
    });
    srv.route("/reason", [](http::request const& req) {
        http::response res{http::status::ok, req.version()};
        res.reason("Fine");
        return res;
    });
    srv.start();

    http_connection c(srv.port());
    auto res = c.exchange(get_request("/fields"));
    BOOST_REQUIRE(res);
    namespace bh = boost::beast::http;
    BOOST_TEST(res->body() == "four");
    BOOST_TEST((*res)[bh::field::content_length] == "4");
    BOOST_TEST(res->count(bh::field::content_length) == 1u);
    BOOST_TEST(res->count(bh::field::transfer_encoding) == 0u);
    BOOST_TEST((*res)[bh::field::server] == "spindle");
    BOOST_TEST(res->count(bh::field::server) == 1u);
    BOOST_TEST(res->count(bh::field::date) == 1u);
    BOOST_TEST((*res)[bh::field::date] != "yesterday");
    BOOST_TEST(res->count(bh::field::connection) == 0u); // HTTP/1.1, kept alive
    BOOST_TEST(res->keep_alive());
    BOOST_TEST(res->at("X-Kept") == "yes");
    BOOST_TEST(res->count("X-Twice") == 2u);

    // 204: no body, no Content-Length; the connection stays usable
    res = c.exchange(get_request("/empty"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 204);
    BOOST_TEST(res->count(bh::field::content_length) == 0u);
    BOOST_TEST(res->body().empty());

    res = c.exchange(get_request("/reason"));
    BOOST_REQUIRE(res);
    BOOST_TEST(res->reason() == "Fine");
    BOOST_TEST((*res)[bh::field::content_length] == "0");

    // HEAD: the length of the body it does not get
    res = c.exchange("HEAD /fields HTTP/1.1\r\nHost: x\r\n\r\n", true);
    BOOST_REQUIRE(res);
    BOOST_TEST((*res)[bh::field::content_length] == "4");
    BOOST_TEST(res->body().empty());

    // the last request: Connection: close, then the connection ends
    res = c.exchange(get_request("/fields", "Connection: close\r\n"));
    BOOST_REQUIRE(res);
    BOOST_TEST((*res)[bh::field::connection] == "close");
    BOOST_TEST(c.closed_by_peer());

    // HTTP/1.0: closed unless asked, and then said so
    http_connection c10(srv.port());
    res = c10.exchange("GET /fields HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->version() == 10u);
    BOOST_TEST((*res)[bh::field::connection] == "keep-alive");
    res = c10.exchange("GET /fields HTTP/1.0\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->count(bh::field::connection) == 0u);
    BOOST_TEST(c10.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(requests_split_anywhere_and_pipelined_with_bodies)
{
    http::server srv;
    srv.route("/echo", {http::verb::post}, [](http::request const& req) {
        return http::make_response(req, http::status::ok, req.body());
    });
    srv.start();

    // every byte its own segment: the parser resumes wherever a read ends
    http_connection c(srv.port());
    std::string const one = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    for(char ch : one)
    {
        BOOST_REQUIRE(c.send(std::string_view(&ch, 1)));
        std::this_thread::sleep_for(1ms); // not a timing assertion: only makes separate reads likely
    }
    auto res = c.read();
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body() == "hello");

    // requests with bodies, chunked and not, in one write: answered in order
    std::string batch;
    for(int i = 0; i < 10; ++i)
    {
        auto const body = "body " + std::to_string(i);
        if(i % 2 == 0)
            batch += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        else
            batch += "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     (std::ostringstream() << std::hex << body.size()).str() + "\r\n" + body + "\r\n0\r\n\r\n";
    }
    BOOST_REQUIRE(c.send(batch));
    for(int i = 0; i < 10; ++i)
    {
        res = c.read();
        BOOST_REQUIRE(res);
        BOOST_TEST(res->body() == "body " + std::to_string(i));
    }
    BOOST_TEST(srv.stats().requests == 11u);
}
