//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/error.hpp>
#include <spindle/trace/recent.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <string_view>
#include <utility>

namespace spindle::trace {

namespace json = boost::json;

recent_traces::recent_traces(recent_traces_options opts) : opts_(std::move(opts))
{
    if(opts_.max_traces == 0)
        throw boost::system::system_error(make_error_code(error::bad_option),
            "recent_traces_options::max_traces must be at least 1");
    if(opts_.max_spans_per_trace == 0)
        throw boost::system::system_error(make_error_code(error::bad_option),
            "recent_traces_options::max_spans_per_trace must be at least 1");
    traces_.reserve(opts_.max_traces);
}

recent_traces::~recent_traces() = default;

boost::system::error_code recent_traces::export_spans(
    std::span<span_data const> spans, attributes const& resource, export_deadline& deadline)
{
    {
        std::lock_guard lk(m_);
        for(auto const& s : spans)
        {
            ++stats_.spans;
            // the trace, moved to the back (most recently updated)
            auto it = std::find_if(traces_.begin(), traces_.end(),
                [&](recent_trace const& t) { return t.id == s.context.trace; });
            if(it == traces_.end())
            {
                if(traces_.size() == opts_.max_traces)
                {
                    traces_.erase(traces_.begin());
                    ++stats_.traces_evicted;
                }
                traces_.push_back(recent_trace{s.context.trace, {}, 0});
            }
            else if(it + 1 != traces_.end())
            {
                std::rotate(it, it + 1, traces_.end());
            }
            auto& t = traces_.back();
            if(t.spans.size() < opts_.max_spans_per_trace)
            {
                t.spans.push_back(s);
            }
            else
            {
                ++t.spans_dropped;
                ++stats_.spans_dropped;
            }
        }
    }
    if(opts_.next)
        return opts_.next->export_spans(spans, resource, deadline);
    return {};
}

std::vector<recent_trace> recent_traces::snapshot() const
{
    std::lock_guard lk(m_);
    return {traces_.rbegin(), traces_.rend()};
}

recent_traces_stats recent_traces::stats() const
{
    std::lock_guard lk(m_);
    return stats_;
}

void recent_traces::clear()
{
    std::lock_guard lk(m_);
    traces_.clear();
}

namespace {

std::string_view kind_name(span_kind k) noexcept
{
    switch(k)
    {
        case span_kind::internal: return "internal";
        case span_kind::server: return "server";
        case span_kind::client: return "client";
        case span_kind::producer: return "producer";
        case span_kind::consumer: return "consumer";
        case span_kind::unspecified: break;
    }
    return "unspecified";
}

std::string_view status_name(status_code c) noexcept
{
    switch(c)
    {
        case status_code::ok: return "ok";
        case status_code::error: return "error";
        case status_code::unset: break;
    }
    return "unset";
}

double ms_between(std::chrono::system_clock::time_point a, std::chrono::system_clock::time_point b) noexcept
{
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// One trace as the waterfall: its spans in tree order.
json::object trace_json(recent_trace const& t)
{
    auto const& spans = t.spans;
    auto const n = spans.size();
    auto start = spans.front().start;
    auto end = spans.front().end;
    for(auto const& s : spans)
    {
        start = std::min(start, s.start);
        end = std::max(end, s.end);
    }
    // a span's parent among the kept ones (n: none kept)
    std::vector<std::size_t> parent(n, n);
    for(std::size_t i = 0; i < n; ++i)
    {
        if(!spans[i].parent.valid())
            continue;
        for(std::size_t j = 0; j < n; ++j)
            if(j != i && spans[j].context.span == spans[i].parent)
            {
                parent[i] = j;
                break;
            }
    }
    auto by_start = [&](std::size_t a, std::size_t b) {
        return spans[a].start != spans[b].start ? spans[a].start < spans[b].start : a < b;
    };
    // depth-first from the tops, siblings by start; a cycle (ids that
    // collide) cannot loop: each span is placed once
    std::vector<std::size_t> order;
    std::vector<std::size_t> depth(n, 0);
    std::vector<bool> placed(n, false);
    std::vector<std::size_t> stack;
    auto place_children_of = [&](std::size_t p) {
        std::vector<std::size_t> kids;
        for(std::size_t i = 0; i < n; ++i)
            if(!placed[i] && parent[i] == p)
                kids.push_back(i);
        std::sort(kids.begin(), kids.end(), by_start);
        // pushed in reverse, so the earliest is popped first
        for(auto it = kids.rbegin(); it != kids.rend(); ++it)
        {
            placed[*it] = true;
            depth[*it] = p == n ? 0 : depth[p] + 1;
            stack.push_back(*it);
        }
    };
    place_children_of(n);
    for(;;)
    {
        while(!stack.empty())
        {
            auto const i = stack.back();
            stack.pop_back();
            order.push_back(i);
            place_children_of(i);
        }
        // spans in a parent cycle are nobody's descendants: place them as tops
        auto left = std::find(placed.begin(), placed.end(), false);
        if(left == placed.end())
            break;
        auto const i = static_cast<std::size_t>(left - placed.begin());
        placed[i] = true;
        stack.push_back(i);
    }

    json::array rows;
    rows.reserve(n);
    std::size_t errors = 0;
    for(auto i : order)
    {
        auto const& s = spans[i];
        if(s.status == status_code::error)
            ++errors;
        json::object r;
        r["name"] = s.name;
        r["span_id"] = s.context.span.to_hex();
        r["parent_id"] = s.parent.valid() ? s.parent.to_hex() : std::string();
        r["depth"] = depth[i];
        r["offset_ms"] = ms_between(start, s.start);
        r["duration_ms"] = ms_between(s.start, s.end);
        r["kind"] = kind_name(s.kind);
        r["status"] = status_name(s.status);
        r["status_message"] = s.status_message;
        rows.push_back(std::move(r));
    }
    json::object o;
    o["trace_id"] = t.id.to_hex();
    o["name"] = spans[order.front()].name;
    o["start_unix_ms"] = std::chrono::duration<double, std::milli>(start.time_since_epoch()).count();
    o["duration_ms"] = ms_between(start, end);
    o["spans"] = n;
    o["errors"] = errors;
    o["spans_dropped"] = t.spans_dropped;
    o["rows"] = std::move(rows);
    return o;
}

} // namespace

json::value recent_traces::to_json() const
{
    auto const traces = snapshot();
    auto const st = stats();
    json::object o;
    o["view"] = "waterfall";
    json::array list;
    list.reserve(traces.size());
    for(auto const& t : traces)
        if(!t.spans.empty())
            list.push_back(trace_json(t));
    o["traces"] = std::move(list);
    o["spans"] = st.spans;
    o["spans_dropped"] = st.spans_dropped;
    o["traces_evicted"] = st.traces_evicted;
    return o;
}

} // namespace spindle::trace
