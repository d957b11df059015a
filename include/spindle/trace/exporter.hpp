//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_EXPORTER_HPP
#define SPINDLE_TRACE_EXPORTER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/trace/span.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace spindle::trace {

/** The deadline an export runs under. The batch processor lowers it at
    shutdown, which wakes an exporter sleeping before a retry.

    @par Thread safety
    All members may be called concurrently.
*/
class export_deadline
{
public:
    /// The clock of the limit.
    using clock_type = std::chrono::steady_clock;

    /// A deadline at `limit`.
    explicit export_deadline(clock_type::time_point limit) : limit_(limit) {}

    /// The current limit.
    SPINDLE_DECL clock_type::time_point limit() const;
    /// Lowers the limit (never raises it) and wakes sleepers.
    SPINDLE_DECL void lower(clock_type::time_point limit);
    /// Sleeps until `t` or the limit, whichever is first; false if the
    /// limit was reached.
    SPINDLE_DECL bool sleep_until(clock_type::time_point t);

private:
    mutable std::mutex m_;
    std::condition_variable cv_;
    clock_type::time_point limit_;
};

/** Where finished spans go (OpenTelemetry `SpanExporter`).

    `export_spans` runs on the batch processor's own thread, never on a
    worker: it may block.
*/
class span_exporter
{
public:
    virtual ~span_exporter() = default;

    /** Exports one batch.

        @param spans the spans.
        @param resource the resource attributes (service.name, ...).
        @param deadline give up when it passes.
        @return success, or the reason the batch was lost.
    */
    virtual boost::system::error_code export_spans(
        std::span<span_data const> spans, attributes const& resource, export_deadline& deadline) = 0;
};

/** The OTLP/JSON `ExportTraceServiceRequest` for `spans`, as the OTLP
    specification's JSON mapping says: lower-case hex ids, enums as numbers,
    64-bit times as decimal strings, camelCase field names.

    @param spans the finished spans.
    @param resource the resource attributes (service.name, ...).
    @param scope_name the instrumentation scope name (`spindle`).
    @return the JSON text.
*/
SPINDLE_DECL std::string to_otlp_json(std::span<span_data const> spans, attributes const& resource,
    std::string_view scope_name = "spindle");

/// Options of `otlp_http_exporter`.
struct otlp_http_options
{
    /// The full URL spans are posted to, `http://host:port/v1/traces`.
    std::string url = "http://localhost:4318/v1/traces";
    /// Extra request headers (e.g. an API key).
    std::map<std::string, std::string> headers;
    /// Attempts per batch, the first included.
    int max_attempts = 5;
    /// The first retry's wait; each next one is 1.5 times longer.
    std::chrono::milliseconds initial_backoff{1000};
    /// The longest wait between attempts (a longer `Retry-After` still wins,
    /// within the deadline).
    std::chrono::milliseconds max_backoff{5000};
    /// One request's time limit.
    std::chrono::milliseconds request_timeout{10000};
};

/// Counters of an `otlp_http_exporter`.
struct otlp_http_stats
{
    std::uint64_t requests = 0;   ///< HTTP requests sent (attempts)
    std::uint64_t retries = 0;    ///< attempts after the first
    std::uint64_t succeeded = 0;  ///< batches the receiver took
    std::uint64_t failed = 0;     ///< batches lost
};

/** OTLP/HTTP with JSON encoding (`Content-Type: application/json`).

    Retries, with exponential backoff, on connection failures and on the
    statuses the OTLP specification calls retryable (429, 502, 503, 504),
    honouring `Retry-After` (seconds); another status loses the batch at
    once. Plain `http://` only.
*/
class otlp_http_exporter final : public span_exporter
{
public:
    /// @throws boost::system::system_error (`error::bad_option`) for a URL
    /// that is not `http://host[:port][/path]`.
    SPINDLE_DECL explicit otlp_http_exporter(otlp_http_options opts);
    SPINDLE_DECL ~otlp_http_exporter() override;

    SPINDLE_DECL boost::system::error_code export_spans(
        std::span<span_data const> spans, attributes const& resource, export_deadline& deadline) override;

    /// @return What the exporter did so far.
    SPINDLE_DECL otlp_http_stats stats() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/** Writes each batch as one line of OTLP/JSON (the OpenTelemetry "OTLP
    file" format: one `ExportTraceServiceRequest` per line) to a stream or file.
*/
class jsonl_exporter final : public span_exporter
{
public:
    /// Writes to `out` (e.g. `std::cout`), which must outlive the exporter.
    SPINDLE_DECL explicit jsonl_exporter(std::ostream& out);
    /// Appends to the file at `path`. @throws std::system_error if it cannot be opened.
    SPINDLE_DECL explicit jsonl_exporter(std::string const& path);
    SPINDLE_DECL ~jsonl_exporter() override;

    SPINDLE_DECL boost::system::error_code export_spans(
        std::span<span_data const> spans, attributes const& resource, export_deadline& deadline) override;

private:
    std::unique_ptr<std::ostream> owned_;
    std::ostream* out_;
    std::mutex m_;
};

/// Discards every batch (benchmarks, or sampling without export).
class null_exporter final : public span_exporter
{
public:
    boost::system::error_code export_spans(
        std::span<span_data const>, attributes const&, export_deadline&) override
    {
        return {};
    }
};

} // namespace spindle::trace

#endif
