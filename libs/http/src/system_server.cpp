//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/system_server.hpp>

#include <spindle/error.hpp>
#include <spindle/http/page.hpp>
#include <spindle/log.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>

#include <boost/json/serialize.hpp>

#include <atomic>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace spindle::http {

namespace bhttp = boost::beast::http;

namespace {

/* The server's requests by route, method and code, and their durations:
   a histogram, which a metrics::registry collector cannot give, so it is
   collected for the exporter directly. */
class request_series final : public prometheus::Collectable
{
    server const* srv_;
    std::string listener_;

public:
    request_series(server const& srv, std::string listener) : srv_(&srv), listener_(std::move(listener)) {}

    std::vector<prometheus::MetricFamily> Collect() const override
    {
        std::vector<prometheus::MetricFamily> out(2);
        auto& total = out[0];
        total.name = "spindle_http_requests_total";
        total.help = "HTTP requests answered, by route (path: the route, \"other\" for unknown paths), method and status code";
        total.type = prometheus::MetricType::Counter;
        auto& duration = out[1];
        duration.name = "spindle_http_request_duration_seconds";
        duration.help = "Time from an HTTP request read completely to its response written, by route, method and status code";
        duration.type = prometheus::MetricType::Histogram;
        auto const bounds = server::request_duration_bounds();
        for(auto const& r : srv_->request_stats())
        {
            std::vector<prometheus::ClientMetric::Label> labels{{"listener", listener_},
                                                                {"method", r.method},
                                                                {"path", r.path},
                                                                {"code", r.code ? std::to_string(r.code) : "other"}};
            prometheus::ClientMetric c;
            c.label = labels;
            c.counter.value = static_cast<double>(r.count);
            total.metric.push_back(std::move(c));
            prometheus::ClientMetric h;
            h.label = std::move(labels);
            h.histogram.sample_count = r.count;
            h.histogram.sample_sum = r.duration_sum;
            h.histogram.bucket.reserve(r.duration_buckets.size());
            for(std::size_t i = 0; i < r.duration_buckets.size(); ++i)
                h.histogram.bucket.push_back({r.duration_buckets[i],
                                              i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity()});
            duration.metric.push_back(std::move(h));
        }
        return out;
    }
};

} // namespace

struct system_server::impl
{
    spindle::system& sys;
    system_server_options opts;
    std::optional<server> srv;
    std::optional<health_monitor> health;
    std::optional<system_history> history;
    section_registry sections;
    prometheus_exporter exporter;
    std::atomic<std::uint64_t> snapshots{0};
    std::vector<metrics::collector_id> collectors;
    bool stopped = false;

    impl(spindle::system& s, system_server_options o)
        : sys(s)
        , opts(std::move(o))
        , exporter(s.metrics())
    {
    }

    static response no_store(response res)
    {
        res.set(bhttp::field::cache_control, "no-store");
        return res;
    }

    void add_routes()
    {
        auto& s = *srv;
        s.route("/health", [this](request const& req) {
            auto const doc = health->document();
            auto const st = health->status();
            return no_store(make_response(req, st == health_status::fail ? status::service_unavailable : status::ok,
                                          *doc, "application/health+json"));
        });
        s.route("/livez", [this](request const& req) {
            bool const ok = health->live();
            return no_store(make_response(req, ok ? status::ok : status::service_unavailable,
                                          ok ? "ok\n" : "not live: the actor system is stopping or not answering\n"));
        });
        s.route("/readyz", [this](request const& req) {
            if(health->ready())
                return no_store(make_response(req, status::ok, "ok\n"));
            std::string why = "not ready";
            auto const r = health->report();
            if(!r.complete)
                why += ": checks have not all run yet";
            for(auto const& e : r.checks)
                if(e.result.status == health_status::fail)
                    why += "; " + e.name + ": " + e.result.output;
            if(sys.stopping())
                why += "; the actor system is stopping";
            return no_store(make_response(req, status::service_unavailable, why + "\n"));
        });
        s.route("/metrics", [this](request const& req) {
            boost::system::error_code ec;
            auto text = exporter.scrape(ec);
            if(ec)
                return no_store(make_response(req, status::internal_server_error, "metrics: " + ec.message() + "\n"));
            return no_store(make_response(req, status::ok, std::move(text), prometheus_content_type));
        });
        s.route("/api/system", [this](request const& req) {
            auto doc = system_json(sys, opts.api, &*health, &sections);
            if(history)
                doc["history"] = history->to_json();
            doc["snapshot"] = snapshots.fetch_add(1, std::memory_order_relaxed) + 1;
            return no_store(make_response(req, status::ok, boost::json::serialize(doc), "application/json"));
        });
        if(opts.page)
        {
            for(auto const& a : page_assets())
            {
                s.route(a.path, [a](request const& req) {
                    auto res = make_response(req, status::ok, std::string(a.body), a.content_type);
                    res.set("Content-Security-Policy", page_security_policy);
                    res.set("X-Content-Type-Options", "nosniff");
                    return res;
                });
            }
        }
    }

    void add_metrics()
    {
        auto const ep = srv->local_endpoint();
        std::string listener = ep.address().to_string() + ":" + std::to_string(ep.port());
        auto* server_ptr = &*srv;
        struct series
        {
            char const* name;
            char const* help;
            metrics::metric_type type;
            std::uint64_t server_stats::*field;
        };
        static constexpr series list[] = {
            {"spindle_http_connections_accepted_total", "HTTP connections accepted", metrics::metric_type::counter, &server_stats::accepted},
            {"spindle_http_connections_refused_total", "HTTP connections refused (at max_connections, every connection busy)", metrics::metric_type::counter, &server_stats::refused},
            {"spindle_http_connections_evicted_total", "HTTP connections closed at max_connections to make room for a new one", metrics::metric_type::counter, &server_stats::evicted},
            {"spindle_http_requests_rejected_total", "HTTP requests refused before routing (malformed, oversized, timed out)", metrics::metric_type::counter, &server_stats::rejected},
            {"spindle_http_timeouts_total", "HTTP connections closed by a read, idle or write timeout", metrics::metric_type::counter, &server_stats::timeouts},
        };
        for(auto const& s : list)
        {
            collectors.push_back(sys.metrics().add_collector(s.name, s.help, s.type,
                [server_ptr, listener, field = s.field](std::vector<metrics::sample>& out) {
                    out.emplace_back(metrics::labels_type{{"listener", listener}},
                                     static_cast<double>(server_ptr->stats().*field));
                }));
        }
        collectors.push_back(sys.metrics().add_collector("spindle_http_connections_open", "HTTP connections open",
            metrics::metric_type::gauge, [server_ptr, listener](std::vector<metrics::sample>& out) {
                out.emplace_back(metrics::labels_type{{"listener", listener}},
                                 static_cast<double>(server_ptr->stats().open));
            }));
        // the exporter is this object's own: these go with it
        exporter.add_collectable(std::make_shared<request_series>(*srv, listener));
        if(opts.process_metrics)
        {
            exporter.add_collectable(std::make_shared<process_collector>());
            exporter.add_collectable(std::make_shared<build_info_collector>());
        }
    }

    void stop() noexcept
    {
        if(stopped)
            return;
        stopped = true;
        if(srv)
            srv->stop();
        for(auto id : collectors)
            sys.metrics().remove_collector(id);
        collectors.clear();
        if(health)
            health->stop();
        if(history)
            history->stop();
    }
};

system_server::system_server(spindle::system& sys, system_server_options opts)
    : impl_(std::make_unique<impl>(sys, std::move(opts)))
{
    impl_->srv.emplace(impl_->opts.server);
    impl_->health.emplace(sys, impl_->opts.health);
    if(impl_->opts.record_history)
        impl_->history.emplace(sys, impl_->opts.history);
    impl_->add_routes();
}

system_server::system_server(spindle::system& sys, boost::asio::io_context& ioc, system_server_options opts)
    : impl_(std::make_unique<impl>(sys, std::move(opts)))
{
    impl_->srv.emplace(ioc, impl_->opts.server);
    impl_->health.emplace(sys, impl_->opts.health);
    if(impl_->opts.record_history)
        impl_->history.emplace(sys, impl_->opts.history);
    impl_->add_routes();
}

system_server::~system_server()
{
    stop();
}

void system_server::start(boost::system::error_code& ec)
{
    impl_->srv->start(ec);
    if(ec)
        return;
    try
    {
        impl_->add_metrics();
    }
    catch(std::exception const& e)
    {
        // serving matters more than counting it
        SPINDLE_LOG(warning, "http") << "cannot register the HTTP server's metrics: " << e.what();
    }
}

void system_server::start()
{
    impl_->srv->start();
    try
    {
        impl_->add_metrics();
    }
    catch(std::exception const& e)
    {
        SPINDLE_LOG(warning, "http") << "cannot register the HTTP server's metrics: " << e.what();
    }
}

void system_server::stop() noexcept
{
    impl_->stop();
}

std::uint16_t system_server::port() const noexcept
{
    return impl_->srv->port();
}

server& system_server::http() noexcept
{
    return *impl_->srv;
}

health_monitor& system_server::health() noexcept
{
    return *impl_->health;
}

prometheus_exporter& system_server::metrics() noexcept
{
    return impl_->exporter;
}

void system_server::add_section(std::string name, section_function fn, boost::system::error_code& ec)
{
    impl_->sections.add(std::move(name), std::move(fn), ec);
}

void system_server::add_section(std::string name, section_function fn)
{
    impl_->sections.add(std::move(name), std::move(fn));
}

bool system_server::remove_section(std::string_view name)
{
    return impl_->sections.remove(name);
}

section_registry& system_server::sections() noexcept
{
    return impl_->sections;
}

} // namespace spindle::http
