//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A JSON view of a bus, from one snapshot of its tools and grants (so the
// tools and the agents agree with each other) and its relaxed counters.

#include <spindle/tools/describe.hpp>

#include "bus_impl.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace spindle::tools {

namespace json = boost::json;

namespace {

constexpr tool_error error_kinds[] = {
    tool_error::access_denied, tool_error::invalid_params, tool_error::timed_out, tool_error::tool_failed,
    tool_error::cancelled,     tool_error::busy,           tool_error::bus_stopped, tool_error::depth_exceeded,
};

double ms(std::chrono::nanoseconds d) noexcept
{
    return static_cast<double>(d.count()) * 1e-6;
}

json::object tool_json(detail::tool_entry const& e)
{
    auto const& m = e.series;
    std::uint64_t errors = 0;
    json::object by_kind;
    for(tool_error k : error_kinds)
    {
        auto const* c = m.errors[static_cast<std::size_t>(k)];
        std::uint64_t const n = c ? c->value() : 0;
        errors += n;
        if(n)
            by_kind[to_string(k)] = n;
    }
    std::uint64_t const executions = m.execution->count();
    json::object o;
    o["name"] = e.schema.name;
    o["kind"] = e.options.identity ? "agent" : "tool";
    o["calls"] = m.calls->value();
    o["successes"] = m.successes->value();
    o["errors"] = errors;
    o["timeouts"] = m.errors[static_cast<std::size_t>(tool_error::timed_out)]->value();
    if(executions)
    {
        o["mean_ms"] = m.execution->sum() * 1e3 / static_cast<double>(executions);
        o["last_ms"] = ms(std::chrono::nanoseconds(e.last_ns.load(std::memory_order_relaxed)));
    }
    else
    {
        o["mean_ms"] = nullptr;
        o["last_ms"] = nullptr;
    }
    o["errors_by_kind"] = std::move(by_kind);
    o["description"] = e.schema.description;
    o["id"] = e.id.to_string();
    return o;
}

struct agent_row
{
    agent_id id;
    std::string const* name = nullptr;
    detail::agent_grants const* grants = nullptr;
};

} // namespace

json::object describe(tool_bus const& bus, describe_options const& opts)
{
    auto const& b = detail::bus_access::of(bus);
    auto const st = b.load();
    json::object doc;
    doc["bus"] = b.opts_.name;
    doc["stopped"] = st->exec == nullptr;
    if(b.opts_.timeout.count() % 1000000 == 0) // whole milliseconds read better as an integer
        doc["timeout_ms"] = b.opts_.timeout.count() / 1000000;
    else
        doc["timeout_ms"] = ms(b.opts_.timeout);
    doc["max_concurrent"] = b.opts_.max_concurrent;
    doc["queue_capacity"] = b.opts_.queue_capacity;
    doc["not_found"] = b.not_found_ ? b.not_found_->value() : 0;

    std::vector<detail::tool_entry const*> entries;
    entries.reserve(st->tools->by_name.size());
    for(auto const& [name, e] : st->tools->by_name)
        entries.push_back(e.get());
    std::sort(entries.begin(), entries.end(), [](auto a, auto b) { return a->schema.name < b->schema.name; });
    std::size_t const tools_listed = std::min(entries.size(), opts.max_tools);
    json::array tools;
    tools.reserve(tools_listed);
    for(std::size_t i = 0; i < tools_listed; ++i)
        tools.push_back(tool_json(*entries[i]));
    doc["tools"] = std::move(tools);

    auto const& perms = *st->perms;
    std::vector<agent_row> rows;
    rows.reserve(perms.agents.size() + perms.names.size());
    for(auto const& [id, g] : perms.agents)
    {
        auto n = perms.names.find(id);
        rows.push_back({id, n == perms.names.end() ? nullptr : &n->second, &g});
    }
    for(auto const& [id, name] : perms.names)
        if(!perms.agents.count(id))
            rows.push_back({id, &name, nullptr});
    // named agents by name, then the unnamed ones, each group by id
    std::sort(rows.begin(), rows.end(), [](agent_row const& x, agent_row const& y) {
        if((x.name == nullptr) != (y.name == nullptr))
            return x.name != nullptr;
        if(x.name && *x.name != *y.name)
            return *x.name < *y.name;
        return x.id < y.id;
    });
    std::size_t const agents_listed = std::min(rows.size(), opts.max_agents);
    json::array agents;
    agents.reserve(agents_listed);
    for(std::size_t i = 0; i < agents_listed; ++i)
    {
        auto const& r = rows[i];
        json::object a;
        if(r.name)
            a["name"] = *r.name;
        else
            a["name"] = nullptr;
        json::array except;
        if(r.grants && r.grants->all)
        {
            a["grants"] = "all";
            for(auto const& t : r.grants->denied)
                except.push_back(json::value(t));
        }
        else
        {
            json::array granted;
            if(r.grants)
                for(auto const& t : r.grants->granted)
                    granted.push_back(json::value(t));
            a["grants"] = std::move(granted);
        }
        a["except"] = std::move(except);
        a["id"] = r.id.to_string();
        agents.push_back(std::move(a));
    }
    doc["agents"] = std::move(agents);
    if(tools_listed < entries.size())
        doc["tools_omitted"] = entries.size() - tools_listed;
    if(agents_listed < rows.size())
        doc["agents_omitted"] = rows.size() - agents_listed;
    return doc;
}

} // namespace spindle::tools
