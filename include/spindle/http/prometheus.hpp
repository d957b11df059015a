//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_PROMETHEUS_HPP
#define SPINDLE_HTTP_PROMETHEUS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/metrics.hpp>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <boost/system/error_code.hpp>

#include <memory>
#include <mutex>
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

    /** Adds a source of families collected at each scrape, served after
        the registries' (a family whose name is already served is left
        out, and logged). For series computed on demand that a
        `metrics::registry` collector cannot give, such as histograms,
        or series read from the operating system.

        @param c The source; must not be null. Its `Collect` runs on the
        scraping thread and must not block for long.
        @throws std::bad_alloc If memory runs out.
        @par Thread safety
        Any thread, also while scraping.
    */
    void add_collectable(std::shared_ptr<prometheus::Collectable const> c);

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
    mutable std::mutex collectables_m_;
    std::vector<std::shared_ptr<prometheus::Collectable const>> collectables_; // guarded by collectables_m_
};

/** The standard process series of Prometheus' client libraries, read from
    `/proc/self` at each scrape (Linux; elsewhere it yields nothing):

    | series | type | what |
    |---|---|---|
    | `process_cpu_seconds_total` | counter | user and system CPU time |
    | `process_resident_memory_bytes` | gauge | resident set size |
    | `process_virtual_memory_bytes` | gauge | virtual memory size |
    | `process_open_fds` | gauge | open file descriptors |
    | `process_max_fds` | gauge | the soft limit on open file descriptors |
    | `process_start_time_seconds` | gauge | start time, seconds since the Unix epoch |

    A series that cannot be read (a file missing in a sandbox) is left out.

    @par Thread safety
    `Collect` may be called concurrently from any plain thread (not from a
    fiber: it reads files).
*/
class SPINDLE_DECL process_collector final : public prometheus::Collectable
{
public:
    /// The families above, read now.
    std::vector<prometheus::MetricFamily> Collect() const override;
};

/** `spindle_build_info{version,boost,compiler} 1`: which Spindle, Boost and
    compiler built the library serving the metrics, as a gauge of 1 (join
    it on other series to see a rollout).

    @par Thread safety
    `Collect` may be called concurrently from any thread.
*/
class SPINDLE_DECL build_info_collector final : public prometheus::Collectable
{
public:
    /// The family above.
    std::vector<prometheus::MetricFamily> Collect() const override;
};

} // namespace spindle::http

#endif
