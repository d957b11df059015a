//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// The OTLP/HTTP exporter against a receiver started per case on loopback
// (test/trace_js/receiver.cjs, installed with its pinned npm package by
// tools/test) that decodes with the official OTLP definitions.

#include <spindle/trace/exporter.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/trace/tracing.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

extern char** environ;

// CMake points this at the build tree, where tools/test runs `npm ci`; other
// builds (b2) look in the source tree, where `npm ci` can be run by hand.
#ifndef SPINDLE_TRACE_JS_DIR
#define SPINDLE_TRACE_JS_DIR "test/trace_js"
#endif

using namespace spindle::trace;
using namespace spindle_test;
namespace json = boost::json;

namespace {

/// node receiver.cjs, stopped with SIGTERM when the case ends.
class receiver
{
public:
    explicit receiver(std::vector<std::string> args = {})
    {
        std::string const dir = SPINDLE_TRACE_JS_DIR;
        struct stat st;
        BOOST_REQUIRE_MESSAGE(::stat((dir + "/node_modules/@opentelemetry/otlp-transformer").c_str(), &st) == 0,
            "npm package missing: run tools/test, or `npm ci` in " + dir);
        static int n = 0;
        out_ = dir + "/receiver-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".out";
        std::string const script = dir + "/receiver.cjs";
        std::vector<char*> argv{const_cast<char*>("node"), const_cast<char*>(script.c_str())};
        for(auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        int const rc = ::posix_spawnp(&pid_, "node", &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        BOOST_REQUIRE_MESSAGE(rc == 0, "cannot run node (Debian: nodejs)");
        BOOST_REQUIRE_MESSAGE(wait_for([&] {
            auto l = lines();
            if(!l.empty() && l[0].is_object() && l[0].as_object().contains("port"))
                port_ = static_cast<int>(l[0].at("port").to_number<int>());
            return port_ != 0;
        }), "the receiver did not start: " + text());
    }

    ~receiver()
    {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        ::unlink(out_.c_str());
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces"; }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

    std::string text() const
    {
        std::ifstream f(out_);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }

    std::vector<json::value> lines() const
    {
        std::vector<json::value> v;
        std::istringstream in(text());
        std::string line;
        while(std::getline(in, line))
        {
            boost::system::error_code ec;
            auto j = json::parse(line, ec);
            if(!ec)
                v.push_back(std::move(j));
        }
        return v;
    }

    /// The decoded requests; fails the case on any error line.
    std::vector<json::object> requests() const
    {
        std::vector<json::object> v;
        for(auto const& l : lines())
        {
            auto const& o = l.as_object();
            BOOST_TEST(!o.contains("error"), "receiver: " + json::serialize(l));
            if(o.contains("request"))
                v.push_back(o.at("request").as_object());
        }
        return v;
    }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    std::string out_;
};

/// A loopback port nobody listens on.
int closed_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

json::value const* find_attr(json::value const& attrs, std::string_view key)
{
    for(auto const& kv : attrs.as_array())
        if(kv.at("key").as_string() == key)
            return &kv.at("value");
    return nullptr;
}

std::vector<span_data> one_span(std::string name)
{
    span_data d;
    d.context.trace = trace_id::random();
    d.context.span = span_id::random();
    d.context.flags = trace_flags::sampled;
    d.name = std::move(name);
    d.start = std::chrono::system_clock::now();
    d.end = d.start + std::chrono::milliseconds(1);
    return {d};
}

otlp_http_options fast_retries(std::string url, int attempts = 5)
{
    otlp_http_options o;
    o.url = std::move(url);
    o.max_attempts = attempts;
    o.initial_backoff = std::chrono::milliseconds(10);
    o.max_backoff = std::chrono::milliseconds(20);
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(spans_decode_with_the_official_otlp_definitions)
{
    receiver r;
    tracing_options o;
    o.service_name = "otlp-test";
    o.service_version = "1.2.3";
    o.endpoint = r.base();
    o.sampler = always_on();
    o.batch.schedule_delay = std::chrono::milliseconds(20);
    tracing t(std::move(o));
    BOOST_TEST(t.url() == r.url());

    span_context linked;
    linked.trace = trace_id::random();
    linked.span = span_id::random();
    linked.state = trace_state::parse("vendor=abc");
    span_options po;
    po.kind = span_kind::server;
    po.parent = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    po.parent->state = trace_state::parse("congo=t61rcWkgMzE");
    po.attributes = {{"s", "text"}, {"i", 42}, {"d", 2.5}, {"b", true}};
    po.links = {{linked, {{"why", "batch"}}}};
    auto parent = start_span("parent", po);
    span_id child_id;
    {
        scope sc(parent);
        auto child = start_span("child");
        child_id = child.context().span;
        child.add_event("step", {{"n", 1}});
        child.end();
    }
    parent.set_status(status_code::error, "went wrong");
    parent.end();
    BOOST_REQUIRE(t.force_flush(std::chrono::seconds(60)));
    BOOST_TEST(t.stats().exported == 2u);

    auto const reqs = r.requests();
    BOOST_REQUIRE_EQUAL(reqs.size(), 1u);
    auto const& rs = reqs[0].at("resourceSpans").at(0);
    auto const& res = rs.at("resource").at("attributes");
    BOOST_TEST(find_attr(res, "service.name")->at("stringValue").as_string() == "otlp-test");
    BOOST_TEST(find_attr(res, "service.version")->at("stringValue").as_string() == "1.2.3");
    BOOST_TEST(find_attr(res, "host.name") != nullptr);
    auto const& ss = rs.at("scopeSpans").at(0);
    BOOST_TEST(ss.at("scope").at("name").as_string() == "spindle");
    auto const& spans = ss.at("spans").as_array();
    BOOST_REQUIRE_EQUAL(spans.size(), 2u);
    json::value const* p = nullptr;
    json::value const* c = nullptr;
    for(auto const& s : spans)
        (s.at("name").as_string() == "parent" ? p : c) = &s;
    BOOST_REQUIRE(p);
    BOOST_REQUIRE(c);
    BOOST_TEST(p->at("traceId").as_string() == "0af7651916cd43dd8448eb211c80319c");
    BOOST_TEST(p->at("parentSpanId").as_string() == "b7ad6b7169203331");
    BOOST_TEST(p->at("spanId").as_string() == parent.context().span.to_hex());
    BOOST_TEST(p->at("traceState").as_string() == "congo=t61rcWkgMzE");
    BOOST_TEST(p->at("kind").as_int64() == 2);
    BOOST_TEST(p->at("status").at("code").as_int64() == 2);
    BOOST_TEST(p->at("status").at("message").as_string() == "went wrong");
    BOOST_TEST(find_attr(p->at("attributes"), "s")->at("stringValue").as_string() == "text");
    BOOST_TEST(find_attr(p->at("attributes"), "i")->at("intValue").as_string() == "42");
    BOOST_TEST(find_attr(p->at("attributes"), "d")->at("doubleValue").to_number<double>() == 2.5);
    BOOST_TEST(find_attr(p->at("attributes"), "b")->at("boolValue").as_bool());
    BOOST_TEST(p->at("links").at(0).at("traceId").as_string() == linked.trace.to_hex());
    BOOST_TEST(p->at("links").at(0).at("traceState").as_string() == "vendor=abc");
    BOOST_TEST(c->at("parentSpanId").as_string() == parent.context().span.to_hex());
    BOOST_TEST(c->at("spanId").as_string() == child_id.to_hex());
    BOOST_TEST(c->at("kind").as_int64() == 1);
    BOOST_TEST(c->at("events").at(0).at("name").as_string() == "step");
    auto const start = std::stoull(std::string(p->at("startTimeUnixNano").as_string()));
    auto const end = std::stoull(std::string(p->at("endTimeUnixNano").as_string()));
    BOOST_TEST(start > 1'600'000'000'000'000'000ull);
    BOOST_TEST(end >= start);
}

BOOST_AUTO_TEST_CASE(retries_on_503_and_429_then_succeeds)
{
    for(std::string status : {"503", "429"})
    {
        receiver r({"2", status, "0"});
        otlp_http_exporter exp(fast_retries(r.url()));
        export_deadline dl(std::chrono::steady_clock::now() + std::chrono::seconds(60));
        auto const ec = exp.export_spans(one_span("retried"), {}, dl);
        BOOST_TEST(!ec, ec.message());
        auto const st = exp.stats();
        BOOST_TEST(st.requests == 3u);
        BOOST_TEST(st.retries == 2u);
        BOOST_TEST(st.succeeded == 1u);
        auto const reqs = r.requests();
        BOOST_REQUIRE_EQUAL(reqs.size(), 1u);
        BOOST_TEST(reqs[0].at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0).at("name").as_string() == "retried");
    }
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured)
{
    receiver r({"1", "503", "1"});
    otlp_http_exporter exp(fast_retries(r.url()));
    export_deadline dl(std::chrono::steady_clock::now() + std::chrono::seconds(60));
    auto const t0 = std::chrono::steady_clock::now();
    BOOST_TEST(!exp.export_spans(one_span("later"), {}, dl));
    // the backoff alone would have waited at most 20 ms
    BOOST_TEST((std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(950)));
    BOOST_TEST(exp.stats().retries == 1u);
}

BOOST_AUTO_TEST_CASE(other_errors_are_not_retried)
{
    receiver r({"1", "400"});
    otlp_http_exporter exp(fast_retries(r.url()));
    export_deadline dl(std::chrono::steady_clock::now() + std::chrono::seconds(60));
    BOOST_TEST(exp.export_spans(one_span("x"), {}, dl) == make_error_code(error::export_rejected));
    BOOST_TEST(exp.stats().requests == 1u);
    BOOST_TEST(exp.stats().failed == 1u);
}

BOOST_AUTO_TEST_CASE(receiver_down_retries_then_counts_drops)
{
    auto exp = std::make_shared<otlp_http_exporter>(
        fast_retries("http://127.0.0.1:" + std::to_string(closed_port()) + "/v1/traces", 3));
    tracing_options o;
    o.exporter = exp;
    o.sampler = always_on();
    o.batch.schedule_delay = std::chrono::milliseconds(20);
    tracing t(std::move(o));
    for(int i = 0; i < 5; ++i)
        start_span("lost").end();
    BOOST_TEST(t.force_flush(std::chrono::seconds(60)));
    auto const st = t.stats();
    BOOST_TEST(st.export_dropped == 5u);
    BOOST_TEST(st.exported == 0u);
    BOOST_TEST(exp->stats().requests == 3u);
    BOOST_TEST(exp->stats().retries == 2u);
    BOOST_TEST(exp->stats().failed == 1u);
}

BOOST_AUTO_TEST_CASE(shutdown_is_not_delayed_past_its_deadline)
{
    // retries that would go on for days: only the deadline can end them
    auto ro = fast_retries("http://127.0.0.1:" + std::to_string(closed_port()) + "/v1/traces", 1'000'000);
    ro.initial_backoff = ro.max_backoff = std::chrono::milliseconds(200);
    auto exp = std::make_shared<otlp_http_exporter>(ro);
    tracing_options o;
    o.exporter = exp;
    o.sampler = always_on();
    o.batch.schedule_delay = std::chrono::milliseconds(1);
    o.batch.shutdown_timeout = std::chrono::milliseconds(300);
    tracing t(std::move(o));
    start_span("a").end();
    // the export is under way and retrying
    BOOST_REQUIRE(wait_for([&] { return exp->stats().retries >= 1; }));
    start_span("b").end();
    auto const t0 = std::chrono::steady_clock::now();
    t.shutdown();
    // generous against a loaded machine, far below what the retries would take
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)));
    BOOST_TEST(t.stats().export_dropped == 2u);
    BOOST_TEST(exp->stats().failed == 1u);
}

BOOST_AUTO_TEST_CASE(jsonl_lines_are_otlp_requests)
{
    std::ostringstream out;
    tracing_options o;
    o.exporter = std::make_shared<jsonl_exporter>(out);
    o.sampler = always_on();
    o.service_name = "lines";
    tracing t(std::move(o));
    start_span("one").end();
    BOOST_REQUIRE(t.force_flush(std::chrono::seconds(60)));
    t.shutdown();
    std::string const text = out.str();
    BOOST_REQUIRE(!text.empty());
    BOOST_TEST(text.back() == '\n');
    auto const v = json::parse(text);
    BOOST_TEST(v.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0).at("name").as_string() == "one");

    // and the receiver takes the same line
    receiver r;
    otlp_http_exporter exp(fast_retries(r.url()));
    export_deadline dl(std::chrono::steady_clock::now() + std::chrono::seconds(60));
    BOOST_TEST(!exp.export_spans(one_span("same"), t.resource(), dl));
    BOOST_TEST(r.requests().size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_urls_are_refused)
{
    BOOST_CHECK_THROW(otlp_http_exporter(otlp_http_options{.url = "https://x/v1/traces"}), boost::system::system_error);
    BOOST_CHECK_THROW(otlp_http_exporter(otlp_http_options{.url = "http://:80/"}), boost::system::system_error);
    BOOST_CHECK_THROW(otlp_http_exporter(otlp_http_options{.url = "http://host:99999/"}), boost::system::system_error);
    otlp_http_exporter ok(otlp_http_options{.url = "http://[::1]:4318/v1/traces"});
}
