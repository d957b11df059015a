//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_SERVER_HPP
#define SPINDLE_HTTP_SERVER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/defaults.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/** @file
    An embeddable HTTP/1.1 server on Boost.Beast, for a service's
    operational endpoints (health, metrics, a status page) and small APIs.

    It runs on an `io_context` of its own (threads it starts and joins) or
    on one the application runs; never on Spindle's worker threads, whose
    fibers must not block in Asio. Handlers run on the I/O threads: they
    must be quick and must not block; a handler that needs an actor's
    answer registers with @ref spindle::http::server::route_async and
    completes its @ref spindle::http::responder from `async_ask`'s
    completion.

    What the server does for every route:
    - keep-alive, and pipelined requests answered one after another in
      their order;
    - limits on the request header (431), the target (414) and the body
      (413); a request that is malformed (400), or that could be framed
      two ways (conflicting or repeated `Content-Length`, a
      `Transfer-Encoding` other than a single final `chunked`, both
      headers, chunked on HTTP/1.0, a missing or repeated `Host`), is
      answered and the connection closed: these are checked here, on top
      of Beast's parser, which lets some of them through;
    - a read timeout per request (408), a short deadline for a new
      connection's first request, and an idle timeout between requests,
      so a slow or silent client cannot hold a connection;
    - a cap on open connections: at the cap, the connection that has
      waited longest for a request is closed to make room for the new
      one (only when all are busy is the new one answered 503), so
      health probes get through a flood of idle connections;
    - HTTP/1.x of a minor version above 1 answered as HTTP/1.1; a request
      target that is not a path or an absolute URI (`GET *`: asterisk-form
      is for `OPTIONS` only) refused with 400; chunk extensions capped;
    - 404 for unknown paths, 405 with `Allow` for a known path and another
      method, 501 for an unknown method, `OPTIONS` answered with `Allow`,
      `HEAD` answered like `GET` without the body;
    - a clean stop: the listener closes, idle connections close, a
      response in progress is finished with `Connection: close`;
    - with `spindle::trace` installed, a `server` span per request, a
      child of its `traceparent`, current while the handler runs, its
      `traceparent` written in the response (doc/tracing.md, *HTTP
      server*); nothing when tracing is off.
*/

namespace spindle::http {

/// A request as handlers receive it (the whole body read, at most `body_limit`).
using request = boost::beast::http::request<boost::beast::http::string_body>;

/// A response as handlers return it.
using response = boost::beast::http::response<boost::beast::http::string_body>;

/// An HTTP method.
using verb = boost::beast::http::verb;

/// An HTTP status code.
using status = boost::beast::http::status;

/** Configuration of a @ref server. Every field has a default fit for an
    operational endpoint on a private network. */
struct server_options
{
    /// The address to listen on: an IPv4 or IPv6 literal.
    std::string address = "127.0.0.1";

    /// The port; 0 picks a free one (see @ref server::port).
    std::uint16_t port = 0;

    /** I/O threads, when the server runs its own `io_context`. With one,
        connections need no strand (the cheapest path); with more, they
        are spread over the threads, each on a strand of its own. A
        @ref system_server keeps this default of 1 (see
        `system_server_options::server` for why). */
    unsigned threads = 1;

    /** Niceness of the I/O threads the server starts, added to the
        process's (Linux: `setpriority` on each thread; 0 leaves them as
        they are, 1 to 19 lowers their priority). When the machine's cores
        are all busy, a positive value lets Spindle's workers run first and
        requests wait, instead of the other way round; with idle cores it
        changes nothing. A value the system refuses is logged, not an
        error. A @ref system_server sets 10 by default (see
        `system_server_options::server`). */
    int io_nice = 0;

    /** Connections open at once. When a new one arrives at the cap, the
        connection that has waited longest for a request it has not
        completely sent (a silent or slow client, or a kept-alive one
        between requests) is closed to make room; only when every
        connection is busy with a request is the new one answered 503 and
        closed. So a flood of silent connections cannot lock out a health
        probe: each newcomer pushes out the oldest waiter. */
    std::size_t max_connections = defaults::http_max_connections;

    /// Largest request header (request line and fields), in bytes: 431 past it.
    std::size_t header_limit = defaults::http_header_limit;

    /// Longest request target, in bytes: 414 past it. At most `header_limit`.
    std::size_t target_limit = defaults::http_target_limit;

    /// Largest request body, in bytes: 413 past it.
    std::size_t body_limit = defaults::http_body_limit;

    /// Time to receive a whole request once its first byte arrived: 408 past it.
    std::chrono::nanoseconds read_timeout = defaults::http_read_timeout;

    /** Time a new connection has, from its acceptance, to send its first
        complete request: past it a silent connection is closed and a
        partial request answered 408. Shorter than `idle_timeout`, which
        applies between the requests of a connection that has sent one,
        so that connections that never send a request do not hold their
        slots for long. */
    std::chrono::nanoseconds first_request_timeout = std::chrono::seconds(5);

    /** Largest total size, in bytes, of the chunk extensions (`;name=value`
        after a chunk's size) of one request: 400 past it. Beast 1.81
        reads extensions of any length; nothing here uses them. */
    std::size_t chunk_extensions_limit = 4096;

    /// Time a kept-alive connection may wait for its next request.
    std::chrono::nanoseconds idle_timeout = defaults::http_idle_timeout;

    /// Time to send a response (a client that does not read is dropped).
    std::chrono::nanoseconds write_timeout = defaults::http_write_timeout;

    /// How long @ref server::stop lets responses in progress finish.
    std::chrono::nanoseconds shutdown_deadline = std::chrono::seconds(3);

    /// The `Server` header of every response; empty sends none.
    std::string server_name = "spindle";
};

/** Running totals of a @ref server. */
struct server_stats
{
    std::uint64_t accepted = 0;  ///< connections accepted
    std::uint64_t refused = 0;   ///< connections answered 503 (at `max_connections`, none to evict)
    std::uint64_t evicted = 0;   ///< connections closed at `max_connections` to make room for a new one
    std::uint64_t requests = 0;  ///< requests read completely and routed
    std::uint64_t rejected = 0;  ///< requests refused before routing (400, 408, 413, 414, 431, 501)
    std::uint64_t timeouts = 0;  ///< connections closed by a read, idle or write timeout
    std::size_t open = 0;        ///< connections alive now (after @ref server::stop, those an unsent responder still holds)
};

/** Requests answered for one route, method and status code: see
    @ref server::request_stats. */
struct route_stats
{
    /// The route's path; "other" for requests no route matched (404, `OPTIONS *`).
    std::string path;

    /// `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `OPTIONS`, or "other".
    std::string method;

    /// The status code sent; 0 for the overflow series (see @ref server::request_stats).
    unsigned code = 0;

    /// Requests answered.
    std::uint64_t count = 0;

    /// Their total time, in seconds, from the request read completely to its response written.
    double duration_sum = 0;

    /** Cumulative counts per bound of @ref server::request_duration_bounds,
        then one for `+Inf` (equal to `count`). */
    std::vector<std::uint64_t> duration_buckets;
};

namespace detail {
class connection;
}

/** Completes one request of an asynchronous handler.

    Move-only. Call @ref send once, from any thread; a responder destroyed
    without sending answers 500. The connection waits for it (later
    pipelined requests wait too), until the server stops.

    A responder may outlive the server's stop, and the server itself:
    once the server has stopped, sending or dropping it does nothing,
    and the connection it held (closed by the stop) is freed with it.
    On the application's `io_context`, that context must still exist when
    the responder goes (the late response is queued there, and dropped).

    @par Thread safety
    One responder must not be used by two threads at once; different
    responders are independent.
*/
class SPINDLE_DECL responder
{
    std::shared_ptr<detail::connection> conn_;
    unsigned version_ = 11;

public:
    /// An empty responder (sending through it does nothing).
    responder() noexcept = default;

    /// @cond
    responder(std::shared_ptr<detail::connection> conn, unsigned version) noexcept;
    /// @endcond

    /// Takes over `other`'s request; `other` becomes empty.
    responder(responder&& other) noexcept = default;
    /// Answers 500 to this responder's request if unsent, then takes over `other`'s.
    responder& operator=(responder&& other) noexcept;
    responder(responder const&) = delete;
    responder& operator=(responder const&) = delete;

    /// Answers 500 if @ref send was not called.
    ~responder();

    /** Sends the response. The server sets the version, `Content-Length`
        (none for 1xx, 204 and 304, whose body it drops), `Connection`,
        `Server` and `Date`, replacing the response's own values of these
        fields and of `Transfer-Encoding`, and drops the body of a `HEAD`.
        A handler running on the connection's I/O thread that sends at once
        has its response written without a trip through the queue.

        @param res The response.
        @par Thread safety
        Any thread; at most once.
    */
    void send(response res);

    /// True until @ref send was called (or for an empty responder, false).
    explicit operator bool() const noexcept { return conn_ != nullptr; }

    /// The HTTP version of the request (11 for HTTP/1.1).
    unsigned version() const noexcept { return version_; }
};

/// A synchronous handler: runs on an I/O thread, must not block.
using handler_type = std::function<response(request const&)>;

/// An asynchronous handler: answers later through its @ref responder.
using async_handler_type = std::function<void(request const&, responder)>;

/** Returns a response to `req` with a body and its content type.

    @param req The request (its version is copied).
    @param s The status.
    @param body The body.
    @param content_type The `Content-Type` header; empty sends none.
    @return The response.
    @throws std::bad_alloc If memory runs out.
*/
SPINDLE_DECL response make_response(
    request const& req, status s, std::string body, std::string_view content_type = "text/plain; charset=utf-8");

/** An HTTP/1.1 server: a listener, its connections and a table of routes.

    @code
    spindle::http::server_options opts;
    opts.port = 8080;
    spindle::http::server srv(opts);
    srv.route("/hello", [](spindle::http::request const& req) {
        return spindle::http::make_response(req, spindle::http::status::ok, "hello\n");
    });
    srv.start();
    @endcode

    Routes match the path exactly (the query string is ignored for
    matching); they are fixed once the server has started.

    @par Thread safety
    `route` only before `start`. `start`, `stop`, `port`, `local_endpoint`
    and `stats` may be called from any thread except that `stop` (and the
    destructor) must not be called from a handler of this server.
*/
class SPINDLE_DECL server
{
public:
    /** A server with an `io_context` of its own, run by `opts.threads`
        threads from @ref start to @ref stop.

        @param opts The options.
        @throws spindle::system_error `error::invalid_argument` for a bad
        option (no thread, zero limits, a target limit above the header
        limit, non-positive timeouts).
    */
    explicit server(server_options opts = {});

    /** A server on the application's `io_context`, which the application
        runs (on threads that are not Spindle workers) and keeps alive
        until the server has stopped and its handlers have run.

        @param ioc The context.
        @param opts The options (`threads` is ignored).
        @throws spindle::system_error `error::invalid_argument` for a bad option.
    */
    server(boost::asio::io_context& ioc, server_options opts = {});

    /// Calls @ref stop.
    ~server();

    server(server const&) = delete;
    server& operator=(server const&) = delete;

    /** Adds a route: requests for `path` with one of `methods` go to `h`.
        A route with `GET` also answers `HEAD`.

        @param path The path, starting with `/`.
        @param methods The methods; not empty, no `verb::unknown`.
        @param h The handler.
        @param ec `error::invalid_argument` if the path or methods are bad,
        `h` is empty, a method is already routed for this path, or the server
        has started; cleared otherwise.
    */
    void route(std::string_view path, std::initializer_list<verb> methods, handler_type h,
               boost::system::error_code& ec);

    /// Throwing form of @ref route. @throws spindle::system_error
    void route(std::string_view path, std::initializer_list<verb> methods, handler_type h);

    /// `route(path, {verb::get}, h)`. @throws spindle::system_error
    void route(std::string_view path, handler_type h);

    /// Like @ref route, for an asynchronous handler.
    void route_async(std::string_view path, std::initializer_list<verb> methods, async_handler_type h,
                     boost::system::error_code& ec);

    /// Throwing form of @ref route_async. @throws spindle::system_error
    void route_async(std::string_view path, std::initializer_list<verb> methods, async_handler_type h);

    /** Binds, listens, starts accepting (and starts the I/O threads of a
        server that owns its context).

        @param ec The bind or listen error (e.g. `address_in_use`),
        `error::invalid_argument` for a bad address or a second start;
        cleared on success.
    */
    void start(boost::system::error_code& ec);

    /// Throwing form of @ref start. @throws spindle::system_error naming the address.
    void start();

    /** Stops: closes the listener and idle connections, lets responses in
        progress finish with `Connection: close` for up to
        `shutdown_deadline`, then closes what is left. A server that owns
        its context also joins its threads before returning; on the
        application's context, this starts the stop and returns.
        Idempotent. A request whose responder the application still holds
        past the deadline is not answered: its connection is closed, and
        freed when the responder goes (see @ref responder).
    */
    void stop() noexcept;

    /// The port listened on (the chosen one when the options said 0); 0 before @ref start.
    std::uint16_t port() const noexcept;

    /// The address and port listened on.
    boost::asio::ip::tcp::endpoint local_endpoint() const noexcept;

    /// Running totals.
    server_stats stats() const noexcept;

    /** Requests answered since @ref start, by route (the path a route was
        given, not the raw target, so query strings and unknown paths
        cannot multiply the series), method and status code, with their
        durations. Requests refused before routing (400, 408, 413, 414,
        431) are in `stats().rejected` instead. Each route keeps up to 31
        method and code pairs; requests past them count in one more
        series with method "other" and code 0.

        @return One entry per route, method and code seen; empty before
        @ref start.
        @throws std::bad_alloc If memory runs out.
        @par Thread safety
        Any thread; counts are read without stopping the server (each
        entry is consistent in itself).
    */
    std::vector<route_stats> request_stats() const;

    /// The upper bounds, in seconds, of the request duration histogram: 10 µs to 10 s.
    static std::span<double const> request_duration_bounds() noexcept;

    /// The options in force.
    server_options const& options() const noexcept;

    /// @cond
    struct impl;
    /// @endcond

private:
    std::shared_ptr<impl> impl_;
};

} // namespace spindle::http

#endif
