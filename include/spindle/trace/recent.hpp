//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_RECENT_HPP
#define SPINDLE_TRACE_RECENT_HPP

#include <spindle/detail/config.hpp>
#include <spindle/trace/exporter.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

/** @file
    The last traces a process recorded, kept in memory for a live view (the
    live page's waterfall) while every span still goes on to a real exporter.
*/

namespace spindle::trace {

/// Options of @ref recent_traces.
struct recent_traces_options
{
    /// Traces kept: when a span of a new trace arrives and this many are
    /// kept, the one updated longest ago is forgotten. At least 1.
    std::size_t max_traces = 10;
    /// Spans kept per trace; later spans of a full trace are counted in
    /// @ref recent_traces_stats::spans_dropped instead. At least 1.
    std::size_t max_spans_per_trace = 64;
    /// Where every batch goes on (an OTLP exporter, say); null: nowhere.
    std::shared_ptr<span_exporter> next;
};

/// Counters of a @ref recent_traces.
struct recent_traces_stats
{
    std::uint64_t spans = 0;          ///< spans received
    std::uint64_t spans_dropped = 0;  ///< not kept: their trace was full
    std::uint64_t traces_evicted = 0; ///< traces forgotten to make room
};

/// One kept trace.
struct recent_trace
{
    trace_id id;                   ///< the trace
    std::vector<span_data> spans;  ///< its spans, in the order they ended
    std::size_t spans_dropped = 0; ///< its spans not kept (the trace was full)
};

/** A span exporter that keeps the most recently updated traces in memory
    and passes every batch on to another exporter.

    Install it as the pipeline's exporter (`tracing_options::exporter`),
    with the real exporter as `next`, and show @ref to_json somewhere: a
    `system_server` section draws it as a waterfall.

    @code
    auto recent = std::make_shared<spindle::trace::recent_traces>(
        spindle::trace::recent_traces_options{.max_traces = 10, .max_spans_per_trace = 64, .next = otlp});
    opts.exporter = recent;
    web.add_section("traces", [recent] { return recent->to_json(); });
    @endcode

    Spans arrive when the batch processor exports them (after
    `batch_options::schedule_delay`, or on `force_flush`), children usually
    before their parents: a trace fills in over a batch or two.

    @par Thread safety
    Every member may be called concurrently; `export_spans` runs on the
    batch processor's thread, the views on any other (an HTTP I/O thread).
    A short mutex guards the kept traces; `next` is called outside it.
*/
class recent_traces final : public span_exporter
{
public:
    /// @throws boost::system::system_error (`error::bad_option`) if a limit is 0.
    SPINDLE_DECL explicit recent_traces(recent_traces_options opts = {});
    SPINDLE_DECL ~recent_traces() override;

    /// Keeps what fits, then passes the batch to `next`; returns what `next` returned.
    SPINDLE_DECL boost::system::error_code export_spans(
        std::span<span_data const> spans, attributes const& resource, export_deadline& deadline) override;

    /// @return The kept traces, the most recently updated first.
    SPINDLE_DECL std::vector<recent_trace> snapshot() const;

    /** The kept traces as the live page's waterfall:

        @code
        {"view": "waterfall", "traces": [{
            "trace_id": "4bf9...", "name": "GET /api/x", "start_unix_ms": 1765130000123.4,
            "duration_ms": 3.25, "spans": 4, "errors": 0, "spans_dropped": 0,
            "rows": [{"name": "GET /api/x", "span_id": "00f0...", "parent_id": "",
                      "depth": 0, "offset_ms": 0, "duration_ms": 3.25,
                      "kind": "server", "status": "unset", "status_message": ""}, ...]}],
         "spans": 812, "spans_dropped": 0, "traces_evicted": 31}
        @endcode

        Traces come the most recently updated first. Rows are in tree
        order: each span after its parent, siblings by start time, `depth`
        its distance from the trace's top; a span whose parent is not kept
        (a remote caller's, or one still running) is at the top. Offsets
        are from the trace's earliest start.
    */
    SPINDLE_DECL boost::json::value to_json() const;

    /// @return What it received, kept and forgot so far.
    SPINDLE_DECL recent_traces_stats stats() const;

    /// Forgets every kept trace (the counters stay).
    SPINDLE_DECL void clear();

private:
    recent_traces_options opts_;
    mutable std::mutex m_;
    std::vector<recent_trace> traces_; // the most recently updated last
    recent_traces_stats stats_;
};

} // namespace spindle::trace

#endif
