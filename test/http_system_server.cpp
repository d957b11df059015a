//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Every endpoint of a system's server, its status codes and bodies, on a
// running system with a supervision tree, an executor and a breaker.

#include <spindle/http/system_server.hpp>

#include <boost/test/unit_test.hpp>
#include <boost/version.hpp>

#include "http_client.hpp"
#include "support.hpp"

#include <spindle/async_ask.hpp>
#include <spindle/circuit_breaker.hpp>
#include <spindle/executor.hpp>
#include <spindle/supervisor.hpp>
#include <spindle/system.hpp>

#include <boost/json/parse.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace http = spindle::http;
namespace bhttp = boost::beast::http;
using spindle_test::eventually;
using spindle_test::get_request;
using spindle_test::http_connection;
using spindle_test::http_get;

namespace {

struct job
{
    int n;
};
struct crash
{
};

struct worker : spindle::actor<worker, job, crash>
{
    int on(job j) { return j.n * 2; }
    void on(crash) { throw std::runtime_error("worker crashed on purpose"); }
};

struct fixture
{
    spindle::system sys{[] {
        spindle::system_options o;
        o.worker_threads = 2;
        o.name = "endpoints";
        return o;
    }()};
    spindle::supervisor_ref sup;
    spindle::actor_ref<worker> lone;

    fixture()
    {
        spindle::supervisor_spec spec;
        spec.children.push_back(spindle::child_spec::of<worker>().named("worker-a"));
        spec.children.push_back(spindle::child_spec::of<worker>().named("worker-b"));
        sup = spindle::supervisor_ref(sys.spawn_with<spindle::supervisor>(named("pool"), spec));
        lone = sys.spawn_with<worker>(named("lone"));
    }

    static spindle::spawn_options named(std::string n)
    {
        spindle::spawn_options o;
        o.name = std::move(n);
        return o;
    }
};

boost::json::object json_body(http_connection::response_type const& res)
{
    return boost::json::parse(res.body()).as_object();
}

boost::json::object const* find_node(boost::json::object const& node, std::string_view name)
{
    if(node.at("name").as_string() == name)
        return &node;
    for(auto const& c : node.at("children").as_array())
        if(auto const* f = find_node(c.as_object(), name))
            return f;
    return nullptr;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(health_livez_readyz, fixture)
{
    http::system_server web(sys);
    std::atomic<bool> db_up{true};
    web.health().add_check("database:ping", [&](std::stop_token) {
        return db_up ? http::check_result::pass(1, "ms") : http::check_result::fail("connection refused");
    });
    web.start();
    auto const port = web.port();
    BOOST_TEST(eventually([&] { return web.health().ready(); }));

    auto res = http_get(port, "/health");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST((*res)[bhttp::field::content_type] == "application/health+json");
    BOOST_TEST((*res)[bhttp::field::cache_control] == "no-store");
    auto doc = json_body(*res);
    BOOST_TEST(doc.at("status").as_string() == "pass");
    BOOST_TEST(doc.at("serviceId").as_string() == "endpoints");
    BOOST_TEST(doc.at("checks").as_object().contains("database:ping"));
    BOOST_TEST(doc.at("checks").as_object().contains("supervisors:restarts"));

    res = http_get(port, "/livez");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(res->body() == "ok\n");
    res = http_get(port, "/readyz");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);

    // a failing check turns /health into 503 (and /readyz), not /livez
    db_up = false;
    web.health().remove_check("database:ping");
    web.health().add_check("database:ping", [&](std::stop_token) {
        return db_up ? http::check_result::pass(1, "ms") : http::check_result::fail("connection refused");
    });
    BOOST_TEST(eventually([&] { return web.health().status() == spindle::health_status::fail; }));
    res = http_get(port, "/health");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 503);
    doc = json_body(*res);
    BOOST_TEST(doc.at("status").as_string() == "fail");
    BOOST_TEST(doc.at("checks").at("database:ping").as_array().at(0).at("output").as_string() == "connection refused");
    res = http_get(port, "/readyz");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 503);
    BOOST_TEST(res->body().find("database:ping: connection refused") != std::string::npos);
    res = http_get(port, "/livez");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);

    // HEAD: the headers of GET, no body
    http_connection c(port);
    auto head = c.exchange("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", true);
    BOOST_REQUIRE(head);
    BOOST_TEST(head->result_int() == 503);
    BOOST_TEST(head->body().empty());
    BOOST_TEST(std::stoul(std::string((*head)[bhttp::field::content_length])) > 100u);

    // once the system stops, nothing is live any more
    web.health().remove_check("database:ping");
    sys.shutdown(5s);
    res = http_get(port, "/livez");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 503);
    res = http_get(port, "/health");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 503);
}

BOOST_FIXTURE_TEST_CASE(metrics_endpoint, fixture)
{
    spindle::executor_options eo;
    eo.name = "jobs";
    spindle::executor exec(sys, eo);
    BOOST_TEST(exec.submit([] { return 7; }).get() == 7);
    http::system_server web(sys);
    web.start();
    // the server's requests by route, method and code: the route, not the
    // raw target (query strings and unknown paths add no series)
    BOOST_REQUIRE(http_get(web.port(), "/livez"));
    BOOST_REQUIRE(http_get(web.port(), "/livez?probe=1"));
    BOOST_REQUIRE(http_get(web.port(), "/no/such/path"));
    BOOST_REQUIRE(http_get(web.port(), "/another?x"));
    {
        spindle_test::http_connection c(web.port());
        BOOST_REQUIRE(c.exchange("HEAD /livez HTTP/1.1\r\nHost: x\r\n\r\n", true));
    }
    // counted once written: wait for them before scraping
    BOOST_REQUIRE(spindle_test::eventually([&] {
        std::uint64_t n = 0;
        for(auto const& r : web.http().request_stats())
            n += r.count;
        return n == 5u;
    }));
    auto res = http_get(web.port(), "/metrics");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST((*res)[bhttp::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
    auto const& text = res->body();
    BOOST_TEST_MESSAGE(text);
    BOOST_TEST(text.find("# TYPE spindle_actors gauge") != std::string::npos);
    BOOST_TEST(text.find("spindle_executor_tasks_completed_total{executor=\"jobs\",priority=\"normal\"} 1") != std::string::npos);
    std::string const listener = "listener=\"127.0.0.1:" + std::to_string(web.port()) + "\"";
    auto has_line = [&](std::string const& line) {
        return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
    };
    BOOST_TEST(has_line("# TYPE spindle_http_requests_total counter"));
    BOOST_TEST(has_line("spindle_http_requests_total{" + listener + ",method=\"GET\",path=\"/livez\",code=\"200\"} 2"));
    BOOST_TEST(has_line("spindle_http_requests_total{" + listener + ",method=\"HEAD\",path=\"/livez\",code=\"200\"} 1"));
    BOOST_TEST(has_line("spindle_http_requests_total{" + listener + ",method=\"GET\",path=\"other\",code=\"404\"} 2"));
    BOOST_TEST(text.find("/no/such/path") == std::string::npos);
    BOOST_TEST(has_line("# TYPE spindle_http_request_duration_seconds histogram"));
    BOOST_TEST(has_line("spindle_http_request_duration_seconds_count{" + listener +
                        ",method=\"GET\",path=\"/livez\",code=\"200\"} 2"));
    BOOST_TEST(has_line("spindle_http_request_duration_seconds_bucket{" + listener +
                        ",method=\"GET\",path=\"/livez\",code=\"200\",le=\"+Inf\"} 2"));
    // the standard process series and the build
    auto value_of = [&](std::string const& name) {
        auto const at = ("\n" + text).find("\n" + name + " ");
        return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 1));
    };
    BOOST_TEST(value_of("process_cpu_seconds_total") >= 0);
    BOOST_TEST(has_line("# TYPE process_cpu_seconds_total counter"));
    BOOST_TEST(value_of("process_resident_memory_bytes") > 1e6);
    BOOST_TEST(value_of("process_virtual_memory_bytes") >= value_of("process_resident_memory_bytes"));
    BOOST_TEST(value_of("process_open_fds") >= 3);
    BOOST_TEST(value_of("process_max_fds") >= value_of("process_open_fds"));
    auto const now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    BOOST_TEST(value_of("process_start_time_seconds") > now - 24 * 3600.0);
    BOOST_TEST(value_of("process_start_time_seconds") <= now + 1);
    std::string const boost_version = std::to_string(BOOST_VERSION / 100000) + "." +
                                      std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                                      std::to_string(BOOST_VERSION % 100);
    BOOST_TEST(text.find("spindle_build_info{version=\"0.1.0\",boost=\"" + boost_version + "\",compiler=\"") !=
               std::string::npos);
    BOOST_TEST(text.find("spindle_http_connections_open{" + listener + "}") != std::string::npos);
    BOOST_TEST(text.find("spindle_http_connections_evicted_total{" + listener + "} 0") != std::string::npos);
    if(spindle_test::have_tool("promtool"))
    {
        auto const r = spindle_test::run_tool("promtool check metrics", text);
        BOOST_TEST(r.status == 0);
        BOOST_TEST(r.output == "");
    }
    else
        BOOST_WARN_MESSAGE(false, "promtool not installed (tools/bootstrap --test): not checked");
    web.stop();
    exec.shutdown();
}

BOOST_FIXTURE_TEST_CASE(api_system_shows_the_tree, fixture)
{
    spindle::executor_options eo;
    eo.name = "jobs";
    spindle::executor exec(sys, eo);
    spindle::circuit_breaker_options bo;
    bo.name = "payments";
    spindle::circuit_breaker breaker(sys, bo);

    // a child fails and is restarted by its supervisor
    auto a = sup.child<worker>(0);
    a.tell(crash{});
    BOOST_TEST(eventually([&] { return sys.stats().restarts >= 1u; }));

    http::system_server web(sys);
    web.start();
    auto res = http_get(web.port(), "/api/system");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST((*res)[bhttp::field::content_type] == "application/json");
    auto doc = json_body(*res);
    BOOST_TEST(doc.at("system").at("name").as_string() == "endpoints");
    BOOST_TEST(doc.at("system").at("workers").to_number<int>() == 2);
    BOOST_TEST(doc.at("snapshot").to_number<int>() == 1);
    BOOST_TEST(doc.at("stats").at("restarts").to_number<int>() >= 1);

    auto const& tree = doc.at("tree").as_object();
    BOOST_TEST(tree.at("type").as_string() == "root");
    auto const* pool = find_node(tree, "pool");
    BOOST_REQUIRE(pool);
    BOOST_TEST(pool->at("type").as_string() == "supervisor");
    BOOST_TEST(pool->at("strategy").as_string() == "one_for_one");
    auto const& kids = pool->at("children").as_array();
    BOOST_REQUIRE(kids.size() == 2u);
    BOOST_TEST(kids.at(0).at("name").as_string() == "worker-a");
    BOOST_TEST(kids.at(0).at("restarts").to_number<int>() == 1);
    BOOST_TEST(kids.at(0).at("state").as_string() == "running");
    BOOST_TEST(kids.at(1).at("name").as_string() == "worker-b");
    auto const* lone_node = find_node(tree, "lone");
    BOOST_REQUIRE(lone_node);
    BOOST_TEST(lone_node->at("type").as_string() == "worker");
    BOOST_TEST(lone_node->at("actor_type").as_string().find("worker") != boost::json::string::npos);
    BOOST_TEST(lone_node->at("mailbox_depth").to_number<int>() == 0);

    auto const& executors = doc.at("executors").as_array();
    BOOST_REQUIRE(executors.size() == 1u);
    BOOST_TEST(executors.at(0).at("name").as_string() == "jobs");
    auto const& breakers = doc.at("breakers").as_array();
    BOOST_REQUIRE(breakers.size() == 1u);
    BOOST_TEST(breakers.at(0).at("name").as_string() == "payments");
    BOOST_TEST(breakers.at(0).at("state").as_string() == "closed");
    BOOST_TEST(doc.at("workers").as_array().size() == 2u);
    bool restarted = false;
    for(auto const& e : doc.at("events").as_array())
        restarted = restarted || e.at("type").as_string() == "actor_restarted";
    BOOST_TEST(restarted);
    BOOST_TEST(doc.at("health").as_object().contains("status"));

    // every request is a new snapshot
    res = http_get(web.port(), "/api/system");
    BOOST_REQUIRE(res);
    BOOST_TEST(json_body(*res).at("snapshot").to_number<int>() == 2);
    web.stop();
    exec.shutdown();
}

BOOST_FIXTURE_TEST_CASE(the_live_page_is_served_from_the_library, fixture)
{
    http::system_server web(sys);
    web.start();
    auto res = http_get(web.port(), "/");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST((*res)[bhttp::field::content_type] == "text/html; charset=utf-8");
    BOOST_TEST(std::string((*res)["Content-Security-Policy"]).find("default-src 'self'") == 0u);
    BOOST_TEST(res->body().find("<script src=\"/static/spindle.js\"") != std::string::npos);
    BOOST_TEST(res->body().find("http://") == std::string::npos); // nothing from elsewhere
    BOOST_TEST(res->body().find("https://") == std::string::npos);
    res = http_get(web.port(), "/static/spindle.js");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST((*res)[bhttp::field::content_type] == "text/javascript; charset=utf-8");
    BOOST_TEST(res->body().find("/api/system") != std::string::npos);
    res = http_get(web.port(), "/static/spindle.css");
    BOOST_REQUIRE(res);
    BOOST_TEST((*res)[bhttp::field::content_type] == "text/css; charset=utf-8");
    res = http_get(web.port(), "/static/missing.js");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 404);
    http_connection c(web.port());
    res = c.exchange("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 405);
    BOOST_TEST((*res)[bhttp::field::allow] == "GET, HEAD, OPTIONS");
}

BOOST_FIXTURE_TEST_CASE(application_routes_and_no_page, fixture)
{
    http::system_server_options o;
    o.page = false;
    http::system_server web(sys, o);
    web.http().route_async("/double", {http::verb::get}, [this](http::request const& req, http::responder r) {
        // the answer comes from an actor; the I/O thread never waits for it
        spindle::async_ask(lone, job{21}, 5s,
            [r = std::move(r), v = req.version()](boost::system::error_code ec, int n) mutable {
                http::response res{ec ? http::status::service_unavailable : http::status::ok, v};
                res.body() = ec ? ec.message() : std::to_string(n);
                r.send(std::move(res));
            });
    });
    web.start();
    auto res = http_get(web.port(), "/double");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->body() == "42");
    res = http_get(web.port(), "/");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->result_int() == 404);
}
