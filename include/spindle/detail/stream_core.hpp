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
#include <spindle/detail/spinlock.hpp>
#include <spindle/detail/stream_buffer.hpp>
#include <spindle/detail/stream_port.hpp>
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
// impl/stream.hpp plug into and libs/core/src/stream*.cpp drive.
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
//
// The buffers are in detail/stream_buffer.hpp, the stage records, ports
// and slice budget that every part shares in detail/stream_port.hpp; this
// header holds the stages' error handling, the push side of sources, the
// segments, the description of a stream and the state of a running one.

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
// stages

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
    output. Run in slices by an internal actor (see stream_actors.cpp).
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
    stream_actors.cpp, each running one item at a time on its own fiber).
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
