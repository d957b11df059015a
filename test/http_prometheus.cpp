//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/prometheus.hpp>

#include <boost/test/unit_test.hpp>

#include "http_client.hpp"
#include "support.hpp"

#include <spindle/circuit_breaker.hpp>
#include <spindle/executor.hpp>
#include <spindle/system.hpp>

#include <prometheus/counter.h>

#include <boost/core/demangle.hpp>

#include <sstream>
#include <string>
#include <typeinfo>
#include <utility>

namespace {

bool has_line(std::string const& text, std::string const& line)
{
    std::istringstream in(text);
    for(std::string l; std::getline(in, l);)
        if(l == line)
            return true;
    return false;
}

struct ping
{
};

struct echo : spindle::actor<echo, ping>
{
    void on(ping) {}
};

// Demangled, these have `::`, `<>`, commas, spaces and parentheses: label
// values carry them as they are.
template<class T>
struct box
{
};

template<class T>
struct keeper : spindle::actor<keeper<T>, box<T>>
{
    void on(box<T>) {}
};

// promtool's verdict on `text`: empty if it accepts it, else what it said.
std::string promtool_complaints(std::string const& text)
{
    auto const r = spindle_test::run_tool("promtool check metrics", text);
    return r.status == 0 ? std::string() : "exit " + std::to_string(r.status) + ": " + r.output;
}

} // namespace

BOOST_AUTO_TEST_CASE(families_series_and_escaping)
{
    spindle::metrics::registry reg;
    reg.counter("test_hits_total", "Hits, by path", {{"path", "/a"}}).inc(3);
    reg.counter("test_hits_total", "Hits, by path", {{"path", "q\"uo\\te\nd"}}).inc(1);
    reg.gauge("test_level", "A level").set(-2);
    double const bounds[] = {0.1, 1};
    auto& h = reg.histogram("test_latency_seconds", "Latency", bounds, {{"op", "x"}});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(7);
    reg.add_collector("test_computed", "Computed at scrape time", spindle::metrics::metric_type::gauge,
                      [](std::vector<spindle::metrics::sample>& out) { out.emplace_back(spindle::metrics::labels_type{{"k", "v"}}, 42.0); });

    spindle::http::prometheus_exporter exp(reg);
    prometheus::BuildCounter().Name("app_requests_total").Help("The application's own").Register(*exp.registry()).Add({}).Increment(2);
    // the same name as one of Spindle's is left out, not written twice
    prometheus::BuildCounter().Name("test_hits_total").Help("Clash").Register(*exp.registry()).Add({});

    auto const text = exp.scrape();
    BOOST_TEST_MESSAGE(text);
    BOOST_TEST(has_line(text, "# HELP test_hits_total Hits, by path"));
    BOOST_TEST(has_line(text, "# TYPE test_hits_total counter"));
    BOOST_TEST(has_line(text, "test_hits_total{path=\"/a\"} 3"));
    BOOST_TEST(has_line(text, "test_hits_total{path=\"q\\\"uo\\\\te\\nd\"} 1"));
    BOOST_TEST(has_line(text, "# TYPE test_level gauge"));
    BOOST_TEST(has_line(text, "test_level -2"));
    BOOST_TEST(has_line(text, "# TYPE test_latency_seconds histogram"));
    BOOST_TEST(has_line(text, "test_latency_seconds_bucket{op=\"x\",le=\"0.1\"} 1"));
    BOOST_TEST(has_line(text, "test_latency_seconds_bucket{op=\"x\",le=\"1\"} 2"));
    BOOST_TEST(has_line(text, "test_latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 3"));
    BOOST_TEST(has_line(text, "test_latency_seconds_count{op=\"x\"} 3"));
    BOOST_TEST(has_line(text, "test_latency_seconds_sum{op=\"x\"} 7.55"));
    BOOST_TEST(has_line(text, "test_computed{k=\"v\"} 42"));
    BOOST_TEST(has_line(text, "app_requests_total 2"));
    BOOST_TEST(text.find("Clash") == std::string::npos);
    if(spindle_test::have_tool("promtool"))
        BOOST_TEST(promtool_complaints(text) == "");
    else
        BOOST_WARN_MESSAGE(false, "promtool not installed (tools/bootstrap --test): not checked");
}

// The check itself can fail: promtool refuses a family without help text.
BOOST_AUTO_TEST_CASE(promtool_refuses_bad_text)
{
    if(spindle_test::have_tool("promtool"))
        BOOST_TEST(promtool_complaints("foo_bar 1\n") != "");
    else
        BOOST_WARN_MESSAGE(false, "promtool not installed (tools/bootstrap --test): not checked");
}

BOOST_AUTO_TEST_CASE(a_collector_failure_is_reported)
{
    spindle::metrics::registry reg;
    reg.add_collector("test_dup", "Duplicate series", spindle::metrics::metric_type::gauge,
                      [](std::vector<spindle::metrics::sample>& out) {
                          out.emplace_back(spindle::metrics::labels_type{}, 1.0);
                          out.emplace_back(spindle::metrics::labels_type{}, 2.0);
                      });
    spindle::http::prometheus_exporter exp(reg);
    boost::system::error_code ec;
    BOOST_TEST(exp.scrape(ec).empty());
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    BOOST_CHECK_THROW(exp.scrape(), spindle::system_error);
}

// Every series a running system exports (runtime, executor, breaker) is
// valid Prometheus text: promtool checks the syntax and the conventions.
BOOST_AUTO_TEST_CASE(a_running_systems_metrics_pass_promtool)
{
    spindle::system_options o;
    o.worker_threads = 2;
    spindle::system sys(o);
    auto a = sys.spawn<echo>();
    for(int i = 0; i < 100; ++i)
        a.tell(ping{});
    spindle::executor_options eo;
    eo.name = "jobs";
    spindle::executor exec(sys, eo);
    BOOST_TEST(exec.submit([] { return 1; }).get() == 1);
    spindle::circuit_breaker_options bo;
    bo.name = "db";
    spindle::circuit_breaker breaker(sys, bo);
    using odd = std::pair<int, char>;
    auto k = sys.spawn<keeper<odd>>();
    for(int i = 0; i < 3; ++i)
        k.tell(box<odd>{});
    // stats().messages also counts the executor lane's own messages: wait
    // for the two types' exact counts instead
    spindle::http::prometheus_exporter exp(sys.metrics());
    auto const keeper_name = boost::core::demangle(typeid(keeper<odd>).name());
    auto const box_name = boost::core::demangle(typeid(box<odd>).name());
    BOOST_TEST(keeper_name.find("::keeper<std::pair<int, char>") != std::string::npos);
    auto const keeper_line =
        "spindle_actor_messages_total{actor=\"" + keeper_name + "\",message=\"" + box_name + "\"} 3";
    auto const echo_line = std::string("spindle_actor_messages_total{actor=\"(anonymous namespace)::echo\",message=\""
                                       "(anonymous namespace)::ping\"} 100");
    std::string text;
    BOOST_TEST(spindle_test::eventually([&] {
        text = exp.scrape();
        return has_line(text, keeper_line) && has_line(text, echo_line);
    }));
    BOOST_TEST_MESSAGE(text);
    BOOST_TEST(text.find("# TYPE spindle_worker_messages_total counter") != std::string::npos);
    BOOST_TEST(has_line(text, "spindle_executor_task_duration_seconds_count{executor=\"jobs\",priority=\"normal\"} 1"));
    BOOST_TEST(has_line(text, "spindle_executor_task_duration_seconds_count{executor=\"jobs\",priority=\"low\"} 0"));
    BOOST_TEST(text.find("# TYPE spindle_actors gauge") != std::string::npos);
    BOOST_TEST(text.find("spindle_executor_tasks_completed_total{executor=\"jobs\",priority=\"normal\"} 1") != std::string::npos);
    BOOST_TEST(text.find("spindle_circuit_breaker_state{breaker=\"db\"} 0") != std::string::npos);
    BOOST_TEST(text.find("spindle_dead_letters_total") != std::string::npos);
    if(spindle_test::have_tool("promtool"))
        BOOST_TEST(promtool_complaints(text) == "");
    else
        BOOST_WARN_MESSAGE(false, "promtool not installed (tools/bootstrap --test): not checked");
    exec.shutdown();
}

// The standard process series and spindle_build_info, added as
// collectables: read from /proc, valid for promtool; a collectable's
// family with a name already served is left out.
BOOST_AUTO_TEST_CASE(process_and_build_info_collectables)
{
    spindle::metrics::registry reg;
    reg.gauge("process_open_fds", "Taken by the registry first").set(-1);
    spindle::http::prometheus_exporter exp(reg);
    exp.add_collectable(std::make_shared<spindle::http::process_collector>());
    exp.add_collectable(std::make_shared<spindle::http::build_info_collector>());
    BOOST_CHECK_THROW(exp.add_collectable(nullptr), spindle::system_error);
    auto const text = exp.scrape();
    BOOST_TEST_MESSAGE(text);
    for(char const* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                            "process_virtual_memory_bytes", "process_max_fds", "process_start_time_seconds"})
        BOOST_TEST(text.find(std::string("\n") + name + " ") != std::string::npos, name);
    BOOST_TEST(has_line(text, "# TYPE process_cpu_seconds_total counter"));
    BOOST_TEST(has_line(text, "process_open_fds -1")); // the registry's, not written twice
    BOOST_TEST(text.find("Number of open file descriptors") == std::string::npos);
    BOOST_TEST(text.find("spindle_build_info{version=\"") != std::string::npos);
    if(spindle_test::have_tool("promtool"))
        BOOST_TEST(promtool_complaints(text) == "");
    else
        BOOST_WARN_MESSAGE(false, "promtool not installed (tools/bootstrap --test): not checked");
}
