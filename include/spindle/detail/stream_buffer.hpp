//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_STREAM_BUFFER_HPP
#define SPINDLE_DETAIL_STREAM_BUFFER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/event_count.hpp>
#include <spindle/detail/stream_port.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/stream_options.hpp>
#include <spindle/timer.hpp>

#include <boost/config.hpp>

#include <tbb/concurrent_queue.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <utility>
#include <vector>

// The bounded buffer between two segments of a running stream (see
// detail/stream_core.hpp): items travel in chunks through a TBB concurrent
// queue, and each side parks on an event_count only when the other has
// not kept up.

namespace spindle::detail {

class stream_state;

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

} // namespace spindle::detail

#endif
