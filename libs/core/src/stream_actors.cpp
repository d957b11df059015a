//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The actors that run a stream: one per segment, running it in slices,
// and map_parallel's lanes.

#include <spindle/stream.hpp>

#include <spindle/actor.hpp>
#include <spindle/system.hpp>

#include "stream_impl.hpp"
#include "system_state.hpp"

#include <memory>
#include <utility>

namespace spindle {
namespace detail {

//------------------------------------------------------------------------------
// the actors

void finish_segment(segment_base& seg, bool normal) noexcept
{
    if(seg.finished_)
        return;
    seg.finished_ = true;
    // keeps the state (and the buffers the segment refers to) until the end
    std::shared_ptr<stream_state> st = seg.state_;
    if(normal && seg.output_)
    {
        try
        {
            seg.output_->close();
        }
        catch(...)
        {
            auto e = std::current_exception();
            st->fail(make_error_code(stream_error::stage_failed), seg.first_->name, describe(e), e);
        }
    }
    seg.on_finish(normal);
    seg.flush_stats();
    st->segment_done();
}

namespace {

struct stage_go
{
    using spindle_untraced = void; // each item carries its own context (trace_begin)
};

struct cancel_on_shutdown
{
    stream_state* st;
    void operator()() const noexcept { st->cancel(make_error_code(error::system_stopped)); }
};

/** Runs one segment: each message is a slice; a slice that used its budget
    sends the next message, so the worker serves its other actors in
    between. The actor stops when the segment has ended.

    Segments start from the sink back to the source: the first slice of
    each spawns the actor of the one before it, from its own worker, which
    is where that actor then runs. A pipeline thus begins on one worker,
    where a hop between its fibers costs no thread wake-up; the runtime
    spreads it only when its stages are busy enough to queue up (an idle
    worker then steals them).
*/
class stage_actor final : public actor<stage_actor, stage_go>
{
    std::shared_ptr<segment_base> seg_;

    static spawn_options options()
    {
        spawn_options so;
        so.mailbox = mailbox_options{};
        so.mailbox->capacity = 0; // its own slices only: never refuse one
        return so;
    }

public:
    /// Spawns the actor of `seg` (and, through it, of the segments before
    /// it) and starts it; if that fails, ends them all as cancelled.
    static bool start(std::shared_ptr<segment_base> seg, stream_state& st) noexcept
    {
        boost::system::error_code ec;
        actor_ref<stage_actor> ref;
        try
        {
            ref = st.sys_->spawn_with<stage_actor>(options(), ec, seg);
        }
        catch(...)
        {
            ec = make_error_code(error::system_stopped);
        }
        if(!ec)
        {
            ref.tell(stage_go{}); // refused: the system stops, and post_stop ends the segment
            return true;
        }
        st.cancel(make_error_code(error::system_stopped));
        for(auto s = std::move(seg); s;)
        {
            auto before = std::move(s->prev_);
            finish_segment(*s, false);
            s = std::move(before);
        }
        return false;
    }

    explicit stage_actor(std::shared_ptr<segment_base> seg) : seg_(std::move(seg)) {}

    void on(stage_go)
    {
        segment_base& seg = *seg_;
        if(seg.finished_)
            return;
        stream_state& st = *seg.state_;
        if(seg.prev_)
            start(std::move(seg.prev_), st);
        auto r = segment_base::slice::stopped;
        if(!st.token().stop_requested())
        {
            // a system shutting down cancels the stream, which ends every wait
            std::stop_callback<cancel_on_shutdown> on_shutdown(stop_token(), cancel_on_shutdown{&st});
            try
            {
                r = seg.run(st.token());
            }
            catch(...)
            {
                caught_on_fiber();
                auto e = std::current_exception();
                st.fail(make_error_code(stream_error::stage_failed), seg.first_->name, describe(e), e);
            }
        }
        if(r == segment_base::slice::more)
        {
            seg.flush_stats();
            bool told = false;
            try
            {
                told = self().tell(stage_go{}) == send_status::ok;
            }
            catch(...)
            {
            }
            if(told)
                return;
            st.cancel(make_error_code(error::system_stopped));
            r = segment_base::slice::stopped;
        }
        if(r == segment_base::slice::stopped && !st.token().stop_requested())
            st.cancel(make_error_code(error::system_stopped));
        finish_segment(seg, r == segment_base::slice::done);
        stop();
    }

    void post_stop() override
    {
        // stopped before its segment ended: the system is shutting down
        if(!seg_->finished_)
        {
            seg_->state_->cancel(make_error_code(error::system_stopped));
            finish_segment(*seg_, false);
        }
    }
};

struct par_job
{
    using spindle_untraced = void; // the item carries its own context (trace_begin)
    std::uint32_t slot;
};

/// One of map_parallel's lanes: runs one item per message on its own fiber.
class par_lane final : public actor<par_lane, par_job>
{
    std::shared_ptr<par_core_base> core_;
    std::size_t index_;

public:
    par_lane(std::shared_ptr<par_core_base> core, std::size_t index) : core_(std::move(core)), index_(index) {}

    void on(par_job j) { core_->run_job(j.slot); }

    void post_stop() override { core_->lane_stopped(index_); }
};

} // namespace

bool start_segments(std::shared_ptr<segment_base> last, stream_state& st) noexcept
{
    return stage_actor::start(std::move(last), st);
}

basic_actor_ref spawn_lane(spindle::system& sys, spawn_options const& so, boost::system::error_code& ec,
                           std::shared_ptr<par_core_base> core, std::size_t index)
{
    return sys.spawn_with<par_lane>(so, ec, std::move(core), index);
}

bool dispatch_lane(par_core_base& core, std::size_t lane, std::uint32_t slot) noexcept
{
    if(lane >= core.lanes_.size() || core.lane_dead_[lane].load(std::memory_order_acquire))
        return false;
    try
    {
        actor_ref<par_lane> ref(boost::intrusive_ptr<actor_cell>(core.lanes_[lane].cell()));
        return ref.tell(par_job{slot}) == send_status::ok;
    }
    catch(...)
    {
        return false;
    }
}

void stop_lanes(par_core_base& core) noexcept
{
    for(auto const& l : core.lanes_)
        l.stop();
}

bool actors_waiting_here() noexcept
{
    worker const* w = current_worker();
    return w && w->rq_.size() > 0;
}

} // namespace detail
} // namespace spindle
