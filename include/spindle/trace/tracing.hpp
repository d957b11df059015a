//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_TRACING_HPP
#define SPINDLE_TRACE_TRACING_HPP

#include <spindle/detail/config.hpp>
#include <spindle/trace/exporter.hpp>
#include <spindle/trace/sampler.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace spindle::trace {

/// The batch span processor's limits (the OpenTelemetry defaults).
struct batch_options
{
    /// Ended spans waiting for export; more are dropped and counted.
    std::size_t max_queue_size = 2048;
    /// Spans per export request.
    std::size_t max_export_batch_size = 512;
    /// The longest a span waits before its batch is sent.
    std::chrono::milliseconds schedule_delay{5000};
    /// One batch's export time limit (retries included).
    std::chrono::milliseconds export_timeout{30000};
    /// What `shutdown` may take in total, the final flush included.
    std::chrono::milliseconds shutdown_timeout{5000};
};

/// What `init_tracing` sets up.
struct tracing_options
{
    /// `service.name`; `OTEL_SERVICE_NAME` wins when set.
    std::string service_name = "unknown_service";
    /// `service.version`, omitted if empty.
    std::string service_version;
    /// The OTLP/HTTP base URL (`/v1/traces` is appended); empty: the
    /// environment's, else `http://localhost:4318`. Ignored when
    /// `exporter` is set.
    std::string endpoint;
    /// The exporter; null: OTLP/HTTP to `endpoint`.
    std::shared_ptr<span_exporter> exporter;
    /// The sampler; null: from `OTEL_TRACES_SAMPLER(_ARG)`, else parent-based always-on.
    std::shared_ptr<trace::sampler const> sampler;
    /// The batch span processor's queue, batch size and delays.
    batch_options batch;
    /// More resource attributes (service.name, service.version, host.name
    /// and telemetry.sdk.* are set for you).
    trace::attributes resource;
    /// Handled actor messages run in child spans of their senders'.
    bool actors = true;
};

/// Counters of the running pipeline.
struct tracing_stats
{
    std::uint64_t spans_started = 0;  ///< recording spans started
    std::uint64_t spans_ended = 0;    ///< recording spans ended
    std::uint64_t queue_dropped = 0;  ///< dropped because the queue was full
    std::uint64_t export_dropped = 0; ///< lost because their export failed
    std::uint64_t exported = 0;       ///< spans the exporter took
    std::uint64_t batches = 0;        ///< export calls
};

/** The installed tracing pipeline: sampler, batch processor and exporter.

    One is installed per process at a time; destroying it (or `shutdown`)
    flushes what is queued within `batch_options::shutdown_timeout` and
    uninstalls it. Ending a span never blocks: the span goes to a bounded
    queue that a background thread drains.

    @par Thread safety
    `stats` and `force_flush` may be called concurrently.
*/
class tracing
{
public:
    /** Installs a pipeline.

        @throws boost::system::system_error (`error::bad_option`) if another
        is installed or an option or environment variable is invalid.
    */
    SPINDLE_DECL explicit tracing(tracing_options opts);
    SPINDLE_DECL ~tracing();
    /// Takes over the pipeline; `other` no longer owns it.
    SPINDLE_DECL tracing(tracing&&) noexcept;
    tracing& operator=(tracing&&) = delete;

    /// Exports everything queued now; false if `timeout` passed first.
    SPINDLE_DECL bool force_flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

    /// Flushes (within the shutdown timeout) and uninstalls; idempotent.
    SPINDLE_DECL void shutdown();

    /// @return What the pipeline did so far (spans started, ended, dropped, exported).
    SPINDLE_DECL tracing_stats stats() const noexcept;

    /// The resource attributes sent with every batch.
    SPINDLE_DECL trace::attributes const& resource() const noexcept;

    /// The OTLP URL in use, empty with a custom exporter.
    SPINDLE_DECL std::string const& url() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

/** Sets tracing up in one call: OTLP/HTTP export to `endpoint`, batched,
    with the sampler and overrides the environment names
    (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_TRACES_SAMPLER`,
    `OTEL_TRACES_SAMPLER_ARG`).

    @param service_name `service.name`.
    @param endpoint the OTLP/HTTP base URL; empty: environment or default.
    @return the pipeline; keep it alive for as long as spans should be exported.
    @throws boost::system::system_error on invalid settings.
*/
SPINDLE_DECL tracing init_tracing(std::string_view service_name, std::string_view endpoint = {});

/// As above, with every option; `ec` receives invalid settings instead.
SPINDLE_DECL std::unique_ptr<tracing> init_tracing(tracing_options opts, boost::system::error_code& ec);

} // namespace spindle::trace

#endif
