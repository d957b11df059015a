//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_STREAM_PORT_HPP
#define SPINDLE_DETAIL_STREAM_PORT_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/trace_hooks.hpp>
#include <spindle/metrics.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

// What the parts of a running stream share (see detail/stream_core.hpp):
// a stage's record and counters, the trace context an item carries, the
// ports items are pushed into, and the budget of a segment's slice.

namespace spindle::detail {

class buffer_base;

//------------------------------------------------------------------------------
// per-stage counters

/// A counter with a single writer: a relaxed load and store, no locked instruction.
struct solo_counter
{
    std::atomic<std::uint64_t> v{0};

    void add(std::uint64_t n) noexcept { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

/** Owns a trace context travelling with an item (see doc/tracing.md,
    "Stream stages"): null unless a tracing component is installed and the
    item entered the stream inside a span.
*/
class trace_ref
{
    trace_carrier* p_ = nullptr;

public:
    trace_ref() = default;
    explicit trace_ref(trace_carrier* p) noexcept : p_(p) {}
    trace_ref(trace_ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    trace_ref& operator=(trace_ref&& o) noexcept
    {
        if(this != &o)
            reset(std::exchange(o.p_, nullptr));
        return *this;
    }
    ~trace_ref() { reset(); }

    trace_carrier* get() const noexcept { return p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }

    void reset(trace_carrier* p = nullptr) noexcept
    {
        if(p_)
            p_->release(p_);
        p_ = p;
    }
};

/// A second carrier of the same context (null if it holds none, or if
/// tracing was uninstalled meanwhile). Only called with tracing on.
SPINDLE_DECL trace_carrier* clone_trace(trace_carrier const* c) noexcept;

/** True if a tracing component is installed: the first test of every
    per-item tracing path, so that with tracing off an item costs one
    relaxed load per stage and nothing else. Items may still hold contexts
    taken before it was uninstalled: those are only released.
*/
inline bool tracing_installed() noexcept
{
    return trace_hooks_table.load(std::memory_order_relaxed) != nullptr;
}

/// The calling fiber's context, or null: one relaxed load when no tracing
/// component is installed.
inline trace_ref capture_trace() noexcept
{
    if(trace_hooks const* h = trace_hooks_table.load(std::memory_order_relaxed)) [[unlikely]]
    {
        std::atomic_thread_fence(std::memory_order_acquire);
        return trace_ref(h->capture());
    }
    return {};
}

/** The runtime record of one stage: its name, its counters for this run and
    its series in the system's metrics registry.

    `in`, `out`, `filtered`, `errors` and `created` are written only by the
    fiber that runs the stage, and reach the registry in deltas at the
    points the fiber flushes (before it waits, at the end of a slice).
    `dropped` and backpressure events are counted by the producer of the
    stage's input buffer, on a rare path, with atomic adds.
*/
struct stage_rt
{
    std::string name;
    char const* kind = "";
    std::size_t position = 0;

    solo_counter in, out, filtered, errors, created;
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> bp_events{0};
    /// Items that reached the stage (or its input buffer) and were lost when
    /// the stream failed or was cancelled; set once, when it ended.
    std::atomic<std::uint64_t> discarded{0};

    buffer_base* input = nullptr; ///< the buffer in front of the stage, if any

    metrics::counter* m_in = nullptr;
    metrics::counter* m_out = nullptr;
    metrics::counter* m_filtered = nullptr;
    metrics::counter* m_errors = nullptr;
    metrics::counter* m_created = nullptr;
    metrics::counter* m_dropped = nullptr;
    metrics::counter* m_discarded = nullptr;
    metrics::counter* m_bp = nullptr;
    metrics::gauge* m_depth = nullptr;

    // what the registry has seen of the solo counters
    std::uint64_t f_in = 0, f_out = 0, f_filtered = 0, f_errors = 0, f_created = 0;

    /// Adds what the solo counters gained since the last flush to the registry.
    void flush() noexcept
    {
        flush_one(in, f_in, m_in);
        flush_one(out, f_out, m_out);
        flush_one(filtered, f_filtered, m_filtered);
        flush_one(errors, f_errors, m_errors);
        flush_one(created, f_created, m_created);
    }

    void add_dropped(std::uint64_t n) noexcept
    {
        dropped.fetch_add(n, std::memory_order_relaxed);
        if(m_dropped)
            m_dropped->inc(n);
    }

    void add_bp_event() noexcept
    {
        bp_events.fetch_add(1, std::memory_order_relaxed);
        if(m_bp)
            m_bp->inc();
    }

private:
    static void flush_one(solo_counter const& c, std::uint64_t& seen, metrics::counter* m) noexcept
    {
        std::uint64_t const v = c.get();
        if(v != seen)
        {
            if(m)
                m->inc(v - seen);
            seen = v;
        }
    }
};

//------------------------------------------------------------------------------
// ports: where a stage pushes its items

/// An item in flight and the number of source items it stands for (a
/// batch of five weighs five), so counts add up per item.
template<class T>
struct item
{
    T value;
    std::uint32_t weight;
};

class port_base
{
public:
    virtual ~port_base() = default;
};

/** Accepts items of type `T`: a fused stage, or the writer of a buffer.

    `push` returns false when the stream must stop (it failed or was
    cancelled, which the stream's state already records); the caller then
    returns at once.
*/
template<class T>
class port : public port_base
{
public:
    virtual bool push(T&& v, std::uint32_t weight) = 0;
};

/// The end of a segment's chain that leads into a buffer.
class output_base
{
public:
    virtual ~output_base() = default;
    /// Publishes the items held back in the current chunk.
    virtual void flush() = 0;
    /// Publishes, then tells the consumer that no more items come.
    virtual void close() = 0;
};

/// True if actors wait in the run queue of the worker the caller runs on.
SPINDLE_DECL bool actors_waiting_here() noexcept;

/** When a segment's fiber lets the worker's other actors have a turn (by
    ending its slice: its actor re-queues behind them).

    - Actors wait on this worker: after 50 µs of the slice.
    - Nobody waits: after 1024 items or 200 µs without the fiber waiting
      (a fiber that parked has let others run meanwhile).

    A pipeline whose stages wait for each other and share their worker with
    nobody therefore never re-queues, and stays on one worker where a hop
    between its fibers costs no thread wake-up; stages busy enough to use
    up their budgets re-queue, and an idle worker steals them.
*/
class slice_budget
{
    using clock = std::chrono::steady_clock;
    static constexpr std::uint32_t max_items = 1024;
    static constexpr std::chrono::microseconds max_stretch{200};
    static constexpr std::chrono::microseconds max_shared{50};
    clock::time_point start_{};   // of the slice
    clock::time_point stretch_{}; // since the last wait
    std::uint32_t items_ = 0;     // since the last wait

public:
    /// The trace context of the item the segment's chain is working on
    /// (each traced stage puts its own span's there while it passes the
    /// item on); null whenever tracing is off. Shared, like the budget,
    /// by the segment's stages and its writer.
    trace_ref trace;

    /// A slice begins.
    void begin() noexcept
    {
        start_ = stretch_ = clock::now();
        items_ = 0;
    }

    /// The fiber waited: the worker could serve others meanwhile.
    void waited() noexcept
    {
        stretch_ = clock::now();
        items_ = 0;
    }

    void count(std::uint32_t n = 1) noexcept { items_ += n; }

    /// True if the slice should end now (`now` read by the caller).
    bool spent(clock::time_point now) const noexcept
    {
        if(items_ >= max_items || now - stretch_ >= max_stretch)
            return true;
        return now - start_ >= max_shared && actors_waiting_here();
    }
};

} // namespace spindle::detail

#endif
