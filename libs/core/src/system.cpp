//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/system.hpp>

#include "system_state.hpp"

#include <spindle/log.hpp>
#include <spindle/manual_clock.hpp>

#include <boost/core/demangle.hpp>

#include <algorithm>
#include <ostream>

namespace spindle {
namespace detail {

namespace {
/// The least a shutdown waits past its deadline for a worker that hosts no
/// stuck actor (see `system_state::shutdown`).
constexpr std::chrono::seconds free_worker_grace{5};
} // namespace

system_state::system_state(system_options opts) : opts_(std::move(opts))
{
    if(opts_.worker_threads == 0)
        opts_.worker_threads = std::max(1u, std::thread::hardware_concurrency());
    if(opts_.worker_threads > 1024 || opts_.throughput == 0 || opts_.stack_size < 4096)
        throw_error(error::invalid_argument, "spindle::system_options");
    if(opts_.spin_before_sleep < std::chrono::nanoseconds::zero())
        opts_.spin_before_sleep = std::chrono::nanoseconds::zero();
    timers_ = opts_.clock ? std::make_unique<timer_service>(opts_.clock) : std::make_unique<timer_service>();
    stack_pool_options so;
    so.stack_size = opts_.stack_size;
    so.guard_page = opts_.stack_guard;
    stack_pool_ = stack_pool::create(so);
    if(opts_.stack_guard)
    {
        // names a guard-page hit as a fiber stack overflow; failure to install
        // only loses that message, the guard page itself still protects
        boost::system::error_code ec;
        stack_pool::install_overflow_handler(ec);
    }
    metrics_ = std::make_unique<metrics::registry>();
}

system_state::~system_state()
{
    stop_stall_monitor();
}

void system_state::stop_stall_monitor() noexcept
{
    {
        std::lock_guard lk(stall_mtx_);
        stall_stop_ = true;
    }
    stall_cv_.notify_all();
    if(stall_monitor_.joinable() && stall_monitor_.get_id() != std::this_thread::get_id())
        stall_monitor_.join();
    else if(stall_monitor_.joinable())
        stall_monitor_.detach();
}

void system_state::stall_monitor_main() noexcept
{
    std::vector<std::uint64_t> seen(workers_.size(), ~std::uint64_t(0));
    auto const period = opts_.steal_stalled_after;
    bool idle = true;
    std::unique_lock lk(stall_mtx_);
    while(!stall_stop_)
    {
        stall_cv_.wait_for(lk, idle ? period * 10 : period, [this] { return stall_stop_; });
        if(stall_stop_)
            break;
        lk.unlock();
        idle = true;
        for(std::size_t i = 0; i < workers_.size(); ++i)
        {
            worker& w = *workers_[i];
            bool const busy = w.busy_.load(std::memory_order_relaxed);
            std::uint64_t const a = w.activations_.load(std::memory_order_relaxed);
            if(busy || w.rq_.size() > 0)
                idle = false;
            // stuck in the same activation, with an actor waiting behind it
            if(busy && a == seen[i] && w.rq_.size() > 0 &&
               sleepers_.load(std::memory_order_relaxed) > 0)
                wake_sleeper(&w);
            seen[i] = a;
        }
        lk.lock();
    }
}

void system_state::register_metrics()
{
    using metrics::metric_type;
    auto& r = *metrics_;
    auto per_worker = [this](std::atomic<std::uint64_t> worker::*field) {
        return [this, field](std::vector<metrics::sample>& out) {
            for(auto const& w : workers_)
                out.emplace_back(
                    metrics::labels_type{{"worker", std::to_string(w->index_)}},
                    static_cast<double>(((*w).*field).load(std::memory_order_relaxed)));
        };
    };
    auto single = [](std::atomic<std::uint64_t> const& v) {
        return [&v](std::vector<metrics::sample>& out) {
            out.emplace_back(metrics::labels_type{}, static_cast<double>(v.load(std::memory_order_relaxed)));
        };
    };
    r.add_collector("spindle_worker_messages_total", "User messages handled, by worker thread.",
                    metric_type::counter, per_worker(&worker::messages_));
    r.add_collector("spindle_actor_messages_total",
                    "User messages handled, by receiving actor type and message type (demangled C++ names).",
                    metric_type::counter, [this](std::vector<metrics::sample>& out) {
                        for(auto& m : message_counts())
                            out.emplace_back(metrics::labels_type{{"actor", std::move(m.actor_type)},
                                                                  {"message", std::move(m.message_type)}},
                                             static_cast<double>(m.count));
                    });
    r.add_collector("spindle_actor_activations_total", "Times an actor was given a worker to run its mail.",
                    metric_type::counter, per_worker(&worker::activations_));
    r.add_collector("spindle_scheduler_steals_total", "Actors taken from another worker's run queue.",
                    metric_type::counter, per_worker(&worker::steals_));
    r.add_collector("spindle_dead_letters_total", "Messages not delivered (receiver stopped, mailbox full or dropped).",
                    metric_type::counter, single(dead_letters_));
    r.add_collector("spindle_mailbox_dropped_total", "Messages dropped by drop_oldest/drop_newest overflow policies.",
                    metric_type::counter, single(dropped_));
    r.add_collector("spindle_mailbox_refused_total", "Messages refused by a full mailbox (fail/block policies).",
                    metric_type::counter, single(refused_));
    r.add_collector("spindle_actor_mailbox_overflow_total",
                    "Messages refused (fail/block) or dropped (drop_oldest/drop_newest) by a full mailbox, by "
                    "receiving actor type (at most 100 types; the rest as actor=\"other\").",
                    metric_type::counter, [this](std::vector<metrics::sample>& out) {
                        std::vector<std::pair<std::string, overflow_counts>> rows;
                        {
                            std::lock_guard lk(overflow_mutex_);
                            for(auto const& [t, c] : overflow_by_type_)
                                rows.emplace_back(t ? t->name() : "", c);
                            if(overflow_other_.refused || overflow_other_.dropped)
                                rows.emplace_back(std::string(), overflow_other_);
                        }
                        for(auto& [name, c] : rows)
                        {
                            std::string const actor = name.empty() ? "other" : boost::core::demangle(name.c_str());
                            out.emplace_back(metrics::labels_type{{"actor", actor}, {"reason", "refused"}},
                                             static_cast<double>(c.refused));
                            out.emplace_back(metrics::labels_type{{"actor", actor}, {"reason", "dropped"}},
                                             static_cast<double>(c.dropped));
                        }
                    });
    r.add_collector("spindle_actor_failures_total", "Exceptions out of handlers and lifecycle hooks.",
                    metric_type::counter, single(failures_));
    r.add_collector("spindle_actor_restarts_total", "Actor restarts.", metric_type::counter, single(restarts_));
    r.add_collector("spindle_actors_spawned_total", "Actors spawned.", metric_type::counter, single(spawned_));
    r.add_collector("spindle_actors", "Actors alive.", metric_type::gauge, single(live_));
    r.add_collector("spindle_fibers", "Handler (runner) fibers alive.", metric_type::gauge, single(fibers_));
    r.add_collector("spindle_mailbox_depth", "Queued user messages over all live actors.", metric_type::gauge,
                    [this](std::vector<metrics::sample>& out) {
                        std::uint64_t total = 0;
                        for_each_live([&](actor_cell& c) { total += c.depth(); });
                        out.emplace_back(metrics::labels_type{}, static_cast<double>(total));
                    });
    r.add_collector("spindle_timers_pending", "Timers waiting to fire.", metric_type::gauge,
                    [this](std::vector<metrics::sample>& out) {
                        out.emplace_back(metrics::labels_type{}, static_cast<double>(timers_->pending()));
                    });
}

void system_state::start(std::shared_ptr<system_state> const& self)
{
    register_metrics();
    workers_.reserve(opts_.worker_threads);
    for(unsigned i = 0; i < opts_.worker_threads; ++i)
        workers_.push_back(std::make_unique<worker>(this, i));
    for(auto& w : workers_)
        w->thread_ = std::thread([w = w.get(), self] { w->thread_main(self); });
    if(workers_.size() > 1 && opts_.steal_stalled_after > std::chrono::nanoseconds::zero())
        stall_monitor_ = std::thread([this] { stall_monitor_main(); });
}

void system_state::link(actor_cell* c) noexcept
{
    auto& s = shards_[std::hash<actor_id>()(c->id_) % shard_count];
    std::lock_guard lk(s.lock);
    c->live_prev_ = nullptr;
    c->live_next_ = s.head;
    if(s.head)
        s.head->live_prev_ = c;
    s.head = c;
    live_.fetch_add(1, std::memory_order_relaxed);
}

void system_state::retire(actor_cell* c) noexcept
{
    unlink_name(c);
    {
        auto& s = shards_[std::hash<actor_id>()(c->id_) % shard_count];
        std::lock_guard lk(s.lock);
        if(c->live_prev_)
            c->live_prev_->live_next_ = c->live_next_;
        else
            s.head = c->live_next_;
        if(c->live_next_)
            c->live_next_->live_prev_ = c->live_prev_;
        c->live_prev_ = c->live_next_ = nullptr;
    }
    if(live_.fetch_sub(1, std::memory_order_acq_rel) == 1 && stopping_.load(std::memory_order_acquire))
    {
        std::lock_guard lk(live_mtx_);
        live_cv_.notify_all();
    }
    intrusive_ptr_release(c); // the live list's reference
}

void system_state::unlink_name(actor_cell* c) noexcept
{
    if(!c->registered_.load(std::memory_order_acquire))
        return;
    std::unique_lock lk(names_mtx_);
    std::erase_if(names_, [c](auto const& kv) { return kv.second.get() == c; });
}

void system_state::dead_letter_(envelope* e, actor_cell const& to, error reason) noexcept
{
    dead_letter_type(e->vtable_->type, to, reason, e->sender_);
    e->vtable_->discard(e, reason);
}

void system_state::dead_letter_type(
    std::type_info const* type, actor_cell const& to, error reason, actor_id const& sender) noexcept
{
    dead_letters_.fetch_add(1, std::memory_order_relaxed);
    try
    {
        SPINDLE_LOG_ACTOR(debug, "actor", to.id_)
            << "dead letter: " << boost::core::demangle(type->name()) << " from "
            << (sender.is_nil() ? std::string("outside any actor") : sender.to_string()) << " to " << to.id_.to_string()
            << " (" << make_error_code(reason).message() << ")";
    }
    catch(...)
    {
    }
    if(events_.wants(event_type::dead_letter))
    {
        try
        {
            publish(event_type::dead_letter, to,
                    boost::core::demangle(type->name()) + " from " +
                        (sender.is_nil() ? std::string("outside any actor") : sender.to_string()) + " (" +
                        make_error_code(reason).message() + ")");
        }
        catch(...)
        {
        }
    }
    if(has_dead_letter_hooks_.load(std::memory_order_acquire))
    {
        dead_letter dl{to.id_, type, reason, sender};
        std::shared_lock lk(hooks_mtx_);
        for(auto const& h : dead_letter_hooks_)
        {
            try
            {
                h(dl);
            }
            catch(...)
            {
                // an observer's failure must not lose the accounting
            }
        }
    }
}

void system_state::publish(event_type t, actor_cell const& c, std::string detail) noexcept
{
    if(!events_.wants(t))
        return;
    try
    {
        event e;
        e.type = t;
        e.source = c.id_;
        if(c.name_)
            e.source_name = *c.name_;
        e.actor_type = type_name(c);
        e.detail = std::move(detail);
        events_.publish(std::move(e));
    }
    catch(...)
    {
    }
}

std::string type_name(actor_cell const& c)
{
    // spelled as in the message tallies and metric labels, so they match
    return c.type_ ? boost::core::demangle(c.type_->name()) : std::string();
}

std::string readable_type_name(std::type_info const& t)
{
    std::string s = boost::core::demangle(t.name());
    static constexpr std::string_view anon = "(anonymous namespace)::";
    for(auto p = s.find(anon); p != std::string::npos; p = s.find(anon, p))
        s.erase(p, anon.size());
    return s;
}

void system_state::report_failure(actor_cell const& c, std::string what, directive action) noexcept
{
    failures_.fetch_add(1, std::memory_order_relaxed);
    try
    {
        SPINDLE_LOG_ACTOR(warning, "actor", c.id_)
            << readable_type_name(*c.type_) << " failed: " << what << "; action: "
            << (action == directive::restart  ? "restart"
                : action == directive::stop   ? "stop"
                : action == directive::escalate ? "escalate"
                                                : "resume");
    }
    catch(...)
    {
    }
    std::shared_lock lk(hooks_mtx_);
    if(failure_hooks_.empty())
        return;
    actor_failure f{c.id_, c.type_, std::move(what), action};
    for(auto const& h : failure_hooks_)
    {
        try
        {
            h(f);
        }
        catch(...)
        {
        }
    }
}

void system_state::count_overflow(std::type_info const* type, bool dropped) noexcept
{
    std::lock_guard lk(overflow_mutex_);
    overflow_counts* c = &overflow_other_;
    try
    {
        if(auto it = overflow_by_type_.find(type); it != overflow_by_type_.end())
            c = &it->second;
        else if(overflow_by_type_.size() < overflow_types_cap)
            c = &overflow_by_type_[type];
    }
    catch(...)
    {
        // out of memory: counted under "other"
    }
    ++(dropped ? c->dropped : c->refused);
}

system_stats system_state::stats() const noexcept
{
    system_stats s;
    for(auto const& w : workers_)
    {
        s.messages += w->messages_.load(std::memory_order_relaxed);
        s.activations += w->activations_.load(std::memory_order_relaxed);
        s.steals += w->steals_.load(std::memory_order_relaxed);
    }
    s.dead_letters = dead_letters_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.refused = refused_.load(std::memory_order_relaxed);
    s.failures = failures_.load(std::memory_order_relaxed);
    s.restarts = restarts_.load(std::memory_order_relaxed);
    s.spawned = spawned_.load(std::memory_order_relaxed);
    s.actors = live_.load(std::memory_order_relaxed);
    s.fibers = fibers_.load(std::memory_order_relaxed);
    return s;
}

shutdown_report system_state::shutdown(std::chrono::nanoseconds deadline_in)
{
    std::lock_guard guard(shutdown_mtx_);
    if(report_)
        return *report_;
    if(current_worker() && current_worker()->sys_ == this)
        throw_error(error::invalid_argument, "spindle::system::shutdown called from one of its own actors");

    auto const deadline = std::chrono::steady_clock::now() + deadline_in;
    shutdown_report rep;
    std::uint64_t const before = live_.load(std::memory_order_acquire);
    stopping_.store(true, std::memory_order_seq_cst);
    while(spawns_in_flight_.load(std::memory_order_seq_cst) != 0)
        std::this_thread::yield();

    // stop the tree from the root down: the root guardian's children
    // (independent of each other) all at once; each supervisor stops its own
    // children in reverse start order. Handlers in progress finish first; the
    // stop token fires after the flags are set, so a handler it wakes stops next.
    {
        std::vector<boost::intrusive_ptr<actor_cell>> top;
        for_each_live([&](actor_cell& c) {
            if(!c.parent_)
                top.emplace_back(&c);
        });
        for(auto& c : top)
            c->request(actor_cell::flag_terminate, exit_reason::shutdown);
    }
    stop_source_.request_stop();
    {
        std::unique_lock lk(live_mtx_);
        live_cv_.wait_until(lk, deadline, [&] { return live_.load(std::memory_order_acquire) == 0; });
    }
    std::vector<bool> hosts_stuck(workers_.size(), false);
    std::vector<boost::intrusive_ptr<actor_cell>> stuck_cells;
    for_each_live([&](actor_cell& c) {
        if(c.home_ < hosts_stuck.size())
            hosts_stuck[c.home_] = true;
        stuck_cells.emplace_back(&c);
        stuck_actor s;
        s.id = c.id_;
        if(c.name_)
            s.name = *c.name_;
        s.type = boost::core::demangle(c.type_->name());
        s.mailbox_depth = c.depth();
        rep.stuck.push_back(std::move(s));
        publish(event_type::deadline_missed, c, "system shutdown deadline passed");
    });
    std::uint64_t const after = live_.load(std::memory_order_acquire);
    rep.stopped = static_cast<std::size_t>(before - after);
    // an abandoned actor takes no more mail: later sends are dead letters,
    // and what it had queued is one now
    for(auto& c : stuck_cells)
        c->abandon();
    stuck_cells.clear();

    timers_->shutdown();
    stop_stall_monitor();

    bool const abandon = !rep.stuck.empty();
    for(auto& w : workers_)
    {
        w->stop_.store(true, std::memory_order_seq_cst);
        if(abandon)
            w->abandon_.store(true, std::memory_order_seq_cst);
        w->wake();
    }
    // Workers with only idle runners exit at once. Shutdown returns at the
    // deadline: a worker hosting a stuck actor is abandoned then; one that
    // hosts none is only on its way out. It gets as long again as the
    // deadline, at least free_worker_grace: on a loaded machine a thread may
    // wait that long for a core, and a fixed moment (it was 200 ms) abandoned
    // healthy workers under load. Bounded all the same, in case a fiber of
    // the user's own is stuck on it; the wait ends as soon as they exit.
    auto const all_exited = [&](bool only_free) {
        for(std::size_t i = 0; i < workers_.size(); ++i)
            if(workers_[i]->exit_state_.load(std::memory_order_acquire) == 0 && !(only_free && hosts_stuck[i]))
                return false;
        return true;
    };
    {
        std::unique_lock lk(exit_mtx_);
        exit_cv_.wait_until(lk, std::max(deadline, std::chrono::steady_clock::now()), [&] { return all_exited(false); });
        auto const grace = std::max<std::chrono::nanoseconds>(deadline_in, free_worker_grace);
        exit_cv_.wait_for(lk, grace, [&] { return all_exited(true); });
    }
    for(auto& w : workers_)
    {
        if(!w->thread_.joinable())
            continue;
        if(w->exit_state_.load(std::memory_order_acquire) == 1)
            w->thread_.join();
        else
        {
            // a fiber on it never finished: the thread cannot end cleanly
            w->abandon_.store(true, std::memory_order_seq_cst);
            w->wake();
            w->thread_.detach();
            ++rep.abandoned_workers;
        }
    }
    events_.close();
    report_ = rep;
    return rep;
}

timer_service& timers_of(system_state& s) noexcept
{
    return *s.timers_;
}

std::chrono::nanoseconds ask_timeout_of(system_state& s) noexcept
{
    return s.opts_.ask_timeout;
}

ask_clock ask_clock_of(system_state& s) noexcept
{
    if(s.timers_->stopped())
        return ask_clock::stopped;
    return s.opts_.clock ? ask_clock::manual : ask_clock::steady;
}

boost::intrusive_ptr<actor_cell> spawn_cell(
    system_state& s,
    spawn_options const& opts,
    actor_factory* factory,
    std::type_info const& type,
    actor_cell* parent,
    node_type node,
    boost::system::error_code& ec)
{
    struct factory_guard
    {
        actor_factory* f;
        ~factory_guard()
        {
            if(f)
                f->release();
        }
    } guard{factory};

    s.spawns_in_flight_.fetch_add(1, std::memory_order_seq_cst);
    struct in_flight_guard
    {
        std::atomic<int>& n;
        ~in_flight_guard() { n.fetch_sub(1, std::memory_order_release); }
    } in_flight{s.spawns_in_flight_};
    if(s.stopping_.load(std::memory_order_seq_cst))
    {
        ec = error::system_stopped;
        return {};
    }
    // the live list's reference is the cell's initial one
    boost::intrusive_ptr<actor_cell> c(
        new actor_cell(s.shared_from_this(), opts.mailbox ? *opts.mailbox : s.opts_.mailbox), false);
    c->type_ = &type;
    c->node_ = node;
    c->parent_ = parent;
    // the name first: a spawn refused with name_taken constructs nothing.
    // The entry is reserved (null) while the behaviour is built, so no
    // lookup can reach a cell without one.
    if(!opts.name.empty())
    {
        c->name_ = std::make_unique<std::string const>(opts.name);
        std::unique_lock lk(s.names_mtx_);
        auto [it, inserted] = s.names_.try_emplace(opts.name, nullptr);
        if(!inserted)
        {
            if(!it->second || it->second->state() != cell_state::stopped)
            {
                lk.unlock();
                c->name_.reset();
                ec = error::name_taken;
                return {};
            }
            it->second = nullptr;
        }
    }
    try
    {
        c->set_behavior(factory->create());
    }
    catch(...)
    {
        if(c->name_)
        {
            std::unique_lock lk(s.names_mtx_);
            auto it = s.names_.find(opts.name);
            if(it != s.names_.end() && !it->second)
                s.names_.erase(it);
        }
        throw;
    }
    if(c->name_)
    {
        c->registered_.store(true, std::memory_order_release);
        std::unique_lock lk(s.names_mtx_);
        s.names_[opts.name] = c;
    }
    c->factory_ = factory;
    guard.f = nullptr;
    auto* w = current_worker();
    c->home_ = static_cast<std::uint16_t>(
        w && w->sys_ == &s ? w->index_ : s.next_home_.fetch_add(1, std::memory_order_relaxed) % s.workers_.size());
    s.spawned_.fetch_add(1, std::memory_order_relaxed);
    boost::intrusive_ptr<actor_cell> result(c); // the caller's reference, before the cell is visible
    s.link(c.detach());                         // ...and the live list keeps the first one
    result->signal(actor_cell::flag_start);
    ec = {};
    return result;
}

boost::intrusive_ptr<actor_cell> lookup_cell(system_state& s, std::string_view name) noexcept
{
    std::shared_lock lk(s.names_mtx_);
    auto it = s.names_.find(std::string(name));
    if(it == s.names_.end() || !it->second || it->second->state() == cell_state::stopped)
        return {};
    return it->second;
}

} // namespace detail

// --- system ---

system::system(system_options opts) : state_(std::make_shared<detail::system_state>(std::move(opts)))
{
    state_->owner_ = this;
    state_->start(state_);
}

system::~system()
{
    try
    {
        shutdown();
    }
    catch(...)
    {
    }
}

shutdown_report system::shutdown(std::chrono::nanoseconds deadline)
{
    return state_->shutdown(deadline);
}

shutdown_report system::shutdown()
{
    return state_->shutdown(state_->opts_.shutdown_deadline);
}

void system::register_name(std::string_view name, basic_actor_ref const& ref, boost::system::error_code& ec)
{
    if(name.empty() || !ref)
    {
        ec = error::invalid_argument;
        return;
    }
    auto* c = ref.cell();
    if(c->state() == detail::cell_state::stopped)
    {
        ec = error::actor_stopped;
        return;
    }
    c->registered_.store(true, std::memory_order_release);
    std::unique_lock lk(state_->names_mtx_);
    auto [it, inserted] = state_->names_.try_emplace(std::string(name), c);
    if(!inserted)
    {
        if(!it->second || (it->second.get() != c && it->second->state() != detail::cell_state::stopped))
        {
            ec = error::name_taken;
            return;
        }
        it->second = c;
    }
    ec = {};
}

void system::register_name(std::string_view name, basic_actor_ref const& ref)
{
    boost::system::error_code ec;
    register_name(name, ref, ec);
    if(ec)
        detail::throw_error(ec, "spindle::system::register_name");
}

bool system::unregister_name(std::string_view name)
{
    std::unique_lock lk(state_->names_mtx_);
    return state_->names_.erase(std::string(name)) > 0;
}

basic_actor_ref system::lookup_any(std::string_view name) const
{
    return basic_actor_ref(detail::lookup_cell(*state_, name));
}

timer_service& system::timers() noexcept
{
    return *state_->timers_;
}

metrics::registry& system::metrics() noexcept
{
    return *state_->metrics_;
}

void system::on_dead_letter(std::function<void(dead_letter const&)> fn)
{
    std::unique_lock lk(state_->hooks_mtx_);
    state_->dead_letter_hooks_.push_back(std::move(fn));
    state_->has_dead_letter_hooks_.store(true, std::memory_order_release);
}

event_stream& system::events() noexcept
{
    return state_->events_;
}

void system::on_failure(std::function<void(actor_failure const&)> fn)
{
    std::unique_lock lk(state_->hooks_mtx_);
    state_->failure_hooks_.push_back(std::move(fn));
}

system_stats system::stats() const noexcept
{
    return state_->stats();
}

system_options const& system::options() const noexcept
{
    return state_->opts_;
}

std::size_t system::actor_count() const noexcept
{
    return static_cast<std::size_t>(state_->live_.load(std::memory_order_relaxed));
}

bool system::stopping() const noexcept
{
    return state_->stopping_.load(std::memory_order_relaxed);
}

// --- actor_base ---

actor_base::~actor_base() = default;

void actor_base::fail(std::string what)
{
    reported_ = std::make_unique<std::string>(what.empty() ? std::string("failure reported by the actor") : std::move(what));
}

actor_id actor_base::id() const noexcept
{
    return cell_ ? cell_->id_ : actor_id{};
}

timer_service& actor_base::timers() const noexcept
{
    return *cell_->sys_->timers_;
}

bool actor_base::sleep_for(std::chrono::nanoseconds d) const
{
    return cell_->sys_->timers_->sleep_for(d, cell_->sys_->stop_source_.get_token());
}

std::stop_token actor_base::stop_token() const noexcept
{
    return cell_->sys_->stop_source_.get_token();
}

void actor_base::monitor(basic_actor_ref const& target)
{
    if(target)
        target.cell()->add_watcher(cell_);
}

void actor_base::demonitor(basic_actor_ref const& target) noexcept
{
    if(target)
        target.cell()->remove_watcher(cell_);
}

spindle::system& actor_base::system() const noexcept
{
    return *cell_->sys_->owner_;
}

// --- basic_actor_ref ---

std::string basic_actor_ref::name() const
{
    return cell_ && cell_->name() ? *cell_->name() : std::string();
}

bool basic_actor_ref::alive() const noexcept
{
    return cell_ && cell_->state() != detail::cell_state::stopped;
}

void basic_actor_ref::stop() const noexcept
{
    if(cell_)
        cell_->signal(detail::actor_cell::flag_stop);
}

void basic_actor_ref::stop(std::string reason) const noexcept
{
    if(cell_)
        cell_->stop_with(std::move(reason));
}

std::ostream& operator<<(std::ostream& os, basic_actor_ref const& r)
{
    if(!r)
        return os << "<empty actor_ref>";
    if(r.cell()->name())
        os << *r.cell()->name() << '#';
    return os << r.id();
}

// --- exit_reason ---

char const* to_string(exit_reason r) noexcept
{
    switch(r)
    {
    case exit_reason::normal: return "normal";
    case exit_reason::failure: return "failure";
    case exit_reason::shutdown: return "shutdown";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, exit_reason r)
{
    return os << to_string(r);
}

// --- send_status ---

char const* to_string(send_status s) noexcept
{
    switch(s)
    {
    case send_status::ok: return "ok";
    case send_status::mailbox_full: return "mailbox_full";
    case send_status::dropped: return "dropped";
    case send_status::stopped: return "stopped";
    case send_status::refused: return "refused";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, send_status s)
{
    return os << to_string(s);
}

boost::system::error_code to_error_code(send_status s) noexcept
{
    switch(s)
    {
    case send_status::ok: return {};
    case send_status::mailbox_full: return error::mailbox_full;
    case send_status::dropped: return error::message_dropped;
    case send_status::stopped: return error::actor_stopped;
    case send_status::refused: return error::transport_failed;
    }
    return error::invalid_argument;
}

} // namespace spindle
