//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Streams without types: the error handling of stages, the state of a
// running stream, the actors that run its segments and map_parallel's
// lanes, and `launch`, which turns a description into segments, buffers
// and actors.

#include <spindle/stream.hpp>

#include <spindle/actor.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>
#include <spindle/timer.hpp>

#include "system_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace spindle {

//------------------------------------------------------------------------------
// errors and names

namespace {

class stream_category_impl final : public boost::system::error_category
{
public:
    constexpr stream_category_impl() noexcept : boost::system::error_category(0x5e1d1e0c0ffee008ULL) {}

    char const* name() const noexcept override { return "spindle.stream"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    char const* message(int ev, char*, std::size_t) const noexcept override
    {
        switch(static_cast<stream_error>(ev))
        {
        case stream_error::stage_failed: return "stream stage failed";
        case stream_error::retries_exhausted: return "stream stage failed on every retry";
        case stream_error::sink_full: return "sink full";
        case stream_error::sink_closed: return "sink closed";
        }
        return "unknown stream error";
    }
};

constexpr stream_category_impl the_stream_category;

std::string describe(std::exception_ptr const& e)
{
    if(!e)
        return "unknown failure";
    try
    {
        std::rethrow_exception(e);
    }
    catch(std::exception const& x)
    {
        return x.what();
    }
    catch(...)
    {
        return "an exception not derived from std::exception";
    }
}

} // namespace

boost::system::error_category const& stream_category() noexcept
{
    return the_stream_category;
}

std::string_view to_string(backpressure b) noexcept
{
    switch(b)
    {
    case backpressure::block: return "block";
    case backpressure::wait: return "wait";
    case backpressure::drop: return "drop";
    case backpressure::buffer: return "buffer";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, backpressure b)
{
    return os << to_string(b);
}

std::string_view to_string(error_action a) noexcept
{
    switch(a)
    {
    case error_action::stop: return "stop";
    case error_action::skip: return "skip";
    case error_action::retry: return "retry";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, error_action a)
{
    return os << to_string(a);
}

namespace detail {

//------------------------------------------------------------------------------
// stages

void stage_base::init_stage(stage_rt& rt, stream_state& st, stage_options const& o, output_base* flush,
                            slice_budget* budget) noexcept
{
    budget_ = budget;
    rt_ = &rt;
    st_ = &st;
    action_ = o.on_error;
    retry_ = o.retry;
    flush_ = flush;
    token_ = st.token();
}

attempt_result stage_base::failed(std::exception_ptr e, bool exhausted, std::size_t attempts) noexcept
{
    if(!exhausted && action_ == error_action::skip)
        return attempt_result::skip;
    try
    {
        std::string what = describe(e);
        if(exhausted)
        {
            what += " (" + std::to_string(attempts) + " attempts)";
            st_->fail(make_error_code(stream_error::retries_exhausted), rt_->name, std::move(what), e);
        }
        else
        {
            st_->fail(make_error_code(stream_error::stage_failed), rt_->name, std::move(what), e);
        }
    }
    catch(...)
    {
        st_->fail(make_error_code(stream_error::stage_failed), std::string(), std::string(), e);
    }
    return attempt_result::stop;
}

bool stage_base::backoff(std::size_t n)
{
    // what this fiber holds back must not wait for the backoff
    if(flush_)
        flush_->flush();
    thread_local std::minstd_rand rng(static_cast<std::minstd_rand::result_type>(
        std::hash<void const*>()(&rng) ^ static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
    double const u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    bool const slept = timers_of(*st_).sleep_for(retry_.delay(n, u), token_);
    if(budget_)
        budget_->waited();
    return slept;
}

//------------------------------------------------------------------------------
// tracing (see doc/tracing.md, "Stream stages"); reached only when an item
// carries a context, which it can only when a tracing component is installed

trace_carrier* clone_trace(trace_carrier const* c) noexcept
{
    trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire);
    if(!h || !c)
        return nullptr;
    try
    {
        char tp[traceparent_size + 1];
        std::string state;
        if(!h->inject(c, tp, state))
            return nullptr;
        // a carrier is made from the calling fiber's context: the item's, for a moment
        void* const token = h->enter(std::string_view(tp, traceparent_size), state);
        if(!token)
            return nullptr;
        trace_carrier* const r = h->capture();
        h->leave(token);
        return r;
    }
    catch(...)
    {
        return nullptr;
    }
}

namespace {

/// One open stage span: what trace_begin started, and the item's context
/// it replaces in the slot while the item goes on.
struct stage_span_token
{
    trace_hooks const* h = nullptr;
    trace_ref* slot = nullptr;
    void* span = nullptr;
    void* scope = nullptr;
    trace_ref parent; ///< the item's context before this stage
    bool ended = false;
};

} // namespace

void* stage_base::trace_begin(trace_ref& slot) noexcept
{
    trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire);
    if(!h)
        return nullptr;
    try
    {
        char tp[traceparent_size + 1];
        std::string state;
        if(!h->inject(slot.get(), tp, state))
            return nullptr;
        auto t = std::make_unique<stage_span_token>();
        t->h = h;
        t->slot = &slot;
        t->span = h->start("stage " + rt_->name, 1 /* internal */, std::string_view(tp, traceparent_size), state);
        if(!t->span)
            return nullptr;
        h->set_string(t->span, "stream.name", st_->name_);
        h->set_string(t->span, "stream.stage.name", rt_->name);
        h->set_string(t->span, "stream.stage.kind", rt_->kind);
        h->set_int(t->span, "stream.stage.index", static_cast<long long>(rt_->position));
        t->scope = h->activate(t->span);
        if(budget_) // map_parallel's lanes share the stage: no exception is kept for them
            trace_error_ = nullptr;
        return t.release();
    }
    catch(...)
    {
        return nullptr; // out of memory: the item goes on untraced by this stage
    }
}

void stage_base::trace_end(void* token, bool failed) noexcept
{
    auto* t = static_cast<stage_span_token*>(token);
    if(t->ended)
        return;
    t->ended = true;
    // the context the next stages see is this span's, taken while it is current
    trace_ref mine(t->scope ? t->h->capture() : nullptr);
    if(t->scope)
        t->h->leave(t->scope);
    std::string message;
    if(failed)
    {
        try
        {
            message = budget_ && trace_error_ ? describe(trace_error_) : st_->failure_what();
            if(message.empty())
                message = "stage failed";
        }
        catch(...)
        {
        }
    }
    if(budget_)
        trace_error_ = nullptr;
    t->h->finish(t->span, failed, message);
    t->parent = std::move(*t->slot);
    *t->slot = std::move(mine);
}

void stage_base::trace_restore(void* token) noexcept
{
    std::unique_ptr<stage_span_token> t(static_cast<stage_span_token*>(token));
    if(!t->ended)
        trace_end(t.get(), false);
    *t->slot = std::move(t->parent);
}

bool actors_waiting_here() noexcept
{
    worker const* w = current_worker();
    return w && w->rq_.size() > 0;
}

void fail_sink(stage_base& s, stream_error e, char const* what) noexcept
{
    try
    {
        s.st_->fail(make_error_code(e), s.rt_->name, what, nullptr);
    }
    catch(...)
    {
    }
}

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

void throw_stream_error(boost::system::error_code ec, std::string const& what)
{
    throw_error(ec, what.c_str());
}

void throw_stream_failure(stream_state const& st)
{
    boost::throw_exception(stream_failure(st.code(), st.describe(), st.failed_stage(), st.exception()));
}

//------------------------------------------------------------------------------
// the actors

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

//------------------------------------------------------------------------------
// launch

namespace {

constexpr char const* items_name = "spindle_stream_items_total";
constexpr char const* items_help =
    "Items through each stream stage, by status: in, out, filtered, dropped, error, created, discarded";
constexpr char const* bp_name = "spindle_stream_backpressure_events_total";
constexpr char const* bp_help = "Times the input buffer of a stream stage rose past its backpressure threshold";
constexpr char const* depth_name = "spindle_stream_buffer_depth";
constexpr char const* depth_help = "Items in the input buffer of a stream stage";
constexpr char const* active_name = "spindle_streams_active";
constexpr char const* active_help = "Streams running now";
constexpr char const* finished_name = "spindle_streams_finished_total";
constexpr char const* finished_help = "Streams that ended, by outcome: completed, failed, cancelled";

std::string check_buffer(buffer_options const& b)
{
    if(b.capacity == 0)
        return "buffer capacity must be at least 1";
    if(b.capacity > (std::size_t(1) << 30))
        return "buffer capacity must be at most 2^30";
    if(!(b.threshold > 0.0 && b.threshold <= 1.0))
        return "buffer threshold must be in (0, 1]";
    if(b.wait < std::chrono::nanoseconds::zero())
        return "buffer wait must not be negative";
    if(static_cast<unsigned>(b.strategy) > static_cast<unsigned>(backpressure::buffer))
        return "unknown backpressure strategy";
    return {};
}

struct planned
{
    node const* n = nullptr;
    std::optional<buffer_options> in; ///< a buffer asked for in front of it
    std::string name;
};

metrics::counter* series(metrics::registry& reg, std::string const& stream, std::string const& stage,
                         char const* status)
{
    boost::system::error_code ec;
    return reg.counter(items_name, items_help, {{"stream", stream}, {"processor", stage}, {"status", status}}, ec);
}

void register_metrics(metrics::registry& reg, std::string const& stream, stage_rt& rt, bool has_input)
{
    boost::system::error_code ec;
    std::string_view const kind = rt.kind;
    rt.m_in = series(reg, stream, rt.name, "in");
    rt.m_out = series(reg, stream, rt.name, "out");
    rt.m_errors = series(reg, stream, rt.name, "error");
    rt.m_discarded = series(reg, stream, rt.name, "discarded");
    if(kind == "filter" || kind == "flat_map" || kind == "via")
        rt.m_filtered = series(reg, stream, rt.name, "filtered");
    if(kind == "flat_map")
        rt.m_created = series(reg, stream, rt.name, "created");
    if(has_input)
    {
        rt.m_dropped = series(reg, stream, rt.name, "dropped");
        metrics::labels_type const labels{{"stream", stream}, {"processor", rt.name}};
        rt.m_bp = reg.counter(bp_name, bp_help, labels, ec);
        rt.m_depth = reg.gauge(depth_name, depth_help, labels, ec);
    }
}

} // namespace

void launch(spindle::system& sys, node const& last, stream_options const& opts, std::shared_ptr<stream_state> const& st,
            boost::system::error_code& ec, std::string& why)
{
    ec = {};
    why.clear();
    std::string const sname = opts.name.empty() ? std::string("stream") : opts.name;
    auto bad = [&](std::string const& msg) {
        ec = make_error_code(error::invalid_argument);
        why = "stream '" + sname + "': " + msg;
    };

    // the stages, source first; a boundary becomes the next stage's buffer
    std::vector<node const*> chain;
    for(node const* n = &last; n; n = n->prev_.get())
        chain.push_back(n);
    std::reverse(chain.begin(), chain.end());
    std::vector<planned> stages;
    bool boundary = false;            // a `.buffer()` comes before the next stage
    buffer_options boundary_opts{};   // with these options
    for(node const* n : chain)
    {
        if(n->role_ == node_role::boundary)
        {
            boundary = true;
            boundary_opts = n->boundary_ ? *n->boundary_ : opts.buffer;
            continue;
        }
        planned p;
        p.n = n;
        if(n->opts_.buffer)
            p.in = n->opts_.buffer;
        else if(boundary)
            p.in = boundary_opts;
        boundary = false;
        stages.push_back(std::move(p));
    }
    if(stages.size() < 2 || stages.front().n->role_ != node_role::source || stages.back().n->role_ != node_role::sink)
        return bad("a stream needs a source and a sink");

    if(auto m = check_buffer(opts.buffer); !m.empty())
        return bad("default " + m);
    std::set<std::string> names;
    for(std::size_t i = 0; i < stages.size(); ++i)
    {
        planned& p = stages[i];
        stage_options const& o = p.n->opts_;
        p.name = o.name;
        if(p.name.empty())
        {
            if(p.n->role_ == node_role::source)
                p.name = "source";
            else if(p.n->role_ == node_role::sink)
                p.name = "sink";
            else
                p.name = std::string(p.n->kind_) + "-" + std::to_string(i);
        }
        if(!names.insert(p.name).second)
            return bad("two stages are named '" + p.name + "'");
        std::string const where = "stage '" + p.name + "': ";
        if(auto m = p.n->check(); !m.empty())
            return bad(where + m);
        if(p.in)
            if(auto m = check_buffer(*p.in); !m.empty())
                return bad(where + m);
        if(static_cast<unsigned>(o.on_error) > static_cast<unsigned>(error_action::retry))
            return bad(where + "unknown error_action");
        if(o.on_error == error_action::retry)
        {
            boost::system::error_code rec;
            if(!o.retry.validate(rec))
                return bad(where + "invalid retry policy (max_attempts >= 1, delays >= 0, max_delay >= base_delay, "
                                   "multiplier >= 1, jitter in [0, 1])");
            if(!p.n->copyable_input())
                return bad(where + "error_action::retry needs copyable items");
        }
    }
    if(sys.stopping())
    {
        ec = make_error_code(error::system_stopped);
        why = "stream '" + sname + "': the system is shutting down";
        return;
    }

    // where the fibers begin
    std::vector<std::size_t> starts;
    for(std::size_t i = 0; i < stages.size(); ++i)
    {
        auto const role = stages[i].n->role_;
        if(i == 0 || role == node_role::async || role == node_role::sink || stages[i].in ||
           (!opts.fuse && role == node_role::stateless))
            starts.push_back(i);
    }
    std::size_t const k_count = starts.size();

    // the state, the stages' records and their series
    st->name_ = sname;
    // the context of the caller, for the items of a pulling source
    st->trace_ = capture_trace();
    if(st->trace_)
    {
        trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire);
        char tp[traceparent_size + 1];
        std::string state;
        if(!h || !h->inject(st->trace_.get(), tp, state))
            st->trace_.reset(); // run outside any span: its items carry nothing
    }
    st->timers_ = &sys.timers();
    st->keep_system_ = sys.state().shared_from_this();
    metrics::registry& reg = sys.metrics();
    std::vector<bool> has_input(stages.size(), false);
    for(std::size_t k = 1; k < k_count; ++k)
        has_input[starts[k]] = true;
    std::vector<stage_rt*> rts;
    for(std::size_t i = 0; i < stages.size(); ++i)
    {
        auto rt = std::make_unique<stage_rt>();
        rt->name = stages[i].name;
        rt->kind = stages[i].n->kind_;
        rt->position = i;
        register_metrics(reg, sname, *rt, has_input[i]);
        rts.push_back(rt.get());
        st->stages_.push_back(std::move(rt));
    }
    {
        boost::system::error_code mec;
        st->m_active_ = reg.gauge(active_name, active_help, {}, mec);
        char const* outcomes[3] = {"completed", "failed", "cancelled"};
        for(int i = 0; i < 3; ++i)
            st->m_finished_[i] = reg.counter(finished_name, finished_help, {{"outcome", outcomes[i]}}, mec);
    }

    // the buffers in front of every segment but the source's
    std::vector<buffer_base*> inbuf(k_count, nullptr);
    for(std::size_t k = 1; k < k_count; ++k)
    {
        std::size_t const b = starts[k];
        auto buf = stages[b - 1].n->make_buffer(stages[b].in.value_or(opts.buffer), *rts[b], *st);
        rts[b]->input = buf.get();
        inbuf[k] = buf.get();
        st->buffers_.push_back(std::move(buf));
    }

    // the segments: each chain is built from its end
    std::vector<std::shared_ptr<segment_base>> segs;
    for(std::size_t k = 0; k < k_count; ++k)
    {
        std::size_t const b = starts[k];
        std::size_t const e = k + 1 < k_count ? starts[k + 1] : stages.size();
        auto budget = std::make_unique<slice_budget>();
        writer_parts w;
        if(k + 1 < k_count)
            w = stages[e - 1].n->make_writer(*inbuf[k + 1], *st, budget.get());
        port_base* next = w.port.get();
        std::vector<std::unique_ptr<port_base>> owned;
        if(w.port)
            owned.push_back(std::move(w.port));
        for(std::size_t j = e - 1; j > b; --j)
        {
            build_context const cx{*st, *rts[j], stages[j].n->opts_, w.output, budget.get()};
            auto op = stages[j].n->make_op(cx, next);
            next = op.get();
            owned.push_back(std::move(op));
        }
        build_context const cx{*st, *rts[b], stages[b].n->opts_, w.output, budget.get()};
        std::shared_ptr<segment_base> seg = stages[b].n->make_segment(cx, inbuf[k], next);
        seg->slice_budget_ = std::move(budget);
        for(auto& o : owned)
            seg->ops_.push_back(std::move(o));
        seg->output_ = w.output;
        seg->state_ = st;
        seg->first_ = rts[b];
        for(std::size_t j = b; j < e; ++j)
            seg->stages_.push_back(rts[j]);
        segs.push_back(std::move(seg));
    }

    // the actors: map_parallel's lanes, then the sink's, which starts the
    // others one by one (see stage_actor); nothing runs before its `go`
    st->sys_ = &sys;
    st->live_.store(static_cast<int>(k_count), std::memory_order_relaxed);
    if(st->m_active_)
        st->m_active_->add(1);
    for(std::size_t k = 1; k < k_count; ++k)
        segs[k]->prev_ = segs[k - 1];
    spawn_options so;
    so.mailbox = mailbox_options{};
    so.mailbox->capacity = 0;
    for(auto const& seg : segs)
    {
        if(auto core = seg->par_core())
        {
            for(std::size_t i = 0; i < core->width() && !ec; ++i)
            {
                auto lane = sys.spawn_with<par_lane>(so, ec, core, i);
                if(!ec)
                    core->lanes_.push_back(std::move(lane));
            }
        }
        if(ec)
            break;
    }
    bool started = false;
    if(!ec)
    {
        started = stage_actor::start(segs.back(), *st); // on failure it ended every segment
    }
    else
    {
        st->cancel(make_error_code(error::system_stopped));
        for(auto s = segs.back(); s;)
        {
            auto before = std::move(s->prev_);
            finish_segment(*s, false);
            s = std::move(before);
        }
    }
    if(!started)
    {
        if(!ec)
            ec = make_error_code(error::system_stopped);
        why = "stream '" + sname + "': " + ec.message();
        for(auto const& seg : segs)
            if(auto core = seg->par_core())
                stop_lanes(*core);
    }
}

} // namespace detail

std::size_t active_streams(spindle::system& sys)
{
    boost::system::error_code ec;
    auto* g = sys.metrics().gauge(detail::active_name, detail::active_help, {}, ec);
    if(!g)
        return 0;
    auto const v = g->value();
    return v > 0 ? static_cast<std::size_t>(v) : 0;
}

} // namespace spindle
