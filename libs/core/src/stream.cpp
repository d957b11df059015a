//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Streams' launch: `launch` turns a description into segments, buffers
// and actors. The stages' error handling and trace spans are in
// stream_stage.cpp, the state of a running stream in stream_state.cpp,
// the actors that run it in stream_actors.cpp, the errors in
// stream_error.cpp.

#include <spindle/stream.hpp>

#include <spindle/actor.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>
#include <spindle/timer.hpp>

#include "stream_impl.hpp"
#include "system_state.hpp"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace spindle {
namespace detail {

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
                auto lane = spawn_lane(sys, so, ec, core, i);
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
        started = start_segments(segs.back(), *st); // on failure it ended every segment
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
