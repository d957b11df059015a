//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_PROMETHEUS_HPP
#define SPINDLE_HTTP_PROMETHEUS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/metrics.hpp>

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

/** @file
    The Prometheus text exposition of a Spindle metrics registry, written
    with prometheus-cpp's text serializer.

    Spindle's series live in core's @ref spindle::metrics::registry (cheap
    relaxed counters on the hot paths, collectors for values computed on
    demand); this reads a snapshot of it at scrape time and converts it
    one to one: a family keeps its name, help text and type, a series its
    labels, a histogram its cumulative buckets (`le`), `_sum` and `_count`.
    The names are already valid Prometheus names (the registry checks them
    at registration).
*/

namespace spindle::http {

/// The `Content-Type` of the Prometheus text format.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

/** Converts a metrics snapshot to prometheus-cpp's model.

    @param families A snapshot, as @ref spindle::metrics::registry::snapshot returns it.
    @return The same families as prometheus-cpp `MetricFamily` values.
    @throws std::bad_alloc If memory runs out.
    @par Thread safety
    Safe to call from any thread.
*/
SPINDLE_DECL std::vector<prometheus::MetricFamily> to_prometheus(
    std::vector<metrics::metric_family> const& families);

/** Serves a Spindle metrics registry, plus an application's own
    prometheus-cpp metrics, as Prometheus text.

    @code
    spindle::http::prometheus_exporter exp(sys.metrics());
    auto& hits = prometheus::BuildCounter().Name("app_hits_total").Help("Hits")
                     .Register(*exp.registry()).Add({});
    std::string text = exp.scrape(); // spindle_* and app_hits_total
    @endcode

    @par Thread safety
    `scrape` may be called concurrently from any thread (not from a fiber:
    it takes the registries' locks). The registries must outlive the
    exporter.
*/
class SPINDLE_DECL prometheus_exporter
{
public:
    /** An exporter of `reg`, with an empty prometheus-cpp registry of its own.
        @param reg The Spindle registry, e.g. `system::metrics()`.
    */
    explicit prometheus_exporter(metrics::registry& reg);

    /** An exporter of `reg` and of the application's prometheus-cpp `extra`.
        @param reg The Spindle registry.
        @param extra Served after Spindle's families; a family whose name
        Spindle's registry also has is left out (and logged) rather than
        written twice.
    */
    prometheus_exporter(metrics::registry& reg, std::shared_ptr<prometheus::Registry> extra);

    /// The prometheus-cpp registry served alongside (never null).
    std::shared_ptr<prometheus::Registry> const& registry() const noexcept { return extra_; }

    /** The current metrics as Prometheus text (format 0.0.4).

        @param ec Set to the snapshot's error (a collector produced an
        invalid label or a duplicate series; see `registry::snapshot`),
        cleared otherwise.
        @return The text; empty on error.
        @throws std::bad_alloc, or what a collector throws.
    */
    std::string scrape(boost::system::error_code& ec) const;

    /// Throwing form of @ref scrape. @throws spindle::system_error
    std::string scrape() const;

private:
    metrics::registry* reg_;
    std::shared_ptr<prometheus::Registry> extra_;
};

} // namespace spindle::http

#endif
