//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/exporter.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/system/system_error.hpp>

#include <charconv>
#include <fstream>
#include <ostream>
#include <random>
#include <system_error>

namespace spindle::trace {

namespace json = boost::json;

namespace {

std::string unix_nanos(std::chrono::system_clock::time_point t)
{
    auto const ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    return std::to_string(ns < 0 ? 0 : ns);
}

json::object any_value(attribute_value const& v)
{
    json::object o;
    std::visit(
        [&](auto const& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr(std::is_same_v<T, std::string>)
                o["stringValue"] = x;
            else if constexpr(std::is_same_v<T, bool>)
                o["boolValue"] = x;
            else if constexpr(std::is_same_v<T, std::int64_t>)
                o["intValue"] = std::to_string(x); // int64 is a JSON string in OTLP
            else
                o["doubleValue"] = x;
        },
        v);
    return o;
}

json::array key_values(attributes const& attrs)
{
    json::array a;
    for(auto const& kv : attrs)
    {
        json::object o;
        o["key"] = kv.key;
        o["value"] = any_value(kv.value);
        a.push_back(std::move(o));
    }
    return a;
}

json::object span_json(span_data const& s)
{
    json::object o;
    o["traceId"] = s.context.trace.to_hex();
    o["spanId"] = s.context.span.to_hex();
    if(!s.context.state.empty())
        o["traceState"] = s.context.state.to_header();
    if(s.parent.valid())
        o["parentSpanId"] = s.parent.to_hex();
    o["name"] = s.name;
    o["kind"] = static_cast<int>(s.kind);
    o["startTimeUnixNano"] = unix_nanos(s.start);
    o["endTimeUnixNano"] = unix_nanos(s.end);
    if(!s.attributes.empty())
        o["attributes"] = key_values(s.attributes);
    if(!s.events.empty())
    {
        json::array ev;
        for(auto const& e : s.events)
        {
            json::object x;
            x["timeUnixNano"] = unix_nanos(e.time);
            x["name"] = e.name;
            if(!e.attributes.empty())
                x["attributes"] = key_values(e.attributes);
            ev.push_back(std::move(x));
        }
        o["events"] = std::move(ev);
    }
    if(!s.links.empty())
    {
        json::array ln;
        for(auto const& l : s.links)
        {
            json::object x;
            x["traceId"] = l.context.trace.to_hex();
            x["spanId"] = l.context.span.to_hex();
            if(!l.context.state.empty())
                x["traceState"] = l.context.state.to_header();
            if(!l.attributes.empty())
                x["attributes"] = key_values(l.attributes);
            ln.push_back(std::move(x));
        }
        o["links"] = std::move(ln);
    }
    json::object st;
    if(s.status != status_code::unset)
        st["code"] = static_cast<int>(s.status);
    if(!s.status_message.empty())
        st["message"] = s.status_message;
    o["status"] = std::move(st);
    return o;
}

struct parsed_url
{
    std::string host, port, target;
};

bool parse_url(std::string_view url, parsed_url& u)
{
    constexpr std::string_view scheme = "http://";
    if(url.substr(0, scheme.size()) != scheme)
        return false;
    url.remove_prefix(scheme.size());
    auto const slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    std::string_view host = authority, port = "80";
    if(!authority.empty() && authority.front() == '[')
    {
        auto const close = authority.find(']');
        if(close == std::string_view::npos)
            return false;
        host = authority.substr(1, close - 1);
        auto const rest = authority.substr(close + 1);
        if(!rest.empty())
        {
            if(rest.front() != ':')
                return false;
            port = rest.substr(1);
        }
    }
    else if(auto const colon = authority.rfind(':'); colon != std::string_view::npos)
    {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    unsigned p = 0;
    auto const r = std::from_chars(port.data(), port.data() + port.size(), p);
    if(host.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || p == 0 || p > 65535)
        return false;
    u.host = std::string(host);
    u.port = std::string(port);
    return true;
}

} // namespace

std::string to_otlp_json(std::span<span_data const> spans, attributes const& resource, std::string_view scope_name)
{
    json::array out;
    for(auto const& s : spans)
        out.push_back(span_json(s));
    json::object scope;
    scope["name"] = scope_name;
    scope["version"] = "0.1.0";
    json::object scope_spans;
    scope_spans["scope"] = std::move(scope);
    scope_spans["spans"] = std::move(out);
    json::object res;
    res["attributes"] = key_values(resource);
    json::object rs;
    rs["resource"] = std::move(res);
    rs["scopeSpans"] = json::array{std::move(scope_spans)};
    json::object req;
    req["resourceSpans"] = json::array{std::move(rs)};
    return json::serialize(req);
}

// ---------------------------------------------------------------- OTLP/HTTP

struct otlp_http_exporter::impl
{
    otlp_http_options o;
    parsed_url u;
    std::atomic<std::uint64_t> requests{0}, retries{0}, succeeded{0}, failed{0};

    /// One POST. @return the HTTP status, 0 if no answer came.
    int post(std::string const& body, export_deadline& dl, int& retry_after);
};

int otlp_http_exporter::impl::post(std::string const& body, export_deadline& dl, int& retry_after)
{
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace http = beast::http;
    using tcp = asio::ip::tcp;
    using clock = std::chrono::steady_clock;

    retry_after = -1;
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    http::request<http::string_body> req{http::verb::post, u.target, 11};
    req.set(http::field::host, u.host + ":" + u.port);
    req.set(http::field::user_agent, "spindle-trace/0.1.0");
    req.set(http::field::content_type, "application/json");
    for(auto const& [k, v] : o.headers)
        req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buffer;
    http::response<http::string_body> resp;
    bool done = false;
    beast::error_code result;

    resolver.async_resolve(u.host, u.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
        if(ec)
        {
            result = ec;
            done = true;
            return;
        }
        stream.async_connect(r, [&](beast::error_code ec, tcp::endpoint) {
            if(ec)
            {
                result = ec;
                done = true;
                return;
            }
            http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
                if(ec)
                {
                    result = ec;
                    done = true;
                    return;
                }
                http::async_read(stream, buffer, resp, [&](beast::error_code ec, std::size_t) {
                    result = ec;
                    done = true;
                });
            });
        });
    });
    auto const attempt_limit = clock::now() + o.request_timeout;
    bool cancelled = false;
    while(!done)
    {
        // the deadline may be lowered (shutdown) while the request runs
        if(!cancelled && clock::now() >= std::min(attempt_limit, dl.limit()))
        {
            cancelled = true;
            resolver.cancel();
            beast::error_code ignored;
            stream.socket().close(ignored);
        }
        io.run_one_for(std::chrono::milliseconds(20));
        if(io.stopped())
            io.restart();
    }
    if(result)
        return 0;
    if(auto it = resp.find(http::field::retry_after); it != resp.end())
    {
        auto const v = it->value();
        int secs = 0;
        auto const r = std::from_chars(v.data(), v.data() + v.size(), secs);
        if(r.ec == std::errc() && r.ptr == v.data() + v.size() && secs >= 0)
            retry_after = secs;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return static_cast<int>(resp.result_int());
}

otlp_http_exporter::otlp_http_exporter(otlp_http_options opts) : impl_(std::make_unique<impl>())
{
    if(!parse_url(opts.url, impl_->u))
        throw boost::system::system_error(make_error_code(error::bad_option),
            "spindle::trace::otlp_http_exporter: '" + opts.url + "' is not an http://host[:port][/path] URL");
    if(opts.max_attempts < 1)
        throw boost::system::system_error(make_error_code(error::bad_option),
            "spindle::trace::otlp_http_exporter: max_attempts must be at least 1");
    impl_->o = std::move(opts);
}

otlp_http_exporter::~otlp_http_exporter() = default;

boost::system::error_code otlp_http_exporter::export_spans(
    std::span<span_data const> spans, attributes const& resource, export_deadline& dl)
{
    using clock = std::chrono::steady_clock;
    impl& p = *impl_;
    std::string const body = to_otlp_json(spans, resource);
    auto backoff = std::chrono::duration<double, std::milli>(p.o.initial_backoff);
    thread_local std::minstd_rand jitter{std::random_device{}()};
    for(int attempt = 1;; ++attempt)
    {
        if(attempt > 1)
            p.retries.fetch_add(1, std::memory_order_relaxed);
        p.requests.fetch_add(1, std::memory_order_relaxed);
        int retry_after = -1;
        int const status = p.post(body, dl, retry_after);
        if(status >= 200 && status < 300)
        {
            p.succeeded.fetch_add(1, std::memory_order_relaxed);
            return {};
        }
        // the OTLP specification's retryable outcomes
        bool const retryable = status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
        if(!retryable)
        {
            p.failed.fetch_add(1, std::memory_order_relaxed);
            return error::export_rejected;
        }
        if(attempt >= p.o.max_attempts)
            break;
        std::chrono::milliseconds wait;
        if(retry_after >= 0)
            wait = std::chrono::seconds(retry_after);
        else
        {
            // exponential with jitter in [0.5, 1.0] of the step
            double const step = std::min(backoff.count(), double(p.o.max_backoff.count()));
            wait = std::chrono::milliseconds(static_cast<long>(step * (0.5 + 0.5 * (jitter() % 1000) / 1000.0)));
            backoff *= 1.5;
        }
        if(!dl.sleep_until(clock::now() + wait))
            break;
    }
    p.failed.fetch_add(1, std::memory_order_relaxed);
    return error::export_failed;
}

otlp_http_stats otlp_http_exporter::stats() const noexcept
{
    otlp_http_stats s;
    s.requests = impl_->requests.load(std::memory_order_relaxed);
    s.retries = impl_->retries.load(std::memory_order_relaxed);
    s.succeeded = impl_->succeeded.load(std::memory_order_relaxed);
    s.failed = impl_->failed.load(std::memory_order_relaxed);
    return s;
}

// ---------------------------------------------------------------- JSON lines

jsonl_exporter::jsonl_exporter(std::ostream& out) : out_(&out) {}

jsonl_exporter::jsonl_exporter(std::string const& path)
{
    auto f = std::make_unique<std::ofstream>(path, std::ios::app);
    if(!*f)
        throw std::system_error(errno, std::generic_category(), "spindle::trace::jsonl_exporter: cannot open '" + path + "'");
    out_ = f.get();
    owned_ = std::move(f);
}

jsonl_exporter::~jsonl_exporter() = default;

boost::system::error_code jsonl_exporter::export_spans(
    std::span<span_data const> spans, attributes const& resource, export_deadline&)
{
    std::string line = to_otlp_json(spans, resource);
    line += '\n';
    std::lock_guard lk(m_);
    out_->write(line.data(), static_cast<std::streamsize>(line.size()));
    out_->flush();
    if(!*out_)
        return error::export_failed;
    return {};
}

} // namespace spindle::trace
