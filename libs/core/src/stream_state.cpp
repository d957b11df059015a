//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The state of a running stream: how it ends (completed, failed,
// cancelled) and why, the stages' final counters, and its statistics.

#include <spindle/stream.hpp>

#include <spindle/metrics.hpp>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

namespace spindle {
namespace detail {

timer_service& timers_of(stream_state& st) noexcept
{
    return *st.timers_;
}

//------------------------------------------------------------------------------
// stream_state

stream_state::~stream_state() = default;

void stream_state::fail(boost::system::error_code ec, std::string const& stage, std::string what,
                        std::exception_ptr e) noexcept
{
    {
        std::lock_guard<spinlock> lk(lock_);
        if(end_ == end_kind::none)
        {
            end_ = end_kind::failed;
            code_ = ec;
            try
            {
                stage_ = stage;
                what_ = std::move(what);
            }
            catch(...)
            {
            }
            exception_ = std::move(e);
        }
    }
    stop_.request_stop();
}

bool stream_state::cancel(boost::system::error_code why) noexcept
{
    bool decided = false;
    {
        std::lock_guard<spinlock> lk(lock_);
        if(end_ == end_kind::none)
        {
            end_ = end_kind::cancelled;
            code_ = why;
            decided = true;
        }
    }
    if(decided)
        stop_.request_stop();
    return decided;
}

void stream_state::mark_completed() noexcept
{
    std::lock_guard<spinlock> lk(lock_);
    if(end_ == end_kind::none)
        end_ = end_kind::completed;
}

void stream_state::segment_done() noexcept
{
    if(live_.fetch_sub(1, std::memory_order_acq_rel) != 1)
        return;
    end_kind k;
    {
        std::lock_guard<spinlock> lk(lock_);
        if(end_ == end_kind::none)
        {
            // every stopping path records why; this is only a safety net
            end_ = end_kind::cancelled;
            code_ = make_error_code(error::system_stopped);
        }
        k = end_;
    }
    // Every fiber has returned: the counters are final. What reached a
    // stage (or its input buffer) and neither left it nor was filtered,
    // dropped or failed, the stream's end discarded.
    if(k != end_kind::completed)
    {
        std::uint64_t reached = 0;
        for(std::size_t i = 0; i < stages_.size(); ++i)
        {
            stage_rt& rt = *stages_[i];
            rt.flush();
            if(i == 0)
                reached = rt.in.get();
            reached += rt.created.get();
            std::uint64_t const left = rt.out.get() + rt.filtered.get() + rt.errors.get() +
                                       rt.dropped.load(std::memory_order_relaxed);
            std::uint64_t const lost = reached > left ? reached - left : 0;
            rt.discarded.store(lost, std::memory_order_relaxed);
            if(lost && rt.m_discarded)
                rt.m_discarded->inc(lost);
            reached = rt.out.get();
        }
    }
    // what a stopped stream left in its buffers leaves the depth gauges
    for(auto const& b : buffers_)
    {
        auto const left = static_cast<std::int64_t>(b->depth());
        if(left > 0)
            b->depth_changed(-left);
    }
    deliver(k == end_kind::completed);
    if(m_active_)
        m_active_->sub(1);
    std::size_t const i = k == end_kind::completed ? 0 : k == end_kind::failed ? 1 : 2;
    if(m_finished_[i])
        m_finished_[i]->inc();
    done_.set_value();
}

stream_state::end_kind stream_state::end() const noexcept
{
    std::lock_guard<spinlock> lk(lock_);
    return end_;
}

boost::system::error_code stream_state::code() const noexcept
{
    std::lock_guard<spinlock> lk(lock_);
    return code_;
}

std::string stream_state::failed_stage() const
{
    std::lock_guard<spinlock> lk(lock_);
    return end_ == end_kind::failed ? stage_ : std::string();
}

std::string stream_state::failure_what() const
{
    std::lock_guard<spinlock> lk(lock_);
    return what_;
}

std::exception_ptr stream_state::exception() const
{
    std::lock_guard<spinlock> lk(lock_);
    return exception_;
}

std::string stream_state::describe() const
{
    std::string stage, what;
    end_kind k;
    boost::system::error_code ec;
    {
        std::lock_guard<spinlock> lk(lock_);
        k = end_;
        ec = code_;
        stage = stage_;
        what = what_;
    }
    std::string s = "stream '" + name_ + "'";
    switch(k)
    {
    case end_kind::none: return s + ": running";
    case end_kind::completed: return s + ": completed";
    case end_kind::cancelled: return s + ": " + ec.message();
    case end_kind::failed: break;
    }
    if(!stage.empty())
        s += ": stage '" + stage + "' failed";
    else
        s += ": failed";
    s += ": ";
    s += what.empty() ? ec.message() : what;
    return s;
}

stream_stats stream_state::stats() const
{
    stream_stats s;
    s.name = name_;
    s.running = !done_.ready();
    s.fibers = static_cast<std::size_t>(std::max(0, live_.load(std::memory_order_relaxed))) +
               static_cast<std::size_t>(std::max(0, busy_lanes_.load(std::memory_order_relaxed)));
    std::uint64_t created = 0;
    for(auto const& rt : stages_)
    {
        stage_stats x;
        x.name = rt->name;
        x.kind = rt->kind;
        x.in = rt->in.get();
        x.out = rt->out.get();
        x.filtered = rt->filtered.get();
        x.dropped = rt->dropped.load(std::memory_order_relaxed);
        x.errors = rt->errors.get();
        x.created = rt->created.get();
        x.discarded = rt->discarded.load(std::memory_order_relaxed);
        x.backpressure_events = rt->bp_events.load(std::memory_order_relaxed);
        if(rt->input)
        {
            x.buffer_depth = rt->input->depth();
            x.buffer_capacity = static_cast<std::size_t>(rt->input->capacity_);
        }
        s.filtered += x.filtered;
        s.dropped += x.dropped;
        s.errors += x.errors;
        s.discarded += x.discarded;
        s.backpressure_events += x.backpressure_events;
        created += x.created;
        s.stages.push_back(std::move(x));
    }
    if(!s.stages.empty())
    {
        s.in = s.stages.front().out + created;
        s.out = s.stages.back().out;
    }
    return s;
}

} // namespace detail
} // namespace spindle
