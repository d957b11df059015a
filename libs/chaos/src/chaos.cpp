//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/chaos.hpp>

#include <spindle/actor.hpp>
#include <spindle/detail/chaos_hooks.hpp>
#include <spindle/detail/envelope.hpp>
#include <spindle/detail/type_name.hpp>
#include <spindle/error.hpp>
#include <spindle/timer.hpp>

#include <boost/fiber/operations.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <cmath>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace spindle::chaos {

namespace json = boost::json;

std::string_view to_string(site s) noexcept
{
    switch(s)
    {
    case site::handler: return "handler";
    case site::tool: return "tool";
    case site::task: return "task";
    case site::stream: return "stream";
    case site::remote_send: return "remote_send";
    }
    return "?";
}

namespace {

// A rule with its counters; a new rule set is a new object (old ones stay
// alive with the calls that still use them).
struct live_rule
{
    rule r;
    std::atomic<std::uint64_t> draws{0};
    std::atomic<std::uint64_t> matched{0}, delayed{0}, errors{0}, crashes{0}, drops{0}, duplicates{0},
        mailbox_delays{0};
};

struct rule_set
{
    std::uint64_t seed = 1;
    std::vector<std::unique_ptr<live_rule>> rules;
};

bool glob(std::string_view p, std::string_view s) noexcept
{
    std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
    while(si < s.size())
    {
        if(pi < p.size() && (p[pi] == '?' || p[pi] == s[si]))
        {
            ++pi;
            ++si;
        }
        else if(pi < p.size() && p[pi] == '*')
        {
            star = pi++;
            mark = si;
        }
        else if(star != std::string_view::npos)
        {
            pi = star + 1;
            si = ++mark;
        }
        else
            return false;
    }
    while(pi < p.size() && p[pi] == '*')
        ++pi;
    return pi == p.size();
}

std::uint64_t mix(std::uint64_t z) noexcept
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// A uniform number in [0, 1) for draw n of a rule, for one kind of fault.
double uniform(std::uint64_t seed, std::size_t rule, std::uint64_t n, unsigned kind) noexcept
{
    std::uint64_t const z = mix(mix(mix(seed) ^ (rule * 0x100000001b3ull + kind)) ^ n);
    return static_cast<double>(z >> 11) * 0x1.0p-53;
}

std::chrono::nanoseconds ms(double v)
{
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(v * 1e6)));
}

struct named_error
{
    char const* name;
    boost::system::error_code code;
};

std::vector<named_error> const& named_errors()
{
    static std::vector<named_error> const list{
        {"timed_out", std::make_error_code(std::errc::timed_out)},
        {"connection_refused", std::make_error_code(std::errc::connection_refused)},
        {"io_error", std::make_error_code(std::errc::io_error)},
        {"unavailable", std::make_error_code(std::errc::resource_unavailable_try_again)},
        {"handler_failed", make_error_code(spindle::error::handler_failed)},
    };
    return list;
}

} // namespace

struct controller::state
{
    std::atomic<bool> enabled{false};
    std::atomic<timer_service*> timers{nullptr};
    mutable std::mutex mutex; // guards `rules` (the pointer), never held across a wait
    std::shared_ptr<rule_set> rules = std::make_shared<rule_set>();

    std::shared_ptr<rule_set> current() const
    {
        std::lock_guard lk(mutex);
        return rules;
    }
};

controller::controller(std::uint64_t seed) : state_(std::make_shared<state>())
{
    state_->rules->seed = seed;
}

controller::~controller()
{
    uninstall(*this);
}

static void check(rule const& r, std::size_t i)
{
    std::string const at = "rules[" + std::to_string(i) + "].";
    auto prob = [&](double p, char const* field) {
        if(!(p >= 0 && p <= 1))
            throw std::invalid_argument(at + field + ": a probability must be in [0, 1]");
    };
    prob(r.latency.probability, "latency.probability");
    prob(r.error_probability, "error.probability");
    prob(r.crash_probability, "crash");
    prob(r.drop_probability, "drop");
    prob(r.duplicate_probability, "duplicate");
    prob(r.mailbox_delay_probability, "mailbox_delay.probability");
    if(r.latency.value.count() < 0 || r.latency.max.count() < 0 || r.mailbox_delay.count() < 0)
        throw std::invalid_argument(at + "latency: durations must not be negative");
    if(r.latency.dist == distribution::uniform && r.latency.max < r.latency.value)
        throw std::invalid_argument(at + "latency.max_ms: must not be below latency.ms");
    if(r.sites == 0 || (r.sites & ~all_sites) != 0)
        throw std::invalid_argument(at + "sites: no known site");
}

void controller::set_rules(std::vector<rule> rules)
{
    auto fresh = std::make_shared<rule_set>();
    for(std::size_t i = 0; i < rules.size(); ++i)
    {
        check(rules[i], i);
        auto lr = std::make_unique<live_rule>();
        lr->r = std::move(rules[i]);
        if(lr->r.name.empty())
            lr->r.name = "rule#" + std::to_string(i + 1);
        fresh->rules.push_back(std::move(lr));
    }
    std::lock_guard lk(state_->mutex);
    fresh->seed = state_->rules->seed;
    state_->rules = std::move(fresh);
}

std::vector<rule> controller::rules() const
{
    std::vector<rule> out;
    for(auto const& r : state_->current()->rules)
        out.push_back(r->r);
    return out;
}

void controller::enable(bool on) noexcept
{
    state_->enabled.store(on, std::memory_order_release);
}

bool controller::enabled() const noexcept
{
    return state_->enabled.load(std::memory_order_acquire);
}

std::uint64_t controller::seed() const noexcept
{
    return state_->current()->seed;
}

void controller::reseed(std::uint64_t seed)
{
    set_rules(rules());
    std::lock_guard lk(state_->mutex);
    state_->rules->seed = seed;
}

void controller::set_timers(timer_service* t) noexcept
{
    state_->timers.store(t, std::memory_order_release);
}

decision controller::decide(site s, std::string_view name) noexcept
{
    decision d;
    if(!enabled())
        return d;
    std::shared_ptr<rule_set> set;
    try
    {
        set = state_->current();
    }
    catch(...)
    {
        return d;
    }
    for(std::size_t i = 0; i < set->rules.size(); ++i)
    {
        live_rule& lr = *set->rules[i];
        rule const& r = lr.r;
        if((r.sites & static_cast<unsigned>(s)) == 0 || !glob(r.pattern, name))
            continue;
        std::uint64_t const n = lr.draws.fetch_add(1, std::memory_order_relaxed);
        lr.matched.fetch_add(1, std::memory_order_relaxed);
        auto draw = [&](unsigned kind) { return uniform(set->seed, i, n, kind); };
        if(r.latency.probability > 0 && draw(1) < r.latency.probability)
        {
            std::chrono::nanoseconds v = r.latency.value;
            double const u = draw(7);
            if(r.latency.dist == distribution::uniform)
                v += std::chrono::nanoseconds(
                    static_cast<std::int64_t>(u * static_cast<double>((r.latency.max - r.latency.value).count())));
            else if(r.latency.dist == distribution::exponential)
                v = std::chrono::nanoseconds(
                    static_cast<std::int64_t>(-std::log1p(-u) * static_cast<double>(r.latency.value.count())));
            d.delay += v;
            lr.delayed.fetch_add(1, std::memory_order_relaxed);
        }
        if(s == site::handler && r.mailbox_delay_probability > 0 && draw(6) < r.mailbox_delay_probability)
        {
            d.delay += r.mailbox_delay;
            lr.mailbox_delays.fetch_add(1, std::memory_order_relaxed);
        }
        if(r.error_probability > 0 && draw(2) < r.error_probability)
        {
            d.error = true;
            d.code = r.error;
            lr.errors.fetch_add(1, std::memory_order_relaxed);
        }
        else if(r.crash_probability > 0 && draw(3) < r.crash_probability)
        {
            d.crash = true;
            lr.crashes.fetch_add(1, std::memory_order_relaxed);
        }
        if(s == site::remote_send)
        {
            if(r.drop_probability > 0 && draw(4) < r.drop_probability)
            {
                d.drop = true;
                lr.drops.fetch_add(1, std::memory_order_relaxed);
            }
            else if(r.duplicate_probability > 0 && draw(5) < r.duplicate_probability)
            {
                d.duplicate = true;
                lr.duplicates.fetch_add(1, std::memory_order_relaxed);
            }
        }
        break; // the first matching rule decides
    }
    return d;
}

decision controller::apply(site s, std::string_view name, std::stop_token st)
{
    decision const d = decide(s, name);
    if(d.delay.count() > 0)
    {
        if(timer_service* t = state_->timers.load(std::memory_order_acquire))
            t->sleep_for(d.delay, std::move(st));
        else
            boost::this_fiber::sleep_for(d.delay);
    }
    if(d.error)
        throw injected_error(d.code, std::string(to_string(s)) + " " + std::string(name));
    if(d.crash)
        throw injected_crash(std::string(to_string(s)) + " " + std::string(name));
    return d;
}

std::vector<rule_stats> controller::stats() const
{
    std::vector<rule_stats> out;
    for(auto const& p : state_->current()->rules)
    {
        auto const& r = *p;
        out.push_back({r.r.name, r.matched.load(), r.delayed.load(), r.errors.load(), r.crashes.load(),
            r.drops.load(), r.duplicates.load(), r.mailbox_delays.load()});
    }
    return out;
}

namespace {

json::value rule_json(rule const& r)
{
    json::object o;
    o["name"] = r.name;
    o["pattern"] = r.pattern;
    json::array sites;
    for(site s : {site::handler, site::tool, site::task, site::stream, site::remote_send})
        if(r.sites & static_cast<unsigned>(s))
            sites.emplace_back(to_string(s));
    o["sites"] = std::move(sites);
    char const* dist = r.latency.dist == distribution::fixed ? "fixed"
                     : r.latency.dist == distribution::uniform ? "uniform" : "exponential";
    o["latency"] = json::object{{"probability", r.latency.probability}, {"distribution", dist},
        {"ms", static_cast<double>(r.latency.value.count()) / 1e6},
        {"max_ms", static_cast<double>(r.latency.max.count()) / 1e6}};
    std::string code = r.error.message();
    for(auto const& ne : named_errors())
        if(ne.code == r.error)
            code = ne.name;
    o["error"] = json::object{{"probability", r.error_probability}, {"code", code}};
    o["crash"] = r.crash_probability;
    o["drop"] = r.drop_probability;
    o["duplicate"] = r.duplicate_probability;
    o["mailbox_delay"] = json::object{{"probability", r.mailbox_delay_probability},
        {"ms", static_cast<double>(r.mailbox_delay.count()) / 1e6}};
    return o;
}

[[noreturn]] void bad(std::string const& field, std::string const& what)
{
    throw std::invalid_argument(field + ": " + what);
}

double num(json::value const& v, std::string const& field)
{
    if(v.is_double())
        return v.get_double();
    if(v.is_int64())
        return static_cast<double>(v.get_int64());
    if(v.is_uint64())
        return static_cast<double>(v.get_uint64());
    bad(field, "must be a number");
}

rule rule_from(json::value const& v, std::string const& at)
{
    if(!v.is_object())
        bad(at, "a rule must be an object");
    rule r;
    for(auto const& kv : v.get_object())
    {
        std::string const k = kv.key();
        std::string const f = at + "." + k;
        json::value const& x = kv.value();
        if(k == "name" || k == "pattern")
        {
            if(!x.is_string())
                bad(f, "must be a string");
            (k == "name" ? r.name : r.pattern) = std::string(x.get_string());
        }
        else if(k == "sites")
        {
            if(!x.is_array())
                bad(f, "must be an array of site names");
            r.sites = 0;
            for(auto const& s : x.get_array())
            {
                bool found = false;
                for(site c : {site::handler, site::tool, site::task, site::stream, site::remote_send})
                    if(s.is_string() && s.get_string() == to_string(c))
                    {
                        r.sites |= static_cast<unsigned>(c);
                        found = true;
                    }
                if(!found)
                    bad(f, "unknown site (handler, tool, task, stream, remote_send)");
            }
        }
        else if(k == "latency")
        {
            if(!x.is_object())
                bad(f, "must be an object");
            for(auto const& lk : x.get_object())
            {
                std::string const lf = f + "." + std::string(lk.key());
                if(lk.key() == "probability")
                    r.latency.probability = num(lk.value(), lf);
                else if(lk.key() == "ms")
                    r.latency.value = ms(num(lk.value(), lf));
                else if(lk.key() == "max_ms")
                    r.latency.max = ms(num(lk.value(), lf));
                else if(lk.key() == "distribution")
                {
                    auto const& d = lk.value();
                    if(d == "fixed")
                        r.latency.dist = distribution::fixed;
                    else if(d == "uniform")
                        r.latency.dist = distribution::uniform;
                    else if(d == "exponential")
                        r.latency.dist = distribution::exponential;
                    else
                        bad(lf, "must be fixed, uniform or exponential");
                }
                else
                    bad(lf, "unknown member");
            }
            if(!x.get_object().contains("probability"))
                r.latency.probability = 1;
        }
        else if(k == "error")
        {
            if(!x.is_object())
                bad(f, "must be an object");
            r.error_probability = 1;
            for(auto const& ek : x.get_object())
            {
                std::string const ef = f + "." + std::string(ek.key());
                if(ek.key() == "probability")
                    r.error_probability = num(ek.value(), ef);
                else if(ek.key() == "code")
                {
                    bool found = false;
                    for(auto const& ne : named_errors())
                        if(ek.value().is_string() && ek.value().get_string() == ne.name)
                        {
                            r.error = ne.code;
                            found = true;
                        }
                    if(!found)
                        bad(ef, "unknown error (timed_out, connection_refused, io_error, unavailable, handler_failed)");
                }
                else
                    bad(ef, "unknown member");
            }
        }
        else if(k == "crash")
            r.crash_probability = num(x, f);
        else if(k == "drop")
            r.drop_probability = num(x, f);
        else if(k == "duplicate")
            r.duplicate_probability = num(x, f);
        else if(k == "mailbox_delay")
        {
            if(!x.is_object())
                bad(f, "must be an object");
            r.mailbox_delay_probability = 1;
            for(auto const& mk : x.get_object())
            {
                std::string const mf = f + "." + std::string(mk.key());
                if(mk.key() == "probability")
                    r.mailbox_delay_probability = num(mk.value(), mf);
                else if(mk.key() == "ms")
                    r.mailbox_delay = ms(num(mk.value(), mf));
                else
                    bad(mf, "unknown member");
            }
        }
        else
            bad(f, "unknown member");
    }
    return r;
}

} // namespace

json::value controller::to_json() const
{
    auto set = state_->current();
    json::object o;
    o["enabled"] = enabled();
    o["seed"] = set->seed;
    json::array rules, stats;
    for(auto const& r : set->rules)
        rules.push_back(rule_json(r->r));
    for(auto const& s : this->stats())
        stats.push_back(json::object{{"name", s.name}, {"matched", s.matched}, {"delayed", s.delayed},
            {"errors", s.errors}, {"crashes", s.crashes}, {"drops", s.drops}, {"duplicates", s.duplicates},
            {"mailbox_delays", s.mailbox_delays}});
    o["rules"] = std::move(rules);
    o["stats"] = std::move(stats);
    return o;
}

bool controller::update(json::value const& v, std::string& problem)
{
    problem.clear();
    try
    {
        if(!v.is_object())
            bad("", "must be a JSON object");
        std::optional<bool> on;
        std::optional<std::uint64_t> seed;
        std::optional<std::vector<rule>> rules;
        for(auto const& kv : v.get_object())
        {
            if(kv.key() == "enabled")
            {
                if(!kv.value().is_bool())
                    bad("enabled", "must be true or false");
                on = kv.value().get_bool();
            }
            else if(kv.key() == "seed")
            {
                double const s = num(kv.value(), "seed");
                if(!(s >= 0) || s != std::floor(s))
                    bad("seed", "must be a whole number >= 0");
                seed = static_cast<std::uint64_t>(s);
            }
            else if(kv.key() == "rules")
            {
                if(!kv.value().is_array())
                    bad("rules", "must be an array");
                rules.emplace();
                std::size_t i = 0;
                for(auto const& r : kv.value().get_array())
                {
                    rules->push_back(rule_from(r, "rules[" + std::to_string(i) + "]"));
                    check(rules->back(), i);
                    ++i;
                }
            }
            else
                bad(std::string(kv.key()), "unknown member (enabled, seed, rules)");
        }
        if(rules)
            set_rules(std::move(*rules));
        if(seed)
            reseed(*seed);
        if(on)
            enable(*on);
        return true;
    }
    catch(std::exception const& e)
    {
        problem = e.what();
        return false;
    }
}

// ---- the handler hook ---------------------------------------------------

namespace {

std::atomic<controller*> installed{nullptr};

std::string const& actor_name(std::type_info const* t)
{
    thread_local std::unordered_map<std::type_info const*, std::string> names;
    auto it = names.find(t);
    if(it == names.end())
        it = names.emplace(t, t ? spindle::detail::readable_type_name(*t) : std::string("?")).first;
    return it->second;
}

void before_handler(actor_base& self, spindle::detail::envelope_vtable const& vt)
{
    controller* c = installed.load(std::memory_order_acquire);
    if(!c)
        return;
    std::string const& name = actor_name(vt.actor);
    decision const d = c->decide(site::handler, name);
    if(d.delay.count() > 0)
        self.sleep_for(d.delay);
    if(d.error)
        throw injected_error(d.code, "handler of " + name);
    if(d.crash)
        throw injected_crash("handler of " + name);
}

int remote_send(char const* subject) noexcept
{
    controller* c = installed.load(std::memory_order_acquire);
    if(!c)
        return 1;
    decision const d = c->decide(site::remote_send, subject);
    return d.drop ? 0 : d.duplicate ? 2 : 1;
}

constinit spindle::detail::chaos_hooks const hooks{&before_handler, &remote_send};

} // namespace

void install(controller& c) noexcept
{
    installed.store(&c, std::memory_order_release);
    spindle::detail::chaos_hooks_table.store(&hooks, std::memory_order_release);
}

void uninstall(controller& c) noexcept
{
    controller* expected = &c;
    if(installed.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel))
        spindle::detail::chaos_hooks_table.store(nullptr, std::memory_order_release);
}

} // namespace spindle::chaos
