//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/load/config.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace spindle::load {

namespace json = boost::json;

std::string_view to_string(step_kind k) noexcept
{
    switch(k)
    {
    case step_kind::tell: return "tell";
    case step_kind::ask: return "ask";
    case step_kind::tool: return "tool";
    case step_kind::stream: return "stream";
    case step_kind::http: return "http";
    case step_kind::wait: return "wait";
    }
    return "?";
}

namespace {

[[noreturn]] void fail(std::string const& field, std::string const& problem)
{
    throw config_error(field, problem);
}

std::string join(std::string const& base, std::string_view key)
{
    return base.empty() ? std::string(key) : base + "." + std::string(key);
}

void only_known(json::object const& o, std::string const& path, std::initializer_list<std::string_view> known)
{
    for(auto const& kv : o)
        if(std::find(known.begin(), known.end(), kv.key()) == known.end())
        {
            std::string list;
            for(auto k : known)
                list += (list.empty() ? "" : ", ") + std::string(k);
            fail(join(path, kv.key()), "unknown member (expected one of: " + list + ")");
        }
}

double number(json::value const& v, std::string const& field)
{
    if(v.is_double())
        return v.get_double();
    if(v.is_int64())
        return static_cast<double>(v.get_int64());
    if(v.is_uint64())
        return static_cast<double>(v.get_uint64());
    fail(field, std::string("must be a number, not ") + std::string(json::to_string(v.kind())));
}

double non_negative(json::value const& v, std::string const& field)
{
    double const d = number(v, field);
    if(!(d >= 0) || !std::isfinite(d))
        fail(field, "must be a finite number >= 0, not " + json::serialize(v));
    return d;
}

std::uint64_t whole(json::value const& v, std::string const& field, std::uint64_t lo, std::uint64_t hi)
{
    double const d = number(v, field);
    if(!(d >= static_cast<double>(lo)) || !(d <= static_cast<double>(hi)) || d != std::floor(d))
        fail(field, "must be a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], not " +
                        json::serialize(v));
    return static_cast<std::uint64_t>(d);
}

std::string text(json::value const& v, std::string const& field)
{
    if(!v.is_string())
        fail(field, std::string("must be a string, not ") + std::string(json::to_string(v.kind())));
    return std::string(v.get_string());
}

std::chrono::nanoseconds seconds(double s)
{
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(s * 1e9)));
}

std::chrono::nanoseconds millis(double ms)
{
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ms * 1e6)));
}

step parse_step(json::value const& v, std::string const& path, std::size_t index)
{
    if(!v.is_object())
        fail(path, "a step must be an object");
    auto const& o = v.get_object();
    only_known(o, path, {"name", "kind", "target", "method", "type", "payload", "items", "ms", "timeout_ms"});
    step s;
    auto const* kind = o.if_contains("kind");
    if(!kind)
        fail(join(path, "kind"), "missing (one of tell, ask, tool, stream, http, wait)");
    std::string const k = text(*kind, join(path, "kind"));
    static constexpr step_kind kinds[] = {step_kind::tell, step_kind::ask, step_kind::tool,
        step_kind::stream, step_kind::http, step_kind::wait};
    auto it = std::find_if(std::begin(kinds), std::end(kinds), [&](step_kind x) { return to_string(x) == k; });
    if(it == std::end(kinds))
        fail(join(path, "kind"), "unknown step kind '" + k + "' (expected tell, ask, tool, stream, http or wait)");
    s.kind = *it;
    s.name = std::string(to_string(s.kind)) + "#" + std::to_string(index + 1);
    if(auto const* n = o.if_contains("name"))
        s.name = text(*n, join(path, "name"));
    if(auto const* t = o.if_contains("target"))
        s.target = text(*t, join(path, "target"));
    if(auto const* m = o.if_contains("method"))
        s.method = text(*m, join(path, "method"));
    if(auto const* t = o.if_contains("type"))
        s.type = text(*t, join(path, "type"));
    if(auto const* p = o.if_contains("payload"))
        s.payload = *p;
    if(auto const* i = o.if_contains("items"))
        s.items = static_cast<std::uint32_t>(whole(*i, join(path, "items"), 1, 1u << 30));
    if(auto const* ms = o.if_contains("ms"))
        s.wait = millis(non_negative(*ms, join(path, "ms")));
    if(auto const* t = o.if_contains("timeout_ms"))
        s.timeout = millis(non_negative(*t, join(path, "timeout_ms")));
    if(s.kind == step_kind::wait && !o.contains("ms"))
        fail(join(path, "ms"), "missing (a wait step says how long it pauses)");
    if(s.kind != step_kind::wait && s.target.empty())
        fail(join(path, "target"), "missing (a " + k + " step needs a target)");
    return s;
}

load_test_config parse(json::value const& v)
{
    if(!v.is_object())
        fail("", "the configuration must be a JSON object");
    auto const& o = v.get_object();
    only_known(o, "", {"name", "model", "duration_s", "users", "ramp_up_s", "think_time_ms", "iterations", "rate",
                          "max_in_flight", "timeout_ms", "seed", "slo", "scenarios"});
    load_test_config c;
    if(auto const* x = o.if_contains("name"))
        c.name = text(*x, "name");
    if(auto const* x = o.if_contains("model"))
    {
        std::string const m = text(*x, "model");
        if(m == "closed")
            c.model = load_model::closed;
        else if(m == "open")
            c.model = load_model::open;
        else
            fail("model", "must be \"closed\" or \"open\", not \"" + m + "\"");
    }
    if(auto const* x = o.if_contains("duration_s"))
        c.duration = seconds(non_negative(*x, "duration_s"));
    if(auto const* x = o.if_contains("users"))
        c.users = static_cast<std::uint32_t>(whole(*x, "users", 1, 1000000));
    if(auto const* x = o.if_contains("ramp_up_s"))
        c.ramp_up = seconds(non_negative(*x, "ramp_up_s"));
    if(auto const* x = o.if_contains("think_time_ms"))
    {
        if(x->is_object())
        {
            auto const& t = x->get_object();
            only_known(t, "think_time_ms", {"min", "max"});
            auto const* lo = t.if_contains("min");
            auto const* hi = t.if_contains("max");
            if(!lo || !hi)
                fail(lo ? "think_time_ms.max" : "think_time_ms.min", "missing");
            c.think_min = millis(non_negative(*lo, "think_time_ms.min"));
            c.think_max = millis(non_negative(*hi, "think_time_ms.max"));
            if(c.think_max < c.think_min)
                fail("think_time_ms.max", "must not be below think_time_ms.min");
        }
        else
            c.think_min = c.think_max = millis(non_negative(*x, "think_time_ms"));
    }
    if(auto const* x = o.if_contains("iterations"))
        c.iterations = whole(*x, "iterations", 0, std::uint64_t(1) << 53);
    if(auto const* x = o.if_contains("rate"))
        c.rate = non_negative(*x, "rate");
    if(auto const* x = o.if_contains("max_in_flight"))
        c.max_in_flight = static_cast<std::uint32_t>(whole(*x, "max_in_flight", 1, 100000));
    if(auto const* x = o.if_contains("timeout_ms"))
        c.timeout = millis(non_negative(*x, "timeout_ms"));
    if(auto const* x = o.if_contains("seed"))
        c.seed = whole(*x, "seed", 0, std::uint64_t(1) << 53);
    if(auto const* x = o.if_contains("slo"))
    {
        if(!x->is_object())
            fail("slo", "must be an object ({\"p99_ms\": ..., \"error_rate\": ...})");
        auto const& s = x->get_object();
        only_known(s, "slo", {"p99_ms", "error_rate"});
        if(auto const* p = s.if_contains("p99_ms"))
            c.slo.p99_ms = non_negative(*p, "slo.p99_ms");
        if(auto const* e = s.if_contains("error_rate"))
            c.slo.error_rate = non_negative(*e, "slo.error_rate");
    }
    auto const* sc = o.if_contains("scenarios");
    if(!sc)
        fail("scenarios", "missing (at least one scenario)");
    if(!sc->is_array())
        fail("scenarios", "must be an array");
    std::size_t i = 0;
    for(auto const& sv : sc->get_array())
    {
        std::string const path = "scenarios[" + std::to_string(i) + "]";
        if(!sv.is_object())
            fail(path, "a scenario must be an object");
        auto const& so = sv.get_object();
        only_known(so, path, {"name", "weight", "steps"});
        scenario s;
        s.name = "scenario#" + std::to_string(i + 1);
        if(auto const* n = so.if_contains("name"))
            s.name = text(*n, path + ".name");
        if(auto const* w = so.if_contains("weight"))
            s.weight = number(*w, path + ".weight");
        auto const* st = so.if_contains("steps");
        if(!st || !st->is_array())
            fail(path + ".steps", st ? "must be an array" : "missing (at least one step)");
        std::size_t j = 0;
        for(auto const& stv : st->get_array())
        {
            s.steps.push_back(parse_step(stv, path + ".steps[" + std::to_string(j) + "]", j));
            ++j;
        }
        c.scenarios.push_back(std::move(s));
        ++i;
    }
    validate(c);
    return c;
}

} // namespace

void validate(load_test_config const& c)
{
    if(c.duration <= std::chrono::nanoseconds::zero() && !(c.model == load_model::closed && c.iterations > 0))
        fail("duration_s", "must be > 0 (or, in the closed model, give iterations)");
    if(c.users == 0)
        fail("users", "must be at least 1");
    if(c.think_max < c.think_min)
        fail("think_time_ms.max", "must not be below think_time_ms.min");
    if(c.model == load_model::open && !(c.rate > 0 && std::isfinite(c.rate)))
        fail("rate", "the open model needs a rate > 0 (scenario starts per second)");
    if(c.model == load_model::open && c.max_in_flight == 0)
        fail("max_in_flight", "must be at least 1");
    if(c.slo.error_rate && !(*c.slo.error_rate >= 0 && *c.slo.error_rate <= 1))
        fail("slo.error_rate", "must be in [0, 1]");
    if(c.scenarios.empty())
        fail("scenarios", "at least one scenario");
    std::set<std::string> names;
    for(std::size_t i = 0; i < c.scenarios.size(); ++i)
    {
        auto const& s = c.scenarios[i];
        std::string const path = "scenarios[" + std::to_string(i) + "]";
        if(!names.insert(s.name).second)
            fail(path + ".name", "duplicate scenario name '" + s.name + "'");
        if(!(s.weight > 0) || !std::isfinite(s.weight))
            fail(path + ".weight", "must be a number > 0");
        if(s.steps.empty())
            fail(path + ".steps", "at least one step");
        std::set<std::string> steps;
        bool request = false;
        for(std::size_t j = 0; j < s.steps.size(); ++j)
        {
            if(!steps.insert(s.steps[j].name).second)
                fail(path + ".steps[" + std::to_string(j) + "].name", "duplicate step name '" + s.steps[j].name + "'");
            request = request || s.steps[j].kind != step_kind::wait;
        }
        if(!request)
            fail(path + ".steps", "at least one step that is not a wait");
    }
}

std::optional<load_test_config> parse_config(json::value const& v, std::optional<config_error>& problem)
{
    problem.reset();
    try
    {
        return parse(v);
    }
    catch(config_error const& e)
    {
        problem.emplace(e);
    }
    return std::nullopt;
}

load_test_config parse_config(json::value const& v)
{
    return parse(v);
}

load_test_config load_config_file(std::string const& path)
{
    std::ifstream in(path, std::ios::binary);
    if(!in)
        fail("", "cannot read '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string const text = ss.str();
    boost::system::error_code ec;
    json::stream_parser p;
    std::size_t const used = p.write_some(text.data(), text.size(), ec);
    if(!ec)
        p.finish(ec);
    if(ec)
    {
        std::size_t line = 1, col = 1;
        for(std::size_t i = 0; i < used && i < text.size(); ++i)
        {
            if(text[i] == '\n')
            {
                ++line;
                col = 1;
            }
            else
                ++col;
        }
        fail("", path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": malformed JSON: " + ec.message());
    }
    return parse(p.release());
}

} // namespace spindle::load
