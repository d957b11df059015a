//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The task executor: setup, submission into the per-priority TBB queues,
// and the lanes (actors that run tasks inside their handler, so tasks
// reuse the workers' runner fibers). Deadlines, retries and shutdown live
// in executor_watchdog.cpp, executor_retry.cpp and executor_shutdown.cpp.

#include "executor_impl.hpp"

#include <spindle/event_stream.hpp>
#include <spindle/log.hpp>

#include <set>
#include <sstream>
#include <utility>

namespace spindle {
namespace detail {

namespace {

// Executor names in use, per metrics registry (their metric series and
// collectors are keyed by name, and a registry refuses duplicate collectors).
std::mutex names_mtx;
std::set<std::pair<void const*, std::string>> names_in_use;
std::atomic<std::uint64_t> next_executor_number{1};

/** Bounds of the task run-time histogram, in seconds: a 1-2.5-5 sequence
    from 1 microsecond to 100 seconds, then 5 and 10 minutes.
*/
constexpr double duration_bounds[] = {
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 300, 600};

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept
{
    if(b > 0 && a > std::numeric_limits<std::int64_t>::max() - b)
        return std::numeric_limits<std::int64_t>::max();
    if(b < 0 && a < std::numeric_limits<std::int64_t>::min() - b)
        return std::numeric_limits<std::int64_t>::min();
    return a + b;
}

} // namespace

//------------------------------------------------------------------------------
// setup and metrics

template<class C>
executor_impl::by_priority<C> executor_impl::per_priority_series(char const* name, char const* help)
{
    by_priority<C> r{};
    for(std::size_t p = 0; p < priority_count; ++p)
    {
        if constexpr(std::is_same_v<C, metrics::striped_counter>)
            r[p] = &reg_.striped_counter(name, help, labels(opts_.name, p));
        else if constexpr(std::is_same_v<C, metrics::sharded_counter>)
            r[p] = &reg_.sharded_counter(name, help, sys_.options().worker_threads, labels(opts_.name, p));
        else if constexpr(std::is_same_v<C, metrics::sharded_histogram>)
            r[p] = &reg_.sharded_histogram(name, help, duration_bounds, sys_.options().worker_threads,
                                           labels(opts_.name, p));
        else
            r[p] = &reg_.counter(name, help, labels(opts_.name, p));
    }
    return r;
}

executor_impl::executor_impl(spindle::system& sys, executor_options opts)
    : sys_(sys)
    , timers_(sys.timers())
    , opts_(std::move(opts))
    , reg_(sys.metrics())
    , submitted_(per_priority_series<metrics::striped_counter>(
          "spindle_executor_tasks_submitted_total", "Tasks accepted by an executor, by priority"))
    , completed_(per_priority_series<metrics::sharded_counter>(
          "spindle_executor_tasks_completed_total", "Tasks that finished with a value, by priority"))
    , durations_(per_priority_series<metrics::sharded_histogram>(
          "spindle_executor_task_duration_seconds",
          "Run time of task attempts on a lane, from start to return, by priority (per attempt: a retried "
          "task is observed once per attempt)"))
    , rejected_(per_priority_series<metrics::counter>(
          "spindle_executor_tasks_rejected_total",
          "Submissions refused (queue full, executor stopped, invalid options), by priority (an invalid "
          "priority counts as normal)"))
    , failed_(per_priority_series<metrics::counter>(
          "spindle_executor_tasks_failed_total",
          "Tasks that finished with an error (failed, retries exhausted, circuit open), by priority"))
    , timed_out_(per_priority_series<metrics::counter>(
          "spindle_executor_tasks_timed_out_total", "Task attempts that ran past their timeout, by priority"))
    , cancelled_(per_priority_series<metrics::counter>(
          "spindle_executor_tasks_cancelled_total", "Tasks cancelled by their handle or by a shutdown, by priority"))
    , retries_(reg_.counter("spindle_executor_retries_total", "Task retries scheduled", labels(opts_.name)))
    , exceptions_(reg_.counter("spindle_executor_exceptions_total",
                               "Exceptions thrown by tasks and contained",
                               labels(opts_.name)))
    , unresponsive_(reg_.counter("spindle_executor_unresponsive_total",
                                 "Tasks still running stop_grace after being asked to stop",
                                 labels(opts_.name)))
    , state_(sys.state())
    , chain_clock_reads_(!sys.options().clock)
{
    lanes_ = std::make_unique<lane_slot[]>(opts_.max_concurrent);
    task_span_name_ = "task " + opts_.name;
    room_wake_batch_ = std::max<std::int64_t>(1, static_cast<std::int64_t>(opts_.queue_capacity / 4));
    idle_.reserve(opts_.max_concurrent);
}

executor_impl::~executor_impl()
{
    // every task left at shutdown; this only runs if construction failed half-way
    for(auto& q : queues_)
    {
        task_core* t;
        while(q.try_pop(t))
        {
            settle_popped(t);
            t->complete_error(task_error::executor_stopped);
            retire(t);
        }
    }
}

void executor_impl::start()
{
    register_metrics();
    // Lane 0 exists from the start: its pre_start hooks the executor to
    // the system's shutdown (only an actor can see the system's stop token).
    std::size_t const slot = lanes_spawned_.fetch_add(1);
    boost::system::error_code ec;
    if(!spawn_lane(slot, ec))
        detail::throw_error(ec, "spindle::executor");
    {
        std::lock_guard lk(idle_lock_);
        idle_.push_back(slot);
    }
    std::weak_ptr<executor_impl> weak = weak_from_this();
    watchdog_ = timers_.start_periodic(opts_.stop_grace, opts_.stop_grace, [weak] {
        if(auto ex = weak.lock())
            ex->watchdog_tick();
    });
}

void executor_impl::register_metrics()
{
    running_collector_ = reg_.add_collector(
        "spindle_executor_tasks_running", "Tasks running on a lane now", metrics::metric_type::gauge,
        [this](std::vector<metrics::sample>& out) {
            out.emplace_back(labels(opts_.name), static_cast<double>(running_count()));
        });
    queued_collector_ = reg_.add_collector(
        "spindle_executor_tasks_queued", "Tasks waiting to start", metrics::metric_type::gauge,
        [this](std::vector<metrics::sample>& out) {
            out.emplace_back(labels(opts_.name), static_cast<double>(queued_count()));
        });
}

void executor_impl::unregister_metrics() noexcept
{
    if(running_collector_ != metrics::collector_id{})
        reg_.remove_collector(running_collector_);
    if(queued_collector_ != metrics::collector_id{})
        reg_.remove_collector(queued_collector_);
    running_collector_ = queued_collector_ = metrics::collector_id{};
    if(name_claimed_)
    {
        std::lock_guard lk(names_mtx);
        names_in_use.erase({&reg_, opts_.name});
        name_claimed_ = false;
    }
}

bool executor_impl::spawn_lane(std::size_t slot, boost::system::error_code& ec)
{
    auto ref = sys_.spawn_with<lane_actor>(spawn_options{}, ec, weak_from_this(), slot);
    if(ec)
        return false;
    std::lock_guard lk(lanes_[slot].lock);
    lanes_[slot].ref = std::move(ref);
    return true;
}

void executor_impl::attach_system_stop(std::stop_token st)
{
    if(stop_hook_set_.exchange(true))
        return;
    stop_hook_.emplace(st, system_stop_hook{this});
}

//------------------------------------------------------------------------------
// task ends

bool executor_impl::finish(task_core* t, task_error e, by_priority<metrics::counter> const& c) noexcept
{
    if(!t->claim_error(e))
        return false;
    c[priority_index(t->priority_)]->inc();
    task_event(e == task_error::timed_out ? event_type::task_timed_out : event_type::task_failed, t, e);
    t->publish();
    return true;
}

void executor_impl::task_event(event_type type, task_core* t, task_error e) noexcept
{
    auto& ev = sys_.events();
    if(!ev.wants(type))
        return;
    try
    {
        event x;
        x.type = type;
        x.source_name = "executor/" + opts_.name;
        std::ostringstream os;
        os << "task " << t->id() << ": ";
        if(e == task_error::task_failed || e == task_error::retries_exhausted)
        {
            if(e == task_error::retries_exhausted)
                os << make_error_code(e).message() << "; the last attempt: ";
            os << describe_task_exception(t->last_exception());
        }
        else
            os << make_error_code(e).message();
        x.detail = os.str();
        ev.publish(std::move(x));
    }
    catch(...)
    {
    }
}

void executor_impl::on_queued_cancel() noexcept
{
    freed_slots_.fetch_add(1, std::memory_order_seq_cst);
    if(room_waiting_.load(std::memory_order_seq_cst) > 0)
        wake_room_waiter();
}

//------------------------------------------------------------------------------
// submission

bool executor_impl::enqueue(task_core* t, bool may_wait, boost::system::error_code& ec)
{
    if(stopping_.load(std::memory_order_acquire))
    {
        ec = task_error::executor_stopped;
        rejected_[priority_index(t->priority_)]->inc();
        return false;
    }
    if(!has_room() && !(may_wait && wait_for_room(ec)))
    {
        if(!ec)
            ec = task_error::queue_full;
        rejected_[priority_index(t->priority_)]->inc();
        return false;
    }
    ec = {};
    // the submitter's trace context, for the attempts' spans (one
    // relaxed load when no tracing component is installed; none for
    // an executor whose tasks are not traced)
    if(trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire)) [[unlikely]]
    {
        if(!t->trace_ && opts_.trace_tasks)
            t->trace_ = h->capture();
    }
    intrusive_ptr_add_ref(t); // the queue's reference
    try
    {
        push(t);
    }
    catch(...)
    {
        intrusive_ptr_release(t);
        throw; // std::bad_alloc from the queue: nothing was queued
    }
    submitted_[priority_index(t->priority_)]->inc();
    return true;
}

void executor_impl::push(task_core* t)
{
    t->queue_hook_ = this;
    t->queue_state_.store(queue_state::queued, std::memory_order_release);
    try
    {
        queues_[static_cast<std::size_t>(t->priority_)].push(t);
    }
    catch(...)
    {
        // not queued: a cancel from now on frees no slot (one that came
        // meanwhile is undone)
        if(t->queue_state_.exchange(queue_state::none) != queue_state::queued)
            freed_slots_.fetch_sub(1, std::memory_order_seq_cst);
        throw;
    }
    // seq_cst with go_idle's decrement of active_: either this thread
    // sees the lane go idle, or the lane sees this task
    publish_one();
    if(closed_.load(std::memory_order_seq_cst))
    {
        drain_queues(); // raced with the end of a shutdown: no lane will take it
        return;
    }
    maybe_activate();
}

bool executor_impl::wait_for_room(boost::system::error_code& ec)
{
    std::stop_source deadline;
    boost::system::error_code tec;
    timer_id const tid = timers_.start(opts_.submit_timeout, stop_on_fire{deadline}, tec);
    if(tec)
        deadline.request_stop(); // the system is shutting down: do not wait
    for(;;)
    {
        task_waiter w;
        boost::fibers::future<void> f = w.promise_.get_future();
        {
            std::lock_guard lk(room_lock_);
            w.next_ = nullptr;
            if(room_tail_)
                room_tail_->next_ = &w;
            else
                room_head_ = &w;
            room_tail_ = &w;
            room_waiting_.fetch_add(1, std::memory_order_seq_cst);
        }
        // re-check after registering: a slot freed before we were listed woke nobody
        bool got = false;
        if(!stopping_.load(std::memory_order_seq_cst))
        {
            got = has_room();
            if(!got)
                park_waiter(w, f, deadline.get_token());
        }
        bool const room_signal = leave_room_list(w);
        if(stopping_.load(std::memory_order_seq_cst))
        {
            timers_.cancel(tid);
            ec = task_error::executor_stopped;
            return false;
        }
        if(got || has_room())
        {
            timers_.cancel(tid);
            return true;
        }
        if(deadline.stop_requested())
        {
            if(room_signal)
                wake_room_waiter(); // pass on the wake-up this waiter did not use
            ec = task_error::queue_full;
            return false;
        }
    }
}

void executor_impl::wake_room_waiter() noexcept
{
    for(;;)
    {
        task_waiter* w = nullptr;
        {
            std::lock_guard lk(room_lock_);
            if(!room_head_)
                return;
            w = static_cast<task_waiter*>(room_head_);
            room_head_ = w->next_;
            if(!room_head_)
                room_tail_ = nullptr;
            room_waiting_.fetch_sub(1, std::memory_order_relaxed);
        }
        if(w->release_signal())
            return; // else it had already timed out: wake the next one
    }
}

void executor_impl::wake_all_room_waiters() noexcept
{
    task_continuation* all;
    {
        std::lock_guard lk(room_lock_);
        all = std::exchange(room_head_, nullptr);
        room_tail_ = nullptr;
        room_waiting_.store(0, std::memory_order_relaxed);
    }
    while(all)
    {
        auto* w = static_cast<task_waiter*>(all);
        all = all->next_; // read first: the waiter may leave once released
        w->release_signal();
    }
}

std::size_t executor_impl::drain_queues() noexcept
{
    std::size_t n = 0;
    // tasks still being pushed are drained by their submitters, which
    // see closed_ after publishing
    while(claim(false))
    {
        task_core* t = pop_claimed();
        if(finish(t, task_error::executor_stopped, cancelled_))
            ++n;
        else
            count_if_cancelled(t);
        retire(t);
    }
    check_quiet();
    return n;
}

//------------------------------------------------------------------------------
// lanes

void executor_impl::activate_one() noexcept
{
    std::size_t slot = 0;
    bool found = false;
    {
        std::lock_guard lk(idle_lock_);
        if(!idle_.empty())
        {
            slot = idle_.back();
            idle_.pop_back();
            found = true;
        }
    }
    try
    {
        if(!found)
        {
            // every lane not idle holds an activation, so there are fewer
            // than max_concurrent lanes here
            slot = lanes_spawned_.fetch_add(1, std::memory_order_relaxed);
            boost::system::error_code ec;
            if(slot >= opts_.max_concurrent || !spawn_lane(slot, ec))
            {
                lanes_unavailable();
                return;
            }
        }
        if(lanes_[slot].ref.tell(lane_drain{}) == send_status::ok)
            return;
    }
    catch(...)
    {
        // out of memory: the tasks stay queued for the next activation
    }
    if(found)
    {
        std::lock_guard lk(idle_lock_);
        idle_.push_back(slot);
    }
    lanes_unavailable();
}

void executor_impl::lanes_unavailable() noexcept
{
    active_.fetch_sub(1, std::memory_order_seq_cst);
    if(sys_.stopping())
        on_system_stop();
}

void executor_impl::go_idle(std::size_t slot) noexcept
{
    {
        std::lock_guard lk(idle_lock_);
        idle_.push_back(slot);
    }
    active_.fetch_sub(1, std::memory_order_seq_cst);
    if(has_ready())
        maybe_activate();
    else
        check_quiet();
}

void executor_impl::drain(std::size_t slot) noexcept
{
    lane_slot& s = lanes_[slot];
    bool busy = false; // counted busy from the first claim to the end of this batch
    // the last clock read (ns), made when the previous task returned;
    // no_clock when the time since may be more than the lane's bookkeeping
    std::int64_t clock = no_clock;
    for(unsigned n = 0; n < drain_batch; ++n)
    {
        bool slow = false;
        task_core* t = pop(busy, slow, s.last_run_ns >= slow_task_ns);
        if(!t)
        {
            if(busy)
                end_busy();
            go_idle(slot);
            return;
        }
        // this lane is busy now: if tasks still wait and no other
        // activated lane is free, wake one (this task may block)
        if(maybe_activate() || slow || !chain_clock_reads_)
            clock = no_clock;
        run(s, slot, t, clock);
    }
    if(busy)
        end_busy();
    // keep the activation; the message lets the worker serve other actors
    bool told = false;
    try
    {
        told = s.ref.tell(lane_drain{}) == send_status::ok;
    }
    catch(...)
    {
    }
    if(!told)
        go_idle(slot);
}

void executor_impl::report_ended(circuit_breaker::permit& permit, task_core* t) noexcept
{
    if(!permit)
        return;
    auto const& o = t->policy_->breaker->options();
    switch(t->outcome())
    {
    case task_outcome::value: permit.success(); break;
    case task_outcome::timed_out: permit.report(o.on_timeout); break;
    case task_outcome::cancelled: permit.report(o.on_cancel); break;
    default: permit.report(circuit_outcome::ignored); break;
    }
}

class executor_impl::attempt_span
{
    trace_hooks const* h_ = nullptr;
    void* span_ = nullptr;
    void* token_ = nullptr;

public:
    attempt_span(executor_impl const& ex, task_core* t) noexcept
    {
        if(!t->trace_)
            return;
        trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire);
        if(!h)
            return;
        char tp[traceparent_size + 1];
        std::string state;
        if(!h->inject(t->trace_, tp, state))
            return;
        span_ = h->start(ex.task_span_name_, 1 /* internal */, std::string_view(tp, traceparent_size), state);
        if(!span_)
            return;
        h_ = h;
        h->set_string(span_, "executor.name", ex.opts_.name);
        char id[36];
        uuid_to_chars(t->id().uuid(), id);
        h->set_string(span_, "task.id", std::string_view(id, sizeof id));
        h->set_int(span_, "task.attempt", static_cast<long long>(t->attempts_));
        token_ = h->activate(span_);
    }

    attempt_span(attempt_span const&) = delete;
    attempt_span& operator=(attempt_span const&) = delete;

    /// Ends the span with the attempt's outcome.
    void end(invoke_status r, task_core* t) noexcept
    {
        if(!h_)
            return;
        h_->leave(token_);
        bool const failed = r == invoke_status::failed;
        std::string message;
        if(failed)
        {
            try
            {
                message = describe_task_exception(t->last_exception());
            }
            catch(...)
            {
            }
        }
        else if(r != invoke_status::succeeded)
        {
            h_->set_string(span_, "task.outcome", t->claimed() ? "stopped" : "discarded");
        }
        h_->finish(span_, failed, message);
        h_ = nullptr;
    }
};

void executor_impl::run(lane_slot& s, std::size_t slot, task_core* t, std::int64_t& clock) noexcept
{
    ++t->attempts_;
    circuit_breaker::permit permit;
    if(t->policy_ && t->policy_->breaker)
    {
        boost::system::error_code ec;
        permit = t->policy_->breaker->try_acquire(ec);
        if(ec)
        {
            if(!finish(t, task_error::circuit_open, failed_))
                count_if_cancelled(t);
            retire(t);
            clock = no_clock;
            return;
        }
    }
    // one clock read per attempt: at its end, which is also the start
    // of the next attempt on this lane unless something slow came between
    std::int64_t const start = clock != no_clock ? clock : now_ns();
    std::int64_t deadline = no_deadline;
    if(t->timeout_ != std::chrono::nanoseconds::max())
        deadline = saturating_add(start, t->timeout_.count());
    set_current(s, slot, t, deadline, std::move(permit));
    attempt_span span(*this, t);
    invoke_status const r = t->invoke();
    std::int64_t const end = now_ns();
    // (a system on a custom clock, a manual one in tests, tells nothing
    // of real run times: every task counts as slow there, as before)
    s.last_run_ns = chain_clock_reads_ ? end - start : slow_task_ns;
    span.end(r, t);
    std::size_t const priority = priority_index(t->priority_);
    // a lane runs on a worker of the system, so the worker's shard is
    // this thread's own; counted before the task's end is published, so
    // whoever sees the result sees it counted
    detail::worker const* const w = detail::current_worker();
    std::size_t const shard = w && w->sys_ == &state_ ? w->index_ : no_shard;
    // (a multiplication, not a division, which would cost a trivial task
    // 4%: it gives every bound exactly, e.g. 100 ms on a manual clock is
    // 0.1, except 1000 ns, one ulp above 1e-6, so counted in le=2.5e-6)
    if(shard != no_shard)
        durations_[priority]->observe(shard, static_cast<double>(std::max<std::int64_t>(end - start, 0)) * 1e-9);
    permit = clear_current(s);
    // waking a waiter may take a while, and so may a failure's handling
    // (a retry's timer, a log line)
    clock = t->has_continuations() || r == invoke_status::failed ? no_clock : end;

    if(r != invoke_status::failed)
    {
        // succeeded: the value; discarded: timed out, cancelled or
        // stopped while it ran
        report_ended(permit, t);
        if(r == invoke_status::succeeded)
        {
            if(shard != no_shard)
                completed_[priority]->inc(shard);
            t->publish();
        }
        else
        {
            count_if_cancelled(t);
        }
        retire(t);
        return;
    }
    if(t->claimed())
        report_ended(permit, t); // it threw after it was asked to stop
    else if(permit)
        permit.failure();
    exceptions_.inc();
    if(t->claimed()) // timed out or cancelled meanwhile: no retry
    {
        count_if_cancelled(t);
        retire(t);
        return;
    }
    bool const retrying =
        t->strategy_ == error_strategy::retry_with_backoff || t->strategy_ == error_strategy::circuit_breaker;
    if(retrying && t->attempts_ < t->policy_->retry.max_attempts && !closed_.load(std::memory_order_acquire))
    {
        schedule_retry(t);
        return;
    }
    task_error const e =
        retrying && t->policy_->retry.max_attempts > 1 ? task_error::retries_exhausted : task_error::task_failed;
    if(t->strategy_ == error_strategy::log_and_continue)
    {
        try
        {
            SPINDLE_LOG(warning, "executor") << "executor " << opts_.name << ": task " << t->id() << " failed: "
                                             << describe_task_exception(t->last_exception());
        }
        catch(...)
        {
        }
    }
    if(!finish(t, e, failed_))
        count_if_cancelled(t);
    retire(t);
}

void lane_actor::pre_start()
{
    if(ex_ && slot_ == 0)
        ex_->attach_system_stop(stop_token());
}

void lane_actor::on(lane_drain)
{
    // drain() handles its own failures: a lane never throws, so the runtime
    // never restarts one with its activation lost
    if(ex_)
        ex_->drain(slot_);
}

} // namespace detail


namespace {

void validate_options(executor_options const& o)
{
    char const* bad = nullptr;
    if(o.max_concurrent == 0 || o.max_concurrent > detail::max_lanes)
        bad = "spindle::executor: max_concurrent must be between 1 and 65535";
    else if(o.queue_capacity == 0 || o.queue_capacity > detail::max_queue_capacity)
        bad = "spindle::executor: queue_capacity must be between 1 and 8388608";
    else if(o.submit_timeout.count() < 0)
        bad = "spindle::executor: submit_timeout must not be negative";
    else if(o.stop_grace.count() <= 0)
        bad = "spindle::executor: stop_grace must be positive";
    else if(o.shutdown_deadline.count() < 0)
        bad = "spindle::executor: shutdown_deadline must not be negative";
    if(bad)
        detail::throw_error(error::invalid_argument, bad);
}

} // namespace

executor::executor(spindle::system& sys, executor_options opts)
{
    validate_options(opts);
    if(sys.stopping())
        detail::throw_error(error::system_stopped, "spindle::executor");
    if(opts.name.empty())
        opts.name = "executor-" + std::to_string(detail::next_executor_number.fetch_add(1));
    std::string const name = opts.name;
    {
        std::lock_guard lk(detail::names_mtx);
        if(!detail::names_in_use.emplace(&sys.metrics(), name).second)
            detail::throw_error(error::invalid_argument, "spindle::executor: name already in use in this system");
    }
    try
    {
        impl_ = std::make_shared<detail::executor_impl>(sys, std::move(opts));
        impl_->name_claimed_ = true;
        impl_->start();
    }
    catch(...)
    {
        if(impl_)
        {
            impl_->shutdown(std::chrono::nanoseconds::zero());
            impl_->unregister_metrics();
        }
        else
        {
            std::lock_guard lk(detail::names_mtx);
            detail::names_in_use.erase({&sys.metrics(), name});
        }
        throw;
    }
}

executor::~executor()
{
    if(!impl_)
        return;
    impl_->shutdown(impl_->opts_.shutdown_deadline);
    impl_->unregister_metrics();
}

bool executor::check(task_options const& opts, boost::system::error_code& ec) noexcept
{
    return impl_->check(opts, ec);
}

bool executor::enqueue(detail::task_core* t, bool may_wait, boost::system::error_code& ec)
{
    return impl_->enqueue(t, may_wait, ec);
}

timer_service* executor::timers() const noexcept
{
    return &impl_->timers_;
}

executor_shutdown_report executor::shutdown(std::chrono::nanoseconds deadline)
{
    return impl_->shutdown(deadline);
}

executor_shutdown_report executor::shutdown()
{
    return impl_->shutdown(impl_->opts_.shutdown_deadline);
}

bool executor::stopped() const noexcept
{
    return impl_->stopping_.load(std::memory_order_acquire);
}

executor_stats executor::stats() const noexcept
{
    return impl_->stats();
}

executor_options const& executor::options() const noexcept
{
    return impl_->opts_;
}

} // namespace spindle

