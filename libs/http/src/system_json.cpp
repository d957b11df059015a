//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/system_json.hpp>

#include <spindle/event_stream.hpp>
#include <spindle/http/health.hpp>
#include <spindle/http/sections.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>

#include "rfc3339.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <string>

namespace spindle::http {

namespace json = boost::json;

namespace {

json::value id_json(actor_id const& id)
{
    if(id.is_nil())
        return nullptr;
    return json::value(id.to_string());
}

std::string label_of(metrics::sample const& s, std::string_view name)
{
    for(auto const& [k, v] : s.labels)
        if(k == name)
            return v;
    return {};
}

// A metric's value as JSON: counters and gauges that hold whole numbers are
// written as integers (Boost.JSON would print a double 3 as 3E0).
json::value number(double v)
{
    if(v >= 0 && v < 9.0e18 && v == static_cast<double>(static_cast<std::uint64_t>(v)))
        return static_cast<std::uint64_t>(v);
    return v;
}

// Values of the families `prefix*` grouped by `label`: group -> field -> value.
void group_by(std::vector<metrics::metric_family> const& snap, std::string_view prefix, std::string_view label,
              std::map<std::string, json::object>& out,
              std::function<std::string(std::string_view family, metrics::sample const&)> const& field_of)
{
    for(auto const& f : snap)
    {
        if(f.name.compare(0, prefix.size(), prefix) != 0)
            continue;
        for(auto const& s : f.samples)
        {
            auto const group = label_of(s, label);
            if(group.empty())
                continue;
            auto const field = field_of(f.name, s);
            if(field.empty())
                continue;
            auto& obj = out[group];
            auto& v = obj[field];
            v = number((v.is_number() ? v.to_number<double>() : 0.0) + s.value);
        }
    }
}

} // namespace

json::object to_json(actor_info const& a)
{
    json::object o;
    o["id"] = id_json(a.id);
    o["name"] = a.name;
    o["type"] = to_string(a.type);
    o["actor_type"] = a.actor_type;
    if(a.type == node_type::supervisor || a.type == node_type::root)
        o["strategy"] = to_string(a.strategy);
    o["state"] = to_string(a.state);
    o["restarts"] = a.restarts;
    o["mailbox_depth"] = a.mailbox_depth;
    o["mailbox_refused"] = a.mailbox_refused;
    o["mailbox_dropped"] = a.mailbox_dropped;
    json::array children;
    children.reserve(a.children.size());
    for(auto const& c : a.children)
        children.push_back(to_json(c));
    o["children"] = std::move(children);
    o["omitted"] = a.omitted;
    return o;
}

json::object system_json(spindle::system& sys, system_json_options const& opts, health_monitor const* health,
                         section_registry const* sections)
{
    json::object doc;
    {
        json::object s;
        s["name"] = sys.options().name;
        s["workers"] = sys.options().worker_threads;
        s["stopping"] = sys.stopping();
        s["time"] = detail::rfc3339(std::chrono::system_clock::now());
        doc["system"] = std::move(s);
    }
    {
        auto const st = sys.stats();
        json::object s;
        s["messages"] = st.messages;
        s["activations"] = st.activations;
        s["dead_letters"] = st.dead_letters;
        s["dropped"] = st.dropped;
        s["refused"] = st.refused;
        s["failures"] = st.failures;
        s["restarts"] = st.restarts;
        s["spawned"] = st.spawned;
        s["steals"] = st.steals;
        s["actors"] = st.actors;
        s["fibers"] = st.fibers;
        doc["stats"] = std::move(s);
    }
    doc["tree"] = to_json(spindle::inspect(sys, opts.inspect));

    auto const snap = sys.metrics().snapshot();
    {
        json::array workers;
        for(auto const& f : snap)
        {
            if(f.name != "spindle_worker_messages_total")
                continue;
            for(auto const& s : f.samples)
            {
                json::object w;
                w["worker"] = label_of(s, "worker");
                w["messages"] = number(s.value);
                workers.push_back(std::move(w));
            }
        }
        doc["workers"] = std::move(workers);
    }
    {
        // the busiest (actor type, message type) pairs; rates are the
        // difference of two snapshots, so the order is by total
        auto counts = spindle::message_counts(sys);
        std::size_t const total_types = counts.size();
        if(counts.size() > opts.message_types)
        {
            std::partial_sort(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(opts.message_types),
                              counts.end(), [](auto const& a, auto const& b) { return a.count > b.count; });
            counts.resize(opts.message_types);
        }
        json::array types;
        for(auto const& c : counts)
        {
            json::object o;
            o["actor_type"] = c.actor_type;
            o["message_type"] = c.message_type;
            o["messages"] = c.count;
            types.push_back(std::move(o));
        }
        doc["message_types"] = std::move(types);
        if(total_types > opts.message_types)
            doc["message_types_omitted"] = total_types - opts.message_types;
    }
    {
        std::map<std::string, json::object> groups;
        group_by(snap, "spindle_executor_", "executor", groups,
                 [](std::string_view family, metrics::sample const&) -> std::string {
                     static constexpr std::pair<std::string_view, std::string_view> fields[] = {
                         {"spindle_executor_tasks_running", "running"},
                         {"spindle_executor_tasks_queued", "queued"},
                         {"spindle_executor_tasks_submitted_total", "submitted"},
                         {"spindle_executor_tasks_completed_total", "completed"},
                         {"spindle_executor_tasks_failed_total", "failed"},
                         {"spindle_executor_tasks_rejected_total", "rejected"},
                         {"spindle_executor_tasks_timed_out_total", "timed_out"},
                         {"spindle_executor_tasks_cancelled_total", "cancelled"},
                         {"spindle_executor_retries_total", "retries"},
                         {"spindle_executor_unresponsive_total", "unresponsive"},
                     };
                     for(auto const& [name, field] : fields)
                         if(family == name)
                             return std::string(field);
                     return {};
                 });
        json::array executors;
        for(auto& [name, obj] : groups)
        {
            obj["name"] = name;
            executors.push_back(std::move(obj));
        }
        doc["executors"] = std::move(executors);
    }
    {
        std::map<std::string, json::object> groups;
        group_by(snap, "spindle_circuit_breaker_", "breaker", groups,
                 [](std::string_view family, metrics::sample const& s) -> std::string {
                     if(family == "spindle_circuit_breaker_state")
                         return "state_code";
                     if(family == "spindle_circuit_breaker_calls_total")
                         return "calls_" + label_of(s, "outcome");
                     if(family == "spindle_circuit_breaker_transitions_total")
                         return "transitions";
                     return {};
                 });
        json::array breakers;
        for(auto& [name, obj] : groups)
        {
            json::object b;
            b["name"] = name;
            int const code = obj.contains("state_code") ? obj["state_code"].to_number<int>() : 0;
            b["state"] = code == 1 ? "open" : code == 2 ? "half_open" : "closed";
            json::object calls;
            for(char const* outcome : {"success", "failure", "rejected"})
            {
                auto const key = std::string("calls_") + outcome;
                calls[outcome] = number(obj.contains(key) ? obj[key].to_number<double>() : 0.0);
            }
            b["calls"] = std::move(calls);
            b["transitions"] = number(obj.contains("transitions") ? obj["transitions"].to_number<double>() : 0.0);
            breakers.push_back(std::move(b));
        }
        doc["breakers"] = std::move(breakers);
    }
    {
        auto recent = sys.events().recent();
        std::size_t const first = recent.size() > opts.recent_events ? recent.size() - opts.recent_events : 0;
        json::array events;
        for(std::size_t i = first; i < recent.size(); ++i)
        {
            auto const& e = recent[i];
            json::object o;
            o["sequence"] = e.sequence;
            o["type"] = to_string(e.type);
            o["time"] = detail::rfc3339(e.time);
            o["source"] = id_json(e.source);
            o["source_name"] = e.source_name;
            o["actor_type"] = e.actor_type;
            o["detail"] = e.detail;
            events.push_back(std::move(o));
        }
        doc["events"] = std::move(events);
    }
    if(health)
    {
        auto const r = health->report();
        json::object h;
        h["status"] = to_string(r.status);
        json::object checks;
        for(auto const& e : r.checks)
        {
            json::object c;
            c["status"] = to_string(e.result.status);
            if(!e.result.observed_value.is_null())
                c["observed"] = e.result.observed_value;
            if(!e.result.observed_unit.empty())
                c["unit"] = e.result.observed_unit;
            if(!e.result.output.empty())
                c["output"] = e.result.output;
            checks[e.name] = std::move(c);
        }
        h["checks"] = std::move(checks);
        doc["health"] = std::move(h);
    }
    if(sections)
        doc["sections"] = sections->render();
    return doc;
}

} // namespace spindle::http
