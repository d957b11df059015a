//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/history.hpp>

#include "resident.hpp"

#include <spindle/error.hpp>
#include <spindle/introspection.hpp>
#include <spindle/system.hpp>

#include <boost/json/array.hpp>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace spindle::http {

namespace json = boost::json;

struct system_history::impl
{
    spindle::system& sys;
    history_options opts;

    mutable std::mutex m; // the samples and the previous totals; never held across a wait
    std::deque<history_sample> kept;
    bool have_previous = false;
    system_stats previous;
    std::chrono::steady_clock::time_point previous_at;

    std::mutex stop_m;
    std::condition_variable stop_cv;
    bool stopping = false;
    std::thread sampler;

    impl(spindle::system& s, history_options o) : sys(s), opts(o) {}

    std::uint64_t deepest_mailbox() const
    {
        std::uint64_t deepest = 0;
        std::function<void(actor_info const&)> walk = [&](actor_info const& a) {
            deepest = std::max<std::uint64_t>(deepest, a.mailbox_depth);
            for(auto const& c : a.children)
                walk(c);
        };
        walk(spindle::inspect(sys));
        return deepest;
    }

    void sample()
    {
        // read outside the lock: the tree walk is the slow part
        auto const st = sys.stats();
        auto const at = std::chrono::steady_clock::now();
        history_sample s;
        s.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch()).count();
        s.actors = st.actors;
        s.mailbox_depth_max = deepest_mailbox();
        s.memory_mib = detail::resident_mib();
        std::lock_guard lk(m);
        if(have_previous)
        {
            double const dt = std::chrono::duration<double>(at - previous_at).count();
            auto per_s = [dt](std::uint64_t now, std::uint64_t before) {
                return dt > 0 && now >= before ? static_cast<double>(now - before) / dt : 0.0;
            };
            s.messages_per_s = per_s(st.messages, previous.messages);
            s.dead_letters_per_s = per_s(st.dead_letters, previous.dead_letters);
            s.restarts_per_s = per_s(st.restarts, previous.restarts);
        }
        previous = st;
        previous_at = at;
        have_previous = true;
        kept.push_back(s);
        while(kept.size() > opts.samples)
            kept.pop_front();
    }

    void run() noexcept
    {
        auto next = std::chrono::steady_clock::now();
        for(;;)
        {
            try
            {
                if(!sys.stopping())
                    sample();
            }
            catch(...)
            {
                // out of memory, or the system went away under the walk:
                // this sample is missing (a gap in time_ms), the next is tried
            }
            next += opts.interval;
            auto const now = std::chrono::steady_clock::now();
            if(next < now)
                next = now; // came late: no burst of catch-up samples
            std::unique_lock lk(stop_m);
            if(stop_cv.wait_until(lk, next, [this] { return stopping; }))
                return;
        }
    }

    void stop() noexcept
    {
        {
            std::lock_guard lk(stop_m);
            stopping = true;
        }
        stop_cv.notify_all();
        if(sampler.joinable() && sampler.get_id() != std::this_thread::get_id())
            sampler.join();
    }
};

system_history::system_history(spindle::system& sys, history_options opts)
{
    if(opts.interval < std::chrono::milliseconds(10))
        spindle::detail::throw_error(error::invalid_argument, "spindle::http::history_options::interval (at least 10 ms)");
    if(opts.samples < 2)
        spindle::detail::throw_error(error::invalid_argument, "spindle::http::history_options::samples (at least 2)");
    impl_ = std::make_unique<impl>(sys, opts);
    impl_->sampler = std::thread([p = impl_.get()] { p->run(); });
}

system_history::~system_history()
{
    stop();
}

void system_history::sample()
{
    impl_->sample();
}

std::vector<history_sample> system_history::samples() const
{
    std::lock_guard lk(impl_->m);
    return {impl_->kept.begin(), impl_->kept.end()};
}

json::object system_history::to_json() const
{
    auto const s = samples();
    // one decimal is plenty for a sparkline, and keeps the document short
    auto r1 = [](double v) { return std::round(v * 10) / 10; };
    json::array time, rate, actors, dead, restarts, depth, memory;
    for(json::array* a : {&time, &rate, &actors, &dead, &restarts, &depth, &memory})
        a->reserve(s.size());
    for(auto const& x : s)
    {
        time.emplace_back(x.time_ms);
        rate.emplace_back(r1(x.messages_per_s));
        actors.emplace_back(x.actors);
        dead.emplace_back(r1(x.dead_letters_per_s));
        restarts.emplace_back(r1(x.restarts_per_s));
        depth.emplace_back(x.mailbox_depth_max);
        memory.emplace_back(r1(x.memory_mib));
    }
    json::object o;
    o["interval_ms"] = impl_->opts.interval.count();
    o["time_ms"] = std::move(time);
    o["messages_per_s"] = std::move(rate);
    o["actors"] = std::move(actors);
    o["dead_letters_per_s"] = std::move(dead);
    o["restarts_per_s"] = std::move(restarts);
    o["mailbox_depth_max"] = std::move(depth);
    o["memory_mib"] = std::move(memory);
    return o;
}

void system_history::stop() noexcept
{
    impl_->stop();
}

} // namespace spindle::http
