//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/health.hpp>

#include "resident.hpp"
#include "rfc3339.hpp"

#include <spindle/error.hpp>
#include <spindle/event_stream.hpp>
#include <spindle/introspection.hpp>
#include <spindle/log.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace spindle::http {

namespace json = boost::json;
using wall_clock = std::chrono::system_clock;

namespace detail {

struct health_ping
{
    using spindle_untraced = void; // a probe, not a request: no span every check interval
};

// The monitor's own actor: a round trip to it shows that the workers run.
struct health_probe : spindle::actor<health_probe, health_ping>
{
    bool on(health_ping) { return true; }
};

} // namespace detail

namespace {

using named_result = std::pair<std::string, check_result>;
using run_function = std::function<std::vector<named_result>(std::stop_token)>;

// The keys of the built-in checks, which user checks may not take.
constexpr char const* actor_system_keys[] = {
    "actor_system:responsiveness", "actor_system:mailbox_depth", "actor_system:dead_letters",
    "supervisors:restarts"};
constexpr char const* executor_keys[] = {"executor:tasks", "executor:circuit_breakers"};
constexpr char const* system_keys[] = {
    "system:tasks_running", "system:actors_active", "system:streams_active", "system:memory", "system:cpu"};

struct check_state
{
    std::string name;
    check_options opts; // interval and deadline resolved
    run_function fn;

    // guarded by impl::m
    std::vector<std::string> keys; // of the latest results (at first: the expected ones)
    std::vector<check_entry> entries;
    bool ran = false;
    bool running = false;
    bool timed_out = false;
    bool removed = false;
    bool missed = false; ///< a period came while it ran: run again when it returns
    std::uint64_t generation = 0;
    std::shared_ptr<std::stop_source> stop;
    timer_id periodic;
    timer_id deadline;
};

std::string format_duration(std::chrono::nanoseconds d)
{
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if(ms % 1000 == 0)
        return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

bool valid_name(std::string_view n) noexcept
{
    return !n.empty() && n.size() <= 200 &&
           std::none_of(n.begin(), n.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

health_status worst(health_status a, health_status b) noexcept
{
    return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

// Sum of the samples of a family, and the samples themselves.
metrics::metric_family const* find_family(std::vector<metrics::metric_family> const& snap, std::string_view name)
{
    auto it = std::lower_bound(snap.begin(), snap.end(), name,
                               [](metrics::metric_family const& f, std::string_view n) { return f.name < n; });
    return it != snap.end() && it->name == name ? &*it : nullptr;
}

double family_sum(std::vector<metrics::metric_family> const& snap, std::string_view name)
{
    double sum = 0;
    if(auto const* f = find_family(snap, name))
        for(auto const& s : f->samples)
            sum += s.value;
    return sum;
}

std::string label_of(metrics::sample const& s, std::string_view name)
{
    for(auto const& [k, v] : s.labels)
        if(k == name)
            return v;
    return {};
}


std::chrono::microseconds cpu_time() noexcept
{
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto const tv = [](timeval t) { return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec); };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double round2(double v) noexcept
{
    return static_cast<double>(static_cast<long long>(v * 100 + (v < 0 ? -0.5 : 0.5))) / 100;
}

// A count read as a double (a metrics sum) as a JSON integer.
std::uint64_t as_count(double v) noexcept
{
    return v > 0 ? static_cast<std::uint64_t>(v + 0.5) : 0;
}

// 12, 12.5: no trailing zeros, no exponent.
std::string format_number(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    while(!s.empty() && s.back() == '0')
        s.pop_back();
    if(!s.empty() && s.back() == '.')
        s.pop_back();
    return s;
}

std::string level_text(double level)
{
    return format_number(level);
}

/* A result at the levels of `t`: `value` is compared, `observed` reported
   (the value itself unless given: a count stays an integer); `what` says
   what was seen, the output adds the level passed. */
check_result leveled(health_threshold const& t, double value, std::string unit, std::string what,
                     json::value observed = nullptr)
{
    if(observed.is_null())
    {
        // a whole number as a JSON integer (12, not 1.2E1)
        if(std::isfinite(value) && std::abs(value) < 1e15 &&
           value == static_cast<double>(static_cast<std::int64_t>(value)))
            observed = static_cast<std::int64_t>(value);
        else
            observed = value;
    }
    switch(t.status_of(value))
    {
    case health_status::fail:
        return check_result::fail(what + " (fails above " + level_text(t.fail) + ")", std::move(observed), std::move(unit));
    case health_status::warn:
        return check_result::warn(what + " (warns above " + level_text(t.warn) + ")", std::move(observed), std::move(unit));
    default:
        return check_result::pass(std::move(observed), std::move(unit));
    }
}

} // namespace

//----------------------------------------------------------------------------

std::string to_health_json(health_report const& r, health_options const& opts)
{
    json::object doc;
    doc["status"] = to_string(r.status);
    if(!opts.version.empty())
        doc["version"] = opts.version;
    if(!opts.release_id.empty())
        doc["releaseId"] = opts.release_id;
    if(!opts.service_id.empty())
        doc["serviceId"] = opts.service_id;
    if(!opts.description.empty())
        doc["description"] = opts.description;
    std::string summary;
    for(auto const& e : r.checks)
    {
        if(e.result.status == health_status::pass)
            continue;
        if(!summary.empty())
            summary += "; ";
        summary += e.name;
        summary += ": ";
        summary += e.result.output;
    }
    if(!summary.empty())
        doc["output"] = summary;
    json::object checks;
    for(auto const& e : r.checks)
    {
        json::object o;
        if(!e.component_id.empty())
            o["componentId"] = e.component_id;
        if(!e.component_type.empty())
            o["componentType"] = e.component_type;
        if(!e.result.observed_value.is_null())
            o["observedValue"] = e.result.observed_value;
        if(!e.result.observed_unit.empty())
            o["observedUnit"] = e.result.observed_unit;
        o["status"] = to_string(e.result.status);
        if(e.time != wall_clock::time_point{})
            o["time"] = detail::rfc3339(e.time);
        if(!e.result.output.empty())
            o["output"] = e.result.output;
        auto& slot = checks[e.name];
        if(!slot.is_array())
            slot = json::array();
        slot.as_array().push_back(std::move(o));
    }
    doc["checks"] = std::move(checks);
    return json::serialize(doc);
}

//----------------------------------------------------------------------------

struct health_monitor::impl : std::enable_shared_from_this<health_monitor::impl>
{
    spindle::system& sys;
    timer_service& timers;
    health_options opts;
    actor_ref<detail::health_probe> probe;
    wall_clock::time_point started = wall_clock::now();

    mutable std::mutex m;
    std::vector<std::shared_ptr<check_state>> checks; // guarded by m
    std::shared_ptr<std::string const> doc;           // guarded by m
    bool rendered_stopping = false;                   // guarded by m
    bool stopped = false;                             // guarded by m
    std::atomic<health_status> overall{health_status::pass};
    std::atomic<bool> live_now{true};
    std::atomic<bool> complete{false};

    // the threads that run checks: as many as runs in progress at once
    std::mutex pm;
    std::condition_variable pcv;
    std::deque<std::function<void()>> jobs; // guarded by pm
    std::vector<std::thread> threads;       // guarded by pm
    std::size_t idle = 0;                   // guarded by pm
    std::size_t busy = 0;                   // guarded by pm
    bool pool_stop = false;                 // guarded by pm

    impl(spindle::system& s, health_options o) : sys(s), timers(s.timers()), opts(std::move(o))
    {
        if(opts.service_id.empty())
            opts.service_id = sys.options().name;
    }

    //------------------------------------------------------------------------
    // the thread pool

    void submit(std::function<void()> job)
    {
        std::lock_guard lk(pm);
        if(pool_stop)
            return;
        jobs.push_back(std::move(job));
        if(jobs.size() > idle)
            threads.emplace_back([self = shared_from_this()] { self->pool_main(); });
        else
            pcv.notify_one();
    }

    void pool_main()
    {
        std::unique_lock lk(pm);
        for(;;)
        {
            ++idle;
            pcv.wait(lk, [&] { return pool_stop || !jobs.empty(); });
            --idle;
            if(pool_stop)
                return;
            auto job = std::move(jobs.front());
            jobs.pop_front();
            ++busy;
            lk.unlock();
            job(); // never throws: run() catches
            job = nullptr;
            lk.lock();
            --busy;
            pcv.notify_all();
        }
    }

    //------------------------------------------------------------------------
    // scheduling

    void add(std::shared_ptr<check_state> c)
    {
        {
            std::lock_guard lk(m);
            for(auto const& k : c->keys)
            {
                check_entry e;
                e.name = k;
                e.component_type = c->opts.component_type;
                e.component_id = c->opts.component_id;
                e.result = check_result::warn("not run yet");
                c->entries.push_back(std::move(e));
            }
            boost::system::error_code ec;
            c->periodic = timers.start_periodic(c->opts.interval, c->opts.interval,
                [w = weak_from_this(), c] {
                    if(auto self = w.lock())
                        self->trigger(c);
                },
                ec);
            checks.push_back(c);
            render_locked();
        }
        trigger(c);
    }

    void trigger(std::shared_ptr<check_state> const& c)
    {
        std::shared_ptr<std::stop_source> src;
        std::uint64_t gen;
        {
            std::lock_guard lk(m);
            if(stopped || c->removed)
                return;
            if(c->running)
            {
                c->missed = true;
                return;
            }
            c->running = true;
            c->missed = false;
            c->timed_out = false;
            gen = ++c->generation;
            src = c->stop = std::make_shared<std::stop_source>();
            boost::system::error_code ec;
            c->deadline = timers.start(c->opts.deadline,
                [w = weak_from_this(), c, gen] {
                    if(auto self = w.lock())
                        self->on_deadline(c, gen);
                },
                ec);
        }
        submit([self = shared_from_this(), c, gen, token = src->get_token()] { self->run(c, gen, token); });
    }

    void run(std::shared_ptr<check_state> const& c, std::uint64_t gen, std::stop_token token) noexcept
    {
        std::vector<named_result> results;
        try
        {
            results = c->fn(token);
        }
        catch(std::exception const& e)
        {
            results.clear();
            for(auto const& k : c->keys)
                results.emplace_back(k, check_result::fail(std::string("the check threw: ") + e.what()));
        }
        catch(...)
        {
            results.clear();
            for(auto const& k : c->keys)
                results.emplace_back(k, check_result::fail("the check threw"));
        }
        auto const now = wall_clock::now();
        bool again = false;
        try
        {
            std::lock_guard lk(m);
            if(c->generation != gen)
                return;
            c->running = false;
            if(stopped) // the system may be gone: touch nothing of it
                return;
            timers.cancel(c->deadline);
            // a run that outlasted a period is followed by another one at once
            again = c->missed && !c->removed;
            if(!c->timed_out && !c->removed)
                record_locked(*c, std::move(results), now);
        }
        catch(std::exception const& e)
        {
            SPINDLE_LOG(error, "http") << "health check " << c->name << ": cannot record its result: " << e.what();
        }
        if(again)
            trigger(c);
    }

    void record_locked(check_state& c, std::vector<named_result> results, wall_clock::time_point now)
    {
        std::vector<check_entry> entries;
        std::vector<std::string> keys;
        for(auto& [k, r] : results)
        {
            check_entry e;
            e.name = k;
            e.component_type = c.opts.component_type;
            e.component_id = c.opts.component_id;
            e.result = std::move(r);
            e.time = now;
            keys.push_back(k);
            entries.push_back(std::move(e));
        }
        c.entries = std::move(entries);
        c.keys = std::move(keys);
        c.ran = true;
        render_locked();
    }

    void on_deadline(std::shared_ptr<check_state> const& c, std::uint64_t gen)
    {
        std::shared_ptr<std::stop_source> src;
        {
            std::lock_guard lk(m);
            if(c->generation != gen || !c->running || c->timed_out || stopped)
                return;
            c->timed_out = true;
            src = c->stop;
            auto const now = wall_clock::now();
            std::string const why = "did not finish within " + format_duration(c->opts.deadline);
            for(auto& e : c->entries)
            {
                e.result = check_result::fail(why);
                e.time = now;
            }
            c->ran = true;
            render_locked();
        }
        SPINDLE_LOG(warning, "http") << "health check " << c->name << " missed its deadline";
        src->request_stop();
    }

    //------------------------------------------------------------------------
    // the report

    health_report report_locked() const
    {
        health_report r;
        bool const stopping = sys.stopping();
        r.complete = !stopped;
        for(auto const& c : checks)
        {
            r.complete = r.complete && c->ran;
            for(auto const& e : c->entries)
            {
                r.checks.push_back(e);
                auto& back = r.checks.back();
                if(back.name == actor_system_keys[0])
                {
                    if(stopping)
                        back.result = check_result::fail("the actor system is stopping");
                    if(back.result.status == health_status::fail)
                        r.live = false;
                }
                r.status = worst(r.status, back.result.status);
            }
        }
        if(stopping)
        {
            r.live = false;
            r.status = health_status::fail;
        }
        return r;
    }

    void render_locked()
    {
        auto const r = report_locked();
        doc = std::make_shared<std::string const>(to_health_json(r, opts));
        rendered_stopping = sys.stopping();
        overall.store(r.status);
        live_now.store(r.live);
        complete.store(r.complete);
    }

    void refresh_if_stopping() const
    {
        if(!sys.stopping())
            return;
        std::lock_guard lk(m);
        if(!rendered_stopping)
            const_cast<impl*>(this)->render_locked();
    }

    //------------------------------------------------------------------------
    // built-in checks

    // The levels in force: the older single-value options win when set.
    health_thresholds thresholds() const
    {
        auto th = opts.thresholds;
        if(opts.mailbox_depth_warn != 0)
            th.mailbox_depth.warn = static_cast<double>(opts.mailbox_depth_warn);
        if(opts.memory_warn_mib != 0)
            th.memory_mib.warn = static_cast<double>(opts.memory_warn_mib);
        return th;
    }

    void add_builtin(std::string name, char const* const* keys, std::size_t nkeys, std::string type, run_function fn)
    {
        auto c = std::make_shared<check_state>();
        c->name = std::move(name);
        c->opts.interval = opts.check_interval;
        c->opts.deadline = opts.check_deadline;
        c->opts.component_type = std::move(type);
        c->fn = std::move(fn);
        c->keys.assign(keys, keys + nkeys);
        add(std::move(c));
    }

    void start_builtins()
    {
        probe = sys.spawn<detail::health_probe>();

        struct actor_system_state
        {
            std::uint64_t dead_letters = 0;
            std::uint64_t restarts = 0;
            wall_clock::time_point last_run{};
            timer_service::time_point last_at{};
        };
        auto const th = thresholds();
        auto as = std::make_shared<actor_system_state>();
        as->last_at = timers.now();
        as->dead_letters = sys.stats().dead_letters;
        as->restarts = sys.stats().restarts;
        as->last_run = started;
        add_builtin("actor_system", actor_system_keys, std::size(actor_system_keys), "system",
            [this, as, th](std::stop_token) {
                std::vector<named_result> out;
                // responsiveness: a round trip through a worker
                if(sys.stopping())
                    out.emplace_back(actor_system_keys[0], check_result::fail("the actor system is stopping"));
                else
                {
                    auto const t0 = std::chrono::steady_clock::now();
                    boost::system::error_code ec;
                    probe.ask(detail::health_ping{}, opts.check_deadline).get(ec);
                    double const ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                    if(ec)
                        out.emplace_back(actor_system_keys[0],
                                         check_result::fail("the probe actor did not answer: " + ec.message()));
                    else
                        out.emplace_back(actor_system_keys[0],
                            leveled(th.responsiveness_ms, round2(ms), "ms", "round trip to the probe actor " +
                                    format_number(round2(ms)) + " ms"));
                }

                // the tree: deepest mailbox, actors restarting now
                auto const tree = spindle::inspect(sys);
                std::size_t deepest = 0;
                std::string deepest_name;
                std::size_t restarting = 0;
                std::function<void(actor_info const&)> walk = [&](actor_info const& a) {
                    if(a.mailbox_depth > deepest)
                    {
                        deepest = a.mailbox_depth;
                        deepest_name = !a.name.empty() ? a.name : a.actor_type + " " + a.id.to_string();
                    }
                    if(a.state == actor_state::restarting)
                        ++restarting;
                    for(auto const& ch : a.children)
                        walk(ch);
                };
                walk(tree);
                out.emplace_back(actor_system_keys[1],
                    leveled(th.mailbox_depth, static_cast<double>(deepest), "messages",
                            deepest_name + " has " + std::to_string(deepest) + " queued messages",
                            static_cast<std::uint64_t>(deepest)));

                // rates per minute since the previous run, at least an interval
                auto const now = timers.now();
                auto const elapsed = std::max<std::chrono::nanoseconds>(now - as->last_at, opts.check_interval);
                as->last_at = now;
                double const minutes = std::chrono::duration<double, std::ratio<60>>(elapsed).count();
                auto const st = sys.stats();
                auto const dead = st.dead_letters - as->dead_letters;
                as->dead_letters = st.dead_letters;
                double const dead_rate = round2(static_cast<double>(dead) / minutes);
                out.emplace_back(actor_system_keys[2],
                    leveled(th.dead_letters_per_minute, dead_rate, "messages",
                            std::to_string(dead) + " dead letters since the previous check (" +
                                format_number(dead_rate) + " a minute)",
                            dead));

                // supervisors: restarts and escalations since the previous run
                auto const restarts = st.restarts - as->restarts;
                as->restarts = st.restarts;
                double const restart_rate =
                    round2(static_cast<double>(std::max<std::uint64_t>(restarts, restarting != 0 ? 1 : 0)) / minutes);
                std::string escalation;
                for(auto const& e : sys.events().recent())
                {
                    if(e.type == event_type::supervisor_escalated && e.time > as->last_run)
                        escalation = (e.source_name.empty() ? e.actor_type : e.source_name) + " escalated: " + e.detail;
                }
                as->last_run = wall_clock::now();
                if(!escalation.empty())
                    out.emplace_back(actor_system_keys[3], check_result::fail(escalation, restarts, "restarts"));
                else if(restarts != 0 || restarting != 0)
                    out.emplace_back(actor_system_keys[3],
                        leveled(th.restarts_per_minute, restart_rate, "restarts",
                                std::to_string(restarts) + " restarts since the previous check (" +
                                    format_number(restart_rate) + " a minute), " + std::to_string(restarting) +
                                    " actors restarting now",
                                restarts));
                else
                    out.emplace_back(actor_system_keys[3], check_result::pass(0, "restarts"));
                return out;
            });

        struct executor_state
        {
            double rejected = 0;
            double unresponsive = 0;
        };
        auto es = std::make_shared<executor_state>();
        {
            auto const snap = sys.metrics().snapshot();
            es->rejected = family_sum(snap, "spindle_executor_tasks_rejected_total");
            es->unresponsive = family_sum(snap, "spindle_executor_unresponsive_total");
        }
        add_builtin("executor", executor_keys, std::size(executor_keys), "component",
            [this, es](std::stop_token) {
                std::vector<named_result> out;
                auto const snap = sys.metrics().snapshot();
                double const running = family_sum(snap, "spindle_executor_tasks_running");
                double const queued = family_sum(snap, "spindle_executor_tasks_queued");
                double const rejected = family_sum(snap, "spindle_executor_tasks_rejected_total");
                double const unresponsive = family_sum(snap, "spindle_executor_unresponsive_total");
                auto const new_rejected = rejected - es->rejected;
                auto const new_unresponsive = unresponsive - es->unresponsive;
                es->rejected = rejected;
                es->unresponsive = unresponsive;
                if(new_rejected > 0 || new_unresponsive > 0)
                    out.emplace_back(executor_keys[0],
                        check_result::warn(std::to_string(static_cast<long long>(new_rejected)) +
                                               " tasks rejected and " +
                                               std::to_string(static_cast<long long>(new_unresponsive)) +
                                               " unresponsive since the previous check; " +
                                               std::to_string(static_cast<long long>(queued)) + " queued",
                                           as_count(running), "tasks"));
                else
                    out.emplace_back(executor_keys[0], check_result::pass(as_count(running), "tasks"));

                std::string open;
                std::size_t not_closed = 0;
                if(auto const* f = find_family(snap, "spindle_circuit_breaker_state"))
                {
                    for(auto const& s : f->samples)
                    {
                        if(s.value == 0)
                            continue;
                        ++not_closed;
                        if(!open.empty())
                            open += ", ";
                        open += label_of(s, "breaker");
                        open += s.value == 1 ? " open" : " half-open";
                    }
                }
                if(not_closed != 0)
                    out.emplace_back(executor_keys[1],
                                     check_result::warn(open, static_cast<std::uint64_t>(not_closed), "breakers"));
                else
                    out.emplace_back(executor_keys[1], check_result::pass(0, "breakers"));
                return out;
            });

        struct system_state
        {
            std::chrono::microseconds cpu;
            std::chrono::steady_clock::time_point at;
        };
        auto ss = std::make_shared<system_state>(system_state{cpu_time(), std::chrono::steady_clock::now()});
        add_builtin("system", system_keys, std::size(system_keys), "system",
            [this, ss, th](std::stop_token) {
                std::vector<named_result> out;
                auto const snap = sys.metrics().snapshot();
                out.emplace_back(system_keys[0],
                    check_result::pass(as_count(family_sum(snap, "spindle_executor_tasks_running")), "tasks"));
                out.emplace_back(system_keys[1], check_result::pass(static_cast<std::uint64_t>(sys.stats().actors), "actors"));
                out.emplace_back(system_keys[2],
                    check_result::pass(as_count(family_sum(snap, "spindle_streams_active")), "streams"));
                double const mib = round2(detail::resident_mib());
                out.emplace_back(system_keys[3],
                    leveled(th.memory_mib, mib, "MiB", "resident size " + format_number(mib) + " MiB"));
                auto const cpu = cpu_time();
                auto const at = std::chrono::steady_clock::now();
                double const wall = std::chrono::duration<double, std::micro>(at - ss->at).count();
                double const used = static_cast<double>((cpu - ss->cpu).count());
                ss->cpu = cpu;
                ss->at = at;
                double const percent = wall > 0 ? round2(100 * used / wall) : 0.0;
                out.emplace_back(system_keys[4],
                    leveled(th.cpu_percent, percent, "percent", "CPU " + format_number(percent) + "% of one core"));
                return out;
            });
    }

    void stop() noexcept
    {
        std::vector<std::shared_ptr<std::stop_source>> sources;
        {
            std::lock_guard lk(m);
            if(stopped)
                return;
            stopped = true;
            for(auto const& c : checks)
            {
                timers.cancel(c->periodic);
                timers.cancel(c->deadline);
                if(c->running && c->stop)
                    sources.push_back(c->stop);
            }
            try
            {
                render_locked();
            }
            catch(...)
            {
            }
        }
        for(auto const& s : sources)
            s->request_stop();
        if(probe)
            probe.stop();

        std::vector<std::thread> ts;
        bool all_done;
        {
            std::unique_lock lk(pm);
            pool_stop = true;
            jobs.clear();
            pcv.notify_all();
            all_done = pcv.wait_for(lk, opts.check_deadline, [&] { return busy == 0; });
            ts = std::move(threads);
        }
        for(auto& t : ts)
        {
            if(t.get_id() == std::this_thread::get_id())
                t.detach(); // the last reference went away in a check
            else if(all_done)
                t.join();
            else
                t.detach();
        }
        if(!all_done)
            SPINDLE_LOG(warning, "http") << "a health check ignored its stop request; its thread is left behind";
    }
};

//----------------------------------------------------------------------------

health_monitor::health_monitor(spindle::system& sys, health_options opts)
{
    if(opts.check_interval <= std::chrono::nanoseconds::zero() || opts.check_deadline <= std::chrono::nanoseconds::zero())
        spindle::detail::throw_error(error::invalid_argument, "spindle::http::health_options");
    impl_ = std::make_shared<impl>(sys, std::move(opts));
    {
        std::lock_guard lk(impl_->m);
        impl_->render_locked();
    }
    if(impl_->opts.builtin_checks)
    {
        try
        {
            impl_->start_builtins();
        }
        catch(...)
        {
            impl_->stop();
            throw;
        }
    }
}

health_monitor::~health_monitor()
{
    stop();
}

void health_monitor::add_check(std::string name, check_function fn, check_options opts, boost::system::error_code& ec)
{
    ec = make_error_code(error::invalid_argument);
    if(!valid_name(name) || !fn || opts.interval < std::chrono::nanoseconds::zero() ||
       opts.deadline < std::chrono::nanoseconds::zero())
        return;
    for(auto const& k : actor_system_keys)
        if(name == k)
            return;
    for(auto const& k : executor_keys)
        if(name == k)
            return;
    for(auto const& k : system_keys)
        if(name == k)
            return;
    auto c = std::make_shared<check_state>();
    {
        std::lock_guard lk(impl_->m);
        if(impl_->stopped)
        {
            ec = make_error_code(error::system_stopped);
            return;
        }
        for(auto const& other : impl_->checks)
            if(other->name == name)
                return;
    }
    c->name = name;
    c->opts = std::move(opts);
    if(c->opts.interval == std::chrono::nanoseconds::zero())
        c->opts.interval = impl_->opts.check_interval;
    if(c->opts.deadline == std::chrono::nanoseconds::zero())
        c->opts.deadline = impl_->opts.check_deadline;
    c->keys.push_back(name);
    c->fn = [fn = std::move(fn), name](std::stop_token st) {
        std::vector<named_result> out;
        out.emplace_back(name, fn(st));
        return out;
    };
    ec = {};
    impl_->add(std::move(c));
}

void health_monitor::add_check(std::string name, check_function fn, check_options opts)
{
    boost::system::error_code ec;
    std::string const what = "spindle::http::health_monitor::add_check: " + name;
    add_check(std::move(name), std::move(fn), std::move(opts), ec);
    if(ec)
        spindle::detail::throw_error(ec, what.c_str());
}

bool health_monitor::remove_check(std::string_view name)
{
    std::shared_ptr<std::stop_source> src;
    {
        std::lock_guard lk(impl_->m);
        auto& cs = impl_->checks;
        auto it = std::find_if(cs.begin(), cs.end(), [&](auto const& c) { return c->name == name; });
        if(it == cs.end())
            return false;
        auto c = *it;
        c->removed = true;
        impl_->timers.cancel(c->periodic);
        impl_->timers.cancel(c->deadline);
        if(c->running)
            src = c->stop;
        cs.erase(it);
        impl_->render_locked();
    }
    if(src)
        src->request_stop();
    return true;
}

health_report health_monitor::report() const
{
    std::lock_guard lk(impl_->m);
    return impl_->report_locked();
}

std::shared_ptr<std::string const> health_monitor::document() const
{
    impl_->refresh_if_stopping();
    std::lock_guard lk(impl_->m);
    return impl_->doc;
}

health_status health_monitor::status() const noexcept
{
    try
    {
        impl_->refresh_if_stopping();
    }
    catch(...)
    {
    }
    return impl_->overall.load();
}

bool health_monitor::live() const noexcept
{
    return impl_->live_now.load() && !impl_->sys.stopping();
}

bool health_monitor::ready() const noexcept
{
    std::lock_guard lk(impl_->m);
    return !impl_->stopped && impl_->complete.load() && impl_->overall.load() != health_status::fail &&
           !impl_->sys.stopping();
}

void health_monitor::stop() noexcept
{
    if(impl_)
        impl_->stop();
}

namespace detail {

double resident_mib() noexcept
{
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if(!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int const n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    if(n != 2)
        return 0;
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

} // namespace detail

} // namespace spindle::http
