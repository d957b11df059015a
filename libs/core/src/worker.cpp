//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The fiber scheduling algorithm of a worker thread, its runners and the
// run queues actors travel through. See system_state.hpp for the model.

#include "system_state.hpp"

#include <spindle/stack_pool.hpp>

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/scheduler.hpp>

#include <chrono>

namespace spindle::detail {

namespace {

thread_local worker* tl_worker = nullptr;

using boost::fibers::context;

/** What a runner fiber carries: the actor it runs now. Boost.Fiber's
    properties slot is free on our contexts (the workers' algorithm is not
    an algorithm_with_properties), so it holds this; the context deletes it.
*/
struct runner_props final : boost::fibers::fiber_properties
{
    explicit runner_props(context* ctx) noexcept : fiber_properties(ctx) {}
    actor_cell const* cell = nullptr;
};

/// Sets tl_current_cell for the fiber about to run on this thread.
inline context* entering(context* ctx) noexcept
{
    auto* p = ctx ? static_cast<runner_props*>(ctx->get_properties()) : nullptr;
    tl_current_cell = p ? p->cell : nullptr;
    return ctx;
}

/** Boost.Fiber algorithm of one worker.

    Ready fibers (runners resumed after blocking, user fibers) are served
    first, FIFO; when there are none, a parked runner is handed out if the
    worker has actors to run (or can steal one). Idle, the worker spins for
    `spin_before_sleep` before it sleeps on a condition variable, because a
    cross-thread wake-up of a sleeping thread costs more than a message.
*/
class worker_algorithm final : public boost::fibers::algo::algorithm
{
    worker* w_;
    std::shared_ptr<system_state> keep_; // an abandoned thread may outlive the system object
    boost::fibers::scheduler::ready_queue_type rqueue_;

public:
    worker_algorithm(worker* w, std::shared_ptr<system_state> keep) noexcept
        : w_(w), keep_(std::move(keep))
    {
    }

    void awakened(context* ctx) noexcept override { ctx->ready_link(rqueue_); }

    context* pick_next() noexcept override
    {
        if(!rqueue_.empty())
        {
            context* ctx = &rqueue_.front();
            rqueue_.pop_front();
            return entering(ctx);
        }
        return entering(w_->pick_parked());
    }

    bool has_ready_fibers() const noexcept override { return !rqueue_.empty() || w_->can_run_now(); }

    /** True if a fiber other than Boost's dispatcher is ready. The
        dispatcher re-queues itself every time it resumes a fiber, so it is
        almost always there; yielding to it alone would cost two context
        switches and a clock read per activation.
    */
    bool has_ready_fiber() const noexcept
    {
        for(auto const& ctx : rqueue_)
            if(!ctx.is_context(boost::fibers::type::dispatcher_context))
                return true;
        return false;
    }

    void suspend_until(std::chrono::steady_clock::time_point const& tp) noexcept override { w_->idle_wait(tp); }

    void notify() noexcept override { w_->wake(); }
};

thread_local worker_algorithm* tl_algo = nullptr;

} // namespace

thread_local actor_cell const* tl_current_cell = nullptr;

namespace {

char* put(char* out, char* end, char const* s) noexcept
{
    while(*s && out < end)
        *out++ = *s++;
    return out;
}

/** Names the actor whose handler overflowed its stack, for the fault
    handler (no allocation, no lock: it runs in a signal handler).
*/
char* describe_overflowing_actor(char* out, char* end) noexcept
{
    actor_cell const* c = tl_current_cell;
    if(!c)
        return put(out, end, " outside any actor");
    out = put(out, end, " in actor ");
    if(auto const* n = c->name())
    {
        for(char ch : *n)
            if(out < end)
                *out++ = ch;
        out = put(out, end, " ");
    }
    out = put(out, end, "of type ");
    out = put(out, end, c->type_ ? c->type_->name() : "?");
    out = put(out, end, " (mangled), id ");
    static constexpr char hex[] = "0123456789abcdef";
    int i = 0;
    for(auto byte : c->id_.uuid())
    {
        if(i == 4 || i == 6 || i == 8 || i == 10)
            out = put(out, end, "-");
        if(out + 2 <= end)
        {
            *out++ = hex[byte >> 4];
            *out++ = hex[byte & 15];
        }
        ++i;
    }
    return out;
}

} // namespace

worker* current_worker() noexcept
{
    return tl_worker;
}

void worker::thread_main(std::shared_ptr<system_state> keep) noexcept
{
    g_overflow_describer.store(&describe_overflowing_actor, std::memory_order_release);
    tl_worker = this;
    {
        auto* algo = new worker_algorithm(this, keep);
        tl_algo = algo;
        boost::fibers::context::active()->get_scheduler()->set_algo(
            boost::fibers::algo::algorithm::ptr_t(algo));
    }
    keep.reset();
    if(sys_->opts_.stack_guard)
    {
        boost::system::error_code ec;
        stack_pool::prepare_thread(ec); // alternate signal stack for the overflow report
    }
    main_ctx_ = context::active();
    try
    {
        watch_.resize(sys_->workers_.size());
        start_runner();
        for(;;)
        {
            main_parked_ = true;
            main_ctx_->suspend();
            if(abandon_.load(std::memory_order_acquire) ||
               (stop_.load(std::memory_order_acquire) && runners_alive_ == 0))
                break;
            if(spawn_requested_)
            {
                spawn_requested_ = false;
                start_runner();
            }
        }
    }
    catch(...)
    {
        // only fiber creation can throw here (out of memory): stop serving
    }
    exited_ = true;
    {
        std::lock_guard lk(sys_->exit_mtx_);
        exit_state_.store(runners_alive_ == 0 ? 1 : 2, std::memory_order_release);
    }
    sys_->exit_cv_.notify_all();
    tl_worker = nullptr;
}

void worker::start_runner()
{
    ++runners_alive_;
    sys_->fibers_.fetch_add(1, std::memory_order_relaxed);
    try
    {
        boost::fibers::fiber(
            boost::fibers::launch::post,
            std::allocator_arg,
            pooled_stack(sys_->stack_pool_),
            [this]() noexcept { runner_main(); })
            .detach();
    }
    catch(...)
    {
        --runners_alive_;
        sys_->fibers_.fetch_sub(1, std::memory_order_relaxed);
        throw;
    }
}

void worker::runner_main() noexcept
{
    // runners never migrate: every one belongs to this worker for life
    constexpr unsigned dispatcher_interval = 32;
    unsigned since_yield = 0;
    runner_props* props = nullptr;
    try
    {
        props = new runner_props(context::active());
        context::active()->set_properties(props); // owned by the context from here
    }
    catch(...)
    {
        // out of memory: this runner's messages carry no sender
    }
    for(;;)
    {
        if(abandon_.load(std::memory_order_relaxed))
            break;
        actor_cell* c = pop_local();
        if(!c)
            c = steal();
        if(!c)
        {
            if(stop_.load(std::memory_order_acquire))
                break;
            if(idle_runners_.size() >= 4)
                break; // enough spares already; blocking handlers made extra ones
            idle_runners_.push_back(context::active());
            context::active()->suspend();
            continue;
        }
        c->home_ = static_cast<std::uint16_t>(index_);
        bump(activations_);
        std::uint32_t handled = 0;
        if(props)
            props->cell = tl_current_cell = c;
        busy_.store(true, std::memory_order_relaxed);
        auto const r = c->run(sys_->opts_.throughput, handled, tally_);
        busy_.store(false, std::memory_order_relaxed);
        if(props)
            props->cell = tl_current_cell = nullptr;
        bump(messages_, handled);
        if(r == actor_cell::run_result::more)
            push_later(c);
        else if(r == actor_cell::run_result::stopped)
            sys_->retire(c);
        // Let other ready fibers run (a handler resumed after blocking), and
        // give the dispatcher a turn now and then: it moves fibers woken by
        // other threads and by sleep timeouts into the ready queue.
        if(tl_algo->has_ready_fiber() || ++since_yield >= dispatcher_interval)
        {
            since_yield = 0;
            boost::this_fiber::yield();
        }
    }
    --runners_alive_;
    sys_->fibers_.fetch_sub(1, std::memory_order_relaxed);
}

context* worker::pick_parked() noexcept
{
    context* const active = context::active();
    bool const ending = stop_.load(std::memory_order_relaxed) || abandon_.load(std::memory_order_relaxed);
    bool const work = rq_.size() > 0 || stealable();
    if(work || ending)
    {
        for(std::size_t i = idle_runners_.size(); i-- > 0;)
        {
            context* ctx = idle_runners_[i];
            if(ctx != active)
            {
                idle_runners_.erase(idle_runners_.begin() + static_cast<std::ptrdiff_t>(i));
                return ctx;
            }
        }
    }
    if(main_parked_ && main_ctx_ != active)
    {
        bool const need_runner = work && idle_runners_.empty() && !ending;
        bool const finished = abandon_.load(std::memory_order_relaxed) ||
                              (stop_.load(std::memory_order_relaxed) && runners_alive_ == 0);
        if(need_runner || finished)
        {
            spawn_requested_ = need_runner;
            main_parked_ = false;
            return main_ctx_;
        }
    }
    return nullptr;
}

bool worker::can_run_now() const noexcept
{
    return (rq_.size() > 0 || stealable()) &&
           (!idle_runners_.empty() || main_parked_);
}

void worker::push_local(actor_cell* c) noexcept
{
    std::uint32_t n;
    if(stack_streak_ < stack_limit)
        n = rq_.push_front(c);
    else
    {
        stack_streak_ = 0;
        n = rq_.push_back(c);
    }
    // more work than this worker can start right now: let a sleeper steal
    if(n >= 2 && sys_->sleepers_.load(std::memory_order_relaxed) > 0)
        sys_->wake_sleeper(this);
}

void worker::push_later(actor_cell* c) noexcept
{
    std::uint32_t const n = rq_.push_back(c);
    if(n >= 2 && sys_->sleepers_.load(std::memory_order_relaxed) > 0)
        sys_->wake_sleeper(this);
}

void worker::push_remote(actor_cell* c) noexcept
{
    std::uint32_t const n = rq_.push_back(c);
    wake();
    // this worker may be busy in a long handler: let a sleeper steal the rest
    if(n >= 2 && sys_->sleepers_.load(std::memory_order_seq_cst) > 0)
        sys_->wake_sleeper(this);
}

actor_cell* worker::pop_local() noexcept
{
    bool from_stack = false;
    actor_cell* c = rq_.pop(from_stack);
    if(c)
        stack_streak_ = from_stack ? stack_streak_ + 1 : 0;
    return c;
}

bool worker::stalled(worker const& v) const noexcept
{
    if(watch_.size() <= v.index_)
        return false; // sized when the thread started
    auto& w = watch_[v.index_];
    auto const a = v.activations_.load(std::memory_order_relaxed);
    auto const now = std::chrono::steady_clock::now();
    if(!w.watching || w.activations != a)
    {
        w = {a, now, true};
        return false;
    }
    return now - w.since >= sys_->opts_.steal_stalled_after;
}

bool worker::can_steal_from(worker const& v) const noexcept
{
    auto const n = v.rq_.size();
    return n >= 2 || (n == 1 && stalled(v));
}

bool worker::others_may_stall() const noexcept
{
    for(auto const& v : sys_->workers_)
        if(v.get() != this &&
           (v->busy_.load(std::memory_order_relaxed) || v->rq_.size() > 0))
            return true;
    return false;
}

bool worker::stealable() const noexcept
{
    for(auto const& v : sys_->workers_)
        if(v.get() != this && can_steal_from(*v))
            return true;
    return false;
}

actor_cell* worker::steal() noexcept
{
    // a victim's single queued actor is left alone: it is most likely the
    // partner of the actor running there, and moving it would turn a local
    // conversation into a cross-core one -- unless the victim is stalled in
    // a handler that blocked its thread, when the actor would wait for it
    auto const n = sys_->workers_.size();
    for(std::size_t k = 1; k < n; ++k)
    {
        worker& v = *sys_->workers_[(index_ + k) % n];
        if(!can_steal_from(v))
            continue;
        // can_steal_from said 1 only for a stalled victim
        actor_cell* c = v.rq_.steal(1);
        if(c)
        {
            bump(steals_);
            return c;
        }
    }
    return nullptr;
}

void worker::wake() noexcept
{
    notified_.store(true, std::memory_order_seq_cst);
    if(sleeping_.load(std::memory_order_seq_cst))
    {
        std::lock_guard lk(sleep_mtx_);
        sleep_cv_.notify_one();
    }
}

void worker::idle_wait(std::chrono::steady_clock::time_point tp) noexcept
{
    using clock = std::chrono::steady_clock;
    if(exited_)
    {
        // abandoned: a fiber never finished. Stay parked at no CPU cost,
        // still letting the fiber finish if something wakes it.
        std::unique_lock lk(sleep_mtx_);
        sleep_cv_.wait_for(lk, std::chrono::milliseconds(100));
        return;
    }
    auto const now = clock::now();
    auto spin_end = now + sys_->opts_.spin_before_sleep;
    if(tp < spin_end)
        spin_end = tp;
    for(unsigned i = 0;; ++i)
    {
        if(notified_.exchange(false, std::memory_order_acq_rel))
            return;
        if(can_run_now())
            return;
        for(int k = 0; k < 16; ++k)
            spin_pause();
        if((i & 15) == 15 && clock::now() >= spin_end)
            break;
    }
    if(tp <= clock::now())
        return;
    // a worker inside a handler may stall with actors queued behind it:
    // look again when it would count as stalled
    if(others_may_stall())
        tp = std::min(tp, clock::now() + sys_->opts_.steal_stalled_after);
    std::unique_lock lk(sleep_mtx_);
    sleeping_.store(true, std::memory_order_seq_cst);
    sys_->sleepers_.fetch_add(1, std::memory_order_seq_cst);
    auto const ready = [this] {
        return notified_.load(std::memory_order_seq_cst) || rq_.size(std::memory_order_seq_cst) > 0;
    };
    if(tp == clock::time_point::max())
        sleep_cv_.wait(lk, ready);
    else
        sleep_cv_.wait_until(lk, tp, ready);
    sleeping_.store(false, std::memory_order_relaxed);
    sys_->sleepers_.fetch_sub(1, std::memory_order_relaxed);
    notified_.store(false, std::memory_order_relaxed);
}

void system_state::wake_sleeper(worker* except) noexcept
{
    for(auto& w : workers_)
    {
        if(w.get() != except && w->sleeping_.load(std::memory_order_relaxed))
        {
            w->wake();
            return;
        }
    }
}

void system_state::schedule(actor_cell* c) noexcept
{
    worker* w = tl_worker;
    if(w && w->sys_ == this)
        w->push_local(c);
    else
        workers_[c->home_ % workers_.size()]->push_remote(c);
}

} // namespace spindle::detail
