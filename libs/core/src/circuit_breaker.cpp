//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The circuit breaker's state machine. One spinlock guards the state for a
// few instructions; timers, callbacks and logging run after it is released.

#include <spindle/circuit_breaker.hpp>

#include <spindle/detail/spinlock.hpp>
#include <spindle/log.hpp>
#include <spindle/event_stream.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>
#include <spindle/timer.hpp>

#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spindle {

namespace detail {

namespace {

std::atomic<std::uint64_t> next_breaker_number{1};

enum class call_outcome
{
    success,
    failure,
    abandoned
};

constexpr int index(circuit_state s) noexcept
{
    return static_cast<int>(s);
}

} // namespace

class breaker_impl : public std::enable_shared_from_this<breaker_impl>
{
public:
    using hook_type = std::function<void(circuit_transition const&)>;

    timer_service& timers_;
    circuit_breaker_options opts_;

    mutable spinlock lock_;
    circuit_state state_ = circuit_state::closed;
    std::uint64_t gen_ = 0; ///< bumped on every transition: permits of an older state are stale
    std::size_t consecutive_failures_ = 0;
    std::size_t trials_issued_ = 0;
    std::size_t trial_successes_ = 0;
    std::int64_t open_until_ = 0;
    timer_id recovery_timer_{};

    std::atomic<std::uint64_t> successes_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::atomic<std::uint64_t> transitions_[3][3] = {};

    spinlock hooks_lock_;
    std::shared_ptr<std::vector<hook_type> const> hooks_;

    /// The system's event stream (null without a system).
    event_stream* events_ = nullptr;

    // metrics (null without a system)
    metrics::counter* transition_metric_[3][3] = {};
    metrics::counter* success_metric_ = nullptr;
    metrics::counter* failure_metric_ = nullptr;
    metrics::counter* rejected_metric_ = nullptr;
    metrics::gauge* state_metric_ = nullptr;

    breaker_impl(timer_service& timers, circuit_breaker_options opts) : timers_(timers), opts_(std::move(opts))
    {
        if(opts_.failure_threshold == 0)
            throw_error(error::invalid_argument, "spindle::circuit_breaker: failure_threshold must be at least 1");
        if(opts_.recovery_timeout.count() <= 0)
            throw_error(error::invalid_argument, "spindle::circuit_breaker: recovery_timeout must be positive");
        if(opts_.half_open_max_calls == 0)
            throw_error(error::invalid_argument, "spindle::circuit_breaker: half_open_max_calls must be at least 1");
        if(opts_.on_timeout > circuit_outcome::ignored || opts_.on_cancel > circuit_outcome::ignored)
            throw_error(error::invalid_argument,
                        "spindle::circuit_breaker: on_timeout and on_cancel must be a circuit_outcome");
        if(opts_.name.empty())
            opts_.name = "breaker-" + std::to_string(next_breaker_number.fetch_add(1));
    }

    void register_metrics(metrics::registry& reg)
    {
        auto const& n = opts_.name;
        static constexpr circuit_state reachable[][2] = {
            {circuit_state::closed, circuit_state::open},
            {circuit_state::open, circuit_state::half_open},
            {circuit_state::half_open, circuit_state::closed},
            {circuit_state::half_open, circuit_state::open},
            {circuit_state::open, circuit_state::closed}, // reset()
        };
        for(auto const& t : reachable)
        {
            transition_metric_[index(t[0])][index(t[1])] = &reg.counter(
                "spindle_circuit_breaker_transitions_total", "Circuit breaker state changes",
                {{"breaker", n}, {"from", std::string(to_string(t[0]))}, {"to", std::string(to_string(t[1]))}});
        }
        char const* calls_help = "Calls through a circuit breaker, by outcome";
        success_metric_ = &reg.counter("spindle_circuit_breaker_calls_total", calls_help,
                                       {{"breaker", n}, {"outcome", "success"}});
        failure_metric_ = &reg.counter("spindle_circuit_breaker_calls_total", calls_help,
                                       {{"breaker", n}, {"outcome", "failure"}});
        rejected_metric_ = &reg.counter("spindle_circuit_breaker_calls_total", calls_help,
                                        {{"breaker", n}, {"outcome", "rejected"}});
        state_metric_ = &reg.gauge("spindle_circuit_breaker_state",
                                   "Circuit breaker state: 0 closed, 1 open, 2 half-open", {{"breaker", n}});
        state_metric_->set(0);
    }

    std::int64_t now_ns() const noexcept { return timers_.now().time_since_epoch().count(); }

    /// Changes state under the lock; the caller reports `out` after unlocking.
    void transition_locked(circuit_state to, std::int64_t now, std::optional<circuit_transition>& out) noexcept
    {
        circuit_state const from = state_;
        state_ = to;
        ++gen_;
        consecutive_failures_ = 0;
        trials_issued_ = 0;
        trial_successes_ = 0;
        if(to == circuit_state::open)
        {
            std::int64_t const d = opts_.recovery_timeout.count();
            open_until_ = now > std::numeric_limits<std::int64_t>::max() - d ? std::numeric_limits<std::int64_t>::max()
                                                                               : now + d;
        }
        transitions_[index(from)][index(to)].fetch_add(1, std::memory_order_relaxed);
        if(auto* m = transition_metric_[index(from)][index(to)])
            m->inc();
        if(state_metric_)
            state_metric_->set(index(to));
        out = circuit_transition{from, to};
    }

    /// Runs after a transition, outside the lock: arms the recovery timer
    /// of a fresh open state, logs, and calls the hooks.
    void after(std::optional<circuit_transition> const& tr) noexcept
    {
        if(!tr)
            return;
        if(tr->to == circuit_state::open)
            arm_recovery();
        try
        {
            SPINDLE_LOG(info, "circuit_breaker") << "circuit breaker " << opts_.name << ": " << to_string(tr->from)
                                                 << " -> " << to_string(tr->to);
        }
        catch(...)
        {
        }
        if(events_)
        {
            auto const type = tr->to == circuit_state::open     ? event_type::circuit_opened
                              : tr->to == circuit_state::closed ? event_type::circuit_closed
                                                                : event_type::circuit_half_open;
            if(events_->wants(type))
            {
                try
                {
                    event e;
                    e.type = type;
                    e.source_name = "breaker/" + opts_.name;
                    e.detail = std::string(to_string(tr->from)) + " -> " + std::string(to_string(tr->to));
                    events_->publish(std::move(e));
                }
                catch(...)
                {
                }
            }
        }
        std::shared_ptr<std::vector<hook_type> const> hooks;
        {
            std::lock_guard lk(hooks_lock_);
            hooks = hooks_;
        }
        if(!hooks)
            return;
        for(auto const& h : *hooks)
        {
            try
            {
                h(*tr);
            }
            catch(...)
            {
            }
        }
    }

    void arm_recovery() noexcept
    {
        std::uint64_t gen;
        std::int64_t at;
        timer_id old;
        {
            std::lock_guard lk(lock_);
            if(state_ != circuit_state::open)
                return;
            gen = gen_;
            at = open_until_;
            old = std::exchange(recovery_timer_, timer_id{});
        }
        if(old)
            timers_.cancel(old);
        std::weak_ptr<breaker_impl> weak = weak_from_this();
        boost::system::error_code ec;
        try
        {
            timer_id const started = timers_.start_at(
                timer_service::time_point(std::chrono::nanoseconds(at)),
                [weak, gen] {
                    if(auto b = weak.lock())
                        b->on_recovery(gen);
                },
                ec);
            std::lock_guard lk(lock_);
            if(gen_ == gen)
                recovery_timer_ = started;
        }
        catch(...)
        {
            // no timer (out of memory): the next call still moves the state lazily
        }
    }

    void on_recovery(std::uint64_t gen) noexcept
    {
        std::optional<circuit_transition> tr;
        {
            std::lock_guard lk(lock_);
            if(gen_ != gen || state_ != circuit_state::open)
                return;
            recovery_timer_ = {};
            transition_locked(circuit_state::half_open, now_ns(), tr);
        }
        after(tr);
    }

    circuit_breaker::permit acquire(boost::system::error_code& ec) noexcept
    {
        std::int64_t const now = now_ns();
        std::optional<circuit_transition> tr;
        bool ok = false;
        bool trial = false;
        std::uint64_t gen = 0;
        {
            std::lock_guard lk(lock_);
            if(state_ == circuit_state::open && now >= open_until_)
                transition_locked(circuit_state::half_open, now, tr);
            switch(state_)
            {
            case circuit_state::closed:
                ok = true;
                break;
            case circuit_state::open:
                break;
            case circuit_state::half_open:
                if(trials_issued_ < opts_.half_open_max_calls)
                {
                    ++trials_issued_;
                    ok = trial = true;
                }
                break;
            }
            gen = gen_;
        }
        after(tr);
        if(!ok)
        {
            rejected_.fetch_add(1, std::memory_order_relaxed);
            if(rejected_metric_)
                rejected_metric_->inc();
            ec = task_error::circuit_open;
            return {};
        }
        ec = {};
        return circuit_breaker::permit(this, gen, trial);
    }

    void report(std::uint64_t gen, call_outcome outcome) noexcept
    {
        if(outcome == call_outcome::success)
        {
            successes_.fetch_add(1, std::memory_order_relaxed);
            if(success_metric_)
                success_metric_->inc();
        }
        else if(outcome == call_outcome::failure)
        {
            failures_.fetch_add(1, std::memory_order_relaxed);
            if(failure_metric_)
                failure_metric_->inc();
        }
        std::int64_t const now = now_ns();
        std::optional<circuit_transition> tr;
        {
            std::lock_guard lk(lock_);
            if(gen != gen_)
                return; // a permit of an earlier state: counted, but it moves nothing
            switch(state_)
            {
            case circuit_state::closed:
                if(outcome == call_outcome::success)
                    consecutive_failures_ = 0;
                else if(outcome == call_outcome::failure && ++consecutive_failures_ >= opts_.failure_threshold)
                    transition_locked(circuit_state::open, now, tr);
                break;
            case circuit_state::half_open:
                if(outcome == call_outcome::success)
                {
                    if(++trial_successes_ >= opts_.half_open_max_calls)
                        transition_locked(circuit_state::closed, now, tr);
                }
                else if(outcome == call_outcome::failure)
                    transition_locked(circuit_state::open, now, tr);
                else if(trials_issued_ > 0)
                    --trials_issued_; // an abandoned trial gives its slot back
                break;
            case circuit_state::open:
                break; // no permit is issued while open
            }
        }
        after(tr);
    }

    circuit_state state() const noexcept
    {
        std::int64_t const now = now_ns();
        std::lock_guard lk(lock_);
        if(state_ == circuit_state::open && now >= open_until_)
            return circuit_state::half_open;
        return state_;
    }

    void reset() noexcept
    {
        std::optional<circuit_transition> tr;
        timer_id t;
        {
            std::lock_guard lk(lock_);
            if(state_ == circuit_state::closed)
                return;
            transition_locked(circuit_state::closed, now_ns(), tr);
            t = std::exchange(recovery_timer_, timer_id{});
        }
        if(t)
            timers_.cancel(t);
        after(tr);
    }
};

} // namespace detail

//------------------------------------------------------------------------------
// permit

circuit_breaker::permit::permit(permit&& other) noexcept
    : b_(std::exchange(other.b_, nullptr)), generation_(other.generation_), trial_(other.trial_)
{
}

circuit_breaker::permit& circuit_breaker::permit::operator=(permit&& other) noexcept
{
    if(this != &other)
    {
        if(b_)
            b_->report(generation_, detail::call_outcome::abandoned);
        b_ = std::exchange(other.b_, nullptr);
        generation_ = other.generation_;
        trial_ = other.trial_;
    }
    return *this;
}

circuit_breaker::permit::~permit()
{
    if(b_)
        b_->report(generation_, detail::call_outcome::abandoned);
}

void circuit_breaker::permit::success() noexcept
{
    if(auto* b = std::exchange(b_, nullptr))
        b->report(generation_, detail::call_outcome::success);
}

void circuit_breaker::permit::failure() noexcept
{
    if(auto* b = std::exchange(b_, nullptr))
        b->report(generation_, detail::call_outcome::failure);
}

void circuit_breaker::permit::report(circuit_outcome o) noexcept
{
    auto const how = o == circuit_outcome::success   ? detail::call_outcome::success
                     : o == circuit_outcome::failure ? detail::call_outcome::failure
                                                     : detail::call_outcome::abandoned;
    if(auto* b = std::exchange(b_, nullptr))
        b->report(generation_, how);
}

//------------------------------------------------------------------------------
// circuit_breaker

circuit_breaker::circuit_breaker(spindle::system& sys, circuit_breaker_options opts)
    : impl_(std::make_shared<detail::breaker_impl>(sys.timers(), std::move(opts)))
{
    impl_->register_metrics(sys.metrics());
    impl_->events_ = &sys.events();
}

circuit_breaker::circuit_breaker(timer_service& timers, circuit_breaker_options opts)
    : impl_(std::make_shared<detail::breaker_impl>(timers, std::move(opts)))
{
}

circuit_breaker::~circuit_breaker()
{
    timer_id t;
    {
        std::lock_guard lk(impl_->lock_);
        t = std::exchange(impl_->recovery_timer_, timer_id{});
    }
    if(t)
        impl_->timers_.cancel(t);
}

circuit_breaker::permit circuit_breaker::try_acquire(boost::system::error_code& ec) noexcept
{
    return impl_->acquire(ec);
}

circuit_breaker::permit circuit_breaker::acquire()
{
    boost::system::error_code ec;
    permit p = impl_->acquire(ec);
    if(ec)
        detail::throw_error(ec, "spindle::circuit_breaker");
    return p;
}

circuit_state circuit_breaker::state() const noexcept
{
    return impl_->state();
}

void circuit_breaker::on_transition(std::function<void(circuit_transition const&)> fn)
{
    if(!fn)
        return;
    // copy-on-write, built outside the spinlock; retried if another
    // registration slipped in between
    for(;;)
    {
        std::shared_ptr<std::vector<detail::breaker_impl::hook_type> const> cur;
        {
            std::lock_guard lk(impl_->hooks_lock_);
            cur = impl_->hooks_;
        }
        auto next = std::make_shared<std::vector<detail::breaker_impl::hook_type>>();
        if(cur)
            *next = *cur;
        next->push_back(fn);
        std::lock_guard lk(impl_->hooks_lock_);
        if(impl_->hooks_ == cur)
        {
            impl_->hooks_ = std::move(next);
            return;
        }
    }
}

circuit_breaker_stats circuit_breaker::stats() const noexcept
{
    circuit_breaker_stats s;
    s.successes = impl_->successes_.load(std::memory_order_relaxed);
    s.failures = impl_->failures_.load(std::memory_order_relaxed);
    s.rejected = impl_->rejected_.load(std::memory_order_relaxed);
    for(int i = 0; i < 3; ++i)
        for(int j = 0; j < 3; ++j)
            s.transitions[i][j] = impl_->transitions_[i][j].load(std::memory_order_relaxed);
    return s;
}

void circuit_breaker::reset() noexcept
{
    impl_->reset();
}

std::string const& circuit_breaker::name() const noexcept
{
    return impl_->opts_.name;
}

circuit_breaker_options const& circuit_breaker::options() const noexcept
{
    return impl_->opts_;
}

} // namespace spindle
