//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_STREAM_CORE_HPP
#define SPINDLE_DETAIL_STREAM_CORE_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/channel.hpp>
#include <spindle/detail/completion.hpp>
#include <spindle/detail/event_count.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/detail/trace_hooks.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>
#include <spindle/metrics.hpp>
#include <spindle/stream_options.hpp>
#include <spindle/timer.hpp>

#include <boost/config.hpp>
#include <boost/system/result.hpp>

#include <tbb/concurrent_queue.h>

#if defined(__SANITIZE_ADDRESS__)
# include <sanitizer/asan_interface.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

// The runtime of streams, without types: what the templates of
// impl/stream.hpp plug into and libs/core/src/stream.cpp drives.
//
// A running stream is a chain of *segments*. Each segment is one fiber (the
// handler of an internal actor) that takes items from its input (the source,
// or a bounded buffer) and pushes them through a chain of *ports*: the fused
// stateless stages, then the writer of the next buffer (or nothing, for the
// sink). Buffers carry *chunks* of items through TBB concurrent queues, so a
// hop between fibers costs a queue operation per chunk, not per item; the
// producer publishes its chunk when it is full, when its own input chunk is
// done, and before it waits for anything. Waiting is fiber-aware: an
// `event_count` parks the fiber on the wait machinery of <spindle/sync.hpp>
// and a producer wakes it only if someone waits.

namespace spindle {
class system;
namespace detail {

struct system_state;
class stream_state;
class buffer_base;
class segment_base;
class par_core_base;

//------------------------------------------------------------------------------
// exceptions on fiber stacks under AddressSanitizer

/** Called first thing in a handler that caught an exception on a fiber.

    An exception unwinds frames without their epilogues, so their stack
    redzones stay poisoned; AddressSanitizer clears them on a throw only on
    stacks it knows, not on fiber stacks (google/sanitizers#189), and the
    next frames placed there report false errors. Clearing the free stack
    below the handler's frame (to the depth a user function may have
    reached) avoids that. Compiled to nothing without the sanitizer.
*/
inline void caught_on_fiber() noexcept
{
#if defined(__SANITIZE_ADDRESS__)
    constexpr std::uintptr_t depth = 48 * 1024;
    auto const top = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    __asan_unpoison_memory_region(reinterpret_cast<void const volatile*>(top - depth), depth);
#endif
}

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

/// What a guarded call of a user function came to.
enum class attempt_result : std::uint8_t
{
    ok,   ///< the function returned
    skip, ///< it threw and the stage skips the item
    stop  ///< it threw (or the stream is stopping): the stream ends
};

/** What every stage shares: its record, the stream, its error handling. */
class stage_base
{
public:
    stage_rt* rt_ = nullptr;
    stream_state* st_ = nullptr;
    error_action action_ = error_action::stop;
    retry_policy retry_{};
    output_base* flush_ = nullptr;    ///< published before a backoff sleep
    slice_budget* budget_ = nullptr;  ///< the segment's, reset by a backoff sleep
    std::stop_token token_;           ///< the stream's
    /// What the user's function threw, kept for the item's span while one
    /// is open (see stage_trace).
    std::exception_ptr trace_error_;

    stage_base() = default;
    stage_base(stage_base const&) = delete;
    stage_base& operator=(stage_base const&) = delete;
    virtual ~stage_base() = default;

    SPINDLE_DECL void init_stage(stage_rt& rt, stream_state& st, stage_options const& o, output_base* flush,
                                 slice_budget* budget) noexcept;

    /** Decides what an exception from the user's function does: `skip` or
        `stop` (then the stream's failure is recorded, naming the stage).

        @param exhausted True if it was the last attempt of a retry.
        @param attempts How many attempts were made.
    */
    SPINDLE_DECL attempt_result failed(std::exception_ptr e, bool exhausted, std::size_t attempts) noexcept;

    /// Sleeps the backoff before retry number `n` on the system clock.
    /// @return False if the stream stopped meanwhile.
    SPINDLE_DECL bool backoff(std::size_t n);

    /// Starts the span of this stage's work on the current item, a child of
    /// the context in `slot`, and makes it current; the token goes to
    /// trace_end and trace_restore. Null if there is no span.
    SPINDLE_DECL void* trace_begin(trace_ref& slot) noexcept;

    /** Ends the span (error status if `failed`, with trace_error_'s
        message) and puts its context into the slot for the stages after
        this one; what was there is kept in the token for trace_restore.
    */
    SPINDLE_DECL void trace_end(void* token, bool failed) noexcept;

    /// Puts the item's context back (ending the span if trace_end was not
    /// called) and frees the token.
    SPINDLE_DECL void trace_restore(void* token) noexcept;

    /// True if the current item carries a trace context.
    bool traced() const noexcept { return BOOST_UNLIKELY(tracing_installed()) && budget_ && budget_->trace; }

    /** Calls `call(v)` under the stage's error handling: once, or (retry)
        with a copy of `v` per attempt but the last.
    */
    template<class V, class Call>
    attempt_result guarded(V& v, Call&& call)
    {
        if(action_ != error_action::retry)
        {
            try
            {
                call(std::move(v));
                return attempt_result::ok;
            }
            catch(...)
            {
                caught_on_fiber();
                if(traced())
                    trace_error_ = std::current_exception();
                return failed(std::current_exception(), false, 1);
            }
        }
        else if constexpr(std::is_copy_constructible_v<V>)
        {
            for(std::size_t attempt = 1;; ++attempt)
            {
                bool const last = attempt >= retry_.max_attempts;
                try
                {
                    if(last)
                        call(std::move(v));
                    else
                        call(V(v));
                    return attempt_result::ok;
                }
                catch(...)
                {
                    caught_on_fiber();
                    if(last)
                    {
                        if(traced())
                            trace_error_ = std::current_exception();
                        return failed(std::current_exception(), true, attempt);
                    }
                }
                if(!backoff(attempt))
                    return attempt_result::stop;
            }
        }
        else
        {
            // refused when the stream started (retry needs copyable items)
            return attempt_result::stop;
        }
    }
};

/** The span of one stage's work on one item, when the item carries a trace
    context (else a null test): `end` before the item is passed on, so the
    next stage's span is this one's child and not nested in its time.
*/
class stage_trace
{
    stage_base& s_;
    void* t_ = nullptr;

public:
    /// In a segment's chain: the item's context is the segment's.
    explicit stage_trace(stage_base& s) noexcept : s_(s)
    {
        if(s.traced())
            t_ = s.trace_begin(s.budget_->trace);
    }

    /// Elsewhere (map_parallel's lanes): the item's context is in `slot`.
    stage_trace(stage_base& s, trace_ref& slot) noexcept : s_(s)
    {
        if(BOOST_UNLIKELY(static_cast<bool>(slot)))
            t_ = s.trace_begin(slot);
    }
    stage_trace(stage_trace const&) = delete;
    stage_trace& operator=(stage_trace const&) = delete;

    void end(bool failed) noexcept
    {
        if(BOOST_UNLIKELY(t_ != nullptr))
            s_.trace_end(t_, failed);
    }

    ~stage_trace()
    {
        if(BOOST_UNLIKELY(t_ != nullptr))
            s_.trace_restore(t_);
    }
};

/// stage_trace's stand-in for an item without a context: the stages'
/// untraced path is their code as it was, with nothing to end.
struct no_trace
{
    void end(bool) noexcept {}
};

/** The port of a stage that works on one item at a time (`Op` derives
    from it and from stage_base, and has `process(v, weight, trace)`): an
    item without a context runs `process` with a no_trace, inlined, so the
    untraced code is the stage's as it was; a traced item takes an
    out-of-line path with a stage_trace.
*/
template<class Op, class T>
class traced_port : public port<T>
{
public:
    bool push(T&& v, std::uint32_t w) final
    {
        auto& self = static_cast<Op&>(*this);
        if(BOOST_UNLIKELY(self.traced()))
            return push_traced(std::move(v), w);
        no_trace trace;
        return self.process(std::move(v), w, trace);
    }

private:
    BOOST_NOINLINE bool push_traced(T&& v, std::uint32_t w)
    {
        auto& self = static_cast<Op&>(*this);
        stage_trace trace(self);
        return self.process(std::move(v), w, trace);
    }
};

/// Calls `f(a)`, or `f(a, token)` when `f` takes the stream's stop token.
template<class F, class A>
decltype(auto) invoke_stage(F& f, A&& a, std::stop_token const& token)
{
    if constexpr(std::is_invocable_v<F&, A&&, std::stop_token const&>)
        return std::invoke(f, std::forward<A>(a), token);
    else
        return std::invoke(f, std::forward<A>(a));
}

//------------------------------------------------------------------------------
// buffers

template<class T>
struct chunk
{
    std::vector<item<T>> items;
    std::size_t begin = 0;
    /// The items' trace contexts, by index; empty when none carries one
    /// (always, when tracing is off).
    std::vector<trace_ref> traces;

    std::size_t size() const noexcept { return items.size() - begin; }
};

/** A bounded buffer between two segments, without its item type.

    One producer (the segment before it) and one consumer (the segment
    after it). `pushed_` is written by the producer only; `popped_` by the
    consumer and, under `backpressure::buffer`, by the producer dropping
    the oldest items.
*/
class buffer_base
{
public:
    buffer_options opts_;
    std::int64_t capacity_ = 1;
    std::int64_t threshold_ = 1;
    std::size_t chunk_ = 1;
    stage_rt* consumer_ = nullptr;
    stream_state* st_ = nullptr;

    alignas(SPINDLE_CACHELINE) std::atomic<std::int64_t> pushed_{0};
    alignas(SPINDLE_CACHELINE) std::atomic<std::int64_t> popped_{0};
    std::atomic<bool> closed_{false};
    /// The largest weight of an element pushed (above 1: its elements are
    /// batches, and its capacity is not in source items).
    std::atomic<std::uint32_t> max_weight_{1};
    /// Wakes the consumer: items, the end, or (map_parallel) a finished lane.
    alignas(SPINDLE_CACHELINE) event_count not_empty_;
    /// Wakes the producer: room.
    alignas(SPINDLE_CACHELINE) event_count not_full_;

    SPINDLE_DECL buffer_base(buffer_options const& o, stage_rt& consumer, stream_state& st) noexcept;
    virtual ~buffer_base() = default;

    buffer_base(buffer_base const&) = delete;
    buffer_base& operator=(buffer_base const&) = delete;

    /// Items published and not yet taken by the consumer (a snapshot).
    std::size_t depth() const noexcept
    {
        std::int64_t const d = pushed_.load(std::memory_order_relaxed) - popped_.load(std::memory_order_relaxed);
        return d > 0 ? static_cast<std::size_t>(d) : 0;
    }

    void depth_changed(std::int64_t delta) noexcept
    {
        if(consumer_->m_depth)
            consumer_->m_depth->add(delta);
    }
};

template<class T>
class buffer final : public buffer_base
{
public:
    using chunk_type = chunk<T>;

private:
    tbb::concurrent_queue<chunk_type*> queue_;
    tbb::concurrent_queue<chunk_type*> free_;
    spinlock front_lock_;          // backpressure::buffer only: the consumer and the dropper
    chunk_type* front_ = nullptr;  // the rest of a chunk the dropper took from the queue

public:
    using buffer_base::buffer_base;

    ~buffer() override
    {
        chunk_type* c = nullptr;
        while(queue_.try_pop(c))
            delete c;
        while(free_.try_pop(c))
            delete c;
        delete front_;
    }

    /// A chunk to fill (recycled when possible).
    chunk_type* acquire()
    {
        chunk_type* c = nullptr;
        if(free_.try_pop(c))
            return c;
        auto fresh = std::make_unique<chunk_type>();
        fresh->items.reserve(chunk_);
        return fresh.release();
    }

    /// Returns an emptied chunk for reuse.
    void release(chunk_type* c) noexcept
    {
        c->items.clear();
        c->begin = 0;
        c->traces.clear();
        try
        {
            free_.push(c);
        }
        catch(...)
        {
            delete c;
        }
    }

    /// Producer: makes a filled chunk visible and wakes the consumer.
    void publish(chunk_type* c)
    {
        auto const n = static_cast<std::int64_t>(c->size());
        try
        {
            queue_.push(c);
        }
        catch(...)
        {
            delete c;
            throw;
        }
        pushed_.store(pushed_.load(std::memory_order_relaxed) + n, std::memory_order_release);
        depth_changed(n);
        not_empty_.notify();
    }

    /** Producer, `backpressure::buffer`: drops the oldest item.

        @return False if the buffer was empty (the consumer took everything).
    */
    bool drop_oldest() noexcept
    {
        std::uint32_t weight = 0;
        chunk_type* spent = nullptr;
        {
            std::lock_guard<spinlock> lk(front_lock_);
            chunk_type* c = front_;
            if(!c && !queue_.try_pop(c))
                return false;
            weight = c->items[c->begin++].weight;
            popped_.fetch_add(1, std::memory_order_acq_rel);
            if(c->size() == 0)
            {
                front_ = nullptr;
                spent = c;
            }
            else
            {
                front_ = c;
            }
        }
        if(spent)
            release(spent);
        depth_changed(-1);
        consumer_->add_dropped(weight);
        return true;
    }

    /// Consumer: takes the oldest chunk, or null.
    chunk_type* try_take() noexcept
    {
        chunk_type* c = nullptr;
        if(opts_.strategy == backpressure::buffer)
        {
            std::lock_guard<spinlock> lk(front_lock_);
            if(front_)
            {
                c = front_;
                front_ = nullptr;
            }
            else if(!queue_.try_pop(c))
            {
                return nullptr;
            }
            popped_.fetch_add(static_cast<std::int64_t>(c->size()), std::memory_order_acq_rel);
        }
        else
        {
            if(!queue_.try_pop(c))
                return nullptr;
            popped_.fetch_add(static_cast<std::int64_t>(c->size()), std::memory_order_acq_rel);
        }
        depth_changed(-static_cast<std::int64_t>(c->size()));
        not_full_.notify();
        return c;
    }
};

/** The producer's end of a buffer: a port that fills chunks and applies the
    buffer's backpressure strategy when it is full. Owned by the producing
    segment; never shared.
*/
template<class T>
class buffer_writer final : public port<T>, public output_base
{
    buffer<T>* buf_;
    stream_state* st_;
    slice_budget* budget_;
    std::stop_token token_;
    chunk<T>* cur_ = nullptr;
    std::int64_t pushed_ = 0; // items this writer published
    std::int64_t seen_ = 0;   // the consumer's `popped_`, as last read
    bool above_ = false;      // depth at or above the threshold at the last look

    std::int64_t held() const noexcept { return cur_ ? static_cast<std::int64_t>(cur_->items.size()) : 0; }
    bool full() const noexcept { return pushed_ + held() - seen_ >= buf_->capacity_; }

    bool make_room(bool& drop_new);

    /// The item just added carries the segment's current context along.
    void keep_trace() noexcept
    {
        try
        {
            std::size_t const i = cur_->items.size() - 1;
            trace_ref c(clone_trace(budget_->trace.get()));
            if(!c)
                return;
            if(cur_->traces.size() <= i)
                cur_->traces.resize(i + 1);
            cur_->traces[i] = std::move(c);
        }
        catch(...)
        {
            // out of memory: the item goes on untraced
        }
    }

public:
    buffer_writer(buffer<T>& b, stream_state& st, slice_budget* budget, std::stop_token token) noexcept
        : buf_(&b), st_(&st), budget_(budget), token_(std::move(token))
    {
    }

    ~buffer_writer() override { delete cur_; }

    bool push(T&& v, std::uint32_t weight) override
    {
        // batches: remembered for the messages, which must say which unit
        if(BOOST_UNLIKELY(weight > buf_->max_weight_.load(std::memory_order_relaxed)))
            buf_->max_weight_.store(weight, std::memory_order_relaxed);
        if(BOOST_UNLIKELY(full()))
        {
            seen_ = buf_->popped_.load(std::memory_order_acquire);
            if(full())
            {
                bool drop_new = false;
                if(!make_room(drop_new))
                    return false;
                if(drop_new)
                {
                    buf_->consumer_->add_dropped(weight);
                    return true;
                }
            }
        }
        if(!cur_)
            cur_ = buf_->acquire();
        cur_->items.push_back(item<T>{std::move(v), weight});
        if(BOOST_UNLIKELY(tracing_installed()) && budget_ && budget_->trace)
            keep_trace();
        if(cur_->items.size() >= buf_->chunk_)
            flush();
        return true;
    }

    void flush() override
    {
        if(!cur_ || cur_->items.empty())
            return;
        chunk<T>* c = cur_;
        cur_ = nullptr;
        auto const n = static_cast<std::int64_t>(c->items.size());
        buf_->publish(c);
        pushed_ += n;
        seen_ = buf_->popped_.load(std::memory_order_acquire);
        if(pushed_ - seen_ >= buf_->threshold_)
        {
            if(!above_)
            {
                above_ = true;
                buf_->consumer_->add_bp_event();
            }
        }
        else
        {
            above_ = false;
        }
    }

    void close() override
    {
        flush();
        buf_->closed_.store(true, std::memory_order_release);
        buf_->not_empty_.notify();
    }
};

/// Reports a buffer that stayed full under `backpressure::wait`.
SPINDLE_DECL void fail_sink_full(stream_state& st, buffer_base const& b) noexcept;

/// The system clock of a stream (its system's timer service).
SPINDLE_DECL timer_service& timers_of(stream_state& st) noexcept;

template<class T>
bool buffer_writer<T>::make_room(bool& drop_new)
{
    // the consumer must see what we hold before we wait for it, or drop
    flush();
    if(!full())
        return true;
    switch(buf_->opts_.strategy)
    {
    case backpressure::drop:
        drop_new = true;
        return true;
    case backpressure::buffer:
        // each drop makes room for one; an empty buffer means the consumer
        // has just taken everything, which makes room too
        while(full())
        {
            buf_->drop_oldest();
            seen_ = buf_->popped_.load(std::memory_order_acquire);
        }
        return true;
    case backpressure::block:
    case backpressure::wait:
        break;
    }
    bool const bounded = buf_->opts_.strategy == backpressure::wait;
    wait_deadline dl;
    if(bounded)
        dl = wait_deadline::after(timers_of(*st_), buf_->opts_.wait);
    for(;;)
    {
        auto const key = buf_->not_full_.prepare_wait();
        seen_ = buf_->popped_.load(std::memory_order_acquire);
        if(!full())
        {
            buf_->not_full_.cancel_wait();
            return true;
        }
        auto const s = buf_->not_full_.wait(key, dl, token_);
        if(budget_)
            budget_->waited();
        switch(s)
        {
        case wake_status::cancelled:
            return false;
        case wake_status::timeout:
            seen_ = buf_->popped_.load(std::memory_order_acquire);
            if(!full())
                return true;
            fail_sink_full(*st_, *buf_);
            return false;
        default:
            break;
        }
    }
}

/** The consumer's end of a buffer: the chunk in hand and the item after
    the one last returned. Owned by the consuming segment.
*/
template<class T>
class buffer_reader
{
    buffer<T>* buf_ = nullptr;
    chunk<T>* hand_ = nullptr;

public:
    enum class pull : std::uint8_t
    {
        item, ///< `out` points at the next item (valid until the next call)
        empty,
        end ///< closed and drained
    };

    explicit buffer_reader(buffer<T>& b) noexcept : buf_(&b) {}
    buffer_reader(buffer_reader const&) = delete;
    buffer_reader& operator=(buffer_reader const&) = delete;

    ~buffer_reader()
    {
        if(hand_)
            buf_->release(hand_);
    }

    buffer<T>& source() noexcept { return *buf_; }

    /// True if an item is in hand or can be taken now, or the input ended.
    bool ready() noexcept
    {
        if(hand_ && hand_->begin < hand_->items.size())
            return true;
        if(hand_)
        {
            buf_->release(hand_);
            hand_ = nullptr;
        }
        hand_ = buf_->try_take();
        if(hand_)
            return true;
        return buf_->closed_.load(std::memory_order_acquire);
    }

    /// The trace context of the item `next` returned last (usually none).
    trace_ref take_trace() noexcept
    {
        if(BOOST_LIKELY(!hand_ || hand_->traces.empty()))
            return {};
        std::size_t const i = hand_->begin - 1;
        if(i >= hand_->traces.size())
            return {};
        return std::move(hand_->traces[i]);
    }

    /// True if some item of the chunk in hand carries a trace context.
    bool traced() const noexcept { return BOOST_UNLIKELY(tracing_installed()) && hand_ && !hand_->traces.empty(); }

    /// Items left in the chunk in hand after the current one.
    std::size_t in_hand() const noexcept { return hand_ ? hand_->size() : 0; }

    /// True if the chunk in hand is used up (a good moment to publish downstream).
    bool chunk_done() const noexcept { return !hand_ || hand_->begin >= hand_->items.size(); }

    /// The next item, without waiting.
    pull next(item<T>*& out) noexcept
    {
        if(hand_ && hand_->begin < hand_->items.size())
        {
            out = &hand_->items[hand_->begin++];
            return pull::item;
        }
        if(hand_)
        {
            buf_->release(hand_);
            hand_ = nullptr;
        }
        hand_ = buf_->try_take();
        if(!hand_)
        {
            if(!buf_->closed_.load(std::memory_order_acquire))
                return pull::empty;
            // everything published before the close is visible now
            hand_ = buf_->try_take();
            if(!hand_)
                return pull::end;
        }
        out = &hand_->items[hand_->begin++];
        return pull::item;
    }

    /** Parks until an item can be taken, the input ended, `extra()` holds,
        the deadline passes or a stop request.
    */
    template<class Extra>
    wake_status wait(wait_deadline const& dl, std::stop_token const& st, Extra&& extra)
    {
        auto const key = buf_->not_empty_.prepare_wait();
        if(ready() || extra())
        {
            buf_->not_empty_.cancel_wait();
            return wake_status::done;
        }
        return buf_->not_empty_.wait(key, dl, st);
    }

    wake_status wait(wait_deadline const& dl, std::stop_token const& st)
    {
        return wait(dl, st, [] { return false; });
    }
};

//------------------------------------------------------------------------------
// the push side of sources: push_source and actor_source

/** The shared state of a `push_source`: a bounded multi-producer queue of
    single items (producers are arbitrary threads, Asio handlers and fibers)
    read by the stream's source fiber.

    `size_` counts items pushed and not yet popped; a producer reserves its
    slot in it before it looks at `closed_`, so the consumer, which looks at
    `closed_` before `size_`, never ends while a successful push is still in
    flight.
*/
template<class T>
class inlet
{
    /// An item and its pusher's trace context (null when tracing is off).
    struct entry
    {
        std::optional<T> value;
        trace_ref trace;
    };

    tbb::concurrent_queue<entry> queue_;
    std::size_t const capacity_;
    alignas(SPINDLE_CACHELINE) std::atomic<std::int64_t> size_{0};
    std::atomic<bool> closed_{false};
    event_count not_empty_;
    event_count not_full_;

public:
    explicit inlet(std::size_t capacity) noexcept : capacity_(capacity) {}

    std::size_t capacity() const noexcept { return capacity_; }

    std::size_t size() const noexcept
    {
        auto const s = size_.load(std::memory_order_relaxed);
        return s > 0 ? static_cast<std::size_t>(s) : 0;
    }

    bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

    /// Moves from `v` only on success.
    channel_status try_push(T& v)
    {
        auto const before = size_.fetch_add(1, std::memory_order_seq_cst);
        if(closed_.load(std::memory_order_seq_cst))
        {
            undo();
            return channel_status::closed;
        }
        if(before >= static_cast<std::int64_t>(capacity_))
        {
            undo();
            return channel_status::full;
        }
        entry boxed{std::optional<T>(std::move(v)), capture_trace()};
        try
        {
            queue_.push(std::move(boxed));
        }
        catch(...)
        {
            if(boxed.value)
                v = std::move(*boxed.value); // the caller keeps its value
            undo();
            throw;
        }
        not_empty_.notify();
        return channel_status::success;
    }

    channel_status push(T& v, wait_deadline const& dl, std::stop_token const& st)
    {
        for(;;)
        {
            auto s = try_push(v);
            if(s != channel_status::full)
                return s;
            auto const key = not_full_.prepare_wait();
            s = try_push(v);
            if(s != channel_status::full)
            {
                not_full_.cancel_wait();
                return s;
            }
            switch(not_full_.wait(key, dl, st))
            {
            case wake_status::timeout:
                return channel_status::timeout;
            case wake_status::cancelled:
                return channel_status::cancelled;
            default:
                break;
            }
        }
    }

    void close() noexcept
    {
        closed_.store(true, std::memory_order_seq_cst);
        not_empty_.notify();
        not_full_.notify();
    }

    enum class pull : std::uint8_t
    {
        item,
        empty,
        end,
        cancelled
    };

    /// Consumer (the source fiber): the next item and its pusher's trace
    /// context, waiting if `wait`.
    pull pop(std::optional<T>& out, trace_ref& trace, bool wait, std::stop_token const& st)
    {
        for(;;)
        {
            if(try_pop(out, trace))
                return pull::item;
            if(closed_.load(std::memory_order_seq_cst) && size_.load(std::memory_order_seq_cst) <= 0)
                return pull::end;
            if(!wait)
                return pull::empty;
            auto const key = not_empty_.prepare_wait();
            if(try_pop(out, trace))
            {
                not_empty_.cancel_wait();
                return pull::item;
            }
            if(closed_.load(std::memory_order_seq_cst) && size_.load(std::memory_order_seq_cst) <= 0)
            {
                not_empty_.cancel_wait();
                return pull::end;
            }
            if(not_empty_.wait(key, wait_deadline::never(), st) == wake_status::cancelled)
                return pull::cancelled;
        }
    }

private:
    void undo() noexcept
    {
        size_.fetch_sub(1, std::memory_order_seq_cst);
        // a consumer that saw the slot reserved waits for the item: tell it
        not_empty_.notify();
    }

    bool try_pop(std::optional<T>& out, trace_ref& trace)
    {
        entry e;
        if(!queue_.try_pop(e))
            return false;
        out = std::move(e.value);
        trace = std::move(e.trace);
        size_.fetch_sub(1, std::memory_order_seq_cst);
        not_full_.notify();
        return true;
    }
};

//------------------------------------------------------------------------------
// segments

/** One fiber of a running stream: its input, its fused chain and its
    output. Run in slices by an internal actor (see stream.cpp).
*/
class segment_base
{
public:
    enum class slice : std::uint8_t
    {
        more,   ///< budget used up: run again after the worker's other actors
        done,   ///< input ended and everything was passed on
        stopped ///< the stream is stopping (failed or cancelled)
    };

    std::shared_ptr<stream_state> state_;
    std::vector<std::unique_ptr<port_base>> ops_; ///< the fused chain, owned
    output_base* output_ = nullptr;               ///< the writer at its end; null for the sink
    std::vector<stage_rt*> stages_;               ///< stages whose counters this fiber writes
    stage_rt* first_ = nullptr;                   ///< the stage named in unexpected failures
    std::shared_ptr<segment_base> prev_;          ///< the segment before this one, started by our first slice
    std::unique_ptr<slice_budget> slice_budget_;  ///< shared with the chain's stages and writer
    bool finished_ = false;

    segment_base() = default;
    segment_base(segment_base const&) = delete;
    segment_base& operator=(segment_base const&) = delete;
    virtual ~segment_base() = default;

    /// Runs one slice. Exceptions are the caller's (the actor fails the stream).
    virtual slice run(std::stop_token const& st) = 0;

    /// Called once when the segment ends, `normal` if `run` returned `done`.
    virtual void on_finish(bool normal) noexcept { (void)normal; }

    /// map_parallel's lanes, if the segment has any.
    virtual std::shared_ptr<par_core_base> par_core() noexcept { return nullptr; }

    void flush_stats() noexcept
    {
        for(auto* s : stages_)
            s->flush();
    }

    /// Publishes what the output holds and the counters (before any wait).
    void flush_output()
    {
        if(output_)
            output_->flush();
        flush_stats();
    }

    enum class tick_result : std::uint8_t
    {
        go,
        more, ///< end the slice (the output is published)
        stop  ///< the stream is stopping
    };

    /** Called after every item. Every 64th it looks at the stop token and
        the clock: it publishes what the output has held back for 50 µs (a
        slow stage must not sit on finished items until its chunk fills),
        and ends the slice when its budget is used up.
    */
    tick_result tick(std::stop_token const& st)
    {
        slice_budget_->count();
        if(BOOST_LIKELY(++ticks_ % 64 != 0))
            return tick_result::go;
        if(st.stop_requested())
            return tick_result::stop;
        auto const now = std::chrono::steady_clock::now();
        if(slice_budget_->spent(now))
        {
            flush_output();
            return tick_result::more;
        }
        if(now - last_flush_ >= std::chrono::microseconds(50))
        {
            flush_output();
            last_flush_ = now;
        }
        return tick_result::go;
    }

private:
    std::uint32_t ticks_ = 0;
    std::chrono::steady_clock::time_point last_flush_{};
};

/** The shared part of map_parallel, reached by its lanes (actors defined in
    stream.cpp, each running one item at a time on its own fiber).
*/
class par_core_base
{
public:
    /// A lane may still signal after the coordinator saw its item settle:
    /// the stream's state (and the event below) must outlive every lane.
    std::shared_ptr<stream_state> keep_;
    std::vector<basic_actor_ref> lanes_;
    std::unique_ptr<std::atomic<bool>[]> lane_dead_;
    event_count* wake_ = nullptr; ///< the coordinator's (its input buffer's not_empty_)

    virtual ~par_core_base() = default;
    /// Runs the item in slot `i` (a lane's handler). Never throws.
    virtual void run_job(std::uint32_t i) noexcept = 0;
    virtual std::size_t width() const noexcept = 0;

    void lane_stopped(std::size_t i) noexcept
    {
        lane_dead_[i].store(true, std::memory_order_release);
        if(wake_)
            wake_->notify();
    }
};

/// Sends slot `slot` to lane `lane`. @return False if the lane has stopped.
SPINDLE_DECL bool dispatch_lane(par_core_base& core, std::size_t lane, std::uint32_t slot) noexcept;

/// Stops every lane of `core`.
SPINDLE_DECL void stop_lanes(par_core_base& core) noexcept;

//------------------------------------------------------------------------------
// the description of a stream (built by stream<T>, run by launch)

enum class node_role : std::uint8_t
{
    source,
    stateless, ///< fusable: map, filter, flat_map, via
    async,     ///< a fiber of its own: batch, throttle, map_parallel
    boundary,  ///< `.buffer(opts)`: the next stage gets its own fiber behind these options
    sink
};

/// What a node needs to build its part of a running stream.
struct build_context
{
    stream_state& st;
    stage_rt& rt;
    stage_options const& opts;
    output_base* out;      ///< the segment's output (null in the sink's segment)
    slice_budget* budget;  ///< the segment's
};

/// A writer and its output interface (the same object).
struct writer_parts
{
    std::unique_ptr<port_base> port;
    output_base* output = nullptr;
};

/** One stage of a stream's description: immutable, shared by the streams
    built from it, so a description can be run any number of times (each
    run copies the user's functions into fresh stages).
*/
class node
{
public:
    std::shared_ptr<node const> prev_;
    node_role role_;
    char const* kind_;
    stage_options opts_;
    /// For `node_role::boundary`: the buffer's options; empty: the stream's default.
    std::optional<buffer_options> boundary_;

    node(std::shared_ptr<node const> prev, node_role role, char const* kind, stage_options opts)
        : prev_(std::move(prev)), role_(role), kind_(kind), opts_(std::move(opts))
    {
    }

    node(node const&) = delete;
    node& operator=(node const&) = delete;
    virtual ~node() = default;

    /// A problem with the stage's own parameters, or empty.
    virtual std::string check() const { return {}; }

    /// True if the stage's items can be copied (error_action::retry needs it).
    virtual bool copyable_input() const noexcept { return true; }

    /// map_parallel's width (lanes to spawn), else 0.
    virtual std::size_t lanes() const noexcept { return 0; }

    /// A buffer for this stage's output type, in front of `consumer`.
    virtual std::unique_ptr<buffer_base> make_buffer(buffer_options const& o, stage_rt& consumer,
                                                     stream_state& st) const = 0;

    /// The writer into `b` (a buffer made by `make_buffer`).
    virtual writer_parts make_writer(buffer_base& b, stream_state& st, slice_budget* budget) const = 0;

    /// A stateless stage's port, pushing into `next` (a port of its output type).
    virtual std::unique_ptr<port_base> make_op(build_context const& cx, port_base* next) const
    {
        (void)cx;
        (void)next;
        return nullptr;
    }

    /** The segment this stage starts: `in` is its input buffer (null for a
        source), `next` the chain after it (null for a sink).
    */
    virtual std::unique_ptr<segment_base> make_segment(build_context const& cx, buffer_base* in,
                                                       port_base* next) const = 0;
};

//------------------------------------------------------------------------------
// the state of a running stream

class SPINDLE_DECL stream_state : public std::enable_shared_from_this<stream_state>
{
public:
    enum class end_kind : std::uint8_t
    {
        none,
        completed,
        failed,
        cancelled
    };

    std::string name_;
    spindle::system* sys_ = nullptr;    ///< where the segments' actors are spawned
    std::shared_ptr<void> keep_system_; ///< the system's state: timers outlive the stream
    timer_service* timers_ = nullptr;
    std::stop_source stop_;
    std::atomic<int> live_{0};       ///< segments not finished
    std::atomic<int> busy_lanes_{0}; ///< map_parallel items running now

    std::vector<std::unique_ptr<stage_rt>> stages_;
    std::vector<std::unique_ptr<buffer_base>> buffers_;
    /// The context `run` was called in, for the items of a source that
    /// pulls (a range, a generator, a channel); null when tracing is off.
    trace_ref trace_;
    metrics::gauge* m_active_ = nullptr;
    metrics::counter* m_finished_[3] = {nullptr, nullptr, nullptr}; // completed, failed, cancelled

    completion_state<void> done_;

    stream_state() = default;
    stream_state(stream_state const&) = delete;
    stream_state& operator=(stream_state const&) = delete;
    virtual ~stream_state();

    std::stop_token token() const noexcept { return stop_.get_token(); }

    /// Records a failure (the first reason to end wins) and stops every stage.
    void fail(boost::system::error_code ec, std::string const& stage, std::string what, std::exception_ptr e) noexcept;

    /** Records a cancellation (unless the stream already ended) and stops every stage.

        @return True if this call decided the stream's end.
    */
    bool cancel(boost::system::error_code why) noexcept;

    /// The sink has delivered everything: the stream completed, whatever comes later.
    void mark_completed() noexcept;

    /// A segment ended; the last one completes the stream.
    void segment_done() noexcept;

    end_kind end() const noexcept;
    boost::system::error_code code() const noexcept;
    std::string failed_stage() const;
    std::string failure_what() const;
    std::exception_ptr exception() const;
    /// "stream 'x': stage 'y' failed: ..." (or cancelled, ...).
    std::string describe() const;

    stream_stats stats() const;

protected:
    /// Stores the typed result (called once, before waiters are woken).
    virtual void deliver(bool ok) noexcept = 0;

private:
    mutable spinlock lock_;
    end_kind end_ = end_kind::none; // guarded by lock_
    boost::system::error_code code_;
    std::string stage_;
    std::string what_;
    std::exception_ptr exception_;
};

/** A stream's state with its result type: `void`, or the container a
    `collect` sink fills.
*/
template<class R>
class typed_state final : public stream_state
{
public:
    using value_type = R;
    using stored_type = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

    /// What a collecting sink fills (its fiber only), moved into the result.
    stored_type value_{};
    std::optional<boost::system::result<R>> result_;

private:
    void deliver(bool ok) noexcept override
    {
        try
        {
            if(ok)
            {
                if constexpr(std::is_void_v<R>)
                    result_.emplace();
                else
                    result_.emplace(boost::system::in_place_value, std::move(value_));
                return;
            }
        }
        catch(...)
        {
        }
        auto ec = code();
        if(!ec)
            ec = make_error_code(stream_error::stage_failed);
        result_.emplace(boost::system::in_place_error, ec);
    }
};

/** Starts a stream described by `last` (its sink) on `sys`.

    @param why Set with `ec` to a message naming the problem.
*/
SPINDLE_DECL void launch(spindle::system& sys, node const& last, stream_options const& opts,
                         std::shared_ptr<stream_state> const& st, boost::system::error_code& ec, std::string& why);

} // namespace detail
} // namespace spindle

#endif
