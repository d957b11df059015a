//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_SYSTEM_SERVER_HPP
#define SPINDLE_HTTP_SYSTEM_SERVER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/http/health.hpp>
#include <spindle/http/history.hpp>
#include <spindle/http/prometheus.hpp>
#include <spindle/http/sections.hpp>
#include <spindle/http/server.hpp>
#include <spindle/http/system_json.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

/** @file
    A system's operational endpoints, served in one object:

    | path | what |
    |---|---|
    | `GET /health` | `application/health+json` (IETF draft); 200 for pass or warn, 503 for fail |
    | `GET /livez` | 200 `ok` while the workers answer; 503 once they do not or the system stops |
    | `GET /readyz` | 200 `ok` once every check ran and none fails; 503 otherwise |
    | `GET /metrics` | Prometheus text (format 0.0.4) of the system's metrics registry |
    | `GET /api/system` | the JSON of @ref spindle::http::system_json with the sections added here, plus a `snapshot` counter |
    | `GET /` | the live page (and its `/static/` files) |

    `HEAD` works wherever `GET` does.
*/

namespace spindle {
class system;
}

namespace spindle::http {

/** Options of a @ref system_server. */
struct system_server_options
{
    /** Where and how to listen (default: 127.0.0.1, a free port, one I/O
        thread).

        One I/O thread, on every machine. On the project's 2-core machine
        one thread served `/health` at 0.96–1.26× the requests/s of nginx
        (two worker processes, a static document; medians of six
        sessions), and a second thread 3–15% more; while wrk saturated
        `/health`, ping-pong kept 37–41% of its rate with one thread, and
        33–35% with two in four sessions of five. The workers run one
        thread per core, so every I/O thread is one more thread competing
        with them once HTTP is busy, and operational endpoints need far
        less than one core's worth of requests. Set `server.threads` for
        an API that needs more. (Figures and commands: doc/http.md.) */
    server_options server{};
    /// The health checks.
    health_options health{};
    /// What `/api/system` includes.
    system_json_options api{};
    /** Keep the last minutes of the main figures (messages/s, actors,
        dead letters/s, restarts/s, deepest mailbox, memory), sampled from
        construction on by a thread of its own, and serve them as
        `/api/system`'s `history`: the live page's sparklines. */
    bool record_history = true;
    /// The history's interval and length (1 s, 300 samples: five minutes).
    history_options history{};
    /// Serve the live page at `/`.
    bool page = true;

    /** Add the standard process series (`process_cpu_seconds_total`,
        `process_resident_memory_bytes`, ...: see @ref process_collector)
        and `spindle_build_info` to `/metrics`. Turn off when something
        else in the process already exports them. */
    bool process_metrics = true;
};

/** Serves a system's health, metrics, JSON view and live page over HTTP.

    @code
    spindle::system sys;
    spindle::http::system_server_options o;
    o.server.port = 8080;
    spindle::http::system_server web(sys, o);
    web.health().add_check("db", [&](std::stop_token) { return check_db(); });
    web.add_section("tools", [&bus] { return spindle::tools::describe(bus); });
    web.http().route("/hello", hello_handler); // own routes, before start
    web.start();
    @endcode

    The HTTP server runs on its own thread(s) (or on the application's
    `io_context`), never on the system's workers; its handlers read
    snapshots (metrics, introspection, the health monitor's latest results)
    and do not talk to actors. The server's own counters are added to the
    system's metrics (`spindle_http_*`, labelled `listener="address:port"`),
    and `/metrics` also serves its requests by route, method and code
    (`spindle_http_requests_total`, `spindle_http_request_duration_seconds`),
    the standard `process_*` series and `spindle_build_info`.

    @par Thread safety
    As @ref server. The system must outlive the object; destroy (or
    `stop`) it before shutting the system down to stop serving first.
*/
class SPINDLE_DECL system_server
{
public:
    /** Sets up the server (with its own I/O threads) and starts the health
        checks; `start` opens the port.
        @throws spindle::system_error for bad options.
    */
    explicit system_server(spindle::system& sys, system_server_options opts = {});

    /// The same on the application's `io_context`.
    system_server(spindle::system& sys, boost::asio::io_context& ioc, system_server_options opts = {});

    /// Calls @ref stop.
    ~system_server();

    system_server(system_server const&) = delete;
    system_server& operator=(system_server const&) = delete;

    /// Opens the port and serves. @param ec as @ref server::start.
    void start(boost::system::error_code& ec);

    /// Throwing form of @ref start. @throws spindle::system_error
    void start();

    /// Stops serving (see @ref server::stop), then the health checks. Idempotent.
    void stop() noexcept;

    /// The port served (after @ref start).
    std::uint16_t port() const noexcept;

    /// The HTTP server, for routes of the application's own (before @ref start).
    server& http() noexcept;

    /// The health monitor, for checks of the application's own.
    health_monitor& health() noexcept;

    /// The Prometheus exporter, for metrics of the application's own
    /// (`metrics().registry()`, prometheus-cpp).
    prometheus_exporter& metrics() noexcept;

    /** Adds a section of the application's own to `/api/system` (under
        `sections`) and to the live page; see @ref section_registry.
        May be called before or after @ref start, while serving.

        @param name Its key: see @ref is_valid_section_name.
        @param fn Computes it on each request, on an I/O thread: quick, no
        blocking; what it throws becomes `{"error": "..."}` for it alone.
        @param ec `error::invalid_argument` for an invalid name or an empty
        `fn`, `error::name_taken` for a name in use; cleared on success.
    */
    void add_section(std::string name, section_function fn, boost::system::error_code& ec);

    /** Throwing form of @ref add_section.
        @param name Its key.
        @param fn Computes it.
        @throws spindle::system_error naming the section.
    */
    void add_section(std::string name, section_function fn);

    /** Removes a section; once this returns its function is not called
        again (calls in progress are waited for; see
        @ref section_registry::remove).
        @param name The section.
        @return False if there was no such section.
    */
    bool remove_section(std::string_view name);

    /// The sections of `/api/system`.
    section_registry& sections() noexcept;

    /// @cond
    struct impl;
    /// @endcond

private:
    std::unique_ptr<impl> impl_;
};

} // namespace spindle::http

#endif
