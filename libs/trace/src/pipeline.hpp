//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_SRC_PIPELINE_HPP
#define SPINDLE_TRACE_SRC_PIPELINE_HPP

#include <spindle/trace/tracing.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace spindle::trace {

/// The installed pipeline: sampler, bounded queue, export thread.
struct tracing::impl
{
    tracing_options opts;
    std::shared_ptr<trace::sampler const> sampler;
    std::shared_ptr<span_exporter> exporter;
    trace::attributes resource;
    std::string url;

    std::atomic<std::uint64_t> started{0}, ended{0}, queue_dropped{0}, export_dropped{0}, exported{0}, batches{0};

    std::mutex m;
    std::condition_variable cv;      // the export thread waits here
    std::condition_variable done_cv; // force_flush and shutdown wait here
    std::deque<span_data> queue;
    std::uint64_t flush_requested = 0, flush_done = 0;
    bool stopping = false, stopped = false;
    export_deadline* current = nullptr; // the running export's deadline
    std::chrono::steady_clock::time_point stop_limit{};
    std::thread thread;
    bool installed = false;

    void on_end(span_data&& d) noexcept;
    void run() noexcept;
    void shutdown() noexcept;
};

namespace detail {

/// A recording span's state.
struct span_record
{
    std::mutex m;
    span_data data;
    bool ended = false;
    std::shared_ptr<tracing::impl> pipe;
};

/// The installed pipeline, null when tracing is off.
std::shared_ptr<tracing::impl> installed_pipeline() noexcept;

/// Installs (or with `on` false uninstalls) core's hooks; `actors` false
/// leaves handled messages alone (HTTP and remote hooks still work);
/// `drop_unsampled` says the sampler drops every child of an unsampled
/// parent, so that handlers of such messages skip it (the cheap path).
void install_hooks(bool on, bool actors, bool drop_unsampled) noexcept;

/// True if `s` drops every child of an unsampled parent (always-off, or
/// parent-based with always-off for unsampled parents: the spec's default).
bool drops_unsampled_children(sampler const& s) noexcept;

/// The calling fiber's current context, or null: no copy of the span.
span_context const* current_context() noexcept;

} // namespace detail
} // namespace spindle::trace

#endif
