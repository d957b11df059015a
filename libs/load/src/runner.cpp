//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/load/runner.hpp>

#include <spindle/detail/trace_hooks.hpp>

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>

#include <atomic>
#include <cmath>
#include <deque>
#include <exception>
#include <stdexcept>
#include <thread>

namespace spindle::load {

using namespace std::chrono_literals;
using time_point = timer_service::time_point;

void request_stats::merge(request_stats const& other)
{
    count += other.count;
    successes += other.successes;
    failures += other.failures;
    for(auto const& [k, n] : other.errors)
        errors[k] += n;
    response.merge(other.response);
    service.merge(other.service);
}

double load_results::rps() const noexcept
{
    double const s = std::chrono::duration<double>(elapsed).count();
    return s > 0 ? static_cast<double>(total.count) / s : 0.0;
}

double load_results::error_rate() const noexcept
{
    return total.count ? static_cast<double>(total.failures) / static_cast<double>(total.count) : 0.0;
}

class runner_impl
{
public:
    load_test_config cfg;
    runner_options opts;
    std::unique_ptr<timer_service> own_timers;
    timer_service* timers = nullptr;
    std::thread thread;
    std::stop_source run_stop;   // the duration ended or stop() was called: no new scenario
    std::stop_source abort;      // stop() was called: nothing more starts
    std::stop_source tick_stop;  // every user is done: the controller may go
    std::atomic<bool> started{false};
    std::atomic<bool> running{false};
    std::atomic<bool> stopped_early{false};
    std::atomic<int> awake{0};
    std::atomic<int> sleeping{0};
    std::atomic<int> idle_workers{0};
    std::atomic<std::size_t> queued{0};
    std::exception_ptr failure;
    load_results results;

    // Everything below belongs to the runner's thread.
    std::vector<std::vector<request_stats>> steps; // [scenario][step]
    std::vector<std::uint64_t> runs;
    std::vector<double> cumulative; // weights, for picking
    time_point t0{};
    std::uint32_t active = 0;
    std::uint64_t count = 0, failures = 0;
    histogram interval{5};
    second_sample current{};
    std::vector<second_sample> series;
    std::size_t users_left = 0;

    runner_impl(load_test_config c, runner_options o) : cfg(std::move(c)), opts(std::move(o))
    {
        validate(cfg);
        for(std::size_t i = 0; i < cfg.scenarios.size(); ++i)
            for(std::size_t j = 0; j < cfg.scenarios[i].steps.size(); ++j)
            {
                step_kind const k = cfg.scenarios[i].steps[j].kind;
                if(k != step_kind::wait && !opts.handlers[static_cast<std::size_t>(k)])
                    throw config_error("scenarios[" + std::to_string(i) + "].steps[" + std::to_string(j) + "].kind",
                        "no handler is bound for '" + std::string(to_string(k)) + "' steps");
            }
        double sum = 0;
        for(auto const& s : cfg.scenarios)
            cumulative.push_back(sum += s.weight);
        steps.resize(cfg.scenarios.size());
        for(std::size_t i = 0; i < cfg.scenarios.size(); ++i)
            steps[i].resize(cfg.scenarios[i].steps.size());
        runs.assign(cfg.scenarios.size(), 0);
        if(opts.timers)
            timers = opts.timers;
        else
        {
            own_timers = std::make_unique<timer_service>();
            timers = own_timers.get();
        }
    }

    time_point now() const noexcept { return timers->now(); }

    bool sleep_until(time_point tp, std::stop_token st)
    {
        sleeping.fetch_add(1);
        awake.fetch_sub(1);
        bool r = false;
        try
        {
            r = timers->sleep_until(tp, std::move(st));
        }
        catch(...)
        {
            // out of memory for the sleep's state: treat as stopped
        }
        awake.fetch_add(1);
        sleeping.fetch_sub(1);
        return r;
    }

    std::size_t pick(std::mt19937_64& rng) const
    {
        double const x = std::uniform_real_distribution<double>(0, cumulative.back())(rng);
        for(std::size_t i = 0; i < cumulative.size(); ++i)
            if(x < cumulative[i])
                return i;
        return cumulative.size() - 1;
    }

    std::uint64_t seed_for(std::uint64_t stream) const noexcept
    {
        // splitmix64: distinct, well-mixed seeds for users from one config seed
        std::uint64_t z = cfg.seed + 0x9e3779b97f4a7c15ull * (stream + 1);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

    void finalize_second()
    {
        current.active = active;
        if(interval.count())
        {
            current.mean_ms = interval.mean() / 1e6;
            current.p50_ms = static_cast<double>(interval.percentile(50)) / 1e6;
            current.p99_ms = static_cast<double>(interval.percentile(99)) / 1e6;
            current.max_ms = static_cast<double>(interval.max()) / 1e6;
        }
        series.push_back(current);
        interval.reset();
        current = second_sample{};
        current.second = series.back().second + 1;
    }

    time_point next_second{}; // where `current` ends

    void advance_series(time_point t)
    {
        if(t < next_second) [[likely]]
            return;
        std::int64_t const sec = std::chrono::duration_cast<std::chrono::seconds>(t - t0).count();
        while(current.second < sec)
            finalize_second();
        next_second = t0 + std::chrono::seconds(current.second + 1);
    }

    void record(std::size_t s, std::size_t j, time_point intended, time_point start, time_point end,
        std::string const& kind)
    {
        request_stats& st = steps[s][j];
        std::int64_t const resp = (end - intended).count();
        ++st.count;
        ++count;
        if(kind.empty())
            ++st.successes;
        else
        {
            ++st.failures;
            ++failures;
            ++st.errors[kind];
        }
        st.response.record(resp);
        st.service.record((end - start).count());
        advance_series(end);
        interval.record(resp);
        ++current.count;
        if(!kind.empty())
            ++current.failures;
    }

    /** The span of one request when a tracing component is installed
        (spindle::trace; through core's hook table, one relaxed load
        otherwise): kind client, named `load <scenario>/<step>`, a root (a
        request of a load test starts its own trace), current while the
        step's handler runs so that what it tells, asks or calls carries
        it; an error status with the error's kind when the request failed.
    */
    class request_span
    {
        spindle::detail::trace_hooks const* h_ = nullptr;
        void* span_ = nullptr;
        void* token_ = nullptr;

    public:
        request_span(runner_impl const& r, std::size_t s, step const& st, step_context const& ctx) noexcept
        {
            auto const* h = spindle::detail::trace_hooks_table.load(std::memory_order_acquire);
            if(!h) [[likely]]
                return;
            try
            {
                std::string const& scenario = r.cfg.scenarios[s].name;
                std::string name;
                name.reserve(6 + scenario.size() + st.name.size());
                name += "load ";
                name += scenario;
                name += '/';
                name += st.name;
                span_ = h->start(name, 3 /* client */, {}, {});
            }
            catch(...)
            {
                return; // out of memory for the name: the request runs untraced
            }
            if(!span_)
                return;
            h_ = h;
            h->set_string(span_, "load.test", r.cfg.name);
            h->set_string(span_, "load.scenario", r.cfg.scenarios[s].name);
            h->set_string(span_, "load.step", st.name);
            h->set_string(span_, "load.step.kind", to_string(st.kind));
            h->set_int(span_, "load.user", static_cast<long long>(ctx.user));
            h->set_int(span_, "load.iteration", static_cast<long long>(ctx.iteration));
            token_ = h->activate(span_);
        }

        request_span(request_span const&) = delete;
        request_span& operator=(request_span const&) = delete;

        /// Ends the span: `error` is the request's error kind, empty on success.
        void end(std::string const& error) noexcept
        {
            if(!h_)
                return;
            h_->leave(token_);
            if(!error.empty())
                h_->set_string(span_, "error.type", error);
            h_->finish(span_, !error.empty(), error);
            h_ = nullptr;
        }

        ~request_span() { end({}); }
    };

    std::string invoke(std::size_t s, step const& st, step_context& ctx)
    {
        request_span span(*this, s, st, ctx);
        std::string kind = invoke_handler(st, ctx);
        span.end(kind);
        return kind;
    }

    std::string invoke_handler(step const& st, step_context& ctx)
    {
        try
        {
            boost::system::error_code const ec = opts.handlers[static_cast<std::size_t>(st.kind)](st, ctx);
            if(!ec)
                return {};
            return std::string(ec.category().name()) + ": " + ec.message();
        }
        catch(std::exception const& e)
        {
            return std::string("exception: ") + e.what();
        }
        catch(...)
        {
            return "exception: unknown";
        }
    }

    // Other fibers get their turn now and then: a yield per request would
    // cost as much as the rest of the runner's bookkeeping together.
    static void maybe_yield(std::uint64_t& since_yield)
    {
        if(++since_yield >= 32)
        {
            since_yield = 0;
            boost::this_fiber::yield();
        }
    }

    void think(std::mt19937_64& rng, std::uint64_t& since_yield)
    {
        std::chrono::nanoseconds d = cfg.think_min;
        if(cfg.think_max > cfg.think_min)
            d = std::chrono::nanoseconds(std::uniform_int_distribution<std::int64_t>(
                cfg.think_min.count(), cfg.think_max.count())(rng));
        if(d > 0ns)
        {
            sleep_until(now() + d, run_stop.get_token());
            since_yield = 0;
        }
        else
            maybe_yield(since_yield);
    }

    // Runs scenario `s`; the first request counts from `intended`.
    void run_scenario(std::size_t s, step_context& ctx, std::uint64_t& since_yield, time_point intended, bool closed)
    {
        std::mt19937_64& rng = ctx.rng;
        ++runs[s];
        auto const& sc = cfg.scenarios[s];
        bool first = true;
        // The closed model's users leave at the end between two steps; the
        // open model's arrivals were offered before the end and complete.
        std::stop_source& until = closed ? run_stop : abort;
        for(std::size_t j = 0; j < sc.steps.size(); ++j)
        {
            if(until.stop_requested())
                return;
            step const& st = sc.steps[j];
            if(st.kind == step_kind::wait)
            {
                sleep_until(now() + st.wait, until.get_token());
                continue;
            }
            time_point const begin = now();
            std::string const kind = invoke(s, st, ctx);
            time_point const end = now();
            record(s, j, first ? std::min(intended, begin) : begin, begin, end, kind);
            first = false;
            if(closed)
                think(rng, since_yield);
            else
                maybe_yield(since_yield);
        }
    }

    void user(std::size_t i)
    {
        std::mt19937_64 rng(seed_for(i));
        auto const offset = std::chrono::nanoseconds(
            static_cast<std::int64_t>(static_cast<long double>(cfg.ramp_up.count()) * i / cfg.users));
        if(sleep_until(t0 + offset, run_stop.get_token()))
        {
            ++active;
            step_context ctx(*this, i, 0, rng, abort.get_token(), *timers);
            std::uint64_t since_yield = 0;
            for(std::uint64_t it = 0; cfg.iterations == 0 || it < cfg.iterations; ++it)
            {
                if(run_stop.stop_requested())
                    break;
                std::size_t const s = pick(rng);
                ctx.iteration = it;
                run_scenario(s, ctx, since_yield, now(), true);
            }
            --active;
        }
        if(--users_left == 0)
            tick_stop.request_stop();
    }

    struct job
    {
        time_point intended;
        std::size_t scenario;
    };
    std::deque<job> jobs;
    bool jobs_closed = false;
    boost::fibers::mutex jobs_mutex;
    boost::fibers::condition_variable jobs_cv;

    void dispatcher()
    {
        std::mt19937_64 rng(seed_for(~std::uint64_t(0)));
        double const period_ns = 1e9 / cfg.rate;
        for(std::uint64_t k = 0;; ++k)
        {
            time_point const intended = t0 + std::chrono::nanoseconds(std::llround(period_ns * static_cast<double>(k)));
            if(intended >= t0 + cfg.duration)
                break;
            if(!sleep_until(intended, run_stop.get_token()))
                break;
            std::size_t const s = pick(rng);
            {
                std::unique_lock lk(jobs_mutex);
                jobs.push_back({intended, s});
                queued.fetch_add(1);
            }
            jobs_cv.notify_one();
        }
        {
            std::unique_lock lk(jobs_mutex);
            jobs_closed = true;
        }
        jobs_cv.notify_all();
    }

    void worker(std::size_t lane)
    {
        std::mt19937_64 rng(seed_for(lane));
        std::uint64_t iteration = 0;
        std::uint64_t since_yield = 0;
        step_context ctx(*this, lane, 0, rng, abort.get_token(), *timers);
        for(;;)
        {
            job j;
            {
                std::unique_lock lk(jobs_mutex);
                while(jobs.empty() && !jobs_closed)
                {
                    idle_workers.fetch_add(1);
                    awake.fetch_sub(1);
                    jobs_cv.wait(lk);
                    awake.fetch_add(1);
                    idle_workers.fetch_sub(1);
                }
                if(jobs.empty())
                    break;
                j = jobs.front();
                jobs.pop_front();
                queued.fetch_sub(1);
            }
            ++active;
            ctx.iteration = iteration++;
            run_scenario(j.scenario, ctx, since_yield, j.intended, false);
            --active;
        }
        if(--users_left == 0)
            tick_stop.request_stop();
    }

    void controller()
    {
        std::stop_callback forward(run_stop.get_token(), [this] { tick_stop.request_stop(); });
        time_point const end = t0 + cfg.duration;
        bool const timed = cfg.duration > 0ns;
        for(std::int64_t k = 1;; ++k)
        {
            time_point next = t0 + std::chrono::seconds(k);
            bool const last = timed && next >= end;
            if(last)
                next = end;
            if(!sleep_until(next, tick_stop.get_token()))
                break;
            if(last)
            {
                run_stop.request_stop();
                break;
            }
            advance_series(next);
            if(opts.on_progress && !series.empty())
            {
                progress p;
                p.elapsed = next - t0;
                p.count = count;
                p.failures = failures;
                p.rps = static_cast<double>(series.back().count);
                p.p99_ms = series.back().p99_ms;
                p.active = active;
                try
                {
                    opts.on_progress(p);
                }
                catch(...)
                {
                    // a progress line is not worth the run
                }
            }
        }
    }

    template<class F>
    static void guarded(runner_impl* self, F f)
    {
        try
        {
            f();
        }
        catch(...)
        {
            if(!self->failure)
                self->failure = std::current_exception();
            self->run_stop.request_stop();
        }
    }

    void body()
    {
        try
        {
            t0 = now();
            next_second = t0 + std::chrono::seconds(1);
            std::vector<boost::fibers::fiber> fibers;
            std::size_t const n = cfg.model == load_model::closed ? cfg.users : cfg.max_in_flight;
            users_left = n;
            fibers.emplace_back([this] { guarded(this, [this] { controller(); }); awake.fetch_sub(1); });
            if(cfg.model == load_model::open)
                fibers.emplace_back([this] { guarded(this, [this] { dispatcher(); }); awake.fetch_sub(1); });
            for(std::size_t i = 0; i < n; ++i)
            {
                if(cfg.model == load_model::closed)
                    fibers.emplace_back([this, i] { guarded(this, [this, i] { user(i); }); awake.fetch_sub(1); });
                else
                    fibers.emplace_back([this, i] { guarded(this, [this, i] { worker(i); }); awake.fetch_sub(1); });
            }
            for(auto& f : fibers)
                f.join();
            time_point const end = now();
            advance_series(end);
            if(current.count)
                finalize_second();
            collect(end);
        }
        catch(...)
        {
            if(!failure)
                failure = std::current_exception();
        }
        running.store(false);
    }

    void collect(time_point end)
    {
        results.name = cfg.name;
        results.model = cfg.model;
        results.elapsed = end - t0;
        results.series = std::move(series);
        results.stopped_early = stopped_early.load();
        for(std::size_t i = 0; i < cfg.scenarios.size(); ++i)
        {
            scenario_results sr;
            sr.name = cfg.scenarios[i].name;
            sr.runs = runs[i];
            for(std::size_t j = 0; j < cfg.scenarios[i].steps.size(); ++j)
            {
                sr.stats.merge(steps[i][j]);
                sr.steps.push_back({cfg.scenarios[i].steps[j].name, cfg.scenarios[i].steps[j].kind, std::move(steps[i][j])});
            }
            results.total.merge(sr.stats);
            results.scenarios.push_back(std::move(sr));
        }
    }
};

bool step_context::sleep_for(std::chrono::nanoseconds d)
{
    return runner_->sleep_until(runner_->now() + d, stop);
}

runner::runner(load_test_config cfg, runner_options opts)
    : impl_(std::make_unique<runner_impl>(std::move(cfg), std::move(opts)))
{
}

runner::~runner()
{
    stop();
    if(impl_->thread.joinable())
        impl_->thread.join();
}

void runner::start()
{
    if(impl_->started.exchange(true))
        throw std::logic_error("spindle::load::runner: started twice");
    impl_->running.store(true);
    // every fiber counts as awake until it first waits
    auto const& c = impl_->cfg;
    std::size_t const n = c.model == load_model::closed ? c.users : c.max_in_flight;
    impl_->awake.store(static_cast<int>(n + 1 + (c.model == load_model::open ? 1 : 0)));
    impl_->thread = std::thread([i = impl_.get()] { i->body(); });
}

load_results runner::wait()
{
    if(impl_->thread.joinable())
        impl_->thread.join();
    if(impl_->failure)
        std::rethrow_exception(impl_->failure);
    return std::move(impl_->results);
}

load_results runner::run()
{
    start();
    return wait();
}

void runner::stop() noexcept
{
    if(impl_->running.load() && !impl_->run_stop.stop_requested())
    {
        impl_->stopped_early.store(true);
        impl_->abort.request_stop();
        impl_->run_stop.request_stop();
    }
}

bool runner::running() const noexcept
{
    return impl_->running.load();
}

bool runner::quiescent() const noexcept
{
    runner_impl const& i = *impl_;
    if(!i.running.load())
        return true;
    if(i.awake.load() != 0)
        return false;
    if(i.queued.load() != 0 && i.idle_workers.load() != 0)
        return false;
    return static_cast<int>(i.timers->pending()) == i.sleeping.load();
}

} // namespace spindle::load
